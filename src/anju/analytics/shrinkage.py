"""Empirical-Bayes Poisson–gamma shrinkage of area rates (Clayton & Kaldor 1987; Marshall 1991).

Model: the count of area ``i`` is ``y_i ~ Poisson(E_i θ_i)`` with exposure ``E_i`` (e.g. households / 1,000) and
an area rate ``θ_i ~ Gamma(α, β)`` (shape α, rate β; mean α/β, variance α/β²) shared by all areas. The posterior is
``θ_i | y_i ~ Gamma(α + y_i, β + E_i)``: its mean ``(α + y_i) / (β + E_i)`` pulls a small area's raw rate
``y_i / E_i`` towards the overall rate, and its 95 % interval is wide when ``E_i`` is small — so a 30-household
community with 2 burglaries cannot top a list by chance. The prior is fitted from all areas ("empirical" Bayes):

- ``method="ml"`` (default): marginal maximum likelihood of the negative-binomial marginal of ``y_i``
  (Clayton & Kaldor 1987), started from the moment estimate;
- ``method="mom"``: Marshall's (1991) global method-of-moments estimator.

See ``docs/methods/shrinkage.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from anju.analytics._common import AnalyticsError

__all__ = ["GammaPrior", "eb_rates", "fit_gamma_prior"]

PriorMethod = Literal["ml", "mom"]

_MAX_SHAPE = 1e7  # "no detectable heterogeneity": every area gets (almost) the overall rate


@dataclass(frozen=True)
class GammaPrior:
    """Gamma prior of area rates: shape ``alpha``, rate ``beta``; ``mean = alpha/beta``, ``var = alpha/beta²``."""

    alpha: float
    beta: float
    method: str

    @property
    def mean(self) -> float:
        return self.alpha / self.beta

    @property
    def var(self) -> float:
        return self.alpha / self.beta**2

    def to_dict(self) -> dict[str, float | str]:
        return {"alpha": self.alpha, "beta": self.beta, "mean": self.mean, "var": self.var, "method": self.method}


def _check(y: ArrayLike, e: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    yy = np.asarray(y, dtype=float)
    ee = np.asarray(e, dtype=float)
    if yy.shape != ee.shape:
        raise AnalyticsError(f"counts and exposures differ in length ({yy.shape} vs {ee.shape})")
    if np.any(yy < 0) or np.any(np.isnan(yy)):
        raise AnalyticsError("counts must be non-negative numbers without NaN")
    return yy, ee


def _mom(y: NDArray[np.float64], e: NDArray[np.float64]) -> tuple[float, float]:
    """Marshall (1991): mean m = Σy/ΣE; between-area variance s² − m/Ē (floored)."""
    m = y.sum() / e.sum()
    r = y / e
    s2 = float(np.sum(e * (r - m) ** 2) / e.sum())
    v = s2 - m / e.mean()
    return float(m), float(v)


def fit_gamma_prior(y: ArrayLike, exposure: ArrayLike, *, method: PriorMethod = "ml") -> GammaPrior:
    """Fit the gamma prior of the rates from all areas' counts ``y`` and exposures.

    Areas with zero or missing exposure are ignored. When the data show no extra-Poisson variation the shape is
    capped at 10⁷ (complete pooling: every area gets the overall rate, as it should). With no events at all the
    prior is the Jeffreys-like ``Gamma(0.5, 0.5 / (0.5 / ΣE))`` so intervals stay honest.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> e = rng.uniform(0.5, 5, 400); theta = rng.gamma(4.0, 1 / 2.0, 400)  # mean 2, var 1
    >>> pr = fit_gamma_prior(rng.poisson(e * theta), e)
    >>> round(pr.mean, 1), 0.5 < pr.var < 2.0
    (1.9, True)
    """
    from scipy import optimize, special  # SciPy on first use: the deployment's loaders import this module

    yy, ee = _check(y, exposure)
    ok = np.isfinite(ee) & (ee > 0)
    yy, ee = yy[ok], ee[ok]
    if len(yy) == 0:
        raise AnalyticsError("no area has a positive exposure (population/households); cannot fit a prior")
    if yy.sum() == 0:
        return GammaPrior(0.5, 0.5 / (0.5 / ee.sum()), method)
    m, v = _mom(yy, ee)
    floor = m**2 / _MAX_SHAPE
    v = max(v, floor)
    a0, b0 = m * m / v, m / v
    if method == "mom":
        return GammaPrior(float(a0), float(b0), "mom")
    if method != "ml":
        raise AnalyticsError(f"prior method must be 'ml' or 'mom'; got {method!r}")
    if len(yy) < 3:
        return GammaPrior(float(a0), float(b0), "mom")

    # Negative-binomial marginal likelihood, profiled: for a shape α the ML mean solves
    # Σ (y_i − m E_i) / (α + m E_i) = 0 (decreasing in m, one root); Brent's method then maximises over log α.
    # Scalar root finding and bounded Brent avoid BLAS-threaded optimisers, which crawl on a loaded machine.
    lgy = special.gammaln(yy + 1)

    def mean_for(a: float) -> float:
        def h(mm: float) -> float:
            return float(np.sum((yy - mm * ee) / (a + mm * ee)))

        lo, hi = m / 2, m * 2
        while h(lo) < 0:
            lo /= 4
        while h(hi) > 0:
            hi *= 4
        return float(optimize.brentq(h, lo, hi, xtol=1e-12 * m, rtol=1e-12))

    def nll(la: float) -> float:
        a = float(np.exp(la))
        mu = mean_for(a) * ee
        ll = (special.gammaln(a + yy) - special.gammaln(a) - lgy + a * np.log(a / (a + mu))
              + yy * np.log(np.where(yy > 0, mu / (a + mu), 1.0)))
        return float(-ll.sum())

    bounds = (np.log(1e-4), np.log(_MAX_SHAPE))
    res = optimize.minimize_scalar(nll, bounds=bounds, method="bounded", options={"xatol": 1e-6})
    if not np.isfinite(res.fun):
        return GammaPrior(float(a0), float(b0), "mom")
    a = float(np.exp(res.x))
    return GammaPrior(a, a / mean_for(a), "ml")


def eb_rates(
    y: ArrayLike,
    exposure: ArrayLike,
    *,
    method: PriorMethod = "ml",
    level: float = 0.95,
    prior: GammaPrior | None = None,
) -> pd.DataFrame:
    """Shrunk rates with posterior intervals for every area.

    Parameters
    ----------
    y : array_like
        Counts per area.
    exposure : array_like
        Exposure per area in the rate's unit (e.g. households / 1,000 → rate per 1,000 households).
    method : {"ml", "mom"}
        How to fit the prior (ignored when ``prior`` is given).
    level : float
        Posterior interval level.
    prior : GammaPrior, optional
        A prior fitted elsewhere.

    Returns
    -------
    pandas.DataFrame
        ``rate_raw`` (y/E), ``rate`` (posterior mean), ``rate_low``, ``rate_high`` (equal-tailed posterior
        interval), ``weight`` (E/(E+β): how much the area's own data count). NaN where the exposure is not positive.
        ``.attrs["prior"]`` holds the prior.

    Examples
    --------
    >>> out = eb_rates([2, 40, 30, 35], [0.03, 1.0, 0.9, 1.1], method="mom")
    >>> bool(out.loc[0, "rate_raw"] > out.loc[1, "rate_raw"]), bool(out.loc[0, "rate"] < out.loc[1, "rate"])
    (True, True)
    """
    from scipy import stats

    yy, ee = _check(y, exposure)
    pr = prior if prior is not None else fit_gamma_prior(yy, ee, method=method)
    ok = np.isfinite(ee) & (ee > 0)
    a_post = pr.alpha + yy
    b_post = pr.beta + np.where(ok, ee, 0.0)
    q = (1 - level) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(ok, yy / np.where(ok, ee, 1.0), np.nan)
        mean = np.where(ok, a_post / b_post, np.nan)
        low = np.where(ok, stats.gamma.ppf(q, a_post, scale=1 / b_post), np.nan)
        high = np.where(ok, stats.gamma.ppf(1 - q, a_post, scale=1 / b_post), np.nan)
        weight = np.where(ok, ee / (ee + pr.beta), np.nan)
    out = pd.DataFrame({"rate_raw": raw, "rate": mean, "rate_low": low, "rate_high": high, "weight": weight})
    out.attrs["prior"] = pr.to_dict()
    return out
