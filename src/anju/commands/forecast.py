"""CLI verbs of the forecast part: ``anju forecast``, ``anju backtest``, ``anju patrol plan``, ``anju alerts`` and
``anju sangao`` (三高, also ``anju three-highs``).

A thin shell over :mod:`anju.services.forecast`: parse options, call one service function, print a table and write
the files into the ``--out`` directory (default ``<data_dir>/forecasts/<name>``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from anju.commands._common import console, deployment_from
from anju.commands.options import (
    CategoryOpt,
    CellSizeOpt,
    GridOffsetOpt,
    GridRotationOpt,
    HotAreaOpt,
    ModelOpt,
    ModelsOpt,
    OutDirOpt,
    PeriodOpt,
    StationOpt,
    StudyAreaOpt,
    TiesOpt,
    check_level,
    grid_frame,
    hot_area,
    study,
    valid_day,
)

if TYPE_CHECKING:
    import pandas as pd

ShiftOpt = Annotated[str | None, typer.Option("--shift", "-s", help="班次 / shift: 早班 中班 夜班 (day/evening/night) or 22-06")]
AutoModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", help="预测模型（默认：在本地历史上回测后自动选择）/ forecast model: naive | random | retrospective | "
                          "prospective | kde | sepp | blend | boost (default: chosen by a backtest on your history).")]
ShiftWeightOpt = Annotated[float | None, typer.Option(
    "--shift-weight", help="班次外事件的权重 / weight of training events outside the shift (default 0.25; SEPP: 0)")]


def _write_cells(path: Path, frame: pd.DataFrame, geoms: Any, props: list[str]) -> None:
    from anju.geo.geojson import write_geojson

    write_geojson(path, frame[props], geoms)


def _out_dir(out: Path | None, dep: Any, name: str) -> Path:
    from anju.commands.options import out_dir

    return out_dir(out, dep.data_dir / "forecasts" / name)


def _print_choice(choice: Any, lang: str) -> None:
    """The auto-selection: every candidate's mean PAI beside the baselines, and why the winner won."""
    tab = Table(title=f"模型选择（回测，{choice.origins} 个窗口，{choice.target}）/ model choice by backtest")
    for c in ("model", "PAI", "sd", ""):
        tab.add_column(c, justify="right")
    for r in choice.table.itertuples():
        mark = "✓" if r.model == choice.name else ("基线 / baseline" if r.baseline else "")
        tab.add_row(r.model, f"{r.pai:.2f}", f"{r.pai_sd:.2f}", mark)
    console.print(tab)
    console.print(choice.explain("en" if lang == "en" else "zh"))


