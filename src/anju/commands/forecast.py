"""CLI verbs of the forecast part: ``anju forecast``, ``anju backtest``, ``anju patrol plan``, ``anju alerts`` and
``anju sangao`` (三高).

The only place the forecast part reads the lake: incidents come from ``anju.lake.connect(settings).incidents()``,
are filtered in the engine, and are handed to the pure functions of :mod:`anju.forecast` as a DataFrame.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from anju.commands._common import console, err_console, metric_crs, settings_from
from anju.errors import ConfigError, DataNotFoundError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_COLUMNS = ("x", "y", "lon", "lat", "reported_at", "family", "category", "station_id", "community_id")

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="naive | random | retrospective | prospective | kde | sepp")]
FamilyOpt = Annotated[str | None, typer.Option("--family", "-f", help="警情大类 / taxonomy family, e.g. theft")]
ShiftOpt = Annotated[str | None, typer.Option("--shift", "-s", help="班次 / shift: 早班 中班 夜班 (day/evening/night) or 22-06")]
StationOpt = Annotated[str | None, typer.Option("--station", help="派出所 / station_id")]
CellOpt = Annotated[float, typer.Option("--cell-size", help="网格边长(米)/ cell size in metres")]
ShiftWeightOpt = Annotated[float | None, typer.Option(
    "--shift-weight", help="班次外事件的权重 / weight of training events outside the shift (default 0.25; SEPP: 0)")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="输出目录 / output directory")]


# ---- lake access (the CLI's job) -----------------------------------------------------------------------------------
def _incidents(settings: Any, *, station: str | None = None, family: str | None = None, start: Any = None,
               end: Any = None) -> pd.DataFrame:
    """Incidents from the lake as a DataFrame with the columns the forecasts need."""
    import pandas as pd

    from anju.lake import connect  # type: ignore[attr-defined]  # written concurrently by the lake part

    t = connect(settings).incidents()
    if station:
        t = t.filter(t.station_id == station)
    if family:
        t = t.filter(t.family == family)
    if start is not None:
        t = t.filter(t.reported_at >= pd.Timestamp(start).to_pydatetime())
    if end is not None:
        t = t.filter(t.reported_at < pd.Timestamp(end).to_pydatetime())
    df = t.select(*[c for c in _COLUMNS if c in t.columns]).to_pandas()
    if df.empty:
        what = ", ".join(f"{k}={v}" for k, v in (("station", station), ("family", family), ("start", start),
                                                  ("end", end)) if v is not None)
        raise DataNotFoundError(f"the lake holds no incidents for {what or 'any selection'}; run `anju ingest` first "
                                "or widen the selection.")
    df["reported_at"] = pd.to_datetime(df["reported_at"])
    return df


def _day_after_last(settings: Any, *, station: str | None = None, family: str | None = None) -> pd.Timestamp:
    """The day after the last incident of the selection (the default forecast day), asked of the engine."""
    import pandas as pd

    from anju.lake import connect  # type: ignore[attr-defined]  # written concurrently by the lake part

    t = connect(settings).incidents()
    if station:
        t = t.filter(t.station_id == station)
    if family:
        t = t.filter(t.family == family)
    last = t.reported_at.max().to_pandas()
    if last is None or pd.isna(last):
        raise DataNotFoundError("the lake holds no incidents for this selection; run `anju ingest` first.")
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)


def _area_names(lake: Any, column: str) -> dict[str, str]:
    """Display names of an area column's ids (``community_id`` → the community layer); empty when not loaded."""
    try:
        t = lake.areas(column.removesuffix("_id")).select("area_id", "name").to_pandas()
    except Exception:  # names are cosmetic: a lake without area layers still gets its tables
        return {}
    return {str(a): str(n) for a, n in zip(t["area_id"], t["name"], strict=True) if n is not None}


