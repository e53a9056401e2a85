"""Patrol-unit GPS tracks cleaned into *credited presence*: which time between two fixes counts as patrol.

A track is a table of fixes ``unit, t, x, y`` (metric coordinates). Every fix *i* carries the interval to the
unit's next fix, ``dt_i``. That interval is credited as patrol presence at fix *i*'s position only if all hold
(thresholds in :class:`TrackRules`, documented in docs/duty-operations.md):

* **no GPS gap**: ``dt_i ≤ max_gap_s`` (default 120 s). A longer interval is *unknown*, not presence: the unit may
  have been anywhere. Gaps are counted and reported, never filled in; a silence longer than ``off_duty_s``
  (2 h) is the end of a shift, not a gap.
* **no drift spike**: a fix that is reached *and* left at more than ``max_speed_ms`` (default 33 m/s ≈ 120 km/h)
  while its neighbours are close to each other is a multipath jump; it is dropped before anything else.
* **not parked**: a *stationary episode* is a run of fixes whose centred speed (displacement over ±``speed_span``
  fixes) is below ``stationary_ms`` (default 0.5 m/s) and which stays within ``park_radius_m`` (default 50 m, so
  drift does not break it; moving blips of up to ``speed_span`` fixes inside it are drift and are closed). A stationary episode longer than ``park_minutes`` (default 30) is a parked car: none of
  its time is credited. Koper's stops (10–16 minutes) are well below the threshold and count in full; a car left at
  the kerb for an hour does not count at all.

Everything is vectorised with NumPy (sort, diffs, run-length labels via cumulative sums); a month of 60 units at 10 s
(about 15 M fixes) runs in seconds (benchmarks/bench_duty.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from anju.errors import ConfigError

__all__ = ["CleanTrack", "TrackRules", "clean_tracks"]


class TrackRules(BaseModel):
    """Thresholds that decide which GPS time counts as patrol (see the module docstring)."""

    max_gap_s: float = Field(default=120.0, gt=0, description="Longest interval between fixes still counted (s).")
    off_duty_s: float = Field(default=7200.0, gt=0, description="A silence longer than this ends the track (off duty), "
                              "it is not reported as a GPS gap (s).")
    max_speed_ms: float = Field(default=33.0, gt=0, description="Faster in and out of a fix = drift spike (m/s).")
    stationary_ms: float = Field(default=0.5, gt=0, description="Centred speed below this = stationary (m/s).")
    speed_span: int = Field(default=6, ge=1, description="Fixes either side for the centred speed; also the longest "
                            "moving blip (in fixes) inside a stationary episode that drift may cause.")
    park_radius_m: float = Field(default=50.0, gt=0, description="A stationary episode stays within this radius (m).")
    park_minutes: float = Field(default=30.0, gt=0, description="Stationary longer than this = parked, not credited.")


@dataclass
class CleanTrack:
    """Fixes sorted by unit and time with the credited interval of each.

    ``fixes`` columns: unit, t, x, y plus any extra input columns, ``dt_s`` (to the unit's next fix, 0 for the last),
    ``credited_s`` (seconds of patrol presence credited at this fix), ``gap`` (interval is a GPS gap), ``parked``
    (fix belongs to a parked episode), ``episode`` (stationary episode id, -1 when moving).
    ``stats``: fixes in, spikes dropped, gaps, gap hours, parked episodes, parked hours, credited hours.
    """

    fixes: pd.DataFrame
    stats: dict[str, float]
    rules: TrackRules


def _runs(flag: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Run ids of consecutive True values of ``flag`` (a new run also starts where ``breaks`` is True); -1 elsewhere."""
    start = flag & (np.concatenate(([True], ~flag[:-1])) | breaks)
    ids = np.cumsum(start) - 1
    return np.where(flag, ids, -1)


def _close_holes(stationary: np.ndarray, unit_codes: np.ndarray, k: int) -> np.ndarray:
    """Fill moving runs of at most ``k`` fixes that sit between stationary fixes of the same unit (drift blips)."""
    n = stationary.size
    if n < 3:
        return stationary
    moving = ~stationary
    brk = np.ones(n, dtype=bool)
    brk[1:] = unit_codes[1:] != unit_codes[:-1]
    rid = _runs(moving, brk)
    if not (rid >= 0).any():
        return stationary
    r = rid[rid >= 0]
    length = np.bincount(r)
    pos = np.flatnonzero(rid >= 0)
    first = np.full(length.size, n)
    last = np.full(length.size, -1)
    np.minimum.at(first, r, pos)
    np.maximum.at(last, r, pos)
    before = first - 1
    after = last + 1
    ok_b = (before >= 0) & stationary[np.clip(before, 0, n - 1)] & (unit_codes[np.clip(before, 0, n - 1)] ==
                                                                      unit_codes[first.clip(0, n - 1)])
    ok_a = (after < n) & stationary[np.clip(after, 0, n - 1)] & (unit_codes[np.clip(after, 0, n - 1)] ==
                                                                   unit_codes[last.clip(0, n - 1)])
    fill = (length <= k) & ok_b & ok_a
    out = stationary.copy()
    out[pos[fill[r]]] = True
    return out


def clean_tracks(points: Any, rules: TrackRules | None = None) -> CleanTrack:
    """Sort, de-duplicate, drop drift spikes, find gaps and parked episodes, and credit presence per fix.

    Parameters
    ----------
    points : DataFrame
        ``unit``, ``t`` (datetime), ``x``, ``y`` (metres); other columns (e.g. ``community_id``) are kept.
    rules : TrackRules, optional

    Examples
    --------
    >>> t = pd.date_range("2025-01-01 08:00", periods=5, freq="60s")
    >>> pts = pd.DataFrame({"unit": "A", "t": t, "x": [0.0, 100, 200, 300, 400], "y": 0.0})
    >>> ct = clean_tracks(pts)
    >>> ct.fixes["credited_s"].tolist(), ct.stats["credited_hours"]
    ([60.0, 60.0, 60.0, 60.0, 0.0], 0.06666666666666667)
    """
    rules = rules or TrackRules()
    df = pd.DataFrame(points)
    missing = [c for c in ("unit", "t", "x", "y") if c not in df.columns]
    if missing:
        raise ConfigError(f"tracks need the columns unit, t, x, y; missing {missing}.", key="tracks")
    unit = df["unit"] if isinstance(df["unit"].dtype, pd.CategoricalDtype) else df["unit"].astype(str)
    df = df.assign(t=pd.to_datetime(df["t"]).astype("datetime64[ns]"), unit=unit)
    finite = np.isfinite(df["x"].to_numpy(float)) & np.isfinite(df["y"].to_numpy(float))
    if not finite.all():
        df = df[finite]
    df = _sorted_unique(df)
    n_in = len(df)
    df, spikes = _drop_spikes(df, rules)
    n = len(df)
    unit_codes = pd.factorize(df["unit"])[0]
    t = df["t"].to_numpy("datetime64[ns]").astype(np.int64) / 1e9
    x = df["x"].to_numpy(float)
    y = df["y"].to_numpy(float)
    same_next = np.zeros(n, dtype=bool)
    if n > 1:
        same_next[:-1] = unit_codes[1:] == unit_codes[:-1]
    dt = np.zeros(n)
    dt[:-1] = t[1:] - t[:-1]
    dt = np.where(same_next, dt, 0.0)
    off = same_next & (dt > rules.off_duty_s)
    same_next &= ~off  # the unit went off duty: the next fix starts a new track
    dt = np.where(same_next, dt, 0.0)
    gap = same_next & (dt > rules.max_gap_s)

    # centred speed over ±k fixes of the same unit (clipped at the track ends)
    k = rules.speed_span
    idx = np.arange(n)
    first = np.r_[0, np.flatnonzero(unit_codes[1:] != unit_codes[:-1]) + 1] if n else np.zeros(0, np.int64)
    last = np.r_[first[1:] - 1, n - 1] if n else np.zeros(0, np.int64)
    run = np.repeat(np.arange(first.size), np.diff(np.r_[first, n])) if n else np.zeros(0, np.int64)
    lo = np.maximum(idx - k, first[run]) if n else idx
    hi = np.minimum(idx + k, last[run]) if n else idx
    span_t = np.maximum(t[hi] - t[lo], 1e-9)
    speed = np.hypot(x[hi] - x[lo], y[hi] - y[lo]) / span_t
    stationary = speed < rules.stationary_ms
    stationary = _close_holes(stationary, unit_codes, rules.speed_span)
    # a new episode starts at a unit change, after a GPS gap or after time off duty
    breaks = np.ones(n, dtype=bool)
    if n > 1:
        breaks[1:] = (unit_codes[1:] != unit_codes[:-1]) | gap[:-1] | off[:-1]
    episode = _runs(stationary, breaks)
    parked = np.zeros(n, dtype=bool)
    n_parked = 0
    parked_s = 0.0
    if (episode >= 0).any():
        e = episode[episode >= 0]
        ex, ey, et = x[episode >= 0], y[episode >= 0], t[episode >= 0]
        cnt = np.bincount(e)
        cx = np.bincount(e, ex) / cnt
        cy = np.bincount(e, ey) / cnt
        radius = np.zeros(cnt.size)
        np.maximum.at(radius, e, np.hypot(ex - cx[e], ey - cy[e]))
        t0 = np.full(cnt.size, np.inf)
        t1 = np.full(cnt.size, -np.inf)
        np.minimum.at(t0, e, et)
        np.maximum.at(t1, e, et)
        dur = t1 - t0
        # an episode that wanders beyond the radius is slow movement (foot patrol), not a parked car
        is_parked = (dur > rules.park_minutes * 60.0) & (radius <= rules.park_radius_m)
        parked = np.zeros(n, dtype=bool)
        parked[episode >= 0] = is_parked[e]
        # the stop's first and last fixes are averaged with the approach and the exit and look "moving": fixes
        # within ±speed_span of a parked episode and inside its radius belong to it
        ep_of = np.full(n, -1)
        ep_of[parked] = episode[parked]
        grown = parked.copy()
        for d in range(1, k + 1):
            for j_off in (d, -d):
                j = np.clip(idx + j_off, 0, n - 1)
                cand = ~grown & parked[j] & (unit_codes[j] == unit_codes) & (ep_of[j] >= 0)
                e_j = ep_of[j][cand]
                near = np.hypot(x[cand] - cx[e_j], y[cand] - cy[e_j]) <= rules.park_radius_m
                hit = np.flatnonzero(cand)[near]
                grown[hit] = True
                ep_of[hit] = e_j[near]
        parked = grown
        n_parked = int(is_parked.sum())
        parked_s = float(np.bincount(ep_of[parked], dt[parked], minlength=cnt.size)[is_parked].sum())
    credited = np.where(same_next & ~gap & ~parked, dt, 0.0)
    out = df.assign(dt_s=dt, credited_s=credited, gap=gap, parked=parked, episode=episode)
    stats = {
        "fixes_in": float(n_in), "spikes_dropped": float(spikes), "fixes": float(n), "units": float(first.size),
        "gaps": float(gap.sum()), "gap_hours": float(dt[gap].sum() / 3600.0),
        "parked_episodes": float(n_parked), "parked_hours": parked_s / 3600.0,
        "credited_hours": float(credited.sum() / 3600.0),
    }
    return CleanTrack(fixes=out, stats=stats, rules=rules)


def _sorted_unique(df: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by unit and time, one fix per unit and instant; skips the sort when the input is in order."""
    codes = pd.factorize(df["unit"], sort=True)[0]
    t = df["t"].to_numpy("datetime64[ns]").astype(np.int64)
    dc, dtt = np.diff(codes), np.diff(t)
    if not ((dc > 0) | ((dc == 0) & (dtt >= 0))).all():
        order = np.lexsort((t, codes))
        df, codes, t = df.iloc[order], codes[order], t[order]
        dc, dtt = np.diff(codes), np.diff(t)
    dup = np.r_[False, (dc == 0) & (dtt == 0)]
    if dup.any():
        df = df[~dup]
    return df.reset_index(drop=True)


def _drop_spikes(df: pd.DataFrame, rules: TrackRules) -> tuple[pd.DataFrame, int]:
    """Drop fixes that jump away and back faster than ``max_speed_ms`` (one-fix multipath spikes)."""
    n = len(df)
    if n < 3:
        return df, 0
    u = pd.factorize(df["unit"])[0]
    t = df["t"].to_numpy("datetime64[ns]").astype(np.int64) / 1e9
    x = df["x"].to_numpy(float)
    y = df["y"].to_numpy(float)
    d_in = np.full(n, np.inf)
    v_in = np.zeros(n)
    v_out = np.zeros(n)
    same = u[1:] == u[:-1]
    step = np.hypot(np.diff(x), np.diff(y))
    dts = np.maximum(np.diff(t), 1e-9)
    v = np.where(same, step / dts, 0.0)
    v_in[1:] = v
    v_out[:-1] = v
    d_in[1:] = step
    # neighbours' distance to each other: a spike leaves them close together
    bridge = np.full(n, np.inf)
    ok = np.zeros(n, dtype=bool)
    ok[1:-1] = same[:-1] & same[1:]
    bridge[1:-1] = np.hypot(x[2:] - x[:-2], y[2:] - y[:-2])
    spike = ok & (v_in > rules.max_speed_ms) & (v_out > rules.max_speed_ms) & (bridge < 0.5 * d_in)
    return df[~spike].reset_index(drop=True), int(spike.sum())
