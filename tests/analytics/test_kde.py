"""Binned KDE heat maps against a direct kernel sum; grids, extents and WGS-84 helpers."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from anju.spatial.kde import KDEError, extent_from_bounds, extent_of, heat_map, heat_maps, kde_grid
from shipped import TAX


def test_binned_kde_matches_direct_kernel_sum() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 300, 600), rng.normal(1500, 150, 400)]
    y = np.r_[rng.normal(0, 300, 600), rng.normal(800, 150, 400)]
    g = kde_grid(x, y, cell_size=50, bandwidth=200, extent=(-1500, -1500, 2500, 2000))
    cx, cy = g.centres()
    h = 200.0
    d2 = (cx[:, None] - x[None, :]) ** 2 + (cy[:, None] - y[None, :]) ** 2
    direct = np.exp(-d2 / (2 * h * h)).sum(axis=1) / (2 * np.pi * h * h) * 1e6  # per km²
    dens = g.density.ravel()
    assert np.corrcoef(dens, direct)[0, 1] > 0.999
    assert np.abs(dens - direct).max() < 0.03 * direct.max()


def test_mass_peak_and_extent() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(5000, 100, 3000), rng.normal(-2000, 100, 3000)
    g = kde_grid(x, y, cell_size=50, bandwidth=100)
    assert g.total == pytest.approx(3000, rel=1e-3)
    assert g.n == 3000
    r, c = np.unravel_index(np.argmax(g.density), g.shape)
    cx, cy = g.centres()
    i = r * g.shape[1] + c
    assert abs(cx[i] - 5000) < 75 and abs(cy[i] + 2000) < 75
    x0, y0, x1, y1 = g.extent
    assert x0 % 50 == 0 and (x1 - x0) / 50 == g.shape[1] and (y1 - y0) / 50 == g.shape[0]
    # points outside a given extent are ignored; weights scale the mass
    g2 = kde_grid(x, y, cell_size=50, bandwidth=0, extent=(4900, -2100, 5100, -1900), weights=np.full(3000, 2.0))
    inside = ((x >= 4900) & (x < 5100) & (y >= -2100) & (y < -1900)).sum()
    assert g2.total == pytest.approx(2 * inside)


def test_errors() -> None:
    with pytest.raises(KDEError, match="cell_size"):
        kde_grid([0], [0], cell_size=0)
    with pytest.raises(KDEError, match="bandwidth"):
        kde_grid([0], [0], bandwidth=-1)
    with pytest.raises(KDEError, match="cells"):
        kde_grid([0, 1e7], [0, 1e7], cell_size=1)
    with pytest.raises(KDEError, match="no points"):
        kde_grid([np.nan], [np.nan])
    empty = kde_grid([], [], extent=(0, 0, 1000, 1000))
    assert empty.total == 0 and empty.to_frame().empty


def test_wgs84_helpers_round_trip() -> None:
    from anju.geo.projection import to_metric

    crs = "EPSG:32651"
    x0, y0 = to_metric(np.array([121.40]), np.array([31.10]), crs)
    rng = np.random.default_rng(2)
    g = kde_grid(x0[0] + rng.normal(0, 300, 500), y0[0] + rng.normal(0, 300, 500), cell_size=100,
                 bandwidth=200, crs=crs)
    lon, lat = g.centres_wgs84()
    bx, by = to_metric(lon, lat, crs)
    cx, cy = g.centres()
    np.testing.assert_allclose(bx, cx, atol=1e-3)
    np.testing.assert_allclose(by, cy, atol=1e-3)
    assert abs(np.median(lon) - 121.40) < 0.02 and abs(np.median(lat) - 31.10) < 0.02
    polys = g.cell_polygons_wgs84(g.density > 0.5 * g.density.max())
    import shapely

    assert len(polys) == int((g.density > 0.5 * g.density.max()).sum())
    assert shapely.contains_xy(polys[0], *g.to_frame(0.5)[["lon", "lat"]].to_numpy()[0])
    ext = extent_from_bounds((121.39, 31.09, 121.41, 31.11), crs, cell_size=100)
    assert ext[0] % 100 == 0 and ext[2] - ext[0] > 1800
    frame = g.to_frame(0.1)
    assert {"lon", "lat", "x", "y", "density"} <= set(frame.columns)
    assert (frame["density"] > 0.1 * g.density.max()).all()


def test_heat_maps_from_table(random_table: ibis.Table, random_df: pd.DataFrame) -> None:
    sub = random_df[(random_df.reported_at >= "2025-07-01") & (random_df.reported_at < "2026-01-01")]
    ext = extent_of(random_table, "2025H2", cell_size=100)
    allday = heat_map(random_table, "2025H2", extent=ext)
    assert allday.n == len(sub)
    night = heat_map(random_table, "2025H2", night=True, extent=ext)
    h = sub.reported_at.dt.hour
    assert night.n == ((h >= 21) | (h < 3)).sum()
    assert night.extent == allday.extent
    fam = heat_maps(random_table, "2025H2", families=["theft", "dispute"], extent=ext, taxonomy=TAX)
    assert set(fam) == {"all", "theft", "dispute"}
    assert fam["theft"].n == (sub.family == "theft").sum()
    assert fam["all"].n == sub.family.isin(["theft", "dispute"]).sum()


def test_engine_binning_equals_numpy_binning(random_table: ibis.Table, random_df: pd.DataFrame) -> None:
    sub = random_df[(random_df.reported_at >= "2025-07-01") & (random_df.reported_at < "2026-01-01")]
    ext = (-4000.0, -3000.0, 4000.0, 3500.0)
    engine = heat_map(random_table, "2025H2", extent=ext, cell_size=100, bandwidth=250)
    local = kde_grid(sub["x"], sub["y"], extent=ext, cell_size=100, bandwidth=250)
    assert engine.extent == local.extent and engine.n == local.n
    np.testing.assert_allclose(engine.density, local.density, atol=1e-9)
    auto = heat_map(random_table, "2025H2", cell_size=100, bandwidth=250)
    assert auto.n == len(sub) and auto.total == pytest.approx(len(sub), rel=1e-3)


def _edge_points() -> tuple[np.ndarray, np.ndarray]:
    """Random points around a 30 × 20 grid of 100 m cells on (-1000, -500, 2000, 1500), plus every grid-line
    crossing (points exactly on inner edges, on the min and max edges and the corners), points just outside and
    NaN."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-1200, 2200, 5000)
    y = rng.uniform(-700, 1700, 5000)
    gx, gy = np.meshgrid(np.arange(-1000.0, 2001.0, 100.0), np.arange(-500.0, 1501.0, 100.0))
    ex = np.array([2000.0, 2000.0000001, -1000.0000001, 500.0, 500.0, np.nan, 3.0])
    ey = np.array([1500.0, 0.0, 0.0, 1500.0000001, -500.0000001, 7.0, np.nan])
    return np.concatenate([x, gx.ravel(), ex]), np.concatenate([y, gy.ravel(), ey])


