"""H3 cells against the h3 library point by point; metric cells: packing, inverse, polygons."""

from __future__ import annotations

import h3.api.basic_int as h3i
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.errors import GeoError
from anju.geo.grid import (
    cell_centres,
    cell_indices,
    cell_polygons,
    h3_cells,
    h3_centres,
    h3_polygons,
    metric_cells,
)


def _ref(lon: np.ndarray, lat: np.ndarray, res: int) -> np.ndarray:
    return np.array([np.uint64(h3i.latlng_to_cell(b, a, res)).astype(np.int64) if np.isfinite(a) and np.isfinite(b)
                     else -1 for a, b in zip(lon.tolist(), lat.tolist(), strict=True)], dtype=np.int64)


@pytest.mark.parametrize("res", [0, 1, 4, 7, 8, 9, 10, 12, 15])
def test_h3_matches_library_globally(res: int) -> None:
    rng = np.random.default_rng(res)
    n = 20_000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))  # uniform on the sphere: every face, near pentagons too
    lon = rng.uniform(-180, 180, n)
    np.testing.assert_array_equal(h3_cells(lon, lat, res), _ref(lon, lat, res))


def test_h3_matches_library_in_a_district_and_near_pentagons() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(121.3, 121.5, 50_000), rng.uniform(31.1, 31.3, 50_000)
    lon[:100] = np.nan
    got = h3_cells(lon, lat, 9)
    np.testing.assert_array_equal(got, _ref(lon, lat, 9))
    assert (got[:100] == -1).all()
    assert 3000 < len(np.unique(got[100:])) < 8000  # ~420 km² / 0.105 km² per res-9 cell
    # points at and around the 12 pentagon centres, and on cell vertices (three cells meet there)
    pts = []
    for p in h3i.get_pentagons(5):
        la, lo = h3i.cell_to_latlng(p)
        pts += [(lo + dx, la + dy) for dx in (-0.3, -1e-7, 0.0, 1e-7, 0.3) for dy in (-0.3, 0.0, 0.3)]
    for c in np.unique(got[100:])[:200].tolist():
        pts += [(lo, la) for la, lo in h3i.cell_to_boundary(c)]
    a = np.array(pts)
    for res in (5, 9):
        np.testing.assert_array_equal(h3_cells(a[:, 0], a[:, 1], res), _ref(a[:, 0], a[:, 1], res))


@settings(max_examples=100, deadline=None)
@given(st.floats(-180, 180), st.floats(-89.9, 89.9), st.integers(0, 15))
def test_h3_property(lon: float, lat: float, res: int) -> None:
    assert h3_cells([lon], [lat], res)[0] == h3i.latlng_to_cell(lat, lon, res)


def test_h3_centres_polygons_and_errors() -> None:
    cells = h3_cells([121.47, np.nan], [31.23, 0.0], 9)
    lon, _ = h3_centres(cells)
    assert abs(lon[0] - 121.47) < 0.01 and np.isnan(lon[1])
    polys = h3_polygons(cells)
    assert polys[1] is None and shapely.contains_xy(polys[0], 121.47, 31.23)
    with pytest.raises(GeoError, match=r"0\.\.15"):
        h3_cells([1.0], [1.0], 16)


@settings(max_examples=200, deadline=None)
@given(st.floats(-5e6, 5e6), st.floats(-1e7, 1e7), st.sampled_from([10.0, 100.0, 250.0, 1000.0]))
def test_metric_cells_invert(x: float, y: float, size: float) -> None:
    c = metric_cells([x], [y], size)
    assert c[0] >= 0
    ix, iy = cell_indices(c)
    assert ix[0] == np.floor(x / size) and iy[0] == np.floor(y / size)
    cx, cy = cell_centres(c, size)
    assert abs(cx[0] - x) <= size / 2 + 1e-6 and abs(cy[0] - y) <= size / 2 + 1e-6
    assert metric_cells(cx, cy, size)[0] == c[0]


def test_metric_cells_nan_origin_polygons() -> None:
    c = metric_cells([100.0, 149.9, 150.0, np.nan], [0.0, 24.0, 0.0, 1.0], 50.0, origin=(0.0, -25.0))
    assert c[0] == c[1] != c[2] and c[3] == -1
    polys = cell_polygons(c, 50.0, origin=(0.0, -25.0))
    assert polys[3] is None
    assert shapely.contains_xy(polys[0], 120.0, 10.0) and shapely.area(polys[0]) == pytest.approx(2500.0)
    lonlat = cell_polygons(metric_cells([354281.0], [3456101.0], 250), 250, crs="EPSG:32651")
    b = shapely.bounds(lonlat[0])
    assert 121.4 < b[0] < 121.5 and 31.2 < b[1] < 31.3
    with pytest.raises(GeoError, match="> 0 metres"):
        metric_cells([1.0], [1.0], 0)
    with pytest.raises(GeoError, match="out of range"):
        metric_cells([1e12], [1.0], 1.0)
