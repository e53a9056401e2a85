"""Patrol dosage against the plan (勤务落实) and police visibility per area (见警率), from cleaned tracks.

**Dosage per planned hot box and shift** (Koper 1995; Sherman & Weisburd 1995): a hot box is a circle (centre,
radius) of the plan. Credited presence of *any* unit inside it during the shift (parked time and GPS gaps are
never credited, see :mod:`anju.duty.tracks`) gives:

* ``minutes``: credited unit-minutes inside the box (two units there at once count twice; overlapping boxes each
  count a fix inside both);
* ``visits``: presence intervals, where two intervals less than ``merge_gap_minutes`` apart are one visit (drift
  that briefly puts a stopped car outside the circle does not split a stop) and only visits of at least
  ``min_visit_minutes`` count (a drive-through is not a visit);
* ``longest_gap_min``: the longest time in the shift without a visit, shift edges included;
* ``credited_minutes = min(minutes, planned_minutes)`` — the numerator of 勤务落实率: time beyond the plan at one box
  does not make up for a box that was skipped.

**Visibility** (见警率) per area and day: credited minutes inside the area and the number of clock hours with any
credited presence; ``visibility = hours_with_visit / 24``. The same function gives the 24-hour coverage of grids.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy.spatial import cKDTree

from anju.duty.tracks import CleanTrack
from anju.errors import ConfigError

__all__ = ["PLAN_COLUMNS", "DosageRules", "dosage", "hourly_coverage", "visibility"]

#: Columns of a plan table (what the briefing issues and what dosage is measured against).
PLAN_COLUMNS = ("plan_id", "station_id", "shift", "shift_start", "shift_end", "unit", "box_id", "x", "y",
                "radius_m", "planned_minutes", "planned_visits")


class DosageRules(BaseModel):
    """How presence in a box becomes visits (see the module docstring)."""

    min_visit_minutes: float = Field(default=2.0, ge=0, description="Shortest presence that counts as a visit.")
    merge_gap_minutes: float = Field(default=3.0, ge=0, description="Intervals closer than this are one visit.")
    fulfilled_share: float = Field(default=0.8, gt=0, le=1, description="Share of planned minutes for 'fulfilled'.")


def _check_plan(plan: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in PLAN_COLUMNS if c not in plan.columns]
    if missing:
        raise ConfigError(f"a patrol plan needs the columns {list(PLAN_COLUMNS)}; missing {missing}.", key="plan")
    p = plan.reset_index(drop=True).copy()
    p["shift_start"] = pd.to_datetime(p["shift_start"]).astype("datetime64[ns]")
    p["shift_end"] = pd.to_datetime(p["shift_end"]).astype("datetime64[ns]")
    if (p["shift_end"] <= p["shift_start"]).any():
        raise ConfigError("every plan row needs shift_end after shift_start.", key="plan")
    return p


def _visits(t0: np.ndarray, t1: np.ndarray, box: np.ndarray, merge_s: float, min_s: float, credit: np.ndarray
            ) -> pd.DataFrame:
    """Merge presence intervals per box into visits: box, start, end, seconds (credited)."""
    if t0.size == 0:
        return pd.DataFrame({"box": np.zeros(0, np.int64), "start": [], "end": [], "seconds": []})
    order = np.lexsort((t0, box))
    b, s, e, c = box[order], t0[order], t1[order], credit[order]
    # running max of end within each box, to merge overlapping or close intervals
    new = np.ones(b.size, dtype=bool)
    run_end = e[0]
    for i in range(1, b.size):  # intervals per shift are few (hundreds): a plain loop is clearest here
        if b[i] == b[i - 1] and s[i] - run_end < merge_s:
            new[i] = False
            run_end = max(run_end, e[i])
        else:
            run_end = e[i]
    vid = np.cumsum(new) - 1
    df = pd.DataFrame({"vid": vid, "box": b, "start": s, "end": e, "seconds": c})
    v = df.groupby("vid").agg(box=("box", "first"), start=("start", "min"), end=("end", "max"),
                              seconds=("seconds", "sum"))
    return v[v["seconds"] >= min_s].reset_index(drop=True)


def _window_presence(sub: np.ndarray, boxes: pd.DataFrame, t_all: np.ndarray, x_all: np.ndarray, y_all: np.ndarray,
                     unit_all: np.ndarray, credit_all: np.ndarray, dt_all: np.ndarray, e_s: float,
                     rules: DosageRules) -> tuple[pd.DataFrame, np.ndarray]:
    """Visits and unit-minutes per box of one shift window; a fix inside overlapping boxes counts for each."""
    nb = len(boxes)
    tree = cKDTree(np.c_[boxes["x"].to_numpy(float), boxes["y"].to_numpy(float)])
    rad = boxes["radius_m"].to_numpy(float)
    kq = min(nb, 8)
    dist, k = tree.query(np.c_[x_all[sub], y_all[sub]], k=kq, distance_upper_bound=float(rad.max()))
    dist, k = dist.reshape(len(sub), kq), k.reshape(len(sub), kq)
    ok = np.isfinite(dist)
    ok[ok] = dist[ok] <= rad[k[ok]]
    fi, col = np.nonzero(ok)  # (fix position in sub, neighbour slot) pairs inside a box
    box = k[fi, col]
    tt = t_all[sub][fi]
    cr = np.minimum(credit_all[sub][fi], np.maximum(e_s - tt, 0.0))  # clip at the shift end
    minutes = np.bincount(box, cr, minlength=nb) / 60.0
    on = cr > 0
    fi, box, tt, cr = fi[on], box[on], tt[on], cr[on]
    if not fi.size:
        return _visits(np.zeros(0), np.zeros(0), np.zeros(0, np.int64), 0, 0, np.zeros(0)), minutes
    u = unit_all[sub][fi]
    order = np.lexsort((fi, u, box))
    fi, box, tt, cr, u = fi[order], box[order], tt[order], cr[order], u[order]
    # a run: consecutive fixes (adjacent in the unit's track) of one unit in one box
    brk = np.ones(fi.size, dtype=bool)
    brk[1:] = (box[1:] != box[:-1]) | (u[1:] != u[:-1]) | (fi[1:] != fi[:-1] + 1)
    r = np.cumsum(brk) - 1
    nr = int(r[-1]) + 1
    rt0 = np.full(nr, np.inf)
    rt1 = np.full(nr, -np.inf)
    np.minimum.at(rt0, r, tt)
    np.maximum.at(rt1, r, tt + np.minimum(dt_all[sub][fi], cr))
    rbox = np.zeros(nr, dtype=np.int64)
    rbox[r] = box
    rcred = np.bincount(r, cr, minlength=nr)
    v = _visits(rt0, rt1, rbox, rules.merge_gap_minutes * 60.0, rules.min_visit_minutes * 60.0, rcred)
    return v, minutes


def dosage(track: CleanTrack, plan: pd.DataFrame, rules: DosageRules | None = None) -> pd.DataFrame:
    """Delivered dosage for every plan row: minutes, visits, longest gap, credited minutes and status.

    Returns the plan's columns plus ``minutes``, ``visits``, ``longest_gap_min``, ``first_visit``,
    ``credited_minutes``, ``delivered_share`` and ``status`` (``fulfilled`` / ``short`` / ``missed``).
    """
    rules = rules or DosageRules()
    p = _check_plan(plan)
    fx = track.fixes
    t_all = fx["t"].to_numpy("datetime64[ns]").astype(np.int64) / 1e9
    order_t = np.argsort(t_all, kind="stable")
    t_sorted = t_all[order_t]
    x_all, y_all = fx["x"].to_numpy(float), fx["y"].to_numpy(float)
    unit_all = pd.factorize(fx["unit"])[0]
    credit_all = fx["credited_s"].to_numpy(float)
    dt_all = fx["dt_s"].to_numpy(float)
    minutes = np.zeros(len(p))
    visits = np.zeros(len(p), dtype=np.int64)
    longest = np.zeros(len(p))
    first_visit = np.full(len(p), np.nan)
    for (s, e), rows in p.groupby(["shift_start", "shift_end"], sort=True).groups.items():
        rows = np.asarray(rows)
        s_s, e_s = pd.Timestamp(s).value / 1e9, pd.Timestamp(e).value / 1e9
        lo, hi = np.searchsorted(t_sorted, [s_s, e_s], side="left")
        sub = np.sort(order_t[lo:hi])  # back in unit, time order
        if sub.size:
            v, mins = _window_presence(sub, p.loc[rows], t_all, x_all, y_all, unit_all, credit_all, dt_all, e_s,
                                       rules)
            minutes[rows] = mins
        else:
            v = _visits(np.zeros(0), np.zeros(0), np.zeros(0, np.int64), 0, 0, np.zeros(0))
        nb = rows.size
        span = (e_s - s_s) / 60.0
        if len(v):
            v = v.sort_values(["box", "start"], kind="stable")
            vb = v["box"].to_numpy()
            vs, ve = v["start"].to_numpy(float), v["end"].to_numpy(float)
            first_of_box = np.r_[True, vb[1:] != vb[:-1]]
            prev_end = np.where(first_of_box, s_s, np.r_[s_s, ve[:-1]])
            gap_in = np.zeros(nb)
            np.maximum.at(gap_in, vb, vs - prev_end)
            last_end = np.full(nb, s_s)
            np.maximum.at(last_end, vb, ve)
            first = np.full(nb, np.nan)
            first[vb[first_of_box]] = vs[first_of_box]
            cnt = np.bincount(vb, minlength=nb)
            longest[rows] = np.where(cnt > 0, np.maximum(gap_in, e_s - last_end) / 60.0, span)
            visits[rows] = cnt
            first_visit[rows] = first
        else:
            longest[rows] = span
    out = p.assign(minutes=minutes, visits=visits, longest_gap_min=longest)
    out["first_visit"] = pd.to_datetime(first_visit * 1e9, unit="ns")
    planned = out["planned_minutes"].to_numpy(float)
    out["credited_minutes"] = np.minimum(minutes, planned)
    out["delivered_share"] = np.where(planned > 0, out["credited_minutes"] / np.where(planned > 0, planned, 1), 1.0)
    ok = (out["delivered_share"] >= rules.fulfilled_share) & (visits >= out["planned_visits"].to_numpy())
    out["status"] = np.where(visits == 0, "missed", np.where(ok, "fulfilled", "short"))
    return out


def _hourly(track: CleanTrack, area_col: str) -> pd.DataFrame:
    fx = track.fixes
    if area_col not in fx.columns:
        raise ConfigError(f"tracks have no {area_col!r} column; assign areas at import.", key=area_col)
    f = fx[(fx["credited_s"] > 0) & fx[area_col].notna()]
    hour = f["t"].dt.floor("h")
    g = f.assign(hour=hour).groupby([area_col, "hour"], sort=True)["credited_s"].sum().reset_index()
    return g


def visibility(track: CleanTrack, *, area_col: str = "community_id", areas: Any = None) -> pd.DataFrame:
    """见警率 per area and day: ``minutes``, ``hours_with_visit``, ``hours`` (24) and ``visibility``.

    ``areas`` (optional list of ids) adds rows of zero presence for areas never visited on the days covered.
    """
    g = _hourly(track, area_col)
    g["day"] = g["hour"].dt.normalize()
    d = g.groupby([area_col, "day"]).agg(minutes=("credited_s", "sum"), hours_with_visit=("hour", "nunique"))
    d["minutes"] = d["minutes"] / 60.0
    d = d.reset_index()
    if areas is not None:
        days = pd.to_datetime(track.fixes["t"]).dt.normalize().unique()
        full = pd.MultiIndex.from_product([list(areas), sorted(days)], names=[area_col, "day"]).to_frame(index=False)
        d = full.merge(d, on=[area_col, "day"], how="left").fillna({"minutes": 0.0, "hours_with_visit": 0})
    d["hours_with_visit"] = d["hours_with_visit"].astype(int)
    d["hours"] = 24
    d["visibility"] = d["hours_with_visit"] / 24.0
    return d


def hourly_coverage(track: CleanTrack, *, area_col: str = "grid_id") -> pd.DataFrame:
    """24-hour coverage: for each area and hour of day (0–23), the number of days with credited presence."""
    g = _hourly(track, area_col)
    g["hour_of_day"] = g["hour"].dt.hour
    g["day"] = g["hour"].dt.normalize()
    m = g.groupby([area_col, "hour_of_day"])["day"].nunique().unstack(fill_value=0)
    return m.reindex(columns=range(24), fill_value=0)
