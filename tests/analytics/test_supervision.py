"""Supervision candidates (挂牌督导): the base top-N, their change with a test, rank movement."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from analytics_synth import lake_frame
from scipy import stats

from anju.analytics import supervision
from shipped import TAX


def _table() -> tuple[ibis.Table, pd.DataFrame]:
    """12 communities; in 2024 C00–C04 have the most thefts; in 2025 C00–C02 (supervised) fall by 60 %."""
    rng = np.random.default_rng(2)
    base = {f"C{i:02d}": lam for i, lam in enumerate([120, 110, 100, 90, 80, 40, 35, 30, 25, 20, 15, 10])}
    rows = []
    for year in (2024, 2025):
        for cid, lam in base.items():
            mult = 0.4 if (year == 2025 and cid in ("C00", "C01", "C02")) else 1.0
            for d in rng.integers(0, 365, rng.poisson(lam * mult)):
                rows.append({"reported_at": pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=int(d), hours=15),
                             "category": "theft.nonmotor", "community_id": cid})
            for d in rng.integers(0, 365, 30):  # non-theft calls must not count
                rows.append({"reported_at": pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=int(d)),
                             "category": "dispute.neighbour", "community_id": cid})
    df = lake_frame(pd.DataFrame(rows))
    return ibis.memtable(df), df


def test_supervision_list_change_and_movement() -> None:
    t, df = _table()
    out = supervision(t, "2024", "2025", n=5, taxonomy=TAX)
    theft = df[df.family == "theft"]
    c24 = theft[theft.reported_at.dt.year == 2024].groupby("community_id").size().sort_values(ascending=False)
    c25 = theft[theft.reported_at.dt.year == 2025].groupby("community_id").size()
    assert out["area_id"].tolist() == c24.index[:5].tolist()
    assert out["rank_base"].tolist() == [1, 2, 3, 4, 5]
    assert out["count_base"].tolist() == c24.iloc[:5].tolist()
    assert out["count"].tolist() == c25.reindex(out.area_id).tolist()
    assert (out["count_prev"] == out["count_base"]).all()
    for _, r in out.iterrows():
        ref = stats.binomtest(int(r["count"]), int(r["count"] + r["count_prev"]), 365 / (365 + 366)).pvalue  # 2024 has 366 days
        assert r["p_value"] == pytest.approx(ref, rel=1e-9)
    sup = out.set_index("area_id").loc[["C00", "C01", "C02"]]
    assert sup["significant"].all() and (sup["direction"] == "down").all()
    assert (sup["verdict_zh"] == "显著下降").all()
    # the supervised ones fell down the list; the others moved up
    rank25 = c25.rank(ascending=False, method="first")
    for _, r in out.iterrows():
        assert r["rank_now"] == rank25[r["area_id"]]
        assert r["rank_change"] == r["rank_base"] - r["rank_now"]
        assert r["left_top_n"] == (r["rank_now"] > 5)
    o = out.set_index("area_id")
    assert o.loc[["C00", "C01", "C02"], "left_top_n"].any()
    assert not o.loc[["C03", "C04"], "left_top_n"].any()
    assert (o.loc[["C00", "C01", "C02"], "rank_change"] < 0).all()
    assert out.attrs["comparison"] == "2024"


def test_supervision_yoy_comparison_and_half_year_exposure() -> None:
    t, df = _table()
    out = supervision(t, "2024", "2025H2", n=3, comparison="yoy", taxonomy=TAX)
    assert out.attrs["comparison"] == "2024H2"
    theft = df[df.family == "theft"]
    h = theft[(theft.reported_at >= "2024-07-01") & (theft.reported_at < "2025-01-01")]
    assert out["count_prev"].tolist() == h.groupby("community_id").size().reindex(out.area_id).tolist()
    out2 = supervision(t, "2024", "2025H2", n=3, taxonomy=TAX)  # half-year against the whole base year, per day
    r = out2.iloc[0]
    assert r["change_pct"] == pytest.approx(((r["count"] / 184) / (r["count_prev"] / 366) - 1) * 100)
