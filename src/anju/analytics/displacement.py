"""Weighted Displacement Difference (Wheeler & Ratcliffe 2018) and the areas it compares.

WDD = ΔT − ΔCt + ΔD − ΔCd, where Δ is the count after minus the count before (equal-length periods), T the treated
area (a supervised community), Ct its control area, D the displacement zone around T (a buffer ring) and Cd a
control for the displacement zone. Under a Poisson model each count's variance is its value, so
``se = sqrt(T0 + T1 + Ct0 + Ct1 + D0 + D1 + Cd0 + Cd1)``. A negative WDD is evidence of a net reduction once
displacement is counted. The local effect (ΔT − ΔCt) and the displacement (ΔD − ΔCd) come with their own
standard errors, as in crimepy's ``wdd``.

Reference: Wheeler, A. P. & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to evaluate
place based crime interventions. *Crime Science* 7:11.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from scipy import stats

__all__ = ["buffer_ring", "wdd"]


def wdd(treated: Sequence[float], control: Sequence[float], disp: Sequence[float] | None = None,
        disp_control: Sequence[float] | None = None, *, alpha: float = 0.05) -> dict[str, float]:
    """The WDD test from ``(before, after)`` counts of the four areas.

    Returns ``local``, ``local_se``, ``displacement``, ``displacement_se``, ``wdd``, ``se``, ``z``, ``p`` (two
    sided), ``lo``, ``hi``. Without a displacement zone only the local difference-in-differences is tested.

    Examples
    --------
    >>> r = wdd((100, 60), (100, 95), (80, 85), (80, 78))
    >>> r["wdd"], round(r["se"], 3), round(r["z"], 3)
    (-28.0, 26.038, -1.075)
    """
    t0, t1 = (float(x) for x in treated)
    c0, c1 = (float(x) for x in control)
    d0, d1 = (float(x) for x in disp) if disp is not None else (0.0, 0.0)
    e0, e1 = (float(x) for x in disp_control) if disp_control is not None else (0.0, 0.0)
    if min(t0, t1, c0, c1, d0, d1, e0, e1) < 0:
        raise ValueError("WDD counts must be non-negative")
    local = (t1 - t0) - (c1 - c0)
    local_var = t0 + t1 + c0 + c1
    dis = (d1 - d0) - (e1 - e0)
    dis_var = d0 + d1 + e0 + e1
    est = local + dis
    var = local_var + dis_var
    se = float(np.sqrt(var))
    z = est / se if se > 0 else float("nan")
    p = float(2 * stats.norm.sf(abs(z))) if se > 0 else float("nan")
    q = float(stats.norm.ppf(1 - alpha / 2))
    return {"local": local, "local_se": float(np.sqrt(local_var)), "displacement": dis,
            "displacement_se": float(np.sqrt(dis_var)), "wdd": est, "se": se, "z": float(z), "p": p,
            "lo": est - q * se, "hi": est + q * se}


def buffer_ring(ids: Sequence[Any], geoms: Sequence[Any], target: Iterable[Any], *, distance: float,
                exclude: Iterable[Any] = ()) -> list[Any]:
    """Areas whose polygon intersects the ring of ``distance`` (metres, metric CRS) around the ``target`` areas.

    The target areas themselves and ``exclude`` (e.g. other supervised communities) are left out, so the ring is
    where displaced crime would go. ``ids`` and ``geoms`` are parallel arrays (shapely geometries).

    Examples
    --------
    >>> sq = [shapely.box(i, 0, i + 1, 1) for i in range(5)]
    >>> buffer_ring(list("abcde"), sq, ["c"], distance=0.5)
    ['b', 'd']
    """
    ids_a = np.asarray(list(ids), dtype=object)
    g = np.asarray(list(geoms), dtype=object)
    tset = set(target)
    sel = np.isin(ids_a, list(tset))
    if not sel.any():
        return []
    core = shapely.union_all(g[sel])
    ring = shapely.difference(shapely.buffer(core, distance), core)
    hit = shapely.intersects(g, ring) & ~shapely.touches(g, ring)
    drop = tset | set(exclude)
    return [i for i, h in zip(ids_a, hit, strict=True) if h and i not in drop]
