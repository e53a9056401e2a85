"""The planted duty facts of the demo are found, and nothing else is flagged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from anju.deployment import load_deployment
from anju.duty.dosage import dosage, visibility
from anju.duty.imports import import_file, read_store
from anju.duty.kpi import compute_kpis, load_kpis, rows_behind
from anju.duty.service import clean_stored_tracks, kpi_tables, plans_used, registry_worklist


def _day(t: dict[str, Any]) -> tuple[pd.Timestamp, pd.Timestamp]:
    days = pd.to_datetime(t["days"])
    return days.min(), days.max() + pd.Timedelta(days=1)


def test_every_row_accounted_and_reimport_changes_nothing(duty_demo: dict[str, Any]) -> None:
    res = duty_demo["result"].duty
    truth = duty_demo["truth"]
    tracks_csv = pd.read_csv(duty_demo["dir"] / "patrol_tracks.csv")
    assert res["tracks"].loaded + len(res["tracks"].rejected) == len(tracks_csv)
    assert len(res["tracks"].rejected) == 0
    assert len(res["utilities"].rejected) == truth["registry"]["unmatched_rows"]
    assert set(res["utilities"].rejected["row"]) == set(range(62401, 62405))
    before = len(read_store(duty_demo["settings"], "tracks"))
    again = import_file(duty_demo["settings"], duty_demo["dir"] / "patrol_tracks.csv", "tracks", crs="gcj02")
    assert again.skipped and len(read_store(duty_demo["settings"], "tracks")) == before


def test_tracks_find_the_parked_car_the_gap_and_the_spikes(duty_demo: dict[str, Any]) -> None:
    t = duty_demo["truth"]
    lo, hi = _day(t)
    ct = clean_stored_tracks(duty_demo["settings"], lo, hi + pd.Timedelta(hours=8))
    fx = ct.fixes
    parked_units = set(fx.loc[fx["parked"], "unit"])
    assert parked_units == {t["tracks"]["parked"]["unit"]}
    assert ct.stats["parked_episodes"] == 1
    # the 75-minute stop merges with the scheduled stop at the same box that follows it: 75–95 minutes parked
    assert 75 / 60 <= ct.stats["parked_hours"] <= 95 / 60
    assert set(fx.loc[fx["gap"], "unit"]) == {t["tracks"]["gap"]["unit"]} and ct.stats["gaps"] == 1
    assert ct.stats["gap_hours"] == pytest.approx(25 / 60, abs=1 / 60)
    # spikes: at least 90 % of the planted ones dropped (two in a row or at a track's end may stay)
    assert 0.9 * t["tracks"]["spikes"] <= ct.stats["spikes_dropped"] <= t["tracks"]["spikes"]


def test_dosage_flags_only_planted_shifts(duty_demo: dict[str, Any]) -> None:
    t = duty_demo["truth"]
    lo, hi = _day(t)
    s = duty_demo["settings"]
    plan = plans_used(s, lo, hi)
    d = dosage(clean_stored_tracks(s, lo, hi + pd.Timedelta(hours=8)), plan)
    missed = set(d.loc[d["status"] == "missed", "plan_id"])
    assert missed == {t["tracks"]["skipped"]["plan_id"]}
    planted_units = {t["tracks"][k]["unit"] for k in ("parked", "gap", "skipped")}
    first_day = pd.Timestamp(t["days"][0])
    bad = d[d["status"] != "fulfilled"]
    assert set(bad["unit"]) <= planted_units
    assert (pd.to_datetime(bad["shift_start"]).dt.normalize() == first_day).all()
    # false-positive rate: no plan row of an unplanted unit-shift is short or missed (0 of this many)
    clean = d[~(d["unit"].isin(planted_units) & (pd.to_datetime(d["shift_start"]).dt.normalize() == first_day))]
    assert len(clean) >= 200 and (clean["status"] == "fulfilled").all()
    parked = d[d["box_id"] == t["tracks"]["parked"]["box_id"]].iloc[0]
    assert parked["minutes"] < parked["planned_minutes"] - 15  # the parked hour was not credited


def test_registry_finds_the_planted_records_and_nothing_else(duty_demo: dict[str, Any]) -> None:
    r = duty_demo["truth"]["registry"]
    w = registry_worklist(duty_demo["settings"], r["as_of"])
    for flag in ("zombie", "group_rental", "undeclared", "stale"):
        assert sorted(w.loc[w["flag"] == flag, "household_id"]) == r[flag], flag
    # 4,800 households, 45 planted, 45 flagged: false-positive rate 0
    assert len(w) == sum(len(r[f]) for f in ("zombie", "group_rental", "undeclared", "stale"))
    assert w["evidence"].str.len().min() > 5


def test_kpis_on_the_demo_match_hand_counts(duty_demo: dict[str, Any]) -> None:
    s = duty_demo["settings"]
    month = "2025-12"
    tables = kpi_tables(load_deployment(s), month)
    k = compute_kpis(load_kpis(), tables, month).set_index(["station_id", "kpi"])
    stops = pd.read_csv(duty_demo["dir"] / "stop_checks.csv")
    stations = read_store(s, "stop_checks").set_index("check_id")["station_id"]
    stops["station"] = stops["盘查编号"].map(stations)
    ps04 = stops[stops["station"] == "PS04"]
    assert k.loc[("PS04", "arrest_rate"), "value"] == pytest.approx((ps04["是否抓获"] == "是").mean() * 100)
    assert k.loc[("PS04", "arrest_rate"), "rank"] == 1  # planted: 25 % against 4 %
    inc = tables["incidents"]
    this, last = (inc["month"] == "2025-12").sum(), (inc["month"] == "2024-12").sum()
    assert k.loc[("全区", "call_decline"), "value"] == pytest.approx((last - this) / last * 100)
    behind = rows_behind(load_kpis(), tables, "duty_fulfilment", month, "PS03")
    assert k.loc[("PS03", "duty_fulfilment"), "value"] == pytest.approx(
        behind["numerator"]["credited_minutes"].sum() / behind["denominator"]["planned_minutes"].sum() * 100)
    assert k.loc[("PS03", "duty_fulfilment"), "value"] < 100  # the skipped box
    assert k.loc[("PS05", "duty_fulfilment"), "value"] == pytest.approx(100)


def test_visibility_per_community(duty_demo: dict[str, Any]) -> None:
    t = duty_demo["truth"]
    lo, hi = _day(t)
    ct = clean_stored_tracks(duty_demo["settings"], lo, hi)
    v = visibility(ct)
    assert v["hours_with_visit"].between(0, 24).all()
    assert (v["visibility"] == v["hours_with_visit"] / 24).all()
    assert np.isclose(v["minutes"].sum() * 60, ct.fixes.loc[ct.fixes["community_id"].notna(), "credited_s"].sum())
