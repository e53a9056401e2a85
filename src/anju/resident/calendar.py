"""Working days and work-order deadlines (12345 time limits counted in working days, with holidays and 调休).

A :class:`WorkCalendar` is a boolean array of working days over a span of dates: Monday–Friday, minus public
holidays, plus the weekend days made working days. Adding *n* working days is then a ``searchsorted`` on the
cumulative count, vectorised over arrays of dates. Deadlines are the end (23:59:59) of the last allowed working day;
"0 working days" (urgent) means the end of the day the order was created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from anju.config import read_toml, validate_config
from anju.errors import ConfigError

__all__ = ["WorkCalendar", "load_calendar"]

_SPAN_START = np.datetime64("2015-01-01")
_SPAN_END = np.datetime64("2040-01-01")


class _HolidayFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    years: list[int] = []
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []


class WorkCalendar:
    """Working days between 2015 and 2039.

    Examples
    --------
    >>> cal = WorkCalendar(holidays=["2026-10-01", "2026-10-02", "2026-10-05"], workdays=["2026-10-10"])
    >>> str(cal.add_working_days("2026-09-30", 3))
    '2026-10-08'
    >>> cal.working_days_between("2026-10-09", "2026-10-12")
    2
    """

    def __init__(self, holidays: Iterable[dt.date | str] = (), workdays: Iterable[dt.date | str] = ()) -> None:
        days = np.arange(_SPAN_START, _SPAN_END, dtype="datetime64[D]")
        weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday → Monday = 0
        working = weekday < 5
        hol = np.asarray([np.datetime64(str(d), "D") for d in holidays], dtype="datetime64[D]")
        work = np.asarray([np.datetime64(str(d), "D") for d in workdays], dtype="datetime64[D]")
        working[np.isin(days, hol)] = False
        working[np.isin(days, work)] = True
        self.days = days
        self.working = working
        self._cum = np.cumsum(working)  # number of working days up to and including each day
        self._work_idx = np.flatnonzero(working)

    def _index(self, dates: np.ndarray) -> np.ndarray:
        idx = (dates.astype("datetime64[D]") - _SPAN_START).astype("int64")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.days)):
            raise ConfigError(f"dates must lie between {_SPAN_START} and {_SPAN_END}; got {dates.min()} … "
                              f"{dates.max()}", key="calendar")
        return idx

    def is_working_day(self, dates: object) -> np.ndarray | bool:
        """Whether each date is a working day."""
        arr = np.asarray(dates, dtype="datetime64[D]")
        out = self.working[self._index(arr.ravel())].reshape(arr.shape)
        return bool(out) if out.ndim == 0 else out

    def add_working_days(self, dates: object, n: object) -> np.ndarray | dt.date:
        """The ``n``-th working day after each date (``n = 0``: the date itself, even if not a working day)."""
        arr = np.asarray(dates, dtype="datetime64[D]")
        nn = np.broadcast_to(np.asarray(n, dtype="int64"), arr.shape)
        if (nn < 0).any():
            raise ConfigError("working days to add must be ≥ 0", key="calendar")
        idx = self._index(arr.ravel())
        target = self._cum[idx] + nn.ravel()  # the k-th working day overall (1-based)
        pos = np.clip(target - 1, 0, len(self._work_idx) - 1)
        out = np.where(nn.ravel() == 0, idx, self._work_idx[pos])
        res = (self.days[out]).reshape(arr.shape)
        if res.ndim == 0:
            return res.item()
        return res

    def working_days_between(self, start: object, end: object) -> np.ndarray | int:
        """Working days in ``(start, end]`` (negative when ``end`` is before ``start``)."""
        a = np.asarray(start, dtype="datetime64[D]")
        b = np.asarray(end, dtype="datetime64[D]")
        out = self._cum[self._index(b.ravel())] - self._cum[self._index(a.ravel())]
        out = out.reshape(np.broadcast(a, b).shape)
        return int(out) if out.ndim == 0 else out

    def deadline(self, created_at: dt.datetime, working_days: int) -> dt.datetime:
        """End of the last allowed working day for an order created at ``created_at`` (same tz as given)."""
        day = self.add_working_days(created_at.date(), working_days)
        assert isinstance(day, dt.date)
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=created_at.tzinfo)


def load_calendar(data_dir: str | Path | None = None) -> WorkCalendar:
    """``<data_dir>/resident/holidays.toml`` if present, else the shipped mainland-China calendar."""
    if data_dir is not None and (Path(data_dir) / "resident" / "holidays.toml").exists():
        p = Path(data_dir) / "resident" / "holidays.toml"
    else:
        p = Path(str(resources.files("anju.resident") / "data" / "holidays.toml"))
    parsed = validate_config(_HolidayFile, read_toml(p), path=p)
    both = set(parsed.holidays) & set(parsed.workdays)
    if both:
        raise ConfigError(f"dates listed both as holiday and as working day: {sorted(map(str, both))}", path=p)
    return WorkCalendar(parsed.holidays, parsed.workdays)
