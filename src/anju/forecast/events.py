"""Event arrays, shifts (早班/中班/夜班) and forecast windows: the inputs every forecast model shares.

Models take events as a DataFrame (or a pyarrow table, or a mapping of arrays) with columns ``x``, ``y`` (metres in
a metric CRS) and ``t`` (timestamps, local wall-clock time; ``reported_at`` is accepted as an alias), plus an
optional ``family`` (taxonomy family code) used by the ``family=`` parameter. Times are held internally as float
days since 1970-01-01 so that decays and intervals are plain arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anju.analytics.timeofday import PRECISION_COLUMN, timed_mask
from anju.errors import ConfigError

__all__ = [
    "SHIFTS",
    "EventArrays",
    "Shift",
    "Window",
    "as_events",
    "as_window",
    "days_to_timestamp",
    "parse_shift",
    "to_days",
]

_NS_PER_DAY = 86_400 * 10**9


def to_days(t: Any) -> np.ndarray:
    """Timestamps (datetime64, pandas, strings) → float days since 1970-01-01 (wall-clock, time zone dropped)."""
    s = pd.Series(t) if not isinstance(t, pd.Series) else t
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, format="mixed")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    ns = s.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    out = ns / _NS_PER_DAY
    out[s.isna().to_numpy()] = np.nan
    return out


def days_to_timestamp(days: float) -> pd.Timestamp:
    """Inverse of :func:`to_days` for one value."""
    return pd.Timestamp(round(days * _NS_PER_DAY), unit="ns")


def _scalar_days(value: Any, name: str) -> float:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"must be a timestamp like '2024-03-01 08:00'. Got {value!r} instead.", key=name) from exc
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return float(ts.value) / _NS_PER_DAY


@dataclass(frozen=True)
class Shift:
    """A daily time-of-day band ``[start_hour, end_hour)``; ``end_hour < start_hour`` wraps past midnight.

    Examples
    --------
    >>> night = parse_shift("夜班")
    >>> night.name, night.start_hour, night.end_hour, night.hours
    ('night', 0.0, 8.0, 8.0)
    >>> parse_shift("22-06").contains(np.array([23.5, 3.0, 12.0])).tolist()
    [True, True, False]
    """

    name: str
    start_hour: float
    end_hour: float
    zh: str = ""

    def __post_init__(self) -> None:
        for key in ("start_hour", "end_hour"):
            v = getattr(self, key)
            if not 0.0 <= v <= 24.0:
                raise ConfigError(f"must be within 0–24 hours. Got {v!r} instead.", key=f"shift.{key}")
        if self.start_hour % 24 == self.end_hour % 24:
            raise ConfigError("a shift must have a positive length (start_hour ≠ end_hour).", key="shift")

    @property
    def hours(self) -> float:
        """Length of the shift in hours."""
        return (self.end_hour - self.start_hour) % 24.0 or 24.0

    @property
    def label(self) -> str:
        """Display label, e.g. ``夜班 00–08``."""
        return f"{self.zh or self.name} {self.start_hour:02.0f}–{self.end_hour:02.0f}"

    def contains(self, hour: np.ndarray) -> np.ndarray:
        """Whether each hour-of-day (float, 0–24) falls in the shift."""
        h = np.asarray(hour, dtype=float) % 24.0
        s, e = self.start_hour % 24.0, self.end_hour % 24.0
        if s < e:
            return (h >= s) & (h < e)
        return (h >= s) | (h < e)

    def intervals(self, start: float, end: float) -> np.ndarray:
        """The parts of ``[start, end)`` (float days) inside this shift, as an ``(n, 2)`` array of day times."""
        first = np.floor(start) - 1.0
        days = np.arange(first, np.ceil(end) + 1.0)
        s = days + self.start_hour / 24.0
        # day + hour/24 for both ends (not s + hours/24): an event at exactly the end hour rounds the same way as the
        # bound, so it falls outside the shift as `contains` says
        e = days + (self.start_hour + self.hours) / 24.0
        lo = np.maximum(s, start)
        hi = np.minimum(e, end)
        keep = hi > lo
        return np.column_stack([lo[keep], hi[keep]])


SHIFTS: dict[str, Shift] = {
    "day": Shift("day", 8.0, 16.0, "早班"),
    "evening": Shift("evening", 16.0, 24.0, "中班"),
    "night": Shift("night", 0.0, 8.0, "夜班"),
}
_ALIASES = {"早班": "day", "白班": "day", "中班": "evening", "晚班": "evening", "夜班": "night"}
_RANGE = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–~至]\s*(\d{1,2})(?::(\d{2}))?\s*$")


def parse_shift(value: str | Shift | None) -> Shift | None:
    """A :class:`Shift` from a name (``day``/``evening``/``night``, ``早班``/``中班``/``夜班``) or ``"HH[:MM]-HH[:MM]"``."""
    if value is None or isinstance(value, Shift):
        return value
    key = str(value).strip()
    key = _ALIASES.get(key, key.lower())
    if key in SHIFTS:
        return SHIFTS[key]
    m = _RANGE.match(key)
    if m:
        sh = int(m.group(1)) + int(m.group(2) or 0) / 60.0
        eh = int(m.group(3)) + int(m.group(4) or 0) / 60.0
        return Shift(key, sh, eh, key)
    raise ConfigError(
        f"must be one of {sorted(SHIFTS)} (早班/中班/夜班) or a range like '22-06'. Got {value!r} instead.",
        key="shift",
    )


@dataclass(frozen=True)
class Window:
    """A forecast window ``[start, end)``; times are pandas Timestamps (wall-clock).

    Examples
    --------
    >>> w = Window.from_origin("2024-03-04", "7D")
    >>> str(w.start), str(w.end), w.days
    ('2024-03-04 00:00:00', '2024-03-11 00:00:00', 7.0)
    """

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", pd.Timestamp(self.start))
        object.__setattr__(self, "end", pd.Timestamp(self.end))
        if not self.end > self.start:
            raise ConfigError(f"end must be after start. Got [{self.start}, {self.end}).", key="window")

    @classmethod
    def from_origin(cls, origin: Any, horizon: Any) -> Window:
        """The window of length ``horizon`` (e.g. ``"7D"``, ``"8h"``) starting at ``origin``."""
        start = pd.Timestamp(origin)
        return cls(start, start + parse_horizon(horizon))

    @property
    def start_days(self) -> float:
        return _scalar_days(self.start, "window.start")

    @property
    def end_days(self) -> float:
        return _scalar_days(self.end, "window.end")

    @property
    def days(self) -> float:
        return self.end_days - self.start_days

    def intervals(self, shift: Shift | None) -> np.ndarray:
        """The window's time intervals (float days), restricted to a shift's hours if given."""
        if shift is None:
            return np.array([[self.start_days, self.end_days]])
        return shift.intervals(self.start_days, self.end_days)


def as_window(window: Window | tuple[Any, Any] | Sequence[Any]) -> Window:
    """Accept a :class:`Window` or a ``(start, end)`` pair."""
    if isinstance(window, Window):
        return window
    try:
        start, end = window
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"must be a Window or a (start, end) pair. Got {window!r} instead.", key="window") from exc
    return Window(pd.Timestamp(start), pd.Timestamp(end))


@dataclass(frozen=True, eq=False)
class EventArrays:
    """Validated event arrays: coordinates in metres, times in float days, hour of day, optional family.

    ``timed`` (optional) marks the events whose time of day is known; a date-only event (lake time precision
    ``day``, stored at midnight) is never inside a shift (:mod:`anju.analytics.timeofday`).
    """

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    family: np.ndarray | None = None
    timed: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.x.size)

    @property
    def hour(self) -> np.ndarray:
        """Hour of day as a float in [0, 24)."""
        return (self.t - np.floor(self.t)) * 24.0

    @property
    def date_only(self) -> int:
        """How many events carry a date only (no time of day)."""
        return 0 if self.timed is None else int((~self.timed).sum())

    def in_shift(self, shift: Shift) -> np.ndarray:
        """Boolean mask: the event's time of day is inside ``shift`` (never for a date-only event)."""
        inside = shift.contains(self.hour)
        return inside if self.timed is None else inside & self.timed

    def take(self, keep: np.ndarray) -> EventArrays:
        """The subset of events where ``keep`` is true (or at the given indices)."""
        fam = None if self.family is None else self.family[keep]
        timed = None if self.timed is None else self.timed[keep]
        return EventArrays(self.x[keep], self.y[keep], self.t[keep], fam, timed)

    def select(self, *, family: str | Sequence[str] | None = None, shift: Shift | None = None) -> EventArrays:
        """Events of the given family (or families) and inside the given shift's hours."""
        keep = np.ones(len(self), dtype=bool)
        if family is not None:
            keep &= self.family_mask(family)
        if shift is not None:
            keep &= self.in_shift(shift)
        return self.take(keep)

    def family_mask(self, family: str | Sequence[str]) -> np.ndarray:
        """Boolean mask of events whose family is ``family`` (a code or a list of codes)."""
        if self.family is None:
            raise ConfigError(
                f"asks for family {family!r} but the events have no 'family' column; "
                "pass events with a 'family' column or family=None.",
                key="family",
            )
        wanted = [family] if isinstance(family, str) else list(family)
        return np.isin(self.family, np.asarray(wanted, dtype=object))

    def before(self, t: float) -> EventArrays:
        """Events strictly before time ``t`` (float days)."""
        return self.take(self.t < t)

    def between(self, start: float, end: float) -> EventArrays:
        """Events with ``start <= t < end``."""
        return self.take((self.t >= start) & (self.t < end))


