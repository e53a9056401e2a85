"""The default model earns its place: auto-selection on synthetic histories with known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anju.forecast import backtest
from anju.forecast.selection import candidates, choose, is_baseline
from anju.geo.regular_grid import RegularGrid

CELL = 150.0
SIDE = 20  # 20 × 20 cells of 150 m


def history(rate: np.ndarray, days: int, seed: int) -> pd.DataFrame:
    """Events from a fixed per-cell daily rate (no change over time), uniform inside their cell, midnight dates."""
    rng = np.random.default_rng(seed)
    per_day = rng.poisson(np.broadcast_to(rate.ravel(), (days, rate.size)))
    day, cell = np.nonzero(per_day)
    reps = per_day[day, cell]
    day, cell = np.repeat(day, reps), np.repeat(cell, reps)
    iy, ix = np.divmod(cell, SIDE)
    x = (ix + rng.uniform(size=ix.size)) * CELL
    y = (iy + rng.uniform(size=iy.size)) * CELL
    t = pd.Timestamp("2023-01-01") + pd.to_timedelta(day, unit="D")
    return pd.DataFrame({"x": x, "y": y, "t": t})


def run(df: pd.DataFrame) -> tuple[str, float, float, float]:
    g = RegularGrid.from_bounds(0, 0, SIDE * CELL - 1, SIDE * CELL - 1, CELL)
    origins = list(pd.date_range("2024-02-05", periods=8, freq="28D"))  # eight 4-week windows
    models = candidates(CELL)
    res = backtest(models, df, g, origins, "28D", coverages=[0.05], ties="cell_id", training_days=365)
    choice = choose(res, models)
    assert choice.origins == 8 and set(choice.table["model"]) == set(models)
    assert choice.pai >= choice.best_naive_pai  # never below the best naive baseline
    return choice.name, choice.pai, choice.best_naive_pai, choice.wins


def test_picks_naive_when_counts_carry_all_the_signal() -> None:
    """Independent per-cell rates (no spatial smoothness, no change in time): cell counts are the best forecast."""
    rng = np.random.default_rng(3)
    rate = rng.lognormal(-3.0, 1.6, (SIDE, SIDE))
    name, pai, best, _ = run(history(rate, 620, seed=4))
    assert name.startswith("naive") and is_baseline(name)
    assert pai == best


def test_picks_a_smoothing_model_when_risk_is_spatially_smooth() -> None:
    """Sparse events around smooth hot spots: smoothing the counts beats the raw counts."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    rate = sum(np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 3.0**2)) for cx, cy in [(5, 5), (14, 12), (4, 15)])
    rate = 0.02 * rate + 0.001
    name, pai, best, wins = run(history(rate, 620, seed=5))
    assert not is_baseline(name)
    assert pai > best * 1.05 and wins >= 0.5


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explanation_names_winner_and_margin(lang: str) -> None:
    rng = np.random.default_rng(3)
    df = history(rng.lognormal(-3.0, 1.6, (SIDE, SIDE)), 490, seed=4)
    g = RegularGrid.from_bounds(0, 0, SIDE * CELL - 1, SIDE * CELL - 1, CELL)
    models = candidates(CELL)
    res = backtest(models, df, g, list(pd.date_range("2024-03-04", periods=3, freq="7D")), "7D", coverages=[0.05])
    choice = choose(res, models)
    text = choice.explain(lang)
    assert choice.name in text and str(choice.origins) in text


def run_long(df: pd.DataFrame) -> tuple[str, pd.Series]:
    """The choice among the candidates with five- and seven-year memory, on eight 4-week windows of 2029."""
    from anju.forecast.selection import LONG_HISTORY_DAYS

    g = RegularGrid.from_bounds(0, 0, SIDE * CELL - 1, SIDE * CELL - 1, CELL)
    origins = list(pd.date_range("2029-02-05", periods=8, freq="28D"))
    models = candidates(CELL, long_memory=True)
    assert {"naive-1825d", "naive-2555d"} <= set(models) and set(candidates(CELL)) < set(models)
    res = backtest(models, df, g, origins, "28D", coverages=[0.05], ties="cell_id", training_days=LONG_HISTORY_DAYS)
    choice = choose(res, models)
    assert choice.pai >= choice.best_naive_pai
    return choice.name, res.groupby("model")["pai"].mean()


def test_long_memory_picks_long_counts_when_counts_carry_all_the_signal() -> None:
    """Constant independent per-cell rates over seven years: seven years of counts estimate them best, and no
    smoothing model earns the default."""
    rng = np.random.default_rng(3)
    rate = rng.lognormal(-3.6, 1.6, (SIDE, SIDE))
    name, pai = run_long(history(rate, 2557 + 300, seed=4))
    assert is_baseline(name) and name in ("naive-1825d", "naive-2555d")
    assert pai["naive-2555d"] > pai["naive-1095d"]  # the longer lookbacks really see the older years

