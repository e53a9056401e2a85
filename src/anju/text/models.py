"""Versioned model files in ``<data_dir>/models/``: save, list, load with checks, and evaluation metrics.

Each trained model is two files:

* ``text-<task>-v<N>.joblib`` — the fitted :class:`~anju.text.classify.TextClassifier` (joblib pickle; skops is
  not installed here). A pickle can run code when loaded, so model files must be as trusted as the code itself:
  keep the models directory writable only by the deployment.
* ``text-<task>-v<N>.json`` — the model card: task, version, anju / scikit-learn / Python versions, creation time,
  SHA-256 of the training data (:func:`anju.text.corpora.data_hash`) and of the ``.joblib`` file, the data source,
  row counts, label set, parameters, threshold, the held-out split and its metrics.

:func:`load_model` refuses a model whose file hash differs from its card (modified or truncated file), whose card
has another format or task, whose scikit-learn version differs (pickles are not portable across versions; the
fix is to retrain), or whose label set differs from its card.
"""

from __future__ import annotations

import json
import os
import platform
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from anju import __version__ as anju_version
from anju.errors import DataNotFoundError, ModelError
from anju.files import file_sha256

__all__ = ["MODEL_FORMAT", "ModelError", "ModelInfo", "evaluate_predictions", "list_models", "load_model",
           "save_model"]

MODEL_FORMAT = 1
_NAME = re.compile(r"^text-(?P<task>[a-z_]+)-v(?P<version>\d+)\.json$")


@dataclass
class ModelInfo:
    """The model card stored next to a model file."""

    task: str
    version: int
    labels: list[str]
    data_hash: str
    data_source: str
    n_train: int
    n_test: int
    metrics: dict[str, Any]
    params: dict[str, Any]
    threshold: float
    split: str
    format: int = MODEL_FORMAT
    anju_version: str = anju_version
    sklearn_version: str = sklearn.__version__
    python_version: str = field(default_factory=platform.python_version)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    file: str = ""
    file_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=_jsonable)


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def list_models(models_dir: str | Path, task: str | None = None) -> list[ModelInfo]:
    """Model cards in ``models_dir`` (optionally of one task), oldest version first."""
    d = Path(models_dir)
    if not d.exists():
        return []
    out = []
    for p in sorted(d.glob("text-*-v*.json")):
        m = _NAME.match(p.name)
        if not m or (task is not None and m.group("task") != task):
            continue
        out.append(_read_card(p))
    return sorted(out, key=lambda i: (i.task, i.version))


def _read_card(path: Path) -> ModelInfo:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ModelInfo(**raw)
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
        raise ModelError(f"model card {path} is unreadable ({exc}); delete it and retrain with "
                         f"`anju text train`") from exc


def save_model(models_dir: str | Path, model: Any, info: ModelInfo) -> ModelInfo:
    """Write ``model`` and its card as the next version of ``info.task``; returns the completed card."""
    d = Path(models_dir)
    d.mkdir(parents=True, exist_ok=True)
    existing = [i.version for i in list_models(d, info.task)]
    info.version = max(existing, default=0) + 1
    stem = f"text-{info.task}-v{info.version}"
    tmp = d / f".{stem}.joblib.tmp"
    joblib.dump(model, tmp, compress=3)
    final = d / f"{stem}.joblib"
    os.replace(tmp, final)
    info.file = final.name
    info.file_sha256 = file_sha256(final)
    card_tmp = d / f".{stem}.json.tmp"
    card_tmp.write_text(info.to_json(), encoding="utf-8")
    os.replace(card_tmp, d / f"{stem}.json")
    return info


def load_model(models_dir: str | Path, task: str, version: int | None = None) -> tuple[Any, ModelInfo]:
    """Load the latest (or the given) version of a task's model, after checking it against its card."""
    d = Path(models_dir)
    cards = list_models(d, task)
    if not cards:
        raise DataNotFoundError(f"no trained {task!r} model in {d}; train one with `anju text train --task {task}`")
    if version is None:
        info = cards[-1]
    else:
        match = [c for c in cards if c.version == version]
        if not match:
            raise DataNotFoundError(f"no version {version} of the {task!r} model in {d}; available: "
                                    f"{[c.version for c in cards]}")
        info = match[0]
    if info.format != MODEL_FORMAT:
        raise ModelError(f"{info.file}: model format {info.format}, this anju reads format {MODEL_FORMAT}; "
                         f"retrain with `anju text train --task {task}`")
    if info.task != task:
        raise ModelError(f"{info.file}: card says task {info.task!r}, expected {task!r}")
    path = d / info.file
    # a joblib file is code: only a plain file of the model store itself is ever loaded (never a path a card or an
    # upload names elsewhere)
    if Path(info.file).name != info.file or not info.file.endswith(".joblib") or \
            path.resolve().parent != d.resolve():
        raise ModelError(f"{info.file!r}: a model card must name a .joblib file inside the model store {d}; "
                         "refusing to load it")
    if not path.exists():
        raise DataNotFoundError(f"model file {path} named by its card is missing; retrain with "
                                f"`anju text train --task {task}`")
    if file_sha256(path) != info.file_sha256:
        raise ModelError(f"{path}: SHA-256 differs from its card — the file was modified or is corrupt; "
                         f"retrain with `anju text train --task {task}`")
    if info.sklearn_version != sklearn.__version__:
        raise ModelError(f"{path}: trained with scikit-learn {info.sklearn_version}, running "
                         f"{sklearn.__version__}; pickled models are not portable across versions — retrain with "
                         f"`anju text train --task {task}`")
    model = joblib.load(path)
    classes = [str(c) for c in getattr(model, "classes_", [])]
    if classes != list(info.labels):
        raise ModelError(f"{path}: model labels {classes} differ from its card {info.labels}; retrain")
    return model, info


def evaluate_predictions(y_true: Any, proba: np.ndarray, classes: Any, *, accepted: np.ndarray | None = None,
                         bins: int = 10) -> dict[str, Any]:
    """Held-out metrics of probabilistic predictions.

    Returns accuracy, macro and weighted F1, per-class precision/recall/F1/support, the confusion matrix (rows =
    true, columns = predicted, in ``labels`` order), the multi-class Brier score, the expected calibration error
    of the top-label confidence (``bins`` equal-width bins), and — when ``accepted`` is given — the coverage (share
    accepted without review) and the accuracy among accepted texts.
    """
    y = np.asarray([str(v) for v in y_true], dtype=object)
    cls = np.asarray([str(c) for c in classes], dtype=object)
    proba = np.asarray(proba, dtype=float)
    pred = cls[proba.argmax(axis=1)]
    labels = sorted(set(cls.tolist()) | set(y.tolist()))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    onehot = (y[:, None] == cls[None, :]).astype(float)
    conf = proba.max(axis=1)
    correct = (pred == y).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    out: dict[str, Any] = {
        "n": len(y),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y, pred, labels=labels, average="weighted", zero_division=0)),
        "per_class": {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, lab in enumerate(labels)},
        "labels": labels,
        "confusion": confusion_matrix(y, pred, labels=labels).tolist(),
        "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))),
        "ece": float(ece),
    }
    if accepted is not None:
        acc = np.asarray(accepted, dtype=bool)
        out["coverage"] = float(acc.mean()) if len(acc) else 0.0
        out["accepted_accuracy"] = float(correct[acc].mean()) if acc.any() else float("nan")
    return out
