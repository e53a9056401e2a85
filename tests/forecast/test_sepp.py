"""The grid SEPP: the prefix scan, the triggering sums against O(N²) loops, parameter recovery on simulated data,
and the forecast's cascade formula against a numerical solution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.errors import ConfigError
from anju.forecast import SEPP
from anju.forecast.sepp import _pack, affine_scan
from anju.geo.regular_grid import RegularGrid

T0 = pd.Timestamp("2020-01-01")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(-5, 5)), min_size=1, max_size=70))
def test_affine_scan_matches_loop(pairs: list[tuple[float, float]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    x, ref = 0.0, []
    for ak, bk in zip(a, b, strict=True):
        x = ak * x + bk
        ref.append(x)
    np.testing.assert_allclose(affine_scan(a, b), ref, rtol=1e-9, atol=1e-9)


def brute_sums(x: np.ndarray, y: np.ndarray, t: np.ndarray, s: float, omega: float, r: int) -> tuple[np.ndarray,
                                                                                                        np.ndarray]:
    cx, cy = np.floor(x / s), np.floor(y / s)
    g = 1.0 / (2 * r + 1) ** 2
    a = np.zeros(t.size)
    b = np.zeros(t.size)
    for j in range(t.size):
        for i in range(t.size):
            if t[i] < t[j] and abs(cx[i] - cx[j]) <= r and abs(cy[i] - cy[j]) <= r:
                dt = t[j] - t[i]
                a[j] += g * np.exp(-omega * dt)
                b[j] += g * dt * np.exp(-omega * dt)
    return a, b


@pytest.mark.parametrize("r", [0, 1])
def test_triggering_sums_match_pairwise_loop(r: int) -> None:
    rng = np.random.default_rng(3)
    n = 160
    x, y = rng.uniform(0, 600, n), rng.uniform(0, 600, n)
    t = np.round(rng.uniform(0, 50, n), 1)  # rounded: many exact ties, which must not trigger each other
    m = SEPP(cell_size_m=150.0, neighbourhood=r)
    cx, cy = np.floor(x / 150.0).astype(np.int64), np.floor(y / 150.0).astype(np.int64)
    keys, u = np.unique(_pack(cx, cy), return_inverse=True)
    plan = m._scan_plan(cx, cy, u, t, keys)
    a, b = m._sums(plan, 0.3, n)
    ra, rb = brute_sums(x, y, t, 150.0, 0.3, r)
    np.testing.assert_allclose(a, ra, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, rb, rtol=1e-9, atol=1e-12)


def simulate(mu: np.ndarray, theta: float, omega: float, days: float, rng: np.random.Generator,
             size: float = 150.0) -> pd.DataFrame:
    """Grid Hawkes process by its branching structure: immigrants per cell, offspring in the parent's cell."""
    nx = int(np.ceil(np.sqrt(mu.size)))
    xs, ys, ts = [], [], []
    for c, rate in enumerate(mu):
        gen = rng.uniform(0, days, rng.poisson(rate * days))
        times = []
        while gen.size:
            times.append(gen)
            kids = rng.poisson(theta, gen.size)
            gen = np.repeat(gen, kids) + rng.exponential(1.0 / omega, kids.sum())
            gen = gen[gen < days]
        tt = np.concatenate(times) if times else np.zeros(0)
        ix, iy = c % nx, c // nx
        xs.append((ix + rng.uniform(0, 1, tt.size)) * size)
        ys.append((iy + rng.uniform(0, 1, tt.size)) * size)
        ts.append(tt)
    t = np.concatenate(ts)
    return pd.DataFrame({"x": np.concatenate(xs), "y": np.concatenate(ys),
                         "t": T0 + pd.to_timedelta(t, unit="D")})


def test_em_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    mu = rng.gamma(0.6, 0.04, 225)
    ev = simulate(mu, theta=0.45, omega=0.25, days=900.0, rng=rng)
    m = SEPP(lookback_days=None, tol=1e-7, max_iter=500).fit(ev)
    assert m.converged_
    assert m.theta_ == pytest.approx(0.45, abs=0.05)
    assert m.omega_ == pytest.approx(0.25, rel=0.15)
    # background rates of the cells line up with the truth
    g = RegularGrid.from_bounds(0, 0, 15 * 150 - 1, 15 * 150 - 1, 150.0)
    est = m.background(g).ravel()
    assert np.corrcoef(est, mu)[0, 1] > 0.95
    assert est.sum() == pytest.approx(mu.sum(), rel=0.1)


