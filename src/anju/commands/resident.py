"""CLI verbs for resident services: ``anju resident seed-demo | train-router | plan-sites | sweep``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anju.commands._common import console, settings_from
from anju.config import Settings

resident_app = typer.Typer(name="resident", help="居民服务：门牌、诉求工单、安全屋 / resident services.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``anju resident …`` to the root app."""
    app.add_typer(resident_app)


def _l(settings: Settings, zh: str, en: str) -> str:
    return en if settings.lang == "en" else f"{zh} / {en}"


def _desk(settings: Settings):  # type: ignore[no-untyped-def]
    from anju.config import deployment_secret
    from anju.ops.resident import ResidentDesk

    return ResidentDesk.load(settings.data_dir, deployment_secret(settings))


@resident_app.command("train-router")
def train_router_cmd(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="带 text,matter 两列的标注文件 / labelled CSV/XLSX "
                                                            "(text, matter); default: the built-in corpus.")] = None,
) -> None:
    """训练诉求分派模型 / train the report router (saved as models/text-matter-v<N>)."""
    from anju.resident.corpus import synthetic_reports
    from anju.resident.routing import save_router, train_router
    from anju.text.corpora import read_table

    settings = settings_from(ctx)
    if data is None:
        texts, labels = synthetic_reports(120, seed=0)
        source = "anju.resident.corpus (seed 0, 120 per matter)"
    else:
        df = read_table(data)
        if not {"text", "matter"} <= set(df.columns):
            raise typer.BadParameter(f"{data} needs columns text and matter; got {list(df.columns)}")
        texts, labels = df["text"].fillna("").tolist(), df["matter"].tolist()
        source = str(data)
    clf = train_router(texts, labels)
    info = save_router(settings.paths.root / "models", clf, data_source=source, n_train=len(texts))
    console.print(_l(settings, f"已保存分派模型 {info.file}（{len(texts)} 条）", f"saved router {info.file} "
                               f"({len(texts)} texts)"), highlight=False)


@resident_app.command("seed-demo")
def seed_demo_cmd(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option("--year", help="报告年份 / year of the reports (default: the "
                                                           "demo's last year).")] = None,
    reports: Annotated[int, typer.Option("--reports", help="诉求数 / number of reports.")] = 1200,
) -> None:
    """写入演示辖区的门牌、诉求工单和安全屋 / seed plates, reports and safe houses (after `anju ops seed-demo`)."""
    from anju.commands.ops import _session
    from anju.demo.resident import seed_resident_demo
    from anju.demo.truth import default_end_year
    from anju.ops.demo import demo_seed_of
    from anju.resident.routing import MODEL_TASK
    from anju.text.models import list_models

    settings = settings_from(ctx)
    if not list_models(settings.paths.root / "models", MODEL_TASK):
        train_router_cmd(ctx, None)
    desk = _desk(settings)
    y = year or default_end_year()
    with _session(settings) as s:
        res = seed_resident_demo(s, settings, desk, seed=demo_seed_of(settings), year=y,  # type: ignore[arg-type]
                                 n_reports=reports)
        s.commit()  # type: ignore[attr-defined]
    if res.created:
        console.print(_l(settings, f"已写入 {res.plates} 块门牌、{res.reports} 件诉求、{res.safe_houses} 处安全屋、"
                                   f"{res.candidates} 个候选点（老街：{res.market_community}）",
                         f"seeded {res.plates} plates, {res.reports} reports, {res.safe_houses} safe houses, "
                         f"{res.candidates} candidate sites (market street: {res.market_community})"),
                      highlight=False)
    else:
        console.print(_l(settings, "居民服务演示数据已存在，未改动。", "resident demo records exist; nothing changed."))


@resident_app.command("plan-sites")
def plan_sites_cmd(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option("--year", help="夜间警情年份 / year of night calls.")] = None,
    k: Annotated[int, typer.Option("--k", help="新增安全屋数 / new safe houses.")] = 3,
    radius: Annotated[float, typer.Option("--radius", help="步行半径（米）/ walking radius (m).")] = 300.0,
) -> None:
    """安全屋选址（最大覆盖）/ choose new safe-house sites covering the most night calls (MCLP)."""
    from anju.commands.ops import _session
    from anju.demo.resident import plan_demo_sites
    from anju.demo.truth import default_end_year

    settings = settings_from(ctx)
    with _session(settings) as s:
        plan = plan_demo_sites(s, settings, year=year or default_end_year(), k=k,  # type: ignore[arg-type]
                               radius_m=radius)
    console.print(_l(settings, f"夜间警情 {plan.total:.0f} 起，现有安全屋覆盖 {plan.covered_by_existing:.0f} 起",
                     f"{plan.total:.0f} night calls, {plan.covered_by_existing:.0f} covered by existing houses"))
    for row in plan.curve.itertuples():
        console.print(f"  +{row.p}: {', '.join(row.sites)}  covered {row.covered:.0f} ({row.share:.1%}), "
                      f"gain {row.gain:.0f}", highlight=False)


@resident_app.command("sweep")
def sweep_cmd(ctx: typer.Context) -> None:
    """超期催办与上报 / urge and escalate overdue work orders (run daily)."""
    from anju.commands.ops import _session
    from anju.ops.resident import sweep_overdue

    settings = settings_from(ctx)
    with _session(settings) as s:
        res = sweep_overdue(s, _desk(settings))  # type: ignore[arg-type]
        s.commit()  # type: ignore[attr-defined]
    console.print(_l(settings, f"催办 {res['urged']} 件，上报 {res['escalated']} 件",
                     f"urged {res['urged']}, escalated {res['escalated']}"))
