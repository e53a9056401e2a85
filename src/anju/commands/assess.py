"""CLI verbs ``anju assess``: the monthly community assessment and its bulletin, and the imports of its inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from anju.commands._common import console, settings_from
from anju.commands.options import valid_out_dir


def register(app: typer.Typer) -> None:
    """Add ``anju assess`` (with ``anju assess import``) to the root app."""
    group = typer.Typer(help="小区治安月度考评与《小区治安月通报》/ monthly community assessment and bulletin.",
                        invoke_without_command=True, no_args_is_help=False)

    @group.callback()
    def assess_cmd(
        ctx: typer.Context,
        month: Annotated[str | None, typer.Option("--month", help="考评月份，如 2025-11 / month YYYY-MM.")] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", callback=valid_out_dir, help="输出目录（默认 <data_dir>/assessment/bulletins/"
                                                 "<月份>）/ output directory.")] = None,
        issued: Annotated[str | None, typer.Option("--issued", help="印发日期 YYYY-MM-DD（默认今天）/ issue date.")
                          ] = None,
    ) -> None:
        """生成某月考评结果和通报（.docx + .xlsx）/ assess a month and write the bulletin."""
        if ctx.invoked_subcommand is not None:
            return
        from anju.assess.archive import build_bulletin
        from anju.errors import AnjuError

        if month is None:
            raise AnjuError("give the month to assess: anju assess --month 2025-11")
        try:
            day = dt.date.fromisoformat(issued) if issued else None
        except ValueError:
            raise AnjuError(f"--issued must be a date YYYY-MM-DD; got {issued!r}") from None
        settings = settings_from(ctx)
        files = build_bulletin(settings, month, out=out, issued=day)
        t = files.assessment.totals
        if settings.quiet:
            typer.echo(str(files.folder))
            return
        console.print(f"[green]已生成 / written[/] {files.folder}", highlight=False)
        console.print(f"  {files.docx.name}\n  {files.xlsx.name}", highlight=False)
        console.print(f"  小区 {t['communities']} 个，可防性案件 {t['preventable']} 起（去年同月 {t['preventable_prev']}），"
                      f"零发案 {t['zero_case']} 个，控案先进 {t['control']} 个；考评细则 {files.assessment.rubric.version}",
                      highlight=False)

    @group.command("import")
    def import_cmd(
        ctx: typer.Context,
        kind: Annotated[str, typer.Argument(help="patrol_plan | patrol_scans | cameras | camera_faults | "
                                            "registrations | survey_frame | survey_answers")],
        file: Annotated[Path, typer.Argument(help="CSV（UTF-8/GB18030）或 Excel 文件 / CSV or Excel file.")],
    ) -> None:
        """导入考评数据，逐行说明去向 / import an input file; every row is accounted for."""
        from anju.assess.inputs import community_ids, import_input

        settings = settings_from(ctx)
        rep = import_input(settings, kind, file, known_communities=community_ids(settings))
        console.print(f"{kind}: 共 {rep.rows} 行，新增 {rep.loaded}，已存在/重复 {rep.unchanged}，拒绝 {len(rep.rejected)}"
                      f" / rows {rep.rows}, loaded {rep.loaded}, unchanged {rep.unchanged}, rejected "
                      f"{len(rep.rejected)}", highlight=False)
        for line, reason in rep.rejected[:20]:
            console.print(f"  第 {line} 行 / line {line}: {reason}", highlight=False)
        if len(rep.rejected) > 20:
            console.print(f"  … 另有 {len(rep.rejected) - 20} 行被拒绝 / more rejected rows", highlight=False)
        if rep.dropped_columns:
            console.print(f"  未保存含个人信息的列 / personal-data columns not stored: {', '.join(rep.dropped_columns)}",
                          highlight=False)

    app.add_typer(group, name="assess")
