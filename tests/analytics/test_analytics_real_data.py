"""Analytics on real public data (../shared/data): San Francisco by police district and by grid, Chicago by
community area. Categories are mapped with anju's shipped source mappings; every figure is checked against an
independent pandas computation on the same rows."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anju.analytics import compare, counts, hour_weekday, night_counts, ranking, shares
from anju.analytics.rankings import RankingDef
from anju.taxonomy import load_mapping
from shipped import DEFS, SEG, TAX

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sf(shared_data: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared_data / "sf-crime-kaggle" / "train.csv.gz",
                      usecols=["Dates", "Category", "Descript", "PdDistrict", "X", "Y"])
    raw = raw[raw["Y"] < 38].reset_index(drop=True)  # 67 rows carry a dummy coordinate
    codes, _ = load_mapping("sf-kaggle").map(raw["Category"].tolist(), raw["Descript"].tolist())
    from anju.geo.projection import to_metric

    x, y = to_metric(raw["X"].to_numpy(), raw["Y"].to_numpy(), "EPSG:32610")
    cell = 1000.0
    return pd.DataFrame({
        "reported_at": pd.to_datetime(raw["Dates"]).astype("datetime64[us]"),
        "category": codes.astype(str), "family": pd.Series(codes.astype(str)).str.split(".").str[0],
        "police_district_id": raw["PdDistrict"].astype(str), "x": x, "y": y,
        "grid_id": (np.floor(x / cell).astype(int).astype(str) + "_" + np.floor(y / cell).astype(int).astype(str)),
        "source_category": raw["Category"].astype(str),
    })


def _span(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return df[(df["reported_at"] >= a) & (df["reported_at"] < b)]


def test_sf_counts_by_police_district_and_grid(sf: pd.DataFrame) -> None:
    t = ibis.memtable(sf)
    got = counts(t, "2014", level="police_district", by="family", taxonomy=TAX)
    yr = _span(sf, "2014-01-01", "2015-01-01")
    ref = yr.groupby(["police_district_id", "family"]).size()
    assert got.set_index(["area_id", "family"])["count"].sort_index().to_dict() == ref.sort_index().to_dict()
    assert got["area_id"].nunique() == 10
    grid = counts(t, "2014H2", level="grid", by=None, taxonomy=TAX)
    g_ref = _span(sf, "2014-07-01", "2015-01-01").groupby("grid_id").size()
    assert grid.set_index("area_id")["count"].to_dict() == g_ref.to_dict()
    # rates with (illustrative) attributes: count / attribute × 1000
    areas = pd.DataFrame({"area_id": sorted(sf["police_district_id"].unique())})
    areas["population"] = np.arange(1, 11) * 50_000.0
    r = counts(t, "2014", level="police_district", by=None, areas=areas, taxonomy=TAX)
    np.testing.assert_allclose(r["rate_residents"], r["count"] / r["area_id"].map(
        areas.set_index("area_id")["population"]) * 1000)
    s = shares(t, "2014", by="family", taxonomy=TAX).set_index("family")["share"]
    assert s["theft"] == pytest.approx((yr.family == "theft").mean())


def test_sf_year_on_year_with_tests(sf: pd.DataFrame) -> None:
    t = ibis.memtable(sf)
    c = compare(t, "2014H2", comparison="yoy", level="police_district", by=None, taxonomy=TAX).set_index("area_id")
    cur = _span(sf, "2014-07-01", "2015-01-01").groupby("police_district_id").size()
    prev = _span(sf, "2013-07-01", "2014-01-01").groupby("police_district_id").size()
    assert c["count"].to_dict() == cur.to_dict() and c["count_prev"].to_dict() == prev.to_dict()
    np.testing.assert_allclose(c.loc[cur.index, "change_pct"], (cur / prev - 1) * 100)
    for d in ("SOUTHERN", "TENDERLOIN", "RICHMOND"):
        ref = stats.binomtest(int(cur[d]), int(cur[d] + prev[d]), 0.5).pvalue
        assert c.loc[d, "p_value"] == pytest.approx(ref, rel=1e-9, abs=1e-300)


def test_sf_night_and_hours(sf: pd.DataFrame) -> None:
    t = ibis.memtable(sf)
    n = night_counts(t, "2014", level="police_district", taxonomy=TAX).set_index("area_id")
    yr = _span(sf, "2014-01-01", "2015-01-01")
    h = yr["reported_at"].dt.hour
    ref = yr[(h >= 21) | (h < 3)].groupby("police_district_id").size()
    assert n["count_night"].to_dict() == ref.to_dict()
    assert n["night_share"].between(0.15, 0.45).all()
    m = hour_weekday(t, "2014", taxonomy=TAX)
    ref_m = pd.crosstab(yr["reported_at"].dt.day_of_week, yr["reported_at"].dt.hour)
    np.testing.assert_array_equal(m.to_numpy(), ref_m.to_numpy())
    # the KDE on the real, heavily stacked points keeps its mass and peaks where the most calls are
    from anju.spatial.kde import heat_map

    g = heat_map(t, "2014H2", cell_size=200, bandwidth=400, crs="EPSG:32610")
    assert g.n == len(_span(sf, "2014-07-01", "2015-01-01"))
    assert g.total == pytest.approx(g.n, rel=0.01)
    lon, lat = g.centres_wgs84()
    i = int(np.argmax(g.density.ravel()))
    assert -122.43 < lon[i] < -122.39 and 37.76 < lat[i] < 37.80  # SoMa / Tenderloin / downtown


@pytest.fixture(scope="module")
def chicago(shared_data: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared_data / "chicago-crime-samples" / "rcrimeanalysis_crimes_2017_2019.csv")
    raw = raw[raw["community_area"].notna()].reset_index(drop=True)
    codes, _known = load_mapping("chicago").map(raw["primary_type"].tolist(), raw["description"].tolist())
    return pd.DataFrame({
        "reported_at": pd.to_datetime(raw["date"], format="%m/%d/%Y %H:%M").astype("datetime64[us]"),
        "category": codes.astype(str), "family": pd.Series(codes.astype(str)).str.split(".").str[0],
        "community_id": raw["community_area"].astype(int).astype(str), "primary_type": raw["primary_type"],
    })


def test_chicago_community_areas(chicago: pd.DataFrame) -> None:
    t = ibis.memtable(chicago)
    got = counts(t, "2018", level="community", by="family", taxonomy=TAX)
    yr = _span(chicago, "2018-01-01", "2019-01-01")
    ref = yr.groupby(["community_id", "family"]).size()
    assert got.set_index(["area_id", "family"])["count"].sort_index().to_dict() == ref.sort_index().to_dict()
    assert yr[yr.primary_type == "DECEPTIVE PRACTICE"]["family"].eq("fraud").mean() > 0.6
    c = compare(t, "2018", comparison="yoy", level="community", by=None, taxonomy=TAX).set_index("area_id")
    prev = _span(chicago, "2017-01-01", "2018-01-01").groupby("community_id").size()
    assert c["count_prev"].to_dict() == prev.reindex(c.index, fill_value=0).to_dict()
    for cid in ("25", "8", "32"):
        k, k0 = int(c.loc[cid, "count"]), int(c.loc[cid, "count_prev"])
        assert c.loc[cid, "p_value"] == pytest.approx(stats.binomtest(k, k + k0, 365 / 730).pvalue, rel=1e-9)
    areas = pd.DataFrame({"area_id": [str(i) for i in range(1, 78)], "name": [f"CA {i}" for i in range(1, 78)]})
    d = RankingDef(id="fraud_count", zh="诈骗", en="Fraud", families=("fraud",), per="none", top=5)
    r = ranking(t, d, "2018", areas=areas, taxonomy=TAX, definitions=DEFS)
    f_ref = yr[yr.family == "fraud"].groupby("community_id").size().sort_values(ascending=False)
    assert r["count"].tolist() == f_ref.iloc[:5].tolist()
    assert r.loc[0, "area_id"] == f_ref.index[0]
    assert r["rank_prev"].notna().all()


def test_teddy_cup_messages_give_sensible_top_terms(shared_data: Path) -> None:
    from anju.analytics import top_terms

    raw = pd.read_csv(shared_data / "teddy-cup-2020-c-gov-messages" / "full" / "附件2_rawtext_subset_A.csv",
                      header=None, names=["label", "text"])
    df = pd.DataFrame({"reported_at": pd.Timestamp("2019-08-01"), "family": raw["label"],
                       "category": "other.consult", "text": raw["text"].str.replace(r"\s+", "", regex=True)})
    out = top_terms(ibis.memtable(df), "2019H2", top=10, taxonomy=TAX, segmenter=SEG)
    top = {f: set(g["term"]) for f, g in out.groupby("family")}
    assert len(top) == 7
    expect = {"教育文体": {"学校", "学生", "教师"}, "交通运输": {"公交", "出租车"}, "城乡建设": {"小区", "业主", "物业"},
              "劳动和社会保障": {"工资", "社保"}, "卫生计生": {"医院", "医生"}, "环境保护": {"污染", "环境"}}
    for dept, terms in expect.items():
        assert terms <= top[dept], (dept, top[dept])
    assert out.loc[out.family == "教育文体", "label_zh"].iloc[0] == "教育文体"
