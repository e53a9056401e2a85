"""Counts, rates, shares, monthly trends, comparisons and headline figures against independent pandas code."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from analytics_synth import lake_frame
from scipy import stats

from anju.analytics import compare, counts, headline, monthly, shares
from anju.analytics._common import AnalyticsError
from shipped import DEFS, TAX

H2 = (pd.Timestamp("2025-07-01"), pd.Timestamp("2026-01-01"))
H2_PREV = (pd.Timestamp("2024-07-01"), pd.Timestamp("2025-01-01"))


def _in(df: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    return df[(df["reported_at"] >= span[0]) & (df["reported_at"] < span[1])]


def test_counts_and_rates_match_pandas(random_table: ibis.Table, random_df: pd.DataFrame,
                                       random_areas: pd.DataFrame) -> None:
    got = counts(random_table, "2025H2", level="community", by="family", areas=random_areas, taxonomy=TAX)
    sub = _in(random_df, H2)
    ref = sub.groupby(["community_id", "family"]).size().rename("ref").reset_index()
    m = got.merge(ref, left_on=["area_id", "family"], right_on=["community_id", "family"], how="left")
    m = m[m["area_id"].notna()]
    m["ref"] = m["ref"].fillna(0)
    assert (m["count"] == m["ref"]).all()
    assert m["count"].sum() > 0
    # every area × family present (zeros included) plus unassigned rows
    assert len(got[got.area_id.notna()]) == len(random_areas) * len(TAX.families)
    assert got["count"].sum() == len(sub)
    unassigned = got[got.area_id.isna()]["count"].sum()
    assert unassigned == sub["community_id"].isna().sum() > 0
    pop = got["area_id"].map(random_areas.set_index("area_id")["population"])
    np.testing.assert_allclose(got["rate_residents"].dropna(), (got["count"] / pop * 1000).dropna())
    hh = got["area_id"].map(random_areas.set_index("area_id")["households"])
    np.testing.assert_allclose(got["rate_households"].dropna(), (got["count"] / hh * 1000).dropna())
    assert set(got["label_zh"].dropna()) <= {f.zh for f in TAX.families.values()}


def test_counts_levels_and_category_levels(random_table: ibis.Table, random_df: pd.DataFrame) -> None:
    sub = _in(random_df, H2)
    leaf = counts(random_table, "2025H2", level="street", by="category", complete=False, taxonomy=TAX)
    ref = sub.groupby(["street_id", "category"], dropna=False).size()
    assert leaf.set_index(["area_id", "category"])["count"].sort_index().tolist() == ref.sort_index().tolist()
    prev = counts(random_table, "2025H2", level=None, by="preventable", taxonomy=TAX)
    flags = sub["category"].map(lambda c: TAX[c].preventable)
    assert prev.set_index("preventable")["count"].to_dict() == flags.value_counts().to_dict()
    total = counts(random_table, "2025H2", level=None, by=None, taxonomy=TAX)
    assert total["count"].tolist() == [len(sub)]
    only = counts(random_table, "2025H2", level=None, by="family", families=["theft"], categories=["fraud.rebate"], taxonomy=TAX)
    assert set(only["family"]) == {"theft", "fraud"}
    assert only["count"].sum() == ((sub.family == "theft") | (sub.category == "fraud.rebate")).sum()


def test_period_boundaries_are_half_open() -> None:
    df = lake_frame({"reported_at": ["2025-06-30 23:59:59", "2025-07-01 00:00:00", "2025-12-31 23:59:59",
                                     "2026-01-01 00:00:00"],
                     "category": ["theft.burglary"] * 4, "community_id": ["C1"] * 4})
    got = counts(ibis.memtable(df), "2025H2", level="community", by=None, taxonomy=TAX)
    assert got["count"].tolist() == [2]


def test_unknown_level_and_category_raise(random_table: ibis.Table) -> None:
    with pytest.raises(AnalyticsError, match="unknown area level 'village'"):
        counts(random_table, "2025H2", level="village", taxonomy=TAX)
    with pytest.raises(AnalyticsError, match="category level"):
        counts(random_table, "2025H2", by="kind", taxonomy=TAX)
    with pytest.raises(AnalyticsError, match="unknown category code"):
        counts(random_table, "2025H2", categories=["theft.nope"], taxonomy=TAX)
    with pytest.raises(AnalyticsError, match="lacks households"):
        from anju.analytics import ranking
        ranking(random_table, "thief_favourite", "2025H2", areas=pd.DataFrame({"area_id": ["C01"]}), taxonomy=TAX, definitions=DEFS)


def test_shares_and_dispute_share(random_table: ibis.Table, random_df: pd.DataFrame,
                                  random_areas: pd.DataFrame) -> None:
    sub = _in(random_df, H2)
    s = shares(random_table, "2025H2", by="family", taxonomy=TAX)
    assert s["share"].sum() == pytest.approx(1.0)
    ref = sub["family"].value_counts(normalize=True)
    for _, r in s.iterrows():
        assert r["share"] == pytest.approx(ref[r["family"]])
    assert s["count"].is_monotonic_decreasing
    # the dispute share (纠纷类警情占比) has one district-wide number, the headline's; per area it is a family share
    head = headline(random_table, "2025H2", taxonomy=TAX, include_loss=False).set_index("metric")
    assert head.loc["dispute_share", "value"] == pytest.approx((sub.family == "dispute").mean())
    assert head.loc["dispute_share", "value"] == pytest.approx(s.set_index("family").loc["dispute", "share"])
    per = shares(random_table, "2025H2", by="family", level="community", taxonomy=TAX)
    per = per[per["family"] == "dispute"]
    g = sub.groupby("community_id")["family"].apply(lambda f: (f == "dispute").mean())
    for _, r in per.dropna(subset=["area_id"]).iterrows():
        assert r["share"] == pytest.approx(g[r["area_id"]])
    within = shares(random_table, "2025H2", by="preventable", level="community", taxonomy=TAX)
    assert within.groupby("area_id", dropna=False)["share"].sum().round(12).eq(1).all()


def test_monthly_fills_zero_months() -> None:
    df = lake_frame({"reported_at": ["2025-01-05", "2025-01-20", "2025-03-02"],
                     "category": ["theft.burglary", "fraud.rebate", "theft.parcel"], "community_id": ["C1"] * 3})
    got = monthly(ibis.memtable(df), "2025Q1", by="family", taxonomy=TAX)
    assert len(got) == 3 * 2
    piv = got.pivot(index="month", columns="family", values="count")
    assert piv["theft"].tolist() == [1, 0, 1]
    assert piv["fraud"].tolist() == [1, 0, 0]
    assert got["month"].min() == pd.Timestamp("2025-01-01")


def test_monthly_totals_match(random_table: ibis.Table, random_df: pd.DataFrame) -> None:
    got = monthly(random_table, "2024H1", "2025H2", taxonomy=TAX)
    assert len(got) == 24
    ref = random_df.groupby(random_df["reported_at"].dt.to_period("M")).size()
    assert got["count"].tolist() == ref.tolist()


def test_compare_matches_pandas(random_table: ibis.Table, random_df: pd.DataFrame,
                                random_areas: pd.DataFrame) -> None:
    got = compare(random_table, "2025H2", comparison="yoy", level="community", by=None, areas=random_areas, taxonomy=TAX)
    cur = _in(random_df, H2).groupby("community_id").size()
    prev = _in(random_df, H2_PREV).groupby("community_id").size()
    g = got.dropna(subset=["area_id"]).set_index("area_id")
    assert g["count"].to_dict() == cur.to_dict()
    assert g["count_prev"].to_dict() == prev.to_dict()
    expect = (cur / prev - 1) * 100
    np.testing.assert_allclose(g["change_pct"].sort_index(), expect.sort_index())
    p = [stats.binomtest(int(cur[i]), int(cur[i] + prev[i]), 0.5).pvalue for i in g.index]
    np.testing.assert_allclose(g["p_value"], p, rtol=1e-9)
    assert got.attrs == {"period": "2025H2", "comparison": "2024H2"}
    pop = compare(random_table, "2025H2", comparison="pop", level=None, by="family", taxonomy=TAX)
    h1 = _in(random_df, (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-07-01")))
    t = pop.set_index("family")
    assert t.loc["theft", "count_prev"] == (h1.family == "theft").sum()
    c, c0 = t.loc["theft", "count"], t.loc["theft", "count_prev"]
    assert t.loc["theft", "change_pct"] == pytest.approx(((c / 184) / (c0 / 181) - 1) * 100)


def test_headline_matches_pandas(random_table: ibis.Table, random_df: pd.DataFrame) -> None:
    h = headline(random_table, "2025H2", taxonomy=TAX).set_index("metric")
    cur, prev = _in(random_df, H2), _in(random_df, H2_PREV)
    assert h.loc["total", "value"] == len(cur)
    assert h.loc["total", "value_prev"] == len(prev)
    assert h.loc["theft", "value"] == (cur.family == "theft").sum()
    assert h.loc["preventable", "value"] == cur["category"].map(lambda c: TAX[c].preventable).sum()
    assert h.loc["police", "value"] == cur["category"].map(lambda c: TAX[c].police).sum()
    hr = cur["reported_at"].dt.hour
    assert h.loc["night", "value"] == ((hr >= 21) | (hr < 3)).sum()
    assert h.loc["dispute_share", "value"] == pytest.approx((cur.family == "dispute").mean())
    a, n = (cur.family == "dispute").sum(), len(cur)
    a0, n0 = (prev.family == "dispute").sum(), len(prev)
    assert h.loc["dispute_share", "p_value"] == pytest.approx(
        stats.fisher_exact([[a, n - a], [a0, n0 - a0]]).pvalue)
    fraud = cur[cur.family == "fraud"]["loss_yuan"]
    assert h.loc["fraud_loss_yuan", "value"] >= fraud[fraud > 0].sum() - 1e-6
    assert h.loc["total", "label_zh"] == "警情总量"