# ---- verbs ------------------------------------------------------------------------------------------------------------
def forecast(
    ctx: typer.Context,
    model: AutoModelOpt = None,
    category: CategoryOpt = None,
    shift: ShiftOpt = None,
    shift_weight: ShiftWeightOpt = None,
    date: Annotated[str | None, typer.Option("--date", callback=valid_day, help="预测起点 / window start (default: day after the last "
                                                            "incident)")] = None,
    horizon: Annotated[str, typer.Option("--horizon", help="预测时长 / window length, e.g. 1D, 7D")] = "1D",
    station: StationOpt = None,
    cell_size: CellSizeOpt = 150.0,
    history_days: Annotated[int | None, typer.Option(
        "--history-days", help="训练历史天数（默认 365；自动选择、blend 与 boost 为 1095）/ days of history (default 365; "
                               "1095 for the automatic choice, blend and boost)")] = None,
    top: Annotated[int, typer.Option("--top", help="显示前N个网格 / cells to list")] = 15,
    hot: HotAreaOpt = None,
    study_area: StudyAreaOpt = None,
    grid_offset: GridOffsetOpt = "0,0",
    grid_rotation: GridRotationOpt = 0.0,
    ties: TiesOpt = "cell_id",
    long_memory: Annotated[bool, typer.Option(
        "--long-memory", help="自动选择时加入 5 年、7 年的朴素计数与长记忆混合模型（载入 7 年历史）/ add five- and "
                              "seven-year candidates to the automatic choice (loads seven years of history)")] = False,
    out: OutDirOpt = None,
) -> None:
    """预测风险网格 / forecast a risk surface; writes risk.csv, risk.geojson and risk.png into --out.

    不指定 --model 时先在历史数据上滚动回测，按热点面积上的平均 PAI 选择模型（不会选输给朴素基线的模型）/ without
    --model, a rolling-origin backtest on your history picks the model with the best mean PAI at the hot area.
    """
    from anju.forecast import parse_shift
    from anju.forecast.plots import plot_surface
    from anju.services import forecast as svc
    from anju.services.lake import open_lake

    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        layer, area = study(study_area)
        res = svc.forecast(dep, lake, model=model, category=category, shift=shift, shift_weight=shift_weight,
                           date=date, horizon=horizon, station=station, cell_size=cell_size,
                           history_days=history_days, frame=grid_frame(cell_size, grid_offset, grid_rotation),
                           study_layer=layer, study_id=area, hot_area_m2=hot_area(hot, cell_size), ties=ties,
                           long_memory=long_memory)
    frame, window = res.frame, res.window
    model = res.name
    _say_date_only(int(getattr(res.model, "date_only_excluded_", 0)), "班次预测 / the shift forecast")
    if res.choice is not None:
        _print_choice(res.choice, dep.lang)
    d = _out_dir(out, dep, f"{model}-{window.start:%Y%m%d}")
    frame.to_csv(d / "risk.csv", index=False, encoding="utf-8")
    pos = (frame["risk"] > 0).to_numpy()
    _write_cells(d / "risk.geojson", frame[pos], res.geoms[pos], ["cell_id", "risk", "rank", "share"])
    sh = parse_shift(shift)
    title = f"{model} 预测 {window.start:%Y-%m-%d} +{horizon}" + (f" {sh.label}" if sh else "") + \
        (f" {category}" if category else "")
    plot_surface(res.surface, res.grid, d / "risk.png", title=title)
    tab = Table(title=f"风险最高的网格 / top cells — {title}")
    for c in ("rank", "cell_id", "lon", "lat", "risk", "share"):
        tab.add_column(c, justify="right")
    for r in frame.head(top).itertuples():
        tab.add_row(str(r.rank), str(r.cell_id), f"{r.lon:.5f}", f"{r.lat:.5f}", f"{r.risk:.3f}", f"{r.share:.2%}")
    console.print(tab)
    console.print(f"训练事件 / training events: {res.model.n_events_};网格 / cells: {res.grid.n_active} × "
                  f"{cell_size:.0f} m")
    console.print(f"已写出 / wrote: {d / 'risk.csv'}, {d / 'risk.geojson'}, {d / 'risk.png'}")


