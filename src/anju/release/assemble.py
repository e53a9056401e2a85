"""Build the :class:`~anju.release.model.Release` of a period, once, from the analytics functions.

Every number comes from one function of :mod:`anju.analytics` (or :mod:`anju.spatial.kde`); this module only picks
the columns to show, labels them in both languages, reshapes (melt, pivot, merge on keys) and writes sentences that
quote the numbers. It computes nothing itself, so HTML, PDF, Excel and JSON show the same values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from anju import __version__
from anju.config import Settings
from anju.errors import DataNotFoundError
from anju.release.model import Figure, GeoLayer, Lang, Note, Release, ReleaseMeta, Table

__all__ = ["BASE_LEVELS", "HEAT_BANDWIDTH_M", "HEAT_CELL_M", "ReleaseInputs", "assemble_release", "latest_half_year", "load_inputs"]

HEAT_CELL_M = 150.0
HEAT_BANDWIDTH_M = 300.0
HEAT_MIN_SHARE = 0.05
"""Heat cells below this share of the maximum density are left out of the release (they would draw as blank)."""
TOP_TERMS = 80
SUPERVISION_N = 10
BASE_LEVELS = ("community", "grid", "street", "police_district", "station", "district")
"""Preference order of the level the per-area sections use (community when loaded)."""


@dataclass
class ReleaseInputs:
    """What every section reads: the incidents, periods, area tables and boundaries, taxonomy and language."""

    incidents: Any
    period: Any
    comparison: Any
    taxonomy: Any
    lang: Lang
    areas: dict[str, pd.DataFrame] = field(default_factory=dict)
    geo: dict[str, GeoLayer] = field(default_factory=dict)
    metric_crs: str | None = None
    district: str = ""
    base_level: str = "community"
    """The area level the per-area sections (rankings, supervision, index map) use: the community layer, or, when
    none is loaded, the first of grid, street, police_district, station, district that is."""

    def L(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def has_attribute(self, level: str, column: str) -> bool:
        """Whether the ``level`` table carries ``column`` with at least one positive value (e.g. ``population``)."""
        a = self.areas.get(level)
        if a is None or column not in a.columns:
            return False
        v = pd.to_numeric(a[column], errors="coerce").to_numpy(float)
        return bool(np.any(np.isfinite(v) & (v > 0)))


@dataclass
class Part:
    """What one section builder contributes."""

    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def latest_half_year(settings: Settings) -> str:
    """The half-year (``"2025H2"``) of the latest incident in the lake."""
    from anju.lake import connect

    lake = connect(settings)
    latest = lake.incidents().reported_at.max().execute()
    if latest is None or pd.isna(latest):
        raise DataNotFoundError(f"the lake in {settings.data_dir} has no incidents; import some with `anju ingest` "
                                "(or build the demo with `anju demo`) before `anju release`")
    ts = pd.Timestamp(latest)
    return f"{ts.year}H{1 if ts.month <= 6 else 2}"


def _check_coverage(incidents: Any, period: Any) -> None:
    """Refuse a period the lake has no incident in, naming the dates the lake does cover."""
    t = incidents
    span = t.aggregate(first=t.reported_at.min(), last=t.reported_at.max()).to_pandas().iloc[0]
    if pd.isna(span["first"]):
        raise DataNotFoundError("the lake has no incidents; import some with `anju ingest` (or build the demo with "
                                "`anju demo`) before `anju release`")
    first, last = pd.Timestamp(span["first"]).date(), pd.Timestamp(span["last"]).date()
    if period.end <= first or period.start > last:
        raise DataNotFoundError(f"no incident in the release period {period.code} ({period.start} – {period.last_day}); "
                                f"the lake covers {first} – {last}. Choose a period inside it, e.g. --period latest")


def _points_crs(incidents: Any, period: Any) -> str | None:
    """The metric CRS of the period's incident points, for districts with no area layer (None without coordinates)."""
    from anju.analytics._common import in_period
    from anju.geo.projection import metric_crs_for

    t = in_period(incidents, period)
    t = t.filter(t.lon.notnull() & t.lat.notnull())
    box = t.aggregate(x0=t.lon.min(), x1=t.lon.max(), y0=t.lat.min(), y1=t.lat.max()).to_pandas().iloc[0]
    if pd.isna(box["x0"]):
        return None
    return metric_crs_for([box["x0"], box["x1"]], [box["y0"], box["y1"]])


def _unit_table(incidents: Any, periods: list[Any]) -> pd.DataFrame:
    """The ``unit`` level's area table: every responsible unit (管辖单位, PdDistrict…) named in the periods."""
    import ibis

    from anju.analytics._common import in_period

    named = [in_period(incidents, p) for p in periods]
    units = ibis.union(*[t.filter(t.unit.notnull()).select("unit") for t in named], distinct=True)
    units = units.order_by("unit").to_pandas()["unit"]
    units = units[units.astype(str).str.strip() != ""].astype(str).to_numpy(object)
    return pd.DataFrame({"area_id": units, "name": units, "parent_id": np.full(len(units), None, dtype=object)})


