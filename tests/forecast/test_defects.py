"""Known defects of issue 15: naive 7 days = 7 dates, month horizons, date-only data refused for shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anju.errors import ConfigError
from anju.forecast import NaiveHotspot, Window
from anju.forecast.events import date_only, parse_horizon, refuse_shift_on_dates
from anju.geo.regular_grid import RegularGrid


def test_naive_last_week_counts_seven_dates_of_midnight_data() -> None:
    days = pd.date_range("2024-01-01", "2024-01-14", freq="D")  # one event per date, all at 00:00
    x = np.where(days == pd.Timestamp("2024-01-07"), 150.0, 50.0)  # the 8th date back sits in the east cell
    ev = pd.DataFrame({"x": x, "y": np.full(len(days), 50.0), "t": days})
    g = RegularGrid.from_bounds(0, 0, 199, 99, 100.0)
    m = NaiveHotspot(period_days=7.0).fit(ev)
    surface = m.predict(g, Window.from_origin("2024-01-15", "7D"))
    assert surface[0, 1] == 0.0  # 2024-01-07 is 8 dates back: not in "the last 7 days"
    assert surface.sum() == pytest.approx(7.0)  # 7 dates with one event each


def test_horizons() -> None:
    assert parse_horizon("1M") == pd.Timedelta(days=30)
    assert parse_horizon("3M") == pd.Timedelta(days=90)
    assert parse_horizon("2W") == pd.Timedelta(days=14) and parse_horizon("8h") == pd.Timedelta(hours=8)
    assert Window.from_origin("2024-01-01", "1M").days == 30
    for bad in ("soon", "-1D", "0D", "M"):
        with pytest.raises(ConfigError, match="--horizon"):
            parse_horizon(bad)


def test_date_only_data_refuses_shifts() -> None:
    dates = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]))
    timed = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-02 13:45"]))
    assert date_only(dates) and not date_only(timed) and not date_only(pd.Series([], dtype="datetime64[ns]"))
    with pytest.raises(ConfigError, match="dates only"):
        refuse_shift_on_dates(dates, "夜班")
    refuse_shift_on_dates(dates, None)  # whole days are fine
    refuse_shift_on_dates(timed, "夜班")


def test_prospective_gives_no_weight_at_the_lookback_limit() -> None:
    """An event exactly ``lookback_days`` before the window (midnight dates) is outside the look-back (open_cp: 0)."""
    from anju.forecast import ProspectiveHotspot

    ev = pd.DataFrame({"x": [50.0, 150.0], "y": [50.0, 50.0],
                       "t": pd.to_datetime(["2024-01-01", "2024-02-20"])})  # 56 days and 5 days before
    g = RegularGrid.from_bounds(0, 0, 199, 99, 100.0)
    surface = ProspectiveHotspot(bandwidth_m=0.0, lookback_days=56.0).fit(ev).predict(g, ("2024-02-26", "2024-03-04"))
    assert surface[0, 0] == 0.0 and surface[0, 1] > 0.0