def backtest_cmd(
    ctx: typer.Context,
    models: ModelsOpt = "naive,random,retrospective,prospective,kde,sepp",
    category: CategoryOpt = None,
    shift: ShiftOpt = None,
    shift_weight: ShiftWeightOpt = None,
    start: Annotated[str | None, typer.Option("--start", callback=valid_day, help="首个预测起点 / first origin (default: 26 weeks "
                                                              "before the end)")] = None,
    end: Annotated[str | None, typer.Option("--end", callback=valid_day, help="最后起点之后 / origins before this (default: last "
                                                          "incident)")] = None,
    step: Annotated[str, typer.Option("--step", help="起点间隔 / origin step")] = "7D",
    horizon: Annotated[str, typer.Option("--horizon", help="预测时长 / window length")] = "7D",
    station: StationOpt = None,
    cell_size: CellSizeOpt = 150.0,
    history_days: Annotated[int, typer.Option("--history-days", help="每次训练的历史天数 / training days")] = 400,
    hot: HotAreaOpt = None,
    study_area: StudyAreaOpt = None,
    grid_offset: GridOffsetOpt = "0,0",
    grid_rotation: GridRotationOpt = 0.0,
    ties: TiesOpt = "expected",
    out: OutDirOpt = None,
) -> None:
    """滚动回测 / rolling-origin backtest: hit rate, PAI, PEI against naive and random baselines.

    --out 目录中写出 results.csv、summary.csv、curves.png、report.html / writes those files into --out.
    """
    from anju.forecast import parse_shift
    from anju.forecast.plots import backtest_html, plot_backtest
    from anju.services import forecast as svc
    from anju.services.lake import open_lake

    names = [n.strip() for n in models.split(",") if n.strip()]
    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        layer, area = study(study_area)
        h = hot_area(hot, cell_size)
        res = svc.backtest(dep, lake, models=names, category=category, shift=shift, shift_weight=shift_weight,
                           start=start, end=end, step=step, horizon=horizon, station=station, cell_size=cell_size,
                           history_days=history_days, frame=grid_frame(cell_size, grid_offset, grid_rotation),
                           study_layer=layer, study_id=area, hot_areas_m2=(h,) if h else (), ties=ties)
    results, summary, origins, grid = res["results"], res["summary"], res["origins"], res["grid"]
    d = _out_dir(out, dep, f"backtest-{origins[0]:%Y%m%d}")
    results.to_csv(d / "results.csv", index=False, encoding="utf-8")
    summary.to_csv(d / "summary.csv", index=False, encoding="utf-8")
    title = f"滚动回测 {origins[0]:%Y-%m-%d}–{origins[-1]:%Y-%m-%d},{len(origins)} 个起点,{horizon} 窗口"
    fig = plot_backtest(summary, results, d / "curves.png", title=title)
    sh = parse_shift(shift)
    meta = {"category": category or "全部", "shift": sh.label if sh is not None else "全天",
            "station": station or "全部", "cell_size_m": cell_size, "cells": grid.n_active,
            "origins": len(origins), "horizon": horizon, "training_days": history_days}
    (d / "report.html").write_text(backtest_html(summary, fig, title=title, meta=meta), encoding="utf-8")
    tab = Table(title=title)
    for c in ("model", "coverage", "hit_rate", "PAI", "PEI", "vs naive", "wins", "tied"):
        tab.add_column(c, justify="right")
    for r in summary.itertuples():
        if r.coverage == r.coverage and round(r.coverage, 2) not in (0.01, 0.05, 0.2):
            continue
        cover = f"{r.coverage:.0%}" if r.coverage == r.coverage else f"{r.hot_area_m2 / 1e6:.3g} km²"
        tab.add_row(r.model, cover, f"{r.hit_rate:.3f}", f"{r.pai:.2f}", f"{r.pei:.3f}",
                    f"{getattr(r, 'pai_vs_baseline', float('nan')):.2f}", f"{getattr(r, 'wins', float('nan')):.2f}",
                    f"{r.tied:.1f}")
    console.print(tab)
    console.print(f"已写出 / wrote: {d / 'results.csv'}, {d / 'summary.csv'}, {d / 'curves.png'}, {d / 'report.html'}")


patrol_app = typer.Typer(help="巡逻方案 / patrol plans.", no_args_is_help=True)


