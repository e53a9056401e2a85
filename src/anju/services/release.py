"""The Safety Index release of a period: its model (the numbers every surface shows) and its files.

:func:`release_model` returns the same :class:`~anju.release.model.Release` object that ``anju release`` renders, so
the web platform's overview quotes the release's own numbers. :func:`build_release` writes ``index.html``,
``report.pdf``, ``tables.xlsx`` and ``release.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anju.analytics._common import in_period
from anju.errors import DataNotFoundError
from anju.release.inputs import BASE_LEVELS, ReleaseInputs
from anju.release.model import GeoLayer, Lang, Release, ReleaseError
from anju.services.lake import open_lake, resolve_period

if TYPE_CHECKING:
    from anju.analytics.periods import Period
    from anju.deployment import Deployment
    from anju.lake.connection import Lake

__all__ = ["build_release", "default_out_dir", "release_inputs", "release_model"]


def _check_coverage(incidents: Any, period: Period) -> None:
    """Refuse a period the lake has no incident in, naming the dates the lake does cover."""
    t = incidents
    span = t.aggregate(first=t.reported_at.min(), last=t.reported_at.max()).to_pandas().iloc[0]
    if pd.isna(span["first"]):
        raise DataNotFoundError("the lake has no incidents; import some with `anju ingest` (or build the demo with "
                                "`anju demo`) before `anju release`",
                                zh="数据湖中没有警情；请先用 `anju ingest` 导入数据（或用 `anju demo` 生成演示数据），"
                                   "再运行 `anju release`")
    first, last = pd.Timestamp(span["first"]).date(), pd.Timestamp(span["last"]).date()
    if period.end <= first or period.start > last:
        raise DataNotFoundError(f"no incident in the release period {period.code} ({period.start} – {period.last_day}); "
                                f"the lake covers {first} – {last}. Choose a period inside it, e.g. --period latest")


def _points_crs(incidents: Any, period: Period) -> str | None:
    """The metric CRS of the period's incident points, for districts with no area layer (None without coordinates)."""
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

    named = [in_period(incidents, p) for p in periods]
    units = ibis.union(*[t.filter(t.unit.notnull()).select("unit") for t in named], distinct=True)
    units = units.order_by("unit").to_pandas()["unit"]
    units = units[units.astype(str).str.strip() != ""].astype(str).to_numpy(object)
    return pd.DataFrame({"area_id": units, "name": units, "parent_id": np.full(len(units), None, dtype=object)})


RECORD_TYPES: dict[str, tuple[str, str]] = {
    "sf-kaggle": ("旧金山警察局事件报告", "SFPD incident reports"),
    "chicago": ("芝加哥警察局犯罪记录", "Chicago Police crime records"),
}
"""What one record of a known foreign source is; every other source holds 110 calls (110 警情)."""


def _data_notes(lake: Lake, incidents: Any, period: Period) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                     tuple[str, str], bool]:
    """What the release's appendix says about its data: excluded rows per reason, data warnings, the record type,
    and whether any loss amount exists."""
    from anju.analytics.quality import data_warnings, excluded_rows

    excluded = excluded_rows(incidents, lake.quarantine(), period)
    warnings = data_warnings(incidents, period)
    t = in_period(incidents, period)
    info = t.aggregate(loss=t.loss_yuan.notnull().cast("int64").sum(),
                       text=t.text.notnull().cast("int64").sum()).to_pandas().iloc[0]
    sources = t.select("source").distinct().to_pandas()["source"].astype(str).tolist()
    known = [RECORD_TYPES[x] for x in sources if x in RECORD_TYPES]
    record_type = known[0] if len(known) == len(sources) and len(set(known)) == 1 else ("110 警情", "110 calls")
    has_loss = bool(info["loss"] > 0 or info["text"] > 0)  # amounts are also read from the call text
    return excluded, warnings, record_type, has_loss


def release_inputs(dep: Deployment, lake: Lake, period: str | Period, *, compare: str | None = None,
                   lang: Lang | None = None, by: str | None = None) -> ReleaseInputs:
    """Resolve the periods (``latest`` = the lake's latest half-year) and read the area store for a release.

    ``by`` chooses the level of the per-area sections: a loaded layer, or ``"unit"`` — the responsible unit column
    of the records (管辖单位; San Francisco's PdDistrict), for districts with no boundaries of their units. By default
    the community layer, else the first loaded of :data:`~anju.release.inputs.BASE_LEVELS`, else ``unit`` when the
    records name units.
    """
    from anju.analytics.periods import resolve_comparison
    from anju.geo.areas import AreaSet

    language: Lang = "en" if (lang or dep.lang) == "en" else "zh"
    p = resolve_period(lake, period)
    c = resolve_comparison(p, compare if compare is not None else "yoy")
    incidents = lake.incidents()
    _check_coverage(incidents, p)
    area_set = AreaSet.from_data_dir(dep.data_dir)
    areas: dict[str, pd.DataFrame] = {}
    geo: dict[str, GeoLayer] = {}
    for level, layer in area_set.layers.items():
        attrs = layer.attributes
        areas[level] = attrs.to_pandas() if hasattr(attrs, "to_pandas") else pd.DataFrame(attrs)
        if level in ("community", "street", "grid"):
            geo[level] = GeoLayer(level, layer.ids, layer.names, layer.geometries)
    if by is not None and by != "unit" and by not in areas:
        loaded = ", ".join(areas) or "none"
        raise DataNotFoundError(f"--by {by}: no {by} layer is loaded in {dep.data_dir} (loaded: {loaded}); "
                                f"load one with `anju areas load FILE --layer {by}`, or use --by unit to group by "
                                "the records' responsible unit")
    if by == "unit" or (by is None and not any(lv in areas for lv in BASE_LEVELS)):
        areas["unit"] = _unit_table(incidents, [q for q in (p, c) if q is not None])
        if areas["unit"].empty:
            if by == "unit":
                raise DataNotFoundError(f"--by unit: no record of {p.code} names a responsible unit (the profile "
                                        "maps no `unit` column, or it is empty); choose a loaded area layer")
            raise DataNotFoundError(f"the data directory {dep.data_dir} has no area layer and the records name "
                                    "no responsible unit; load one with `anju areas load FILE --layer community` "
                                    "(or --layer grid) before `anju release`")
        base = "unit"
    else:
        base = by or next(lv for lv in BASE_LEVELS if lv in areas)
    excluded, warnings, record_type, has_loss = _data_notes(lake, incidents, p)
    district = ""
    if "district" in area_set.layers and len(area_set.layers["district"].names):
        district = str(area_set.layers["district"].names[0])
    return ReleaseInputs(deployment=dep, incidents=incidents, period=p, comparison=c, lang=language, areas=areas,
                         geo=geo, metric_crs=area_set.metric_crs or _points_crs(incidents, p), district=district,
                         base_level=base, record_type=record_type, excluded=excluded, warnings=warnings,
                         has_loss=has_loss)


