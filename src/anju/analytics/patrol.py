"""Guard electronic patrol (电子巡更) compliance from checkpoint scans against each community's patrol plan.

A scan log holds ``community_id, guard_id, checkpoint, scanned_at``. Scans of one guard are cut into *rounds* where
two scans are more than ``round_gap_min`` minutes apart. The plan of a community names its number of checkpoints and
its scheduled round start times (day and night slots). Each scheduled slot of each day is matched to the first round
starting at or after it within ``window_min`` minutes (``pandas.merge_asof``): on time within ``late_min``, late
after that, missed when no round starts in the window. A round covers the distinct checkpoints it scanned;
consecutive scans closer than ``min_walk_s`` seconds are *too fast to be walked* — the known cheat of scanning
photographed tags in the guard room — and do not count as covered.

Compliance = share of scheduled rounds done × mean checkpoint coverage of the rounds done; night compliance is the
same over night slots only. Everything is vectorised (no loop over scans).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from anju.analytics._common import AnalyticsError

__all__ = ["PLAN_COLUMNS", "SCAN_COLUMNS", "patrol_compliance", "patrol_rounds", "patrol_slots"]

SCAN_COLUMNS = ("community_id", "guard_id", "checkpoint", "scanned_at")
PLAN_COLUMNS = ("community_id", "checkpoints", "day_slots", "night_slots")


def _check(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    absent = [c for c in cols if c not in df.columns]
    if absent:
        raise AnalyticsError(f"the {what} table lacks {', '.join(absent)}; expected columns {', '.join(cols)}")


def patrol_rounds(scans: pd.DataFrame, *, round_gap_min: float = 30, min_walk_s: float = 20) -> pd.DataFrame:
    """Rounds from scans: ``community_id, guard_id, round_id, start, end, scans, checkpoints`` (distinct, walked),
    ``fast_scans`` (scans following the previous one by less than ``min_walk_s`` seconds)."""
    _check(scans, SCAN_COLUMNS, "patrol scan")
    s = scans[list(SCAN_COLUMNS)].copy()
    s["scanned_at"] = pd.to_datetime(s["scanned_at"], format="mixed")
    s = s.sort_values(["community_id", "guard_id", "scanned_at"], kind="stable").reset_index(drop=True)
    same = (s["community_id"].eq(s["community_id"].shift())) & (s["guard_id"].eq(s["guard_id"].shift()))
    gap = (s["scanned_at"] - s["scanned_at"].shift()).dt.total_seconds()
    new_round = ~same | (gap > round_gap_min * 60)
    s["round_id"] = new_round.cumsum()
    s["fast"] = (~new_round) & (gap < min_walk_s)
    # a fast scan's checkpoint was not walked: drop it from coverage (the first scan of a round always counts)
    walked = s[~s["fast"]]
    cover = walked.groupby("round_id")["checkpoint"].nunique()
    r = s.groupby("round_id").agg(community_id=("community_id", "first"), guard_id=("guard_id", "first"),
                                  start=("scanned_at", "min"), end=("scanned_at", "max"),
                                  scans=("checkpoint", "size"), fast_scans=("fast", "sum"))
    r["checkpoints"] = cover.reindex(r.index).fillna(0).astype("int64")
    r["fast_scans"] = r["fast_scans"].astype("int64")
    return r.reset_index()[["community_id", "guard_id", "round_id", "start", "end", "scans", "checkpoints",
                            "fast_scans"]]


def _slot_list(v: object) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, str):
        return [x.strip() for x in v.replace("；", ";").replace(",", ";").split(";") if x.strip()]
    return [str(x) for x in v]  # type: ignore[attr-defined]


def patrol_slots(plans: pd.DataFrame, first_day: dt.date, last_day: dt.date) -> pd.DataFrame:
    """Every scheduled round: ``community_id, slot_at, night`` for each day from ``first_day`` to ``last_day``.

    Slots are ``HH:MM`` texts (``"22:00;01:00"``, or lists). A night slot before noon belongs to the night that
    began the day before, so a night shift of day *d* runs into the early hours of *d + 1*.
    """
    _check(plans, PLAN_COLUMNS, "patrol plan")
    rows = []
    for night, col in ((False, "day_slots"), (True, "night_slots")):
        for cid, slots in zip(plans["community_id"], plans[col], strict=True):
            for text in _slot_list(slots):
                try:
                    hh, mm = (int(x) for x in text.split(":"))
                except ValueError:
                    raise AnalyticsError(f"patrol plan of {cid}: slot {text!r} is not HH:MM") from None
                offset = pd.Timedelta(hours=hh, minutes=mm) + (pd.Timedelta(days=1) if night and hh < 12
                                                               else pd.Timedelta(0))
                rows.append((cid, offset, night))
    if not rows:
        return pd.DataFrame({"community_id": [], "slot_at": pd.Series([], dtype="datetime64[ns]"), "night": []})
    base = pd.DataFrame(rows, columns=["community_id", "offset", "night"])
    days = pd.DataFrame({"day": pd.date_range(first_day, last_day, freq="D")})
    out = base.merge(days, how="cross")
    out["slot_at"] = out["day"] + out["offset"]
    return out[["community_id", "slot_at", "night"]].sort_values(["slot_at", "community_id"]).reset_index(drop=True)


def patrol_compliance(scans: pd.DataFrame, plans: pd.DataFrame, first_day: dt.date, last_day: dt.date, *,
                      late_min: float = 30, window_min: float = 120, round_gap_min: float = 30,
                      min_walk_s: float = 20) -> pd.DataFrame:
    """Per-community patrol findings over ``first_day`` … ``last_day`` (scheduled days).

    Returns one row per planned community: ``scheduled``, ``done``, ``late``, ``missed``, ``night_scheduled``,
    ``night_missed``, ``coverage`` (mean share of checkpoints walked per round done), ``fast_scans``, ``scans``,
    ``fast_scan_share``, ``round_rate`` (done / scheduled), ``patrol_compliance`` (round rate × coverage),
    ``night_compliance`` and ``guards`` (distinct guards who scanned).

    Examples
    --------
    >>> plans = pd.DataFrame({"community_id": ["c"], "checkpoints": [2], "day_slots": ["09:00"],
    ...                       "night_slots": ["23:00"]})
    >>> scans = pd.DataFrame({"community_id": ["c"] * 4, "guard_id": ["g"] * 4, "checkpoint": [1, 2, 1, 2],
    ...     "scanned_at": pd.to_datetime(["2025-11-01 09:05:00", "2025-11-01 09:15:00",
    ...                                   "2025-11-01 23:50:00", "2025-11-01 23:50:05"])})
    >>> r = patrol_compliance(scans, plans, dt.date(2025, 11, 1), dt.date(2025, 11, 1))
    >>> r[["scheduled", "done", "late", "coverage", "fast_scans", "patrol_compliance"]].to_dict("records")
    [{'scheduled': 2, 'done': 2, 'late': 1, 'coverage': 0.75, 'fast_scans': 1, 'patrol_compliance': 0.75}]
    """
    rounds = patrol_rounds(scans, round_gap_min=round_gap_min, min_walk_s=min_walk_s)
    slots = patrol_slots(plans, first_day, last_day)
    ncp = plans.set_index("community_id")["checkpoints"].astype(float)
    rounds = rounds.sort_values("start").reset_index(drop=True)
    rounds["start"] = rounds["start"].astype("datetime64[ns]")
    slots["slot_at"] = slots["slot_at"].astype("datetime64[ns]")
    m = pd.merge_asof(slots.sort_values("slot_at"), rounds[["community_id", "start", "round_id"]],
                      left_on="slot_at", right_on="start", by="community_id", direction="forward",
                      tolerance=pd.Timedelta(minutes=window_min))
    m["done"] = m["round_id"].notna()
    m["late"] = m["done"] & ((m["start"] - m["slot_at"]) > pd.Timedelta(minutes=late_min))
    used = rounds[rounds["round_id"].isin(m.loc[m["done"], "round_id"])].copy()
    used["coverage"] = np.minimum(used["checkpoints"] / used["community_id"].map(ncp).to_numpy(), 1.0)
    m = m.merge(used[["round_id", "coverage"]], on="round_id", how="left")
    g = m.groupby("community_id").agg(scheduled=("slot_at", "size"), done=("done", "sum"), late=("late", "sum"),
                                      coverage=("coverage", "mean"))
    night = m[m["night"].astype(bool)]
    gn = night.groupby("community_id").agg(night_scheduled=("slot_at", "size"), night_done=("done", "sum"),
                                           night_coverage=("coverage", "mean"))
    in_days = rounds[(rounds["start"] >= pd.Timestamp(first_day))
                     & (rounds["start"] < pd.Timestamp(last_day) + pd.Timedelta(days=1, hours=12))]
    gs = in_days.groupby("community_id").agg(scans=("scans", "sum"), fast_scans=("fast_scans", "sum"),
                                             guards=("guard_id", "nunique"))
    out = pd.DataFrame({"community_id": plans["community_id"].to_numpy()}).set_index("community_id")
    out = out.join(g).join(gn).join(gs)
    for c in ("scheduled", "done", "late", "night_scheduled", "night_done", "scans", "fast_scans", "guards"):
        out[c] = out[c].fillna(0).astype("int64")
    out["missed"] = out["scheduled"] - out["done"]
    out["night_missed"] = out["night_scheduled"] - out["night_done"]
    out["coverage"] = out["coverage"].fillna(0.0).round(4)
    out["fast_scan_share"] = np.where(out["scans"] > 0, out["fast_scans"] / out["scans"].clip(lower=1), 0.0)
    out["round_rate"] = np.where(out["scheduled"] > 0, out["done"] / out["scheduled"].clip(lower=1), np.nan)
    out["patrol_compliance"] = (out["round_rate"] * out["coverage"]).round(4)
    nrate = np.where(out["night_scheduled"] > 0, out["night_done"] / out["night_scheduled"].clip(lower=1), np.nan)
    out["night_compliance"] = np.round(nrate * out["night_coverage"].fillna(0.0).to_numpy(), 4)
    cols = ["scheduled", "done", "late", "missed", "night_scheduled", "night_missed", "coverage", "scans",
            "fast_scans", "fast_scan_share", "round_rate", "patrol_compliance", "night_compliance", "guards"]
    return out[cols].reset_index()
