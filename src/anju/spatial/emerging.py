"""Emerging hot spot analysis: space-time Gi*, Mann–Kendall trends and Esri's sixteen (+1) pattern categories.

Steps (Esri, ArcGIS Pro "How Emerging Hot Spot Analysis works"):

1. **Space-time Gi\\*** per bin of the cube (location ``i`` × step ``t``): the neighbourhood of a bin is the bins of
   its spatial neighbours (and itself) in the same step and in the previous ``time_window`` steps. The reference
   mean and standard deviation come from the *global window*: the entire cube (Esri's default), the bin's own time
   step, or its neighbourhood time span.
2. Each bin is a significant hot (cold) spot when its Gi* p-value passes ``alpha`` after Benjamini–Hochberg FDR
   correction over all bins of the cube, and ``z > 0`` (``z < 0``).
3. **Mann–Kendall** trend test on each location's series of Gi* z-scores (the intensity of clustering) and, for
   reporting, of its counts.
4. Each location gets one category; see ``docs/methods/emerging-hotspots.md`` for the definitions and for how the
   cases where Esri's published definitions overlap are resolved.

Category codes follow Esri's ``CATEGORY`` field: 1 new, 2 consecutive, 3 intensifying, 4 persistent,
5 diminishing, 6 sporadic, 7 oscillating, 8 historical; negative for the cold-spot versions; 0 no pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from anju.errors import GeoError
from anju.spatial.gistar import fdr_bh, gi_star_z
from anju.spatial.trend import mann_kendall
from anju.spatial.weights import with_self

__all__ = ["CATEGORIES", "SpaceTimeGiStar", "emerging_hotspots", "space_time_gi_star"]

#: code → (name, 中文, English) for every category.
CATEGORIES: dict[int, tuple[str, str, str]] = {
    0: ("no_pattern", "未见模式", "No pattern detected"),
    1: ("new_hot", "新增热点", "New hot spot"),
    2: ("consecutive_hot", "连续热点", "Consecutive hot spot"),
    3: ("intensifying_hot", "加剧热点", "Intensifying hot spot"),
    4: ("persistent_hot", "持续热点", "Persistent hot spot"),
    5: ("diminishing_hot", "减弱热点", "Diminishing hot spot"),
    6: ("sporadic_hot", "零星热点", "Sporadic hot spot"),
    7: ("oscillating_hot", "振荡热点", "Oscillating hot spot"),
    8: ("historical_hot", "历史热点", "Historical hot spot"),
    -1: ("new_cold", "新增冷点", "New cold spot"),
    -2: ("consecutive_cold", "连续冷点", "Consecutive cold spot"),
    -3: ("intensifying_cold", "加剧冷点", "Intensifying cold spot"),
    -4: ("persistent_cold", "持续冷点", "Persistent cold spot"),
    -5: ("diminishing_cold", "减弱冷点", "Diminishing cold spot"),
    -6: ("sporadic_cold", "零星冷点", "Sporadic cold spot"),
    -7: ("oscillating_cold", "振荡冷点", "Oscillating cold spot"),
    -8: ("historical_cold", "历史冷点", "Historical cold spot"),
}

_GLOBAL_WINDOWS = ("cube", "step", "neighbourhood")


@dataclass(frozen=True)
class SpaceTimeGiStar:
    """Per-bin results of :func:`space_time_gi_star`: arrays of shape (n_locations, n_steps)."""

    z: npt.NDArray[np.float64]
    p: npt.NDArray[np.float64]


def space_time_gi_star(
    counts: npt.ArrayLike,
    W: sp.sparray | sp.spmatrix,
    *,
    time_window: int = 1,
    global_window: str = "cube",
    self_weight: float = 1.0,
) -> SpaceTimeGiStar:
    """Gi* z-scores and two-sided p-values for every bin of a space-time cube.

    Parameters
    ----------
    counts : array (n_locations, n_steps)
        Values per location and time step, time in order.
    W : sparse (n_locations, n_locations)
        Spatial weights; ``self_weight`` is put on an empty diagonal (a bin is its own neighbour).
    time_window : int
        Number of previous time steps in the neighbourhood (Esri's "Neighborhood Time Step"; 0 = same step only).
    global_window : {"cube", "step", "neighbourhood"}
        Which bins give the reference mean and standard deviation: the entire cube (default, as Esri), the bin's
        time step, or the steps of its neighbourhood.

    Notes
    -----
    Equivalent to :func:`anju.spatial.gistar.gi_star` on the flattened cube with the space-time weights
    ``W_st[(i,t),(j,τ)] = W_ij`` for ``t − time_window ≤ τ ≤ t`` (checked in the tests), computed without building
    that matrix: one sparse product and a running sum over time.
    """
    X = np.asarray(counts, dtype=np.float64)
    if X.ndim != 2:
        raise GeoError(f"space_time_gi_star: counts must be (n_locations, n_steps); got shape {X.shape}.")
    if not np.isfinite(X).all():
        raise GeoError("space_time_gi_star: counts contain NaN or infinity; fill empty bins with 0.")
    L, T = X.shape
    Wc = sp.csr_array(W, dtype=np.float64)
    if Wc.shape != (L, L):
        raise GeoError(f"space_time_gi_star: weights must be {L} × {L} to match the cube; got {Wc.shape}.")
    if not (isinstance(time_window, int | np.integer) and time_window >= 0):
        raise GeoError(f"space_time_gi_star: time_window must be an integer ≥ 0; got {time_window!r}.")
    if global_window not in _GLOBAL_WINDOWS:
        raise GeoError(f"space_time_gi_star: global_window must be one of {_GLOBAL_WINDOWS}; got {global_window!r}.")
    if self_weight and not Wc.diagonal().any():
        Wc = with_self(Wc, self_weight)
    k = int(time_window)
    WX = np.asarray(Wc @ X)
    csum = np.concatenate([np.zeros((L, 1)), np.cumsum(WX, axis=1)], axis=1)
    t = np.arange(T)
    lo = np.maximum(0, t - k)
    lag = csum[:, t + 1] - csum[:, lo]
    m = (t - lo + 1).astype(np.float64)  # steps in each neighbourhood
    sum_w = np.asarray(Wc.sum(axis=1)).ravel()[:, None] * m[None, :]
    sum_w2 = np.asarray(Wc.power(2).sum(axis=1)).ravel()[:, None] * m[None, :]
    s1 = X.sum(axis=0)
    s2 = (X * X).sum(axis=0)
    if global_window == "cube":
        n: float | npt.NDArray[np.float64] = float(L * T)
        mean: float | npt.NDArray[np.float64] = s1.sum() / n
        msq: float | npt.NDArray[np.float64] = s2.sum() / n
    elif global_window == "step":
        n = np.full(T, float(L))
        mean, msq = s1 / L, s2 / L
    else:
        c1 = np.concatenate([[0.0], np.cumsum(s1)])
        c2 = np.concatenate([[0.0], np.cumsum(s2)])
        n = L * m
        mean = (c1[t + 1] - c1[lo]) / n
        msq = (c2[t + 1] - c2[lo]) / n
    std = np.sqrt(np.maximum(msq - np.square(mean), 0.0))
    z = gi_star_z(lag, sum_w, sum_w2, mean, std, n)
    return SpaceTimeGiStar(z=z, p=2.0 * stats.norm.sf(np.abs(z)))


def _trailing_run(a: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Length of the run of True at the end of each row."""
    return np.cumprod(a[:, ::-1], axis=1).sum(axis=1).astype(np.int64)


def _classify(
    hot: npt.NDArray[np.bool_],
    cold: npt.NDArray[np.bool_],
    trend_z: npt.NDArray[np.float64],
    trend_p: npt.NDArray[np.float64],
    trend_alpha: float,
) -> npt.NDArray[np.int64]:
    """Esri category code per location from its significant hot/cold bins and the z-score trend."""
    T = hot.shape[1]
    code = np.zeros(hot.shape[0], dtype=np.int64)
    up = (trend_z > 0) & (trend_p < trend_alpha)
    down = (trend_z < 0) & (trend_p < trend_alpha)
    for sign, a, b in ((1, hot, cold), (-1, cold, hot)):
        n_a, n_b = a.sum(axis=1), b.sum(axis=1)
        last = a[:, -1]
        run = _trailing_run(a)
        mostly = n_a * 10 >= 9 * T  # at least 90 % of the steps
        stronger, weaker = (up, down) if sign == 1 else (down, up)
        rules = [  # first match wins, within the locations whose final step is `a`
            (mostly & stronger, 3),  # intensifying
            (mostly & weaker, 5),  # diminishing
            (mostly, 4),  # persistent
            (n_b > 0, 7),  # oscillating: a history of the opposite kind
            (n_a == 1, 1),  # new
            (n_a == run, 2),  # consecutive: one uninterrupted final run (≥ 2 here), nothing before
            (np.ones_like(last), 6),  # sporadic: on-again, off-again, never the opposite kind
        ]
        assigned = np.zeros_like(last)
        for cond, c in rules:
            sel = last & cond & ~assigned
            code[sel] = sign * c
            assigned |= sel
    neither = ~hot[:, -1] & ~cold[:, -1]
    code[neither & (hot.sum(axis=1) * 10 >= 9 * T)] = 8
    code[neither & (cold.sum(axis=1) * 10 >= 9 * T)] = -8
    return code


def emerging_hotspots(
    counts: npt.ArrayLike,
    W: sp.sparray | sp.spmatrix,
    *,
    time_window: int = 1,
    global_window: str = "cube",
    alpha: float = 0.10,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    min_steps: int = 10,
) -> pd.DataFrame:
    """Classify every location of a space-time cube into Esri's emerging hot/cold spot categories.

    Parameters
    ----------
    counts : array (n_locations, n_steps)
        The cube (e.g. :attr:`anju.spatial.cube.SpaceTimeCube.counts`), time steps in order.
    W : sparse (n_locations, n_locations)
        Spatial weights between the locations (no diagonal needed).
    time_window, global_window
        See :func:`space_time_gi_star`.
    alpha : float
        Significance level of a hot/cold bin (0.10 = 90 % confidence, the lowest bin Esri's Hot Spot Analysis
        marks as significant).
    fdr : bool
        Benjamini–Hochberg correction over all bins of the cube (Esri applies FDR in this tool).
    trend_alpha : float
        Significance level of the Mann–Kendall trend that separates intensifying / diminishing from persistent.
    min_steps : int
        Minimum number of time steps (Esri requires 10; the "90 % of the steps" rules are meaningless with few).

    Returns
    -------
    pandas.DataFrame
        One row per location (same order as ``counts``): ``location, category, category_code, label_zh,
        label_en, n_hot, n_cold, final_z, final_p, trend_z, trend_p, trend_tau, count_trend_z, count_trend_p,
        total``. ``trend_*`` is the Mann–Kendall test on the Gi* z-scores, ``count_trend_*`` on the counts.
    """
    X = np.asarray(counts, dtype=np.float64)
    if X.ndim != 2:
        raise GeoError(f"emerging_hotspots: counts must be (n_locations, n_steps); got shape {X.shape}.")
    if X.shape[1] < max(3, min_steps):
        raise GeoError(
            f"emerging_hotspots: the cube has {X.shape[1]} time steps; at least {max(3, min_steps)} are needed "
            "(Esri requires 10). Use a shorter step or a longer period."
        )
    if not (0 < alpha < 1 and 0 < trend_alpha < 1):
        raise GeoError(f"emerging_hotspots: alpha and trend_alpha must be in (0, 1); got {alpha}, {trend_alpha}.")
    gi = space_time_gi_star(X, W, time_window=time_window, global_window=global_window)
    sig = fdr_bh(gi.p.ravel(), alpha).reshape(gi.p.shape) if fdr else gi.p < alpha
    hot = sig & (gi.z > 0)
    cold = sig & (gi.z < 0)
    mk_z = mann_kendall(gi.z)
    mk_c = mann_kendall(X)
    code = _classify(hot, cold, mk_z.z, mk_z.p, trend_alpha)
    names = np.array([CATEGORIES[int(c)][0] for c in code], dtype=object)
    zh = np.array([CATEGORIES[int(c)][1] for c in code], dtype=object)
    en = np.array([CATEGORIES[int(c)][2] for c in code], dtype=object)
    return pd.DataFrame(
        {
            "location": np.arange(X.shape[0]),
            "category": names,
            "category_code": code,
            "label_zh": zh,
            "label_en": en,
            "n_hot": hot.sum(axis=1),
            "n_cold": cold.sum(axis=1),
            "final_z": gi.z[:, -1],
            "final_p": gi.p[:, -1],
            "trend_z": mk_z.z,
            "trend_p": mk_z.p,
            "trend_tau": mk_z.tau,
            "count_trend_z": mk_c.z,
            "count_trend_p": mk_c.p,
            "total": X.sum(axis=1),
        }
    )
