"""Shared pieces of the CLI: the settings from the global options, the console and progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from anju.config import Settings, load_settings

console = Console()
err_console = Console(stderr=True)


def metric_crs(settings: Settings, lon: Any, lat: Any) -> str:
    """The deployment's metric CRS (``areas/_meta.json``), else the UTM zone of the given points.

    Commands that project incidents (hot spots, forecasts) call this so they all agree with ingest and the areas.
    """
    from anju.errors import GeoError
    from anju.geo.areas import read_meta
    from anju.geo.projection import metric_crs_for

    crs = read_meta(settings.paths.areas).get("metric_crs")
    if crs:
        return str(crs)
    try:
        return metric_crs_for(lon, lat)
    except GeoError:
        raise GeoError("the deployment's metric CRS is unknown (no area layer loaded and no lon/lat); load areas "
                       "with `anju areas load`.") from None


def settings_from(ctx: typer.Context) -> Settings:
    """The settings built by the root callback from ``--data-dir``, ``--lang`` and ``--quiet``."""
    obj = ctx.find_root().obj
    if isinstance(obj, Settings):
        return obj
    return load_settings()


@contextmanager
def progress(settings: Settings | None = None, *, transient: bool = False) -> Iterator[Progress]:
    """A Rich progress bar that ``--quiet`` (or a non-terminal) silences."""
    quiet = bool(settings and settings.quiet)
    prog = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
        transient=transient,
    )
    with prog:
        yield prog
