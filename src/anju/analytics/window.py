"""The night window (夜间时段): a time-of-day interval that may cross midnight (default 21:00–03:00).

Minhang's "夜猫子出行地图" looks at the six hours from 9 p.m. to 3 a.m.; a deployment may choose another window.
A call belongs to the window by its wall-clock time of day only; a 01:30 call on 2 January counts in the period that
contains 2 January (periods are calendar ranges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ibis.expr.types as ir

from anju.analytics._common import AnalyticsError

__all__ = ["DEFAULT_NIGHT", "NightWindow", "as_window"]


def _minutes(text: str | int) -> int:
    if isinstance(text, int):
        h, m = text, 0
    else:
        mt = re.fullmatch(r"\s*(\d{1,2})(?::(\d{2}))?\s*(?:时|点)?\s*", str(text))
        if not mt:
            raise AnalyticsError(f"night window time {text!r} is not HH:MM (e.g. '21:00')")
        h, m = int(mt[1]), int(mt[2] or 0)
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > 24 * 60:
        raise AnalyticsError(f"night window time {text!r} is outside 00:00–24:00")
    return (h * 60 + m) % (24 * 60)


@dataclass(frozen=True)
class NightWindow:
    """A time-of-day window ``[start, end)``; ``start > end`` means it crosses midnight.

    Examples
    --------
    >>> w = NightWindow()
    >>> w.label("zh"), w.hours, w.contains_minute(1 * 60 + 30), w.contains_minute(12 * 60)
    ('21:00–03:00', 6.0, True, False)
    >>> NightWindow.parse("22:30-05:00").label("en")
    '22:30–05:00'
    """

    start: str = "21:00"
    end: str = "03:00"

    def __post_init__(self) -> None:
        if _minutes(self.start) == _minutes(self.end):
            raise AnalyticsError(f"night window {self.start}–{self.end} is empty; start and end must differ")

    @classmethod
    def parse(cls, text: str) -> NightWindow:
        """Read ``"21:00-03:00"`` (also ``–``, ``~``, ``至``)."""
        parts = re.split(r"\s*(?:-|–|~|至|到)\s*", str(text).strip())
        if len(parts) != 2:
            raise AnalyticsError(f"night window {text!r} must look like '21:00-03:00'")
        s, e = (_minutes(p) for p in parts)
        return cls(f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}")

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end)

    @property
    def crosses_midnight(self) -> bool:
        return self.start_minute > self.end_minute

    @property
    def hours(self) -> float:
        """Length of the window in hours."""
        return ((self.end_minute - self.start_minute) % (24 * 60)) / 60.0

    def contains_minute(self, minute_of_day: int) -> bool:
        """Whether a minute of the day (0–1439) is inside the window (the reference for the Ibis expression)."""
        s, e = self.start_minute, self.end_minute
        return (minute_of_day >= s or minute_of_day < e) if s > e else (s <= minute_of_day < e)

    def expr(self, t: ir.Table, column: str = "reported_at") -> ir.BooleanValue:
        """Ibis boolean: the row's time of day is inside the window. A date-only row (stored at midnight) is never
        inside: it has no time of day (:mod:`anju.analytics.timeofday`)."""
        from anju.analytics.timeofday import has_time

        ts = t[column]
        mod = ts.hour() * 60 + ts.minute()
        s, e = self.start_minute, self.end_minute
        inside = (mod >= s) | (mod < e) if s > e else (mod >= s) & (mod < e)
        timed = has_time(t)
        return inside if timed is None else inside & timed.fill_null(True)

    def label(self, lang: str = "zh") -> str:
        """``21:00–03:00`` (the same in both languages)."""
        s, e = self.start_minute, self.end_minute
        return f"{s // 60:02d}:{s % 60:02d}–{e // 60:02d}:{e % 60:02d}"


DEFAULT_NIGHT = NightWindow()


def as_window(night: NightWindow | str | bool | None) -> NightWindow | None:
    """``None``/``False`` → no filter; ``True`` → the default 21:00–03:00; text → parsed; a window → itself."""
    if night is None or night is False:
        return None
    if night is True:
        return DEFAULT_NIGHT
    if isinstance(night, NightWindow):
        return night
    return NightWindow.parse(str(night))
