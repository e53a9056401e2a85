"""Counts, rates and shares per area level × category level, and period comparisons.

The workhorse of the release: how many calls of which kind in which area, per 1,000 residents and per 1,000
households, what share disputes take (纠纷类警情占比), and how each changed against the comparison period with an exact
test (:func:`compare`). The counting is one Ibis aggregation; the area attributes and the statistics are finished in
pandas on the small aggregated table.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from anju.analytics._common import (
    AnalyticsError,
    area_column,
    areas_frame,
    as_period,
    category_filter,
    category_key,
    in_period,
    key_labels,
    tag_periods,
)
from anju.analytics.periods import Period, resolve_comparison
from anju.analytics.window import NightWindow, as_window
from anju.taxonomy import Taxonomy

if TYPE_CHECKING:
    from anju.analytics.change import Method

__all__ = ["aggregate", "compare", "counts", "counts_many", "monthly", "shares"]

_ATTRS = ("population", "households")


def _key_name(by: str | None) -> str | None:
    if by is None:
        return None
    return "category" if by in ("leaf", "category") else by


def aggregate(
    incidents: ir.Table,
    period: Period | str | None,
    *,
    level: str | None = None,
    by: str | None = None,
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None = None,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
) -> ir.Table:
    """The Ibis expression behind :func:`counts`: ``[area_id], [key], count`` (not executed; runs on any engine)."""
    return _aggregate(incidents, None if period is None else [as_period(period)], level=level, by=by,
                      taxonomy=taxonomy, night=night, families=families, categories=categories)


def _aggregate(
    incidents: ir.Table,
    periods: list[Period] | None,
    *,
    level: str | None,
    by: str | None,
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None,
    families: Iterable[str] | None,
    categories: Iterable[str] | None,
) -> ir.Table:
    """One aggregation; with several (non-overlapping) periods a ``_period`` column says which one a count is of."""
    tax = taxonomy
    t = incidents
    pcol: list[str] = []
    if periods is not None and len(periods) == 1:
        t = in_period(t, periods[0])
    elif periods is not None:
        t = tag_periods(t, periods)
        pcol = ["_period"]
    t = category_filter(t, families=families, categories=categories, taxonomy=tax)
    w = as_window(night)
    if w is not None:
        t = t.filter(w.expr(t))
    acol = area_column(level)
    t, key = category_key(t, by, tax)
    groups = [*pcol] + [c for c in (acol, key) if c]
    agg = t.group_by(groups).aggregate(count=ibis._.count()) if groups else t.aggregate(count=ibis._.count())
    if acol:
        agg = agg.rename(area_id=acol)
    return agg


def _overlap(periods: list[Period]) -> bool:
    ps = sorted(periods, key=lambda p: p.start)
    return any(a.end > b.start for a, b in itertools.pairwise(ps))


def _all_keys(by: str | None, tax: Taxonomy, families: Iterable[str] | None, categories: Iterable[str] | None
              ) -> list[Any]:
    fams = list(families or [])
    cats = list(categories or [])
    if by == "preventable":
        return [True, False]
    if by == "family":
        if not fams and not cats:
            return list(tax.families)
        return sorted(set(fams) | {tax.family_of(c) for c in cats}, key=list(tax.families).index)
    if by == "category":
        if not fams and not cats:
            return list(tax.categories)
        return [c for c in tax.categories if c in cats or tax.family_of(c) in fams]
    return []


def _add_rates(df: pd.DataFrame, suffix: str = "") -> pd.DataFrame:
    c = df["count" + suffix].astype(float)
    if "population" in df.columns:
        pop = df["population"].astype(float)
        df["rate_residents" + suffix] = np.where(pop > 0, c / pop * 1000.0, np.nan)
    if "households" in df.columns:
        hh = df["households"].astype(float)
        df["rate_households" + suffix] = np.where(hh > 0, c / hh * 1000.0, np.nan)
    return df


def counts(
    incidents: ir.Table,
    period: Period | str,
    *,
    level: str | None = "community",
    by: str | None = "family",
    areas: Any = None,
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None = None,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    complete: bool = True,
) -> pd.DataFrame:
    """Counts per area × category key in a period, with rates per 1,000 residents and households.

    Parameters
    ----------
    incidents : ibis.Table
        The lake's incidents (or any table with its columns).
    period : Period or str
        E.g. ``"2025H2"``.
    level : str or None
        Area level (``community`` …); ``None`` counts the whole table.
    by : {"family", "category", "preventable", None}
        Category level; ``None`` adds all categories together.
    areas : Ibis/pyarrow/pandas table, optional
        Attributes of ``level`` (``lake.areas(level)``); adds ``name``, ``population``, ``households`` and the rates
        ``rate_residents``/``rate_households`` (per 1,000, for the period).
    night : NightWindow, str or bool, optional
        Only calls inside the night window.
    families, categories : iterable of str, optional
        Only these families / leaf codes.
    complete : bool
        With ``areas``: add zero rows for every area (× every key) without incidents.

    Returns
    -------
    pandas.DataFrame
        ``area_id``, [``name``, ``parent_id``], key, ``label_zh``, ``label_en``, ``count`` [, attributes, rates],
        sorted by area and key. Unassigned incidents form rows with ``area_id`` null.
    """
    return counts_many(incidents, [period], level=level, by=by, areas=areas, taxonomy=taxonomy, night=night,
                       families=families, categories=categories, complete=complete)[0]


def counts_many(
    incidents: ir.Table,
    periods: Iterable[Period | str],
    *,
    level: str | None = "community",
    by: str | None = "family",
    areas: Any = None,
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None = None,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    complete: bool = True,
) -> list[pd.DataFrame]:
    """:func:`counts` for several periods at once — one engine query when the periods do not overlap.

    Comparisons (this period and 同比/环比) use it so that a release runs half as many queries.
    """
    ps = [as_period(x) for x in periods]
    tax = taxonomy
    key = _key_name(by)
    kw: dict[str, Any] = dict(level=level, by=by, taxonomy=tax, night=night, families=families,
                              categories=categories)
    uniq = list(dict.fromkeys(ps))
    if len(uniq) > 1 and not _overlap(uniq):
        allp = _aggregate(incidents, uniq, **kw).to_pandas()
        raw = {p: allp[allp["_period"] == i].drop(columns="_period").reset_index(drop=True)
               for i, p in enumerate(uniq)}
    else:
        raw = {p: _aggregate(incidents, [p], **kw).to_pandas() for p in uniq}
    a = areas_frame(areas) if level is not None else None
    done = {p: _finish(raw[p], key=key, level=level, areas=a, tax=tax, families=families, categories=categories,
                       complete=complete) for p in uniq}
    return [done[p].copy() if i and ps.index(p) < i else done[p] for i, p in enumerate(ps)]


def _finish(
    df: pd.DataFrame,
    *,
    key: str | None,
    level: str | None,
    areas: pd.DataFrame | None,
    tax: Taxonomy,
    families: Iterable[str] | None,
    categories: Iterable[str] | None,
    complete: bool,
) -> pd.DataFrame:
    """Types, zero rows for areas without incidents, attributes, rates, labels, order (index ops, no merges)."""
    df["count"] = df["count"].astype("int64")
    if key == "preventable" and len(df):
        df["preventable"] = df["preventable"].astype(bool)
    a = areas
    if a is not None:
        on = ["area_id"] + ([key] if key else [])
        if complete:
            keys = _all_keys(key, tax, families, categories) if key else None
            ids = a["area_id"].to_numpy(object)
            if key:
                full = pd.MultiIndex.from_product([ids, keys], names=on)
                got = df.set_index(on)["count"]
            else:
                full = pd.Index(ids, name="area_id")
                got = df.set_index("area_id")["count"]
            inside = got.index.isin(full)
            grid = got.reindex(full, fill_value=0).reset_index()
            df = pd.concat([grid, got[~inside].reset_index()], ignore_index=True)  # + unassigned / unknown ids
            df["count"] = df["count"].astype("int64")
        attrs = a.drop_duplicates("area_id").set_index("area_id")
        for col in ("name", "parent_id", *_ATTRS):
            if col in attrs.columns:
                df[col] = attrs[col].reindex(df["area_id"]).to_numpy()
        df = _add_rates(df)
    elif level is None and "area_id" not in df.columns:
        df.insert(0, "area_id", None)
    if key:
        uniq = pd.unique(df[key])
        zh, en = key_labels(list(uniq), key, tax)
        pos = list(df.columns).index(key) + 1
        df.insert(pos, "label_zh", df[key].map(dict(zip(uniq, zh, strict=True))))
        df.insert(pos + 1, "label_en", df[key].map(dict(zip(uniq, en, strict=True))))
    sort = [c for c in ("area_id", key) if c and c in df.columns]
    if sort:
        df = df.sort_values(sort, na_position="last", kind="stable")
    cols = [c for c in ("area_id", "name", "parent_id") if c in df.columns]
    cols += [c for c in df.columns if c not in cols]
    return df[cols].reset_index(drop=True)


def shares(
    incidents: ir.Table,
    period: Period | str,
    *,
    by: str = "family",
    level: str | None = None,
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None = None,
) -> pd.DataFrame:
    """Share of each category key among all calls (within each area when ``level`` is given).

    Returns ``[area_id], key, label_zh, label_en, count, total, share`` (share 0–1), largest first.
    """
    tax = taxonomy
    key = _key_name(by)
    if key is None:
        raise AnalyticsError("shares need a category level: by='family', 'category' or 'preventable'")
    df = aggregate(incidents, as_period(period), level=level, by=key, taxonomy=tax, night=night).to_pandas()
    if key == "preventable" and len(df):
        df["preventable"] = df["preventable"].astype(bool)
    if level is None:
        df["total"] = df["count"].sum()
    else:
        df["total"] = df.groupby("area_id", dropna=False)["count"].transform("sum")
    df["share"] = np.where(df["total"] > 0, df["count"] / df["total"], np.nan)
    zh, en = key_labels(df[key].tolist(), key, tax)
    df.insert(list(df.columns).index(key) + 1, "label_zh", zh)
    df.insert(list(df.columns).index(key) + 2, "label_en", en)
    sort = (["area_id"] if level is not None else []) + ["count"]
    asc = ([True] if level is not None else []) + [False]
    return df.sort_values(sort, ascending=asc, na_position="last", kind="stable").reset_index(drop=True)


def monthly(
    incidents: ir.Table,
    start: Period | str,
    end: Period | str | None = None,
    *,
    by: str | None = None,
    level: str | None = None,
    taxonomy: Taxonomy,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Monthly counts from the start of ``start`` to the end of ``end`` (both included), for trend charts.

    Returns ``month`` (Timestamp of the first day), [``area_id``], [key, ``label_zh``, ``label_en``], ``count``;
    every month appears for every key (and area) seen, with zeros where nothing happened.
    """
    tax = taxonomy
    s = as_period(start)
    e = as_period(end) if end is not None else s
    span = Period(s.start, max(e.end, s.end), "range")
    t = in_period(incidents, span)
    t = category_filter(t, families=families, categories=categories, taxonomy=tax)
    t, key = category_key(t, by, tax)
    acol = area_column(level)
    t = t.mutate(month=t.reported_at.truncate("M"))
    groups = ["month"] + [c for c in (acol, key) if c]
    df = t.group_by(groups).aggregate(count=ibis._.count()).to_pandas()
    if acol:
        df = df.rename(columns={acol: "area_id"})
    months = pd.DatetimeIndex([pd.Timestamp(m.start) for m in span.months()], name="month")
    df["month"] = pd.to_datetime(df["month"]).dt.tz_localize(None).astype("datetime64[ns]")
    others = [c for c in ("area_id" if acol else None, key) if c]
    if others:
        combos = df[others].drop_duplicates()
        if key and len(combos) == 0:
            combos = pd.DataFrame({key: []})
        full = pd.DataFrame({"month": months}).merge(combos, how="cross")
    else:
        full = pd.DataFrame({"month": months})
    full["month"] = full["month"].astype("datetime64[ns]")
    df = full.merge(df, on=["month", *others], how="left")
    df["count"] = df["count"].fillna(0).astype("int64")
    if key:
        if key == "preventable":
            df[key] = df[key].astype(bool)
        zh, en = key_labels(df[key].tolist(), key, tax)
        df["label_zh"], df["label_en"] = zh, en
    cols = ["month", *others] + (["label_zh", "label_en"] if key else []) + ["count"]
    return df[cols].sort_values(["month", *others], na_position="last").reset_index(drop=True)