@patrol_app.command("plan")
def patrol_plan(
    ctx: typer.Context,
    station: Annotated[str, typer.Option("--station", help="派出所编号 / police station id (station_id).")],
    shift: Annotated[str, typer.Option("--shift", "-s", help="班次 / shift: 早班 中班 夜班 (day/evening/night) or "
                                                             "22-06")],
    units: Annotated[int, typer.Option("--units", "-k", help="巡逻组数 / patrol units")],
    date: Annotated[str | None, typer.Option("--date", callback=valid_day, help="日期 / day of the shift (default: day after last "
                                                            "incident)")] = None,
    model: ModelOpt = "prospective",
    category: CategoryOpt = None,
    shift_weight: ShiftWeightOpt = None,
    cell_size: CellSizeOpt = 150.0,
    max_cells: Annotated[int, typer.Option("--max-cells", help="每组最多网格数 / cells per patrol area")] = 20,
    speed_kmh: Annotated[float, typer.Option("--speed", help="巡逻速度（公里/小时）/ patrol speed in km/h")] = 15.0,
    history_days: Annotated[int, typer.Option("--history-days", help="训练历史天数 / days of history")] = 365,
    out: OutDirOpt = None,
) -> None:
    """按班次生成巡逻方案 / patrol areas and a Koper-curve stop schedule for one station and shift.

    --out 目录中写出 areas.csv、schedule.csv、areas.geojson、plan.png / writes those files into --out.
    """
    from anju.forecast.plots import plot_patrol
    from anju.services import forecast as svc
    from anju.services.lake import open_lake

    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        res = svc.patrol_plan(dep, lake, station=station, shift=shift, units=units, date=date, model=model,
                              category=category, shift_weight=shift_weight, cell_size=cell_size,
                              max_cells=max_cells, speed_kmh=speed_kmh, history_days=history_days)
    plan, day, sh, areas = res.plan, res.day, res.shift, res.areas
    d = _out_dir(out, dep, f"patrol-{station}-{day:%Y%m%d}-{sh.name}")
    areas.to_csv(d / "areas.csv", index=False, encoding="utf-8")
    res.schedule.to_csv(d / "schedule.csv", index=False, encoding="utf-8")
    _write_cells(d / "areas.geojson", res.cells, res.cell_geoms, ["unit", "cell_id", "risk", "hot_box"])
    plot_patrol(plan, d / "plan.png", title=f"{station} {day:%Y-%m-%d} {sh.label} 巡逻方案({units} 组)")
    tab = Table(title=f"巡逻方案 / patrol plan — {station} {day:%Y-%m-%d} {sh.label}")
    for c in ("组 unit", "网格 cells", "km²", "预计警情 expected", "占比 share", "驻点 boxes", "停留 stops",
              "最长间隔 max gap (min)"):
        tab.add_column(c, justify="right")
    for r in areas.itertuples():
        tab.add_row(str(r.unit), str(r.cells), f"{r.area_km2:.2f}", f"{r.expected:.2f}", f"{r.share:.1%}",
                    str(r.hot_boxes), str(r.stops), f"{r.max_revisit_gap_min:.0f}")
    console.print(tab)
    console.print(f"巡逻区覆盖预计警情 / expected incidents covered: {plan.covered_share:.1%}"
                  f"(驻点网格 / hot boxes: {plan.hot_box_share:.1%});停留 10–16 分钟,每个驻点 2 小时内复巡。")
    console.print(f"已写出 / wrote: {d}")


def alerts(
    ctx: typer.Context,
    on: Annotated[str | None, typer.Option("--on", callback=valid_day, help="日期 / day (default: last day with incidents)")] = None,
    by: Annotated[str, typer.Option("--by", help="逗号分隔的区域层级 / comma-separated area levels, e.g. "
                                                 "community,station")] = "community,station",
    weeks: Annotated[int, typer.Option("--weeks", help="基线周数 / baseline weeks")] = 8,
    min_level: Annotated[int, typer.Option("--min-level", help="最低显示等级 / lowest level shown")] = 1,
    out: OutDirOpt = None,
) -> None:
    """警情预警等级 / alert levels 0–3 per community and station against a Poisson control limit.

    --out 目录中写出 alerts.csv / writes alerts.csv into the --out directory.
    """
    from anju.services import forecast as svc
    from anju.services.lake import open_lake

    levels = [b.strip().removesuffix("_id") for b in by.split(",") if b.strip()]
    for lv in levels:
        check_level(lv, option="--by")
    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        res = svc.alerts(dep, lake, on=on, by=levels, weeks=weeks)
    day = res.attrs["day"]
    shown = res[res["level"] >= min_level]
    if out is not None:
        d = _out_dir(out, dep, "alerts")
        res.to_csv(d / "alerts.csv", index=False, encoding="utf-8")
    tab = Table(title=f"警情预警 / alerts {day:%Y-%m-%d}(等级 ≥ {min_level})")
    for c in ("单元", "名称 / 编号", "类别", "窗口", "等级", "原因 reason"):
        tab.add_column(c)
    for r in shown.itertuples():
        tab.add_row(r.unit_level, f"{r.unit_name or r.unit_id}", r.family, f"{r.window_days}日",
                    f"{r.level} {r.level_name}", r.reason)
    console.print(tab if len(shown) else f"{day:%Y-%m-%d} 无等级 ≥ {min_level} 的预警 / no alerts")


