"""CLI verbs for ingest: ``anju ingest FILE --profile NAME`` and ``anju profile check FILE --profile NAME``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from anju.commands._common import console, err_console, settings_from

profile_app = typer.Typer(
    name="profile",
    help="数据源配置 / source profiles: 列出、检查 / list and dry-run profiles.",
    no_args_is_help=True,
)

_PROFILE_HELP = "数据源配置名或 .toml 路径 / profile name (cn110, chicago, sf-kaggle, or <data_dir>/profiles/NAME) or path."
_ENCODING_HELP = "文件编码 / file encoding (default: the profile's, auto = UTF-8 or GB18030 detected)."


def _l(lang: str, zh: str, en: str) -> str:
    return f"{zh} / {en}" if lang == "zh" else en


def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8/GBK, 可为 .gz)、XLSX 或 Parquet 文件，或其文件夹 / source file, "
                                              "or a folder of them (one import each).")],
    profile: Annotated[str, typer.Option("--profile", "-p", help=_PROFILE_HELP)] = "cn110",
    encoding: Annotated[str | None, typer.Option("--encoding", "-e", help=_ENCODING_HELP)] = None,
) -> None:
    """导入数据文件到数据湖 / import a source file into the lake (idempotent, atomic)."""
    from anju.ingest.pipeline import ingest_file

    settings = settings_from(ctx)
    lang = settings.lang
    prog = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:>12,} " + ("行" if lang == "zh" else "rows")),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=settings.quiet,
        transient=True,
    )
    with prog:
        task = prog.add_task(_l(lang, f"导入 {file.name}", f"importing {file.name}"), total=None, rows=0)

        def on_progress(done: int, total: int, rows: int) -> None:
            prog.update(task, completed=done, total=total, rows=rows)

        if settings.engine == "spark" or file.is_dir():  # a folder of exports, or the distributed ingest
            from anju.lake.spark_ingest import ingest_path

            reports = ingest_path(settings, file, profile=profile, progress=on_progress, encoding=encoding)
        else:
            reports = [ingest_file(settings, file, profile=profile, progress=on_progress, encoding=encoding)]
    for report in reports:
        console.print(report.to_table(lang))
        if report.skipped_duplicate_file:
            console.print(_l(lang, "此文件（按 SHA-256）已导入，数据湖未改动。",
                             "This file (by SHA-256) was imported before; the lake is unchanged."))


@profile_app.command("list")
def list_profiles(ctx: typer.Context) -> None:
    """列出可用的数据源配置 / list available profiles."""
    from anju.ingest.profile import load_profile, shipped_profiles

    settings = settings_from(ctx)
    lang = settings.lang
    t = Table(title=_l(lang, "数据源配置", "source profiles"))
    for c in (_l(lang, "名称", "name"), _l(lang, "位置", "where"), _l(lang, "说明", "description")):
        t.add_column(c)
    local_dir = settings.paths.profiles
    local = sorted(p.stem for p in local_dir.glob("*.toml")) if local_dir.exists() else []
    for name in sorted(set(shipped_profiles()) | set(local)):
        p = load_profile(name, data_dir=settings.data_dir)
        where = str(p.path) if name in local else _l(lang, "内置", "shipped")
        t.add_row(name, where, p.description)
    console.print(t)


@profile_app.command("check")
def check(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="要检查的文件 / the file to check.")],
    profile: Annotated[str, typer.Option("--profile", "-p", help=_PROFILE_HELP)] = "cn110",
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="检查前 N 行 / rows to check.")] = 1000,
    encoding: Annotated[str | None, typer.Option("--encoding", "-e", help=_ENCODING_HELP)] = None,
    show: Annotated[int, typer.Option("--show", help="最多显示多少条失败行 / failing rows to list.")] = 20,
) -> None:
    """试运行配置：列映射、样例值与会失败的行，不写入任何数据 / dry run: mapping, samples, failing rows."""
    from anju.ingest.pipeline import check_file
    from anju.ingest.profile import CANONICAL_FIELDS
    from anju.lake.schema import QUARANTINE_REASONS

    settings = settings_from(ctx)
    lang = settings.lang
    rep = check_file(settings, file, profile=profile, rows=rows, encoding=encoding)
    console.print(_l(lang, f"文件 {rep.source_file}：编码 {rep.encoding or '-'}，{len(rep.columns)} 列；配置 "
                           f"{rep.profile.name}（{rep.profile.path}）",
                     f"file {rep.source_file}: encoding {rep.encoding or '-'}, {len(rep.columns)} columns; "
                     f"profile {rep.profile.name} ({rep.profile.path})"))
    t = Table(title=_l(lang, "列映射", "column mapping"), show_lines=False)
    for c in (_l(lang, "字段", "field"), _l(lang, "源列", "source column"), _l(lang, "样例", "samples"),
              _l(lang, "解析结果", "parsed")):
        t.add_column(c, overflow="fold")
    for fld, meaning in CANONICAL_FIELDS.items():
        col = rep.resolved.get(fld)
        alts = getattr(rep.profile.columns, fld)
        if col is None and not alts and fld not in rep.parsed:
            continue
        shown_col = col or ("[dim]" + _l(lang, "（未找到）", "(not in file)") + "[/]" if alts else "—")
        samples = ", ".join(_short(v) for v in rep.samples.get(fld, []))
        parsed = ", ".join(_short(v) for v in rep.parsed.get(fld, []))
        label = meaning.split(" / ")[0] if lang == "zh" else meaning.split(" / ")[-1].split(" (")[0]
        t.add_row(f"{fld} [dim]{label}[/]", shown_col, samples, parsed)
    console.print(t)
    if rep.unmapped_columns:
        console.print(_l(lang, "未使用的列（不入库）", "unused columns (not stored)") + ": "
                      + ", ".join(rep.unmapped_columns))
    levels = ", ".join(rep.geo_levels) or _l(lang, "无（不做区域分配）", "none (no area assignment)")
    console.print(_l(lang, "已加载区域图层", "area layers loaded") + f": {levels}")
    s = Table(title=_l(lang, f"前 {rep.rows_checked} 行的结果（未写入）",
                       f"outcome for the first {rep.rows_checked} rows (nothing written)"))
    s.add_column(_l(lang, "项目", "item"))
    s.add_column(_l(lang, "行数", "rows"), justify="right")
    s.add_row(_l(lang, "可入库", "would load"), f"{rep.would_load:,}")
    for code, n in sorted(rep.reasons.items(), key=lambda kv: -kv[1]):
        z, e = QUARANTINE_REASONS.get(code, (code, code))
        s.add_row(_l(lang, f"将隔离：{z}", f"would quarantine: {e}") + f" ({code})", f"{n:,}")
    for cat, n in sorted(rep.unknown_categories.items(), key=lambda kv: -kv[1])[:10]:
        s.add_row(_l(lang, f"未知类别：{cat}", f"unknown category: {cat}"), f"{n:,}")
    console.print(s)
    if rep.failures:
        f = Table(title=_l(lang, "失败的行", "failing rows"))
        for c in (_l(lang, "行号", "row"), _l(lang, "原因", "reason"), _l(lang, "详情", "detail")):
            f.add_column(c, overflow="fold")
        for row in rep.failures[:show]:
            f.add_row(str(row["row"]), row["reason"], row["detail"] or "")
        console.print(f)
        if len(rep.failures) > show:
            console.print(_l(lang, f"…… 另有 {len(rep.failures) - show} 行", f"… {len(rep.failures) - show} more"))


def _short(v: Any, width: int = 28) -> str:
    s = "∅" if v is None else str(v)
    return s if len(s) <= width else s[: width - 1] + "…"


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.command("ingest")(ingest)
    app.add_typer(profile_app, name="profile")
