"""Releases built end to end from real public data whose area layers carry no population (issue 3).

* Chicago: the 77 community areas (no residents) + the rcrimeanalysis sample through the ``chicago`` profile.
* San Francisco: Kaggle train.csv rows of 2014–2015 through ``sf-kaggle`` with a 1 km grid as the only area layer.

The release must build (no safety index, no per-1,000 rates, a note saying why) and its per-area counts must agree
with independent computations: a pandas/shapely assignment of the source CSV and a DuckDB group-by over the lake's
parquet files.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook
from release_helpers import assemble_release, check_offline_page

from anju.config import Settings, load_settings
from anju.geo.areas import load_area_file
from anju.ingest.pipeline import ingest_file
from anju.release import render_all
from anju.release.sections import NO_RESIDENTS_EN, NO_RESIDENTS_ZH
from real_data_helpers import sf_grid

FILES = ("index.html", "report.pdf", "tables.xlsx", "release.json")


def _settings(tmp_path: Path) -> Settings:
    d = tmp_path / "anju-data"
    d.mkdir()
    return load_settings(data_dir=d, quiet=True)


def _lake_counts(settings: Settings, col: str, start: str, end: str) -> pd.Series:
    """Independent count per area straight from the lake's parquet files (DuckDB, no anju code)."""
    files = sorted(str(p) for p in (Path(settings.data_dir) / "lake" / "incidents").rglob("*.parquet"))
    assert files
    df = duckdb.sql(f"SELECT {col} AS area_id, count(*) AS n FROM read_parquet({files!r}, hive_partitioning=true) "
                    f"WHERE reported_at >= TIMESTAMP '{start}' AND reported_at < TIMESTAMP '{end}' "
                    f"AND {col} IS NOT NULL GROUP BY 1").df()
    return df.set_index(df["area_id"].astype(str))["n"].astype(int)


def _release_counts(rel_json: dict, key: str) -> pd.Series:
    rows = pd.DataFrame(rel_json["tables"][key]["rows"])
    return rows.set_index(rows["area_id"].astype(str))["count"].astype(int)


def _polygon_counts(geojson: Path, id_field: str, lon: np.ndarray, lat: np.ndarray) -> tuple[pd.Series, int]:
    """Count points per polygon with shapely (independent of anju.geo); also return the points in no polygon."""
    feats = json.loads(geojson.read_text(encoding="utf-8"))["features"]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in feats])
    ids = np.array([str(f["properties"][id_field]) for f in feats], dtype=object)
    pts = shapely.points(lon, lat)
    pi, gi = shapely.STRtree(geoms).query(pts, predicate="within")
    first = pd.Series(gi).groupby(pi).first()  # a point on a shared edge goes to one polygon only
    counts = pd.Series(ids[first.to_numpy()]).value_counts()
    return counts, int(len(pts) - len(first))


def _check_files(out: Path, rel: dict, counts_key: str) -> None:
    for f in FILES:
        assert (out / f).stat().st_size > 1000, f
    assert "index_community" not in rel["tables"] and "index_street" not in rel["tables"]
    assert any(NO_RESIDENTS_EN in n["text"] for n in rel["notes"])
    # no per-1,000 column anywhere, and every ranking is by count (no made-up denominators)
    for key, t in rel["tables"].items():
        assert not any("rate_residents" in c["key"] or "rate_households" in c["key"] for c in t["columns"]), key
        if key.startswith("ranking_"):
            rows = pd.DataFrame(t["rows"])
            assert rows["denominator"].isna().all() if "denominator" in rows else True
            np.testing.assert_array_equal(rows["rate"].to_numpy(float), rows["count"].to_numpy(float))
    # the Excel sheet of the per-area counts holds the same numbers as release.json
    book = load_workbook(out / "tables.xlsx", read_only=True)
    table = rel["tables"][counts_key]
    rows = list(book[table["title"][:31]].iter_rows(values_only=True))
    labels = [c["label"] for c in table["columns"]]
    head = next(i for i, r in enumerate(rows) if list(r[:len(labels)]) == labels)
    xl = [r[labels.index("Calls")] for r in rows[head + 1:] if r[0] is not None]
    assert xl == [r["count"] for r in table["rows"]]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert NO_RESIDENTS_EN in html


