"""What a release must say about its data: rows excluded at import (per reason) and warnings the data needs.

A release is read by people who cannot open the lake. Its method appendix states what was left out and why (the
quarantine of the imports behind the period, counted per reason) and warns where the data limits a figure: records
that carry only a date (hour-of-day figures then pile up at midnight), weeks of the period with no record at all
(e.g. a source that holds alternate weeks only), records without a usable location.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from anju.analytics._common import as_period
from anju.analytics.periods import Period, in_period
from anju.analytics.timeofday import has_time

__all__ = ["DATE_ONLY_SHARE", "data_warnings", "excluded_rows"]

DATE_ONLY_SHARE = 0.2
"""Warn about date-only times when at least this share of the period's records sit at exactly 00:00:00."""


def excluded_rows(incidents: ir.Table, quarantine: ir.Table, period: Period | str) -> pd.DataFrame:
    """Rows quarantined by the imports that supplied the period's records, per reason.

    Quarantined rows never reach the incident table (their time or place may be what failed), so they are counted
    per import: every import with at least one record in the period. Returns ``reason`` and ``rows``, most first.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> inc = ibis.memtable(pd.DataFrame({"import_id": ["a", "b"],
    ...                                   "reported_at": pd.to_datetime(["2025-08-01", "2024-03-01"])}))
    >>> q = ibis.memtable(pd.DataFrame({"import_id": ["a", "a", "b"],
    ...                                 "reason": ["coords_out_of_bounds", "bad_time", "bad_time"]}))
    >>> excluded_rows(inc, q, "2025H2").to_dict("records")
    [{'reason': 'bad_time', 'rows': 1}, {'reason': 'coords_out_of_bounds', 'rows': 1}]
    """
    p = as_period(period)
    ids = in_period(incidents, p).select("import_id").distinct()
    q = quarantine.filter(quarantine.import_id.isin(ids.import_id))
    out = q.group_by("reason").aggregate(rows=ibis._.count()).to_pandas()
    out["rows"] = out["rows"].astype("int64")
    return out.sort_values(["rows", "reason"], ascending=[False, True]).reset_index(drop=True)


def data_warnings(incidents: ir.Table, period: Period | str) -> pd.DataFrame:
    """Checks of the period's records that limit what the release can show.

    Returns one row per check that fires: ``check`` (``date_only``, ``empty_weeks``, ``no_location``), ``value``
    (the share, or the number of empty weeks), ``of`` (records, or weeks in the period).

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = pd.to_datetime(["2025-07-01 00:00", "2025-07-02 00:00", "2025-07-15 10:30"])
    >>> inc = ibis.memtable(pd.DataFrame({"reported_at": t, "lon": [121.4, None, 121.5], "lat": [31.2, None, 31.3]}))
    >>> [(c, round(v, 3), o) for c, v, o in data_warnings(inc, "2025-07").itertuples(index=False)]
    [('date_only', 0.667, 3), ('empty_weeks', 3.0, 5), ('no_location', 0.333, 3)]
    """
    p = as_period(period)
    t = in_period(incidents, p)
    ts = t.reported_at
    at_midnight = (ts.hour() == 0) & (ts.minute() == 0) & (ts.second() == 0)
    keep = has_time(t)  # rows known to be date-only are left out of time-of-day figures (and said so) already
    agg = t.aggregate(
        n=ibis._.count(),
        midnight=(at_midnight if keep is None else at_midnight & keep.fill_null(True)).cast("int64").sum(),
        located=(t.lon.notnull() & t.lat.notnull()).cast("int64").sum(),
    ).to_pandas().iloc[0]
    n = int(agg["n"])
    rows: list[dict[str, object]] = []
    if n == 0:
        return pd.DataFrame(columns=["check", "value", "of"])
    if agg["midnight"] / n >= DATE_ONLY_SHARE:
        rows.append({"check": "date_only", "value": float(agg["midnight"] / n), "of": n})
    days = t.select(d=ts.date()).distinct().to_pandas()["d"]
    weeks_seen = set(pd.to_datetime(days).dt.to_period("W-SUN").astype(str))
    all_days = pd.date_range(p.start, p.end, freq="D", inclusive="left")
    weeks = pd.Series(all_days.to_period("W-SUN").astype(str)).unique()
    empty = int(np.sum([w not in weeks_seen for w in weeks]))
    if empty:
        rows.append({"check": "empty_weeks", "value": float(empty), "of": len(weeks)})
    no_loc = 1 - agg["located"] / n
    if no_loc > 0:
        rows.append({"check": "no_location", "value": float(no_loc), "of": n})
    return pd.DataFrame(rows, columns=["check", "value", "of"])
