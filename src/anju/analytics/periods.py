"""Reporting periods: half-years, quarters, months, years and custom date ranges.

The release is half-yearly (``2025H2``), but every analytic takes any :class:`Period`. A period is a half-open
interval of calendar dates ``[start, end)`` in local wall-clock time, so it compares directly with the lake's
``reported_at`` column. Comparisons are the same period last year (同比, :meth:`Period.same_period_last_year`) and
the previous period of the same kind (环比, :meth:`Period.previous`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from anju.errors import PeriodError

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["Period", "PeriodError", "in_period", "resolve_comparison"]

Kind = Literal["half", "quarter", "month", "year", "range"]

_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_ZH_QUARTER = {1: "一", 2: "二", 3: "三", 4: "四"}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _shift_year(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February → 28 February
        return d.replace(year=d.year + years, day=28)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + n
    return idx // 12, idx % 12 + 1


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period ``[start, end)``.

    Parameters
    ----------
    start, end : datetime.date
        First day and the day after the last day (end exclusive).
    kind : {"half", "quarter", "month", "year", "range"}
        What the period is; decides its label and what :meth:`previous` means.

    Examples
    --------
    >>> p = Period.parse("2025H2")
    >>> p.start, p.end, p.days
    (datetime.date(2025, 7, 1), datetime.date(2026, 1, 1), 184)
    >>> p.label("zh"), p.label("en")
    ('2025年下半年', '2025 H2')
    >>> str(p.same_period_last_year()), str(p.previous())
    ('2024H2', '2025H1')
    >>> str(Period.parse("2025-01-01..2025-03-31").previous())
    '2024-10-03..2024-12-31'
    """

    start: dt.date
    end: dt.date
    kind: Kind = "range"

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise PeriodError(f"a period must end after it starts; got {self.start} .. {self.end} (end exclusive)")

    # ------------------------------------------------------------------ construction
    @classmethod
    def half(cls, year: int, half: int) -> Period:
        """The half-year ``half`` (1 or 2) of ``year``."""
        if half not in (1, 2):
            raise PeriodError(f"half must be 1 or 2; got {half!r}")
        start = dt.date(year, 1 if half == 1 else 7, 1)
        end = dt.date(year, 7, 1) if half == 1 else dt.date(year + 1, 1, 1)
        return cls(start, end, "half")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        """The quarter ``quarter`` (1–4) of ``year``."""
        if quarter not in (1, 2, 3, 4):
            raise PeriodError(f"quarter must be 1–4; got {quarter!r}")
        y, m = _add_months(year, 3 * (quarter - 1) + 1, 3)
        return cls(dt.date(year, 3 * (quarter - 1) + 1, 1), dt.date(y, m, 1), "quarter")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """The calendar month."""
        if not 1 <= month <= 12:
            raise PeriodError(f"month must be 1–12; got {month!r}")
        y, m = _add_months(year, month, 1)
        return cls(dt.date(year, month, 1), dt.date(y, m, 1), "month")

    @classmethod
    def year(cls, year: int) -> Period:
        """The calendar year."""
        return cls(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), "year")

    @classmethod
    def range(cls, first: dt.date, last: dt.date) -> Period:
        """Custom range from ``first`` to ``last``, both inclusive."""
        return cls(first, last + dt.timedelta(days=1), "range")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Parse ``2025H2``, ``2025Q3``, ``2025-07``, ``2025``, ``2025-01-01..2025-03-31`` (inclusive) or a Chinese label.

        Raises
        ------
        PeriodError
            When the text matches none of the forms; the message lists them.
        """
        if isinstance(text, Period):
            return text
        s = str(text).strip().replace("　", " ")
        try:
            return cls._parse(s)
        except ValueError as exc:  # bad dates such as 2025-02-30
            if isinstance(exc, PeriodError):
                raise
            raise PeriodError(f"period {text!r} has an impossible date ({exc})",
                              zh=f"时段 {text!r} 含有不存在的日期（{exc}）") from None

    @classmethod
    def _parse(cls, s: str) -> Period:
        if m := re.fullmatch(r"(\d{4})\s*-?\s*[Hh]([12])", s):
            return cls.half(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})\s*-?\s*[Qq]([1-4])", s):
            return cls.quarter(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
            return cls.month(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})", s):
            return cls.year(int(m[1]))
        if m := re.fullmatch(r"(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|/|~|至|到)\s*(\d{4}-\d{1,2}-\d{1,2})", s):
            first, last = (dt.date(*map(int, g.split("-"))) for g in (m[1], m[2]))
            if last < first:
                raise PeriodError(f"period {s!r} ends ({last}) before it starts ({first})",
                                  zh=f"时段 {s!r} 的结束日（{last}）早于开始日（{first}）")
            return cls.range(first, last)
        # Chinese labels
        if m := re.fullmatch(r"(\d{4})年\s*([上下])半年", s):
            return cls.half(int(m[1]), 1 if m[2] == "上" else 2)
        if m := re.fullmatch(r"(\d{4})年\s*第?([1-4一二三四])季度", s):
            q = m[2]
            return cls.quarter(int(m[1]), int(q) if q.isdigit() else _ZH_DIGITS[q])
        if m := re.fullmatch(r"(\d{4})年\s*(\d{1,2})月(?:份)?", s):
            return cls.month(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})年(?:度|全年)?", s):
            return cls.year(int(m[1]))
        if m := re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:至|到|-|~)\s*(\d{4})年(\d{1,2})月(\d{1,2})日", s):
            g = [int(x) for x in m.groups()]
            return cls.range(dt.date(g[0], g[1], g[2]), dt.date(g[3], g[4], g[5]))
        raise PeriodError(
            f"cannot read the period {s!r}; expected a half-year '2025H2', a quarter '2025Q3', a month '2025-07', "
            "a year '2025', a date range '2025-01-01..2025-03-31' (both days included) or a Chinese label such as "
            "'2025年下半年'",
            zh=f"无法识别时段 {s!r}；应为半年 2025H2、季度 2025Q3、月份 2025-07、年份 2025、日期范围 "
               "2025-01-01..2025-03-31（含首尾两天）或中文写法如 2025年下半年",
        )

    # ------------------------------------------------------------------ properties
    @property
    def days(self) -> int:
        """Length in days (the exposure used by change tests)."""
        return (self.end - self.start).days

    @property
    def last_day(self) -> dt.date:
        """The last day inside the period."""
        return self.end - dt.timedelta(days=1)

    @property
    def start_datetime(self) -> dt.datetime:
        """Start as a naive datetime (local wall clock, like ``reported_at``)."""
        return dt.datetime.combine(self.start, dt.time())

    @property
    def end_datetime(self) -> dt.datetime:
        """Exclusive end as a naive datetime."""
        return dt.datetime.combine(self.end, dt.time())

    @property
    def code(self) -> str:
        """Canonical text that :meth:`parse` reads back."""
        s = self.start
        if self.kind == "half":
            return f"{s.year}H{1 if s.month == 1 else 2}"
        if self.kind == "quarter":
            return f"{s.year}Q{(s.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "year":
            return f"{s.year}"
        return f"{s.isoformat()}..{self.last_day.isoformat()}"

    def __str__(self) -> str:
        return self.code

    def label(self, lang: str = "zh") -> str:
        """Display label: ``2025年下半年`` / ``2025 H2``."""
        s, zh = self.start, lang != "en"
        if self.kind == "half":
            h = 1 if s.month == 1 else 2
            return f"{s.year}年{'上' if h == 1 else '下'}半年" if zh else f"{s.year} H{h}"
        if self.kind == "quarter":
            q = (s.month - 1) // 3 + 1
            return f"{s.year}年第{_ZH_QUARTER[q]}季度" if zh else f"{s.year} Q{q}"
        if self.kind == "month":
            return f"{s.year}年{s.month}月" if zh else f"{_EN_MONTHS[s.month - 1]} {s.year}"
        if self.kind == "year":
            return f"{s.year}年" if zh else f"{s.year}"
        e = self.last_day
        if zh:
            return f"{s.year}年{s.month}月{s.day}日至{e.year}年{e.month}月{e.day}日"
        return f"{s.isoformat()} to {e.isoformat()}"

    # ------------------------------------------------------------------ comparisons
    def same_period_last_year(self) -> Period:
        """同比: the same period one year earlier."""
        if self.kind == "range":
            return Period(_shift_year(self.start, -1), _shift_year(self.end, -1), "range")
        return Period(self.start.replace(year=self.start.year - 1), self.end.replace(year=self.end.year - 1),
                      self.kind)

    def previous(self) -> Period:
        """环比: the period of the same kind just before (for a range: the same number of days before)."""
        months = {"half": 6, "quarter": 3, "month": 1, "year": 12}
        if self.kind == "range":
            return Period(self.start - dt.timedelta(days=self.days), self.start, "range")
        y, m = _add_months(self.start.year, self.start.month, -months[self.kind])
        return Period(dt.date(y, m, 1), self.start, self.kind)

    def months(self) -> list[Period]:
        """The calendar months that overlap the period (for monthly trends)."""
        out = []
        y, m = self.start.year, self.start.month
        while dt.date(y, m, 1) < self.end:
            out.append(Period.month(y, m))
            y, m = _add_months(y, m, 1)
        return out

    def contains(self, day: dt.date | dt.datetime) -> bool:
        """Whether a date (or datetime) falls in the period."""
        d = day.date() if isinstance(day, dt.datetime) else day
        return self.start <= d < self.end


def resolve_comparison(period: Period | str, comparison: Period | str | None) -> Period | None:
    """The comparison period: ``"yoy"`` (同比, default), ``"pop"`` (环比), an explicit period, or ``None``.

    Examples
    --------
    >>> str(resolve_comparison("2025H2", "yoy")), str(resolve_comparison("2025H2", "pop"))
    ('2024H2', '2025H1')
    """
    p = Period.parse(period)
    if comparison is None:
        return None
    if isinstance(comparison, Period):
        return comparison
    c = str(comparison).strip().lower()
    if c in ("yoy", "同比", "same_period_last_year"):
        return p.same_period_last_year()
    if c in ("pop", "mom", "qoq", "环比", "previous"):
        return p.previous()
    try:
        return Period.parse(comparison)
    except PeriodError:
        raise PeriodError(
            f"comparison {comparison!r} is neither 'yoy' (同比), 'pop' (环比) nor a period such as '2024H2'",
            zh=f"对比时段 {comparison!r} 无效；应为 yoy（同比）、pop（环比）或一个时段如 2024H2",
        ) from None


def in_period(t: ir.Table, period: Period | str, column: str = "reported_at") -> ir.Table:
    """Rows of ``t`` whose ``column`` (default ``reported_at``) falls in the period, half-open ``[start, end)``.

    The one period filter of anju: analytics, services, the release and the web select a period through it.
    """
    import ibis

    p = Period.parse(period)
    col = t[column]
    return t.filter((col >= ibis.timestamp(p.start_datetime)) & (col < ibis.timestamp(p.end_datetime)))
