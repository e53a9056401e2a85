"""Keyword rules, NB-SVM, and the calibrated classifier with its review decision."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC
from text_synth import make_corpus

from anju.errors import AnjuError, NotFittedError
from anju.taxonomy import load_taxonomy
from anju.text import classify as C
from anju.text.classify import NBSVM, NEEDS_REVIEW, KeywordRules, TextClassifier, rules_from_taxonomy


@pytest.fixture(scope="module")
def fitted(corpus) -> TextClassifier:
    texts, labels = corpus
    tax = load_taxonomy()
    return TextClassifier(threshold=0.6, rules=rules_from_taxonomy(tax, labels=sorted(set(labels)))).fit(texts,
                                                                                                        labels)


def test_rules_longest_match_and_ties():
    r = KeywordRules({"theft.battery": ["电瓶被盗", "电瓶"], "theft.nonmotor": ["电瓶车"], "theft.other": ["被盗"]})
    out = r.classify(["电动车电瓶被盗", "电瓶车被盗了", "车被盗了", "今天天气很好"])
    assert out["label"].tolist() == ["theft.battery", "theft.nonmotor", "theft.other", NEEDS_REVIEW]
    s = r.scores(["电瓶车被盗了"])[0]
    assert s.tolist() == [0.0, 3.0, 2.0]  # 电瓶车 (3) beats 电瓶 (2); 被盗 (2)
    tie = KeywordRules({"a": ["甲乙"], "b": ["丙丁"]}, min_share=0.0).classify(["甲乙丙丁"])
    assert tie["needs_review"].iloc[0]


def test_rules_from_taxonomy_keywords():
    tax = load_taxonomy()
    rules = rules_from_taxonomy(tax)
    assert set(rules.labels) == {c.code for c in tax.categories.values() if c.keywords}
    out = rules.classify(["报警人称遭遇刷单返利，做任务后被骗", "楼上高空抛物砸到车", "家暴，被老公打了"])
    assert out["label"].tolist() == ["fraud.rebate", "public_order.high_throw", "assault.domestic"]
    fraud = rules_from_taxonomy(tax, family="fraud")
    assert all(lab.startswith("fraud.") for lab in fraud.labels)


def test_nbsvm_equals_a_reference_computation():
    rng = np.random.default_rng(0)
    X = sp.random(120, 40, density=0.2, random_state=1, format="csr")
    y = np.where(rng.random(120) < 0.5, "a", "b").astype(object)
    y[np.asarray(X[:, 0].todense()).ravel() > 0] = "b"
    m = NBSVM(C=0.7, n_jobs=1).fit(X, y)
    xb = (X > 0).astype(float)
    p = np.asarray(xb[y == "b"].sum(0)).ravel() + 1
    q = np.asarray(xb[y != "b"].sum(0)).ravel() + 1
    r = np.log((p / p.sum()) / (q / q.sum()))
    ref = LinearSVC(C=0.7, dual=True, random_state=0).fit(X.multiply(r).tocsr(), y == "b")
    assert np.allclose(m.decision_function(X), ref.decision_function(X.multiply(r).tocsr()))
    assert (m.predict(X) == np.where(ref.predict(X.multiply(r).tocsr()), "b", "a")).all()
    # worker processes and a single process give the same multi-class model, bit for bit
    y3 = np.array(["a", "b", "c"] * 40, dtype=object)
    assert np.array_equal(NBSVM(n_jobs=1).fit(X, y3).coef_, NBSVM(n_jobs=2).fit(X, y3).coef_)


def test_classifier_learns_and_generalises(fitted):
    held_out, truth = make_corpus(n_per_label=10, seed=99)
    pred = fitted.predict(held_out)
    assert (pred == np.array(truth, dtype=object)).mean() >= 0.9
    p = fitted.predict_proba(held_out)
    assert p.shape == (len(held_out), len(fitted.classes_)) and np.allclose(p.sum(axis=1), 1)


def test_threshold_decides_review(fitted):
    texts, _ = make_corpus(n_per_label=5, seed=7)
    all_review = fitted.classify(texts, threshold=1.0)
    assert all_review["needs_review"].all() or (all_review["method"] == "model+rules").any()
    assert (all_review.loc[all_review["method"] == "review", "label"] == NEEDS_REVIEW).all()
    none = fitted.classify(texts, threshold=0.0)
    assert not none["needs_review"].any()
    assert (none["label"] == none["suggestion"]).all()
    res = fitted.classify(texts)
    low = res["confidence"] < fitted.threshold
    assert (res.loc[~low, "method"] == "model").all()
    assert set(res.loc[low, "method"]) <= {"model+rules", "review"}
    with pytest.raises(AnjuError):
        fitted.classify(texts, threshold=1.5)


def test_rules_confirm_only_matching_low_confidence_predictions(fitted):
    # a text without any keyword of its label cannot be confirmed by the rules
    res = fitted.classify(["今天天气很好，没有什么事情"], threshold=0.99)
    assert res["method"].iloc[0] == "review" and res["label"].iloc[0] == NEEDS_REVIEW


def test_chunked_and_parallel_equal_serial(fitted, monkeypatch):
    texts, _ = make_corpus(n_per_label=30, seed=5)
    texts = texts * 3
    one = fitted.classify(texts)
    monkeypatch.setattr(C, "CHUNK_ROWS", 37)
    assert np.allclose(fitted.predict_proba(texts), fitted.predict_proba(texts[:5] + texts[5:]))
    chunked = fitted.classify(texts)
    assert (chunked["label"] == one["label"]).all() and np.allclose(chunked["confidence"], one["confidence"])
    par = fitted.classify(texts, n_jobs=2)
    assert (par["label"] == one["label"]).all() and np.allclose(par["confidence"], one["confidence"])


def test_errors():
    with pytest.raises(NotFittedError):
        TextClassifier().predict(["x"])
    with pytest.raises(AnjuError, match="two labels"):
        TextClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(AnjuError, match="single example"):
        TextClassifier().fit(["电动车被盗", "电瓶车被偷", "邻居吵架"], ["t", "t", "d"])
    with pytest.raises(AnjuError, match="pair up"):
        TextClassifier().fit(["a"], ["x", "y"])
