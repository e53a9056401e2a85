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


def test_term_tables_are_cached_per_job_and_equal_fresh_ones(words_df: pd.DataFrame) -> None:
    """A release asks for one period's terms three times (top, distinctive, rising): with the job's cache the
    texts are segmented once per period; the answers equal uncached ones."""
    from anju.analytics import distinctive_terms

    t = ibis.memtable(words_df)
    cache: dict = {}  # one job's cache, owned by the caller (no module-level state)
    top = top_terms(t, "2025H2", by=None, max_texts=None, segmenter=SEG, taxonomy=TAX, cache=cache)
    dist = distinctive_terms(t, "2025H2", segmenter=SEG, taxonomy=TAX, cache=cache)
    rising = rising_terms(t, "2025H2", max_texts=None, segmenter=SEG, taxonomy=TAX, cache=cache)
    assert len(cache) == 2  # the period (per family; "all" is its sum) and the comparison period
    pd.testing.assert_frame_equal(top, top_terms(t, "2025H2", by=None, max_texts=None, segmenter=SEG, taxonomy=TAX))
    pd.testing.assert_frame_equal(dist, distinctive_terms(t, "2025H2", segmenter=SEG, taxonomy=TAX))
    pd.testing.assert_frame_equal(rising, rising_terms(t, "2025H2", max_texts=None, segmenter=SEG, taxonomy=TAX))
    assert top.attrs["texts"] == {"all": 400} and dist.attrs["texts"] == {"fraud": 200, "theft": 200}


def test_count_terms_adds_up_over_any_split() -> None:
    """Spark counts per partition and sums: the term table of any split of the rows sums to the whole's."""
    import pyarrow as pa

    from anju.analytics.words import TermCounter, count_terms

    rows = pa.RecordBatch.from_pydict({
        "_g": ["theft", "theft", "dispute", "theft", "dispute"],
        "text": ["小区电动车被盗", "楼下电动车电瓶被盗，电动车被推走", "楼下装修噪音扰民", "小区电动车被盗", "邻居装修噪音"],
        "_n": [3, 1, 2, 1, 1]})

    def frame(*batches: pa.RecordBatch) -> pd.DataFrame:
        df = pa.Table.from_batches(batches).to_pandas()
        df["term"] = df["term"].fillna("<calls>")  # the group's row of call counts
        return df.groupby(["_g", "term"])[["count", "docs"]].sum().sort_index()

    whole = frame(count_terms(rows, SEG, 2))
    for cut in (1, 2, 4):
        pd.testing.assert_frame_equal(frame(count_terms(rows.slice(0, cut), SEG, 2),
                                            count_terms(rows.slice(cut), SEG, 2)), whole)
    assert whole.loc[("theft", "电动车"), "count"] == 3 + 2 + 1 and whole.loc[("theft", "电动车"), "docs"] == 5
    assert whole.loc[("theft", "<calls>"), "docs"] == 5 and whole.loc[("dispute", "<calls>"), "count"] == 3
    # the batch function travels to Spark's workers by value (dictionary and stop words included)
    import pickle

    fn = pickle.loads(pickle.dumps(TermCounter(SEG, 2)))
    assert fn.segmenter.fingerprint() == SEG.fingerprint() and frame(fn(rows)).equals(whole)


def test_sampling_keeps_the_calls_of_lowest_seeded_hash(words_df: pd.DataFrame) -> None:
    """max_texts keeps, per group, the calls of lowest MD5 prefix of ``record_key#seed`` (ties by the key): an
    engine-neutral rule, checked here against hashlib."""
    import hashlib

    t = ibis.memtable(words_df)
    sub = words_df[(words_df.reported_at >= "2025-07-01") & (words_df.reported_at < "2026-01-01")]
    for seed in (0, 7):
        key = [hashlib.md5(f"{k}#{seed}".encode()).hexdigest()[:8] for k in sub["record_key"]]
        chosen = sub.assign(_h=key).sort_values(["_h", "record_key"]).head(50)
        ref = pd.Series([w for doc in SEG.cut_many(chosen["text"].tolist()) for w in doc if len(w) >= 2])
        out = top_terms(t, "2025H2", by=None, max_texts=50, seed=seed, top=1000, segmenter=SEG, taxonomy=TAX)
        assert out.attrs["texts"] == {"all": 50}
        got = out.set_index("term")["count"]
        counts = ref.value_counts()
        assert got.to_dict() == {w: int(c) for w, c in counts.items() if w in got.index}
        assert set(got.index) <= set(counts.index)
    # the hash pre-filter's bound is a prefix of the ranking: dropping it (the fallback) selects the same calls
    from anju.analytics import Period
    from anju.analytics.words import _selected

    sel = {w: _selected(t, Period.parse("2025H2"), families=None, taxonomy=TAX, by_family=True, max_texts=30,
                        seed=1, widen=w)[0].to_pandas().sort_values(["_g", "text"]).reset_index(drop=True)
           for w in (False, True)}
    pd.testing.assert_frame_equal(sel[False], sel[True])
    assert sel[False].groupby("_g")["_n"].sum().to_dict() == {"fraud": 30, "theft": 30}


def test_fraud_loss_histogram_gives_pandas_statistics() -> None:
    """The fraud losses travel as a histogram (category, amount, calls) summed where the rows are; the statistics
    read from it equal pandas' over the expanded amounts (medians exactly, odd and even counts, repeats)."""
    import pyarrow as pa

    from anju.analytics.words import FRAUD_SCHEMA, FraudAmounts, _loss_stats

    rng = np.random.default_rng(9)
    cats = rng.choice(["fraud.a", "fraud.b", "fraud.c"], 401)
    loss = rng.choice([np.nan, 0.0, 500.0, 3000.0, 3000.0, 12_800.5, 50_000.0], 401)
    texts = np.where(rng.random(401) < 0.5, "被骗共计2万元", None)
    df = pd.DataFrame({"category": cats, "loss_yuan": loss, "_text": texts, "_n": rng.integers(1, 4, 401)})
    batch = pa.RecordBatch.from_pandas(df, preserve_index=False)
    fn = FraudAmounts(True)
    parts = pa.Table.from_batches([fn(batch.slice(0, 150)), fn(batch.slice(150))], schema=FRAUD_SCHEMA).to_pandas()
    hist = parts.groupby(["category", "loss", "from_text"], dropna=False, as_index=False)["n"].sum()
    hist = hist.sort_values(["category", "loss"], na_position="last")
    got = _loss_stats(hist).set_index("category")
    # the reference: one row per call, the loss column else the text's amount, kept when positive
    calls = df.loc[df.index.repeat(df["_n"])]
    amount = calls["loss_yuan"].where(calls["loss_yuan"].notna(), np.where(calls["_text"].notna(), 20_000.0, np.nan))
    calls = calls.assign(loss=amount.where(amount > 0))
    g = calls.groupby("category")
    assert got["count"].to_dict() == g.size().to_dict()
    assert got["loss_known"].to_dict() == g["loss"].count().to_dict()
    assert got["loss_median"].to_dict() == g["loss"].median().to_dict()
    np.testing.assert_allclose(got["loss_total"], g["loss"].sum().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["loss_mean"], g["loss"].mean().to_numpy(), rtol=1e-12)
    assert int(hist.loc[hist["from_text"], "n"].sum()) == int((calls["loss_yuan"].isna() & calls["loss"].notna()).sum())
