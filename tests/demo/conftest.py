"""Fixtures for the demo-district tests: one small generated demo (scale 0.05, 2023–2025) per test session."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from anju.demo.generate import DemoFiles, generate_files

SCALE = 0.05
SEED = 42
END = 2025


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The demo district generated once (about 68k calls)."""
    return generate_files(tmp_path_factory.mktemp("demo") / "out", seed=SEED, scale=SCALE, end_year=END)


@pytest.fixture(scope="session")
def truth(demo_files: DemoFiles) -> dict[str, Any]:
    return json.loads(demo_files.truth_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def calls(demo_files: DemoFiles) -> pd.DataFrame:
    """The CSV as strings, plus parsed helper columns computed independently of the generator."""
    df = pd.read_csv(demo_files.csv, encoding="gbk", dtype=str, keep_default_na=False)
    parts = df["报警时间"].str.extract(r"^(\d{4})年(\d{1,2})月(\d{1,2})日 (\d{1,2})时(\d{2})分$")
    ok = parts.notna().all(axis=1)
    ts = pd.to_datetime(
        parts[0].where(ok, "1900") + "-" + parts[1].where(ok, "1") + "-" + parts[2].where(ok, "1") + " "
        + parts[3].where(ok, "0") + ":" + parts[4].where(ok, "0"), format="%Y-%m-%d %H:%M", errors="coerce")
    df["ts"] = ts.where(ok)
    df["year"] = df["ts"].dt.year
    df["hour"] = df["ts"].dt.hour
    df["weekday"] = df["ts"].dt.day_of_week
    df["half"] = np.where(df["ts"].dt.month <= 6, 1, 2)
    df["loss"] = pd.to_numeric(df["涉案金额"], errors="coerce")
    return df


@pytest.fixture(scope="session")
def community_of(demo_files: DemoFiles, calls: pd.DataFrame) -> np.ndarray:
    """Community id of every call, by point-in-polygon on the written GeoJSON (GCJ-02 → WGS-84 first)."""
    from anju.geo.coords import convert

    fc = json.loads(demo_files.layers["community"].read_text(encoding="utf-8"))
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in fc["features"]], dtype=object)
    ids = np.array([f["properties"]["id"] for f in fc["features"]], dtype=object)
    lon = pd.to_numeric(calls["经度"], errors="coerce").to_numpy()
    lat = pd.to_numeric(calls["纬度"], errors="coerce").to_numpy()
    wlon, wlat = convert(lon, lat, "gcj02", "wgs84")
    out = np.full(len(calls), None, dtype=object)
    good = ~np.isnan(wlon)
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(shapely.points(wlon[good], wlat[good]), predicate="within")
    idx = np.flatnonzero(good)
    out[idx[pi]] = ids[gi]
    return out


@pytest.fixture(scope="session")
def communities(demo_files: DemoFiles) -> pd.DataFrame:
    fc = json.loads(demo_files.layers["community"].read_text(encoding="utf-8"))
    return pd.DataFrame([f["properties"] for f in fc["features"]]).set_index("id")