def release_model(dep: Deployment, lake: Lake, period: str | Period = "latest", *, compare: str | None = None,
                  lang: Lang | None = None, by: str | None = None) -> Release:
    """The release of ``period`` (``"2025H2"``; ``"latest"``) against ``compare`` (default: a year earlier), per
    area of level ``by`` — the object ``anju release`` renders and the platform's overview shows.

    Examples
    --------
    ``with open_lake(dep) as lake: rel = release_model(dep, lake, "2025H2")`` then
    ``rel.tables["headline"].data`` holds the headline numbers.
    """
    from anju.release.assemble import assemble_from

    return assemble_from(release_inputs(dep, lake, period, compare=compare, lang=lang, by=by))


def default_out_dir(dep: Deployment, period: str, *, lang: str = "zh", public: bool = False) -> Path:
    """``<data_dir>/releases/<period>[-en][-public]``."""
    name = period + ("" if lang == "zh" else f"-{lang}") + ("-public" if public else "")
    return dep.paths.releases / name


def _check_early(period: str, compare: str | None, out: Path | str | None) -> None:
    """The period, the comparison and the output folder, checked before any work."""
    from anju.analytics.periods import Period, resolve_comparison
    from anju.services.lake import LATEST

    if str(period).strip().lower() != LATEST:
        p = Period.parse(period)
        if compare:
            resolve_comparison(p, compare)
    elif compare:
        resolve_comparison(Period.parse("2025H1"), compare)  # only its spelling: 'latest' is read from the lake
    if out is not None:
        for parent in (Path(out), *Path(out).parents):
            if parent.exists():
                if not parent.is_dir():
                    raise ReleaseError(f"--out {out}: {parent} is a file, so the release folder cannot be made there; "
                                       "choose a directory",
                                       zh=f"--out {out}：{parent} 是一个文件，无法在其中建立发布目录；请换一个目录")
                break


def build_release(
    dep: Deployment,
    period: str = "latest",
    *,
    compare: str | None = None,
    lang: str | None = None,
    public: bool = False,
    out: Path | str | None = None,
    formats: list[str] | None = None,
    by: str | None = None,
) -> Path:
    """Assemble the release of ``period`` from the lake and write its files into a folder; returns the folder.

    Parameters
    ----------
    dep : the deployment (data directory, engine, configuration).
    period : the release period, in any form ``Period.parse`` accepts, or ``latest``.
    compare : the comparison period (default: the same period a year earlier, 同比).
    lang : ``"zh"`` or ``"en"`` (default: the deployment's language).
    public : build the residents' edition (no record-level data, small counts as "<3", no names of people).
    out : output folder (default :func:`default_out_dir`).
    formats : subset of ``html``, ``pdf``, ``xlsx``, ``json`` (default all).
    by : level of the per-area sections (see :func:`release_inputs`).
    """
    from anju.release.output import atomic_folder
    from anju.release.renderers import RenderWorker, check_formats, render_all

    language = lang or dep.lang
    if language not in ("zh", "en"):
        raise ReleaseError(f"release language must be 'zh' or 'en'; got {language!r}. Use --lang zh or --lang en.")
    wanted = check_formats(formats)  # before the lake is read: a typo fails at once
    _check_early(period, compare, out)  # and before the PDF worker starts: bad input fails in milliseconds
    # the PDF (the slowest file) is laid out in a second process that imports its libraries while we assemble
    with RenderWorker(("pdf",), enabled="pdf" in wanted) as worker, open_lake(dep) as lake:
        release = release_model(dep, lake, period, compare=compare, lang="en" if language == "en" else "zh", by=by)
        if public:
            release = release.public()
        out_dir = Path(out) if out is not None else default_out_dir(dep, release.meta.period, lang=language,
                                                                    public=public)
        with atomic_folder(out_dir) as tmp:  # written aside, swapped in whole; one writer at a time
            render_all(release, tmp, wanted, worker=worker)
    return out_dir
