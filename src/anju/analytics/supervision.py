"""Supervision candidates (挂牌督导): the top-N communities by theft in a base period and how they fared since.

The bureau lists the N communities with the most thefts in a base period, gives each a supervising official, and
follows them: for the release period, each listed community's change (with its exact test), its rank movement and
whether it left the top N; :func:`supervision_total` gives the listed set's total change with its test.

Seasonality: a base *year* next to a release *half-year* compares different months (thefts peak in summer), so
a release compares each area with the same months a year earlier (``comparison="yoy"``, 同比) and uses the base
year only to draw the list and its ranks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from anju.analytics._common import AnalyticsError, as_period
from anju.analytics.change import Method, change_table
from anju.analytics.counts import counts_many
from anju.analytics.periods import Period, resolve_comparison
from anju.taxonomy import Taxonomy

__all__ = ["supervision", "supervision_total"]


def _ranked(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df["area_id"].notna()].sort_values(["count", "area_id"], ascending=[False, True], kind="stable").copy()
    df["rank"] = np.arange(1, len(df) + 1)
    return df


def supervision(
    incidents: ir.Table,
    base_period: Period | str,
    period: Period | str,
    *,
    n: int = 10,
    families: Iterable[str] | None = ("theft",),
    categories: Iterable[str] | None = None,
    areas: Any = None,
    level: str = "community",
    comparison: Period | str | None = None,
    taxonomy: Taxonomy,
    method: Method = "binom",
    alpha: float = 0.05,
    min_total: int = 10,
) -> pd.DataFrame:
    """The top-``n`` areas by count in ``base_period`` and their figures in ``period``.

    Parameters
    ----------
    base_period : Period or str
        The period the list was drawn from (e.g. ``"2024"``).
    period : Period or str
        The release period.
    n : int
        List length (default 10).
    families, categories : iterable of str
        What counts (default: every theft).
    comparison : "yoy", "pop", Period, str or None
        What ``period`` is compared with; default the base period itself (rates per day, so a half-year compares
        with a base year fairly).

    Returns
    -------
    pandas.DataFrame
        One row per listed area in base rank order: ``rank_base``, ``area_id``, [``name``], ``count_base``,
        ``count`` (release period), ``count_prev`` (comparison), the change columns of
        :func:`anju.analytics.change.change_table`, ``rank_now`` (among all areas in the release period),
        ``rank_change`` (``rank_base − rank_now``; negative = moved down the list, i.e. better) and ``left_top_n``.
        ``.attrs``: ``base_period``, ``period``, ``comparison``, ``n``.
    """
    if n < 1:
        raise AnalyticsError(f"n must be at least 1; got {n}")
    b = as_period(base_period)
    p = as_period(period)
    c = resolve_comparison(p, comparison) if comparison is not None else b
    assert c is not None
    kw: dict[str, Any] = dict(level=level, by=None, areas=areas, taxonomy=taxonomy, families=families,
                              categories=categories)
    frames = counts_many(incidents, [b, p, c], **kw)
    base = _ranked(frames[0])
    top = base.head(n)
    now = _ranked(frames[1])
    cols = ["area_id"] + (["name"] if "name" in top.columns else [])
    out = top[[*cols, "rank", "count"]].rename(columns={"rank": "rank_base", "count": "count_base"})
    out = out.merge(now[["area_id", "count", "rank"]].rename(columns={"rank": "rank_now"}), on="area_id",
                    how="left")
    if c == b:
        out["count_prev"] = out["count_base"]
    else:
        prev = frames[2]
        out = out.merge(prev[["area_id", "count"]].rename(columns={"count": "count_prev"}), on="area_id",
                        how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["count_prev"] = out["count_prev"].fillna(0).astype("int64")
    out = change_table(out, exposure=p.days, exposure_prev=c.days, alpha=alpha, min_total=min_total, method=method)
    out["rank_now"] = out["rank_now"].fillna(len(now) + 1).astype("int64")
    out["rank_change"] = out["rank_base"] - out["rank_now"]
    out["left_top_n"] = out["rank_now"] > n
    first = ["rank_base", *cols, "count_base", "count", "count_prev"]
    out = out[first + [x for x in out.columns if x not in first]]
    out.attrs.update(base_period=b.code, period=p.code, comparison=c.code, n=n)
    return out.reset_index(drop=True)


def supervision_total(sup: pd.DataFrame, *, alpha: float = 0.05, method: Method = "binom") -> pd.DataFrame:
    """The listed set's total: one row with ``areas``, ``count`` and ``count_prev`` summed over the list and the
    change columns of :func:`~anju.analytics.change.change_table` (one test, exposures of the two periods).

    ``sup`` is a frame from :func:`supervision` (its ``.attrs`` name the periods).

    Examples
    --------
    >>> sup = pd.DataFrame({"count": [20, 10], "count_prev": [40, 30]})
    >>> sup.attrs.update(period="2025H2", comparison="2024H2")
    >>> r = supervision_total(sup).iloc[0]
    >>> int(r["count"]), int(r["count_prev"]), round(float(r["change_pct"]), 1), r["verdict_zh"]
    (30, 70, -57.1, '显著下降')
    """
    for key in ("period", "comparison"):
        if key not in sup.attrs:
            raise AnalyticsError(f"supervision_total needs the frame of supervision() (attrs lack {key!r})")
    p, c = as_period(sup.attrs["period"]), as_period(sup.attrs["comparison"])
    tot = pd.DataFrame({"areas": [len(sup)], "count": [int(sup["count"].sum())],
                        "count_prev": [int(sup["count_prev"].sum())]})
    out = change_table(tot, exposure=p.days, exposure_prev=c.days, alpha=alpha, method=method, adjust="none")
    out.attrs.update(sup.attrs)
    return out
