"""The Safety Index release (平安指数发布): one :class:`Release` object, rendered to four files.

:func:`anju.services.release.build_release` assembles the release from the analytics functions once and writes
``index.html`` (offline page), ``report.pdf`` (A4), ``tables.xlsx`` and ``release.json`` into one folder; this
package holds the model, the section builders and the renderers. Renderers live in a registry keyed by format
(:data:`RENDERERS`); they draw, they do not compute.
"""

from __future__ import annotations

from anju.release.model import Column, Figure, GeoLayer, Note, Release, ReleaseError, ReleaseMeta, Table
from anju.release.renderers import RENDERERS, RenderWorker, check_formats, register_renderer, render_all

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
    "check_formats",
    "register_renderer",
    "render_all",
]
