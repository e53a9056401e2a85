"""Shared pieces of the CLI: the settings from the global options, the console and progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from anju.deployment import Deployment

console = Console()
err_console = Console(stderr=True)


def settings_from(ctx: typer.Context) -> Settings:
    """The settings built by the root callback from ``--data-dir``, ``--lang``, ``--engine`` and ``--quiet``."""
    obj = ctx.find_root().obj
    if isinstance(obj, Settings):
        return obj
    return load_settings()


def deployment_from(ctx: typer.Context) -> Deployment:
    """The :class:`~anju.deployment.Deployment` of the settings, loaded once per command run and validated."""
    from anju.deployment import load_deployment

    root = ctx.find_root()
    meta = root.meta
    dep = meta.get("anju.deployment")
    if dep is None:
        dep = load_deployment(settings_from(ctx))
        meta["anju.deployment"] = dep
    return dep  # type: ignore[no-any-return]


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
