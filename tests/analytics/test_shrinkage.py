"""Empirical-Bayes Poisson–gamma shrinkage: prior fits against references, posterior behaviour."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from anju.analytics.shrinkage import eb_rates, fit_gamma_prior


def _simulate(seed: int, n: int = 300, shape: float = 3.0, mean: float = 20.0):
    rng = np.random.default_rng(seed)
    e = rng.uniform(0.2, 6.0, n)  # e.g. thousands of households
    theta = rng.gamma(shape, mean / shape, n)
    return rng.poisson(e * theta), e, theta


def test_mom_is_marshalls_estimator() -> None:
    y, e, _ = _simulate(1)
    pr = fit_gamma_prior(y, e, method="mom")
    m = y.sum() / e.sum()
    s2 = np.sum(e * (y / e - m) ** 2) / e.sum()
    v = s2 - m / e.mean()
    assert pr.mean == pytest.approx(m)
    assert pr.var == pytest.approx(v)


def test_ml_matches_statsmodels_negative_binomial() -> None:
    y, e, _ = _simulate(2)
    pr = fit_gamma_prior(y, e, method="ml")
    res = sm.NegativeBinomial(y, np.ones((len(y), 1)), exposure=e).fit(disp=0)
    mean_ref = float(np.exp(res.params[0]))
    shape_ref = 1.0 / float(res.params[1])  # NB2: var = mu + alpha mu^2, alpha = 1/shape
    assert pr.mean == pytest.approx(mean_ref, rel=1e-3)
    assert pr.alpha == pytest.approx(shape_ref, rel=1e-2)


def test_prior_recovers_truth() -> None:
    y, e, _ = _simulate(3, n=2000, shape=3.0, mean=20.0)
    for method in ("ml", "mom"):
        pr = fit_gamma_prior(y, e, method=method)
        assert pr.mean == pytest.approx(20.0, rel=0.05)
        assert pr.alpha == pytest.approx(3.0, rel=0.2)


def test_no_heterogeneity_pools_completely() -> None:
    rng = np.random.default_rng(4)
    e = rng.uniform(0.5, 2, 200)
    y = rng.poisson(10 * e)
    out = eb_rates(y, e)
    assert out["rate"].std() < 0.5  # everyone near the common rate 10
    assert out["rate"].mean() == pytest.approx(10, rel=0.1)


def test_tiny_area_cannot_top_by_chance() -> None:
    y, e, _ = _simulate(5, n=100)
    y = np.append(y, 3)  # a 30-household community with 3 thefts: raw rate 100 per 1,000
    e = np.append(e, 0.03)
    out = eb_rates(y, e)
    assert out["rate_raw"].iloc[-1] == pytest.approx(100.0)
    assert out["rate_raw"].idxmax() == len(y) - 1
    assert out["rate"].rank(ascending=False).iloc[-1] > 10
    assert out["rate_high"].iloc[-1] - out["rate_low"].iloc[-1] > 3 * np.median(out["rate_high"] - out["rate_low"])
    # shrinkage lies between the raw rate and the prior mean
    m = out.attrs["prior"]["mean"]
    lo = np.minimum(out["rate_raw"], m)
    hi = np.maximum(out["rate_raw"], m)
    assert ((out["rate"] >= lo - 1e-9) & (out["rate"] <= hi + 1e-9)).all()


def test_posterior_intervals_cover() -> None:
    covered = []
    for seed in range(10):
        y, e, theta = _simulate(100 + seed, n=200)
        out = eb_rates(y, e)
        covered.append(((theta >= out["rate_low"]) & (theta <= out["rate_high"])).mean())
    assert 0.9 < np.mean(covered) < 0.99


def test_posterior_is_gamma() -> None:
    out = eb_rates([4, 10, 0, 7], [1.0, 2.0, 0.5, 1.5], method="mom")
    pr = out.attrs["prior"]
    a, b = pr["alpha"] + 4, pr["beta"] + 1.0
    assert out["rate"].iloc[0] == pytest.approx(a / b)
    assert out["rate_low"].iloc[0] == pytest.approx(stats.gamma.ppf(0.025, a, scale=1 / b))


def test_zero_exposure_gives_nan_and_all_zero_is_fine() -> None:
    out = eb_rates([1, 2, 3], [1.0, 0.0, 2.0])
    assert np.isnan(out["rate"].iloc[1]) and np.isfinite(out["rate"].iloc[0])
    z = eb_rates([0, 0, 0], [1.0, 2.0, 3.0])
    assert (z["rate"] >= 0).all() and (z["rate_high"] > 0).all()