@pytest.mark.slow
def test_chicago_release_without_population(shared_data: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    geo = shared_data / "chicago-boundaries" / "community_areas.geojson"
    csv = shared_data / "chicago-crime-samples" / "rcrimeanalysis_crimes_2017_2019.csv"
    load_area_file(settings.data_dir, geo, layer="community", id_field="area_numbe", name_field="community")
    rep = ingest_file(settings, csv, profile="chicago")
    assert rep.rows_loaded > 20_000

    release = assemble_release(settings, "2019H1", lang="en")
    # the note exists in both languages
    assert any(NO_RESIDENTS_ZH in n.zh and NO_RESIDENTS_EN in n.en for n in release.notes)
    out = tmp_path / "rel"
    render_all(release, out)
    rel = json.loads((out / "release.json").read_text(encoding="utf-8"))
    _check_files(out, rel, "counts_community")

    got = _release_counts(rel, "counts_community")
    assert len(got) == 77  # every community area, also those without a call
    # 1) the lake's own parquet files, grouped by DuckDB
    lake = _lake_counts(settings, "community_id", "2019-01-01", "2019-07-01")
    pd.testing.assert_series_equal(got[got > 0].sort_index(), lake.sort_index(), check_names=False)
    # 2) the source CSV, parsed and assigned to polygons with pandas + shapely
    src = pd.read_csv(csv, usecols=["date", "latitude", "longitude"])
    t = pd.to_datetime(src["date"], format="%m/%d/%Y %H:%M")
    src = src[(t >= "2019-01-01") & (t < "2019-07-01")]
    ref, outside = _polygon_counts(geo, "area_numbe", src["longitude"].to_numpy(), src["latitude"].to_numpy())
    assert int(rel["meta"]["incidents"]) == len(src)
    diff = got.reindex(ref.index.union(got.index), fill_value=0) - ref.reindex(ref.index.union(got.index), fill_value=0)
    # points outside every polygon are assigned to the nearest one by anju; nothing else may differ
    assert int(diff.abs().sum()) <= outside, (diff[diff != 0], outside)
    assert (diff >= 0).all()
    # the headline total agrees with the source too
    hl = pd.DataFrame(rel["tables"]["headline"]["rows"]).set_index("metric")
    assert int(hl.loc["total", "value"]) == len(src)


@pytest.fixture(scope="module")
def sf_lake(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, pd.DataFrame, Path]:
    """SF 2014–2015 ingested once with a 1 km grid as the only area layer: (settings, source rows, grid GeoJSON)."""
    tmp = tmp_path_factory.mktemp("sf")
    settings = _settings(tmp)
    grid = tmp / "grid.geojson"
    sf_grid(grid)
    load_area_file(settings.data_dir, grid, layer="grid", id_field="id")
    src = pd.read_csv(shared_data / "sf-crime-kaggle" / "train.csv.gz")
    src = src[src["Dates"].str[:4].isin(["2014", "2015"])]
    sub = tmp / "sf_2014_2015.csv"
    src.to_csv(sub, index=False)
    rep = ingest_file(settings, sub, profile="sf-kaggle")
    assert rep.rows_loaded > 0
    return settings, src, grid


@pytest.mark.slow
def test_sf_grid_release_without_population(sf_lake: tuple[Settings, pd.DataFrame, Path], tmp_path: Path) -> None:
    settings, src, grid = sf_lake
    release = assemble_release(settings, "2015H1", compare="2014H1", lang="en")
    out = tmp_path / "rel"
    render_all(release, out)
    rel = json.loads((out / "release.json").read_text(encoding="utf-8"))
    _check_files(out, rel, "counts_grid")
    assert rel["meta"]["compare"] == "2014H1"

    got = _release_counts(rel, "counts_grid")
    lake = _lake_counts(settings, "grid_id", "2015-01-01", "2015-07-01")
    pd.testing.assert_series_equal(got[got > 0].sort_index(), lake.sort_index(), check_names=False)
    prev = pd.DataFrame(rel["tables"]["counts_grid"]["rows"]).set_index("area_id")["count_prev"].astype(int)
    lake_prev = _lake_counts(settings, "grid_id", "2014-01-01", "2014-07-01")
    pd.testing.assert_series_equal(prev[prev > 0].sort_index(), lake_prev.sort_index(), check_names=False)

    # independent: every source row is kept (a repeated row is a repeat call: the key counts occurrences, see
    # docs/ingest.md), assigned with shapely
    kept = src
    t = pd.to_datetime(kept["Dates"], format="%Y-%m-%d %H:%M:%S")
    cur = kept[(t >= "2015-01-01") & (t < "2015-07-01")]
    ref, outside = _polygon_counts(grid, "id", cur["X"].to_numpy(float), cur["Y"].to_numpy(float))
    hl = pd.DataFrame(rel["tables"]["headline"]["rows"]).set_index("metric")
    assert int(hl.loc["total", "value"]) == len(cur)
    idx = ref.index.union(got.index)
    diff = got.reindex(idx, fill_value=0) - ref.reindex(idx, fill_value=0)
    assert int(diff.abs().sum()) <= outside, (diff[diff != 0], outside)


@pytest.mark.slow
@pytest.mark.browser
def test_sf_release_by_pddistrict(sf_lake: tuple[Settings, pd.DataFrame, Path], tmp_path: Path) -> None:
    """``by="unit"``: the per-area sections group by the records' responsible unit (SF's PdDistrict, no polygons)."""
    settings, src, _ = sf_lake
    release = assemble_release(settings, "2015H1", compare="2014H1", lang="en", by="unit")
    out = tmp_path / "rel"
    render_all(release, out)
    rel = json.loads((out / "release.json").read_text(encoding="utf-8"))
    _check_files(out, rel, "counts_unit")
    assert "counts_grid" not in rel["tables"]
    assert any("responsible unit" in n["text"] for n in rel["notes"] if n["section"] == "method")

    # independent: pandas over the source rows (repeated rows are repeat calls and load, see docs/ingest.md)
    kept = src
    t = pd.to_datetime(kept["Dates"], format="%Y-%m-%d %H:%M:%S")
    cur = kept[(t >= "2015-01-01") & (t < "2015-07-01")]["PdDistrict"].value_counts()
    prev = kept[(t >= "2014-01-01") & (t < "2014-07-01")]["PdDistrict"].value_counts()
    rows = pd.DataFrame(rel["tables"]["counts_unit"]["rows"]).set_index("area_id")
    assert sorted(rows.index) == sorted(cur.index.union(prev.index))
    assert len(rows) == 10  # SF's ten police districts
    pd.testing.assert_series_equal(rows["count"].astype(int).sort_index(), cur.sort_index(), check_names=False)
    pd.testing.assert_series_equal(rows["count_prev"].astype(int).sort_index(), prev.sort_index(), check_names=False)
    # listed by calls, largest first; change and exact test recomputed independently (both half-years have 181
    # days, so the conditional binomial has p = 1/2)
    assert rows["count"].is_monotonic_decreasing
    from scipy.stats import binomtest
    from statsmodels.stats.multitest import multipletests

    want_p = {uid: binomtest(int(r["count"]), int(r["count"] + r["count_prev"]), 0.5).pvalue
              for uid, r in rows.iterrows()}
    want_q = dict(zip(want_p, multipletests(list(want_p.values()), method="fdr_bh")[1], strict=True))
    for uid, r in rows.iterrows():
        assert r["p_value"] == pytest.approx(want_p[uid], rel=1e-6, abs=1e-300), uid
        assert r["q_value"] == pytest.approx(want_q[uid], rel=1e-6, abs=1e-300), uid
        assert bool(r["significant"]) == (want_q[uid] < 0.05), uid  # BH over the ten districts
        assert r["change_pct"] == pytest.approx(100 * (r["count"] / r["count_prev"] - 1)), uid
    # the per-area ranking uses the same units and the same counts
    rk = pd.DataFrame(rel["tables"]["ranking_dispute_hotspots"]["rows"])
    assert set(rk["area_id"]) <= set(cur.index)
    # the lake agrees too (DuckDB over the parquet files, no anju code)
    lake = _lake_counts(settings, "unit", "2015-01-01", "2015-07-01")
    pd.testing.assert_series_equal(rows["count"].astype(int).sort_index(), lake.sort_index(), check_names=False)
    # the page works offline without a boundary layer of its own: no choropleth, every chart draws
    assert not any(f.kind == "choropleth" for f in release.figures)
    # SF's records carry no call text: no empty word cloud, a note instead
    assert "terms" not in rel["tables"] and not any(f.kind == "wordcloud" for f in release.figures)
    assert any(n["section"] == "words" and "no call text" in n["text"] for n in rel["notes"])
    # issue 16: what the reader is told about this source
    keys = {f.key for f in release.figures}
    assert {"heat_all", "heat_night"} <= keys  # heat maps drawn on lon/lat axes without a boundary layer
    loss = next(r for r in rel["tables"]["headline"]["rows"] if r["metric"] == "fraud_loss_yuan")
    assert loss["value"] is None and loss["verdict"] == "no data"  # SF has no loss column: not "0 yuan"
    head_note = " ".join(n["text"] for n in rel["notes"] if n["section"] == "headline")
    assert "SFPD incident reports" in head_note and "110" not in head_note
    assert "supervision" not in {t["section"] for t in rel["tables"].values()}  # districts were never supervised
    titles = {s["key"]: s["title"] for s in rel["sections"]}
    assert "ommunit" not in titles["map"] and "unit" in titles["map"].lower()
    method = " ".join(n["text"] for n in rel["notes"] if n["section"] == "method")
    assert "weeks hold no record" in method  # the Kaggle train set holds alternate weeks only
    assert "docs/" not in method
    check_offline_page(out / "index.html", tmp_path / "sf-by-unit.png", len(release.figures))


@pytest.mark.slow
def test_release_by_level_must_be_loaded(sf_lake: tuple[Settings, pd.DataFrame, Path]) -> None:
    from anju.errors import DataNotFoundError

    settings, _, _ = sf_lake
    with pytest.raises(DataNotFoundError, match=r"--by community: no community layer.*--by unit"):
        assemble_release(settings, "2015H1", by="community")
