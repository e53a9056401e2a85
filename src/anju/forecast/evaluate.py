"""Scoring forecast surfaces the same way for every model: hit rate, PAI and PEI at fixed area coverages, and
rolling-origin backtests.

For a coverage ``c`` the ``k = round(c · A_cells)`` highest-risk active cells are "flagged":

* hit rate ``n / N`` — share of the window's events that fall in flagged cells;
* PAI (Chainey, Tompson & Uhlig 2008) ``(n / N) / (a / A)`` — hit rate per share of area;
* PEI (Hunt 2016) ``n / n*`` — hits over the most any ``k`` cells could have caught (the ``k`` cells with the most
  events), so 0 ≤ PEI ≤ 1 and a perfect forecast scores 1.

Coverage is a share of the study area or an area budget (``hot_areas`` in m², area-capped: cells are flagged in
rank order while their area fits). With a study-area polygon, cells are clipped to it: ``A`` is the polygon's area
and ``a`` the flagged cells' area inside it (docs/methods/forecast-scoring.md).

Ties at the cut-off follow a documented rule, reported per row (``tied``, ``tied_flagged``): ``ties="cell_id"``
flags tied cells in ascending cell id (a real, reproducible map, as competitions score); ``ties="expected"`` counts
each tied cell with the probability a random tie-break would flag it, so a constant surface scores exactly the
random expectation (PAI = 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from anju.errors import ConfigError
from anju.forecast.base import ForecastModel, clone
from anju.forecast.events import Window, as_events, parse_horizon, to_days
from anju.geo.regular_grid import RegularGrid

__all__ = [
    "AREA_UNITS",
    "COVERAGES",
    "NIJ_PRESET",
    "TIES",
    "backtest",
    "cell_areas",
    "coverage_scores",
    "observed_origins",
    "parse_area",
    "rolling_origins",
    "summarize",
]

COVERAGES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20)


TIES = ("cell_id", "expected")


def cell_areas(grid: RegularGrid, study_area: Any = None) -> np.ndarray:
    """Area in m² of every cell of ``grid`` that counts (flat id order): the whole cell for masked-in cells, or the
    part of the cell inside ``study_area`` (a shapely (multi)polygon in the grid's metric CRS) when one is given.

    With a study area the cells are clipped to it, so the total is the study area's size ``A`` (where the grid covers
    it), not the area of whichever cells happened to hold events.
    """
    w = np.where(grid.mask.ravel(), grid.cell_area_m2, 0.0)
    if study_area is None:
        return w
    import shapely

    ids = np.flatnonzero(w > 0)
    out = np.zeros(grid.n_cells)
    shapely.prepare(study_area)
    boxes = grid.boxes(ids)
    inside = shapely.contains_properly(study_area, boxes)  # whole cells: no clipping needed
    out[ids[inside]] = grid.cell_area_m2
    edge = ~inside & shapely.intersects(study_area, boxes)
    if edge.any():
        out[ids[edge]] = shapely.area(shapely.intersection(boxes[edge], study_area))
    return out


def coverage_scores(
    surface: np.ndarray,
    grid: RegularGrid,
    events: Any,
    *,
    coverages: Sequence[float] = COVERAGES,
    hot_areas: Sequence[float] = (),
    study_area: Any = None,
    ties: str = "expected",
    areas: np.ndarray | None = None,
) -> pd.DataFrame:
    """Hit rate, PAI and PEI of a risk surface against the events of the forecast window.

    Parameters
    ----------
    surface : ndarray, shape ``grid.shape``
        Any risk score per cell (higher = riskier).
    grid : RegularGrid
        Only active (masked-in) cells count as area; events outside them are ignored.
    events : DataFrame, EventArrays or ``(x, y)`` pair
        The events that happened in the window.
    coverages : sequence of float
        Shares of the study area to flag (0 < c ≤ 1). Without a study area a share flags ``round(c · cells)``
        cells; with one it is an area budget ``c · A`` like ``hot_areas``.
    hot_areas : sequence of float
        Area budgets in m² (``--hot-area 0.75mi2``): the highest-risk cells are flagged in rank order while their
        (clipped) area stays within the budget (area-capped, as in the NIJ challenge rules).
    study_area : shapely (multi)polygon, optional
        The study area in the grid's metric CRS (a loaded area layer). ``A`` is its area, the flagged area ``a`` is
        clipped to it and only events inside it count (``N``). Default: the active cells.
    ties : {"expected", "cell_id"}
        Cells with the cut-off's risk value that do not all fit: ``"cell_id"`` flags them in ascending cell id
        (row-major from the south-west corner: a real, reproducible map); ``"expected"`` counts each with the
        probability a random tie-break would flag it (a constant surface scores exactly PAI = 1). Either way the
        columns ``tied`` (cells sharing the cut-off value) and ``tied_flagged`` (how many of them were flagged)
        report the ties.
    areas : ndarray, optional
        ``cell_areas(grid, study_area)`` computed once, for scoring many surfaces on one grid (backtests).

    Returns
    -------
    DataFrame with columns coverage, hot_area_m2, cells, area_m2, area_share, n, N, hit_rate, pai, n_star, pei,
    tied, tied_flagged (``coverage`` is NaN for rows of ``hot_areas``, ``hot_area_m2`` the budget).

    Examples
    --------
    >>> g = RegularGrid.from_bounds(0, 0, 999, 999, 100)  # 100 cells
    >>> surface = np.zeros(g.shape); surface[0, 0] = 1.0
    >>> ev = (np.array([50.0, 50.0, 950.0]), np.array([50.0, 50.0, 950.0]))
    >>> coverage_scores(surface, g, ev, coverages=[0.01])[["n", "N", "hit_rate", "pai", "pei"]].round(3).to_dict("records")
    [{'n': 2.0, 'N': 3, 'hit_rate': 0.667, 'pai': 66.667, 'pei': 1.0}]
    """
    surface = np.asarray(surface, dtype=float)
    if surface.shape != grid.shape:
        raise ConfigError(f"surface must have the grid's shape {grid.shape}. Got {surface.shape}.", key="surface")
    if ties not in TIES:
        raise ConfigError(f"ties must be one of {list(TIES)}. Got {ties!r}.", key="ties")
    for c in coverages:
        if not 0 < c <= 1:
            raise ConfigError(f"coverages must lie in (0, 1]. Got {c!r}.", key="coverages")
    for h in hot_areas:
        if not (np.isfinite(h) and h > 0):
            raise ConfigError(f"hot areas must be positive areas in m². Got {h!r}.", key="hot_area")
    if isinstance(events, tuple) and len(events) == 2:
        x, y = np.asarray(events[0], float), np.asarray(events[1], float)
    else:
        ev = as_events(events)
        x, y = ev.x, ev.y
    if study_area is not None and len(x):
        import shapely

        inside = shapely.contains_xy(study_area, x, y)
        x, y = x[inside], y[inside]
    weights = cell_areas(grid, study_area) if areas is None else np.asarray(areas, dtype=float)
    ids = np.flatnonzero(weights > 0)
    w = weights[ids]
    counts = grid.counts(x, y).ravel()[ids]
    risk = np.nan_to_num(surface.ravel()[ids], nan=-np.inf)
    n_active = risk.size
    big_a = float(w.sum())
    big_n = int(counts.sum())
    order = np.lexsort((ids, -risk))  # risk descending, then cell id ascending (the deterministic tie rule)
    risk_sorted = risk[order]
    counts_sorted = counts[order]
    cum_counts = np.concatenate([[0.0], np.cumsum(counts_sorted)])
    cum_area = np.concatenate([[0.0], np.cumsum(w[order])])
    best = np.concatenate([[0.0], np.cumsum(np.sort(counts)[::-1])])
    budgets: list[tuple[float, float]] = []
    for c in coverages:
        budgets.append((float(c), float("nan") if study_area is None else c * big_a))
    budgets.extend((float("nan"), float(h)) for h in hot_areas)
    rows = []
    for c, budget in budgets:
        if np.isnan(budget):
            k = int(min(n_active, max(1, round(c * n_active))))
        else:
            k = int(np.searchsorted(cum_area, budget * (1 + 1e-12), side="right")) - 1
        if k < 1:
            raise ConfigError(f"hot area {budget:,.0f} m² is smaller than one cell ({grid.cell_area_m2:,.0f} m²); "
                              "use a larger hot area or smaller cells.", key="hot_area")
        v = risk_sorted[k - 1]
        first = int(np.searchsorted(-risk_sorted, -v, side="left"))  # first position holding value v
        last = int(np.searchsorted(-risk_sorted, -v, side="right"))  # one past the last
        if ties == "expected":
            tied_hits = cum_counts[last] - cum_counts[first]
            n = cum_counts[first] + (k - first) / (last - first) * tied_hits
        else:
            n = cum_counts[k]
        a = float(cum_area[k])
        n_star = best[k]
        hit = n / big_n if big_n else np.nan
        share = a / big_a
        rows.append({
            "target": f"{c:.4g}" if not np.isnan(c) else f"{budget:.0f} m²",
            "coverage": c,
            "hot_area_m2": budget if not np.isnan(budget) else c * big_a,
            "cells": k,
            "area_m2": a,
            "area_share": share,
            "n": float(n),
            "N": big_n,
            "hit_rate": hit,
            "pai": hit / share if big_n else np.nan,
            "n_star": float(n_star),
            "pei": n / n_star if n_star > 0 else np.nan,
            "tied": last - first,
            "tied_flagged": k - first,
        })
    return pd.DataFrame(rows)


#: Square metres per unit of the area units ``--hot-area`` accepts.
AREA_UNITS: dict[str, float] = {
    "m2": 1.0,
    "ha": 1e4,
    "km2": 1e6,
    "ft2": 0.3048**2,
    "mi2": 1609.344**2,
}

#: The NIJ Real-Time Crime Forecasting Challenge (2016–17) rules: cells of 62,500–360,000 ft² (250–600 ft edges),
#: total hot area 0.25–0.75 mi². The preset takes the upper ends (600 ft cells, 0.75 mi²).
NIJ_PRESET = {"cell_size_m": 600 * 0.3048, "hot_area_m2": 0.75 * 1609.344**2}


def parse_area(text: str) -> float:
    """An area such as ``"0.75mi2"``, ``"1.9km2"``, ``"5ha"``, ``"62500ft2"`` or ``"2000m2"`` in m².

    >>> round(parse_area("0.75mi2")), round(parse_area("1.9 km²")), parse_area("nij") == NIJ_PRESET["hot_area_m2"]
    (1942491, 1900000, True)
    """
    t = str(text).strip().lower().replace("²", "2").replace(" ", "")
    if t == "nij":
        return float(NIJ_PRESET["hot_area_m2"])
    for unit in sorted(AREA_UNITS, key=len, reverse=True):
        if t.endswith(unit):
            try:
                value = float(t[: -len(unit)])
            except ValueError:
                break
            if not (np.isfinite(value) and value > 0):
                break
            return value * AREA_UNITS[unit]
    raise ConfigError(f"--hot-area {text!r}: expected a positive area with a unit ({', '.join(AREA_UNITS)}), e.g. "
                      "0.75mi2 or 1.9km2, or the preset nij.", key="hot_area")


def rolling_origins(start: Any, end: Any, step: Any = "7D") -> list[pd.Timestamp]:
    """Origins ``start, start + step, …`` strictly before ``end``."""
    return list(pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=pd.Timedelta(step), inclusive="left"))


def observed_origins(events: Any, start: Any, end: Any, *, step: Any = "7D", horizon: Any = "7D",
                     min_share: float = 0.5) -> list[pd.Timestamp]:
    """Rolling origins whose window actually holds data.

    A window is kept when its event count is at least ``min_share`` of the median over all candidate windows, so
    weeks missing from a source (the Kaggle San Francisco training set keeps only alternate weeks) are not scored
    as if nothing had happened.
    """
    ev = as_events(events)
    cands = rolling_origins(start, end, step)
    if not cands:
        return []
    h = parse_horizon(horizon) / pd.Timedelta("1D")
    starts = to_days(pd.Series(cands))
    t = np.sort(ev.t)
    n = np.searchsorted(t, starts + h) - np.searchsorted(t, starts)
    med = float(np.median(n))
    return [o for o, k in zip(cands, n, strict=True) if k > 0 and k >= min_share * med]


ModelSpec = ForecastModel | Callable[[], ForecastModel]


def _make(spec: ModelSpec) -> ForecastModel:
    if isinstance(spec, ForecastModel):
        return clone(spec)
    model = spec()
    if not isinstance(model, ForecastModel):
        raise ConfigError(f"model factory must return a ForecastModel. Got {type(model).__name__}.", key="model")
    return model


def backtest(
    model_factory: ModelSpec | Mapping[str, ModelSpec],
    events: Any,
    grid: RegularGrid,
    origins: Iterable[Any],
    horizon: Any = "7D",
    *,
    coverages: Sequence[float] = COVERAGES,
    training_days: float | None = None,
    hot_areas: Sequence[float] = (),
    study_area: Any = None,
    ties: str = "expected",
) -> pd.DataFrame:
    """Rolling-origin evaluation: at each origin fit on the past, forecast ``[origin, origin + horizon)``, score.

    Parameters
    ----------
    model_factory : model, callable returning a model, or mapping name → either
        A fresh model is made (or cloned) for every origin.
    events : DataFrame or EventArrays
        All events (x, y, t, optional family).
    grid : RegularGrid
    origins : iterable of timestamps
    horizon : str or Timedelta
        Length of each forecast window (e.g. ``"7D"``, ``"1D"``).
    coverages : sequence of float
    training_days : float, optional
        Use only the last ``training_days`` before each origin for fitting (default: all of the past).
    hot_areas, study_area, ties
        Passed to :func:`coverage_scores`.

    Returns
    -------
    Long table: model, origin, coverage, cells, area_share, n, N, hit_rate, pai, n_star, pei, fit_seconds,
    predict_seconds. Each model is scored against its own target events (its family, inside its shift).
    """
    specs: Mapping[str, ModelSpec]
    if isinstance(model_factory, Mapping):
        specs = model_factory
    else:
        probe = _make(model_factory)
        specs = {type(probe).__name__: model_factory}
    ev = as_events(events)
    order = np.argsort(ev.t, kind="stable")
    ev = ev.take(order)
    areas = cell_areas(grid, study_area)
    if study_area is not None:
        import shapely

        shapely.prepare(study_area)  # many point-in-polygon tests against one boundary
    frames = []
    for origin in origins:
        window = Window.from_origin(origin, horizon)
        s, e = window.start_days, window.end_days
        lo = -np.inf if training_days is None else s - float(training_days)
        i0, i1, i2 = np.searchsorted(ev.t, [lo, s, e])
        train = ev.take(np.arange(i0, i1))
        test = ev.take(np.arange(i1, i2))
        if len(train) == 0:
            continue
        for name, spec in specs.items():
            model = _make(spec)
            t0 = time.perf_counter()
            model.fit(train)
            t1 = time.perf_counter()
            surface = model.predict(grid, window)
            t2 = time.perf_counter()
            target = model.target_events(test)
            df = coverage_scores(surface, grid, target, coverages=coverages, hot_areas=hot_areas,
                                 study_area=study_area, ties=ties, areas=areas)
            df.insert(0, "origin", window.start)
            df.insert(0, "model", name)
            df["fit_seconds"] = t1 - t0
            df["predict_seconds"] = t2 - t1
            frames.append(df)
    if not frames:
        raise ConfigError("backtest had no origin with training data before it; check origins and events.",
                          key="origins")
    return pd.concat(frames, ignore_index=True)


def summarize(results: pd.DataFrame, *, baseline: str | None = None) -> pd.DataFrame:
    """Per model and coverage: mean hit rate, PAI and PEI over origins, pooled PAI, and PAI relative to a baseline.

    The pooled PAI is ``(Σn / ΣN) / (a / A)`` over all windows (robust to windows with few events); the mean PAI
    averages the per-window values (windows without events are skipped). ``pai_vs_baseline`` is the model's pooled
    PAI divided by the baseline model's; ``wins`` is the share of origins where the model's PAI beats the baseline.
    """
    g = results.groupby(["model", "target"], sort=False)
    out = g.agg(
        coverage=("coverage", "first"),
        hot_area_m2=("hot_area_m2", "first"),
        origins=("origin", "nunique"),
        N=("N", "sum"),
        hits=("n", "sum"),
        hit_rate=("hit_rate", "mean"),
        pai=("pai", "mean"),
        pai_sd=("pai", "std"),
        pei=("pei", "mean"),
        area_share=("area_share", "mean"),
        tied=("tied", "mean"),
        fit_seconds=("fit_seconds", "mean"),
    ).reset_index()
    out["pai_pooled"] = (out["hits"] / out["N"]) / out["area_share"]
    out["pai_se"] = out["pai_sd"] / np.sqrt(out["origins"])
    if baseline is not None:
        if baseline not in set(results["model"]):
            raise ConfigError(f"baseline {baseline!r} is not among the models {sorted(set(results['model']))}.",
                              key="baseline")
        base = out[out["model"] == baseline].set_index("target")["pai_pooled"]
        out["pai_vs_baseline"] = out["pai_pooled"] / out["target"].map(base)
        piv = results.pivot_table(index=["origin", "target"], columns="model", values="pai")
        wins = {m: (piv[m] > piv[baseline]).groupby(level="target").mean() for m in piv.columns}
        out["wins"] = [float(wins[m].get(c, np.nan)) for m, c in zip(out["model"], out["target"], strict=True)]
    return out.drop(columns=["pai_sd"])

