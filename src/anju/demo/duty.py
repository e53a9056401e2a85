"""Duty data of the demo district: the patrol plan used, patrol-unit GPS tracks, stop-and-check (盘查) records, the
resident registry and monthly utility use — with planted facts the duty analytics must find (docs/demo-district.md).

Random streams: plan and tracks ``default_rng([seed, 20, day])``; stop-checks ``[seed, 21]``; registry and
utilities ``[seed, 22]``. Coordinates are written in GCJ-02 like the calls. Nothing here is personal data: units are
vehicles, households carry counts, not names.

Planted facts (``duty_truth.json``):

* tracks, on the first day: unit ``parked`` sits 75 minutes at its first hot box at the start of its shift (a
  parked car); unit ``gap`` loses GPS for 25 minutes during a stop; unit ``skipper`` never goes to its second hot box
  (it drives around a point 800 m away instead). Every other unit follows its plan (stops 0–1 minute shorter or
  longer than planned). About one fix in 2,000 is a multipath spike 1–3 km away.
* stop-checks: about 25 a day per station; station ``PS04`` arrests in 25 % of checks, the others in 4 %.
* registry (40 households per community): 12 zombie records, 8 suspected group rentals (1–2 registered,
  9–13 living), 10 undeclared occupancies,
  15 stale records, each at a distinct household; 3 utility rows have an unknown address code and 1 an invalid month.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from anju.demo.geography import District, district_for
from anju.geo.coords import convert

__all__ = ["DUTY_FILES", "generate_duty_files"]

DUTY_FILES = {"plan": "patrol_plan.csv", "tracks": "patrol_tracks.csv", "stop_checks": "stop_checks.csv",
              "households": "registry_households.csv", "utilities": "utilities.csv", "truth": "duty_truth.json"}
_SHIFTS = (("night", 0), ("day", 8), ("evening", 16))
_SPEED = 8.0  # m/s driving between boxes (about 30 km/h)
_METRIC = "EPSG:32651"


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(_METRIC, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(x, y)
    return convert(np.asarray(lon), np.asarray(lat), "wgs84", "gcj02")


def _station_boxes(d: District, station: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` building points in the station's communities, weighted towards households × theft risk."""
    comms = np.flatnonzero(d.comm_station == station)
    hh = d.layers["community"].attrs["households"][comms].astype(float)
    w = hh * np.where(np.isin(comms, d.hot), 6.0, 1.0)
    chosen = rng.choice(comms, size=n, replace=False, p=w / w.sum())
    pts = []
    for c in chosen:
        lo, hi = d.b_start[c], d.b_start[c + 1]
        b = rng.integers(lo, hi)
        pts.append((d.b_x[b], d.b_y[b]))
    return np.asarray(pts)


def _itinerary(boxes: np.ndarray, start_s: float, hours: float, rng: np.random.Generator
               ) -> list[tuple[str, int, float, float]]:
    """A Koper rotation through the boxes: (kind, box, t0, t1) legs, kind 'stop' or 'drive'."""
    legs = []
    t = start_s
    end = start_s + hours * 3600
    i = 0
    while True:
        b = i % len(boxes)
        stop = rng.uniform(10, 16) * 60
        if t + stop > end:
            break
        legs.append(("stop", b, t, t + stop))
        t += stop
        nb = (i + 1) % len(boxes)
        drive = max(120.0, float(np.hypot(*(boxes[nb] - boxes[b]))) / _SPEED)
        if t + drive > end:
            break
        legs.append(("drive", b, t, t + drive))
        t += drive
        i += 1
    return legs