def load_inputs(settings: Settings, period: str, *, compare: str | None = None, lang: Lang = "zh",
                by: str | None = None) -> ReleaseInputs:
    """Open the lake, the area store and the taxonomy, and resolve the periods.

    ``by`` chooses the level of the per-area sections: a loaded layer, or ``"unit"`` — the responsible unit column
    of the records (管辖单位; San Francisco's PdDistrict), for districts with no boundaries of their units. By default
    the community layer, else the first loaded of :data:`BASE_LEVELS`, else ``unit`` when the records name units.
    """
    from anju.analytics.periods import Period, resolve_comparison
    from anju.geo.areas import AreaSet
    from anju.lake import connect
    from anju.taxonomy import load_taxonomy

    p = Period.parse(period)
    c = resolve_comparison(p, compare if compare is not None else "yoy")
    lake = connect(settings)
    incidents = lake.incidents()
    _check_coverage(incidents, p)
    area_set = AreaSet.from_data_dir(settings.data_dir)
    areas: dict[str, pd.DataFrame] = {}
    geo: dict[str, GeoLayer] = {}
    for level, layer in area_set.layers.items():
        attrs = layer.attributes
        areas[level] = attrs.to_pandas() if hasattr(attrs, "to_pandas") else pd.DataFrame(attrs)
        if level in ("community", "street", "grid"):
            geo[level] = GeoLayer(level, layer.ids, layer.names, layer.geometries)
    if by is not None and by != "unit" and by not in areas:
        loaded = ", ".join(areas) or "none"
        raise DataNotFoundError(f"--by {by}: no {by} layer is loaded in {settings.data_dir} (loaded: {loaded}); "
                                f"load one with `anju areas load FILE --layer {by}`, or use --by unit to group by "
                                "the records' responsible unit")
    if by == "unit" or (by is None and not any(lv in areas for lv in BASE_LEVELS)):
        areas["unit"] = _unit_table(incidents, [q for q in (p, c) if q is not None])
        if areas["unit"].empty:
            if by == "unit":
                raise DataNotFoundError(f"--by unit: no record of {p.code} names a responsible unit (the profile "
                                        "maps no `unit` column, or it is empty); choose a loaded area layer")
            raise DataNotFoundError(f"the data directory {settings.data_dir} has no area layer and the records name "
                                    "no responsible unit; load one with `anju areas load FILE --layer community` "
                                    "(or --layer grid) before `anju release`")
        base = "unit"
    else:
        base = by or next(lv for lv in BASE_LEVELS if lv in areas)
    district = ""
    if "district" in area_set.layers and len(area_set.layers["district"].names):
        district = str(area_set.layers["district"].names[0])
    return ReleaseInputs(incidents=incidents, period=p, comparison=c,
                         taxonomy=load_taxonomy(data_dir=settings.data_dir), lang=lang, areas=areas, geo=geo,
                         metric_crs=area_set.metric_crs or _points_crs(incidents, p), district=district,
                         base_level=base)


def assemble_release(settings: Settings, period: str, *, compare: str | None = None, lang: Lang = "zh",
                     by: str | None = None) -> Release:
    """The release of ``period`` (e.g. ``"2025H2"``; ``"latest"`` = :func:`latest_half_year`) against ``compare``
    (default the same period a year earlier), per area of level ``by`` (see :func:`load_inputs`)."""
    if period == "latest":
        period = latest_half_year(settings)
    inp = load_inputs(settings, period, compare=compare, lang=lang, by=by)
    return assemble_from(inp)


SectionBuilder = Callable[[ReleaseInputs], Part]


def assemble_from(inp: ReleaseInputs) -> Release:
    """Run every section builder on ``inp`` and put the parts together."""
    from anju.release import sections

    parts = [build(inp) for build in sections.BUILDERS]
    tables: dict[str, Table] = {}
    for part in parts:
        for t in part.tables:
            tables[t.key] = t
    p, c = inp.period, inp.comparison
    total = _headline_total(tables)
    figures = tuple(f for part in parts for f in part.figures)
    drawn = {f.enc.get("layer") for f in figures}
    meta = ReleaseMeta(
        district=inp.district,
        period=p.code,
        period_zh=p.label("zh"),
        period_en=p.label("en"),
        start=p.start.isoformat(),
        end=p.last_day.isoformat() if hasattr(p, "last_day") else (p.end - dt.timedelta(days=1)).isoformat(),
        compare=c.code if c is not None else None,
        compare_zh=c.label("zh") if c is not None else None,
        compare_en=c.label("en") if c is not None else None,
        lang=inp.lang,
        generated_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        anju_version=__version__,
        night_window=sections.night_label(inp),
        incidents=total,
        extra={"heat_cell_m": HEAT_CELL_M, "heat_bandwidth_m": HEAT_BANDWIDTH_M, "metric_crs": inp.metric_crs},
    )
    return Release(
        meta=meta,
        tables=tables,
        figures=figures,
        geo={k: v for k, v in inp.geo.items() if k in ("community", "street", inp.base_level) or k in drawn},
        notes=tuple(n for part in parts for n in part.notes),
    )


def _headline_total(tables: dict[str, Table]) -> int:
    t = tables.get("headline")
    if t is None or "metric" not in t.data.columns:
        return 0
    row = t.data[t.data["metric"] == "total"]
    return int(row["value"].iloc[0]) if len(row) and np.isfinite(row["value"].iloc[0]) else 0
