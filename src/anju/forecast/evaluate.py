"""Scoring forecast surfaces the same way for every model: hit rate, PAI and PEI at fixed area coverages, and
rolling-origin backtests.

For a coverage ``c`` the ``k = round(c · A_cells)`` highest-risk active cells are "flagged":

* hit rate ``n / N`` — share of the window's events that fall in flagged cells;
* PAI (Chainey, Tompson & Uhlig 2008) ``(n / N) / (a / A)`` — hit rate per share of area;
* PEI (Hunt 2016) ``n / n*`` — hits over the most any ``k`` cells could have caught (the ``k`` cells with the most
  events), so 0 ≤ PEI ≤ 1 and a perfect forecast scores 1.

Ties at the cut-off are broken in expectation: when several cells share the k-th value, each of them counts with
the probability a random tie-break would flag it. A constant surface therefore scores exactly the random
expectation (PAI = 1), and no model gains from an arbitrary ordering of equal cells.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from anju.errors import ConfigError
from anju.forecast.base import ForecastModel, clone
from anju.forecast.events import Window, as_events, to_days
from anju.geo.regular_grid import RegularGrid

__all__ = [
    "COVERAGES",
    "backtest",
    "coverage_scores",
    "observed_origins",
    "rolling_origins",
    "summarize",
]

COVERAGES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20)


def coverage_scores(
    surface: np.ndarray,
    grid: RegularGrid,
    events: Any,
    *,
    coverages: Sequence[float] = COVERAGES,
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
        Shares of the study area to flag (0 < c ≤ 1).

    Returns
    -------
    DataFrame with columns coverage, cells, area_share, n, N, hit_rate, pai, n_star, pei.

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
    for c in coverages:
        if not 0 < c <= 1:
            raise ConfigError(f"coverages must lie in (0, 1]. Got {c!r}.", key="coverages")
    if isinstance(events, tuple) and len(events) == 2:
        x, y = np.asarray(events[0], float), np.asarray(events[1], float)
    else:
        ev = as_events(events)
        x, y = ev.x, ev.y
    active = grid.mask.ravel()
    counts = grid.counts(x, y).ravel()[active]
    risk = np.nan_to_num(surface.ravel()[active], nan=-np.inf)
    n_active = risk.size
    big_n = int(counts.sum())
    order = np.argsort(-risk, kind="stable")
    risk_sorted = risk[order]
    counts_sorted = counts[order]
    cum_counts = np.concatenate([[0.0], np.cumsum(counts_sorted)])
    best = np.concatenate([[0.0], np.cumsum(np.sort(counts)[::-1])])
    rows = []
    for c in coverages:
        k = int(min(n_active, max(1, round(c * n_active))))
        v = risk_sorted[k - 1]
        first = int(np.searchsorted(-risk_sorted, -v, side="left"))  # first position holding value v
        last = int(np.searchsorted(-risk_sorted, -v, side="right"))  # one past the last
        tied_hits = cum_counts[last] - cum_counts[first]
        n = cum_counts[first] + (k - first) / (last - first) * tied_hits
        n_star = best[k]
        hit = n / big_n if big_n else np.nan
        share = k / n_active
        rows.append({
            "coverage": float(c),
            "cells": k,
            "area_share": share,
            "n": float(n),
            "N": big_n,
            "hit_rate": hit,
            "pai": hit / share if big_n else np.nan,
            "n_star": float(n_star),
            "pei": n / n_star if n_star > 0 else np.nan,
        })
    return pd.DataFrame(rows)


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
    h = pd.Timedelta(horizon) / pd.Timedelta("1D")
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
            df = coverage_scores(surface, grid, target, coverages=coverages)
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
    g = results.groupby(["model", "coverage"], sort=False)
    out = g.agg(
        origins=("origin", "nunique"),
        N=("N", "sum"),
        hits=("n", "sum"),
        hit_rate=("hit_rate", "mean"),
        pai=("pai", "mean"),
        pai_sd=("pai", "std"),
        pei=("pei", "mean"),
        area_share=("area_share", "first"),
        fit_seconds=("fit_seconds", "mean"),
    ).reset_index()
    out["pai_pooled"] = (out["hits"] / out["N"]) / out["area_share"]
    out["pai_se"] = out["pai_sd"] / np.sqrt(out["origins"])
    if baseline is not None:
        if baseline not in set(results["model"]):
            raise ConfigError(f"baseline {baseline!r} is not among the models {sorted(set(results['model']))}.",
                              key="baseline")
        base = out[out["model"] == baseline].set_index("coverage")["pai_pooled"]
        out["pai_vs_baseline"] = out["pai_pooled"] / out["coverage"].map(base)
        piv = results.pivot_table(index=["origin", "coverage"], columns="model", values="pai")
        wins = {m: (piv[m] > piv[baseline]).groupby(level="coverage").mean() for m in piv.columns}
        out["wins"] = [float(wins[m].get(c, np.nan)) for m, c in zip(out["model"], out["coverage"], strict=True)]
    return out.drop(columns=["pai_sd"])

