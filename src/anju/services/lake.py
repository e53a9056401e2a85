"""Reading the lake for a use case: open it on the configured engine, resolve a period, filter incidents.

Every surface selects incidents through :func:`select`, so "theft in 2025H2 in community C01" means the same rows in
the CLI, the release and the web app. A category is a family (``theft``), any node of the taxonomy
(``theft.burglary``), a family or category label (``盗窃``) or a source category present in the lake (:func:`category_codes`); an area is ``level:id`` on one of the area levels of :data:`anju.analytics.LEVELS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from anju.analytics._common import LEVELS, area_column, in_period
from anju.analytics.periods import Period
from anju.analytics.timeofday import PRECISION_COLUMN
from anju.errors import DataNotFoundError, GeoError
from anju.lake.engine import open_lake as _open_engine

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from anju.deployment import Deployment
    from anju.lake.connection import Lake
    from anju.taxonomy import Taxonomy

__all__ = ["Selection", "category_codes", "incident_frame", "lake_source_categories", "latest_period", "metric_crs",
           "open_lake", "resolve_period", "select", "year_family_counts"]

LATEST = "latest"


def open_lake(dep: Deployment) -> Lake:
    """The deployment's lake on its engine (``settings.engine``); use it as a context manager so it is closed."""
    return _open_engine(dep.settings)


def latest_period(lake: Lake, kind: str = "half") -> Period:
    """The period of kind ``half`` (2025H2), ``quarter``, ``month`` or ``year`` holding the lake's latest incident."""
    latest = lake.incidents().reported_at.max().execute()
    if latest is None or pd.isna(latest):
        raise DataNotFoundError(f"the lake in {lake.settings.data_dir} has no incidents; import some with "
                                "`anju ingest` (or build the demo with `anju demo`) first",
                                zh=f"{lake.settings.data_dir} 的数据湖中没有警情；请先用 `anju ingest` 导入数据"
                                   "（或用 `anju demo` 生成演示数据）")
    ts = pd.Timestamp(latest)
    code = {"half": f"{ts.year}H{1 if ts.month <= 6 else 2}", "quarter": f"{ts.year}Q{(ts.month - 1) // 3 + 1}",
            "month": f"{ts.year}-{ts.month:02d}", "year": f"{ts.year}"}
    if kind not in code:
        raise DataNotFoundError(f"unknown period kind {kind!r}; expected one of {', '.join(code)}")
    return Period.parse(code[kind])


def resolve_period(lake: Lake, text: str | Period, *, kind: str = "half") -> Period:
    """``text`` as a :class:`Period`; ``latest`` is the latest ``kind`` of period in the lake (default half-year)."""
    if isinstance(text, Period):
        return text
    if str(text).strip().lower() == LATEST:
        return latest_period(lake, kind)
    return Period.parse(text)


def category_codes(taxonomy: Taxonomy, category: str, *,
                   source_categories: Callable[[], Iterable[str]] | None = None) -> tuple[str, list[str]]:
    """The column and values a category selects: one vocabulary for every surface.

    In order: a family code (``theft``) → ``("family", [code])``; a taxonomy node (``theft.burglary``, or ``theft.``
    prefixes) → ``("category", [leaf codes])``; a family's or leaf's label in Chinese or English (``盗窃``,
    ``入室盗窃``, ``Burglary``) → the same as its code; else a category name as the source system spelt it
    (the lake's ``source_category``, e.g. ``盗窃`` in a 110 export whose taxonomy labels differ) →
    ``("source_category", [name])`` — asked of ``source_categories`` (the names present in the lake) only when
    nothing in the taxonomy matched. Unknown names raise naming the known families.
    """
    from anju.analytics._common import AnalyticsError

    c = category.strip()
    if c in taxonomy.families:
        return "family", [c]
    leaves = [code for code in taxonomy.categories if code == c or code.startswith(c + ".")]
    if leaves:
        return "category", leaves
    low = c.casefold()
    for code, fam in taxonomy.families.items():
        if c == fam.zh or low == fam.en.casefold():
            return "family", [code]
    labelled = [code for code, cat in taxonomy.categories.items() if c == cat.zh or low == cat.en.casefold()]
    if labelled:
        return "category", labelled
    if source_categories is not None and c in set(source_categories()):
        return "source_category", [c]
    raise AnalyticsError(f"unknown category {category!r}: not a family ({', '.join(taxonomy.families)}), a node of "
                         "the taxonomy such as 'theft.burglary', a family or category label such as 盗窃, nor a "
                         "source category present in the lake; see docs/taxonomy.md")


def lake_source_categories(lake: Lake) -> Callable[[], list[str]]:
    """A callable listing the distinct ``source_category`` values of the lake (asked lazily, at most once)."""
    cache: list[list[str]] = []

    def names() -> list[str]:
        if not cache:
            t = lake.incidents()
            if "source_category" not in t.columns:
                cache.append([])
            else:
                vals = t.select("source_category").distinct().to_pandas()["source_category"]
                cache.append([str(v) for v in vals.dropna()])
        return cache[0]

    return names


