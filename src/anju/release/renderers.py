"""The registry of release renderers, keyed by format (like Datasette's ``register_output_renderer``).

A renderer takes a :class:`~anju.release.model.Release` and a target path and writes one file. It draws and
formats; it computes no numbers. Built-ins: ``html`` (index.html), ``pdf`` (report.pdf), ``xlsx`` (tables.xlsx),
``json`` (release.json). They are registered by name and imported on first use, so asking for ``release.json`` does
not load WeasyPrint and matplotlib.

:class:`RenderWorker` renders the PDF — the slowest file — in a separate process: started before the release is
assembled, it imports WeasyPrint and matplotlib meanwhile, then lays out the PDF while this process writes the others.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from anju.errors import AnjuError
from anju.release.model import Release, ReleaseError
from anju.release.output import die_with_parent

__all__ = ["RENDERERS", "RenderWorker", "Renderer", "check_formats", "register_renderer", "render_all", "template_env"]

RenderFunc = Callable[[Release, Path], None]


@dataclass(frozen=True)
class Renderer:
    """A format's renderer: its file name in the release folder and the function that writes it (or the module that
    registers that function when imported)."""

    format: str
    filename: str
    func: RenderFunc | None = None
    module: str | None = None

    def load(self) -> RenderFunc:
        """The render function, importing its module on first use."""
        if self.func is not None:
            return self.func
        if self.module is None:
            raise AnjuError(f"release format {self.format!r} has neither a function nor a module")
        importlib.import_module(self.module)
        func = RENDERERS[self.format].func
        if func is None:
            raise AnjuError(f"module {self.module} did not register a renderer for {self.format!r}")
        return func


_BUILTINS = {"html": ("index.html", "anju.release.render_html"), "pdf": ("report.pdf", "anju.release.render_pdf"),
             "xlsx": ("tables.xlsx", "anju.release.render_xlsx"), "json": ("release.json", "anju.release.render_json")}
RENDERERS: dict[str, Renderer] = {fmt: Renderer(fmt, fn, module=mod) for fmt, (fn, mod) in _BUILTINS.items()}


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
        RENDERERS[fmt] = Renderer(fmt, filename, func, module=func.__module__)
        return func

    return deco


def check_formats(formats: Iterable[str] | None) -> list[str]:
    """The formats to write (default: every registered one); unknown ones are refused with the known ones named."""
    wanted = list(formats) if formats is not None else list(RENDERERS)
    unknown = [f for f in wanted if f not in RENDERERS]
    if unknown:
        raise ReleaseError(f"--formats: unknown format(s) {unknown}; expected a comma-separated subset of "
                           f"{sorted(RENDERERS)}, e.g. --formats html,pdf")
    return wanted


def _warm(modules: list[str]) -> None:
    """Worker side: import the renderers' modules (and their libraries) ahead of the work."""
    for m in modules:
        importlib.import_module(m)


def _render_one(release: Release, path: Path, fmt: str) -> None:
    """Worker side: write one file."""
    RENDERERS[fmt].load()(release, path)


class RenderWorker:
    """One worker process that renders the given formats (default ``pdf``) alongside this process.

    Use as a context manager around assembling and rendering: the worker starts (and imports its renderers) on
    entry, :func:`render_all` hands it its formats, and exit waits for it. On POSIX the worker is forked — enter
    before opening the lake, so no DuckDB thread exists to be copied — which spares it re-importing what this
    process has loaded; ``fork=False`` (or Windows) spawns a fresh interpreter instead. With one CPU, or
    ``enabled=False``, it does nothing.
    """

    def __init__(self, formats: Iterable[str] = ("pdf",), *, enabled: bool = True, fork: bool = True) -> None:
        import os

        self.fork = fork
        self.formats = [f for f in formats if f in RENDERERS]
        self.enabled = enabled and bool(self.formats) and (os.cpu_count() or 1) > 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> RenderWorker:
        if self.enabled:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods and self.fork else "spawn")
            # the worker dies with this process (a killed release leaves no orphan writing report.pdf)
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=die_with_parent)
            mods = [m for f in self.formats if (m := RENDERERS[f].module) is not None]
            self._pool.submit(_warm, mods)  # an import error there shows again when a file is submitted
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def takes(self, fmt: str) -> bool:
        """Whether this worker renders ``fmt`` (a registered module renderer, worker running)."""
        return self._pool is not None and fmt in self.formats and RENDERERS[fmt].module is not None

    def submit(self, release: Release, path: Path, fmt: str) -> Future[None]:
        assert self._pool is not None
        return self._pool.submit(_render_one, release, path, fmt)


def render_all(release: Release, out_dir: Path, formats: Iterable[str] | None = None, *,
               worker: RenderWorker | None = None) -> dict[str, Path]:
    """Render ``release`` into ``out_dir`` in each format (default: every registered one); returns format → path.

    With a running :class:`RenderWorker`, its formats are written by the worker while this process writes the rest;
    a worker failure is raised here like a local one.
    """
    wanted = check_formats(formats)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {f: out_dir / RENDERERS[f].filename for f in wanted}
    remote = {f: worker.submit(release, paths[f], f) for f in wanted if worker is not None and worker.takes(f)}
    for fmt in wanted:
        if fmt not in remote:
            RENDERERS[fmt].load()(release, paths[fmt])
    for fut in remote.values():
        fut.result()
    return paths