def _with_xy(settings: Any, df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Fill x/y from lon/lat when the lake has no metric coordinates (no areas loaded)."""
    import numpy as np
    crs = metric_crs(settings, df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    if "x" not in df or df["x"].isna().all():
        from anju.geo.projection import to_metric

        x, y = to_metric(df["lon"].to_numpy(float), df["lat"].to_numpy(float), crs)
        df = df.assign(x=x, y=y)
    df = df[np.isfinite(df["x"].to_numpy(float)) & np.isfinite(df["y"].to_numpy(float))]
    if df.empty:
        raise DataNotFoundError("no incident in the selection has coordinates; forecasts need x/y or lon/lat.")
    return df.rename(columns={"reported_at": "t"}), crs


def _grid(df: pd.DataFrame, cell_size: float) -> Any:
    from anju.geo.regular_grid import RegularGrid

    return RegularGrid.from_points(df["x"].to_numpy(float), df["y"].to_numpy(float), cell_size, mask="occupied", dilate=1)


def _model(name: str, *, family: str | None, shift: str | None, cell_size: float, shift_weight: float | None = None,
           seed: int = 0) -> Any:
    """A model for the CLI. Out-of-shift events weigh 0.25 by default: on the public backtests (docs/forecasting.md)
    that beat both extremes for sparse targets and cost little for dense ones; SEPP accepts only 0 or 1."""
    from anju.forecast import make_model

    extra: dict[str, Any] = {}
    if shift is not None:
        extra["shift_weight"] = shift_weight if shift_weight is not None else (0.0 if name == "sepp" else 0.25)
    if name == "sepp":
        extra["cell_size_m"] = cell_size
    if name == "random":
        extra["random_state"] = seed
    return make_model(name, family=family, shift=shift, **extra)


def _lonlat(crs: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def _write_cells_geojson(path: Path, grid: Any, frame: pd.DataFrame, crs: str, props: list[str]) -> None:
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    feats = []
    rings = grid.rings(frame["cell_id"].to_numpy())
    for ring, rec in zip(rings, frame[props].to_dict("records"), strict=True):
        xs, ys = zip(*ring, strict=True)
        lon, lat = tr.transform(list(xs), list(ys))
        coords = [[round(a, 7), round(b, 7)] for a, b in zip(lon, lat, strict=True)]
        clean = {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}
        feats.append({"type": "Feature", "properties": clean, "geometry": {"type": "Polygon",
                                                                             "coordinates": [coords]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
                    encoding="utf-8")


def _out_dir(out: Path | None, settings: Any, name: str) -> Path:
    d = out if out is not None else Path(settings.data_dir) / "forecasts" / name
    d.mkdir(parents=True, exist_ok=True)
    return d


# ---- verbs ------------------------------------------------------------------------------------------------------------
def forecast(
    ctx: typer.Context,
    model: ModelOpt = "prospective",
    family: FamilyOpt = None,
    shift: ShiftOpt = None,
    shift_weight: ShiftWeightOpt = None,
    date: Annotated[str | None, typer.Option("--date", help="预测起点 / window start (default: day after the last incident)")] = None,
    horizon: Annotated[str, typer.Option("--horizon", help="预测时长 / window length, e.g. 1D, 7D")] = "1D",
    station: StationOpt = None,
    cell_size: CellOpt = 150.0,
    history_days: Annotated[int, typer.Option("--history-days", help="训练历史天数 / days of history")] = 365,
    top: Annotated[int, typer.Option("--top", help="显示前N个网格 / cells to list")] = 15,
    out: OutOpt = None,
) -> None:
    """预测风险网格 / forecast a risk surface and write CSV, GeoJSON and a PNG map."""
    import pandas as pd

    from anju.forecast import Window, parse_shift
    from anju.forecast.plots import plot_surface

    settings = settings_from(ctx)
    parse_shift(shift)
    window_start = pd.Timestamp(date) if date else _day_after_last(settings, station=station, family=family)
    start = window_start - pd.Timedelta(days=history_days)
    df, crs = _with_xy(settings, _incidents(settings, station=station, family=family, start=start, end=window_start))
    window = Window.from_origin(window_start, horizon)
    grid = _grid(df, cell_size)
    m = _model(model, family=family, shift=shift, cell_size=cell_size, shift_weight=shift_weight).fit(df)
    surface = m.predict(grid, window)
    frame = grid.to_frame(surface)
    frame["lon"], frame["lat"] = _lonlat(crs, frame["x"].to_numpy(), frame["y"].to_numpy())
    d = _out_dir(out, settings, f"{model}-{window_start:%Y%m%d}")
    frame.to_csv(d / "risk.csv", index=False, encoding="utf-8")
    _write_cells_geojson(d / "risk.geojson", grid, frame[frame["risk"] > 0], crs,
                         ["cell_id", "risk", "rank", "share"])
    sh = parse_shift(shift)
    title = f"{model} 预测 {window.start:%Y-%m-%d} +{horizon}" + (f" {sh.label}" if sh else "") + \
        (f" {family}" if family else "")
    plot_surface(surface, grid, d / "risk.png", title=title)
    tab = Table(title=f"风险最高的网格 / top cells — {title}")
    for c in ("rank", "cell_id", "lon", "lat", "risk", "share"):
        tab.add_column(c, justify="right")
    for r in frame.head(top).itertuples():
        tab.add_row(str(r.rank), str(r.cell_id), f"{r.lon:.5f}", f"{r.lat:.5f}", f"{r.risk:.3f}", f"{r.share:.2%}")
    console.print(tab)
    console.print(f"训练事件 / training events: {m.n_events_};网格 / cells: {grid.n_active} × {cell_size:.0f} m")
    console.print(f"已写出 / wrote: {d / 'risk.csv'}, {d / 'risk.geojson'}, {d / 'risk.png'}")


def backtest_cmd(
    ctx: typer.Context,
    models: Annotated[str, typer.Option("--models", help="逗号分隔 / comma-separated model names")] =
        "naive,random,retrospective,prospective,kde,sepp",
    family: FamilyOpt = None,
    shift: ShiftOpt = None,
    shift_weight: ShiftWeightOpt = None,
    start: Annotated[str | None, typer.Option("--start", help="首个预测起点 / first origin (default: 26 weeks before the end)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="最后起点之后 / origins before this (default: last incident)")] = None,
    step: Annotated[str, typer.Option("--step", help="起点间隔 / origin step")] = "7D",
    horizon: Annotated[str, typer.Option("--horizon", help="预测时长 / window length")] = "7D",
    station: StationOpt = None,
    cell_size: CellOpt = 150.0,
    history_days: Annotated[int, typer.Option("--history-days", help="每次训练的历史天数 / training days")] = 400,
    out: OutOpt = None,
) -> None:
    """滚动回测 / rolling-origin backtest: hit rate, PAI, PEI against naive and random baselines."""
    import pandas as pd

    from anju.forecast import backtest, observed_origins, parse_shift, summarize
    from anju.forecast.plots import backtest_html, plot_backtest

    settings = settings_from(ctx)
    parse_shift(shift)
    names = [n.strip() for n in models.split(",") if n.strip()]
    specs = {n: _model(n, family=family, shift=shift, cell_size=cell_size, shift_weight=shift_weight) for n in names}
    last = pd.Timestamp(end) if end else _day_after_last(settings, station=station, family=family)
    first = pd.Timestamp(start) if start else last - pd.Timedelta(weeks=26)
    df, _ = _with_xy(settings, _incidents(settings, station=station, family=family,
                                          start=first - pd.Timedelta(days=history_days), end=last))
    origins = observed_origins(df, first, last - pd.Timedelta(horizon) + pd.Timedelta("1ns"), step=step,
                               horizon=horizon)
    if not origins:
        raise ConfigError(f"no backtest origin between {first} and {last} has data; choose --start/--end inside the "
                          "lake's period.", key="start")
    grid = _grid(df[df["t"] < origins[0]] if (df["t"] < origins[0]).any() else df, cell_size)
    results = backtest(specs, df, grid, origins, horizon, training_days=history_days)
    baseline = "naive" if "naive" in names else None
    summary = summarize(results, baseline=baseline)
    d = _out_dir(out, settings, f"backtest-{origins[0]:%Y%m%d}")
    results.to_csv(d / "results.csv", index=False, encoding="utf-8")
    summary.to_csv(d / "summary.csv", index=False, encoding="utf-8")
    title = f"滚动回测 {origins[0]:%Y-%m-%d}–{origins[-1]:%Y-%m-%d},{len(origins)} 个起点,{horizon} 窗口"
    fig = plot_backtest(summary, results, d / "curves.png", title=title)
    sh = parse_shift(shift)
    meta = {"family": family or "全部", "shift": sh.label if sh is not None else "全天",
            "station": station or "全部", "cell_size_m": cell_size, "cells": grid.n_active,
            "origins": len(origins), "horizon": horizon, "training_days": history_days}
    (d / "report.html").write_text(backtest_html(summary, fig, title=title, meta=meta), encoding="utf-8")
    tab = Table(title=title)
    for c in ("model", "coverage", "hit_rate", "PAI", "PEI", "vs naive", "wins"):
        tab.add_column(c, justify="right")
    for r in summary.itertuples():
        if round(r.coverage, 2) not in (0.01, 0.05, 0.2):
            continue
        tab.add_row(r.model, f"{r.coverage:.0%}", f"{r.hit_rate:.3f}", f"{r.pai:.2f}", f"{r.pei:.3f}",
                    f"{getattr(r, 'pai_vs_baseline', float('nan')):.2f}", f"{getattr(r, 'wins', float('nan')):.2f}")
    console.print(tab)
    console.print(f"已写出 / wrote: {d / 'results.csv'}, {d / 'summary.csv'}, {d / 'curves.png'}, {d / 'report.html'}")


patrol_app = typer.Typer(help="巡逻方案 / patrol plans.", no_args_is_help=True)


@patrol_app.command("plan")
def patrol_plan(
    ctx: typer.Context,
    station: Annotated[str, typer.Option("--station", help="派出所 / station_id")],
    shift: Annotated[str, typer.Option("--shift", "-s", help="班次 / 早班 中班 夜班")],
    units: Annotated[int, typer.Option("--units", "-k", help="巡逻组数 / patrol units")],
    date: Annotated[str | None, typer.Option("--date", help="日期 / day of the shift (default: day after last incident)")] = None,
    model: ModelOpt = "prospective",
    family: FamilyOpt = None,
    shift_weight: ShiftWeightOpt = None,
    cell_size: CellOpt = 150.0,
    max_cells: Annotated[int, typer.Option("--max-cells", help="每组最多网格数 / cells per patrol area")] = 20,
    speed_kmh: Annotated[float, typer.Option("--speed", help="巡逻速度 km/h")] = 15.0,
    history_days: Annotated[int, typer.Option("--history-days")] = 365,
    out: OutOpt = None,
) -> None:
    """按班次生成巡逻方案 / patrol areas and a Koper-curve stop schedule for one station and shift."""
    import pandas as pd

    from anju.forecast import Window, parse_shift
    from anju.forecast.patrol import plan_patrol
    from anju.forecast.plots import plot_patrol

    settings = settings_from(ctx)
    sh = parse_shift(shift)
    assert sh is not None
    day = pd.Timestamp(date).normalize() if date else _day_after_last(settings, station=station, family=family)
    start = day - pd.Timedelta(days=history_days)
    cutoff = day + pd.Timedelta(hours=sh.start_hour)  # everything known at the shift's start
    df, crs = _with_xy(settings, _incidents(settings, station=station, family=family, start=start, end=cutoff))
    grid = _grid(df, cell_size)
    m = _model(model, family=family, shift=shift, cell_size=cell_size, shift_weight=shift_weight).fit(df)
    window = Window(day + pd.Timedelta(hours=sh.start_hour), day + pd.Timedelta(hours=sh.start_hour + sh.hours))
    surface = m.predict(grid, window)
    plan = plan_patrol(surface, grid, units, shift=sh, date=day, max_cells=max_cells, speed_kmh=speed_kmh)
    d = _out_dir(out, settings, f"patrol-{station}-{day:%Y%m%d}-{sh.name}")
    areas = plan.areas_frame()
    sched = plan.schedule.copy()
    sched["lon"], sched["lat"] = _lonlat(crs, sched["x"].to_numpy(), sched["y"].to_numpy())
    cells = plan.cells_frame()
    areas.to_csv(d / "areas.csv", index=False, encoding="utf-8")
    sched.to_csv(d / "schedule.csv", index=False, encoding="utf-8")
    _write_cells_geojson(d / "areas.geojson", grid, cells, crs, ["unit", "cell_id", "risk", "hot_box"])
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
    on: Annotated[str | None, typer.Option("--on", help="日期 / day (default: last day with incidents)")] = None,
    by: Annotated[str, typer.Option("--by", help="单元 / unit columns")] = "community_id,station_id",
    weeks: Annotated[int, typer.Option("--weeks", help="基线周数 / baseline weeks")] = 8,
    min_level: Annotated[int, typer.Option("--min-level", help="最低显示等级 / lowest level shown")] = 1,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="CSV 输出 / CSV file")] = None,
) -> None:
    """警情预警等级 / alert levels 0–3 per community and station against a Poisson control limit."""
    import pandas as pd

    from anju.forecast.alerts import alert_levels
    from anju.lake import connect  # type: ignore[attr-defined]  # written concurrently by the lake part

    settings = settings_from(ctx)
    lake = connect(settings)
    table = lake.incidents()
    day = pd.Timestamp(on) if on else pd.Timestamp(table.reported_at.max().to_pandas()).normalize()
    levels = [b.strip() for b in by.split(",") if b.strip()]
    res = alert_levels(table, on=day, by=levels, weeks=weeks, lang=settings.lang)
    names = {col: _area_names(lake, col) for col in levels}
    res.insert(2, "unit_name", [names[c].get(u, "") for c, u in zip(res["unit_level"], res["unit_id"], strict=True)])
    shown = res[res["level"] >= min_level]
    if out is not None:
        res.to_csv(out, index=False, encoding="utf-8")
    tab = Table(title=f"警情预警 / alerts {day:%Y-%m-%d}(等级 ≥ {min_level})")
    for c in ("单元", "名称 / 编号", "类别", "窗口", "等级", "原因 reason"):
        tab.add_column(c)
    for r in shown.itertuples():
        tab.add_row(r.unit_level, f"{r.unit_name or r.unit_id}", r.family, f"{r.window_days}日",
                    f"{r.level} {r.level_name}", r.reason)
    console.print(tab if len(shown) else f"{day:%Y-%m-%d} 无等级 ≥ {min_level} 的预警 / no alerts")


def sangao(
    ctx: typer.Context,
    period: Annotated[str, typer.Argument(help="时段 / period, e.g. 2025H1, 2025-07, 2025-01-01..2025-03-31")],
    station: StationOpt = None,
    area: Annotated[str, typer.Option("--area", help="地区层级 / area column")] = "community_id",
    hour_band: Annotated[int, typer.Option("--hour-band", help="时段宽度(小时)")] = 2,
    top: Annotated[int, typer.Option("--top")] = 10,
) -> None:
    """三高:高发案地区、时段、类型 / top areas × hours × categories for a station and period."""
    from anju.analytics.periods import Period
    from anju.forecast.threehighs import three_highs
    from anju.lake import connect  # type: ignore[attr-defined]  # written concurrently by the lake part

    settings = settings_from(ctx)
    p = Period.parse(period)
    lake = connect(settings)
    th = three_highs(lake.incidents(), start=p.start_datetime, end=p.end_datetime, station=station,
                     area_col=area, hour_band=hour_band, top=top, lang=settings.lang)
    names = _area_names(lake, area)
    if th.total == 0:
        err_console.print(f"{p} 无警情 / no incidents for this selection")
        raise typer.Exit(1)
    tab = Table(title=f"三高 {p}{' ' + station if station else ''}(共 {th.total} 起)")
    for c in ("名次", "地区 area", "时段 hours", "类型 category", "起数 n", "占比 share"):
        tab.add_column(c)
    for r in th.combos.itertuples():
        tab.add_row(str(r.rank), names.get(str(r.area_id), str(r.area_id)), r.band, r.label, str(r.n),
                    f"{r.share:.1%}")
    console.print(tab)
    areas = th.areas.assign(area_name=[names.get(str(a), str(a)) for a in th.areas["area_id"]])
    for name, df, key in (("高发地区", areas, "area_name"), ("高发时段", th.hours, "band"),
                          ("高发类型", th.categories, "label")):
        console.print(f"{name}: " + ";".join(f"{getattr(r, key)} {r.n}起({r.share:.0%})"
                                             for r in df.head(5).itertuples()))


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.command("forecast")(forecast)
    app.command("backtest")(backtest_cmd)
    app.command("alerts")(alerts)
    app.command("sangao")(sangao)
    app.add_typer(patrol_app, name="patrol")
