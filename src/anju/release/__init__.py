"""The Safety Index release (平安指数发布): one :class:`Release` object, rendered to four files.

``build_release(settings, "2025H2")`` assembles the release from the analytics functions once and writes
``index.html`` (offline page), ``report.pdf`` (A4), ``tables.xlsx`` and ``release.json`` into one folder.
Renderers live in a registry keyed by format (:data:`RENDERERS`); they draw, they do not compute.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from anju.release.model import Column, Figure, GeoLayer, Note, Release, ReleaseError, ReleaseMeta, Table
from anju.release.output import atomic_folder
from anju.release.renderers import RENDERERS, RenderWorker, check_formats, register_renderer, render_all

if TYPE_CHECKING:
    from anju.config import Settings

__all__ = [
    "RENDERERS",
    "Column",
    "Figure",
    "GeoLayer",
    "Note",
    "Release",
    "ReleaseError",
    "ReleaseMeta",
    "RenderWorker",
    "Table",
    "build_release",
    "default_out_dir",
    "register_renderer",
    "render_all",
]


def default_out_dir(settings: Settings, period: str, *, lang: str = "zh", public: bool = False) -> Path:
    """``<data_dir>/releases/<period>[-en][-public]``."""
    name = period + ("" if lang == "zh" else f"-{lang}") + ("-public" if public else "")
    return settings.paths.releases / name


def build_release(
    settings: Settings,
    period: str,
    *,
    compare: str | None = None,
    lang: str = "zh",
    public: bool = False,
    out: Path | str | None = None,
    formats: list[str] | None = None,
    by: str | None = None,
) -> Path:
    """Assemble the release of ``period`` (e.g. ``"2025H2"``) from the lake and write its files; returns the folder.

    Parameters
    ----------
    settings : the deployment settings (data directory, engine).
    period : the release period, in any form ``anju.analytics.periods.Period.parse`` accepts.
    compare : the comparison period (default: the same period a year earlier, 同比).
    lang : ``"zh"`` (default) or ``"en"``.
    public : build the residents' edition (no record-level data, small counts as "<3", no names of people).
    out : output folder (default :func:`default_out_dir`).
    formats : subset of ``html``, ``pdf``, ``xlsx``, ``json`` (default all).
    by : level of the per-area sections: a loaded layer (``community``, ``grid``…) or ``"unit"``, the records'
        responsible unit (管辖单位, PdDistrict); default the community layer, else the first loaded.
    """
    from anju.release.assemble import assemble_release

    if lang not in ("zh", "en"):
        raise ReleaseError(f"release language must be 'zh' or 'en'; got {lang!r}. Use --lang zh or --lang en.")
    wanted = check_formats(formats)  # before the lake is read: a typo fails at once
    # the PDF (the slowest file) is laid out in a second process that imports its libraries while we assemble
    with RenderWorker(("pdf",), enabled="pdf" in wanted) as worker:
        release = assemble_release(settings, period, compare=compare, lang="en" if lang == "en" else "zh", by=by)
        if public:
            release = release.public()
        out_dir = Path(out) if out is not None else default_out_dir(settings, release.meta.period, lang=lang,
                                                                    public=public)
        with atomic_folder(out_dir) as tmp:  # written aside, swapped in whole; one writer at a time
            render_all(release, tmp, wanted, worker=worker)
    return out_dir
