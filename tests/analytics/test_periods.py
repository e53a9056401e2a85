"""Periods: parsing, labels, comparisons (同比/环比), round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anju.analytics.periods import Period, PeriodError, resolve_comparison


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2025H2", dt.date(2025, 7, 1), dt.date(2026, 1, 1), "half"),
        ("2025h1", dt.date(2025, 1, 1), dt.date(2025, 7, 1), "half"),
        ("2025Q3", dt.date(2025, 7, 1), dt.date(2025, 10, 1), "quarter"),
        ("2025Q4", dt.date(2025, 10, 1), dt.date(2026, 1, 1), "quarter"),
        ("2025-07", dt.date(2025, 7, 1), dt.date(2025, 8, 1), "month"),
        ("2024-12", dt.date(2024, 12, 1), dt.date(2025, 1, 1), "month"),
        ("2025", dt.date(2025, 1, 1), dt.date(2026, 1, 1), "year"),
        ("2025-01-01..2025-03-31", dt.date(2025, 1, 1), dt.date(2025, 4, 1), "range"),
        ("2025年下半年", dt.date(2025, 7, 1), dt.date(2026, 1, 1), "half"),
        ("2025年第三季度", dt.date(2025, 7, 1), dt.date(2025, 10, 1), "quarter"),
        ("2025年7月", dt.date(2025, 7, 1), dt.date(2025, 8, 1), "month"),
    ],
)
def test_parse(text: str, start: dt.date, end: dt.date, kind: str) -> None:
    p = Period.parse(text)
    assert (p.start, p.end, p.kind) == (start, end, kind)
    assert p.days == (end - start).days


def test_labels_and_comparisons() -> None:
    p = Period.parse("2025H2")
    assert p.label("zh") == "2025年下半年"
    assert p.label("en") == "2025 H2"
    assert p.same_period_last_year() == Period.parse("2024H2")
    assert p.previous() == Period.parse("2025H1")
    assert Period.parse("2025H1").previous() == Period.parse("2024H2")
    assert Period.parse("2025-01").previous() == Period.parse("2024-12")
    assert Period.parse("2025Q1").previous() == Period.parse("2024Q4")
    assert Period.parse("2025Q3").label("zh") == "2025年第三季度"
    assert resolve_comparison(p, "yoy") == Period.parse("2024H2")
    assert resolve_comparison(p, "环比") == Period.parse("2025H1")
    assert resolve_comparison(p, None) is None
    assert [m.code for m in Period.parse("2025Q3").months()] == ["2025-07", "2025-08", "2025-09"]
    leap = Period.parse("2024-02-29..2024-03-31").same_period_last_year()
    assert leap.start == dt.date(2023, 2, 28)


@pytest.mark.parametrize("bad", ["2025H3", "2025Q5", "2025-13", "H2", "2025-02-30..2025-03-01",
                                 "2025-03-01..2025-02-01", "last year"])
def test_bad_periods_raise(bad: str) -> None:
    with pytest.raises(PeriodError) as exc:
        Period.parse(bad)
    assert bad.split("..")[0][:4] in str(exc.value) or "quarter" in str(exc.value) or "month" in str(exc.value)


def test_bad_comparison() -> None:
    with pytest.raises(PeriodError):
        resolve_comparison("2025H2", "last-ish")


kinds = st.sampled_from(["half", "quarter", "month", "year", "range"])


@st.composite
def periods(draw: st.DrawFn) -> Period:
    kind = draw(kinds)
    y = draw(st.integers(1990, 2100))
    if kind == "half":
        return Period.half(y, draw(st.integers(1, 2)))
    if kind == "quarter":
        return Period.quarter(y, draw(st.integers(1, 4)))
    if kind == "month":
        return Period.month(y, draw(st.integers(1, 12)))
    if kind == "year":
        return Period.year(y)
    first = draw(st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)))
    return Period.range(first, first + dt.timedelta(days=draw(st.integers(0, 800))))


@given(periods())
def test_round_trips(p: Period) -> None:
    assert Period.parse(p.code) == p
    assert Period.parse(p.label("zh")) == p
    assert p.previous().end == p.start
    assert p.previous().kind == p.kind
    yoy = p.same_period_last_year()
    assert abs(yoy.days - p.days) <= 1
    assert yoy.start.year == p.start.year - 1
    assert all(p.start <= m.start < p.end or m.start <= p.start < m.end for m in p.months())
