"""The ``anju`` command line: a thin shell over the service functions.

Global options build the :class:`~anju.config.Settings`; each part's verbs live in ``anju.commands.<part>``, imported
only when one of its commands runs (:class:`~anju.commands._lazy.LazyGroup`), so ``anju --help`` starts in a fraction
of a second.
Every error of every command becomes a one-paragraph message on stderr in the user's language and exit code 2 — no
traceback (:mod:`anju.commands._errors`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from anju import __version__
from anju.commands._errors import lang_of, show
from anju.commands._lazy import LazyGroup

app = typer.Typer(
    name="anju",
    cls=LazyGroup,
    help="安居 anju — 社区治安数据分析平台 / community public-safety analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", "-d", envvar="ANJU_DATA_DIR", help="数据目录 / data directory (default ./anju-data)."),
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="界面与报告语言 zh | en / language of messages and "
                                                            "reports.")] = None,
    engine: Annotated[str | None, typer.Option("--engine", envvar="ANJU_ENGINE", help="查询引擎 duckdb（默认）| "
                                                "spark（集群扩展，见 docs/scale.md）/ query engine: duckdb (default) | "
                                                "spark (scale-out, see docs/scale.md).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条 / no progress bars.")] = False,
) -> None:
    """安居 anju。常用词汇 / vocabulary: --period 2025H2|2025Q3|2025-07|2025|latest；--category theft 或
    theft.burglary；--areas/--by district|street|community|grid|station|police_district；--cell-size 米 / metres；
    --out 总是目录 / always a directory。"""
    from anju.config import load_settings

    ctx.obj = load_settings(data_dir=data_dir, lang=lang, engine=engine, quiet=quiet or None)


@app.command()
def versions() -> None:
    """版本信息 / show the versions of anju and its engines."""
    import duckdb
    import numpy
    import pyarrow
    import shapely

    from anju.ingest import kernels

    for name, ver in [
        ("anju", __version__),
        ("python", sys.version.split()[0]),
        ("duckdb", duckdb.__version__),
        ("pyarrow", pyarrow.__version__),
        ("numpy", numpy.__version__),
        ("shapely", shapely.__version__),
        ("kernels", kernels.describe()),
    ]:
        typer.echo(f"{name:10s} {ver}")


def main() -> None:
    """Entry point: :class:`AnjuGroup` turns every error of a command into a clean message; this catches the rest."""
    from anju.ingest.allocator import process_allocators

    try:
        with process_allocators():  # process-wide settings belong to the process entry, restored on exit
            app()
    except KeyboardInterrupt:
        show_lang = lang_of(None, sys.argv[1:])
        typer.echo("已取消" if show_lang == "zh" else "interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # an error outside any command (allocator set-up): still one paragraph
        sys.exit(show(exc, lang_of(None, sys.argv[1:])))


if __name__ == "__main__":
    main()