def _fixes(legs: list[tuple[str, int, float, float]], boxes: np.ndarray, every_s: float,
           rng: np.random.Generator, *, replace: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Fixes (t, x, y) along the legs with 5 m GPS noise; boxes in ``replace`` are swapped for a slow loop
    around another point (a skipped box)."""
    rows = []
    for kind, b, t0, t1 in legs:
        ts = np.arange(np.ceil(t0 / every_s) * every_s, t1, every_s)
        if not ts.size:
            continue
        if kind == "stop":
            if replace and b in replace:
                ang = (ts - t0) / 90.0
                x = replace[b][0] + 250 * np.cos(ang)
                y = replace[b][1] + 250 * np.sin(ang)
            else:
                x = np.full(ts.size, boxes[b, 0])
                y = np.full(ts.size, boxes[b, 1])
        else:
            nb = (b + 1) % len(boxes)
            f = (ts - t0) / (t1 - t0)
            a, z = boxes[b], boxes[nb]
            if replace and nb in replace:
                z = replace[nb]
            if replace and b in replace:
                a = replace[b]
            x = a[0] + (z[0] - a[0]) * f
            y = a[1] + (z[1] - a[1]) * f
        rows.append(np.c_[ts, x + rng.normal(0, 5, ts.size), y + rng.normal(0, 5, ts.size)])
    return np.vstack(rows) if rows else np.zeros((0, 3))


def _tracks(d: District, seed: int, days: list[pd.Timestamp], every_s: float, units_per_shift: int
            ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    n_st = len(d.layers["station"].ids)
    plan_rows, track_parts = [], []
    truth: dict[str, Any] = {}
    for di, day in enumerate(days):
        rng = np.random.default_rng([seed, 20, di])
        base = day.value / 1e9
        for s in range(n_st):
            sid = str(d.layers["station"].ids[s])
            for shift, h0 in _SHIFTS:
                for k in range(1, units_per_shift + 1):
                    unit = f"{sid}-{shift}-{k}"
                    boxes = _station_boxes(d, s, rng, 3)
                    start = base + h0 * 3600
                    plan_legs = _itinerary(boxes, start, 8.0, rng)
                    for b in range(3):
                        stops = [lg for lg in plan_legs if lg[0] == "stop" and lg[1] == b]
                        plan_rows.append({
                            "plan_id": f"{day:%Y%m%d}-{unit}-b{b + 1}", "station_id": sid, "shift": shift,
                            "shift_start": pd.Timestamp(start, unit="s"),
                            "shift_end": pd.Timestamp(start + 8 * 3600, unit="s"), "unit": unit,
                            "box_id": f"{unit}-b{b + 1}", "x": round(float(boxes[b, 0]), 1),
                            "y": round(float(boxes[b, 1]), 1), "radius_m": 100.0,
                            "planned_minutes": round(sum(lg[3] - lg[2] for lg in stops) / 60.0, 2),
                            "planned_visits": len(stops)})
                    # what the unit really did: the plan with stops 0–1 minute off
                    legs = [(kd, b, t0, t1 + (rng.uniform(-1, 1) * 60 if kd == "stop" else 0.0))
                            for kd, b, t0, t1 in plan_legs]
                    legs = [(kd, b, t0, max(t1, t0 + 60)) for kd, b, t0, t1 in legs]
                    role = None
                    if di == 0 and (s, shift, k) == (0, "evening", 1):
                        role = "parked"
                        legs = [("stop", 0, start, start + 75 * 60)] + [
                            (kd, b, t0 + 75 * 60, t1 + 75 * 60) for kd, b, t0, t1 in legs if t1 + 75 * 60 <=
                            start + 8 * 3600]
                    elif di == 0 and (s, shift, k) == (1, "day", 1):
                        role = "gap"
                    elif di == 0 and (s, shift, k) == (2, "night", 1):
                        role = "skipper"
                    replace = {1: boxes[1] + np.array([800.0, 0.0])} if role == "skipper" else None
                    fx = _fixes(legs, boxes, every_s, rng, replace=replace)
                    if role == "gap":
                        stop2 = [lg for lg in legs if lg[0] == "stop"][3]
                        g0 = stop2[2] + 60
                        fx = fx[(fx[:, 0] < g0) | (fx[:, 0] >= g0 + 25 * 60)]
                        truth["gap"] = {"unit": unit, "start": str(pd.Timestamp(g0, unit="s")), "minutes": 25}
                    if role == "parked":
                        truth["parked"] = {"unit": unit, "box_id": f"{unit}-b1", "minutes": 75,
                                           "start": str(pd.Timestamp(start, unit="s"))}
                    if role == "skipper":
                        truth["skipped"] = {"unit": unit, "plan_id": f"{day:%Y%m%d}-{unit}-b2",
                                            "box_id": f"{unit}-b2"}
                    track_parts.append(pd.DataFrame({"unit": unit, "t": fx[:, 0], "x": fx[:, 1], "y": fx[:, 2]}))
    tr = pd.concat(track_parts, ignore_index=True)
    srng = np.random.default_rng([seed, 20, 999])
    spikes = srng.random(len(tr)) < 1 / 2000
    ang = srng.uniform(0, 2 * np.pi, int(spikes.sum()))
    dist = srng.uniform(1000, 3000, int(spikes.sum()))
    tr.loc[spikes, "x"] += dist * np.cos(ang)
    tr.loc[spikes, "y"] += dist * np.sin(ang)
    truth["spikes"] = int(spikes.sum())
    truth["units"] = int(tr["unit"].nunique())
    return pd.DataFrame(plan_rows), tr, truth


def _stop_checks(d: District, seed: int, days: list[pd.Timestamp]) -> tuple[pd.DataFrame, dict[str, Any]]:
    rng = np.random.default_rng([seed, 21])
    rows = []
    n_st = len(d.layers["station"].ids)
    for day in days:
        for s in range(n_st):
            sid = str(d.layers["station"].ids[s])
            p = 0.25 if sid == "PS04" else 0.04
            for _ in range(int(rng.poisson(25))):
                xy = _station_boxes(d, s, rng, 1)[0] + rng.normal(0, 20, 2)
                arrest = bool(rng.random() < p)
                t = day + pd.Timedelta(seconds=int(rng.integers(0, 86400)))
                rows.append({"x": xy[0], "y": xy[1], "time": t, "station": sid, "arrest": arrest,
                             "result": "抓获在逃人员" if arrest else rng.choice(["无异常", "批评教育", "登记核查"])})
    df = pd.DataFrame(rows)
    df.insert(0, "check_id", [f"PC{i + 1:06d}" for i in range(len(df))])
    truth = {"high_arrest_station": "PS04", "arrest_p": {"PS04": 0.25, "other": 0.04},
             "checks": len(df), "arrests": int(df["arrest"].sum())}
    return df, truth


def _registry(d: District, seed: int, end_year: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    rng = np.random.default_rng([seed, 22])
    cids = [str(c) for c in d.layers["community"].ids]
    per = 40
    n = per * len(cids)
    comm = np.repeat(cids, per)
    code = [f"{c}{i:04d}" for c in cids for i in range(1, per + 1)]
    hh = pd.DataFrame({"household_id": [f"H{i + 1:06d}" for i in range(n)], "address_code": code,
                       "community_id": comm})
    reg = rng.choice([0, 1, 2, 3, 4, 5, 6], size=n, p=[0.08, 0.2, 0.3, 0.22, 0.12, 0.05, 0.03])
    as_of = pd.Timestamp(f"{end_year + 1}-01-01")
    verified_days = rng.integers(10, 300, n)  # normal: verified within the last ten months
    small = rng.permutation(np.flatnonzero((reg >= 1) & (reg <= 2)))  # a group rental registers one or two tenants
    group = small[:8]
    picks = rng.permutation(np.setdiff1d(np.flatnonzero(reg > 0), group))
    zombie, stale = picks[:12], picks[12:27]
    empty = np.flatnonzero(reg == 0)
    undeclared = rng.permutation(empty)[:10]
    verified_days[stale] = rng.integers(400, 900, stale.size)
    hh["registered"] = reg
    hh["last_verified"] = [f"{as_of - pd.Timedelta(days=int(v)):%Y-%m-%d}" for v in verified_days]
    months = pd.period_range(f"{end_year - 1}-12", f"{end_year}-12", freq="M")
    m = len(months)
    persons = reg.astype(float)
    occupied = reg > 0
    occupied[undeclared] = True
    occ_persons = np.where(reg > 0, persons, rng.integers(2, 4, n))
    water = np.where(occupied[:, None], 3.0 * occ_persons[:, None] * rng.lognormal(0, 0.25, (n, m)), 0.0)
    power = np.where(occupied[:, None], (60 + 40 * occ_persons[:, None]) * rng.lognormal(0, 0.25, (n, m)),
                     rng.uniform(0, 1.2, (n, m)))
    gas = np.where(occupied[:, None], 1.5 * occ_persons[:, None] * rng.lognormal(0, 0.3, (n, m)), 0.0)
    water[zombie] = rng.uniform(0, 0.1, (zombie.size, m))
    power[zombie] = rng.uniform(0, 1.2, (zombie.size, m))
    gas[zombie] = 0.0
    crowd = rng.integers(9, 14, group.size)
    water[group] = 3.0 * crowd[:, None] * rng.lognormal(0, 0.15, (group.size, m))
    power[group] = (60 + 40 * crowd[:, None]) * rng.lognormal(0, 0.15, (group.size, m))
    ut = pd.DataFrame({
        "address_code": np.repeat(code, m), "month": np.tile([str(p) for p in months], n),
        "water_m3": np.round(water.ravel(), 2), "power_kwh": np.round(power.ravel(), 1),
        "gas_m3": np.round(gas.ravel(), 2)})
    bad = pd.DataFrame({"address_code": ["310190999999X001", "UNKNOWN-17", "310190001001999Z", code[0]],
                        "month": [f"{end_year}-03", f"{end_year}-04", f"{end_year}-05", f"{end_year}-13"],
                        "water_m3": [5.0, 3.0, 2.0, 4.0], "power_kwh": [120.0, 90.0, 80.0, 100.0],
                        "gas_m3": [1.0, 1.0, 1.0, 1.0]})
    ut = pd.concat([ut, bad], ignore_index=True)
    _add_heads(hh, seed)
    ids = hh["household_id"].to_numpy()
    truth = {"as_of": f"{as_of:%Y-%m-%d}", "households": n, "zombie": sorted(ids[zombie].tolist()),
             "group_rental": sorted(ids[group].tolist()), "undeclared": sorted(ids[undeclared].tolist()),
             "stale": sorted(ids[stale].tolist()), "unmatched_rows": 4}
    return hh, ut, truth


def _id_check(body: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident-ID number."""
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * k for c, k in zip(body, w, strict=True)) % 11]


