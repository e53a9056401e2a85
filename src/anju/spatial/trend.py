"""Mann–Kendall trend test, vectorised over many series (one per location of a space-time cube).

For a series ``x_1 … x_n`` the statistic is ``S = Σ_{i<j} sign(x_j − x_i)``. Under "no trend" (the values are
exchangeable) ``E[S] = 0`` and, with ``g`` groups of tied values of sizes ``t_p``,

.. math::

    \\operatorname{Var}(S) = \\frac{n(n-1)(2n+5) - \\sum_p t_p (t_p - 1)(2 t_p + 5)}{18}.

The normal approximation uses a continuity correction, ``Z = (S − sign(S)) / sqrt(Var S)`` (Gilbert 1987, eq.
16.4), and the p-value is two-sided. Counts of rare events have many ties (lots of zeros), so the tie correction
matters: without it the variance is overstated and trends are missed.

References
----------
Mann, H. B. (1945) Nonparametric tests against trend. *Econometrica* 13, 245–259. Kendall, M. G. (1975) *Rank
Correlation Methods*, 4th ed. Gilbert, R. O. (1987) *Statistical Methods for Environmental Pollution Monitoring*,
ch. 16. Hipel, K. W. & McLeod, A. I. (1994) *Time Series Modelling of Water Resources*, ch. 23.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import stats

from anju.errors import GeoError

__all__ = ["MannKendallResult", "mann_kendall"]


class MannKendallResult(NamedTuple):
    """Mann–Kendall results; arrays with one entry per series (scalars for a single series).

    ``s`` is the statistic, ``var_s`` its tie-corrected variance, ``z`` the standard normal score (positive =
    increasing), ``p`` the two-sided p-value and ``tau`` Kendall's tau-b between the values and time.
    """

    s: npt.NDArray[np.float64]
    var_s: npt.NDArray[np.float64]
    z: npt.NDArray[np.float64]
    p: npt.NDArray[np.float64]
    tau: npt.NDArray[np.float64]


def _tie_sums(x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per row: ``Σ t(t−1)(2t+5)`` and ``Σ t(t−1)/2`` over groups of tied values."""
    m, n = x.shape
    xs = np.sort(x, axis=1)
    new_run = np.ones((m, n), dtype=bool)
    new_run[:, 1:] = xs[:, 1:] != xs[:, :-1]
    flat = new_run.ravel()
    starts = np.flatnonzero(flat)
    lengths = np.diff(np.append(starts, flat.size)).astype(np.float64)
    row = starts // n
    t = lengths
    var_term = np.bincount(row, weights=t * (t - 1) * (2 * t + 5), minlength=m)
    pair_term = np.bincount(row, weights=t * (t - 1) / 2, minlength=m)
    return var_term.astype(np.float64), pair_term.astype(np.float64)


def mann_kendall(series: npt.ArrayLike, *, continuity: bool = True) -> MannKendallResult:
    """Mann–Kendall test for a monotonic trend along the last axis.

    Parameters
    ----------
    series : array, shape (n,) or (m, n)
        One series, or ``m`` series of equal length ``n ≥ 3`` in time order. Must be finite.
    continuity : bool
        Apply the ±1 continuity correction to ``S`` (default, as in most references and software).

    Returns
    -------
    MannKendallResult
        ``(s, var_s, z, p, tau)``; scalars for a 1-D input.

    Examples
    --------
    >>> r = mann_kendall([1, 2, 2, 4, 3, 6])
    >>> float(r.s), round(float(r.var_s), 3), round(float(r.z), 4), round(float(r.p), 4)
    (12.0, 27.333, 2.104, 0.0354)
    """
    x = np.asarray(series, dtype=np.float64)
    single = x.ndim == 1
    if single:
        x = x[None, :]
    if x.ndim != 2:
        raise GeoError(f"mann_kendall: expected a series (n,) or series (m, n); got shape {x.shape}.")
    m, n = x.shape
    if n < 3:
        raise GeoError(f"mann_kendall: a trend needs at least 3 time steps; got {n}.")
    if not np.isfinite(x).all():
        raise GeoError("mann_kendall: series contain NaN or infinity; fill or drop missing time steps first.")
    s = np.zeros(m)
    for lag in range(1, n):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    var_term, tie_pairs = _tie_sums(x)
    var_s = (n * (n - 1) * (2 * n + 5) - var_term) / 18.0
    num = s - np.sign(s) if continuity else s
    z = np.divide(num, np.sqrt(var_s), out=np.zeros(m), where=var_s > 0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    n0 = n * (n - 1) / 2.0
    denom = np.sqrt(n0 * (n0 - tie_pairs))
    tau = np.divide(s, denom, out=np.zeros(m), where=denom > 0)
    if single:
        return MannKendallResult(s[0], var_s[0], z[0], p[0], tau[0])
    return MannKendallResult(s, var_s, z, p, tau)
