"""The one regular metric grid (anju.geo.regular_grid): numbering, masks, geometry, and the layering of anju.geo."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import shapely
from scipy import ndimage

from anju.errors import GeoError
from anju.geo.grid import cell_indices, metric_cells
from anju.geo.regular_grid import MAX_CELLS, RegularGrid


def test_cell_ids_centres_and_counts_share_one_order() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-730.0, 1234.0, 4000), rng.uniform(50.0, 987.0, 4000)
    g = RegularGrid.from_points(x, y, 100.0)
    ids = g.locate(x, y)
    assert (ids >= 0).all()
    # independent reference: floor of the coordinates relative to the snapped origin
    ix = np.floor(x / 100.0).astype(int) - round(g.x0 / 100.0)
    iy = np.floor(y / 100.0).astype(int) - round(g.y0 / 100.0)
    np.testing.assert_array_equal(ids, iy * g.nx + ix)
    row, col = g.rowcol(ids)
    np.testing.assert_array_equal(row, iy)
    np.testing.assert_array_equal(col, ix)
    # each point lies in the box around its cell's centre
    cx, cy = g.centres(ids)
    assert (np.abs(x - cx) <= 50.0).all() and (np.abs(y - cy) <= 50.0).all()
    # the flat counts are a bincount of the ids; the surface is their row-major reshape
    surface = g.counts(x, y)
    assert surface.shape == g.shape == (g.ny, g.nx)
    np.testing.assert_array_equal(surface.ravel(), np.bincount(ids, minlength=g.n_cells))
    # all centres, flat, match the centres of cells 0 … n-1, and reshape to the surface layout
    ax, ay = g.centres()
    bx, by = g.centres(np.arange(g.n_cells))
    np.testing.assert_array_equal(ax, bx)
    np.testing.assert_array_equal(ay, by)
    assert (np.diff(ax.reshape(g.shape), axis=1) > 0).all() and (np.diff(ay.reshape(g.shape), axis=0) > 0).all()


def test_locate_matches_metric_cells_with_origin() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.uniform(350_000, 352_000, 500), rng.uniform(3_450_000, 3_451_500, 500)
    g = RegularGrid.from_points(x, y, 250.0)
    mix, miy = cell_indices(metric_cells(x, y, 250.0, origin=(g.x0, g.y0)))
    np.testing.assert_array_equal(g.locate(x, y), miy * g.nx + mix)


def test_nan_and_outside_points_and_weights() -> None:
    g = RegularGrid(0.0, 0.0, 10.0, 2, 2)
    x = np.array([5.0, np.nan, 25.0, 15.0, -0.001, np.inf])
    y = np.array([5.0, 5.0, 5.0, 15.0, 5.0, 5.0])
    assert g.locate(x, y).tolist() == [0, -1, -1, 3, -1, -1]
    w = np.array([2.0, 9.0, 9.0, 0.5, 9.0, 9.0])
    assert g.counts(x, y, w).tolist() == [[2.0, 0.0], [0.0, 0.5]]


def test_occupied_mask_equals_dilated_occupancy() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 3000, 60), rng.uniform(0, 2000, 60)
    g = RegularGrid.from_points(x, y, 150.0, mask="occupied", dilate=2)
    occ = np.zeros(g.shape, bool)
    r, c = g.rowcol(g.locate(x, y))
    occ[r, c] = True
    np.testing.assert_array_equal(g.mask, ndimage.binary_dilation(occ, iterations=2))
    assert g.n_active == int(g.mask.sum()) and g.area_m2 == g.n_active * 150.0**2
    assert not g.mask.flags.writeable  # a grid's study area cannot be changed behind its back
    with pytest.raises(GeoError, match="'all' or 'occupied'"):
        RegularGrid.from_points(x, y, 150.0, mask="inside")
    with pytest.raises(GeoError, match="no point has finite"):
        RegularGrid.from_points([np.nan], [1.0], 150.0)


def test_rings_and_boxes_cover_the_same_squares() -> None:
    g = RegularGrid(-300.0, 600.0, 150.0, 4, 3)
    cells = np.array([0, 5, 11])
    rings = g.rings(cells)
    boxes = g.boxes(cells)
    for ring, box in zip(rings, boxes, strict=True):
        assert ring[0] == ring[-1] and len(ring) == 5
        assert shapely.equals(shapely.Polygon(ring), box)
        assert shapely.area(box) == pytest.approx(150.0**2)
    assert rings[1][0] == (-300.0 + 150.0, 600.0 + 150.0)  # cell 5 = row 1, col 1: its SW corner
    assert g.bounds == (-300.0, 600.0, 300.0, 1050.0)


def test_to_frame_uses_the_mask_and_centres() -> None:
    mask = np.array([[True, False, True], [True, True, False]])
    g = RegularGrid(0.0, 0.0, 10.0, 3, 2, mask)
    s = np.array([[1.0, 9.0, 2.0], [0.0, 4.0, 3.0]])
    df = g.to_frame(s)
    assert df["cell_id"].tolist() == [4, 2, 0, 3]  # by risk; masked-out cells 1 and 5 are left out
    assert df["x"].tolist() == [15.0, 25.0, 5.0, 5.0] and df["y"].tolist() == [15.0, 5.0, 5.0, 15.0]
    assert len(g.to_frame(s, active_only=False)) == 6
    with pytest.raises(GeoError, match="shape"):
        g.to_frame(s.T)


def test_restrict_to_and_equality() -> None:
    g = RegularGrid.from_bounds(0, 0, 299, 299, 100.0)
    tri = g.restrict_to(shapely.Polygon([(0, 0), (300, 0), (0, 300)]))
    assert tri.mask.tolist() == [[True, True, False], [True, False, False], [False, False, False]]
    assert tri == g.with_mask(tri.mask) and hash(tri) == hash(g)
    assert tri != g  # same cells, different study area
    assert RegularGrid(0.0, 0.0, 100.0, 3, 3) == g and len({g, RegularGrid(0.0, 0.0, 100.0, 3, 3)}) == 1


def test_validation() -> None:
    with pytest.raises(GeoError, match="cell_size"):
        RegularGrid(0.0, 0.0, float("nan"), 1, 1)
    with pytest.raises(GeoError, match="at least one"):
        RegularGrid(0.0, 0.0, 1.0, 0, 3)
    with pytest.raises(GeoError, match="too large"):
        RegularGrid(0.0, 0.0, 1.0, MAX_CELLS, 2)
    with pytest.raises(GeoError, match="min ≤ max"):
        RegularGrid.from_bounds(10, 0, 0, 10, 1.0)
    with pytest.raises(GeoError, match="cell ids"):
        RegularGrid(0.0, 0.0, 1.0, 2, 2).centres([4])


def test_geo_does_not_import_forecast_or_spatial() -> None:
    code = (
        "import sys, anju.geo.regular_grid, anju.geo.grid, anju.geo.areas; "
        "print(sorted(m for m in sys.modules if m.startswith(('anju.forecast', 'anju.spatial'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
