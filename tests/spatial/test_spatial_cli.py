"""`anju hotspots gistar | emerging | knox` through the real CLI on a real small lake: the session's demo district
(tests/conftest.py) read through the real engine and service path, checked against the generator's planted facts
(the night-life zone's drunk disputes) and against counts read straight from the lake's Parquet files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from anju.cli import app


@pytest.fixture(scope="module")
def demo_dir(demo: Any) -> Path:
    return Path(demo.data_dir)


@pytest.fixture(scope="module")
def rows(demo_dir: Path) -> pd.DataFrame:
    files = str(demo_dir / "lake" / "incidents" / "**" / "*.parquet")
    with duckdb.connect() as con:
        return con.execute("SELECT reported_at, category, family, community_id, x FROM "
                           "read_parquet(?, union_by_name = true, hive_partitioning = true)", [files]).df()


def _run(demo_dir: Path, *args: str) -> str:
    res = CliRunner().invoke(app, ["-q", "-d", str(demo_dir), "hotspots", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_gistar_on_communities_finds_the_night_life_zone(demo_dir: Path, tmp_path: Path, rows: pd.DataFrame,
                                                         demo: Any) -> None:
    """Drunk disputes (a taxonomy leaf) of 2025H2 by community: the counts are the lake's, the planted night-life
    communities lead both the counts and the Gi* z-scores."""
    _run(demo_dir, "gistar", "--period", "2025H2", "--category", "dispute.drunk", "--areas", "community", "--out",
         str(tmp_path))
    df = pd.read_csv(tmp_path / "gistar.csv", encoding="utf-8-sig", dtype={"area_id": str})
    fc = json.loads((tmp_path / "gistar.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["area_id"] for f in fc["features"]] == df["area_id"].tolist()
    assert len(df) == 120  # every community, with or without calls
    t = pd.to_datetime(rows["reported_at"])
    h2 = rows[(rows["category"] == "dispute.drunk") & (t >= "2025-07-01") & (t < "2026-01-01")]
    expected = h2.groupby("community_id").size()
    got = df.set_index("area_id")["count"]
    assert got[got > 0].astype(int).to_dict() == expected.to_dict()
    night = demo.truth["nightlife"]
    top_counts = df.nlargest(2, "count")["area_id"]
    assert set(top_counts) == set(night["main_community_ids"])
    assert set(df.nlargest(3, "z")["area_id"]) <= set(night["community_ids"])
    assert (df.set_index("area_id").loc[night["main_community_ids"], "bin"] == 3).all()  # hot at 99 %


def test_gistar_grid_writes_wgs84_cells(demo_dir: Path, tmp_path: Path) -> None:
    text = _run(demo_dir, "gistar", "--period", "2025", "--category", "theft.burglary", "--cell-size", "300",
                "--out", str(tmp_path))
    assert "written" in text
    fc = json.loads((tmp_path / "gistar.geojson").read_text(encoding="utf-8"))
    props = pd.DataFrame([f["properties"] for f in fc["features"]])
    assert {"lon", "lat", "z", "bin"} <= set(props.columns) and np.isfinite(props["z"]).all()
    ring = np.array(fc["features"][0]["geometry"]["coordinates"][0])
    assert np.all((ring[:, 0] > 121.2) & (ring[:, 0] < 121.7)) and np.all((ring[:, 1] > 30.8) & (ring[:, 1] < 31.3))


def test_emerging_and_knox(demo_dir: Path, tmp_path: Path) -> None:
    text = _run(demo_dir, "emerging", "--period", "2025", "--category", "theft", "--step", "28D", "--cell-size",
                "500", "--out", str(tmp_path))
    assert "模式 / patterns" in text
    em = pd.read_csv(tmp_path / "emerging.csv", encoding="utf-8-sig")
    assert {"cell", "lon", "lat", "category", "category_code", "trend_z"} <= set(em.columns) and len(em) > 0
    text = _run(demo_dir, "knox", "--period", "2025", "--category", "theft.burglary", "--space-bands",
                "100,200,400", "--time-bands", "7,14", "--permutations", "19", "--seed", "1", "--out", str(tmp_path))
    assert "Knox" in text
    k = pd.read_csv(tmp_path / "knox.csv", encoding="utf-8-sig")
    assert {"(0, 100] m", "(100, 200] m", "(200, 400] m"} <= set(k["distance"]) and {"[0, 7] d", "(7, 14] d"} <= set(
        k["time"])
    assert k["p"].between(0, 1).all() and (k["observed"] >= 0).all() and k["observed"].sum() > 0


def test_cli_errors_are_clean(demo_dir: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["-d", str(demo_dir), "--lang", "en", "hotspots", "gistar", "--period", "2025",
                              "--weights", "distance"])
    assert res.exit_code == 2 and "--distance" in res.stderr
    res = runner.invoke(app, ["-d", str(demo_dir), "--lang", "en", "hotspots", "knox", "--period", "2025",
                              "--space-bands", "a,b"])
    assert res.exit_code == 2 and "comma-separated" in res.stderr
    res = runner.invoke(app, ["-d", str(demo_dir), "--lang", "en", "hotspots", "gistar", "--period", "2019"])
    assert res.exit_code == 2 and "no incidents" in res.stderr
