"""Put the :class:`~anju.release.model.Release` of a period together from the section builders.

Every number comes from one function of :mod:`anju.analytics` (or :mod:`anju.spatial.kde`), called by a builder of
:mod:`anju.release.sections`; this module only collects their parts and writes the release's metadata. It reads
nothing: the inputs (lake, areas, deployment) are opened by :func:`anju.services.release.release_inputs`, so HTML,
PDF, Excel, JSON and the web platform show the same values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from anju import __version__
from anju.release import sections
from anju.release.inputs import BASE_LEVELS, Part, ReleaseInputs
from anju.release.model import Release, ReleaseMeta, Table

__all__ = ["BASE_LEVELS", "Part", "ReleaseInputs", "SectionBuilder", "assemble_from"]

SectionBuilder = Callable[[ReleaseInputs], Part]


def assemble_from(inp: ReleaseInputs) -> Release:
    """Run every section builder on ``inp`` and put the parts together."""
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
        extra={"heat_cell_m": inp.deployment.analysis.heat.cell_m,
               "heat_bandwidth_m": inp.deployment.analysis.heat.bandwidth_m, "metric_crs": inp.metric_crs,
               "base_level": inp.base_level, "section_titles": _section_titles(inp)},
        record_type_zh=inp.record_type[0],
        record_type_en=inp.record_type[1],
    )
    return Release(
        meta=meta,
        tables=tables,
        figures=figures,
        geo={k: v for k, v in inp.geo.items() if k in ("community", "street", inp.base_level) or k in drawn},
        notes=tuple(n for part in parts for n in part.notes),
    )


def _section_titles(inp: ReleaseInputs) -> dict[str, tuple[str, str]]:
    """Section titles that depend on the base level (the map section names the level it maps)."""
    if inp.base_level == "community":
        return {}
    zh, en = sections.level_label(inp.base_level)
    if sections.has_residents(inp):
        return {"map": (f"{zh}平安指数", f"Safety index by {en.lower()}")}
    return {"map": (f"各{zh}警情", f"Calls by {en.lower()}")}


def _headline_total(tables: dict[str, Table]) -> int:
    t = tables.get("headline")
    if t is None or "metric" not in t.data.columns:
        return 0
    row = t.data[t.data["metric"] == "total"]
    return int(row["value"].iloc[0]) if len(row) and np.isfinite(row["value"].iloc[0]) else 0
