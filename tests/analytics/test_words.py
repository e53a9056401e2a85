"""Word analytics on call texts (anju.text segmentation): top terms, rising terms, fraud techniques."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from analytics_synth import lake_frame

from anju.analytics import fraud_techniques, rising_terms, top_terms
from anju.text.segment import Segmenter
from anju.text.terms import weighted_log_odds
from shipped import SEG, TAX


def _texts() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    rows = []
    for year in (2024, 2025):
        for _i in range(200):
            day = pd.Timestamp(f"{year}-07-01") + pd.Timedelta(days=int(rng.integers(0, 180)), hours=20)
            # theft: 电动车 always; 快递 much more in 2025
            parcel = rng.random() < (0.6 if year == 2025 else 0.1)
            rows.append({"reported_at": day, "category": "theft.parcel" if parcel else "theft.nonmotor",
                         "text": "小区楼下快递被人拿走了" if parcel else "小区车棚电动车被盗，请求民警处理"})
            kind = rng.choice(["fraud.rebate", "fraud.fake_service", "fraud.investment"], p=[0.5, 0.3, 0.2])
            loss = {"fraud.rebate": 3000.0, "fraud.fake_service": 8000.0, "fraud.investment": 50000.0}[kind]
            text = {"fraud.rebate": "网上刷单返利被骗，对方让先垫付", "fraud.fake_service": "冒充客服说要退款被骗",
                    "fraud.investment": "投资理财平台无法提现被骗"}[kind]
            in_text = rng.random() < 0.3
            rows.append({"reported_at": day, "category": kind,
                         "text": text + (f"共计{int(loss)}元" if in_text else ""),
                         "loss_yuan": np.nan if in_text else loss})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def words_df() -> pd.DataFrame:
    return lake_frame(_texts())


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


def test_top_terms_per_family(words_df: pd.DataFrame, seg: Segmenter) -> None:
    t = ibis.memtable(words_df)
    out = top_terms(t, "2025H2", top=5, segmenter=seg, taxonomy=TAX)
    assert set(out["family"]) == {"theft", "fraud"}
    theft = out[out.family == "theft"]
    sub = words_df[(words_df.reported_at.dt.year == 2025) & (words_df.family == "theft")]
    toks = [[w for w in doc if len(w) >= 2] for doc in seg.cut_many(sub["text"].tolist())]
    ref = pd.Series([w for d in toks for w in d]).value_counts()
    assert theft["count"].tolist() == ref.iloc[:5].tolist()
    assert theft["rank"].tolist() == [1, 2, 3, 4, 5]
    assert theft["label_zh"].iloc[0] == "盗窃"
    assert "被骗" in set(out[out.family == "fraud"]["term"])
    assert out.attrs["texts"] == {"fraud": 200, "theft": 200}
    sampled = top_terms(t, "2025H2", by=None, max_texts=50, segmenter=seg, taxonomy=TAX)
    assert sampled.attrs["texts"] == {"all": 50} and set(sampled["family"]) == {"all"}


def test_rising_terms(words_df: pd.DataFrame, seg: Segmenter) -> None:
    t = ibis.memtable(words_df)
    out = rising_terms(t, "2025H2", families=["theft"], top=3, segmenter=seg, taxonomy=TAX)
    rising = out[out.direction == "rising"]
    falling = out[out.direction == "falling"]
    assert "快递" in rising["term"].tolist()
    assert "电动车" in falling["term"].tolist()
    assert (rising["z"] > 0).all() and (falling["z"] < 0).all()
    row = rising.set_index("term").loc["快递"]
    ref = weighted_log_odds({"快递": row["count"], "x": 1}, {"快递": row["count_prev"], "x": 1})
    assert row["count"] > row["count_prev"] and ref.set_index("term").loc["快递", "delta"] > 0
    assert out.attrs["comparison"] == "2024H2"


def test_fraud_techniques_counts_and_losses(words_df: pd.DataFrame) -> None:
    t = ibis.memtable(words_df)
    out = fraud_techniques(t, "2025H2", comparison="yoy", taxonomy=TAX).set_index("category")
    sub = words_df[(words_df.reported_at.dt.year == 2025) & (words_df.family == "fraud")]
    n = sub["category"].value_counts()
    assert out.loc[n.index, "count"].tolist() == n.tolist()
    assert out["share"].sum() == pytest.approx(1.0)
    assert len(out) == len([c for c in out.index if c.startswith("fraud.")]) >= 10  # every technique listed
    # losses: column where present, amounts in the text otherwise → every call has its amount
    for code, loss in (("fraud.rebate", 3000.0), ("fraud.fake_service", 8000.0), ("fraud.investment", 50000.0)):
        assert out.loc[code, "loss_known"] == n[code]
        assert out.loc[code, "loss_total"] == pytest.approx(loss * n[code])
        assert out.loc[code, "loss_median"] == pytest.approx(loss)
    assert bool(out.loc["fraud.investment", "costliest"]) and out["costliest"].sum() == 1
    assert out.loc["fraud.investment", "rank_loss"] == 1
    assert out.loc["fraud.romance", "count"] == 0 and out.loc["fraud.romance", "loss_total"] == 0
    prev = words_df[(words_df.reported_at.dt.year == 2024) & (words_df.family == "fraud")]["category"].value_counts()
    assert out.loc[prev.index, "count_prev"].tolist() == prev.tolist()
    assert "p_value" in out.columns
    no_text = fraud_techniques(t, "2025H2", amounts_from_text=False, taxonomy=TAX).set_index("category")
    assert no_text.loc["fraud.rebate", "loss_known"] < n["fraud.rebate"]


def test_term_stats_cache_returns_equal_fresh_results() -> None:
    """The release asks twice for the same sample; the cached answer equals a fresh one and cannot be spoiled."""
    from anju.analytics import words

    seg = SEG
    cache: words.StatsCache = {}  # one job's cache, owned by the caller (no module-level state)
    texts = ["小区电动车被盗", "楼下装修噪音扰民", "小区电动车被盗", "接到诈骗电话被骗五千元"]
    first = words._term_stats(seg, texts, 2, cache)
    first[0]["电动车"] = -1  # a caller changing its copy
    second = words._term_stats(seg, texts, 2, cache)
    assert len(cache) == 1
    assert second == words._term_stats_uncached(seg, texts, 2)
    assert second[0]["电动车"] == 2 and second[1]["电动车"] == 2
    other = words._term_stats(seg, texts[:1], 2, cache)
    assert other[0]["电动车"] == 1