def test_poisson_data_give_no_self_excitation() -> None:
    rng = np.random.default_rng(2)
    ev = simulate(rng.gamma(1.0, 0.05, 100), theta=0.0, omega=1.0, days=600.0, rng=rng)
    m = SEPP(lookback_days=None).fit(ev)
    assert m.theta_ < 0.05


def test_forecast_cascade_formula_matches_ode() -> None:
    """∫ m(t) dt over the window against an Euler solution of m = μ + θω h, h' = μ − ω(1−θ)h… written as the
    original integral equation (a direct check of the closed form)."""
    ev = pd.DataFrame({"x": [75.0, 75.0, 75.0, 225.0], "y": [75.0] * 4,
                       "t": T0 + pd.to_timedelta([0.0, 3.0, 9.5, 1.0], unit="D")})
    m = SEPP(lookback_days=None).fit(ev)
    m.mu_ = np.array([0.3, 0.1])  # set known parameters (cells sorted by key: (0,0) then (1,0))
    m.theta_, m.omega_ = 0.6, 0.8
    g = RegularGrid.from_bounds(0, 0, 299, 149, 150.0)
    start = T0 + pd.Timedelta(days=10)
    surface = m.predict(g, (start, start + pd.Timedelta(days=3)))
    # Euler integration of the expected intensity λ(t) = μ + θω ∫ e^{−ω(t−u)} dE[N](u)
    dt = 1e-4
    ts = np.arange(0.0, 3.0, dt)
    for cell, mu, past in ((0, 0.3, [0.0, 3.0, 9.5]), (1, 0.1, [1.0])):
        excite = sum(np.exp(-0.8 * (10.0 - p)) for p in past)
        total = 0.0
        for _ in ts:
            lam = mu + 0.6 * 0.8 * excite
            total += lam * dt
            excite = excite * np.exp(-0.8 * dt) + lam * dt
        assert surface[0, cell] == pytest.approx(total, rel=1e-3)


def test_shift_integration_and_weights() -> None:
    rng = np.random.default_rng(0)
    ev = simulate(rng.gamma(1.0, 0.1, 36), theta=0.3, omega=0.5, days=200.0, rng=rng)
    g = RegularGrid.from_bounds(0, 0, 899, 899, 150.0)
    win = (T0 + pd.Timedelta(days=200), T0 + pd.Timedelta(days=207))
    full = SEPP(shift_weight=1.0).fit(ev)
    night = SEPP(shift="night", shift_weight=1.0).fit(ev)
    assert night.theta_ == full.theta_  # same fit (all events) …
    a, b = full.predict(g, win), night.predict(g, win)
    assert b.sum() < a.sum() and b.sum() == pytest.approx(a.sum() / 3.0, rel=0.05)  # … a third of the hours


def test_date_only_data_are_refused_clearly() -> None:
    """Date-only data (every event at midnight) cannot identify self-excitation: refuse, naming the alternatives."""
    rng = np.random.default_rng(2)
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, 500), unit="D")
    ev = pd.DataFrame({"x": rng.uniform(0, 1500, 500), "y": rng.uniform(0, 1500, 500), "t": t})
    with pytest.raises(ConfigError, match="dates only") as err:
        SEPP().fit(ev)
    assert "只有日期" in str(err.value) and "retrospective" in str(err.value)
    timed = ev.assign(t=ev["t"] + pd.to_timedelta(rng.uniform(0, 86_399, 500), unit="s"))
    assert SEPP().fit(timed).n_iter_ >= 1  # the same events with times of day fit


def test_the_fit_is_the_fixed_point_whatever_the_start() -> None:
    """EM stops at the fixed point of its update, not where the likelihood's change first looks small: different
    starting values give the same θ and ω."""
    rng = np.random.default_rng(7)
    ev = simulate(rng.gamma(1.0, 0.02, 150), theta=0.3, omega=0.5, days=400.0, rng=rng)
    fits = [SEPP(lookback_days=None, max_iter=2000, tol=1e-7, theta_init=th, omega_init=om).fit(ev)
            for th, om in ((0.5, 0.1), (0.1, 1.0), (0.9, 3.0))]
    assert all(f.converged_ for f in fits)
    for f in fits[1:]:
        assert f.theta_ == pytest.approx(fits[0].theta_, rel=1e-3)
        assert f.omega_ == pytest.approx(fits[0].omega_, rel=1e-3)
