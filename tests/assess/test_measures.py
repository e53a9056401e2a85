"""Patrol compliance, camera status, survey sample and intervals, WDD and the supervision effect on small data."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from statsmodels.stats.proportion import proportion_confint

from anju.analytics.cameras import camera_status
from anju.analytics.displacement import buffer_ring, wdd
from anju.analytics.patrol import patrol_compliance, patrol_rounds
from anju.analytics.supervision_effect import net_effect
from anju.analytics.survey import district_rate, draw_sample, survey_rates

DAY = dt.date(2025, 11, 3)


def _round(cid: str, guard: str, start: str, n: int, gap_s: float) -> pd.DataFrame:
    t0 = pd.Timestamp(start)
    return pd.DataFrame({"community_id": cid, "guard_id": guard, "checkpoint": np.arange(1, n + 1),
                         "scanned_at": [t0 + pd.Timedelta(seconds=gap_s * i) for i in range(n)]})


def test_patrol_on_time_late_missed_and_fast_scans() -> None:
    plans = pd.DataFrame({"community_id": ["a", "b"], "checkpoints": [4, 4], "day_slots": ["09:00", "09:00"],
                          "night_slots": ["22:00;02:00", "22:00;02:00"]})
    scans = pd.concat([
        _round("a", "g1", "2025-11-03 09:05", 4, 120),   # on time, full
        _round("a", "g2", "2025-11-03 22:50", 3, 120),   # late (50 min), 3 of 4 checkpoints
        # a's 02:00 round on the 4th is missing
        _round("b", "g3", "2025-11-03 09:00", 4, 5),     # photographed tags: 3 fast scans, 1 walked checkpoint
        _round("b", "g3", "2025-11-03 22:00", 4, 90),
        _round("b", "g4", "2025-11-04 02:10", 4, 90),
    ], ignore_index=True)
    r = patrol_compliance(scans, plans, DAY, DAY).set_index("community_id")
    assert r.loc["a", ["scheduled", "done", "late", "missed", "night_missed"]].tolist() == [3, 2, 1, 1, 1]
    assert r.loc["a", "coverage"] == pytest.approx((1 + 0.75) / 2)
    assert r.loc["a", "patrol_compliance"] == pytest.approx(2 / 3 * 0.875, abs=1e-4)
    assert r.loc["a", "night_compliance"] == pytest.approx(0.5 * 0.75)
    assert r.loc["b", "fast_scans"] == 3 and r.loc["b", "fast_scan_share"] == pytest.approx(3 / 12)
    assert r.loc["b", "coverage"] == pytest.approx((0.25 + 1 + 1) / 3, abs=1e-4)
    assert r.loc["b", "night_compliance"] == 1.0 and r.loc["b", "guards"] == 2


def test_rounds_split_on_gaps_and_guards() -> None:
    s = pd.concat([_round("a", "g1", "2025-11-03 09:00", 3, 60), _round("a", "g1", "2025-11-03 10:00", 3, 60),
                   _round("a", "g2", "2025-11-03 09:01", 3, 60)], ignore_index=True)
    r = patrol_rounds(s)
    assert len(r) == 3 and r["checkpoints"].tolist() == [3, 3, 3]


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="scanned_at"):
        patrol_rounds(pd.DataFrame({"community_id": [], "guard_id": [], "checkpoint": []}))


def test_camera_uptime_and_fault_rate_by_hand() -> None:
    inv = pd.DataFrame({"community_id": ["a"] * 4 + ["b"], "camera_id": ["1", "2", "3", "4", "5"],
                        "installed_at": ["2020-01-01"] * 3 + ["2025-11-16", "2020-01-01"]})
    f = pd.DataFrame({"camera_id": ["1", "2", "2", "5"],
                      "reported_at": ["2025-10-20", "2025-11-01", "2025-11-21", "2025-11-10 12:00"],
                      "repaired_at": ["2025-11-06", "2025-11-11", None, "2025-11-12 12:00"]})
    r = camera_status(inv, f, "2025-11").set_index("community_id")
    # a: camera 1 down 5 days, camera 2 down 10 + 10 days, camera 3 up, camera 4 live 15 days
    live, down = 30 * 3 + 15, 5 + 10 + 10
    assert r.loc["a", "camera_uptime"] == pytest.approx(round(1 - down / live, 4))
    assert r.loc["a", "faulty_end"] == 1 and r.loc["a", "camera_fault_rate"] == 0.25
    assert r.loc["a", "new_faults"] == 2 and r.loc["a", "repaired"] == 2
    assert r.loc["a", "mean_repair_days"] == pytest.approx((17 + 10) / 2)
    assert r.loc["b", "camera_uptime"] == pytest.approx(round(1 - 2 / 30, 4)) and r.loc["b", "faulty_end"] == 0
    bad = f.assign(repaired_at=["2025-10-01", None, None, None])
    with pytest.raises(ValueError, match="repaired before"):
        camera_status(inv, bad, "2025-11")


def test_sample_is_stratified_reproducible_and_changes_by_month() -> None:
    frame = pd.DataFrame({"community_id": np.repeat(["a", "b"], 100),
                          "building": np.r_[np.repeat([1, 2, 3], [50, 30, 20]), np.repeat([1, 2], [10, 90])],
                          "resident_ref": [f"r{i}" for i in range(200)]})
    s1 = draw_sample(frame, "2025-11", n=20, seed=3)
    assert s1.groupby("community_id").size().to_dict() == {"a": 20, "b": 20}
    assert s1[s1.community_id == "a"].groupby("building").size().to_dict() == {1: 10, 2: 6, 3: 4}
    assert s1[s1.community_id == "b"].groupby("building").size().to_dict() == {1: 2, 2: 18}
    assert s1.equals(draw_sample(frame.sample(frac=1, random_state=1), "2025-11", n=20, seed=3))
    assert set(s1["resident_ref"]) != set(draw_sample(frame, "2025-12", n=20, seed=3)["resident_ref"])
    assert s1["resident_ref"].is_unique


def test_survey_wilson_intervals_match_statsmodels_and_the_formula() -> None:
    ans = pd.DataFrame({"community_id": ["a"] * 20 + ["b"] * 20, "reached": [1] * 18 + [0, 0] + [1] * 20,
                        "satisfied": [1] * 15 + [0] * 3 + [1, 1] + [1] * 11 + [0] * 9,
                        "feel_safe": [1] * 18 + [0, 0] + [1] * 20})
    r = survey_rates(ans).set_index("community_id")
    assert r.loc["a", "reached"] == 18 and r.loc["a", "satisfied_n"] == 18  # answers of unreached calls ignored
    lo, hi = proportion_confint(15, 18, method="wilson")
    assert (r.loc["a", "satisfied_lo"], r.loc["a", "satisfied_hi"]) == pytest.approx((lo, hi))
    p, n, z = 11 / 20, 20, 1.959963984540054
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (r.loc["b", "satisfied_lo"], r.loc["b", "satisfied_hi"]) == pytest.approx((c - h, c + h))
    d = district_rate(r.reset_index(), pd.Series({"a": 1000, "b": 1000}))
    assert d["rate"] == pytest.approx((15 / 18 + 11 / 20) / 2)
    assert d["deff"] > 1 and d["n_eff"] < 38
    with pytest.raises(ValueError, match="1 \\(yes\\), 0"):
        survey_rates(ans.assign(satisfied=[2] * 40))


def test_wdd_equals_the_hand_computation() -> None:
    t, c, d, e = (120, 70), (200, 190), (90, 100), (150, 148)
    r = wdd(t, c, d, e)
    assert r["local"] == (70 - 120) - (190 - 200) == -40
    assert r["displacement"] == (100 - 90) - (148 - 150) == 12
    assert r["wdd"] == -28
    assert r["se"] == pytest.approx(math.sqrt(sum(t) + sum(c) + sum(d) + sum(e)))
    assert r["z"] == pytest.approx(-28 / r["se"])
    assert r["lo"] < -28 < r["hi"] and r["p"] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(r["z"]) / 2 ** .5))))
    only = wdd(t, c)
    assert only["wdd"] == -40 and only["displacement"] == 0


def test_buffer_ring_leaves_out_targets_and_excluded() -> None:
    grid = [shapely.box(x, y, x + 100, y + 100) for y in range(0, 500, 100) for x in range(0, 500, 100)]
    ids = [f"{i}" for i in range(25)]
    ring = buffer_ring(ids, grid, ["12"], distance=50, exclude=["7"])
    assert sorted(ring, key=int) == ["6", "8", "11", "13", "16", "17", "18"]


def test_net_effect_recovers_the_planted_effect_not_the_raw_drop() -> None:
    """Communities listed for a high count regress to the mean; the net effect must find the planted 0.6."""
    rng = np.random.default_rng(11)
    n, trend, effect = 400, 0.95, 0.6
    hh = rng.integers(800, 4000, n).astype(float)
    lam = hh / 1000 * rng.gamma(4, 6 / 4, n)  # heterogeneous true rates, a few to a few dozen a year
    pre = rng.poisson(lam)
    listed = np.argsort(-pre, kind="stable")[:20]
    mult = np.full(n, trend)
    mult[listed] *= effect
    effects, raws = [], []
    for rep in range(30):  # average over replications of the evaluation year
        post = np.random.default_rng([11, rep]).poisson(lam * mult)
        panel = pd.DataFrame({"area_id": np.arange(n), "count_pre": pre, "count_post": post, "exposure": hh / 1000})
        r = net_effect(panel, listed)
        effects.append(r["eb"]["effect"])
        raws.append(1 + r["raw_change"])
    eb = float(np.mean(effects))
    raw = float(np.mean(raws))
    assert eb == pytest.approx(effect, abs=0.04)
    assert raw < effect * trend - 0.02  # the raw ratio overstates the effect: regression to the mean
    r = net_effect(panel, listed)
    assert r["eb"]["lo"] < effect < r["eb"]["hi"]
    assert r["eb"]["expected_change"] < trend - 1 - 0.05  # without intervention the listed would fall more than the trend
    assert len(r["did"]["comparison_ids"]) == 40 and not set(r["did"]["comparison_ids"]) & set(listed)


def test_net_effect_is_null_under_pure_regression_to_the_mean() -> None:
    """No intervention at all: persistent rates, transient community × year shocks (gamma, CV 0.25) and Poisson
    counts; the top 15 of the base year fall by themselves, and the net effect's interval must contain 1."""
    n, k = 300, 1 / 0.25**2
    covered, raws, effects = 0, [], []
    for rep in range(20):
        rng = np.random.default_rng([5, rep])
        hh = rng.integers(800, 4000, n).astype(float)
        level = hh / 1000 * rng.gamma(3, 10 / 3, n)
        hist, pre, post = (rng.poisson(level * rng.gamma(k, 1 / k, n) * t) for t in (1.0, 0.95, 0.95**2))
        listed = np.argsort(-pre, kind="stable")[:15]
        panel = pd.DataFrame({"area_id": np.arange(n), "count_pre": pre, "count_post": post, "count_h": hist,
                              "exposure": hh / 1000})
        r = net_effect(panel, listed, history=[("count_h", 1.0)])
        covered += r["eb"]["lo"] < 1 < r["eb"]["hi"]
        raws.append(1 + r["raw_change"])
        effects.append(r["eb"]["effect"])
        assert 0.15 < r["transient_cv"] < 0.35  # the year-to-year variation is recovered
    assert np.mean(raws) < 0.85  # the listed fall by themselves (trend 0.95 and regression to the mean) …
    assert np.mean(effects) == pytest.approx(1.0, abs=0.05)  # … and the net effect is nil
    assert covered >= 18  # 95 % intervals: 19 of 20 on average
