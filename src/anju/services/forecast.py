"""Forecasts on the lake: a risk surface for a window, rolling backtests, patrol plans, alert levels, 三高 (sangao).

The models are the scikit-learn-style estimators of :mod:`anju.forecast`; this module selects the incidents through
:mod:`anju.services.lake` (the same category vocabulary as every surface) and returns results the CLI writes and the
web app serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anju.errors import ConfigError, DataNotFoundError
from anju.services.lake import Selection, category_codes, incident_frame, lake_source_categories, select

if TYPE_CHECKING:
    from anju.deployment import Deployment
    from anju.forecast.selection import AutoChoice
    from anju.geo.grid_frame import GridFrame
    from anju.lake.connection import Lake

__all__ = [
    "MODELS",
    "AutoResult",
    "ForecastResult",
    "PatrolResult",
    "alerts",
    "area_names",
    "auto_select",
    "backtest",
    "day_after_last",
    "forecast",
    "make_cli_model",
    "patrol_plan",
    "sangao",
    "study_area",
]

MODELS = ("naive", "random", "retrospective", "prospective", "kde", "sepp", "blend", "boost")
_COLUMNS = ("family", "category", "station_id", "community_id")


def _family(dep: Deployment, category: str | None, lake: Lake | None = None) -> str | None:
    """The family a model is told about (models filter training events by family); a node or a source category
    narrows in the lake (the events handed to the models are already selected), so it tells the models nothing."""
    if category is None:
        return None
    col, codes = category_codes(dep.taxonomy, category,
                                source_categories=lake_source_categories(lake) if lake is not None else None)
    if col == "family":
        return codes[0]
    if col == "category":
        return dep.taxonomy.family_of(codes[0])
    return None


def day_after_last(dep: Deployment, lake: Lake, selection: Selection) -> pd.Timestamp:
    """The day after the last incident of the selection (the default forecast day), asked of the engine."""
    t = select(dep, lake, selection)
    last = t.reported_at.max().to_pandas()
    if last is None or pd.isna(last):
        raise DataNotFoundError(f"the lake holds no incidents for {selection.describe()}; run `anju ingest` first.",
                                zh=f"数据湖中没有符合 {selection.describe()} 的警情；请先用 `anju ingest` 导入数据")
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)


def _events(dep: Deployment, lake: Lake, category: str | None, station: str | None, start: Any,
            end: Any) -> tuple[pd.DataFrame, str]:
    """Events with x, y (metric) and ``t`` for the models, from ``start`` to ``end``."""
    from anju.analytics.periods import Period

    period = Period.parse(f"{pd.Timestamp(start).date()}..{(pd.Timestamp(end) - pd.Timedelta('1ns')).date()}")
    df, crs = incident_frame(dep, lake, Selection(period=period, category=category, station=station),
                             columns=_COLUMNS)
    df = df[(df["reported_at"] >= pd.Timestamp(start)) & (df["reported_at"] < pd.Timestamp(end))]
    if df.empty:
        raise DataNotFoundError("no incident with coordinates in the selection; forecasts need x/y or lon/lat.")
    assert crs is not None
    return df.rename(columns={"reported_at": "t"}).reset_index(drop=True), crs


def _grid(df: pd.DataFrame, cell_size: float, frame: GridFrame | None = None, study: Any = None) -> Any:
    """The grid in the frame's coordinates (``df`` already turned into the grid frame)."""
    from anju.geo.grid_frame import GridFrame

    frame = frame or GridFrame(cell_size)
    return frame.grid(df["x"].to_numpy(float), df["y"].to_numpy(float), study_area=study)


def _to_frame(df: pd.DataFrame, frame: GridFrame) -> pd.DataFrame:
    """Events with x, y turned into the grid frame (a copy; unchanged when the grid is not rotated)."""
    if frame.rotation_deg == 0:
        return df
    out = df.copy()
    out["x"], out["y"] = frame.to_grid(df["x"].to_numpy(float), df["y"].to_numpy(float))
    return out


