"""Mediation referral (Jincheng's "5+" team): minor family, neighbour and colleague disputes go to the community
mediation team, which sits on fixed weekdays (every Tuesday and Friday by default).

A referral is booked on the next sitting day that is a working day and not earlier than the report's day (a report
made on a sitting day before the sitting's cut-off hour goes to that day's sitting). Outcomes are recorded per
referral (settled / partly_settled / not_settled / referred on to the police or the court) and summarised with
Wilson intervals by :func:`anju.resident.metrics.mediation_outcomes`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from anju.resident.calendar import WorkCalendar

__all__ = ["next_sitting", "sittings_between"]


def next_sitting(at: dt.datetime, weekdays: list[int], calendar: WorkCalendar, *, cutoff_hour: int = 12
                 ) -> dt.date:
    """The sitting a report made at ``at`` is booked for (``weekdays`` are ISO numbers, 1 = Monday)."""
    day = at.date() if at.hour < cutoff_hour else at.date() + dt.timedelta(days=1)
    for k in range(0, 60):
        d = day + dt.timedelta(days=k)
        if d.isoweekday() in weekdays and calendar.is_working_day(d):
            return d
    raise ValueError(f"no sitting day in the 60 days after {day} for weekdays {weekdays}")


def sittings_between(start: dt.date, end: dt.date, weekdays: list[int], calendar: WorkCalendar) -> list[dt.date]:
    """Every sitting day in ``[start, end]``.

    >>> cal = WorkCalendar()
    >>> [str(d) for d in sittings_between(dt.date(2026, 12, 1), dt.date(2026, 12, 8), [2, 5], cal)]
    ['2026-12-01', '2026-12-04', '2026-12-08']
    """
    days = np.arange(np.datetime64(start), np.datetime64(end) + 1, dtype="datetime64[D]")
    iso = ((days.astype("int64") + 3) % 7) + 1
    keep = np.isin(iso, weekdays) & np.asarray(calendar.is_working_day(days), dtype=bool)
    return [d.item() for d in days[keep]]