def _add_heads(hh: pd.DataFrame, seed: int) -> None:
    """Synthetic head of household (户主姓名, 身份证号) for households with persons registered (own random stream, so
    the registry's planted facts do not move). Fictitious: the numbers are well-formed but belong to nobody."""
    from anju.demo.names import DISTRICT_CODE, GIVEN_CHARS, SURNAME_WEIGHTS, SURNAMES

    rng = np.random.default_rng([seed, 23])
    n = len(hh)
    w = np.asarray(SURNAME_WEIGHTS) / sum(SURNAME_WEIGHTS)
    sur = rng.choice(len(SURNAMES), n, p=w)
    g1, g2 = rng.choice(len(GIVEN_CHARS), n), rng.choice(len(GIVEN_CHARS), n)
    two = rng.random(n) < 0.7
    names = [SURNAMES[a] + GIVEN_CHARS[b] + (GIVEN_CHARS[c] if t else "") for a, b, c, t in zip(sur, g1, g2, two,
                                                                                                strict=True)]
    born = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 55, n), unit="D")
    seq = rng.integers(0, 1000, n)
    bodies = [f"{DISTRICT_CODE}{b:%Y%m%d}{q:03d}" for b, q in zip(born, seq, strict=True)]
    has = pd.to_numeric(hh["registered"]).to_numpy() > 0
    hh["户主姓名"] = np.where(has, names, "")
    hh["身份证号"] = np.where(has, [b + _id_check(b) for b in bodies], "")


