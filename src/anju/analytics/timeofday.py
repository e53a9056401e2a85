"""Which rows carry a time of day: the one filter of every hour-of-day, night and shift analysis.

The lake records each row's time precision (``time_precision``: ``minute``, ``hour`` or ``day``; lake version 3).
A date-only row (``day``: a source such as ``2025年3月1日`` with no time) is stored at midnight, so counting it by
hour would put every such call at 00:00 — inside the night window and the night shift — and a night share or a
per-shift forecast computed on it would be wrong without a word. Every analysis that uses the time of day (night
counts and shares, night heat maps and rankings, the hour × weekday profile, 三高 hour bands, shift forecasts and
patrol plans, the release's night figures, the duty briefing) therefore keeps only the rows this module calls
*timed*, and reports how many date-only rows it left out.

Rows of a version-2 lake (no ``time_precision``, read as null) and tables without the column count as timed: they
were loaded when only full timestamps were accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["DATE_ONLY", "PRECISION_COLUMN", "date_only_count", "has_time", "timed", "timed_mask"]

PRECISION_COLUMN = "time_precision"
#: the precision of a row that carries a date but no time of day
DATE_ONLY = "day"


def has_time(t: ir.Table) -> ir.BooleanValue | None:
    """Ibis boolean: the row carries a time of day (``None`` when the table has no precision column: all do)."""
    if PRECISION_COLUMN not in t.columns:
        return None
    p = t[PRECISION_COLUMN]
    return p.isnull() | (p != DATE_ONLY)


def timed(t: ir.Table) -> ir.Table:
    """The rows of ``t`` that carry a time of day (see the module docstring)."""
    keep = has_time(t)
    return t if keep is None else t.filter(keep)


def date_only_count(t: ir.Table) -> int:
    """How many rows of ``t`` carry a date only (0 when the table has no precision column)."""
    if PRECISION_COLUMN not in t.columns:
        return 0
    return int(t.filter(t[PRECISION_COLUMN] == DATE_ONLY).count().to_pandas())


def timed_mask(frame: pd.DataFrame | Any) -> np.ndarray:
    """NumPy boolean per row of a pandas frame: the row carries a time of day."""
    n = len(frame)
    if not isinstance(frame, pd.DataFrame) or PRECISION_COLUMN not in frame.columns:
        return np.ones(n, dtype=bool)
    return (frame[PRECISION_COLUMN].astype(object).to_numpy() != DATE_ONLY)
