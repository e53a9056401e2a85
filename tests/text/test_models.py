"""Model files: versions, cards, integrity checks; evaluation metrics against scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score
from text_synth import make_corpus

from anju.errors import DataNotFoundError
from anju.text.classify import TextClassifier
from anju.text.models import ModelError, ModelInfo, evaluate_predictions, list_models, load_model, save_model


@pytest.fixture(scope="module")
def small_model() -> TextClassifier:
    texts, labels = make_corpus(n_per_label=12, seed=1)
    return TextClassifier(calibration_cv=3).fit(texts, labels)


def _card(model: TextClassifier) -> ModelInfo:
    return ModelInfo(task="fraud", version=0, labels=[str(c) for c in model.classes_], data_hash="h" * 64,
                     data_source="test", n_train=1, n_test=1, metrics={"accuracy": 1.0}, params=model.get_params(),
                     threshold=model.threshold, split="test")


def test_save_load_versions(tmp_path, small_model):
    a = save_model(tmp_path, small_model, _card(small_model))
    b = save_model(tmp_path, small_model, _card(small_model))
    assert (a.version, b.version) == (1, 2)
    assert (tmp_path / "text-fraud-v2.joblib").exists() and (tmp_path / "text-fraud-v2.json").exists()
    card = json.loads((tmp_path / "text-fraud-v2.json").read_text(encoding="utf-8"))
    assert {"data_hash", "metrics", "labels", "anju_version", "sklearn_version", "file_sha256"} <= set(card)
    model, info = load_model(tmp_path, "fraud")
    assert info.version == 2
    texts, _ = make_corpus(n_per_label=2, seed=3)
    assert (model.predict(texts) == small_model.predict(texts)).all()
    _, first = load_model(tmp_path, "fraud", version=1)
    assert first.version == 1
    assert [i.version for i in list_models(tmp_path, "fraud")] == [1, 2]
    assert list_models(tmp_path, "category") == []


def test_missing_models(tmp_path):
    with pytest.raises(DataNotFoundError, match="anju text train --task category"):
        load_model(tmp_path, "category")


def test_tampered_file_is_refused(tmp_path, small_model):
    info = save_model(tmp_path, small_model, _card(small_model))
    path = tmp_path / info.file
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(tmp_path, "fraud")


@pytest.mark.parametrize(("field", "value", "match"), [("sklearn_version", "0.1", "scikit-learn"),
                                                       ("labels", ["x", "y"], "labels"), ("format", 99, "format")])
def test_card_mismatches_are_refused(tmp_path, small_model, field, value, match):
    info = save_model(tmp_path, small_model, _card(small_model))
    p = tmp_path / info.file.replace(".joblib", ".json")
    card = json.loads(p.read_text(encoding="utf-8"))
    card[field] = value
    p.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match=match):
        load_model(tmp_path, "fraud")


def test_evaluate_predictions_against_sklearn():
    rng = np.random.default_rng(0)
    classes = np.array(["a", "b", "c"], dtype=object)
    proba = rng.dirichlet([1, 1, 1], size=200)
    y = classes[rng.integers(0, 3, 200)]
    pred = classes[proba.argmax(1)]
    m = evaluate_predictions(y, proba, classes, accepted=proba.max(1) > 0.5)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    onehot = (y[:, None] == classes[None, :]).astype(float)
    assert m["brier"] == pytest.approx(np.mean(((proba - onehot) ** 2).sum(1)))
    acc = proba.max(1) > 0.5
    assert m["coverage"] == pytest.approx(acc.mean())
    assert m["accepted_accuracy"] == pytest.approx((pred[acc] == y[acc]).mean())
    assert np.array(m["confusion"]).sum() == 200


def test_ece_by_hand():
    # two bins used: confidence 0.95 (4 texts, 3 right) and 0.55 (2 texts, 2 right)
    classes = ["a", "b"]
    proba = np.array([[0.95, 0.05]] * 4 + [[0.55, 0.45]] * 2)
    y = ["a", "a", "a", "b", "a", "a"]
    m = evaluate_predictions(y, proba, classes)
    ece = 4 / 6 * abs(0.75 - 0.95) + 2 / 6 * abs(1.0 - 0.55)
    assert m["ece"] == pytest.approx(ece)


def test_a_card_pointing_outside_the_model_store_is_refused(tmp_path, small_model):
    """A joblib file is code: a card naming a file elsewhere (an upload, another folder) is never loaded."""
    store = tmp_path / "models"
    info = save_model(store, small_model, _card(small_model))
    outside = tmp_path / "upload.joblib"
    outside.write_bytes((store / info.file).read_bytes())
    p = store / info.file.replace(".joblib", ".json")
    card = json.loads(p.read_text(encoding="utf-8"))
    for name in ("../upload.joblib", str(outside)):
        card["file"] = name
        p.write_text(json.dumps(card), encoding="utf-8")
        with pytest.raises(ModelError, match="inside the model store"):
            load_model(store, "fraud")
