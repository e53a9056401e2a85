"""Row validation: the first failed check of each row becomes its quarantine reason.

Checks run in the order of :data:`~anju.lake.schema.QUARANTINE_REASONS` as the pipeline learns things about the
batch (keys, then times, then coordinates, then areas, and duplicates last — so a row rejected for its time does
not take its key from a later, good row). Every reason carries a human-readable detail naming the column and value.
Unknown categories are not a failure: they are kept as ``other.unknown`` and counted in the import report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
import pyarrow as pa

from anju.lake.schema import QUARANTINE_REASONS

__all__ = ["Verdicts", "is_none", "time_problems"]


def is_none(a: np.ndarray) -> np.ndarray:
    """Element-wise ``x is None`` for an object array (vectorised)."""
    return np.asarray(np.equal(a, cast(Any, None)), dtype=bool)


class Verdicts:
    """Per-row reason codes (None = row is fine) and details for one batch."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reason = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)
        self._ok = np.ones(n, dtype=bool)

    @property
    def ok(self) -> np.ndarray:
        """Rows with no reason so far (a copy)."""
        return self._ok.copy()

    def flag(self, mask: np.ndarray, code: str, detail: str | Callable[[np.ndarray], Sequence[str]]) -> int:
        """Give reason ``code`` to rows in ``mask`` that have none yet; ``detail`` is text or f(row indices).

        Returns the number of rows newly flagged.
        """
        if code not in QUARANTINE_REASONS:
            raise ValueError(f"unknown quarantine reason {code!r}")
        rows = np.flatnonzero(np.asarray(mask, dtype=bool) & self._ok)
        if rows.size == 0:
            return 0
        self._ok[rows] = False
        self.reason[rows] = code
        if callable(detail):
            vals = np.empty(rows.size, dtype=object)
            vals[:] = list(detail(rows))
            self.detail[rows] = vals
        else:
            self.detail[rows] = detail
        return int(rows.size)

    def counts(self) -> Counter[str]:
        """Rows per reason."""
        return Counter(self.reason[~self._ok].tolist())


def time_problems(raw: pa.Array, local: pa.Array, *, min_date: datetime, max_future: timedelta,
                  now: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks ``(missing, unparseable, impossible)`` for source time strings and their parsed wall-clock times.

    Impossible: before ``min_date`` or later than ``now + max_future`` (``now`` as a naive local time).
    """
    present = np.asarray(raw.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    parsed = np.asarray(local.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    t = local.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    lo = int((min_date - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    hi = int(((now + max_future) - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    impossible = parsed & ((t < lo) | (t > hi))
    return ~present, present & ~parsed, impossible
