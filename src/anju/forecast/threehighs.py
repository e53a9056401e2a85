"""三高 — 高发案地区、高发案时段、高发案类型: the top areas × hours × categories of a station over a period.

A pure function over an Ibis table (or a pandas DataFrame, run on in-memory DuckDB): filters, group-bys and ranks
are Ibis expressions, so the same code runs on the lake's DuckDB connection or on Spark. Only the small ranked
results are brought back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from ibis import _

from anju.analytics.timeofday import date_only_count, timed
from anju.errors import ConfigError
from anju.forecast.tables import as_ibis, category_label, require, time_column

__all__ = ["ThreeHighs", "three_highs"]


@dataclass
class ThreeHighs:
    """The three rankings and their cross table.

    ``areas``: area_id, n, share, rank. ``hours``: band (e.g. ``20–22``), start_hour, n, share, rank.
    ``categories``: category, label, n, share, rank. ``combos``: the top area × hour band × category cells with n,
    share and rank — the 三高 table proper. ``total``: incidents in the selection.
    """

    areas: pd.DataFrame
    hours: pd.DataFrame
    categories: pd.DataFrame
    combos: pd.DataFrame
    total: int
    meta: dict[str, Any]


def _ranked(expr: Any, total: int, top: int | None) -> pd.DataFrame:
    df = expr.to_pandas()
    keys = [c for c in df.columns if c != "n"]  # ties broken by the keys, so the order never depends on the engine
    df = df.sort_values(["n", *keys], ascending=[False] + [True] * len(keys), kind="stable").reset_index(drop=True)
    df["share"] = df["n"] / total if total else 0.0
    df["rank"] = range(1, len(df) + 1)
    return df.head(top) if top is not None else df


def three_highs(
    events: Any,
    *,
    start: Any,
    end: Any,
    station: str | None = None,
    area_col: str = "community_id",
    category_col: str = "category",
    hour_band: int = 2,
    top: int = 10,
    family: str | None = None,
    lang: str = "zh",
    taxonomy: Any,
) -> ThreeHighs:
    """The 三高 of one station (or everything) in ``[start, end)``.

    Parameters
    ----------
    events : Ibis table or DataFrame
        Incidents with ``reported_at`` (or ``t``), ``area_col``, ``category_col`` and, when ``station`` is given,
        ``station_id``.
    start, end : timestamps
        The period (end exclusive).
    station : str, optional
        Keep only this ``station_id``.
    area_col : str
        Area level to rank (``community_id``, ``grid_id``, ``street_id``…).
    category_col : str
        ``category`` (leaf) or ``family``.
    hour_band : int
        Width of the time-of-day bands in hours (a divisor of 24).
    top : int
        Rows kept in each ranking and in the cross table.
    family : str, optional
        Restrict to one family.

    Examples
    --------
    >>> df = pd.DataFrame({"reported_at": pd.to_datetime(["2024-01-02 21:10", "2024-01-03 21:40",
    ...                                                   "2024-01-04 09:00"]),
    ...                    "community_id": ["c1", "c1", "c2"], "category": ["theft.burglary"] * 2 + ["fraud.rebate"]})
    >>> from anju.taxonomy import load_taxonomy
    >>> th = three_highs(df, start="2024-01-01", end="2024-02-01", top=3, taxonomy=load_taxonomy())
    >>> th.combos[["area_id", "band", "label", "n"]].values.tolist()
    [['c1', '20–22', '入室盗窃', 2], ['c2', '08–10', '刷单返利诈骗', 1]]
    """
    if hour_band < 1 or 24 % hour_band:
        raise ConfigError(f"hour_band must divide 24 (1, 2, 3, 4, 6, 8, 12). Got {hour_band!r}.", key="hour_band")
    t = as_ibis(events)
    tc = time_column(t)
    require(t, area_col, category_col)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    t = t.filter(t[tc] >= lo.to_pydatetime(), t[tc] < hi.to_pydatetime())
    if station is not None:
        require(t, "station_id")
        t = t.filter(t.station_id == station)
    if family is not None:
        require(t, "family")
        t = t.filter(t.family == family)
    t = t.mutate(
        area_id=t[area_col].cast("string"),
        cat=t[category_col].cast("string"),
        start_hour=(t[tc].hour() // hour_band) * hour_band,
    )
    total = int(t.count().to_pandas())
    # hour bands need a time of day: date-only rows are left out of them (and counted), not put at 00:00
    excluded = date_only_count(t)
    tt, timed_total = timed(t), total - excluded
    areas = _ranked(t.filter(t.area_id.notnull()).group_by("area_id").aggregate(n=_.count()), total, top)
    hours = _ranked(tt.group_by("start_hour").aggregate(n=_.count()), timed_total, None)
    cats = _ranked(t.group_by("cat").aggregate(n=_.count()), total, top).rename(columns={"cat": "category"})
    combos = _ranked(
        tt.filter(tt.area_id.notnull()).group_by(["area_id", "start_hour", "cat"]).aggregate(n=_.count()),
        timed_total, top
    ).rename(columns={"cat": "category"})
    for df in (hours, combos):
        df["start_hour"] = df["start_hour"].astype(int)
        df.insert(df.columns.get_loc("start_hour") + 1, "band",
                  [f"{h:02d}–{h + hour_band:02d}" for h in df["start_hour"]])
    for df in (cats, combos):
        df.insert(df.columns.get_loc("category") + 1, "label", [category_label(c, taxonomy, lang) for c in df["category"]])
    hours = hours.head(top)
    meta = {"start": lo, "end": hi, "station": station, "area_col": area_col, "hour_band": hour_band,
            "family": family, "date_only_excluded": excluded}
    return ThreeHighs(areas=areas, hours=hours, categories=cats, combos=combos, total=total, meta=meta)