def study_area(dep: Deployment, layer: str, crs: str, area_id: str | None = None) -> Any:
    """The study area as one shapely (multi)polygon in the metric CRS ``crs``: the union of a loaded area layer
    (``police_district``, ``district``, …) or one of its areas (``area_id``)."""
    import shapely

    from anju.geo.areas import AreaSet
    from anju.geo.projection import to_metric

    areas = AreaSet.from_data_dir(dep.data_dir)
    if layer not in areas.layers:
        raise DataNotFoundError(f"area layer {layer!r} is not loaded (loaded: {sorted(areas.layers) or 'none'}); "
                                f"load it with `anju areas load FILE --layer {layer}`.")
    lay = areas.layers[layer]
    geoms = np.asarray(lay.geometries)
    if area_id is not None:
        ids = np.asarray(lay.ids).astype(str)
        if area_id not in set(ids):
            raise ConfigError(f"area {area_id!r} is not in layer {layer!r}.", key="study_area")
        geoms = geoms[ids == area_id]
    geom = shapely.union_all(geoms)
    return shapely.transform(geom, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1], crs)))


def make_cli_model(name: str, *, family: str | None, shift: str | None, cell_size: float,
                   shift_weight: float | None = None, seed: int = 0) -> Any:
    """A model as the CLI and web build it. Out-of-shift events weigh 0.25 by default: on the public backtests
    (docs/forecasting.md) that beat both extremes for sparse targets and cost little for dense ones; SEPP accepts
    only 0 or 1."""
    from anju.forecast import make_model

    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}", key="model")
    extra: dict[str, Any] = {}
    if shift is not None:
        extra["shift_weight"] = shift_weight if shift_weight is not None else (0.0 if name == "sepp" else 0.25)
    if name == "sepp":
        extra["cell_size_m"] = cell_size
    if name in ("random", "boost"):
        extra["random_state"] = seed
    return make_model(name, family=family, shift=shift, **extra)


@dataclass
class ForecastResult:
    """A risk surface: one row per active cell (``cell_id``, ``x``, ``y``, ``lon``, ``lat``, ``risk``, ``rank``,
    ``share``), the cells' WGS-84 polygons, the grid and surface, the fitted model, and — for the default
    (auto-selected) model — the backtest choice that picked it."""

    frame: pd.DataFrame
    geoms: Any
    grid: Any
    surface: Any
    model: Any
    window: Any
    crs: str
    name: str = ""
    choice: AutoChoice | None = None


