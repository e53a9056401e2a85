"""Inputs of the monthly community assessment for the demo district: patrol plans and scans, cameras and faults,
resident registrations and the phone survey — deterministic for the seed, with planted findings.

Written to ``<demo out>/assessment/`` for the last ``months`` months of the last year (the last quarter by default):

* ``patrol_plan.csv`` (community_id, checkpoints, day_slots, night_slots) and ``patrol_scans.csv`` (community_id,
  guard_id, checkpoint, scanned_at). Planted: 3 communities whose guards skip most night rounds
  (``night_skippers``) and 2 whose guards scan photographed tags in seconds in 40 % of rounds (``fast_scanners``).
* ``cameras.csv`` (community_id, camera_id, installed_at) and ``camera_faults.csv`` (camera_id, reported_at,
  repaired_at). Planted: the largest estate (the 上海康城-like giant) whose cameras fail and are never repaired, so
  its fault rate passes 80 % by the last month (``camera_failure``).
* ``registrations.csv`` (month, community_id, building, households, registered_households, stale_households).
* ``survey_frame.csv`` (community_id, building, resident_ref — pseudonymous, no names or phones) and
  ``survey_answers.csv`` (the seeded stratified sample of 20 per community and month with the answers). Planted:
  one street where residents are much less satisfied (``low_satisfaction_street``).
* ``assessment_truth.json``: what was planted.

Random stream: ``default_rng([seed, 6])`` for the choices, ``[seed, 6, k]`` per table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anju.analytics.survey import draw_sample
from anju.demo.geography import District

__all__ = ["ASSESSMENT_DIR", "DAY_SLOTS", "NIGHT_SLOTS", "ensure_assessment_inputs", "write_assessment_inputs"]

ASSESSMENT_DIR = "assessment"
DAY_SLOTS = "09:00;15:00"
NIGHT_SLOTS = "22:00;01:00;04:00"
P_SKIP, P_SKIP_NIGHT_PLANTED = 0.03, 0.75
P_FAST_ROUND = 0.40
SAT_BASE, SAT_LOW = 0.92, 0.55
SAFE_BASE, SAFE_LOW = 0.93, 0.70
SURVEY_N = 20


def _months(end_year: int, months: int) -> list[tuple[int, int]]:
    return [(end_year, m) for m in range(13 - months, 13)]


def _ref(seed: int, *parts: object) -> str:
    h = hashlib.blake2b("|".join(map(str, (seed, *parts))).encode(), digest_size=6).hexdigest()
    return "R" + h.upper()


def _patrol(d: District, rng: np.random.Generator, mlist: list[tuple[int, int]], skip_night: set[int],
            fast: set[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = d.communities
    hh = c.attrs["households"].astype(float)
    ncp = np.clip(np.round(hh / 400), 4, 16).astype(int)
    nguard = np.maximum(c.attrs["guards"].astype(int), 2)
    plan = pd.DataFrame({"community_id": c.ids, "checkpoints": ncp, "day_slots": DAY_SLOTS,
                         "night_slots": NIGHT_SLOTS})
    first = dt.date(*mlist[0], 1)
    last = (pd.Timestamp(dt.date(*mlist[-1], 1)) + pd.offsets.MonthEnd(0)).date()
    days = pd.date_range(first, last, freq="D").to_numpy()
    slots = [(9, 0, False), (15, 0, False), (22, 0, True), (25, 0, True), (28, 0, True)]  # 25 h = 01:00 next day
    nc, nd, ns = len(c), len(days), len(slots)
    ci = np.repeat(np.arange(nc), nd * ns)
    di = np.tile(np.repeat(np.arange(nd), ns), nc)
    si = np.tile(np.arange(ns), nc * nd)
    night = np.array([s[2] for s in slots])[si]
    p_skip = np.where(night & np.isin(ci, list(skip_night)), P_SKIP_NIGHT_PLANTED, P_SKIP)
    keep = rng.random(len(ci)) >= p_skip
    ci, di, si = ci[keep], di[keep], si[keep]
    delay_s = rng.exponential(8 * 60, len(ci))
    slot_s = np.array([s[0] * 3600 + s[1] * 60 for s in slots])[si]
    start = days[di] + (slot_s + delay_s).astype("timedelta64[s]")
    is_fast = np.isin(ci, list(fast)) & (rng.random(len(ci)) < P_FAST_ROUND)
    guard = (rng.random(len(ci)) * nguard[ci]).astype(int) + 1
    # one row per checkpoint of each round; a checkpoint is skipped with probability 3 %
    k = ncp[ci]
    r_idx = np.repeat(np.arange(len(ci)), k)
    cp = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + 1
    scanned = rng.random(len(r_idx)) >= 0.03
    gap = np.where(is_fast[r_idx], rng.uniform(3, 10, len(r_idx)), rng.uniform(60, 240, len(r_idx)))
    first_of_round = cp == 1
    gap[first_of_round] = 0
    gap[~scanned] = 0
    cs = np.cumsum(gap)
    offs = cs - np.repeat(cs[np.cumsum(k) - k], k)  # seconds since the round's first scan
    at = start[r_idx] + offs.astype("timedelta64[s]")
    ids = np.asarray(c.ids, dtype=object)
    scans = pd.DataFrame({"community_id": ids[ci[r_idx]],
                          "guard_id": pd.Series(ids[ci[r_idx]], dtype=object) + "-G"
                          + pd.Series(guard[r_idx]).map("{:02d}".format),
                          "checkpoint": cp, "scanned_at": pd.to_datetime(at).floor("s")})
    scans = scans[scanned].sort_values(["scanned_at", "community_id"], kind="stable").reset_index(drop=True)
    return plan, scans


def _cameras(d: District, rng: np.random.Generator, mlist: list[tuple[int, int]], failing: int
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = d.communities
    n = np.maximum(c.attrs["cameras"].astype(int), 4)
    ci = np.repeat(np.arange(len(c)), n)
    ids = np.asarray(c.ids, dtype=object)
    cam_no = np.arange(len(ci)) - np.repeat(np.cumsum(n) - n, n) + 1
    cam_id = [f"{a}-C{b:04d}" for a, b in zip(ids[ci], cam_no, strict=True)]
    t0 = pd.Timestamp(dt.date(*mlist[0], 1))
    t_end = pd.Timestamp(dt.date(*mlist[-1], 1)) + pd.offsets.MonthEnd(0) + pd.Timedelta(days=1)
    installed = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 5 * 365, len(ci)), unit="D")
    inv = pd.DataFrame({"community_id": ids[ci], "camera_id": cam_id, "installed_at": installed.date})
    broken_share = c.attrs["cameras_broken"].astype(float) / np.maximum(c.attrs["cameras"].astype(float), 1)
    p0 = np.where(ci == failing, 0.5, 0.5 * broken_share[ci])
    rows: list[pd.DataFrame] = []
    # faults open at the start: reported in the 60 days before, repaired after ~15 days (never for the failing one)
    b0 = rng.random(len(ci)) < p0
    rep0 = t0 - pd.to_timedelta(rng.integers(1, 60, b0.sum()), unit="D")
    fix0 = rep0 + pd.to_timedelta(rng.exponential(15, b0.sum()) + 1, unit="D")
    fix0 = pd.Series(fix0).where(ci[b0] != failing)
    rows.append(pd.DataFrame({"camera_id": np.asarray(cam_id, dtype=object)[b0], "reported_at": rep0,
                              "repaired_at": fix0}))
    # new faults each month: 4 % of cameras (35 % in the failing estate), repaired after ~7 days (10 % left open)
    for y, m in mlist:
        ms = pd.Timestamp(dt.date(y, m, 1))
        days_in = (ms + pd.offsets.MonthEnd(0)).day
        p = np.where(ci == failing, 0.35, 0.04)
        hit = rng.random(len(ci)) < p
        rep = ms + pd.to_timedelta(rng.uniform(0, days_in, hit.sum()), unit="D")
        fix = rep + pd.to_timedelta(rng.exponential(7, hit.sum()) + 0.2, unit="D")
        open_ = (rng.random(hit.sum()) < 0.10) | (ci[hit] == failing)
        fix = pd.Series(fix).where(~open_ & (fix < t_end))
        rows.append(pd.DataFrame({"camera_id": np.asarray(cam_id, dtype=object)[hit], "reported_at": rep,
                                  "repaired_at": fix}))
    faults = pd.concat(rows, ignore_index=True)
    faults["reported_at"] = pd.to_datetime(faults["reported_at"]).dt.floor("min")
    faults["repaired_at"] = pd.to_datetime(faults["repaired_at"]).dt.floor("min")
    return inv, faults.sort_values(["reported_at", "camera_id"], kind="stable").reset_index(drop=True)


def _registrations(d: District, rng: np.random.Generator, mlist: list[tuple[int, int]]) -> pd.DataFrame:
    c = d.communities
    ids = np.asarray(c.ids, dtype=object)
    nb = np.bincount(d.b_comm, minlength=len(c))
    hh = c.attrs["households"].astype(int)
    rate = rng.uniform(0.84, 0.98, len(c))
    stale = rng.uniform(0.02, 0.15, len(c))
    ci = d.b_comm
    b_hh = np.maximum(np.round(hh[ci] / nb[ci]), 1).astype(int)
    out = []
    for i, (y, m) in enumerate(mlist):
        r = np.minimum(rate[ci] + 0.01 * i, 1.0)
        reg = rng.binomial(b_hh, r)
        st = rng.binomial(reg, stale[ci])
        out.append(pd.DataFrame({"month": f"{y}-{m:02d}", "community_id": ids[ci], "building": d.b_no,
                                 "households": b_hh, "registered_households": reg, "stale_households": st}))
    return pd.concat(out, ignore_index=True)


def _survey(d: District, rng: np.random.Generator, mlist: list[tuple[int, int]], seed: int,
            low_street: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = d.communities
    ids = np.asarray(c.ids, dtype=object)
    per_building = 12
    bi = np.repeat(np.arange(len(d.b_x)), per_building)
    k = np.tile(np.arange(per_building), len(d.b_x))
    frame = pd.DataFrame({"community_id": ids[d.b_comm[bi]], "building": d.b_no[bi],
                          "resident_ref": [_ref(seed, a, b, j) for a, b, j in
                                           zip(ids[d.b_comm[bi]], d.b_no[bi], k, strict=True)]})
    low = d.comm_street == low_street
    sat_c = np.clip(np.where(low, SAT_LOW, SAT_BASE) + rng.normal(0, 0.03, len(c)), 0.05, 0.99)
    safe_c = np.clip(np.where(low, SAFE_LOW, SAFE_BASE) + rng.normal(0, 0.03, len(c)), 0.05, 0.99)
    pos = {cid: i for i, cid in enumerate(ids)}
    parts = []
    for y, m in mlist:
        s = draw_sample(frame, f"{y}-{m:02d}", n=SURVEY_N, seed=seed)
        ix = s["community_id"].map(pos).to_numpy(int)
        reached = rng.random(len(s)) < 0.85
        s["reached"] = reached.astype(int)
        for col, p in (("feel_safe", safe_c), ("satisfied", sat_c), ("saw_patrol", np.full(len(c), 0.7))):
            v = (rng.random(len(s)) < p[ix]).astype(float)
            s[col] = pd.array(np.where(reached, v, np.nan), dtype="Int64")
        parts.append(s)
    return frame, pd.concat(parts, ignore_index=True)


def write_assessment_inputs(out_dir: Path, d: District, *, seed: int, end_year: int, months: int = 3,
                            exclude: np.ndarray | None = None) -> dict[str, Any]:
    """Write the assessment inputs of the last ``months`` months of ``end_year`` to ``out_dir/assessment``.

    ``exclude`` (community indices, e.g. the supervised and hot ones) are never picked for a planted patrol fault,
    so the findings stay separate. Returns the planted facts (also written to ``assessment_truth.json``).
    """
    folder = Path(out_dir) / ASSESSMENT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    c = d.communities
    rng = np.random.default_rng([seed, 6])
    pool = np.setdiff1d(np.arange(len(c)), exclude if exclude is not None else [])
    picks = rng.choice(pool, size=5, replace=False)
    skip_night, fast = {int(x) for x in picks[:3]}, {int(x) for x in picks[3:]}
    failing = int(np.argmax(c.attrs["households"]))
    outer = np.unique(d.comm_street[d.comm_street >= 4])
    low_street = int(rng.choice(outer))
    mlist = _months(end_year, months)
    plan, scans = _patrol(d, np.random.default_rng([seed, 6, 1]), mlist, skip_night, fast)
    inv, faults = _cameras(d, np.random.default_rng([seed, 6, 2]), mlist, failing)
    regs = _registrations(d, np.random.default_rng([seed, 6, 3]), mlist)
    frame, answers = _survey(d, np.random.default_rng([seed, 6, 4]), mlist, seed, low_street)
    for name, df in (("patrol_plan", plan), ("patrol_scans", scans), ("cameras", inv), ("camera_faults", faults),
                     ("registrations", regs), ("survey_frame", frame), ("survey_answers", answers)):
        df.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8")
    ids = list(c.ids)
    streets = d.layers["street"]
    planted = {
        "months": [f"{y}-{m:02d}" for y, m in mlist],
        "night_skippers": sorted(ids[i] for i in skip_night),
        "fast_scanners": sorted(ids[i] for i in fast),
        "camera_failure": ids[failing],
        "camera_failure_name": c.names[failing],
        "low_satisfaction_street": streets.ids[low_street],
        "low_satisfaction_street_name": streets.names[low_street],
        "parameters": {"p_skip": P_SKIP, "p_skip_night_planted": P_SKIP_NIGHT_PLANTED, "p_fast_round": P_FAST_ROUND,
                       "satisfaction": [SAT_BASE, SAT_LOW], "feel_safe": [SAFE_BASE, SAFE_LOW],
                       "survey_n": SURVEY_N, "day_slots": DAY_SLOTS, "night_slots": NIGHT_SLOTS},
        "rows": {"patrol_scans": len(scans), "cameras": len(inv), "camera_faults": len(faults),
                 "registrations": len(regs), "survey_answers": len(answers)},
    }
    (folder / "assessment_truth.json").write_text(json.dumps(planted, ensure_ascii=False, indent=1),
                                                  encoding="utf-8")
    return planted


def ensure_assessment_inputs(out_dir: Path, *, seed: int, end_year: int, truth: dict[str, Any] | None = None
                             ) -> dict[str, Any]:
    """Write the assessment inputs unless ``out_dir/assessment`` already holds them for this seed and year.

    ``truth`` (the demo's truth dict) names the supervised and hot communities, which planted patrol faults avoid.
    """
    path = Path(out_dir) / ASSESSMENT_DIR / "assessment_truth.json"
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            old = {}
        if old.get("seed") == seed and old.get("end_year") == end_year:
            return dict(old)
    from anju.demo.geography import district_for

    d = district_for(seed)
    t = truth or {}
    skip = set(t.get("supervised", {}).get("community_ids", [])) | set(t.get("hot", {}).get("community_ids", []))
    exclude = np.array([i for i, cid in enumerate(d.communities.ids) if cid in skip], dtype=int)
    planted = write_assessment_inputs(out_dir, d, seed=seed, end_year=end_year, exclude=exclude)
    planted.update(seed=seed, end_year=end_year)
    path.write_text(json.dumps(planted, ensure_ascii=False, indent=1), encoding="utf-8")
    return planted
