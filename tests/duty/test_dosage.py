"""Dosage and visibility on hand-built tracks: every number here is worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anju.duty.dosage import PLAN_COLUMNS, DosageRules, dosage, hourly_coverage, visibility
from anju.duty.tracks import TrackRules, clean_tracks
from anju.errors import ConfigError

T0 = pd.Timestamp("2025-12-01 08:00")


def _leg(unit: str, start: pd.Timestamp, minutes: float, x0: float, y0: float, x1: float, y1: float,
         every_s: float = 10.0) -> pd.DataFrame:
    """Fixes every ``every_s`` seconds moving in a straight line from (x0, y0) to (x1, y1) over ``minutes``."""
    n = round(minutes * 60 / every_s)
    f = np.arange(n) / max(n, 1)
    return pd.DataFrame({"unit": unit, "t": start + pd.to_timedelta(np.arange(n) * every_s, unit="s"),
                         "x": x0 + (x1 - x0) * f, "y": y0 + (y1 - y0) * f})


def _stay(unit: str, start: pd.Timestamp, minutes: float, x: float, y: float, jitter: float = 0.0,
          seed: int = 0) -> pd.DataFrame:
    leg = _leg(unit, start, minutes, x, y, x, y)
    if jitter:
        rng = np.random.default_rng(seed)
        leg["x"] += rng.normal(0, jitter, len(leg))
        leg["y"] += rng.normal(0, jitter, len(leg))
    return leg


def _plan(rows: list[tuple[str, float, float, float, int]], start: pd.Timestamp = T0, hours: float = 8) -> pd.DataFrame:
    return pd.DataFrame([{"plan_id": f"p{i}", "station_id": "S1", "shift": "day", "shift_start": start,
                          "shift_end": start + pd.Timedelta(hours=hours), "unit": "A", "box_id": b, "x": x, "y": y,
                          "radius_m": 100.0, "planned_minutes": m, "planned_visits": v}
                         for i, (b, x, y, m, v) in enumerate(rows)])[list(PLAN_COLUMNS)]


def test_stop_of_twelve_minutes_counts_in_full() -> None:
    # drive 5 min to box B1 at (1000, 0), stop 12 min with 8 m drift, drive away 5 min
    pts = pd.concat([_leg("A", T0, 5, 0, 0, 1000, 0), _stay("A", T0 + pd.Timedelta(minutes=5), 12, 1000, 0, 8.0),
                     _leg("A", T0 + pd.Timedelta(minutes=17), 5, 1000, 0, 3000, 0)])
    ct = clean_tracks(pts)
    assert ct.stats["parked_episodes"] == 0
    d = dosage(ct, _plan([("B1", 1000, 0, 12, 1)]))
    row = d.iloc[0]
    # 12 min stationary inside, plus the approach fixes at 933 m and 967 m and the exit fixes at 1000 m and 1067 m
    # (10 s each; a fix exactly 100 m away is outside)
    assert row["minutes"] == pytest.approx(12 + 40 / 60)
    assert row["visits"] == 1
    assert row["status"] == "fulfilled"
    # the shift is 8 h: the longest gap is from the end of the visit (~17.1 min) to the shift end
    assert row["longest_gap_min"] == pytest.approx(480 - 17.1, abs=0.3)


def test_parked_car_is_never_credited() -> None:
    # the car sits 90 minutes at box B1: a parked car, not a patrol
    pts = pd.concat([_leg("A", T0, 5, 0, 0, 1000, 0), _stay("A", T0 + pd.Timedelta(minutes=5), 90, 1000, 0, 8.0),
                     _leg("A", T0 + pd.Timedelta(minutes=95), 5, 1000, 0, 3000, 0)])
    ct = clean_tracks(pts)
    assert ct.stats["parked_episodes"] == 1
    assert ct.stats["parked_hours"] == pytest.approx(1.5, abs=0.02)
    d = dosage(ct, _plan([("B1", 1000, 0, 12, 1)]))
    # only the seconds of driving in and out within 100 m of the box remain: not a visit
    assert d.iloc[0]["minutes"] < 0.5
    assert d.iloc[0]["visits"] == 0
    assert d.iloc[0]["status"] == "missed"


def test_gps_gap_is_not_presence() -> None:
    # 6 minutes at the box, then the receiver is silent for 20 minutes, then 6 more minutes at the box
    a = _stay("A", T0, 6, 1000, 0, 5.0, seed=1)
    b = _stay("A", T0 + pd.Timedelta(minutes=26), 6, 1000, 0, 5.0, seed=2)
    ct = clean_tracks(pd.concat([a, b]))
    assert ct.stats["gaps"] == 1
    assert ct.stats["gap_hours"] == pytest.approx((20 * 60 + 10) / 3600, abs=1e-6)
    d = dosage(ct, _plan([("B1", 1000, 0, 12, 2)]))
    # 2 × (6 min − the last interval of each piece, which has no next fix or is the gap)
    assert d.iloc[0]["minutes"] == pytest.approx(2 * 6 - 10 / 60, abs=1e-6) or \
        d.iloc[0]["minutes"] == pytest.approx(12 - 20 / 60, abs=1e-6)
    assert d.iloc[0]["visits"] == 2


def test_drift_spike_is_dropped() -> None:
    pts = _leg("A", T0, 10, 0, 0, 600, 0)
    pts.loc[30, "x"] += 2000.0  # one fix jumps 2 km away and back
    ct = clean_tracks(pts)
    assert ct.stats["spikes_dropped"] == 1
    assert len(ct.fixes) == len(pts) - 1


def test_skipped_box_is_missed_and_extra_time_does_not_compensate() -> None:
    # 40 minutes walking back and forth through box B1 at 1 m/s (moving, so never "parked"); B2 never visited
    ends = [(940.0, 1060.0), (1060.0, 940.0)]
    loop = pd.concat([_leg("A", T0 + pd.Timedelta(minutes=2 * i), 2, ends[i % 2][0], 0, ends[i % 2][1], 0)
                      for i in range(20)])
    ct = clean_tracks(loop)
    d = dosage(ct, _plan([("B1", 1000, 0, 15, 1), ("B2", 5000, 0, 15, 1)]))
    b1, b2 = d.iloc[0], d.iloc[1]
    assert b1["minutes"] > 35
    assert b1["credited_minutes"] == 15  # capped at the plan
    assert b2["minutes"] == 0 and b2["status"] == "missed" and b2["longest_gap_min"] == pytest.approx(480)
    assert d["credited_minutes"].sum() / d["planned_minutes"].sum() == pytest.approx(0.5)


def test_two_visits_and_longest_gap() -> None:
    # visits of 12 min at 08:00 and 10:00: gaps 0, 108 and 348 minutes
    a = _stay("A", T0, 12, 1000, 0)
    b = _stay("A", T0 + pd.Timedelta(hours=2), 12, 1000, 0)
    ct = clean_tracks(pd.concat([a, b]))
    d = dosage(ct, _plan([("B1", 1000, 0, 24, 2)]))
    assert d.iloc[0]["visits"] == 2
    assert d.iloc[0]["longest_gap_min"] == pytest.approx(480 - 132 + 10 / 60, abs=0.2)


def test_short_drive_through_is_not_a_visit() -> None:
    ct = clean_tracks(_leg("A", T0, 4, 0, 0, 2000, 0))  # 500 m/min through the box: ~24 s inside
    d = dosage(ct, _plan([("B1", 1000, 0, 12, 1)]), DosageRules(min_visit_minutes=2))
    assert d.iloc[0]["visits"] == 0
    assert 0 < d.iloc[0]["minutes"] < 1


def test_visibility_and_hourly_coverage() -> None:
    a = _stay("A", T0, 12, 1000, 0).assign(community_id="C1", grid_id="C1-1")
    b = _leg("A", T0 + pd.Timedelta(hours=3), 30, 0, 0, 3000, 0).assign(community_id="C2", grid_id="C2-1")
    ct = clean_tracks(pd.concat([a, b]), TrackRules())
    v = visibility(ct, areas=["C1", "C2", "C3"]).set_index("community_id")
    assert v.loc["C1", "hours_with_visit"] == 1 and v.loc["C2", "hours_with_visit"] == 1
    assert v.loc["C3", "hours_with_visit"] == 0 and v.loc["C3", "visibility"] == 0
    assert v.loc["C1", "minutes"] == pytest.approx(12 - 10 / 60)
    cov = hourly_coverage(ct)
    assert cov.loc["C1-1", 8] == 1 and cov.loc["C2-1", 11] == 1 and cov.values.sum() == 2


def test_plan_without_columns_is_refused() -> None:
    ct = clean_tracks(_leg("A", T0, 4, 0, 0, 2000, 0))
    with pytest.raises(ConfigError, match="missing"):
        dosage(ct, pd.DataFrame({"x": [1.0]}))
