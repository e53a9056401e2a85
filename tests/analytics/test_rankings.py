"""Ranking definitions (TOML + overrides) and rankings with shrinkage and rank changes."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from analytics_synth import lake_frame

from anju.analytics import ranking, rankings
from anju.analytics.rankings import RankingDef
from anju.deployment.loaders import load_rankings
from anju.errors import ConfigError
from shipped import DEFS, TAX


def test_shipped_definitions() -> None:
    defs = load_rankings(taxonomy=TAX)
    assert {"thief_favourite", "easily_defrauded", "dispute_hotspots", "night_trouble"} <= set(defs)
    thief = defs["thief_favourite"]
    assert thief.per == "households" and thief.denominator == "households"
    assert set(thief.leaf_codes(TAX)) == {"theft.burglary", "theft.nonmotor", "theft.parcel", "theft.battery"}
    assert defs["easily_defrauded"].zh == "耳根子最软居民区"
    assert all(c.startswith("fraud.") for c in defs["easily_defrauded"].leaf_codes(TAX))
    assert defs["night_trouble"].window is not None
    prevent = defs["preventable_cases"].leaf_codes(TAX)
    assert "theft.burglary" in prevent and "dispute.drunk" not in prevent


def test_deployment_override_merges_by_id(tmp_path: Path) -> None:
    (tmp_path / "rankings.toml").write_text(
        '[ranking.thief_favourite]\nzh = "入室盗窃榜"\nen = "Burglary"\ncategories = ["theft.burglary"]\n'
        'per = "households"\n\n[ranking.dispute_hotspots]\nzh = "x"\nen = "x"\nenabled = false\n\n'
        '[ranking.drunk_night]\nzh = "醉酒纠纷"\nen = "Drunk disputes"\ncategories = ["dispute.drunk"]\n'
        'night = "22:00-04:00"\nper = "none"\n', encoding="utf-8")
    defs = load_rankings(data_dir=tmp_path, taxonomy=TAX)
    assert defs["thief_favourite"].zh == "入室盗窃榜"
    assert defs["thief_favourite"].leaf_codes(TAX) == ["theft.burglary"]
    assert "dispute_hotspots" not in defs
    assert defs["drunk_night"].window is not None and defs["drunk_night"].window.start == "22:00"
    assert "easily_defrauded" in defs  # untouched shipped entries stay


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        ('per = "homes"', "ranking.bad.per", "households"),
        ('categories = ["theft.nope"]', "ranking.bad.categories", "unknown category code"),
        ('families = ["theft", "crime"]', "ranking.bad.families", "unknown family"),
        ('level = "village"', "ranking.bad.level", "must be one of"),
        ('top = 0', "ranking.bad.top", "greater than or equal to 1"),
        ('colour = "red"', "ranking.bad.colour", "Extra inputs"),
        ('night = "late"', "ranking.bad.night", "21:00-03:00"),
    ],
)
def test_invalid_override_names_file_and_key(tmp_path: Path, body: str, key: str, message: str) -> None:
    f = tmp_path / "rankings.toml"
    fams = "" if body.startswith("families") else 'families = ["theft"]\n'
    f.write_text(f'[ranking.bad]\nzh = "x"\nen = "x"\n{fams}{body}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_rankings(data_dir=tmp_path, taxonomy=TAX)
    text = str(exc.value)
    assert str(f) in text and f"[{key}]" in text and message in text


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "rankings.toml").write_text("[ranking.x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rankings\.toml"):
        load_rankings(data_dir=tmp_path, taxonomy=TAX)


def _theft_table() -> tuple[ibis.Table, pd.DataFrame]:
    """20 communities of 1,000–3,000 households with ~30 thefts per 1,000 households; one of 30 households with 3;
    one genuinely hot community (90 per 1,000). The comparison year has the hot one quieter."""
    rng = np.random.default_rng(5)
    ids = [f"C{i:02d}" for i in range(22)]
    hh = np.r_[rng.integers(1000, 3000, 20), 30, 1500].astype(float)
    rate = np.r_[rng.gamma(20, 30 / 20, 20), 30.0, 90.0]
    rows = []
    for year, mult_hot in ((2025, 1.0), (2024, 0.3)):
        n = rng.poisson(hh * rate / 1000)
        n[20] = 3 if year == 2025 else 0
        n[21] = round(hh[21] * 90 / 1000 * mult_hot)
        for cid, k in zip(ids, n, strict=True):
            days = rng.integers(0, 180, k)
            rows += [{"reported_at": pd.Timestamp(f"{year}-07-01") + pd.Timedelta(days=int(d), hours=10),
                      "category": "theft.burglary", "community_id": cid} for d in days]
    areas = pd.DataFrame({"area_id": ids, "name": ids, "households": hh, "population": hh * 2.6})
    return ibis.memtable(lake_frame(pd.DataFrame(rows))), areas


def test_tiny_community_cannot_top_but_hot_one_does() -> None:
    t, areas = _theft_table()
    r = ranking(t, "thief_favourite", "2025H2", areas=areas, top=0, taxonomy=TAX, definitions=DEFS)
    assert r.loc[0, "area_id"] == "C21"  # the genuinely hot community
    tiny = r.set_index("area_id").loc["C20"]
    assert tiny["rate_raw"] == pytest.approx(100.0)
    assert tiny["rate_raw"] == r["rate_raw"].max()  # the highest raw rate of all …
    assert tiny["rank"] > 1  # … but it does not top the shrunk list
    assert tiny["rate"] < 0.5 * tiny["rate_raw"]
    assert tiny["rate_high"] - tiny["rate_low"] > 1.5 * (r.loc[0, "rate_high"] - r.loc[0, "rate_low"])
    assert not tiny["above_average"] and r.loc[0, "above_average"]
    assert (r["rate_low"] <= r["rate"]).all() and (r["rate"] <= r["rate_high"]).all()
    assert r["rate"].is_monotonic_decreasing
    assert r["rank"].tolist() == list(range(1, len(r) + 1))
    # rank change against the comparison year: the hot community was not at the top a year ago
    top = r.loc[0]
    assert top["rank_prev"] > 1 and top["rank_change"] == top["rank_prev"] - 1
    assert r.attrs["prior"]["method"] == "ml" and r.attrs["comparison"] == "2024H2"
    assert len(ranking(t, "thief_favourite", "2025H2", areas=areas, taxonomy=TAX, definitions=DEFS)) == 10


def test_count_ranking_and_night(random_table: ibis.Table, random_df: pd.DataFrame,
                                 random_areas: pd.DataFrame) -> None:
    r = ranking(random_table, "night_trouble", "2025H2", areas=random_areas, top=0, taxonomy=TAX, definitions=DEFS)
    sub = random_df[(random_df.reported_at >= "2025-07-01") & (random_df.reported_at < "2026-01-01")]
    h = sub.reported_at.dt.hour
    fams = {"dispute", "assault", "public_order", "robbery", "noise"}
    ref = sub[((h >= 21) | (h < 3)) & sub.family.isin(fams)].groupby("community_id").size()
    assert r.set_index("area_id")["count"].to_dict() == ref.reindex(r.area_id, fill_value=0).to_dict()
    assert (r["rate"] == r["count"]).all()
    assert (r["rate_low"] <= r["count"]).all() and (r["count"] <= r["rate_high"]).all()
    assert r.attrs["window"] == "21:00–03:00"


def test_rankings_runs_every_definition(random_table: ibis.Table, random_areas: pd.DataFrame) -> None:
    out = rankings(random_table, "2025H2", areas={"community": random_areas}, taxonomy=TAX, definitions=DEFS)
    assert set(out) == set(load_rankings(taxonomy=TAX))
    for rid, df in out.items():
        assert len(df) == min(load_rankings(taxonomy=TAX)[rid].top, len(random_areas))
        assert df.attrs["definition"]["id"] == rid


def test_custom_definition_object(random_table: ibis.Table, random_areas: pd.DataFrame) -> None:
    d = RankingDef(id="burglary", zh="入室盗窃", en="Burglary", categories=("theft.burglary",), per="residents",
                   prior="mom", top=3)
    r = ranking(random_table, d, "2025H2", areas=random_areas, comparison=None, taxonomy=TAX, definitions=DEFS)
    assert len(r) == 3 and r["rank_prev"].isna().all()
    assert r.attrs["prior"]["method"] == "mom"


def test_shared_leaf_query_equals_single_rankings(random_table: ibis.Table, random_areas: pd.DataFrame) -> None:
    together = rankings(random_table, "2025H2", areas=random_areas, top=0, taxonomy=TAX, definitions=DEFS)
    for rid, df in together.items():
        alone = ranking(random_table, rid, "2025H2", areas=random_areas, top=0, taxonomy=TAX, definitions=DEFS)
        pd.testing.assert_frame_equal(df, alone)
        assert df.attrs == alone.attrs


def test_equal_estimates_share_a_rank() -> None:
    """Ranked by count (no denominator), communities with the same count share a rank: 1, 2, 2, 4…"""
    rows = []
    for cid, k in (("A", 5), ("B", 3), ("C", 3), ("D", 1)):
        rows += [{"reported_at": pd.Timestamp("2025-07-01") + pd.Timedelta(days=i), "category": "theft.burglary",
                  "community_id": cid} for i in range(k)]
    t = ibis.memtable(lake_frame(pd.DataFrame(rows)))
    areas = pd.DataFrame({"area_id": list("ABCD"), "name": list("ABCD")})
    d = RankingDef(id="by_count", zh="x", en="x", categories=["theft.burglary"], per="none", top=10)
    r = ranking(t, d, "2025H2", areas=areas, comparison=None, top=0, taxonomy=TAX, definitions=DEFS)
    got = dict(zip(r["area_id"], r["rank"], strict=True))
    assert (got["A"], got["B"], got["C"], got["D"]) == (1, 2, 2, 4)
