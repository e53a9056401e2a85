"""Night window, night counts and the hour × weekday matrix against pandas."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from analytics_synth import lake_frame
from hypothesis import given
from hypothesis import strategies as st

from anju.analytics import NightWindow, hour_weekday, night_counts
from anju.analytics._common import AnalyticsError
from shipped import TAX

H2 = (pd.Timestamp("2025-07-01"), pd.Timestamp("2026-01-01"))


def _h2(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df["reported_at"] >= H2[0]) & (df["reported_at"] < H2[1])]


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59))
def test_window_expression_equals_reference(h1: int, m1: int, h2: int, m2: int) -> None:
    if (h1, m1) == (h2, m2):
        with pytest.raises(AnalyticsError):
            NightWindow(f"{h1}:{m1:02d}", f"{h2}:{m2:02d}")
        return
    w = NightWindow(f"{h1}:{m1:02d}", f"{h2}:{m2:02d}")
    s, e = h1 * 60 + m1, h2 * 60 + m2
    for minute in (0, s, e, (s + 1) % 1440, (e - 1) % 1440, 720, 1439):
        inside = (s <= minute < e) if s < e else (minute >= s or minute < e)
        assert w.contains_minute(minute) == inside
    assert w.hours == pytest.approx(((e - s) % 1440) / 60)


def test_window_parse_and_errors() -> None:
    assert NightWindow.parse("22:30-05:00") == NightWindow("22:30", "05:00")
    assert NightWindow.parse("21:00至03:00").crosses_midnight
    assert not NightWindow.parse("08:00-10:00").crosses_midnight
    with pytest.raises(AnalyticsError, match="HH:MM"):
        NightWindow.parse("late-early")


@pytest.mark.parametrize("window", ["21:00-03:00", "22:30-05:00", "08:00-10:00"])
def test_night_counts_match_pandas(random_table: ibis.Table, random_df: pd.DataFrame,
                                   random_areas: pd.DataFrame, window: str) -> None:
    w = NightWindow.parse(window)
    got = night_counts(random_table, "2025H2", window=w, areas=random_areas, taxonomy=TAX)
    sub = _h2(random_df)
    mod = sub["reported_at"].dt.hour * 60 + sub["reported_at"].dt.minute
    s, e = w.start_minute, w.end_minute
    inside = ((mod >= s) | (mod < e)) if s > e else ((mod >= s) & (mod < e))
    ref = sub[inside].groupby("community_id").size()
    allday = sub.groupby("community_id").size()
    g = got.dropna(subset=["area_id"]).set_index("area_id")
    assert g["count_night"].to_dict() == ref.reindex(g.index, fill_value=0).to_dict()
    assert g["count"].to_dict() == allday.to_dict()
    np.testing.assert_allclose(g["night_share"], (ref / allday).reindex(g.index).fillna(0))
    assert got["count_night"].is_monotonic_decreasing
    assert got.attrs["window"] == w.label()


def test_hour_weekday_matches_crosstab(random_table: ibis.Table, random_df: pd.DataFrame) -> None:
    m = hour_weekday(random_table, "2025H2", taxonomy=TAX)
    sub = _h2(random_df)
    ref = pd.crosstab(sub["reported_at"].dt.day_of_week, sub["reported_at"].dt.hour).reindex(
        index=range(7), columns=range(24), fill_value=0)
    assert m.shape == (7, 24)
    np.testing.assert_array_equal(m.to_numpy(), ref.to_numpy())
    fams = hour_weekday(random_table, "2025H2", families=["dispute"], taxonomy=TAX)
    assert fams.to_numpy().sum() == (sub.family == "dispute").sum()


def test_hour_weekday_per_day_divides_by_weekday_count() -> None:
    # July 2025 has five Tuesdays (1, 8, 15, 22, 29) and four Mondays
    df = lake_frame({"reported_at": ["2025-07-01 22:00", "2025-07-08 22:10", "2025-07-07 09:00"],
                     "category": ["dispute.drunk"] * 3, "community_id": ["C1"] * 3})
    m = hour_weekday(ibis.memtable(df), "2025-07", per_day=True, taxonomy=TAX)
    assert m.loc[1, 22] == pytest.approx(2 / 5)
    assert m.loc[0, 9] == pytest.approx(1 / 4)
    assert m.to_numpy().sum() == pytest.approx(2 / 5 + 1 / 4)
