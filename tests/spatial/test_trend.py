"""Mann–Kendall: a hand-worked case, scipy's Kendall tau, ties, and vectorisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from anju.errors import GeoError
from anju.spatial.trend import mann_kendall


def test_hand_worked_series_with_a_tie():
    x = [1, 2, 2, 4, 3, 6]
    # pairs (i<j): signs of x_j - x_i
    # from 1: +,+,+,+,+ = 5; from 2: 0,+,+,+ = 3; from 2: +,+,+ = 3; from 4: -,+ = 0; from 3: + = 1 → S = 12
    # Var = [6·5·17 − 2·1·9] / 18 = (510 − 18) / 18 = 27.333…
    r = mann_kendall(x)
    assert r.s == 12
    assert r.var_s == pytest.approx(492 / 18)
    assert r.z == pytest.approx((12 - 1) / np.sqrt(492 / 18))
    assert r.p == pytest.approx(2 * stats.norm.sf((12 - 1) / np.sqrt(492 / 18)))


def test_matches_scipy_kendalltau_without_continuity_correction():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(8, 60))
        x = rng.poisson(2, n) + np.arange(n) * rng.uniform(-0.1, 0.1)  # many ties, some trends
        r = mann_kendall(x, continuity=False)
        ref = stats.kendalltau(np.arange(n), x, method="asymptotic")
        assert r.tau == pytest.approx(ref.statistic, abs=1e-12)
        assert r.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_vectorised_rows_equal_one_by_one_and_brute_force_s():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, size=(50, 20)).astype(float)
    r = mann_kendall(X)
    for i in range(0, 50, 7):
        one = mann_kendall(X[i])
        assert (r.s[i], r.var_s[i], r.z[i], r.p[i]) == pytest.approx((one.s, one.var_s, one.z, one.p))
        s = sum(np.sign(X[i, b] - X[i, a]) for a in range(20) for b in range(a + 1, 20))
        assert r.s[i] == s
        _, t = np.unique(X[i], return_counts=True)
        assert r.var_s[i] == pytest.approx((20 * 19 * 45 - (t * (t - 1) * (2 * t + 5)).sum()) / 18)


def test_trends_detected_and_constant_series():
    up = mann_kendall(np.arange(20) + np.sin(np.arange(20)))
    assert up.z > 3 and up.p < 0.01 and up.tau > 0.7
    down = mann_kendall(-np.arange(20.0))
    assert down.z < -3 and down.tau == pytest.approx(-1.0)
    flat = mann_kendall(np.zeros(12))
    assert flat.s == 0 and flat.z == 0 and flat.p == 1.0


def test_validation():
    with pytest.raises(GeoError):
        mann_kendall([1.0, 2.0])
    with pytest.raises(GeoError):
        mann_kendall([1.0, np.nan, 2.0, 3.0])
    with pytest.raises(GeoError):
        mann_kendall(np.zeros((2, 3, 4)))
