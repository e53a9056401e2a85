"""Night figures (夜间警情): counts and shares inside a night window, and the hour × weekday matrix.

The window crosses midnight by default (21:00–03:00, Minhang's "夜猫子出行地图"); see :class:`NightWindow`.
Night rankings are ranking definitions with ``night = true`` (``rankings.toml``); night heat maps are
:func:`anju.spatial.kde.heat_map` with ``night=...``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from anju.analytics._common import as_period, category_filter, in_period
from anju.analytics.counts import counts
from anju.analytics.periods import Period
from anju.analytics.timeofday import date_only_count, timed
from anju.analytics.window import DEFAULT_NIGHT, NightWindow, as_window
from anju.taxonomy import Taxonomy

__all__ = ["DEFAULT_NIGHT", "WEEKDAY_LABELS", "NightWindow", "hour_weekday", "night_counts"]

WEEKDAY_LABELS = {
    "zh": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}


def night_counts(
    incidents: ir.Table,
    period: Period | str,
    *,
    window: NightWindow | str | bool | None = None,
    level: str | None = "community",
    by: str | None = None,
    areas: Any = None,
    taxonomy: Taxonomy,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Night calls per area (and category key) with their share of all calls there.

    Returns the columns of :func:`anju.analytics.counts.counts` for night calls, renamed ``count_night`` (rates
    ``rate_residents``/``rate_households`` are of night calls), plus ``count`` (all day, calls with a time of
    day) and ``night_share``;
    sorted by ``count_night``, largest first. ``.attrs["window"]`` is the window label.

    Date-only rows (no time of day) are left out of both counts, so the share is of calls whose time is known;
    ``.attrs["date_only_excluded"]`` says how many of the period's rows were left out.
    """
    w = as_window(window if window is not None else True) or DEFAULT_NIGHT
    kw: dict[str, Any] = dict(level=level, by=by, areas=areas, taxonomy=taxonomy, families=families,
                              categories=categories)
    with_time = timed(incidents)
    night = counts(with_time, period, night=w, **kw)
    allday = counts(with_time, period, complete=False, **kw)
    on = [c for c in ("area_id" if level is not None else None, by if by is None else
                      ("category" if by == "leaf" else by)) if c]
    allday = allday[[*on, "count"]].rename(columns={"count": "count_all"})
    df = night.rename(columns={"count": "count_night"})
    df = df.merge(allday, on=on, how="left") if on else df.assign(count_all=int(allday["count_all"].sum()))
    df["count_all"] = df["count_all"].fillna(0).astype("int64")
    df["night_share"] = np.where(df["count_all"] > 0, df["count_night"] / df["count_all"].clip(lower=1), np.nan)
    excluded = date_only_count(in_period(incidents, as_period(period)))
    df = df.rename(columns={"count_all": "count"})
    out = df.sort_values("count_night", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs["window"] = w.label()
    out.attrs["date_only_excluded"] = excluded
    return out


def hour_weekday(
    incidents: ir.Table,
    period: Period | str,
    *,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    per_day: bool = False,
    taxonomy: Taxonomy,
) -> pd.DataFrame:
    """The hour × weekday matrix: 7 rows (``weekday`` 0 = Monday … 6 = Sunday) × 24 columns (hours 0–23).

    With ``per_day=True`` each row is divided by how many of that weekday the period has (mean calls per hour on
    such a day), so periods of different lengths compare.
    """
    p = as_period(period)
    t = category_filter(in_period(incidents, p), families=families, categories=categories,
                        taxonomy=taxonomy)
    excluded = date_only_count(t)
    t = timed(t)  # a date-only row has no hour: left out, and counted in .attrs["date_only_excluded"]
    t = t.mutate(weekday=t.reported_at.day_of_week.index(), hour=t.reported_at.hour())
    df = t.group_by(["weekday", "hour"]).aggregate(count=ibis._.count()).to_pandas()
    m = np.zeros((7, 24), dtype=float if per_day else np.int64)
    if len(df):
        np.add.at(m, (df["weekday"].to_numpy(int), df["hour"].to_numpy(int)), df["count"].to_numpy())
    if per_day:
        days = pd.date_range(p.start, p.last_day, freq="D")
        n = np.bincount(days.day_of_week, minlength=7).astype(float)
        m = np.divide(m, n[:, None], out=np.zeros_like(m), where=n[:, None] > 0)
    out = pd.DataFrame(m, index=pd.RangeIndex(7, name="weekday"), columns=pd.RangeIndex(24, name="hour"))
    out.attrs["period"] = p.code
    out.attrs["date_only_excluded"] = excluded
    return out