EDGE_EXTENT = (-1000.0, -500.0, 2000.0, 1500.0)


def _histogram2d(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    ok = np.isfinite(x) & np.isfinite(y)
    ref, _, _ = np.histogram2d(y[ok], x[ok], bins=[20, 30], range=[[-500.0, 1500.0], [-1000.0, 2000.0]],
                               weights=None if weights is None else weights[ok])
    return ref


def test_engine_bins_equal_histogram2d_including_edges() -> None:
    """The engine's GROUP BY over cell indices gives numpy.histogram2d's counts exactly: points on inner edges go to
    the upper cell, points on the max edge to the last row/column, points outside (even by 1e-7 m) nowhere."""
    x, y = _edge_points()
    ref = _histogram2d(x, y)
    assert ref[-1, -1] >= 1 and ref.sum() < np.isfinite(x + y).sum()  # the max corner counts; outside points don't
    t = ibis.memtable(pd.DataFrame({"x": x, "y": y}))
    engine = heat_map(t, None, extent=EDGE_EXTENT, cell_size=100, bandwidth=0)
    assert engine.shape == (20, 30) and engine.n == ref.sum()
    assert np.array_equal(engine.density, ref / engine.cell_area_km2)
    local = kde_grid(x, y, extent=EDGE_EXTENT, cell_size=100, bandwidth=0)
    assert np.array_equal(local.density, engine.density)
    # weights (the NumPy path's option) follow the same cells
    w = np.random.default_rng(3).uniform(0.5, 2.0, x.size)
    weighted = kde_grid(x, y, extent=EDGE_EXTENT, cell_size=100, bandwidth=0, weights=w)
    np.testing.assert_allclose(weighted.density * weighted.cell_area_km2, _histogram2d(x, y, w), rtol=0, atol=1e-9)
    # smoothed: the same counts through the same filter, bit for bit
    smooth = heat_map(t, None, extent=EDGE_EXTENT, cell_size=100, bandwidth=250)
    assert np.array_equal(smooth.density, kde_grid(x, y, extent=EDGE_EXTENT, cell_size=100, bandwidth=250).density)
