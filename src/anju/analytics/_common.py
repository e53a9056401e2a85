"""Helpers shared by the analytics modules: period filters, area levels, category keys, area attributes."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from anju.analytics.periods import Period
from anju.errors import AnalyticsError
from anju.taxonomy import Taxonomy

__all__ = [
    "ATTRIBUTE_LEVELS",
    "BY_LEVELS",
    "LEVELS",
    "AnalyticsError",
    "area_column",
    "areas_frame",
    "as_period",
    "category_filter",
    "category_key",
    "in_period",
    "key_labels",
    "tag_periods",
]

LEVELS = ("district", "street", "community", "grid", "station", "police_district", "unit")
"""Area levels: the six boundary layers (ids assigned by polygon at ingest) and ``unit``, the responsible unit as the
source gives it (管辖单位; San Francisco's PdDistrict) — a grouping without boundaries."""
ATTRIBUTE_LEVELS = ("unit",)
"""Levels read from a record attribute of the lake rather than assigned from a boundary layer."""
BY_LEVELS = ("family", "category", "preventable")
TIME = "reported_at"


from anju.analytics.periods import in_period  # noqa: E402  (public home: anju.analytics.periods / anju.analytics)


def as_period(period: Period | str) -> Period:
    """Accept a :class:`Period` or its text."""
    return Period.parse(period)


def tag_periods(t: ir.Table, periods: Sequence[Period]) -> ir.Table:
    """Rows in any of ``periods`` (which must not overlap) with a ``_period`` column: the index of their period.

    Lets one query count a period and its comparison together (half the engine round trips).
    """
    ps = [as_period(p) for p in periods]
    s = sorted(ps, key=lambda p: p.start)
    if any(a.end > b.start for a, b in itertools.pairwise(s)):
        raise AnalyticsError(f"periods {', '.join(map(str, ps))} overlap; count them separately")
    ts = t[TIME]
    branches = [((ts >= ibis.timestamp(p.start_datetime)) & (ts < ibis.timestamp(p.end_datetime)), i)
                for i, p in enumerate(ps)]
    t = t.mutate(_period=ibis.cases(*branches, else_=-1))
    return t.filter(t._period >= 0)


def area_column(level: str | None) -> str | None:
    """Column name of an area level (``community`` → ``community_id``, ``unit`` → ``unit``); ``None`` stays ``None``."""
    if level is None:
        return None
    lv = level.removesuffix("_id")
    if lv not in LEVELS:
        raise AnalyticsError(f"unknown area level {level!r}; expected one of {', '.join(LEVELS)} (or None for all)")
    return lv if lv in ATTRIBUTE_LEVELS else f"{lv}_id"


def category_key(t: ir.Table, by: str | None, taxonomy: Taxonomy) -> tuple[ir.Table, str | None]:
    """Add the grouping column of a category level and return ``(table, column name)``.

    ``family`` and ``category`` are lake columns; ``preventable`` is derived at query time from the taxonomy
    (``category IN (...)``), so a taxonomy change needs no re-import.
    """
    if by is None:
        return t, None
    b = "category" if by in ("leaf", "category") else by
    if b not in BY_LEVELS:
        raise AnalyticsError(f"unknown category level {by!r}; expected one of family, category (leaf), preventable "
                             "or None")
    if b == "preventable":
        codes = taxonomy.codes(preventable=True)
        t = t.mutate(preventable=t.category.isin(codes))
    return t, b


def category_filter(
    t: ir.Table,
    *,
    families: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    taxonomy: Taxonomy | None,
) -> ir.Table:
    """Keep rows in any of ``families`` or ``categories`` (leaf codes). Unknown codes raise (checked against
    ``taxonomy``, which a filter needs; without a filter it may be None)."""
    fams = list(families or [])
    cats = list(categories or [])
    if not fams and not cats:
        return t
    if taxonomy is None:
        raise AnalyticsError("filtering by family or category needs the deployment's taxonomy (taxonomy=...)")
    tax = taxonomy
    for f in fams:
        if f not in tax.families:
            raise AnalyticsError(f"unknown category family {f!r}; known: {', '.join(tax.families)}")
    for c in cats:
        if c not in tax:
            raise AnalyticsError(f"unknown category code {c!r}; see docs/taxonomy.md for the codes")
    cond = None
    if fams:
        cond = t.family.isin(fams)
    if cats:
        c2 = t.category.isin(cats)
        cond = c2 if cond is None else (cond | c2)
    return t.filter(cond)


def key_labels(values: Sequence[Any] | pd.Series, by: str | None, taxonomy: Taxonomy) -> tuple[list[Any], list[Any]]:
    """Chinese and English labels for values of a category key."""
    zh: list[Any] = []
    en: list[Any] = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            zh.append(None)
            en.append(None)
        elif by == "preventable":
            zh.append("可防性" if bool(v) else "非可防性")
            en.append("preventable" if bool(v) else "not preventable")
        elif v in taxonomy.families or v in taxonomy:
            zh.append(taxonomy.label(v, "zh"))
            en.append(taxonomy.label(v, "en"))
        else:
            zh.append(str(v))
            en.append(str(v))
    return zh, en


def areas_frame(areas: Any, *, need: Sequence[str] = ()) -> pd.DataFrame | None:
    """Area attributes as a pandas frame (from an Ibis table, a pyarrow table or a DataFrame), geometry dropped.

    ``need`` lists attribute columns that must be present (e.g. ``households`` for a per-household ranking).
    """
    if areas is None:
        return None
    if isinstance(areas, pd.DataFrame):
        df = areas.copy()
    elif isinstance(areas, ir.Table):
        cols = [c for c in areas.columns if c != "geometry"]
        df = areas.select(cols).to_pandas()
    elif hasattr(areas, "to_pandas"):  # pyarrow.Table
        df = areas.to_pandas()
    else:
        raise AnalyticsError(f"areas must be an Ibis table, a pyarrow table or a pandas DataFrame; got "
                             f"{type(areas).__name__}")
    if "geometry" in df.columns:
        df = df.drop(columns=["geometry"])
    if "area_id" not in df.columns:
        raise AnalyticsError(f"the area table has no 'area_id' column (columns: {', '.join(map(str, df.columns))}); "
                             "pass lake.areas(level)")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise AnalyticsError(
            f"the area table lacks {', '.join(missing)} (columns: {', '.join(map(str, df.columns))}); load an area "
            "file with these attributes (anju areas load …) or choose another denominator"
        )
    df["area_id"] = df["area_id"].astype(object)
    if "name" not in df.columns:
        df["name"] = df["area_id"]
    for c in ("population", "households"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df.reset_index(drop=True)


def rollup_attributes(parent: Any, child: Any, columns: Sequence[str] = ("population", "households")) -> pd.DataFrame:
    """Fill missing ``population``/``households`` of a parent layer by summing its children (by ``parent_id``).

    A street file rarely carries population, while community files do; this keeps rates at street level honest.
    """
    p = areas_frame(parent)
    c = areas_frame(child)
    assert p is not None and c is not None
    if "parent_id" not in c.columns:
        raise AnalyticsError("the child area table has no parent_id column; cannot roll attributes up")
    for col in columns:
        if col not in c.columns:
            continue
        sums = c.groupby("parent_id", dropna=True)[col].sum(min_count=1)
        filled = p["area_id"].map(sums)
        p[col] = p[col].fillna(filled) if col in p.columns else filled.astype(float)
    return p


def to_pandas(expr: ir.Table) -> pd.DataFrame:
    """Execute an Ibis expression (the only place analytics touch the engine)."""
    return expr.to_pandas()
