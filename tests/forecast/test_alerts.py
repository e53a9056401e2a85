"""Alert levels against a hand computation, on a surge, and their false-alarm rate on stationary data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anju.forecast.alerts import alert_levels
from shipped import TAX


def daily_events(counts: dict[str, list[int]], start: str, family: str = "theft") -> pd.DataFrame:
    rows = []
    days = pd.date_range(start, periods=len(next(iter(counts.values()))))
    for unit, series in counts.items():
        for d, n in zip(days, series, strict=True):
            rows += [(d + pd.Timedelta(hours=10), unit, "s1", family)] * n
    return pd.DataFrame(rows, columns=["reported_at", "community_id", "station_id", "family"])


def test_daily_level_by_hand() -> None:
    # 8 weeks + the target day; same-weekday counts 2,3,1,2,2,3,1,2 (sum 16), target day 9
    series = [0] * 57
    for k, c in enumerate([2, 3, 1, 2, 2, 3, 1, 2], start=1):
        series[56 - 7 * k] = c
    series[56] = 9
    df = daily_events({"c1": series}, "2024-01-01")
    on = pd.Timestamp("2024-01-01") + pd.Timedelta(days=56)
    res = alert_levels(df, on=on, by="community_id", windows=(1,), seasonal=False, taxonomy=TAX)
    row = res[(res.family == "theft")].iloc[0]
    lam = (16 + 0.5) / 8
    assert row.expected == pytest.approx(lam)
    assert row.p_value == pytest.approx(stats.poisson.sf(8, lam))
    assert row.level == 3  # p ≈ 1e-3 or less
    assert row.reason.startswith("当日(2月26日 周一)盗窃警情9起,基线2.1起")
    assert "99.9%控制上限" in row.reason
    en = alert_levels(df, on=on, by="community_id", windows=(1,), seasonal=False, lang="en", taxonomy=TAX)
    assert "Theft" in en.iloc[0].reason or "theft" in en.iloc[0].reason


def test_seven_day_surge_and_min_count() -> None:
    rng = np.random.default_rng(0)
    base = rng.poisson(1.0, 70).tolist()
    surge = [*base[:63], 4, 3, 5, 4, 3, 4, 5]
    quiet = [0] * 69 + [2]  # two events where there were none: below min_count
    df = daily_events({"hot": surge, "calm": quiet}, "2024-03-01")
    on = pd.Timestamp("2024-03-01") + pd.Timedelta(days=69)
    res = alert_levels(df, on=on, by=["community_id", "station_id"], windows=(7,), seasonal=False, taxonomy=TAX)
    hot = res[(res.unit_id == "hot") & (res.family == "all")].iloc[0]
    assert hot.level >= 2 and hot.reason.startswith("近7日全部警情28起")
    calm = res[(res.unit_id == "calm") & (res.family == "theft")].iloc[0]
    assert calm.observed == 2 and calm.level == 0
    assert set(res.unit_level) == {"community_id", "station_id"}
    assert res["level"].is_monotonic_decreasing


def test_false_alarm_rate_on_stationary_counts() -> None:
    rng = np.random.default_rng(42)
    units = {f"c{i}": rng.poisson(1.5, 64).tolist() for i in range(300)}
    df = daily_events(units, "2024-01-01")
    on = pd.Timestamp("2024-01-01") + pd.Timedelta(days=63)
    res = alert_levels(df, on=on, by="community_id", families=["theft"], windows=(1, 7), seasonal=False, taxonomy=TAX)
    res = res[res.family == "theft"]
    rate = (res["level"] >= 1).mean()
    assert rate < 0.06  # nominal 5 % (discrete and conservative), with no real change anywhere
    assert (res["level"] >= 3).mean() < 0.01


def test_seasonal_factor_uses_last_year() -> None:
    # a district where March is 1.5× busier than January–February, every year
    days = pd.date_range("2023-01-01", "2024-03-10")
    rng = np.random.default_rng(5)
    lam = np.where(days.month == 3, 6.0, 4.0)
    df = daily_events({"c1": rng.poisson(lam).tolist()}, "2023-01-01")
    res = alert_levels(df, on="2024-03-10", by="community_id", windows=(7,), families=["theft"], taxonomy=TAX)
    row = res[res.family == "theft"].iloc[0]
    assert row.seasonal > 1.15
    flat = alert_levels(df, on="2024-03-10", by="community_id", windows=(7,), families=["theft"], seasonal=False, taxonomy=TAX)
    assert flat[flat.family == "theft"].iloc[0].seasonal == 1.0