def _lonlat(crs: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    from anju.geo.projection import from_metric

    lon, lat = from_metric(np.asarray(x, float), np.asarray(y, float), crs)
    return np.asarray(lon), np.asarray(lat)


@dataclass
class AutoResult:
    """The backtest behind the default model: per-origin ``results`` and the ``choice``."""

    results: pd.DataFrame
    choice: AutoChoice
    origins: list[pd.Timestamp]


def auto_select(df: pd.DataFrame, grid: Any, *, window_start: pd.Timestamp, horizon: str, family: str | None,
                shift: str | None = None, shift_weight: float | None = None, cell_size: float = 150.0,
                hot_area_m2: float | None = None, coverage: float = 0.05, study: Any = None,
                ties: str = "cell_id", n_origins: int = 8, history_days: int = 1095,
                long_memory: bool = False) -> AutoResult:
    """Rolling-origin backtest of the candidate models on the history before ``window_start`` (``n_origins``
    windows of the same ``horizon``, the latest ending at ``window_start``) and the choice by mean PAI at the hot
    area (or share ``coverage``). ``long_memory`` adds the five- and seven-year candidates (naive counts and
    blends) of :func:`anju.forecast.selection.candidates`."""
    from anju.forecast import backtest as run_backtest
    from anju.forecast import observed_origins
    from anju.forecast.events import parse_horizon
    from anju.forecast.selection import candidates, choose

    h = parse_horizon(horizon)
    step = max(h, pd.Timedelta("7D"))
    first = window_start - h - (n_origins - 1) * step
    origins = observed_origins(df, first, window_start - h + pd.Timedelta("1ns"), step=step, horizon=h)
    origins = [o for o in origins if (df["t"] < o).sum() > 0]
    if len(origins) < 2:
        raise ConfigError(f"choosing a model needs at least two backtest windows of {horizon} with data before "
                          f"{window_start:%Y-%m-%d}; load more history or pick one with --model.", key="model")
    models = candidates(cell_size, family=family, long_memory=long_memory)
    if shift is not None:
        for m in models.values():
            m.set_params(shift=shift, shift_weight=shift_weight if shift_weight is not None else 0.25)
    results = run_backtest(models, df, grid, origins, h, coverages=() if hot_area_m2 else (coverage,),
                           hot_areas=(hot_area_m2,) if hot_area_m2 else (), study_area=study, ties=ties,
                           training_days=history_days)
    return AutoResult(results, choose(results, models), origins)


def forecast(dep: Deployment, lake: Lake, *, model: str | None = "prospective", category: str | None = None,
             shift: str | None = None, shift_weight: float | None = None, date: Any = None, horizon: str = "1D",
             station: str | None = None, cell_size: float = 150.0, history_days: int | None = None,
             frame: GridFrame | None = None, study_layer: str | None = None, study_id: str | None = None,
             hot_area_m2: float | None = None, coverage: float = 0.05, ties: str = "cell_id",
             long_memory: bool = False) -> ForecastResult:
    """Fit ``model`` on ``history_days`` before ``date`` (default: the day after the last incident) and predict the
    window ``[date, date + horizon)`` on a ``cell_size`` grid. ``history_days`` defaults to one year, or three
    (:data:`anju.forecast.selection.HISTORY_DAYS`) for the default choice and the long-memory ``blend`` model.

    ``model=None`` (the CLI default) first backtests the candidates of :mod:`anju.forecast.selection` on the user's
    history (:func:`auto_select`) and uses the one with the best mean PAI at the hot area; a model that lost to the
    best naive baseline is never chosen. ``long_memory`` (automatic choice only) adds five- and seven-year
    candidates and loads seven years of history (:data:`anju.forecast.selection.LONG_HISTORY_DAYS`)."""
    from anju.forecast import Window, parse_shift
    from anju.forecast.events import parse_horizon, refuse_shift_on_dates
    from anju.forecast.selection import HISTORY_DAYS, LONG_HISTORY_DAYS
    from anju.geo.geojson import cells_wgs84
    from anju.geo.grid_frame import GridFrame

    parse_shift(shift)
    if long_memory and model is not None:
        raise ConfigError("--long-memory adds candidates to the automatic choice; drop --model to use it.",
                          key="long_memory", zh="--long-memory 只用于自动选择模型;请去掉 --model")
    if history_days is None:
        history_days = (LONG_HISTORY_DAYS if long_memory else
                        HISTORY_DAYS if model in (None, "blend", "boost") else 365)
    frame = frame or GridFrame(cell_size)
    cell_size = frame.cell_size
    sel = Selection(category=category, station=station)
    window_start = pd.Timestamp(date) if date else day_after_last(dep, lake, sel)
    extra_days = 0 if model is not None else int(np.ceil(8 * max(parse_horizon(horizon), pd.Timedelta("7D")) /
                                                         pd.Timedelta("1D")))
    df, crs = _events(dep, lake, category, station, window_start - pd.Timedelta(days=history_days + extra_days),
                      window_start)
    refuse_shift_on_dates(df["t"], shift)
    df = _to_frame(df, frame)
    study = frame.geometry_to_grid(study_area(dep, study_layer, crs, study_id)) if study_layer else None
    window = Window.from_origin(window_start, horizon)
    grid = _grid(df, cell_size, frame, study)
    fam = _family(dep, category, lake)
    choice = None
    if model is None:
        auto = auto_select(df, grid, window_start=window_start, horizon=horizon, family=fam, shift=shift,
                           shift_weight=shift_weight, cell_size=cell_size, hot_area_m2=hot_area_m2,
                           coverage=coverage, study=study, ties=ties, history_days=history_days,
                           long_memory=long_memory)
        choice = auto.choice
        from anju.forecast import clone

        m = clone(choice.model)
        name = choice.name
    else:
        m = make_cli_model(model, family=fam, shift=shift, cell_size=cell_size, shift_weight=shift_weight)
        name = model
    train = df[df["t"] >= window_start - pd.Timedelta(days=history_days)]
    m.fit(train)
    surface = m.predict(grid, window)
    out = grid.to_frame(surface)
    x, y = frame.to_data(out["x"].to_numpy(), out["y"].to_numpy())
    out["lon"], out["lat"] = _lonlat(crs, x, y)
    geoms = cells_wgs84(_DataGrid(grid, frame), out["cell_id"].to_numpy(), crs)
    return ForecastResult(out, geoms, grid, surface, m, window, crs, name, choice)


class _DataGrid:
    """A grid whose cell boxes come back in the data CRS (turned back when the grid frame is rotated)."""

    def __init__(self, grid: Any, frame: GridFrame) -> None:
        self.grid, self.frame = grid, frame

    def boxes(self, cells: Any) -> Any:
        return self.frame.geometry_to_data(self.grid.boxes(cells))


def backtest(dep: Deployment, lake: Lake, *, models: list[str], category: str | None = None,
             shift: str | None = None, shift_weight: float | None = None, start: Any = None, end: Any = None,
             step: str = "7D", horizon: str = "7D", station: str | None = None, cell_size: float = 150.0,
             history_days: int = 400, frame: GridFrame | None = None, study_layer: str | None = None,
             study_id: str | None = None, hot_areas_m2: tuple[float, ...] = (), ties: str = "expected",
             coverages: tuple[float, ...] | None = None) -> dict[str, Any]:
    """Rolling-origin backtest of ``models``: ``results`` (per origin), ``summary`` (hit rate, PAI, PEI against the
    naive baseline), ``origins``, ``grid``. A study layer makes PAI's ``A`` the layer's area (cells clipped to it);
    ``hot_areas_m2`` adds area-capped rows to the share coverages."""
    from anju.forecast import COVERAGES, observed_origins, parse_shift, summarize
    from anju.forecast import backtest as run_backtest
    from anju.geo.grid_frame import GridFrame

    parse_shift(shift)
    frame = frame or GridFrame(cell_size)
    cell_size = frame.cell_size
    fam = _family(dep, category, lake)
    specs = {n: make_cli_model(n, family=fam, shift=shift, cell_size=cell_size, shift_weight=shift_weight)
             for n in models}
    sel = Selection(category=category, station=station)
    last = pd.Timestamp(end) if end else day_after_last(dep, lake, sel)
    first = pd.Timestamp(start) if start else last - pd.Timedelta(weeks=26)
    df, crs = _events(dep, lake, category, station, first - pd.Timedelta(days=history_days), last)
    from anju.forecast.events import refuse_shift_on_dates

    refuse_shift_on_dates(df["t"], shift)
    df = _to_frame(df, frame)
    study = frame.geometry_to_grid(study_area(dep, study_layer, crs, study_id)) if study_layer else None
    from anju.forecast.events import parse_horizon

    h = parse_horizon(horizon)
    origins = observed_origins(df, first, last - h + pd.Timedelta("1ns"), step=step, horizon=h)
    if not origins:
        raise ConfigError(f"no backtest origin between {first} and {last} has data; choose --start/--end inside the "
                          "lake's period.", key="start")
    grid = _grid(df[df["t"] < origins[0]] if (df["t"] < origins[0]).any() else df, cell_size, frame, study)
    results = run_backtest(specs, df, grid, origins, h, training_days=history_days,
                           coverages=COVERAGES if coverages is None else coverages, hot_areas=hot_areas_m2,
                           study_area=study, ties=ties)
    summary = summarize(results, baseline="naive" if "naive" in models else None)
    return {"results": results, "summary": summary, "origins": origins, "grid": grid}


@dataclass
class PatrolResult:
    """A patrol plan with its per-unit areas, stop schedule (with lon/lat) and cells (with WGS-84 polygons)."""

    plan: Any
    areas: pd.DataFrame
    schedule: pd.DataFrame
    cells: pd.DataFrame
    cell_geoms: Any
    day: pd.Timestamp
    shift: Any


def patrol_plan(dep: Deployment, lake: Lake, *, station: str, shift: str, units: int, date: Any = None,
                model: str = "prospective", category: str | None = None, shift_weight: float | None = None,
                cell_size: float = 150.0, max_cells: int = 20, speed_kmh: float = 15.0,
                history_days: int = 365) -> PatrolResult:
    """Patrol areas and a Koper-curve stop schedule for one station and shift."""
    from anju.forecast import Window, parse_shift
    from anju.forecast.patrol import plan_patrol
    from anju.geo.geojson import cells_wgs84

    sh = parse_shift(shift)
    if sh is None:
        raise ConfigError("a patrol plan needs a shift (--shift 早班|中班|夜班 or 22-06)", key="shift")
    sel = Selection(category=category, station=station)
    day = pd.Timestamp(date).normalize() if date else day_after_last(dep, lake, sel)
    cutoff = day + pd.Timedelta(hours=sh.start_hour)  # everything known at the shift's start
    df, crs = _events(dep, lake, category, station, day - pd.Timedelta(days=history_days), cutoff)
    from anju.forecast.events import refuse_shift_on_dates

    refuse_shift_on_dates(df["t"], shift)
    grid = _grid(df, cell_size)
    m = make_cli_model(model, family=_family(dep, category, lake), shift=shift, cell_size=cell_size,
                       shift_weight=shift_weight).fit(df)
    window = Window(day + pd.Timedelta(hours=sh.start_hour), day + pd.Timedelta(hours=sh.start_hour + sh.hours))
    surface = m.predict(grid, window)
    plan = plan_patrol(surface, grid, units, shift=sh, date=day, max_cells=max_cells, speed_kmh=speed_kmh)
    sched = plan.schedule.copy()
    sched["lon"], sched["lat"] = _lonlat(crs, sched["x"].to_numpy(), sched["y"].to_numpy())
    cells = plan.cells_frame()
    return PatrolResult(plan, plan.areas_frame(), sched, cells, cells_wgs84(grid, cells["cell_id"].to_numpy(), crs),
                        day, sh)


def area_names(lake: Lake, column: str) -> dict[str, str]:
    """Display names of an area column's ids (``community_id`` → the community layer); empty when not loaded."""
    try:
        t = lake.areas(column.removesuffix("_id")).select("area_id", "name").to_pandas()
    except DataNotFoundError:  # names are cosmetic: a lake without area layers still gets its tables
        return {}
    return {str(a): str(n) for a, n in zip(t["area_id"], t["name"], strict=True) if n is not None}


def alerts(dep: Deployment, lake: Lake, *, on: Any = None, by: list[str] | None = None, weeks: int = 8,
           lang: str | None = None) -> pd.DataFrame:
    """Alert levels 0–3 per unit (default community and station) on day ``on`` (default: the last day with
    incidents) against a Poisson control limit, with the units' names."""
    from anju.analytics._common import area_column
    from anju.forecast.alerts import alert_levels

    table = lake.incidents()
    if on:
        day = pd.Timestamp(on)
    else:
        last = table.reported_at.max().to_pandas()
        if last is None or pd.isna(last):
            raise DataNotFoundError(f"the lake in {dep.data_dir} has no incidents; import some with `anju ingest` "
                                    "first (or pass --on)",
                                    zh=f"{dep.data_dir} 的数据湖中没有警情；请先用 `anju ingest` 导入数据")
        day = pd.Timestamp(last).normalize()
    levels = [area_column(b) or b for b in (by or ["community", "station"])]
    res = alert_levels(table, on=day, by=levels, weeks=weeks, lang=lang or dep.lang, taxonomy=dep.taxonomy)
    names = {col: area_names(lake, col) for col in levels}
    res.insert(2, "unit_name", [names[c].get(u, "") for c, u in zip(res["unit_level"], res["unit_id"], strict=True)])
    res.attrs["day"] = day
    return res


def sangao(dep: Deployment, lake: Lake, period: Any, *, station: str | None = None, area: str = "community",
           hour_band: int = 2, top: int = 10, lang: str | None = None) -> Any:
    """三高 (sangao, "three highs"): the top areas × hour bands × categories of a station and period, with the
    areas' names in ``.attrs``-free ``names``."""
    from anju.analytics._common import area_column
    from anju.forecast.threehighs import three_highs
    from anju.services.lake import resolve_period

    p = resolve_period(lake, period)
    col = area_column(area) or "community_id"
    th = three_highs(lake.incidents(), start=p.start_datetime, end=p.end_datetime, station=station,
                     area_col=col, hour_band=hour_band, top=top, lang=lang or dep.lang, taxonomy=dep.taxonomy)
    return th, area_names(lake, col), p