def sangao(
    ctx: typer.Context,
    period: PeriodOpt = "latest",
    station: StationOpt = None,
    area: Annotated[str, typer.Option("--areas", help="区域层级 / area level: community, grid, street, "
                                                      "police_district…")] = "community",
    hour_band: Annotated[int, typer.Option("--hour-band", help="时段宽度（小时）/ width of the hour bands")] = 2,
    top: Annotated[int, typer.Option("--top", help="列出前 N 个组合 / combinations to list")] = 10,
) -> None:
    """三高（sangao / three-highs）：高发案地区、时段、类型 / top areas × hours × categories of a period."""
    from anju.services import forecast as svc
    from anju.services.lake import open_lake

    check_level(area.removesuffix("_id"))
    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        th, names, p = svc.sangao(dep, lake, period, station=station, area=area.removesuffix("_id"),
                                  hour_band=hour_band, top=top)
    if th.total == 0:
        from anju.errors import DataNotFoundError

        raise DataNotFoundError(f"{p}: no incidents for this selection; check --period and --station",
                                zh=f"{p} 没有符合条件的警情；请检查 --period 与 --station")
    tab = Table(title=f"三高 {p}{' ' + station if station else ''}(共 {th.total} 起)")
    for c in ("名次", "地区 area", "时段 hours", "类型 category", "起数 n", "占比 share"):
        tab.add_column(c)
    for r in th.combos.itertuples():
        tab.add_row(str(r.rank), names.get(str(r.area_id), str(r.area_id)), r.band, r.label, str(r.n),
                    f"{r.share:.1%}")
    console.print(tab)
    areas = th.areas.assign(area_name=[names.get(str(a), str(a)) for a in th.areas["area_id"]])
    excluded = int(th.meta.get("date_only_excluded", 0))
    rankings = [("高发地区", areas, "area_name"), ("高发时段", th.hours, "band"), ("高发类型", th.categories, "label")]
    if excluded and excluded >= th.total:
        rankings.pop(1)  # every call carries a date only: no hour ranking at all rather than an empty one
    for name, df, key in rankings:
        console.print(f"{name}: " + ";".join(f"{getattr(r, key)} {r.n}起({r.share:.0%})"
                                             for r in df.head(5).itertuples()))
    _say_date_only(int(th.meta.get("date_only_excluded", 0)), "时段与组合 / hour bands and combinations")


def _say_date_only(n: int, what: str) -> None:
    """Say how many date-only rows a time-of-day analysis left out (see anju.analytics.timeofday)."""
    if n:
        console.print(f"注意 / note: {n:,} 条警情只有日期、没有时刻，未计入{what.split(' / ')[0]} / {n:,} incidents "
                      f"carry a date but no time and are left out of {what.split(' / ')[1]}.")


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.command("forecast")(forecast)
    app.command("backtest")(backtest_cmd)
    app.command("alerts")(alerts)
    app.command("sangao")(sangao)
    app.command("three-highs", help="三高 / three highs (English name of `anju sangao`).")(sangao)
    app.add_typer(patrol_app, name="patrol")
