"""Getis-Ord Gi*: against PySAL's esda, against the Ord & Getis formula written out by hand, FDR and bins."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from anju.errors import GeoError
from anju.geo.regular_grid import RegularGrid
from anju.spatial.gistar import confidence_bins, fdr_bh, gi_star, grid_hotspots
from anju.spatial.weights import (
    distance_band,
    grid_contiguity,
    polygon_contiguity,
    row_standardise,
    with_self,
)

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")


def _esda_gstar(y, W, **kw):
    """esda's Gi* with binary weights; esda puts 1 on the (empty) diagonal itself for transform='B'."""
    w = libpysal.weights.WSP(sp.csr_matrix(W)).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(np.asarray(y, dtype=float), w, transform="B", star=True, **kw)


def test_matches_esda_on_grid_queen_counts():
    rng = np.random.default_rng(0)
    rows, cols = np.divmod(np.arange(30 * 25), 25)
    W = grid_contiguity(rows, cols, kind="queen")
    y = rng.poisson(2.5, rows.size).astype(float)
    y[rows * 25 + cols < 40] += 6  # some structure
    ours = gi_star(y, W)
    ref = _esda_gstar(y, W, permutations=0)
    np.testing.assert_allclose(ours.z, ref.Zs, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.gi, ref.Gs, rtol=1e-12)
    np.testing.assert_allclose(ours.expected, ref.EGs, rtol=1e-12)
    # esda's p_norm is one-sided; ours is two-sided
    np.testing.assert_allclose(ours.p, 2 * ref.p_norm, rtol=1e-9, atol=1e-15)


def test_matches_esda_on_distance_band_points():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 3000, 800), rng.uniform(0, 3000, 800)
    v = rng.gamma(2.0, 3.0, 800) + 5 * np.exp(-((x - 1000) ** 2 + (y - 2000) ** 2) / 4e5)
    W = distance_band(x, y, 250)
    np.testing.assert_allclose(gi_star(v, W).z, _esda_gstar(v, W, permutations=0).Zs, atol=1e-6, rtol=0)


def test_matches_esda_on_vancouver_neighbourhood_polygons(shared_data):
    geopandas = pytest.importorskip("geopandas")
    import pandas as pd
    import shapely

    base = shared_data / "crimemappingdata-ashby"
    gdf = geopandas.read_file(base / "vancouver_neighbourhoods.geojson").to_crs(26910)
    thefts = pd.read_csv(base / "vancouver_thefts.csv.gz")
    geoms = gdf.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pts = shapely.points(thefts["X"].to_numpy(), thefts["Y"].to_numpy())
    hit = tree.query(pts, predicate="within")
    counts = np.bincount(hit[1], minlength=len(geoms)).astype(float)
    assert counts.sum() > 0.95 * len(thefts)  # the UTM coordinates land in the neighbourhoods
    W = polygon_contiguity(geoms, kind="queen")
    np.testing.assert_allclose(gi_star(counts, W).z, _esda_gstar(counts, W, permutations=0).Zs, atol=1e-6, rtol=0)


def _gi_star_by_hand(x, Wd):
    """Ord & Getis (1995) eq. 8–9 with an explicit loop, for any weights (Wd dense, diagonal = self weight)."""
    n = len(x)
    xbar = x.mean()
    s = np.sqrt((x**2).mean() - xbar**2)
    z = np.empty(n)
    for i in range(n):
        w = Wd[i]
        z[i] = (w @ x - xbar * w.sum()) / (s * np.sqrt((n * (w**2).sum() - w.sum() ** 2) / (n - 1)))
    return z


def test_general_weights_match_the_formula_and_row_scaling_changes_nothing():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1000, 200), rng.uniform(0, 1000, 200)
    v = rng.poisson(3, 200).astype(float)
    W = with_self(distance_band(x, y, 200, binary=False, power=1.0), 0.02)
    z = gi_star(v, W).z
    np.testing.assert_allclose(z, _gi_star_by_hand(v, W.toarray()), rtol=1e-10, atol=1e-12)
    # Esri notes row standardisation has no effect on Gi*: the z-score is invariant to scaling a row
    np.testing.assert_allclose(gi_star(v, row_standardise(W)).z, z, rtol=1e-9, atol=1e-12)


def test_self_weight_is_added_only_to_an_empty_diagonal():
    rows, cols = np.divmod(np.arange(36), 6)
    W = grid_contiguity(rows, cols)
    v = np.arange(36, dtype=float) % 7
    np.testing.assert_allclose(gi_star(v, W).z, gi_star(v, with_self(W, 1.0)).z)
    assert not np.allclose(gi_star(v, W).z, gi_star(v, with_self(W, 3.0)).z)


