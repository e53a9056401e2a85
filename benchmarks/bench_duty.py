"""Duty benchmark: a month of GPS tracks for 60 patrol units at 10-second intervals (about 15.5 M fixes), cleaned
(gaps, drift spikes, parked cars), measured against a plan of about 21,600 hot-box shifts (dosage) and summed into
visibility per area and day. Goal: the whole processing in < 60 s on the project machine (2 cores).

``--quick`` runs 6 units (1.5 M fixes). Usage: ``python benchmarks/bench_duty.py [--quick]``
"""

from __future__ import annotations

import platform
import resource
import sys
import time

import numpy as np
import pandas as pd

from anju.duty.dosage import PLAN_COLUMNS, dosage, visibility
from anju.duty.tracks import clean_tracks

SEG_S = 960  # a 12-minute stop and a 4-minute drive
STOP_S = 720
BOXES_PER_SHIFT = 4


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make(units: int, days: int, every_s: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units rotating through 4 hot boxes per 8-hour shift (12-minute stops), 5 m GPS noise, 1 spike in 2,000."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2025-11-01").value // 10**9
    n_per = int(days * 86400 / every_s)
    ts = np.arange(n_per) * every_s
    shifts = days * 3
    # box centres per unit and shift, inside a 12 × 12 km district
    centres = rng.uniform(0, 12_000, (units, shifts, BOXES_PER_SHIFT, 2))
    frames = []
    plan = []
    for u in range(units):
        seg = (ts // SEG_S).astype(np.int64)
        phase = ts - seg * SEG_S
        shift = (ts // (8 * 3600)).astype(np.int64)
        k = seg % BOXES_PER_SHIFT
        here = centres[u, shift, k]
        nxt = centres[u, shift, (k + 1) % BOXES_PER_SHIFT]
        f = np.clip((phase - STOP_S) / (SEG_S - STOP_S), 0, 1)[:, None]
        xy = here + (nxt - here) * f + rng.normal(0, 5, (n_per, 2))
        spikes = rng.random(n_per) < 1 / 2000
        xy[spikes] += rng.uniform(1000, 3000, (int(spikes.sum()), 2))
        frames.append(pd.DataFrame({"unit": np.full(n_per, u, dtype=np.int32), "t": t0 + ts, "x": xy[:, 0],
                                    "y": xy[:, 1]}))
        for sh in range(shifts):
            for b in range(BOXES_PER_SHIFT):
                plan.append((f"u{u}-s{sh}-b{b}", "S1", "x", t0 + sh * 8 * 3600, t0 + (sh + 1) * 8 * 3600, str(u),
                             f"u{u}-s{sh}-b{b}", centres[u, sh, b, 0], centres[u, sh, b, 1], 100.0, 84.0, 7))
    tr = pd.concat(frames, ignore_index=True)
    tr["t"] = pd.to_datetime(tr["t"], unit="s")
    tr["unit"] = pd.Categorical(tr["unit"])
    # areas: 1-km cells as integer codes (communities in production)
    tr["community_id"] = (np.clip(tr["x"] // 1000, 0, 11) * 12 + np.clip(tr["y"] // 1000, 0, 11)).astype(np.int32)
    p = pd.DataFrame(plan, columns=list(PLAN_COLUMNS))
    p["shift_start"] = pd.to_datetime(p["shift_start"], unit="s")
    p["shift_end"] = pd.to_datetime(p["shift_end"], unit="s")
    return tr, p


def timed(label: str, fn, goal: float | None = None):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    dw, dc = time.perf_counter() - w, time.process_time() - c
    verdict = "" if goal is None else (" ✓" if dw < goal else f" ✗ (goal < {goal:.0f} s)")
    print(f"{label:<60s} wall {dw:7.2f} s  CPU {dc:7.2f} s  peak RSS {peak_rss_mb():6.0f} MB{verdict}", flush=True)
    return out, dw


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    units = 6 if quick else 60
    print(f"machine: {platform.platform()}, python {platform.python_version()}, cpus {__import__('os').cpu_count()}")
    (tr, plan), _ = timed(f"generate {units} units × 30 days at 10 s", lambda: make(units, 30, 10.0))
    print(f"   {len(tr):,} fixes, {len(plan):,} plan rows")
    ct, a = timed("clean_tracks (sort, spikes, gaps, parked)", lambda: clean_tracks(tr))
    print(f"   spikes dropped {ct.stats['spikes_dropped']:.0f}, gaps {ct.stats['gaps']:.0f}, "
          f"parked episodes {ct.stats['parked_episodes']:.0f}, credited {ct.stats['credited_hours']:.0f} h")
    d, b = timed("dosage against the plan", lambda: dosage(ct, plan))
    print(f"   fulfilled {(d['status'] == 'fulfilled').mean():.1%} of {len(d):,} plan rows")
    v, c = timed("visibility per area and day", lambda: visibility(ct))
    print(f"   {len(v):,} area-days")
    total = a + b + c
    ok = total < 60 or quick
    print(f"processing total {total:.1f} s (goal < 60 s for 60 units) {'✓' if ok else '✗'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
