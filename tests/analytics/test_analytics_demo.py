"""Analytics on the demo district (anju.demo, built through the real ingest into a temporary data dir).

The generator plants hot communities, a supervised theft decline, night-life disputes, a fraud mix with losses and
rising terms, and writes what it planted (and what it realised) to truth.json (docs/demo-district.md). These tests
check that the analytics find them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats

from anju.analytics import (
    compare,
    counts,
    fraud_techniques,
    headline,
    night_counts,
    ranking,
    rising_terms,
    safety_index,
    supervision,
)
from anju.analytics.rankings import RankingDef
from shipped import DEFS, INDEX, SEG, TAX

pytestmark = pytest.mark.slow

def _raw_lake(demo: dict[str, Any]) -> pd.DataFrame:
    """The lake read with pyarrow directly (no Ibis), for independent reference counts."""
    lake_dir = demo["settings"].paths.lake
    files = [lake_dir / f for f in demo["lake"].manifest.files("incidents")]
    cols = ["reported_at", "category", "family", "community_id", "street_id"]
    return pd.concat([pq.read_table(f, columns=cols).to_pandas() for f in files], ignore_index=True)


def test_counts_and_rates_agree_with_an_independent_read(demo: dict[str, Any]) -> None:
    raw = _raw_lake(demo)
    h2 = raw[(raw.reported_at >= "2025-07-01") & (raw.reported_at < "2026-01-01")]
    got = counts(demo["t"], "2025H2", level="community", by="family", areas=demo["community"], taxonomy=TAX)
    ref = h2.groupby(["community_id", "family"]).size()
    g = got.dropna(subset=["area_id"]).set_index(["area_id", "family"])["count"]
    assert g[g > 0].sort_index().to_dict() == ref.sort_index().to_dict()
    pop = demo["community"].set_index("area_id")["population"]
    row = got.dropna(subset=["area_id"]).iloc[0]
    assert row["rate_residents"] == pytest.approx(row["count"] / pop[row["area_id"]] * 1000)
    by_year = demo["truth"]["realized"]["loaded_by_year_family"]["2025"]
    full = counts(demo["t"], "2025", level=None, by="family", taxonomy=TAX)
    assert full.set_index("family")["count"].to_dict() == by_year


def test_planted_hot_communities_top_the_theft_ranking(demo: dict[str, Any]) -> None:
    hot = set(demo["truth"]["hot"]["community_ids"])
    r = ranking(demo["t"], "thief_favourite", "2025H2", areas=demo["community"], taxonomy=TAX, definitions=DEFS)
    assert r.loc[0, "area_id"] in hot
    assert len(hot & set(r["area_id"].head(6))) >= 4
    assert r["above_average"].head(3).all()
    # the raw rates of the generator's own ranking leaves equal the realised ones
    leaves = tuple(demo["truth"]["hot"]["ranking_leaves"])
    d = RankingDef(id="thief3", zh="x", en="x", categories=leaves, per="households", top=10)
    r3 = ranking(demo["t"], d, "2025H2", areas=demo["community"], comparison=None, top=0, taxonomy=TAX, definitions=DEFS).set_index("area_id")
    for cid, rate in demo["truth"]["realized"]["thief_ranking_release_top10"]:  # annualised: half-year × 2
        assert r3.loc[cid, "rate_raw"] * 2 == pytest.approx(rate, rel=1e-9)


def test_planted_supervision_decline_is_significant(demo: dict[str, Any]) -> None:
    truth = demo["truth"]
    sup_ids = set(truth["supervised"]["community_ids"])
    out = supervision(demo["t"], truth["periods"]["supervision_base"], truth["periods"]["release"],
                      areas=demo["community"], comparison="yoy", taxonomy=TAX)
    assert out["area_id"].tolist() == truth["realized"]["top10_theft_base_year"]
    # at 5 % scale a community has 30–100 thefts a year, so neighbours near the 10th place swap
    assert len(sup_ids & set(out["area_id"])) >= 5
    listed = out[out["area_id"].isin(sup_ids)]
    assert (listed["direction"] == "down").mean() >= 0.8
    # pooled over the supervised communities the release-period decline is large and significant
    c = compare(demo["t"], truth["periods"]["release"], comparison="yoy", level="community", by=None,
                families=["theft"], taxonomy=TAX)
    s = c[c["area_id"].isin(sup_ids)]
    k, k0 = int(s["count"].sum()), int(s["count_prev"].sum())
    assert k / k0 - 1 == pytest.approx(truth["realized"]["supervised_change_release_vs_comparison"], abs=1e-9)
    assert stats.binomtest(k, k + k0, 184 / 368).pvalue < 0.001
    expected = truth["supervised"]["expected_change_release_vs_comparison"]
    assert abs((k / k0 - 1) - expected) < 0.2
    others = c[~c["area_id"].isin(sup_ids) & c["area_id"].notna()]
    assert others["count"].sum() / others["count_prev"].sum() - 1 > k / k0 - 1 + 0.2


def test_planted_nightlife_disputes_show_at_night(demo: dict[str, Any]) -> None:
    truth = demo["truth"]["nightlife"]
    n = night_counts(demo["t"], "2025H2", families=["dispute"], areas=demo["community"], taxonomy=TAX)
    assert set(n["area_id"].head(2)) == set(truth["main_community_ids"])
    drunk = night_counts(demo["t"], "2025H2", level=None, categories=["dispute.drunk"], taxonomy=TAX)
    assert drunk["night_share"].iloc[0] == pytest.approx(truth["drunk_dispute_night_share"], abs=0.06)
    # the night heat map peaks in the night-life zone
    import shapely

    from anju.spatial.kde import heat_map

    zone = shapely.from_geojson((demo["dir"] / "nightlife.geojson").read_text(encoding="utf-8"))
    g = heat_map(demo["t"], "2025H2", night=True, families=["dispute"], crs="EPSG:32651", cell_size=100,
                 bandwidth=200, taxonomy=TAX)
    lon, lat = g.centres_wgs84()
    i = int(np.argmax(g.density.ravel()))
    assert shapely.contains_xy(shapely.buffer(shapely.union_all(shapely.get_parts(zone)), 0.003), lon[i], lat[i])


def test_fraud_techniques_in_planted_proportions(demo: dict[str, Any]) -> None:
    truth = demo["truth"]["fraud"]
    f = fraud_techniques(demo["t"], "2024-01-01..2025-12-31", taxonomy=TAX).set_index("category")
    planted = pd.Series(truth["proportions"])
    obs = f.loc[planted.index, "count"]
    chi = stats.chisquare(obs, planted / planted.sum() * obs.sum())
    assert chi.pvalue > 0.001
    assert (f.loc[planted.index, "share"] - planted).abs().max() < 0.04
    assert f["count"].idxmax() == truth["most_common"]
    # the costliest technique by total loss is one the generator made costly in expectation
    exp_total = {k: truth["proportions"][k] * v["expected_loss_per_call"] for k, v in truth["loss"].items()}
    top = f["loss_total"].idxmax()
    assert bool(f.loc[top, "costliest"])
    assert exp_total[top] >= 0.5 * max(exp_total.values())
    med = f.loc[planted.index, "loss_median"]
    assert (med / pd.Series({k: v["median"] for k, v in truth["loss"].items()}) - 1).abs().median() < 0.35


def test_planted_words_rise_and_fall(demo: dict[str, Any]) -> None:
    w = demo["truth"]["words"]
    out = rising_terms(demo["t"], "2025H2", top=500, taxonomy=TAX, segmenter=SEG)
    z = out.set_index("term")["z"]
    present_up = [t for t in w["rising"] if t in z.index]
    present_down = [t for t in w["falling"] if t in z.index]
    assert len(present_up) >= 2 and len(present_down) >= 1
    assert all(z[t] > 0 for t in present_up)
    assert all(z[t] < 0 for t in present_down)


def test_headline_and_index(demo: dict[str, Any]) -> None:
    truth = demo["truth"]
    h = headline(demo["t"], "2025H2", taxonomy=TAX).set_index("metric")
    raw = _raw_lake(demo)
    h2 = raw[(raw.reported_at >= "2025-07-01") & (raw.reported_at < "2026-01-01")]
    assert h.loc["total", "value"] == len(h2)
    assert h.loc["dispute_share", "value"] == pytest.approx((h2.family == "dispute").mean())
    assert 0.4 < h.loc["dispute_share", "value"] < 0.6  # disputes about half, as in Minhang
    idx = safety_index(demo["t"], "2025H2", areas=demo["community"], taxonomy=TAX, config=INDEX)
    assert idx["index"].between(0, 100).all() and len(idx) == len(demo["community"])
    hot = set(truth["hot"]["community_ids"])
    assert idx[idx.area_id.isin(hot)]["index"].median() < idx["index"].median()
    streets = safety_index(demo["t"], "2025H2", areas=demo["street"], level="street",
                           child_areas=demo["community"], taxonomy=TAX, config=INDEX)
    assert streets["index"].notna().all() and len(streets) == len(demo["street"])
