"""Safe-house siting (安全屋): choose *k* candidate sites that cover the most night calls within a walking radius.

This is the maximal covering location problem (Church & ReVelle 1974), solved exactly as an integer programme by
PySAL spopt's :class:`spopt.locate.MCLP` with PuLP's bundled CBC solver — no hand-written solver. Demand is the
night calls (21:00–03:00) binned into square cells (default 100 m), each cell weighted by its calls and placed at the
mean position of its calls; candidate sites are shops, kiosks, stations that could host a 24-hour safe house.
Existing safe houses are passed as predefined facilities, so the plan says what *new* sites add.

:func:`plan_sites` solves the problem for every *p* from 1 to *k* (each optimal on its own) and reports the coverage
curve — the night calls covered and the gain of each added site — and the largest uncovered hot spots of the *k*
solution. Distances are straight-line metres in the local UTM zone (a network distance matrix can be passed in
instead via ``cost_matrix``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer

from anju.errors import AnjuError

__all__ = ["NIGHT_HOURS", "SitingPlan", "night_demand", "plan_sites", "to_metric"]

NIGHT_HOURS = (21, 22, 23, 0, 1, 2)  # 21:00–03:00


def to_metric(lon: np.ndarray, lat: np.ndarray, *, ref_lon: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → metres in the UTM zone of ``ref_lon`` (default: the mean longitude; northern hemisphere)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ref = float(np.nanmean(lon)) if ref_lon is None else ref_lon
    zone = int((ref + 180) // 6) + 1
    tr = Transformer.from_crs("EPSG:4326", f"EPSG:{32600 + zone}", always_xy=True)
    x, y = tr.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def night_demand(lon: np.ndarray, lat: np.ndarray, hour: np.ndarray, *, cell_m: float = 100.0) -> pd.DataFrame:
    """Night calls (hours 21–02) binned into ``cell_m`` cells: ``cell``, ``lon``, ``lat`` (mean of the calls),
    ``calls``; sorted by calls, descending."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    hour = np.asarray(hour)
    keep = np.isin(hour, NIGHT_HOURS) & np.isfinite(lon) & np.isfinite(lat)
    if not keep.any():
        return pd.DataFrame({"cell": pd.Series(dtype=str), "lon": pd.Series(dtype=float),
                             "lat": pd.Series(dtype=float), "calls": pd.Series(dtype="int64")})
    x, y = to_metric(lon[keep], lat[keep])
    cx = np.floor(x / cell_m).astype("int64")
    cy = np.floor(y / cell_m).astype("int64")
    df = pd.DataFrame({"cell": [f"{a}_{b}" for a, b in zip(cx, cy, strict=True)], "lon": lon[keep],
                       "lat": lat[keep]})
    out = df.groupby("cell").agg(lon=("lon", "mean"), lat=("lat", "mean"), calls=("lon", "size")).reset_index()
    return out.sort_values(["calls", "cell"], ascending=[False, True], ignore_index=True)


@dataclass
class SitingPlan:
    """The result of :func:`plan_sites`."""

    selected: list[str]  # site ids of the k-site solution (new sites only)
    curve: pd.DataFrame  # p, sites (ids), covered, share, gain
    uncovered: pd.DataFrame  # the largest uncovered demand cells of the k solution
    total: float  # all night calls in the demand
    covered_by_existing: float


def _solve(cost: np.ndarray, weights: np.ndarray, radius: float, p: int, predefined: np.ndarray | None
           ) -> np.ndarray:
    import pulp
    from spopt.locate import MCLP

    with warnings.catch_warnings():  # spopt 0.7 builds variables the way PuLP 4 will deprecate; nothing to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p,
                                      predefined_facilities_arr=predefined, name=f"mclp_p{p}")
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    status = pulp.LpStatus[model.problem.status]
    if status != "Optimal":
        raise AnjuError(f"the covering problem for p={p} did not solve to optimality (solver status {status})")
    return np.array([v.value() is not None and v.value() > 0.5 for v in model.fac_vars], dtype=bool)


def plan_sites(demand: pd.DataFrame, candidates: pd.DataFrame, *, k: int, radius_m: float = 300.0,
               existing: list[str] | None = None, cost_matrix: np.ndarray | None = None,
               top_uncovered: int = 10) -> SitingPlan:
    """Choose ``k`` new sites among ``candidates`` (``site_id``, ``lon``, ``lat``) covering the most ``demand``
    (``lon``, ``lat``, ``calls``) within ``radius_m``; ``existing`` site ids (also in ``candidates``) are kept open.
    """
    if k < 1:
        raise AnjuError(f"k (the number of new safe houses) must be at least 1; got {k}")
    if demand.empty:
        raise AnjuError("no night calls in the chosen period: nothing to cover")
    existing = list(existing or [])
    ids = candidates["site_id"].astype(str).tolist()
    missing = sorted(set(existing) - set(ids))
    if missing:
        raise AnjuError(f"existing sites {missing} are not among the candidates; add them with their location")
    free = len(ids) - len(existing)
    if k > free:
        raise AnjuError(f"k={k} but only {free} candidate sites are free; lower k or add candidates")
    w = demand["calls"].to_numpy(dtype=float)
    if cost_matrix is None:
        ref = float(np.nanmean(demand["lon"]))
        dx, dy = to_metric(demand["lon"].to_numpy(), demand["lat"].to_numpy(), ref_lon=ref)
        fx, fy = to_metric(candidates["lon"].to_numpy(), candidates["lat"].to_numpy(), ref_lon=ref)
        cost = np.hypot(dx[:, None] - fx[None, :], dy[:, None] - fy[None, :])
    else:
        cost = np.asarray(cost_matrix, dtype=float)
        if cost.shape != (len(demand), len(candidates)):
            raise AnjuError(f"cost_matrix must be demand × candidates = {(len(demand), len(candidates))}; "
                            f"got {cost.shape}")
    within = cost <= radius_m
    is_existing = np.isin(np.asarray(ids), existing)
    predefined = is_existing if existing else None
    base_cov = within[:, is_existing].any(axis=1) if existing else np.zeros(len(w), dtype=bool)
    rows = []
    prev = float(w[base_cov].sum())
    open_k = is_existing
    for p in range(1, k + 1):
        open_ = _solve(cost, w, radius_m, p + len(existing), predefined)
        covered = float(w[within[:, open_].any(axis=1)].sum())
        new_sites = [ids[j] for j in np.flatnonzero(open_ & ~is_existing)]
        rows.append({"p": p, "sites": new_sites, "covered": covered, "share": covered / w.sum(),
                     "gain": covered - prev})
        prev = covered
        open_k = open_
    cov_k = within[:, open_k].any(axis=1)
    unc = demand.loc[~cov_k].sort_values("calls", ascending=False).head(top_uncovered).reset_index(drop=True)
    return SitingPlan(selected=rows[-1]["sites"], curve=pd.DataFrame(rows), uncovered=unc, total=float(w.sum()),
                      covered_by_existing=float(w[base_cov].sum()))