def compare(
    incidents: ir.Table,
    period: Period | str,
    *,
    comparison: Period | str | None = "yoy",
    level: str | None = "community",
    by: str | None = "family",
    areas: Any = None,
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None = None,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    method: Method = "binom",
    alpha: float = 0.05,
    min_total: int = 10,
) -> pd.DataFrame:
    """Counts of ``period`` and of the comparison period side by side, with an exact test per row.

    Returns the columns of :func:`counts` for ``period``, ``count_prev`` (and ``rate_*_prev``) for the comparison,
    and the change columns of :func:`anju.analytics.change.change_table` (exposures = period lengths in days).
    ``.attrs`` holds ``period`` and ``comparison`` (codes).

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({
    ...     "reported_at": pd.to_datetime(["2024-08-01"] * 50 + ["2025-08-01"] * 30),
    ...     "category": "theft.burglary", "family": "theft", "community_id": "c1"}))
    >>> from anju.taxonomy import load_taxonomy
    >>> r = compare(t, "2025H2", by=None, taxonomy=load_taxonomy())
    >>> r[["area_id", "count", "count_prev", "significant", "verdict_zh"]].to_dict("records")
    [{'area_id': 'c1', 'count': 30, 'count_prev': 50, 'significant': True, 'verdict_zh': '显著下降'}]
    >>> round(float(r.loc[0, "change_pct"]), 6)
    -40.0
    """
    from anju.analytics.change import change_table  # SciPy on first use, not for every reader of counts

    p = as_period(period)
    c = resolve_comparison(p, comparison)
    if c is None:
        raise AnalyticsError("compare needs a comparison period: 'yoy', 'pop' or a period such as '2024H2'")
    kw: dict[str, Any] = dict(level=level, by=by, areas=areas, taxonomy=taxonomy, night=night, families=families,
                              categories=categories)
    cur, prev = counts_many(incidents, [p, c], **kw)
    key = _key_name(by)
    on = [x for x in ("area_id" if level is not None else None, key) if x and x in cur.columns]
    keep_prev = [*on, "count"] + [x for x in ("rate_residents", "rate_households") if x in prev.columns]
    prev = prev[keep_prev].rename(columns={x: f"{x}_prev" for x in keep_prev if x not in on})
    df = cur.merge(prev, on=on, how="outer") if on else pd.concat([cur, prev], axis=1)
    for col in ("count", "count_prev"):
        df[col] = df[col].fillna(0).astype("int64")
    if key and df["label_zh"].isna().any():
        zh, en = key_labels(df[key].tolist(), key, taxonomy)
        df["label_zh"], df["label_en"] = zh, en
    a = areas_frame(areas) if level is not None else None
    if a is not None and df["name"].isna().any():
        names = a.set_index("area_id")["name"]
        df["name"] = df["name"].fillna(df["area_id"].map(names))
    kw_change: dict[str, Any] = dict(exposure=p.days, exposure_prev=c.days, alpha=alpha, min_total=min_total,
                                     method=method)
    unassigned = df["area_id"].isna() if level is not None and "area_id" in df.columns else None
    if unassigned is not None and unassigned.any():
        # the calls without an area are not one of the areas: the areas alone are the family of tests (BH q)
        out = pd.concat([change_table(df[~unassigned], **kw_change),
                         change_table(df[unassigned], **kw_change, adjust="none")], ignore_index=True)
    else:
        out = change_table(df, **kw_change)
    out.attrs.update(period=p.code, comparison=c.code)
    if on:
        out = out.sort_values(on, na_position="last", kind="stable").reset_index(drop=True)
    return out