def generate_duty_files(out_dir: Path, *, seed: int = 42, end_year: int, days: int = 7, every_s: float = 10.0,
                        units_per_shift: int = 2) -> dict[str, Path]:
    """Write the duty files of the demo into ``out_dir`` (the last ``days`` days of ``end_year``); returns paths."""
    d = district_for(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    last = pd.Timestamp(f"{end_year}-12-31")
    day_list = [last - pd.Timedelta(days=days - 1 - i) for i in range(days)]
    plan, tracks, t_truth = _tracks(d, seed, day_list, every_s, units_per_shift)
    lon, lat = _lonlat(tracks["x"].to_numpy(), tracks["y"].to_numpy())
    trk = pd.DataFrame({"巡组": tracks["unit"], "定位时间": pd.to_datetime(tracks["t"], unit="s").dt.strftime(
        "%Y-%m-%d %H:%M:%S"), "经度": np.round(lon, 6), "纬度": np.round(lat, 6)})
    stops, s_truth = _stop_checks(d, seed, day_list)
    slon, slat = _lonlat(stops["x"].to_numpy(), stops["y"].to_numpy())
    stops_out = pd.DataFrame({"盘查编号": stops["check_id"], "盘查时间": stops["time"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                              "经度": np.round(slon, 6), "纬度": np.round(slat, 6), "盘查结果": stops["result"],
                              "是否抓获": np.where(stops["arrest"], "是", "否")})
    hh, ut, r_truth = _registry(d, seed, end_year)
    paths = {k: out / v for k, v in DUTY_FILES.items()}
    plan.to_csv(paths["plan"], index=False, date_format="%Y-%m-%d %H:%M:%S")
    trk.to_csv(paths["tracks"], index=False)
    stops_out.to_csv(paths["stop_checks"], index=False)
    hh.to_csv(paths["households"], index=False)
    ut.to_csv(paths["utilities"], index=False)
    truth = {"seed": seed, "days": [f"{x:%Y-%m-%d}" for x in day_list], "every_s": every_s, "tracks": t_truth,
             "stop_checks": s_truth, "registry": r_truth}
    paths["truth"].write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


def load_duty_demo(settings: Any, out_dir: Path, *, seed: int, scale: float, end_year: int) -> dict[str, Any]:
    """Generate the duty files (a week at 10 s from scale 0.5 up, else two days at 30 s) and import them."""
    from anju.duty.imports import import_file

    big = scale >= 0.5
    paths = generate_duty_files(Path(out_dir), seed=seed, end_year=end_year, days=7 if big else 2,
                                every_s=10.0 if big else 30.0)
    results = {}
    for kind, crs in (("households", "wgs84"), ("utilities", "wgs84"), ("plan", "wgs84"), ("tracks", "gcj02"),
                      ("stop_checks", "gcj02")):
        results[kind] = import_file(settings, paths[kind], kind, crs=crs)
    return results