def test_permutation_p_values_agree_with_esda_within_monte_carlo_error():
    rng = np.random.default_rng(4)
    rows, cols = np.divmod(np.arange(20 * 20), 20)
    W = grid_contiguity(rows, cols)
    y = rng.gamma(2.0, size=400)  # continuous: no ties, so esda's and our tie rules coincide
    y[[21, 22, 41, 42]] += 6
    ours = gi_star(y, W, permutations=999, seed=1)
    ref = _esda_gstar(y, W, permutations=999, seed=2)
    assert ours.p_sim is not None
    theirs = np.minimum(1.0, 2 * ref.p_sim)  # esda's folded one-sided → two-sided
    diff = np.abs(ours.p_sim - theirs)
    assert diff.mean() < 0.05 and diff.max() < 0.2
    assert ours.p_sim[[21, 22, 41, 42]].max() <= 0.01
    # reproducible with a seed, and the pseudo p agrees with the normal p in rank
    again = gi_star(y, W, permutations=999, seed=1)
    np.testing.assert_array_equal(ours.p_sim, again.p_sim)
    assert stats.spearmanr(ours.p, ours.p_sim).statistic > 0.8
    assert ours.p_sim.min() >= 2 / 1000


def test_fdr_bh_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=900), rng.uniform(0, 0.003, size=100)])
    rng.shuffle(p)
    for alpha in (0.01, 0.05, 0.1):
        np.testing.assert_array_equal(fdr_bh(p, alpha), multipletests(p, alpha, method="fdr_bh")[0])
    p_nan = p.copy()
    p_nan[:5] = np.nan
    np.testing.assert_array_equal(fdr_bh(p_nan, 0.05)[5:], multipletests(p[5:], 0.05, method="fdr_bh")[0])
    assert not fdr_bh(p_nan, 0.05)[:5].any()
    with pytest.raises(GeoError):
        fdr_bh(p, 1.5)


def test_confidence_bins_thresholds_and_fdr_nesting():
    z = np.array([3.0, 2.0, 1.7, 1.0, -1.7, -2.0, -3.0])
    p = 2 * stats.norm.sf(np.abs(z))
    assert confidence_bins(z, p, fdr=False).tolist() == [3, 2, 1, 0, -1, -2, -3]
    rng = np.random.default_rng(6)
    zz = rng.normal(size=5000)
    pp = 2 * stats.norm.sf(np.abs(zz))
    raw = confidence_bins(zz, pp, fdr=False)
    adj = confidence_bins(zz, pp, fdr=True)
    assert 0.07 < np.mean(raw != 0) < 0.13  # ~10 % false hot/cold spots without correction
    assert np.mean(adj != 0) < 0.005  # FDR removes nearly all of them under the null
    assert np.all(np.abs(adj) <= np.abs(raw))


def test_grid_hotspots_finds_a_planted_cluster_and_respects_a_mask():
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 6000, 20_000)
    y = rng.uniform(0, 6000, 20_000)
    hx = rng.normal(4500, 120, 1500)
    hy = rng.normal(1500, 120, 1500)
    g, df = grid_hotspots(np.r_[x, hx], np.r_[y, hy], cell=150)
    centre = g.locate([4500], [1500])[0]
    assert df.set_index("cell").loc[centre, "bin"] == 3
    hot = df[df["bin"] == 3]
    assert np.hypot(hot["cx"] - 4500, hot["cy"] - 1500).max() < 600
    assert (df["bin"] > 0).sum() < 60
    # distance weights give the same hot centre
    _, dd = grid_hotspots(np.r_[x, hx], np.r_[y, hy], grid=g, weights="distance", distance=320)
    assert dd.set_index("cell").loc[centre, "bin"] == 3
    # a mask drops cells from the analysis entirely
    mask = np.zeros(g.n_cells, dtype=bool)
    mask[: g.n_cells // 2] = True
    _, dm = grid_hotspots(np.r_[x, hx], np.r_[y, hy], grid=g, mask=mask)
    assert len(dm) == g.n_cells // 2 and dm["cell"].max() < g.n_cells // 2
    with pytest.raises(GeoError):
        grid_hotspots(x, y, grid=g, weights="distance")


def test_input_validation():
    W = grid_contiguity([0, 0, 1], [0, 1, 0])
    with pytest.raises(GeoError, match="4 × 4"):
        gi_star(np.ones(4), W)
    with pytest.raises(GeoError, match="NaN"):
        gi_star(np.array([1.0, np.nan, 2.0]), W)
    z = gi_star(np.ones(3), W).z  # constant values: no evidence of clustering
    assert np.all(z == 0)
    g = RegularGrid(0.0, 0.0, 10.0, 3, 3)
    with pytest.raises(GeoError):
        grid_hotspots([1.0], [1.0], grid=g, weights="hexagon")
