"""KPI definitions against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anju.duty.kpi import DISTRICT, compute_kpis, load_kpis, rows_behind
from anju.errors import ConfigError


def _tables() -> dict[str, pd.DataFrame]:
    inc = pd.DataFrame({
        "record_key": [f"r{i}" for i in range(16)],
        "station_id": ["S1"] * 4 + ["S2"] * 2 + ["S1"] * 8 + ["S2"] * 2,
        "month": ["2025-12"] * 6 + ["2024-12"] * 10,
        "preventable": [True, True, False, False, True, False] + [True] * 10,
    })
    com = pd.DataFrame({"community_id": ["c1", "c2", "c3"], "station_id": ["S1", "S1", "S2"],
                        "households": [1000, 1000, 500]})
    dos = pd.DataFrame({"plan_id": ["a", "b", "c"], "station_id": ["S1", "S1", "S2"], "month": "2025-12",
                        "planned_minutes": [30.0, 30.0, 20.0], "credited_minutes": [30.0, 0.0, 15.0]})
    stops = pd.DataFrame({"check_id": ["k1", "k2", "k3", "k4", "k5"], "station_id": ["S1"] * 4 + ["S2"],
                          "month": "2025-12", "arrest": [True, False, False, False, True]})
    vis = pd.DataFrame({"community_id": ["c1", "c2", "c3"], "station_id": ["S1", "S1", "S2"], "month": "2025-12",
                        "hours_with_visit": [12, 6, 24], "hours": [24, 24, 24]})
    return {"incidents": inc, "communities": com, "dosage": dos, "stop_checks": stops, "visibility": vis}


def test_shipped_definitions_against_hand_computation() -> None:
    k = compute_kpis(load_kpis(), _tables(), "2025-12").set_index(["station_id", "kpi"])
    # 警情下降率: S1 4 calls vs 8 last December → 50 %; S2 2 vs 2 → 0 %; district 6 vs 10 → 40 %
    assert k.loc[("S1", "call_decline"), "value"] == pytest.approx(50.0)
    assert k.loc[("S2", "call_decline"), "value"] == pytest.approx(0.0)
    assert k.loc[(DISTRICT, "call_decline"), "value"] == pytest.approx(40.0)
    # its test: conditional binomial, 4 of 12 under p = 1/2
    assert k.loc[("S1", "call_decline"), "p_value"] == pytest.approx(stats.binomtest(4, 12, 0.5).pvalue)
    # 可防性案件发案率: S1 2 preventable / 2000 households × 1000 = 1.0; S2 1 / 500 × 1000 = 2.0
    assert k.loc[("S1", "preventable_rate"), "value"] == pytest.approx(1.0)
    assert k.loc[("S2", "preventable_rate"), "value"] == pytest.approx(2.0)
    assert k.loc[(DISTRICT, "preventable_rate"), "value"] == pytest.approx(3 / 2500 * 1000)
    # 勤务落实率: S1 30/60 = 50 %, S2 15/20 = 75 %, district 45/80
    assert k.loc[("S1", "duty_fulfilment"), "value"] == pytest.approx(50.0)
    assert k.loc[(DISTRICT, "duty_fulfilment"), "value"] == pytest.approx(45 / 80 * 100)
    # 盘查抓获率: S1 1/4, S2 1/1
    assert k.loc[("S1", "arrest_rate"), "value"] == pytest.approx(25.0)
    assert k.loc[("S2", "arrest_rate"), "value"] == pytest.approx(100.0)
    # 见警率: S1 18 / 48, district 42 / 72
    assert k.loc[("S1", "visibility"), "value"] == pytest.approx(37.5)
    assert k.loc[(DISTRICT, "visibility"), "value"] == pytest.approx(42 / 72 * 100)
    # ranks: lower preventable rate is better, higher fulfilment is better
    assert k.loc[("S1", "preventable_rate"), "rank"] == 1 and k.loc[("S2", "preventable_rate"), "rank"] == 2
    assert k.loc[("S2", "duty_fulfilment"), "rank"] == 1
    assert np.isnan(k.loc[(DISTRICT, "duty_fulfilment"), "rank"])


def test_rows_behind_are_the_rows_counted() -> None:
    t = _tables()
    r = rows_behind(load_kpis(), t, "preventable_rate", "2025-12", "S1")
    assert r["numerator"]["record_key"].tolist() == ["r0", "r1"]
    assert r["denominator"]["households"].sum() == 2000
    r = rows_behind(load_kpis(), t, "call_decline", "2025-12", "S1")
    assert len(r["denominator"]) == 8 and set(r["denominator"]["month"]) == {"2024-12"}


def test_custom_definitions_and_clear_errors(tmp_path) -> None:
    p = tmp_path / "weifang.toml"
    p.write_text('name = "x"\n[measures.a]\ntable = "stop_checks"\nagg = "count"\n'
                 '[[kpi]]\ncode = "k"\nzh = "盘查数"\nen = "stops"\nkind = "ratio"\nnumerator = "a"\n'
                 'denominator = "b"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'b'"):
        load_kpis(p)
    p.write_text('name = "x"\n[measures.a]\ntable = "stop_checks"\nagg = "sum"\n[[kpi]]\ncode = "k"\n'
                 'zh = "z"\nen = "e"\nkind = "ratio"\nnumerator = "a"\ndenominator = "a"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="needs a column"):
        load_kpis(p)
    with pytest.raises(ConfigError, match="YYYY-MM"):
        compute_kpis(load_kpis(), _tables(), "December")
