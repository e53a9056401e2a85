"""CLI verbs for the lake: ``anju status`` and ``anju lake compact``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from anju.commands._common import console, deployment_from, settings_from

lake_app = typer.Typer(name="lake", help="数据湖维护 / lake maintenance.", no_args_is_help=True)


def _l(lang: str, zh: str, en: str) -> str:
    return f"{zh} / {en}" if lang == "zh" else en


def status(
    ctx: typer.Context,
    months: Annotated[int, typer.Option("--months", help="显示最近多少个月 / months to list (0 = all).")] = 24,
) -> None:
    """数据湖概况：按年月、类别统计，导入记录，隔离原因 / what is in the lake."""
    from anju.lake.schema import QUARANTINE_REASONS
    from anju.services.lake import open_lake
    from anju.services.status import status as lake_status

    dep = deployment_from(ctx)
    settings = dep.settings
    lang = settings.lang
    with open_lake(dep) as lake:
        st = lake_status(dep, lake)
    if st.rows == 0 and not st.imports:
        console.print(_l(lang, f"数据湖为空（{settings.paths.lake}）。用 `anju ingest FILE --profile NAME` 导入数据。",
                         f"The lake is empty ({settings.paths.lake}). Import with `anju ingest FILE --profile NAME`."))
        return
    console.print(_l(lang, f"数据湖 {settings.paths.lake}：{st.rows:,} 条警情，{len(st.imports)} 次导入，{st.files} 个文件，"
                           f"时间 {st.first} — {st.last}",
                     f"lake {settings.paths.lake}: {st.rows:,} incidents, {len(st.imports)} imports, {st.files} files, "
                     f"{st.first} — {st.last}"))

    src = Table(title=_l(lang, "按数据源", "by source"))
    for c in (_l(lang, "数据源", "source"), _l(lang, "行数", "rows"), _l(lang, "起", "from"), _l(lang, "止", "to")):
        src.add_column(c, justify="right" if c.endswith("rows") else "left")
    for r in st.by_source:
        src.add_row(r["source"], f"{r['rows']:,}", str(r["first"]), str(r["last"]))
    console.print(src)

    bm = Table(title=_l(lang, "按年月", "by year/month"))
    bm.add_column(_l(lang, "年", "year"))
    bm.add_column(_l(lang, "月", "month"), justify="right")
    bm.add_column(_l(lang, "行数", "rows"), justify="right")
    shown = st.by_month[-months:] if months else st.by_month
    if len(shown) < len(st.by_month):
        bm.caption = _l(lang, f"仅显示最近 {len(shown)} 个月（--months 0 显示全部）",
                        f"last {len(shown)} months shown (--months 0 for all)")
    for r in shown:
        bm.add_row(str(r["year"]), str(r["month"]), f"{r['rows']:,}")
    console.print(bm)

    bc = Table(title=_l(lang, "按类别", "by family/category"))
    for c in (_l(lang, "大类", "family"), _l(lang, "类别", "category"), _l(lang, "行数", "rows"),
              _l(lang, "其中未知", "of which unknown")):
        bc.add_column(c)
    for r in st.by_category:
        bc.add_row(r["family_label"], f"{r['category_label']} ({r['category']})", f"{r['rows']:,}",
                   f"{r['unknown']:,}" if r["unknown"] else "")
    console.print(bc)

    im = Table(title=_l(lang, "导入记录", "imports"))
    for c in ("import_id", _l(lang, "配置", "profile"), _l(lang, "文件", "file"), _l(lang, "读取", "read"),
              _l(lang, "入库", "loaded"), _l(lang, "隔离", "quarantined"), _l(lang, "完成时间", "finished")):
        im.add_column(c)
    for i in st.imports:
        im.add_row(i["import_id"], i["source"], i["source_file"], f"{i['rows_read']:,}", f"{i['rows_loaded']:,}",
                   f"{i['rows_quarantined']:,}", str(i.get("finished_at", "")))
    console.print(im)

    if st.quarantine_by_reason:
        q = Table(title=_l(lang, "隔离原因", "quarantine by reason"))
        q.add_column(_l(lang, "原因", "reason"))
        q.add_column(_l(lang, "行数", "rows"), justify="right")
        for r in st.quarantine_by_reason:
            z, e = QUARANTINE_REASONS.get(r["reason"], (r["reason"], r["reason"]))
            q.add_row(f"{_l(lang, z, e)} ({r['reason']})", f"{r['rows']:,}")
        console.print(q)

    if st.unparsed_values:
        from anju.ingest.report import UNPARSED_LABELS

        u = Table(title=_l(lang, "无法识别的值（已入库，该字段留空）", "values given but unreadable (rows loaded, field left empty)"))
        u.add_column(_l(lang, "字段", "field"))
        u.add_column(_l(lang, "行数", "rows"), justify="right")
        for r in st.unparsed_values:
            z, e = UNPARSED_LABELS.get(r["field"], (r["field"], r["field"]))
            u.add_row(f"{_l(lang, z, e)} ({r['field']})", f"{r['rows']:,}")
        console.print(u)


@lake_app.command("compact")
def compact_cmd(ctx: typer.Context) -> None:
    """合并每月的小文件 / merge each month's files into one (atomic; readers never see duplicates)."""
    from anju.lake.manifest import Manifest, lake_lock
    from anju.lake.store import clean_orphans, compact

    settings = settings_from(ctx)
    paths = settings.paths
    with lake_lock(paths.lake):
        manifest = Manifest.load(paths.manifest)
        clean_orphans(paths.lake, manifest)
        out = compact(paths.lake, manifest)
    console.print(_l(settings.lang, f"已合并 {out['partitions']} 个月分区：文件 {out['files_before']} → {out['files_after']}",
                     f"compacted {out['partitions']} month partitions: files {out['files_before']} → "
                     f"{out['files_after']}"))


@lake_app.command("check")
def check_cmd(ctx: typer.Context) -> None:
    """检查数据湖清单与文件 / check the lake manifest and the files it lists (changes nothing)."""
    from anju.lake.repair import check_lake

    settings = settings_from(ctx)
    res = check_lake(settings.paths.lake, settings.paths.manifest)
    for p in res.problems:
        console.print(f"- {escape(p)}", highlight=False)
    if not res.ok:
        console.print(_l(settings.lang, "发现问题；运行 `anju lake repair` 修复", "problems found; run `anju lake repair`"))
        raise typer.Exit(2)
    console.print(_l(settings.lang, "数据湖完好", "the lake is sound"))


@lake_app.command("repair")
def repair_cmd(ctx: typer.Context) -> None:
    """修复数据湖清单 / restore or rebuild a damaged manifest, drop files that are missing."""
    from anju.lake.repair import repair_lake

    settings = settings_from(ctx)
    res = repair_lake(settings.paths.lake, settings.paths.manifest)
    for a in res.actions:
        console.print(f"- {escape(a)}", highlight=False)
    if not res.actions:
        console.print(_l(settings.lang, "无需修复", "nothing to repair"))


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.command("status")(status)
    app.add_typer(lake_app, name="lake")