def _column(data: Any, names: Sequence[str]) -> Any:
    for n in names:
        if n in data:
            return data[n]
    return None


def as_events(events: Any) -> EventArrays:
    """Validate events given as a DataFrame, pyarrow table, mapping of arrays or :class:`EventArrays`.

    Rows with a missing coordinate or time are dropped (the lake keeps incidents without coordinates).
    """
    if isinstance(events, EventArrays):
        return events
    if hasattr(events, "to_pandas") and not isinstance(events, pd.DataFrame):
        events = events.to_pandas()
    if not isinstance(events, (pd.DataFrame, Mapping)):
        raise ConfigError(
            f"must be a DataFrame (or mapping of arrays) with columns x, y, t. Got {type(events).__name__}.",
            key="events",
        )
    cols = list(events.columns) if isinstance(events, pd.DataFrame) else list(events.keys())
    x = _column(events, ("x",))
    y = _column(events, ("y",))
    t = _column(events, ("t", "reported_at"))
    missing = [n for n, v in (("x", x), ("y", y), ("t", t)) if v is None]
    if missing:
        raise ConfigError(
            f"are missing column(s) {missing}; expected x, y (metres) and t (or reported_at). Got columns {cols}.",
            key="events",
        )
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    ta = to_days(t)
    fam = _column(events, ("family",))
    fa = None if fam is None else np.asarray(fam, dtype=object)
    tm = timed_mask(events) if isinstance(events, pd.DataFrame) and PRECISION_COLUMN in events.columns else None
    if not (xa.shape == ya.shape == ta.shape) or xa.ndim != 1:
        raise ConfigError(f"x, y and t must be 1-D and the same length. Got {xa.shape}, {ya.shape}, {ta.shape}.",
                          key="events")
    ok = np.isfinite(xa) & np.isfinite(ya) & np.isfinite(ta)
    if not ok.all():
        return EventArrays(xa[ok], ya[ok], ta[ok], None if fa is None else fa[ok], None if tm is None else tm[ok])
    return EventArrays(xa, ya, ta, fa, tm)


