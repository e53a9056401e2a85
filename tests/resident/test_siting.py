"""Safe-house siting: the spopt MCLP plan against brute force on small instances."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from anju.errors import AnjuError
from anju.resident.siting import night_demand, plan_sites, to_metric


def _instance(seed: int, n_dem: int = 40, n_cand: int = 9):
    rng = np.random.default_rng(seed)
    dem = pd.DataFrame({"lon": 121.40 + rng.uniform(0, 0.02, n_dem), "lat": 31.10 + rng.uniform(0, 0.02, n_dem),
                        "calls": rng.integers(1, 30, n_dem)})
    cand = pd.DataFrame({"site_id": [f"S{i}" for i in range(n_cand)],
                         "lon": 121.40 + rng.uniform(0, 0.02, n_cand), "lat": 31.10 + rng.uniform(0, 0.02, n_cand)})
    return dem, cand


def _brute(dem, cand, k, radius, existing=()):
    dx, dy = to_metric(dem.lon.to_numpy(), dem.lat.to_numpy(), ref_lon=float(dem.lon.mean()))
    fx, fy = to_metric(cand.lon.to_numpy(), cand.lat.to_numpy(), ref_lon=float(dem.lon.mean()))
    within = np.hypot(dx[:, None] - fx[None], dy[:, None] - fy[None]) <= radius
    ids = cand.site_id.tolist()
    ex = [ids.index(e) for e in existing]
    free = [j for j in range(len(ids)) if j not in ex]
    best = 0.0
    for combo in itertools.combinations(free, k):
        cov = within[:, list(combo) + ex].any(axis=1)
        best = max(best, float(dem.calls.to_numpy()[cov].sum()))
    return best


@pytest.mark.parametrize("seed", [1, 2])
def test_mclp_matches_brute_force_and_curve_is_consistent(seed):
    dem, cand = _instance(seed)
    plan = plan_sites(dem, cand, k=3, radius_m=500)
    for p in (1, 2, 3):
        row = plan.curve.iloc[p - 1]
        assert row.covered == pytest.approx(_brute(dem, cand, p, 500))
        assert len(row.sites) == p
    assert (plan.curve.gain >= -1e-9).all() and plan.curve.covered.is_monotonic_increasing
    assert plan.curve.gain.sum() == pytest.approx(plan.curve.covered.iloc[-1])
    assert plan.uncovered.calls.sum() <= plan.total - plan.curve.covered.iloc[-1] + 1e-9
    assert plan.selected == plan.curve.sites.iloc[-1]


def test_existing_sites_are_kept_and_gain_counts_only_new():
    dem, cand = _instance(3)
    plan = plan_sites(dem, cand, k=2, radius_m=500, existing=["S0"])
    assert "S0" not in plan.selected and len(plan.selected) == 2
    assert plan.curve.covered.iloc[-1] == pytest.approx(_brute(dem, cand, 2, 500, existing=["S0"]))
    assert plan.curve.gain.iloc[0] == pytest.approx(plan.curve.covered.iloc[0] - plan.covered_by_existing)


def test_bad_requests():
    dem, cand = _instance(4)
    with pytest.raises(AnjuError, match="at least 1"):
        plan_sites(dem, cand, k=0)
    with pytest.raises(AnjuError, match="free"):
        plan_sites(dem, cand, k=20)
    with pytest.raises(AnjuError, match="not among"):
        plan_sites(dem, cand, k=1, existing=["nope"])
    with pytest.raises(AnjuError, match="nothing to cover"):
        plan_sites(dem.iloc[:0], cand, k=1)


def test_night_demand_keeps_night_hours_only():
    lon = np.array([121.40, 121.40001, 121.45, 121.45, 121.46])
    lat = np.array([31.10, 31.10001, 31.12, 31.12, 31.13])
    hour = np.array([22, 1, 14, 3, 21])
    d = night_demand(lon, lat, hour)
    assert d.calls.tolist() == [2, 1] and d.calls.sum() == 3  # 14:00 and 03:00 are not night calls
