"""Term counts, TF-IDF keywords and the weighted log-odds (checked against hand computations)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from anju.errors import AnjuError
from anju.text.terms import background_idf, term_counts, textrank_keywords, tfidf_keywords, weighted_log_odds
from shipped import SEG


def _log_odds_by_hand(a: dict[str, int], b: dict[str, int], alpha: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Monroe, Colaresi & Quinn (2008), eq. 16 and 20, written out term by term."""
    a0 = sum(alpha.values())
    na, nb = sum(a.values()), sum(b.values())
    out = {}
    for w in set(a) | set(b):
        ya, yb, aw = a.get(w, 0), b.get(w, 0), alpha[w]
        d = math.log((ya + aw) / (na + a0 - ya - aw)) - math.log((yb + aw) / (nb + a0 - yb - aw))
        out[w] = (d, d / math.sqrt(1 / (ya + aw) + 1 / (yb + aw)))
    return out


def test_term_counts():
    docs = [["被盗", "电动车"], ["电动车", "电瓶"], []]
    assert term_counts(docs) == dict(Counter(["被盗", "电动车", "电动车", "电瓶"]))


def test_log_odds_tiny_example_worked_by_hand():
    # a = {x: 3, y: 1}, b = {x: 1, y: 3}; pooled prior α = {x: 4, y: 4}, α0 = 8, na = nb = 4
    # δx = log(7/5) − log(5/7) = 2·log 1.4 ;  σ² = 1/7 + 1/5 ;  z = δ/σ
    out = weighted_log_odds({"x": 3, "y": 1}, {"x": 1, "y": 3}).set_index("term")
    delta = 2 * math.log(1.4)
    z = delta / math.sqrt(1 / 7 + 1 / 5)
    assert out.loc["x", "delta"] == pytest.approx(delta, rel=1e-12)
    assert out.loc["x", "z"] == pytest.approx(z, rel=1e-12)
    assert out.loc["y", "delta"] == pytest.approx(-delta, rel=1e-12)
    assert list(out.index) == ["x", "y"]  # sorted by z descending
    assert out.loc["x", "count_a"] == 3 and out.loc["x", "count_b"] == 1


def test_log_odds_against_independent_loop_with_informative_prior():
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(30)]
    a = {w: int(c) for w, c in zip(vocab, rng.poisson(5, 30), strict=True) if c}
    b = {w: int(c) for w, c in zip(vocab, rng.poisson(7, 30), strict=True) if c}
    prior = {w: float(c) + 0.5 for w, c in zip(vocab, rng.poisson(50, 30), strict=True)}
    prior["only_in_background"] = 40.0
    out = weighted_log_odds(a, b, prior).set_index("term")
    alpha = {w: prior[w] for w in vocab}
    alpha["only_in_background"] = 40.0  # counts towards α0 though it is in neither corpus
    ref = _log_odds_by_hand(a, b, alpha)
    assert set(out.index) == set(a) | set(b)
    for w, (d, z) in ref.items():
        if w == "only_in_background":
            continue
        assert out.loc[w, "delta"] == pytest.approx(d, rel=1e-10)
        assert out.loc[w, "z"] == pytest.approx(z, rel=1e-10)


def test_log_odds_symmetry_shrinkage_and_alpha0():
    a, b = {"刷单": 30, "被盗": 10, "罕见": 1}, {"刷单": 10, "被盗": 30}
    ab = weighted_log_odds(a, b).set_index("term")
    ba = weighted_log_odds(b, a).set_index("term")
    assert np.allclose(ab.loc[ba.index, "delta"], -ba["delta"])
    # a word seen once in A only is far from significant, unlike a raw ratio (∞)
    assert abs(ab.loc["罕见", "z"]) < 1.0 < ab.loc["刷单", "z"]
    weak = weighted_log_odds(a, b, alpha0=1.0).set_index("term")
    assert abs(weak.loc["刷单", "delta"]) > abs(ab.loc["刷单", "delta"])  # a weaker prior shrinks less


def test_log_odds_validation():
    with pytest.raises(AnjuError):
        weighted_log_odds({"a": -1}, {"a": 1})
    with pytest.raises(AnjuError):
        weighted_log_odds({"a": 1}, {"a": 1}, alpha0=0)
    assert weighted_log_odds({}, {}).empty


def test_background_idf_matches_sklearn_smooth_idf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [["a", "b"], ["a"], ["c", "a", "c"]]
    idf = background_idf(docs)
    v = TfidfVectorizer(analyzer=lambda d: d, smooth_idf=True).fit(docs)
    for w, i in v.vocabulary_.items():
        assert idf[w] == pytest.approx(v.idf_[i])


def test_tfidf_keywords_by_hand():
    target = [["刷单", "返利", "被骗"], ["刷单", "被骗"], ["刷单", "佣金"]]
    bg = [["被骗", "转账"], ["被骗"], ["电动车", "被盗"], ["刷单"]]
    out = tfidf_keywords(target, bg, top=10, min_count=1).set_index("term")
    n = 4
    total = 7
    for w, c, df in [("刷单", 3, 1), ("被骗", 2, 2), ("返利", 1, 0)]:
        idf = math.log((1 + n) / (1 + df)) + 1
        assert out.loc[w, "score"] == pytest.approx(c / total * idf)
    assert out.index[0] == "刷单"
    # an idf table works like the token lists it was built from
    same = tfidf_keywords(target, background_idf(bg), top=10, min_count=1)
    assert same["term"].tolist() == out.index.tolist()
    assert tfidf_keywords([[]], bg).empty


def test_textrank_keywords_use_the_police_dictionary():
    texts = ["报警人称遭遇杀猪盘被骗，对方在婚恋网站认识"] * 5 + ["刷单返利诈骗，被拉进刷单群"] * 3
    words = [w for w, _ in textrank_keywords(texts, top=10, segmenter=SEG)]
    assert "杀猪盘" in words
