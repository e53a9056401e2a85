"""``anju demo``: generate the demo district (闵安区) and build it into the data directory through the real paths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from anju.commands._common import console, deployment_from, progress, settings_from
from anju.commands.options import valid_out_dir


def register(app: typer.Typer) -> None:
    """Add ``anju demo`` to the root app."""
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / random seed (same seed → same files).")] = 42,
    scale: Annotated[float, typer.Option("--scale", help="规模倍数 / volume multiplier (1 ≈ 450k calls a year; "
                                                          "7.5 → 10M+ rows; 0.02 for a quick run).")] = 1.0,
    out: Annotated[Path | None, typer.Option("--out", callback=valid_out_dir, help="输出目录 / output directory of the "
                                                           "generated files (default <data_dir>/demo).")] = None,
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="只生成文件 / only write the files.")] = False,
    years: Annotated[int, typer.Option("--years", help="年数 / number of full years.")] = 3,
    end: Annotated[int | None, typer.Option("--end", help="最后一年 / last full year (default: last year).")] = None,
    no_release: Annotated[bool, typer.Option("--no-release", help="不生成平安指数发布 / skip the release.")] = False,
) -> None:
    """生成演示辖区并入库 / generate the demo district and build it into the data directory."""
    from anju.demo.build import run_demo

    settings = settings_from(ctx)
    en = settings.lang == "en"
    with progress(settings) as prog:
        gen_task: list[Any] = []

        def on_start(total: int) -> None:
            gen_task.append(prog.add_task("generating calls" if en else "生成警情", total=total))

        def on_rows(n: int) -> None:
            if gen_task:
                prog.advance(gen_task[0], n)

        def on_stage(stage: str) -> None:
            if stage != "generate" and gen_task:
                prog.update(gen_task[0], completed=prog.tasks[gen_task[0]].total)

        ingest_task: list[Any] = []

        def on_ingest(done: int, total: int, rows: int) -> None:
            if not ingest_task:
                ingest_task.append(prog.add_task("ingesting (bytes)" if en else "入库（字节）", total=total))
            prog.update(ingest_task[0], completed=done, total=total)

        result = run_demo(settings, seed=seed, scale=scale, out_dir=out, ingest=not no_ingest, end_year=end,
                          years=years, on_start=on_start, on_rows=on_rows, on_stage=on_stage,
                          ingest_progress=on_ingest)
    dep = deployment_from(ctx)  # after the demo wrote its files: the deployment reads the data directory
    _summary(dep, result, en)
    if not no_ingest and not no_release:
        from anju.services.release import build_release

        with console.status("building the Safety Index release…" if en else "生成平安指数发布…"):
            path = build_release(dep, "latest", lang=settings.lang)
        label = "Safety Index release" if en else "平安指数发布"
        console.print(f"[bold green]{label}:[/] {path}")
        for name in ("index.html", "report.pdf", "tables.xlsx", "release.json"):
            if (path / name).exists():
                console.print(f"  {path / name}")


def _summary(dep: Any, result: Any, en: bool) -> None:
    settings = dep.settings
    files = result.files
    truth = files.truth
    d = truth["district"]
    layers = d["layers"]
    console.print(
        f"[bold]{d['name']}[/] ({d['id']}): {layers['street']} {'streets/towns' if en else '个街镇'}, "
        f"{layers['community']} {'communities' if en else '个社区'}, {layers['grid']} {'grids' if en else '个网格'}, "
        f"{layers['station']} {'police stations' if en else '个派出所'}, {layers['police_district']} "
        f"{'police districts' if en else '个警务区'}"
    )
    state = ("re-used" if en else "已存在，未重新生成") if files.reused else ("generated" if en else "已生成")
    console.print(f"{'calls' if en else '警情'}: {files.rows:,} {'rows' if en else '条'} ({state}) → {files.csv}")
    counts = _lake_counts(dep) if result.import_report is not None else None
    source = "lake" if counts is not None else "generated"
    if counts is None:
        counts = {(int(y), f): n for y, fams in truth["realized"]["loaded_by_year_family"].items()
                  for f, n in fams.items()}
    years = sorted({y for y, _ in counts})
    fams = sorted({f for _, f in counts}, key=lambda f: -sum(n for (y, g), n in counts.items() if g == f))
    tax = dep.taxonomy
    t = Table(title=("calls by year and family" if en else "各年警情（按大类）") + f" [{source}]")
    t.add_column("family" if en else "大类")
    for y in years:
        t.add_column(str(y), justify="right")
    for f in fams:
        label = tax.label(f, "en" if en else "zh") if f in tax.families else f
        t.add_row(label, *[f"{counts.get((y, f), 0):,}" for y in years])
    t.add_row("total" if en else "合计", *[f"{sum(n for (yy, _), n in counts.items() if yy == y):,}" for y in years])
    console.print(t)
    rep = result.import_report
    if rep is not None:
        q = dict(getattr(rep, "quarantine_by_reason", {}) or {})
        dup = getattr(rep, "skipped_duplicate_file", False)
        head = "import" if en else "入库"
        note = (" (already imported, nothing changed)" if en else "（此前已导入，未作改动）") if dup else ""
        console.print(f"{head}: {getattr(rep, 'rows_loaded', 0):,} {'loaded' if en else '条入库'}, "
                      f"{getattr(rep, 'rows_quarantined', 0):,} {'quarantined' if en else '条隔离'}{note}")
        if q:
            qt = Table(title="quarantined by reason" if en else "隔离原因")
            qt.add_column("reason" if en else "原因")
            qt.add_column("rows" if en else "条数", justify="right")
            for k, v in sorted(q.items(), key=lambda kv: -kv[1]):
                qt.add_row(str(k), f"{v:,}")
            console.print(qt)
        loaded = ", ".join(result.layers_loaded) if result.layers_loaded else ("unchanged" if en else "未变")
        console.print(f"{'areas' if en else '区划图层'}: {loaded} → {settings.paths.areas}")
        console.print(f"{'lake' if en else '数据湖'}: {settings.paths.lake}")
    console.print(f"{'planted truth' if en else '预设事实'}: {files.truth_path}")


def _lake_counts(dep: Any) -> dict[tuple[int, str], int] | None:
    from anju.errors import AnjuError
    from anju.services.lake import open_lake, year_family_counts

    try:
        with open_lake(dep) as lake:
            return year_family_counts(lake)
    except AnjuError:  # the summary must not fail the demo; fall back to the generator's own counts
        return None
