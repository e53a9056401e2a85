"""The registry of release renderers, keyed by format (like Datasette's ``register_output_renderer``).

A renderer takes a :class:`~anju.release.model.Release` and a target path and writes one file. It draws and
formats; it computes no numbers. Built-ins: ``html`` (index.html), ``pdf`` (report.pdf), ``xlsx`` (tables.xlsx),
``json`` (release.json); they register themselves when :mod:`anju.release` is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from anju.errors import AnjuError
from anju.release.model import Release

__all__ = ["RENDERERS", "Renderer", "register_renderer", "render_all", "template_env"]

RenderFunc = Callable[[Release, Path], None]


@dataclass(frozen=True)
class Renderer:
    """A format's renderer: its file name in the release folder and the function that writes it."""

    format: str
    filename: str
    func: RenderFunc


RENDERERS: dict[str, Renderer] = {}


@lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    """The Jinja environment for the HTML page and the PDF's HTML source (package templates, strict, escaped)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("anju.release", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def register_renderer(fmt: str, filename: str) -> Callable[[RenderFunc], RenderFunc]:
    """Decorator: register ``func(release, path)`` as the renderer of ``fmt``, writing ``filename``."""

    def deco(func: RenderFunc) -> RenderFunc:
        RENDERERS[fmt] = Renderer(fmt, filename, func)
        return func

    return deco


def render_all(release: Release, out_dir: Path, formats: Iterable[str] | None = None) -> dict[str, Path]:
    """Render ``release`` into ``out_dir`` in each format (default: every registered one); returns format → path."""
    wanted = list(formats) if formats is not None else list(RENDERERS)
    unknown = [f for f in wanted if f not in RENDERERS]
    if unknown:
        raise AnjuError(f"unknown release format(s) {unknown}; expected some of {sorted(RENDERERS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for fmt in wanted:
        r = RENDERERS[fmt]
        path = out_dir / r.filename
        r.func(release, path)
        written[fmt] = path
    return written
