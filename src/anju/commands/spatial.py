"""CLI verbs of the spatial part: ``anju hotspots gistar | emerging | knox``.

The only place the spatial part does I/O: incidents come from ``anju.lake.connect(settings).incidents()`` (filtered
in the engine), areas from ``anju.geo.areas.AreaSet``; the statistics are the pure functions of
:mod:`anju.spatial`; results go to CSV or GeoJSON plus a Rich summary.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from anju.commands._common import console, metric_crs, settings_from
from anju.errors import ConfigError, DataNotFoundError, GeoError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

hotspots_app = typer.Typer(
    help="热点分析 / hot spots: Getis-Ord Gi*、时空热点 emerging hot spots、近重复 near repeat (Knox).",
    no_args_is_help=True,
)

PeriodOpt = Annotated[str, typer.Option("--period", "-p", help="时段 / period: 2025H2, 2025Q3, 2025-07, 2025, "
                                                               "2025-01-01..2025-03-31")]
FamilyOpt = Annotated[str | None, typer.Option("--family", "-f", help="警情大类 / taxonomy family, e.g. theft")]
CategoryOpt = Annotated[str | None, typer.Option("--category", "-c", help="警情细类 / leaf code, e.g. theft.burglary")]
CellOpt = Annotated[float, typer.Option("--cell", help="网格边长(米)/ grid cell size in metres")]
WeightsOpt = Annotated[str, typer.Option("--weights", "-w", help="邻接 / neighbourhood: queen | rook | distance")]
DistanceOpt = Annotated[float | None, typer.Option("--distance", help="距离带(米), 与 --weights distance 合用 / "
                                                                      "distance band in metres")]
AreasOpt = Annotated[str | None, typer.Option("--areas", help="按区域层分析而非网格 / analyse an area layer "
                                                              "(community, grid, street …) instead of cells")]
WithinOpt = Annotated[str, typer.Option("--within", help="只分析中心落在该区域层内的网格 / keep cells whose centre "
                                                        "lies in this layer; auto = district if loaded; none = all")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="输出文件 / output file (.csv or .geojson)")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="随机种子 / random seed")]

BIN_LABELS = {3: "热点 99% / hot", 2: "热点 95% / hot", 1: "热点 90% / hot", 0: "不显著 / not significant",
              -1: "冷点 90% / cold", -2: "冷点 95% / cold", -3: "冷点 99% / cold"}


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.add_typer(hotspots_app, name="hotspots")


# ---- I/O helpers ---------------------------------------------------------------------------------------------------
def _period_bounds(text: str) -> tuple[dt.datetime, dt.datetime, str]:
    from anju.analytics.periods import Period

    p = Period.parse(text)
    start = dt.datetime.combine(p.start, dt.time())
    end = dt.datetime.combine(p.end, dt.time())
    return start, end, str(p)


def _incidents(settings: Any, period: str, family: str | None, category: str | None,
               extra: tuple[str, ...] = ()) -> tuple[pd.DataFrame, str]:
    """Incidents of the period (x, y, reported_at, lon, lat and ``extra`` columns) and the metric CRS."""
    import numpy as np
    import pandas as pd

    from anju.lake import connect

    start, end, label = _period_bounds(period)
    lake = connect(settings)
    try:
        t = lake.incidents()
        t = t.filter(t.reported_at >= start, t.reported_at < end)
        if family:
            t = t.filter(t.family == family)
        if category:
            t = t.filter(t.category == category)
        cols = [c for c in ("x", "y", "lon", "lat", "reported_at", *extra) if c in t.columns]
        df = t.select(*cols).to_pandas()
    finally:
        lake.close()
    what = ", ".join(f"{k}={v}" for k, v in (("period", label), ("family", family), ("category", category)) if v)
    if df.empty:
        raise DataNotFoundError(f"the lake holds no incidents for {what}; run `anju ingest` first or widen the "
                                "selection (--period, --family, --category).")
    df["reported_at"] = pd.to_datetime(df["reported_at"])
    lon = df["lon"].to_numpy(float) if "lon" in df else []
    lat = df["lat"].to_numpy(float) if "lat" in df else []
    crs = metric_crs(settings, lon, lat)
    if "x" not in df or "y" not in df:
        raise DataNotFoundError("the lake's incidents have no x/y columns; see docs/data-model.md.")
    if df["x"].isna().all() and "lon" in df:
        from anju.geo.projection import to_metric

        x, y = to_metric(df["lon"].to_numpy(float), df["lat"].to_numpy(float), crs)
        df = df.assign(x=x, y=y)
    df = df[np.isfinite(df["x"].to_numpy(float)) & np.isfinite(df["y"].to_numpy(float))]
    if df.empty:
        raise DataNotFoundError(f"no incident of {what} has coordinates; check the source profile's lon/lat columns.")
    return df.reset_index(drop=True), crs


def _area_layer(settings: Any, layer: str) -> Any:
    from anju.geo.areas import AreaSet

    areas = AreaSet.from_data_dir(settings.data_dir)
    if layer not in areas.layers:
        raise DataNotFoundError(f"area layer {layer!r} is not loaded (loaded: {sorted(areas.layers) or 'none'}); "
                                f"load it with `anju areas load FILE --layer {layer}`.")
    return areas.layers[layer]


def _area_weights(geoms: Any, weights: str, distance: float | None, crs: str) -> Any:
    from anju.spatial.weights import distance_band, polygon_contiguity

    kind = weights.lower()
    if kind in ("queen", "rook"):
        return polygon_contiguity(geoms, kind=kind)
    if kind == "distance":
        import shapely

        from anju.geo.projection import to_metric

        if distance is None:
            raise ConfigError("--weights distance needs --distance <metres>.")
        c = shapely.centroid(geoms)
        x, y = to_metric(shapely.get_x(c), shapely.get_y(c), crs)
        return distance_band(x, y, distance)
    raise ConfigError(f"--weights must be queen, rook or distance; got {weights!r}.")


def _codes(df: pd.DataFrame, layer: str, ids: Any) -> np.ndarray:
    import numpy as np
    import pandas as pd
    col = f"{layer}_id"
    if col not in df:
        raise DataNotFoundError(f"the lake has no column {col!r}; area layer {layer!r} is not part of the data model.")
    lookup = pd.Index(pd.Series(ids, dtype=object))
    return np.asarray(lookup.get_indexer(df[col].astype(object)), dtype=np.int64)


def _within_layer(settings: Any, within: str) -> str | None:
    """The area layer that bounds the grid: ``auto`` → district if loaded, ``none`` → no bound."""
    w = within.strip().lower()
    if w == "none":
        return None
    if w == "auto":
        from anju.geo.areas import read_meta

        return "district" if "district" in read_meta(settings.paths.areas).get("layers", {}) else None
    return within


def _cell_mask(settings: Any, grid: Any, layer: str, crs: str) -> np.ndarray:
    """Cells whose centre lies inside the union of the layer's polygons (a lake or a neighbour district is not a
    cold spot)."""
    import numpy as np
    import shapely

    from anju.geo.projection import from_metric

    lay = _area_layer(settings, layer)
    cx, cy = grid.centres()
    lon, lat = from_metric(cx, cy, crs)
    mask = np.asarray(shapely.contains_xy(shapely.union_all(lay.geometries), lon, lat), dtype=bool)
    if mask.sum() < 3:
        raise GeoError(f"only {int(mask.sum())} grid cells lie inside layer {layer!r}; check the layer or use "
                       "--within none.")
    return mask


def _cells_wgs84(grid: Any, cells: np.ndarray, crs: str) -> Any:
    import numpy as np
    import shapely

    from anju.geo.projection import from_metric

    def to_wgs(xy: np.ndarray) -> np.ndarray:
        lon, lat = from_metric(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(grid.boxes(cells), to_wgs)


def _write(frame: pd.DataFrame, out: Path | None, geoms: Any = None) -> None:
    """CSV (UTF-8 with BOM, opens in Excel) or GeoJSON (WGS-84) of ``frame``."""
    if out is None:
        return
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(out, index=False, encoding="utf-8-sig")
    elif suffix in (".geojson", ".json"):
        if geoms is None:
            raise ConfigError(f"{out}: this result has no geometry; write it as .csv instead.")
        import shapely

        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        shapes = [json.loads(s) for s in shapely.to_geojson(geoms)]
        fc = {"type": "FeatureCollection",
              "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in zip(shapes, records,
                                                                                              strict=True)]}
        out.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    else:
        raise ConfigError(f"--out {out}: unknown format {suffix!r}; use .csv or .geojson.")
    console.print(f"已写出 / written: {out} ({len(frame)} 行 / rows)")


def _bin_summary(frame: pd.DataFrame, unit: str) -> Table:
    tab = Table(title=f"Gi* 置信区间 / confidence bins ({unit})")
    tab.add_column("类别 / bin")
    tab.add_column("数量 / n", justify="right")
    tab.add_column("警情 / incidents", justify="right")
    tab.add_column("占比 / share", justify="right")
    total = max(float(frame["count"].sum()), 1.0)
    for b in (3, 2, 1, 0, -1, -2, -3):
        sel = frame["bin"] == b
        if sel.any() or b == 0:
            tab.add_row(BIN_LABELS[b], f"{int(sel.sum()):,}", f"{int(frame.loc[sel, 'count'].sum()):,}",
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
    period: PeriodOpt,
    family: FamilyOpt = None,
    category: CategoryOpt = None,
    cell: CellOpt = 150.0,
    weights: WeightsOpt = "queen",
    distance: DistanceOpt = None,
    areas: AreasOpt = None,
    within: WithinOpt = "auto",
    permutations: Annotated[int, typer.Option("--permutations", help="条件置换次数 / conditional permutations; "
                                                                     "bins then use p_sim (≥ 999 for 99 %)")] = 0,
    seed: SeedOpt = None,
    fdr: Annotated[bool, typer.Option("--fdr/--no-fdr", help="FDR 校正 / Benjamini–Hochberg correction")] = True,
    top: Annotated[int, typer.Option("--top", help="列出最热的 N 个 / list the N hottest")] = 10,
    out: OutOpt = None,
) -> None:
    """Getis-Ord Gi* 热点(网格或区域)/ Gi* hot spots on grid cells or area polygons, FDR-corrected bins."""
    import numpy as np
    import pandas as pd

    from anju.spatial.gistar import gi_star, grid_hotspots

    settings = settings_from(ctx)
    if weights.lower() == "distance" and distance is None:
        raise ConfigError("--weights distance needs --distance <metres> (e.g. --distance 300).")
    if areas and within not in ("auto", "none"):
        raise ConfigError("--within applies to grid cells; drop it when analysing --areas.")
    extra = (f"{areas}_id",) if areas else ()
    df, crs = _incidents(settings, period, family, category, extra)
    if areas:
        layer = _area_layer(settings, areas)
        codes = _codes(df, areas, layer.ids)
        counts = np.bincount(codes[codes >= 0], minlength=len(layer.ids)).astype(float)
        W = _area_weights(layer.geometries, weights, distance, crs)
        res = gi_star(counts, W, permutations=permutations, seed=seed)
        frame = pd.DataFrame({"area_id": layer.ids, "name": layer.names, "count": counts, "z": res.z, "p": res.p})
        if res.p_sim is not None:
            frame["p_sim"] = res.p_sim
        frame["bin"] = res.bins(fdr=fdr, use_sim=res.p_sim is not None)
        geoms, unit, name_col = layer.geometries, "区域 / areas", "name"
    else:
        mask = None
        from anju.geo.regular_grid import RegularGrid

        grid = RegularGrid.from_points(df["x"], df["y"], cell)
        layer_name = _within_layer(settings, within)
        if layer_name:
            mask = _cell_mask(settings, grid, layer_name, crs)
        grid, frame = grid_hotspots(df["x"], df["y"], grid=grid, weights=weights, distance=distance, mask=mask,
                                    fdr=fdr, permutations=permutations, seed=seed)
        from anju.geo.projection import from_metric

        lon, lat = from_metric(frame["cx"].to_numpy(), frame["cy"].to_numpy(), crs)
        frame.insert(5, "lon", np.round(lon, 6))
        frame.insert(6, "lat", np.round(lat, 6))
        geoms = _cells_wgs84(grid, frame["cell"].to_numpy(), crs) if out and out.suffix != ".csv" else None
        frame["where"] = [f"{a:.5f},{b:.5f}" for a, b in zip(frame["lon"], frame["lat"], strict=True)]
        unit, name_col = f"网格 {cell:g} m / cells", "where"
    console.print(f"[bold]Gi* 热点分析 / hot spot analysis[/] — {len(df):,} 起警情 / incidents, "
                  f"{len(frame):,} {unit}, weights={weights}, FDR={'on' if fdr else 'off'}")
    console.print(_bin_summary(frame, unit))
    console.print(_top_table(frame, name_col, top))
    _write(frame.drop(columns=["where"], errors="ignore"), out, geoms)


@hotspots_app.command("emerging")
def emerging_cmd(
    ctx: typer.Context,
    period: PeriodOpt,
    family: FamilyOpt = None,
    category: CategoryOpt = None,
    step: Annotated[str, typer.Option("--step", help="时间步长 / time step, e.g. 7D, 1D, 28D")] = "7D",
    time_window: Annotated[int, typer.Option("--time-window", help="邻域包含前几个时间步 / previous steps in the "
                                                                   "neighbourhood")] = 1,
    global_window: Annotated[str, typer.Option("--global-window", help="cube | step | neighbourhood")] = "cube",
    cell: CellOpt = 150.0,
    weights: WeightsOpt = "queen",
    distance: DistanceOpt = None,
    areas: AreasOpt = None,
    alpha: Annotated[float, typer.Option("--alpha", help="热点显著性水平 / bin significance (FDR)")] = 0.10,
    trend_alpha: Annotated[float, typer.Option("--trend-alpha", help="趋势显著性 / Mann–Kendall level")] = 0.05,
    out: OutOpt = None,
) -> None:
    """时空热点 / emerging hot spot analysis (Esri categories: new, intensifying, persistent …)."""
    import numpy as np
    import pandas as pd

    from anju.spatial.cube import SpaceTimeCube
    from anju.spatial.emerging import CATEGORIES, emerging_hotspots

    settings = settings_from(ctx)
    start, end, _ = _period_bounds(period)
    extra = (f"{areas}_id",) if areas else ()
    df, crs = _incidents(settings, period, family, category, extra)
    if areas:
        layer = _area_layer(settings, areas)
        cube = SpaceTimeCube.from_codes(_codes(df, areas, layer.ids), df["reported_at"], n_locations=len(layer.ids),
                                        step=step, start=start, end=end)
        W = _area_weights(layer.geometries, weights, distance, crs)
        geoms: Any = layer.geometries
        ident = pd.DataFrame({"area_id": layer.ids, "name": layer.names})
    else:
        cube = SpaceTimeCube.from_events(df["x"], df["y"], df["reported_at"], cell=cell, step=step, start=start,
                                         end=end)
        W = cube.weights(weights, distance=distance)
        assert cube.grid is not None
        geoms = _cells_wgs84(cube.grid, cube.locations, crs) if out and out.suffix != ".csv" else None
        from anju.geo.projection import from_metric

        cx, cy = cube.grid.centres(cube.locations)
        lon, lat = from_metric(cx, cy, crs)
        ident = pd.DataFrame({"cell": cube.locations, "lon": np.round(lon, 6), "lat": np.round(lat, 6)})
    res = emerging_hotspots(cube.counts, W, time_window=time_window, global_window=global_window, alpha=alpha,
                            trend_alpha=trend_alpha)
    frame = pd.concat([ident, res.drop(columns=["location"])], axis=1)
    console.print(f"[bold]时空热点 / emerging hot spots[/] — {int(cube.counts.sum()):,} 起警情 / incidents, "
                  f"{cube.n_locations:,} 个位置 / locations × {cube.n_steps} 步 / steps of {step} "
                  f"({cube.edges[0].date()} → {cube.edges[-1].date()}); 未计入 / not counted: {cube.dropped:,}")
    tab = Table(title="模式 / patterns")
    tab.add_column("代码 / code", justify="right")
    tab.add_column("模式 / pattern")
    tab.add_column("位置数 / n", justify="right")
    counts = frame["category_code"].value_counts()
    for code in sorted(counts.index, key=lambda c: (c <= 0, abs(c))):
        tab.add_row(str(code), f"{CATEGORIES[int(code)][1]} / {CATEGORIES[int(code)][2]}", f"{counts[code]:,}")
    console.print(tab)
    _write(frame, out, geoms)


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
    period: PeriodOpt,
    family: FamilyOpt = None,
    category: CategoryOpt = None,
    space_bands: Annotated[str, typer.Option("--space-bands", help="距离带上限(米)/ distance band limits")] =
    "100,200,300,400",
    time_bands: Annotated[str, typer.Option("--time-bands", help="时间带上限(天)/ time band limits in days")] =
    "7,14,21,28",
    permutations: Annotated[int, typer.Option("--permutations", help="蒙特卡罗次数 / Monte Carlo shuffles")] = 99,
    seed: SeedOpt = None,
    metric: Annotated[str, typer.Option("--metric", help="euclidean | manhattan")] = "euclidean",
    exact_time: Annotated[bool, typer.Option("--exact-time", help="按精确时间而非日期 / fractional days instead "
                                                                  "of calendar days")] = False,
    out: OutOpt = None,
) -> None:
    """近重复(Knox 检验)/ near-repeat Knox test: observed/expected ratios per distance × time band."""
    import numpy as np

    from anju.spatial.nearrepeat import knox_test, time_in_days

    settings = settings_from(ctx)
    s_bands = _floats(space_bands, "--space-bands")
    t_bands = _floats(time_bands, "--time-bands")
    df, _ = _incidents(settings, period, family, category)
    t = time_in_days(df["reported_at"], whole_days=not exact_time)
    res = knox_test(df["x"].to_numpy(float), df["y"].to_numpy(float), t, space_bands=s_bands, time_bands=t_bands,
                    permutations=permutations, seed=seed, metric=metric)
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
    _write(res.to_frame(), out)
