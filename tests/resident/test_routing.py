"""Report routing: the matter classifier (the project's TextClassifier) on a hand-written held-out set, the
Teddy Cup 12345 messages for the department part, and every routing rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anju.resident.corpus import synthetic_reports
from anju.resident.routing import (
    TEDDY_MATTERS,
    load_router,
    route_reports,
    routing_accuracy,
    save_router,
    train_router,
)
from anju.resident.rules import load_resident_rules

TEST_SET = Path(__file__).parent / "data" / "routing_test.csv"


@pytest.fixture(scope="module")
def router():
    texts, labels = synthetic_reports(120, seed=0)
    return train_router(texts, labels)


@pytest.fixture(scope="module")
def rules():
    return load_resident_rules()


def test_matter_accuracy_on_hand_written_set(router, rules):
    df = pd.read_csv(TEST_SET)
    assert len(df) == 70 and df.matter.value_counts().eq(10).all()
    m = routing_accuracy(router, df.text.tolist(), df.matter.tolist(), threshold=rules.routing.threshold)
    # figures reported in docs/resident-services.md (routing accuracy)
    assert m["accuracy"] >= 0.85, m["accuracy"]  # measured 0.929
    assert m["macro_f1"] >= 0.85
    assert m["accepted_accuracy"] >= m["accuracy"]  # unsure reports go to the dispatcher instead


def test_route_decisions(router, rules):
    texts = ["有人在楼道里打架", "孩子走丢了", "老街店铺卖假货不退款", "电梯坏了物业不修", "路边烧烤油烟扰民",
             "和邻居因为漏水吵架想调解", "请问居住证怎么办", "嗯"]
    kinds = ["urgent", "lost", "dispute", "dispute", "dispute", "dispute", "dispute", "dispute"]
    out = route_reports(router, texts, kinds, ["310190001001"] * len(texts), rules=rules)
    assert out.method.iloc[0] == "kind" and out.department.iloc[0] == "station" and out.confidence.iloc[0] == 1.0
    assert out.department.iloc[1] == "station"
    got = dict(zip(texts[2:7], out.department.iloc[2:7], strict=True))
    assert got == {"老街店铺卖假货不退款": "market", "电梯坏了物业不修": "housing", "路边烧烤油烟扰民": "city",
                   "和邻居因为漏水吵架想调解": "mediation", "请问居住证怎么办": "service"}
    last = out.iloc[-1]  # a text with nothing to go on goes to the dispatcher with three suggestions
    assert last.to_dispatcher and last.matter == "" and last.method == "review"
    assert len(last.suggestions) == 3 and all(s["department"] for s in last.suggestions)
    ps = [s["p"] for s in last.suggestions]
    assert ps == sorted(ps, reverse=True) and ps[0] < rules.routing.threshold


def test_every_low_confidence_report_goes_to_dispatcher(router, rules):
    df = pd.read_csv(TEST_SET)
    out = route_reports(router, df.text.tolist(), ["dispute"] * len(df), ["310190001001"] * len(df), rules=rules)
    low = out.confidence < rules.routing.threshold
    assert (out.to_dispatcher == low).all() and (out.department[low] == "dispatch").all()
    assert (out.suggestions.map(len) == 3).all()


def test_without_a_model_free_text_goes_to_dispatcher(rules):
    out = route_reports(None, ["卖假货", "打架"], ["dispute", "urgent"], ["x", "x"], rules=rules)
    assert out.department.tolist() == ["dispatch", "station"]


def test_unknown_kind_refused(router, rules):
    from anju.errors import AnjuError

    with pytest.raises(AnjuError, match="unknown report kind"):
        route_reports(router, ["x"], ["spam"], ["x"], rules=rules)


def test_save_and_load_router(router, tmp_path):
    info = save_router(tmp_path, router, data_source="synthetic", n_train=840)
    assert info.task == "matter" and info.version == 1
    again = load_router(tmp_path)
    texts = ["小区电梯坏了", "商家缺斤短两"]
    assert np.allclose(again.predict_proba(texts), router.predict_proba(texts))


@pytest.mark.slow
def test_teddy_messages_routed_to_departments(shared_data, rules):
    """The department part on real 12345 messages: the router trained on the fixed training split of the Teddy Cup
    messages (their departments mapped onto matters) and scored on the held-out split. Mixing these long messages
    into the short-report corpus lowers the accuracy on resident reports (measured in docs), so the two are kept
    as separate models."""
    from anju.text.corpora import fixed_split, load_teddy_messages

    t = load_teddy_messages(shared_data / "teddy-cup-2020-c-gov-messages")
    t = t[t.label.isin(TEDDY_MATTERS)].reset_index(drop=True)
    y = np.asarray(t.label.map(TEDDY_MATTERS).tolist(), dtype=object)
    test = fixed_split(t.text.tolist(), t.label.tolist())
    clf = train_router(t.text[~test].tolist(), y[~test].tolist())
    m = routing_accuracy(clf, t.text[test].tolist(), y[test].tolist(), threshold=rules.routing.threshold)
    print("teddy held-out", {k: m[k] for k in ("n", "accuracy", "macro_f1", "coverage", "accepted_accuracy")})
    assert m["accuracy"] >= 0.85, m["accuracy"]
    assert m["accepted_accuracy"] >= m["accuracy"]
