"""CLI verb ``anju release``: build the Safety Index release (平安指数发布) of a period into one folder."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Annotated

import typer

from anju.commands._common import console, deployment_from
from anju.commands.options import CompareOpt, OutDirOpt, PeriodOpt, check_level


def register(app: typer.Typer) -> None:
    """Add ``anju release`` to the root app."""

    @app.command("release")
    def release_cmd(
        ctx: typer.Context,
        period: PeriodOpt = "latest",
        compare: CompareOpt = None,
        lang: Annotated[
            str | None, typer.Option("--lang", help="zh | en（默认取全局设置）/ language (default: global --lang).")
        ] = None,
        public: Annotated[
            bool, typer.Option("--public", help="公众版：无个案数据，小数字显示为“<3”，无人名 / residents' edition.")
        ] = False,
        out: OutDirOpt = None,
        by: Annotated[
            str | None,
            typer.Option("--by", help="分区层级：community、grid、street… 或 unit（按记录的管辖单位，如 PdDistrict）/ "
                         "area level of the per-area sections; 'unit' groups by the records' responsible unit."),
        ] = None,
        formats: Annotated[
            str | None, typer.Option("--formats", help="逗号分隔：html,pdf,xlsx,json（默认全部）/ subset of formats.")
        ] = None,
    ) -> None:
        """生成平安指数发布（index.html、report.pdf、tables.xlsx、release.json）/ build the Safety Index release.

        --out 为目录（默认 <data_dir>/releases/<时段>）/ --out is a directory (default <data_dir>/releases/<period>).
        """
        from anju.release import ReleaseError
        from anju.release.renderers import check_formats
        from anju.services.release import build_release

        check_level(by, option="--by", extra=("unit",))
        dep = deployment_from(ctx)
        language = lang or dep.lang
        if language not in ("zh", "en"):
            raise ReleaseError(f"--lang must be zh or en; got {language!r}. Use --lang zh or --lang en.")
        fmt_list = check_formats([f.strip() for f in formats.split(",") if f.strip()]) if formats else None
        if out is not None and out.exists() and not out.is_dir():
            raise ReleaseError(f"--out {out} is a file; --out names a directory")
        t0 = time.perf_counter()
        with console.status("正在生成发布 / building the release…", spinner="dots") if not dep.settings.quiet \
                else nullcontext():
            folder = build_release(dep, period, compare=compare, lang=language, public=public, out=out,
                                   formats=fmt_list, by=by)
        elapsed = time.perf_counter() - t0
        if not dep.settings.quiet:
            console.print(f"[green]已生成 / written[/] {folder}  ({elapsed:.1f} s)", highlight=False)
            for p in sorted(folder.iterdir()):
                if p.is_file():
                    console.print(f"  {p.name:14s} {p.stat().st_size / 1024:8.0f} KiB", highlight=False)
        else:
            typer.echo(str(folder))
