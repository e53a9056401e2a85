"""CLI verbs of the spatial part: ``anju hotspots gistar | emerging | knox``.

A thin shell over :mod:`anju.services.hotspots`: parse options, call one service function, print a Rich summary and
write the result into the ``--out`` directory (``<verb>.csv``, plus ``<verb>.geojson`` when it has geometry).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from anju.commands._common import console, deployment_from
from anju.commands.options import (
    AreaLevelOpt,
    CategoryOpt,
    CellSizeOpt,
    OutDirOpt,
    PeriodOpt,
    SeedOpt,
    check_level,
)
from anju.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

hotspots_app = typer.Typer(
    help="热点分析 / hot spots: Getis-Ord Gi*、时空热点 emerging hot spots、近重复 near repeat (Knox).",
    no_args_is_help=True,
)

WeightsOpt = Annotated[str, typer.Option("--weights", "-w", help="邻接 / neighbourhood: queen | rook | distance")]
DistanceOpt = Annotated[float | None, typer.Option("--distance", help="距离带(米), 与 --weights distance 合用 / "
                                                                      "distance band in metres")]
WithinOpt = Annotated[str, typer.Option("--within", help="只分析中心落在该区域层内的网格 / keep cells whose centre "
                                                        "lies in this layer; auto = district if loaded; none = all")]


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.add_typer(hotspots_app, name="hotspots")


def _selection(dep: Any, lake: Any, period: str, category: str | None) -> Any:
    from anju.services.lake import Selection, resolve_period

    return Selection(period=resolve_period(lake, period), category=category)


def _write(frame: pd.DataFrame, out: Path | None, name: str, geoms: Any = None) -> None:
    """``<out>/<name>.csv`` (UTF-8 with BOM, opens in Excel) and, with geometry, ``<out>/<name>.geojson``."""
    if out is None:
        return
    from anju.commands.options import out_dir
    from anju.geo.geojson import write_geojson

    d = out_dir(out, out)
    frame.to_csv(d / f"{name}.csv", index=False, encoding="utf-8-sig")
    written = [d / f"{name}.csv"]
    if geoms is not None:
        written.append(write_geojson(d / f"{name}.geojson", frame, geoms))
    console.print(f"已写出 / written: {', '.join(map(str, written))} ({len(frame)} 行 / rows)")


def _bin_summary(frame: pd.DataFrame, unit: str) -> Table:
    from anju.services.hotspots import BIN_LABELS

    tab = Table(title=f"Gi* 置信区间 / confidence bins ({unit})")
    tab.add_column("类别 / bin")
    tab.add_column("数量 / n", justify="right")
    tab.add_column("警情 / incidents", justify="right")
    tab.add_column("占比 / share", justify="right")
    total = max(float(frame["count"].sum()), 1.0)
    for b in (3, 2, 1, 0, -1, -2, -3):
        sel = frame["bin"] == b
        if sel.any() or b == 0:
            tab.add_row(" / ".join(BIN_LABELS[b]), f"{int(sel.sum()):,}", f"{int(frame.loc[sel, 'count'].sum()):,}",
                        f"{frame.loc[sel, 'count'].sum() / total:.1%}")
    return tab


def _top_table(frame: pd.DataFrame, name_col: str, top: int) -> Table:
    tab = Table(title=f"最热的 {top} 个 / top {top} hot spots")
    for c in (name_col, "count", "z", "bin"):
        tab.add_column(c, justify="left" if c == name_col else "right")
    for _, r in frame.sort_values(["z", "count"], ascending=False).head(top).iterrows():
        tab.add_row(str(r[name_col]), f"{int(r['count'])}", f"{r['z']:.2f}", str(int(r["bin"])))
    return tab


# ---- verbs ---------------------------------------------------------------------------------------------------------
@hotspots_app.command("gistar")
def gistar_cmd(
    ctx: typer.Context,
    period: PeriodOpt = "latest",
    category: CategoryOpt = None,
    cell_size: CellSizeOpt = 150.0,
    weights: WeightsOpt = "queen",
    distance: DistanceOpt = None,
    areas: AreaLevelOpt = None,
    within: WithinOpt = "auto",
    permutations: Annotated[int, typer.Option("--permutations", help="条件置换次数 / conditional permutations; "
                                                                     "bins then use p_sim (≥ 999 for 99 %)")] = 0,
    seed: SeedOpt = None,
    fdr: Annotated[bool, typer.Option("--fdr/--no-fdr", help="FDR 校正 / Benjamini–Hochberg correction")] = True,
    top: Annotated[int, typer.Option("--top", help="列出最热的 N 个 / list the N hottest")] = 10,
    out: OutDirOpt = None,
) -> None:
    """Getis-Ord Gi* 热点(网格或区域)/ Gi* hot spots on grid cells or area polygons, FDR-corrected bins.

    --out 目录中写出 gistar.csv 与 gistar.geojson / writes gistar.csv and gistar.geojson into the --out directory.
    """
    from anju.services import hotspots
    from anju.services.lake import open_lake

    check_level(areas)
    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        res = hotspots.gistar(dep, lake, _selection(dep, lake, period, category), cell_size=cell_size,
                              weights=weights, distance=distance, areas=areas, within=within,
                              permutations=permutations, seed=seed, fdr=fdr)
    frame = res.frame
    if areas:
        unit, name_col = "区域 / areas", "name"
    else:
        frame = frame.assign(where=[f"{a:.5f},{b:.5f}" for a, b in zip(frame["lon"], frame["lat"], strict=True)])
        unit, name_col = f"网格 {cell_size:g} m / cells", "where"
    console.print(f"[bold]Gi* 热点分析 / hot spot analysis[/] — {res.incidents:,} 起警情 / incidents, "
                  f"{len(frame):,} {unit}, weights={weights}, FDR={'on' if fdr else 'off'}")
    console.print(_bin_summary(frame, unit))
    console.print(_top_table(frame, name_col, top))
    _write(res.frame, out, "gistar", res.geoms)


@hotspots_app.command("emerging")
def emerging_cmd(
    ctx: typer.Context,
    period: PeriodOpt = "latest",
    category: CategoryOpt = None,
    step: Annotated[str, typer.Option("--step", help="时间步长 / time step, e.g. 7D, 1D, 28D")] = "7D",
    time_window: Annotated[int, typer.Option("--time-window", help="邻域包含前几个时间步 / previous steps in the "
                                                                   "neighbourhood")] = 1,
    global_window: Annotated[str, typer.Option("--global-window", help="全局均值范围 / scope of the global mean: "
                                                                       "cube | step | neighbourhood")] = "cube",
    cell_size: CellSizeOpt = 150.0,
    weights: WeightsOpt = "queen",
    distance: DistanceOpt = None,
    areas: AreaLevelOpt = None,
    alpha: Annotated[float, typer.Option("--alpha", help="热点显著性水平 / bin significance (FDR)")] = 0.10,
    trend_alpha: Annotated[float, typer.Option("--trend-alpha", help="趋势显著性 / Mann–Kendall level")] = 0.05,
    out: OutDirOpt = None,
) -> None:
    """时空热点 / emerging hot spot analysis (Esri categories: new, intensifying, persistent …).

    --out 目录中写出 emerging.csv 与 emerging.geojson / writes emerging.csv and emerging.geojson into --out.
    """
    from anju.services import hotspots
    from anju.services.lake import open_lake
    from anju.spatial.emerging import CATEGORIES

    check_level(areas)
    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        res = hotspots.emerging(dep, lake, _selection(dep, lake, period, category), step=step,
                                time_window=time_window, global_window=global_window, cell_size=cell_size,
                                weights=weights, distance=distance, areas=areas, alpha=alpha, trend_alpha=trend_alpha)
    m, frame = res.meta, res.frame
    console.print(f"[bold]时空热点 / emerging hot spots[/] — {m['counted']:,} 起警情 / incidents, "
                  f"{m['locations']:,} 个位置 / locations × {m['steps']} 步 / steps of {step} "
                  f"({m['first']} → {m['last']}); 未计入 / not counted: {m['dropped']:,}")
    tab = Table(title="模式 / patterns")
    tab.add_column("代码 / code", justify="right")
    tab.add_column("模式 / pattern")
    tab.add_column("位置数 / n", justify="right")
    counts = frame["category_code"].value_counts()
    for code in sorted(counts.index, key=lambda c: (c <= 0, abs(c))):
        tab.add_row(str(code), f"{CATEGORIES[int(code)][1]} / {CATEGORIES[int(code)][2]}", f"{counts[code]:,}")
    console.print(tab)
    _write(frame, out, "emerging", res.geoms)


def _floats(text: str, what: str) -> list[float]:
    try:
        vals = [float(v) for v in text.replace("，", ",").split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{what} must be comma-separated numbers like 100,200,300; got {text!r}.") from None
    if not vals:
        raise ConfigError(f"{what} must list at least one band limit; got {text!r}.")
    return vals


@hotspots_app.command("knox")
def knox_cmd(
    ctx: typer.Context,
    period: PeriodOpt = "latest",
    category: CategoryOpt = None,
    space_bands: Annotated[str, typer.Option("--space-bands", help="距离带上限(米)/ distance band limits")] =
    "100,200,300,400",
    time_bands: Annotated[str, typer.Option("--time-bands", help="时间带上限(天)/ time band limits in days")] =
    "7,14,21,28",
    permutations: Annotated[int, typer.Option("--permutations", help="蒙特卡罗次数 / Monte Carlo shuffles")] = 99,
    seed: SeedOpt = None,
    metric: Annotated[str, typer.Option("--metric", help="距离 / distance: euclidean | manhattan")] = "euclidean",
    exact_time: Annotated[bool, typer.Option("--exact-time", help="按精确时间而非日期 / fractional days instead "
                                                                  "of calendar days")] = False,
    out: OutDirOpt = None,
) -> None:
    """近重复(Knox 检验)/ near-repeat Knox test: observed/expected ratios per distance × time band.

    --out 目录中写出 knox.csv / writes knox.csv into the --out directory.
    """
    import numpy as np

    from anju.services import hotspots
    from anju.services.lake import open_lake

    s_bands = _floats(space_bands, "--space-bands")
    t_bands = _floats(time_bands, "--time-bands")
    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        res = hotspots.knox(dep, lake, _selection(dep, lake, period, category), space_bands=s_bands,
                            time_bands=t_bands, permutations=permutations, seed=seed, metric=metric,
                            exact_time=exact_time)
    console.print(f"[bold]近重复 Knox 检验 / near-repeat Knox test[/] — {res.n_events:,} 起 / events, "
                  f"{res.n_pairs:,} 对 / pairs, {permutations} 次置换 / permutations")
    tab = Table(title="观察/期望比 / Knox ratio (* p ≤ 0.05, ** p ≤ 0.01)")
    tab.add_column("距离 / distance")
    for lab in res.time_labels:
        tab.add_column(lab, justify="right")
    for i, lab in enumerate(res.space_labels):
        cells = []
        for j in range(len(res.time_labels)):
            r, p = res.ratio[i, j], res.p_values[i, j]
            mark = "**" if p <= 0.01 else "*" if p <= 0.05 else ""
            cells.append("—" if not np.isfinite(r) else f"{r:.2f}{mark}")
        tab.add_row(lab, *cells)
    console.print(tab)
    _write(res.to_frame(), out, "knox")