def parse_horizon(horizon: Any) -> pd.Timedelta:
    """A forecast horizon as a Timedelta: pandas spellings (``"7D"``, ``"8h"``, ``"2W"``) plus ``"1M"`` = 30 days
    and ``"1Y"`` = 365 days (fixed lengths, so every window of a backtest has the same length); a clear error else.

    >>> parse_horizon("1M"), parse_horizon("2W")
    (Timedelta('30 days 00:00:00'), Timedelta('14 days 00:00:00'))
    """
    if isinstance(horizon, pd.Timedelta):
        return horizon
    text = str(horizon).strip()
    for unit, days in (("M", 30), ("Y", 365)):
        head = text[:-1]
        if text.endswith(unit) and head.replace(".", "", 1).isdigit():
            return pd.Timedelta(days=float(head) * days)
    try:
        td = pd.Timedelta(text)
    except (ValueError, TypeError):
        td = pd.NaT
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise ConfigError(f"--horizon {horizon!r}: expected a positive length such as 1D, 7D, 2W, 1M (30 days) or "
                          "8h.", key="horizon")
    return td


def date_only(times: Any) -> bool:
    """Whether timestamps carry dates only (every one at midnight): such data cannot support per-shift forecasts,
    hour bands or hourly alerts — every event would fall in the first hour.

    >>> date_only(pd.to_datetime(["2024-01-01", "2024-01-02"])), date_only(pd.to_datetime(["2024-01-01 08:30"]))
    (True, False)
    """
    t = pd.DatetimeIndex(pd.to_datetime(pd.Series(times)).dropna())
    if len(t) == 0:
        return False
    return bool((t == t.normalize()).all())


def refuse_shift_on_dates(times: Any, shift: Any) -> None:
    """Raise a clear error when a shift (or hour band) is asked of date-only data instead of a silent empty map."""
    if shift is not None and date_only(times):
        raise ConfigError(
            f"班次/时段分析需要时刻，但这些警情只有日期（全部为 00:00）/ --shift {shift}: the incidents carry dates only "
            "(every time is 00:00), so a per-shift forecast would be empty; forecast whole days instead.",
            key="shift")
