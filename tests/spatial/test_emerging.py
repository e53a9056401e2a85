"""Emerging hot spots: the space-time Gi* against explicit space-time weights, and a cube built to produce every
one of Esri's categories."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from anju.errors import GeoError
from anju.spatial.emerging import CATEGORIES, _classify, emerging_hotspots, space_time_gi_star
from anju.spatial.gistar import gi_star, gi_star_z
from anju.spatial.weights import grid_contiguity, with_self


def _space_time_weights(W, T, k):
    """Explicit (L·T)² weights: bin (i, t) ← bins (j, τ) with W_ij ≠ 0 and t − k ≤ τ ≤ t (time-major order)."""
    L = W.shape[0]
    blocks = [[None] * T for _ in range(T)]
    Ws = with_self(W, 1.0)
    for t in range(T):
        for tau in range(T):
            blocks[t][tau] = Ws if t - k <= tau <= t else sp.csr_array((L, L))
    return sp.csr_array(sp.block_array(blocks))


@pytest.mark.parametrize("k", [0, 1, 3])
def test_cube_window_equals_gi_star_with_explicit_space_time_weights(k):
    rng = np.random.default_rng(k)
    rows, cols = np.divmod(np.arange(42), 7)
    W = grid_contiguity(rows, cols, kind="queen")
    X = rng.poisson(2.0, (42, 11)).astype(float)
    st = space_time_gi_star(X, W, time_window=k, global_window="cube")
    ref = gi_star(X.T.ravel(), _space_time_weights(W, 11, k))
    np.testing.assert_allclose(st.z, ref.z.reshape(11, 42).T, atol=1e-10)
    np.testing.assert_allclose(st.p, ref.p.reshape(11, 42).T, atol=1e-12)


def test_step_and_neighbourhood_windows_by_brute_force():
    rng = np.random.default_rng(9)
    rows, cols = np.divmod(np.arange(30), 6)
    W = grid_contiguity(rows, cols, kind="rook")
    Wd = with_self(W, 1.0).toarray()
    X = rng.poisson(3.0, (30, 8)).astype(float)
    # "step": each time slice on its own, k = 0 → ordinary Gi* of the slice
    st = space_time_gi_star(X, W, time_window=0, global_window="step")
    for t in range(8):
        np.testing.assert_allclose(st.z[:, t], gi_star(X[:, t], W).z, atol=1e-10)
    # "neighbourhood": reference values are the bins of steps t−k … t
    k = 2
    nb = space_time_gi_star(X, W, time_window=k, global_window="neighbourhood")
    for t in range(8):
        span = X[:, max(0, t - k): t + 1]
        m = span.shape[1]
        lag = Wd @ span.sum(axis=1)
        z = gi_star_z(lag, Wd.sum(axis=1) * m, (Wd**2).sum(axis=1) * m, span.mean(), span.std(), span.size)
        np.testing.assert_allclose(nb.z[:, t], z, atol=1e-10)


# --- a cube that must produce every category ---------------------------------------------------------------------
T = 20
HOT, NEUTRAL, COLD = 45.0, 20.0, 0.0
PATTERNS: dict[str, np.ndarray] = {}


def _pattern(name, values):
    PATTERNS[name] = np.asarray(values, dtype=float)


def _steps(default, **at):
    v = np.full(T, default)
    for idx, val in at.items():
        v[int(idx[1:])] = val
    return v


_pattern("no_pattern", np.full(T, NEUTRAL))
_pattern("new_hot", _steps(NEUTRAL, t19=HOT))
_pattern("consecutive_hot", np.r_[np.full(16, NEUTRAL), np.full(4, HOT)])
_pattern("intensifying_hot", 35 + 1.5 * np.arange(T))
_pattern("persistent_hot", np.full(T, HOT))
_pattern("diminishing_hot", 65 - 1.5 * np.arange(T))
_pattern("sporadic_hot", _steps(NEUTRAL, t3=HOT, t8=HOT, t12=HOT, t19=HOT))
_pattern("oscillating_hot", _steps(NEUTRAL, t5=COLD, t10=HOT, t19=HOT))
_pattern("historical_hot", np.r_[np.full(19, HOT), [NEUTRAL]])
_pattern("new_cold", _steps(NEUTRAL, t19=COLD))
_pattern("consecutive_cold", np.r_[np.full(16, NEUTRAL), np.full(4, COLD)])
_pattern("intensifying_cold", 12 - 0.6 * np.arange(T))
_pattern("persistent_cold", np.full(T, COLD))
_pattern("diminishing_cold", 0.6 * np.arange(T))
_pattern("sporadic_cold", _steps(NEUTRAL, t3=COLD, t8=COLD, t12=COLD, t19=COLD))
_pattern("oscillating_cold", _steps(NEUTRAL, t5=HOT, t10=COLD, t19=COLD))
_pattern("historical_cold", np.r_[np.full(19, COLD), [NEUTRAL]])


def _designed_cube():
    """A 40 × 40 grid of Poisson(20) background; each pattern fills a 3 × 3 block (its centre is the site)."""
    rng = np.random.default_rng(2024)
    side = 40
    X = rng.poisson(NEUTRAL, (side * side, T)).astype(float)
    sites = {}
    for s, (name, values) in enumerate(PATTERNS.items()):
        r, c = 2 + 6 * (s // 6), 2 + 6 * (s % 6)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                X[(r + dr) * side + (c + dc)] = values
        sites[name] = r * side + c
    rows, cols = np.divmod(np.arange(side * side), side)
    return X, grid_contiguity(rows, cols, kind="queen"), sites


def test_designed_cube_produces_every_category():
    X, W, sites = _designed_cube()
    df = emerging_hotspots(X, W, time_window=0)
    got = {name: df.loc[cell, "category"] for name, cell in sites.items()}
    assert got == {name: name for name in PATTERNS}
    assert set(got.values()) == {v[0] for v in CATEGORIES.values()}
    # codes and labels line up with Esri's CATEGORY numbering
    row = df.loc[sites["intensifying_hot"]]
    assert row["category_code"] == 3 and row["label_zh"] == "加剧热点"
    assert df.loc[sites["historical_cold"], "category_code"] == -8
    # trends: the z-score trend drives intensifying/diminishing; counts trend agrees in sign
    assert df.loc[sites["intensifying_hot"], "trend_z"] > 3 and df.loc[sites["diminishing_hot"], "trend_z"] < -3
    assert df.loc[sites["intensifying_hot"], "count_trend_z"] > 3
    assert df.loc[sites["persistent_hot"], "trend_p"] >= 0.05
    assert df.loc[sites["persistent_hot"], "n_hot"] == T
    # neutral background rarely becomes a pattern: background cells are Poisson noise around the mean
    background = np.ones(len(df), dtype=bool)
    background[list(sites.values())] = False
    assert (df.loc[background, "category"] == "no_pattern").mean() > 0.75


def test_classification_rules_on_hand_made_significance_series():
    T_ = 10
    H = np.zeros((6, T_), dtype=bool)
    C = np.zeros((6, T_), dtype=bool)
    H[0, 9] = True  # new hot
    H[1, 9] = True
    C[1, 2] = True  # hot only at the end but a cold past → oscillating (documented resolution)
    H[2, 7:] = True
    C[2, 0] = True  # consecutive run but a cold past → oscillating
    H[3, :9] = True  # 90 % hot, final step not hot → historical
    H[4, :9] = True
    C[4, 9] = True  # 90 % hot but final step cold → oscillating cold (the final state decides)
    H[5, 1:] = True  # 90 % hot incl. final, no trend → persistent
    code = _classify(H, C, trend_z=np.zeros(6), trend_p=np.ones(6), trend_alpha=0.05)
    assert code.tolist() == [1, 7, 7, 8, -7, 4]
    up = _classify(H[5:], C[5:], trend_z=np.array([2.5]), trend_p=np.array([0.01]), trend_alpha=0.05)
    down = _classify(H[5:], C[5:], trend_z=np.array([-2.5]), trend_p=np.array([0.01]), trend_alpha=0.05)
    assert up.tolist() == [3] and down.tolist() == [5]


def test_fdr_makes_pure_noise_patternless():
    rng = np.random.default_rng(3)
    rows, cols = np.divmod(np.arange(900), 30)
    X = rng.poisson(4.0, (900, 26)).astype(float)
    W = grid_contiguity(rows, cols)
    with_fdr = emerging_hotspots(X, W)
    without = emerging_hotspots(X, W, fdr=False)
    assert (with_fdr["category"] != "no_pattern").mean() < 0.01
    assert (without["category"] != "no_pattern").mean() > (with_fdr["category"] != "no_pattern").mean()


def test_validation():
    W = grid_contiguity([0, 0, 1], [0, 1, 0])
    with pytest.raises(GeoError, match="10"):
        emerging_hotspots(np.ones((3, 5)), W)
    with pytest.raises(GeoError):
        space_time_gi_star(np.ones((3, 12)), W, global_window="year")
    with pytest.raises(GeoError):
        space_time_gi_star(np.ones((4, 12)), W)
    with pytest.raises(GeoError):
        space_time_gi_star(np.ones((3, 12)), W, time_window=-1)
