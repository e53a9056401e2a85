"""Regular grids and spatial weights, checked against brute-force constructions and libpysal."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import shapely

from anju.errors import GeoError
from anju.geo.regular_grid import RegularGrid
from anju.spatial.weights import (
    distance_band,
    grid_contiguity,
    islands,
    knn_weights,
    polygon_contiguity,
    row_standardise,
    with_self,
)


def test_grid_counts_match_histogram2d():
    rng = np.random.default_rng(3)
    x = rng.uniform(1000, 5000, 20_000)
    y = rng.uniform(-2000, 1000, 20_000)
    g = RegularGrid.from_points(x, y, 150)
    assert g.x0 % 150 == 0 and g.y0 % 150 == 0
    assert g.x0 <= x.min() and g.y0 <= y.min()
    xmax, ymax = g.bounds[2], g.bounds[3]
    assert xmax > x.max() and ymax > y.max()
    counts = g.counts(x, y).ravel()
    xe = g.x0 + 150 * np.arange(g.nx + 1)
    ye = g.y0 + 150 * np.arange(g.ny + 1)
    h, _, _ = np.histogram2d(y, x, bins=[ye, xe])  # rows = y, cols = x: row-major like the grid
    np.testing.assert_array_equal(counts, h.ravel())
    assert counts.sum() == 20_000


def test_grid_index_outside_and_nan():
    g = RegularGrid(0.0, 0.0, 100.0, nx=3, ny=2)
    idx = g.locate([50, 250, 299.999, 300, -0.1, np.nan, 50], [50, 50, 199, 50, 50, 50, 150])
    assert idx.tolist() == [0, 2, 5, -1, -1, -1, 3]
    row, col = g.rowcol([0, 2, 5])
    assert row.tolist() == [0, 0, 1] and col.tolist() == [0, 2, 2]
    cx, cy = g.centres([5])
    assert (cx[0], cy[0]) == (250.0, 150.0)
    assert np.allclose(shapely.area(g.boxes()), 100 * 100)
    with pytest.raises(GeoError):
        g.centres([6])
    with pytest.raises(GeoError):
        RegularGrid(0.0, 0.0, 0.0, 1, 1)


def _brute_grid(rows, cols, kind):
    n = len(rows)
    A = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            dr, dc = abs(rows[i] - rows[j]), abs(cols[i] - cols[j])
            if i != j and dr <= 1 and dc <= 1 and (kind == "queen" or dr + dc == 1):
                A[i, j] = 1
    return A


@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_grid_contiguity_matches_brute_force_on_a_sparse_subset(kind):
    rng = np.random.default_rng(7)
    cells = rng.choice(15 * 12, size=90, replace=False)
    rows, cols = np.divmod(cells, 12)
    W = grid_contiguity(rows, cols, kind=kind)
    np.testing.assert_array_equal(W.toarray(), _brute_grid(rows, cols, kind))
    assert (W != W.T).nnz == 0


def test_grid_contiguity_full_grid_degrees_and_self_weight():
    rows, cols = np.divmod(np.arange(5 * 4), 4)
    W = grid_contiguity(rows, cols, kind="queen", self_weight=1.0)
    deg = np.asarray((W > 0).sum(axis=1)).ravel() - 1
    # corners 3, edges 5, interior 8 (queen)
    assert sorted(set(deg.tolist())) == [3, 5, 8]
    assert np.all(W.diagonal() == 1)
    with pytest.raises(GeoError):
        grid_contiguity([0, 0], [1, 1])


@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_polygon_contiguity_of_boxes_equals_grid_contiguity(kind):
    g = RegularGrid(0.0, 0.0, 1.0, nx=6, ny=5)
    boxes = g.boxes()
    Wp = polygon_contiguity(boxes, kind=kind)
    rows, cols = g.rowcol(np.arange(g.n_cells))
    np.testing.assert_array_equal(Wp.toarray(), grid_contiguity(rows, cols, kind=kind).toarray())


def test_polygon_contiguity_matches_libpysal_on_vancouver(shared_data):
    geopandas = pytest.importorskip("geopandas")
    from libpysal.weights import Queen, Rook

    gdf = geopandas.read_file(shared_data / "crimemappingdata-ashby" / "vancouver_neighbourhoods.geojson")
    geoms = gdf.geometry.to_numpy()
    for kind, builder in (("queen", Queen), ("rook", Rook)):
        ours = polygon_contiguity(geoms, kind=kind).toarray()
        theirs = builder.from_dataframe(gdf, use_index=False, silence_warnings=True).sparse.toarray()
        # libpysal matches shared vertices; real boundaries also overlap in slivers without a shared vertex.
        # Every libpysal link is ours; each extra link of ours is such an overlap (a true neighbour).
        assert np.all(ours >= theirs)
        extra_i, extra_j = np.nonzero(ours > theirs)
        assert len(extra_i) <= 4
        assert np.all(shapely.area(shapely.intersection(geoms[extra_i], geoms[extra_j])) > 0)
    assert islands(polygon_contiguity(geoms)).size == 0


def test_polygon_contiguity_tolerance_bridges_a_gap():
    a = shapely.box(0, 0, 1, 1)
    b = shapely.box(1.001, 0, 2, 1)  # 1 mm sliver
    assert polygon_contiguity([a, b]).nnz == 0
    assert polygon_contiguity([a, b], tolerance=0.01).nnz == 2


def test_distance_band_binary_and_inverse_match_brute_force():
    rng = np.random.default_rng(11)
    x, y = rng.uniform(0, 1000, 300), rng.uniform(0, 1000, 300)
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    near = (d <= 120) & ~np.eye(300, dtype=bool)
    np.testing.assert_array_equal(distance_band(x, y, 120).toarray(), near.astype(float))
    inv = distance_band(x, y, 120, binary=False, power=2).toarray()
    np.testing.assert_allclose(inv, np.where(near, 1 / np.maximum(d, 1.0) ** 2, 0), rtol=1e-12)


def test_knn_matches_brute_force_and_symmetrises():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 100, 60), rng.uniform(0, 100, 60)
    W = knn_weights(x, y, 4)
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    ref = np.zeros((60, 60))
    ref[np.repeat(np.arange(60), 4), np.argsort(d, axis=1)[:, :4].ravel()] = 1
    np.testing.assert_array_equal(W.toarray(), ref)
    Ws = knn_weights(x, y, 4, symmetric=True)
    assert (Ws != Ws.T).nnz == 0 and np.all(np.asarray(Ws.sum(axis=1)).ravel() >= 4)
    with pytest.raises(GeoError):
        knn_weights(x, y, 60)


def test_row_standardise_with_self_and_islands():
    W = grid_contiguity([0, 0, 5], [0, 1, 5])  # third cell is an island
    R = row_standardise(with_self(W, 1.0))
    np.testing.assert_allclose(np.asarray(R.sum(axis=1)).ravel(), [1, 1, 1])
    assert islands(W).tolist() == [2]
    S = with_self(W, [2.0, 3.0, 0.0])
    assert S.diagonal().tolist() == [2.0, 3.0, 0.0]
    assert isinstance(S, sp.csr_array)