@dataclass(frozen=True)
class Selection:
    """What to keep: a period, a category (family or node) and an area ``level:id`` — each optional."""

    period: Period | None = None
    category: str | None = None
    area: str | None = None
    station: str | None = None

    def describe(self) -> str:
        parts = [("period", self.period.code if self.period else None), ("category", self.category),
                 ("area", self.area), ("station", self.station)]
        return ", ".join(f"{k}={v}" for k, v in parts if v) or "all incidents"


def select(dep: Deployment, lake: Lake, selection: Selection) -> ir.Table:
    """The lake's incidents filtered by ``selection`` (an Ibis expression; nothing runs yet)."""
    from anju.analytics._common import AnalyticsError

    t = lake.incidents()
    if selection.period is not None:
        t = in_period(t, selection.period)
    if selection.category:
        col, codes = category_codes(dep.taxonomy, selection.category,
                                    source_categories=lake_source_categories(lake))
        t = t.filter(t[col].isin(codes))
    if selection.area:
        level, sep, ident = selection.area.partition(":")
        if not sep or not ident:
            raise AnalyticsError(f"area {selection.area!r} must be level:id, e.g. community:C0101; levels are "
                                 f"{', '.join(LEVELS)}")
        acol = area_column(level)
        assert acol is not None
        t = t.filter(t[acol] == ident)
    if selection.station:
        t = t.filter(t.station_id == selection.station)
    return t


def metric_crs(dep: Deployment, lon: Any = (), lat: Any = ()) -> str:
    """The deployment's metric CRS (``areas/_meta.json``), else the UTM zone of the given points.

    Every use case that projects incidents (hot spots, forecasts, the release) calls this so they agree with ingest
    and the area layers.
    """
    from anju.geo.areas import read_meta
    from anju.geo.projection import metric_crs_for

    crs = read_meta(dep.paths.areas).get("metric_crs")
    if crs:
        return str(crs)
    try:
        return metric_crs_for(lon, lat)
    except GeoError:
        raise GeoError("the deployment's metric CRS is unknown (no area layer loaded and no lon/lat); load areas "
                       "with `anju areas load`.") from None


def incident_frame(dep: Deployment, lake: Lake, selection: Selection, *, columns: tuple[str, ...] = (),
                   need_xy: bool = True) -> tuple[pd.DataFrame, str | None]:
    """The selected incidents as a DataFrame (``x``, ``y``, ``lon``, ``lat``, ``reported_at`` + ``columns``) and
    the metric CRS; with ``need_xy`` rows without projected coordinates are dropped (projected from lon/lat when
    the lake has no x/y) and an empty result raises :class:`~anju.errors.DataNotFoundError`."""
    import numpy as np

    t = select(dep, lake, selection)
    # the precision column comes along so shift analyses can leave date-only rows out (anju.analytics.timeofday)
    cols = list(dict.fromkeys(c for c in ("x", "y", "lon", "lat", "reported_at", PRECISION_COLUMN, *columns)
                              if c in t.columns))
    df = t.select(*cols).to_pandas()
    what = selection.describe()
    if df.empty:
        raise DataNotFoundError(f"the lake holds no incidents for {what}; run `anju ingest` first or widen the "
                                "selection (--period, --category, --area).",
                                zh=f"数据湖中没有符合 {what} 的警情；请先用 `anju ingest` 导入数据，或放宽筛选条件"
                                   "（--period、--category、--area）")
    df["reported_at"] = pd.to_datetime(df["reported_at"])
    if not need_xy:
        return df.reset_index(drop=True), None
    lon = df["lon"].to_numpy(float) if "lon" in df else []
    lat = df["lat"].to_numpy(float) if "lat" in df else []
    crs = metric_crs(dep, lon, lat)
    if "x" not in df or "y" not in df:
        raise DataNotFoundError("the lake's incidents have no x/y columns; see docs/data-model.md.")
    if df["x"].isna().all() and "lon" in df:
        from anju.geo.projection import to_metric

        x, y = to_metric(df["lon"].to_numpy(float), df["lat"].to_numpy(float), crs)
        df = df.assign(x=x, y=y)
    df = df[np.isfinite(df["x"].to_numpy(float)) & np.isfinite(df["y"].to_numpy(float))]
    if df.empty:
        raise DataNotFoundError(f"no incident of {what} has coordinates; check the source profile's lon/lat columns.")
    return df.reset_index(drop=True), crs


def year_family_counts(lake: Lake) -> dict[tuple[int, str], int]:
    """Incidents per (year, family) (:func:`anju.lake.status.year_family_counts`, also in ``anju status``)."""
    from anju.lake.status import year_family_counts as count

    return count(lake)
