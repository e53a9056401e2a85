"""The boosted model (gradient boosting over lagged cell counts) and the default choice on synthetic histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anju.forecast import BoostedHotspot, backtest
from anju.forecast.selection import candidates, choose, is_baseline
from anju.geo.regular_grid import RegularGrid

CELL = 150.0
SIDE = 20
START = pd.Timestamp("2022-01-01")


def seasonal_history(days: int, seed: int, *, amplitude: float) -> pd.DataFrame:
    """Per-cell daily rates with a yearly cycle: half the busy cells peak in summer, half in winter (amplitude 0:
    no cycle, the rates are constant in time). Only a model that looks at the same season last year (or learns
    from the recent change) can tell which cells are in season."""
    rng = np.random.default_rng(seed)
    base = rng.lognormal(-2.5, 1.0, SIDE * SIDE)
    phase = np.where(rng.random(SIDE * SIDE) < 0.5, 0.0, np.pi)
    doy = (START + pd.to_timedelta(np.arange(days), unit="D")).day_of_year.to_numpy()
    season = 1.0 + amplitude * np.sin(2 * np.pi * doy[:, None] / 365.25 + phase[None, :])
    per_day = rng.poisson(base[None, :] * season)
    day, cell = np.nonzero(per_day)
    reps = per_day[day, cell]
    day, cell = np.repeat(day, reps), np.repeat(cell, reps)
    iy, ix = np.divmod(cell, SIDE)
    x = (ix + rng.uniform(size=ix.size)) * CELL
    y = (iy + rng.uniform(size=iy.size)) * CELL
    t = START + pd.to_timedelta(day + rng.uniform(size=day.size), unit="D")
    return pd.DataFrame({"x": x, "y": y, "t": t}).sort_values("t", ignore_index=True)


def choice_on(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    g = RegularGrid.from_bounds(0, 0, SIDE * CELL - 1, SIDE * CELL - 1, CELL)
    origins = list(pd.date_range("2024-03-04", periods=8, freq="28D"))  # eight 4-week windows, spring to autumn
    models = candidates(CELL, boost=True)
    assert "boost" in models and "boost" not in candidates(CELL)
    res = backtest(models, df, g, origins, "28D", coverages=[0.05], ties="cell_id", training_days=1095)
    choice = choose(res, models)
    assert choice.pai >= choice.best_naive_pai  # never below the best naive baseline
    return choice


def test_default_picks_boosting_when_the_season_matters() -> None:
    """A strong yearly cycle per cell: boosting over lagged counts (same season last year, recent weeks) beats every
    naive lookback and the blends, and the default choice picks it."""
    choice = choice_on(seasonal_history(365 * 2 + 300, seed=1, amplitude=0.9))
    assert choice.name == "boost", choice.table.head(6)
    assert choice.pai > choice.best_naive_pai * 1.02 and choice.wins > 0.5


def test_default_stays_naive_without_a_signal_beyond_counts() -> None:
    """Constant per-cell rates: the long counts are the best forecast; boosting must not be chosen over them."""
    choice = choice_on(seasonal_history(365 * 2 + 300, seed=2, amplitude=0.0))
    assert choice.name != "boost"
    assert is_baseline(choice.name) or choice.name.startswith("blend")


def test_boosting_needs_history_and_falls_back_to_counts() -> None:
    """With too little history for two pseudo-origins the model ranks by the one-year counts (no crash)."""
    df = seasonal_history(40, seed=3, amplitude=0.0)
    g = RegularGrid.from_bounds(0, 0, SIDE * CELL - 1, SIDE * CELL - 1, CELL)
    m = BoostedHotspot().fit(df)
    risk = m.predict(g, (START + pd.Timedelta(days=40), START + pd.Timedelta(days=47)))
    counts = g.counts(df["x"], df["y"])
    assert np.array_equal(np.argsort(-risk.ravel(), kind="stable")[:20], np.argsort(-counts.ravel(), kind="stable")[:20])


@pytest.mark.parametrize("bad", [{"n_origins": 0}, {"learning_rate": 0.0}, {"max_rows": 0}])
def test_bad_parameters_are_refused(bad: dict[str, float]) -> None:
    from anju.errors import ConfigError

    df = seasonal_history(60, seed=4, amplitude=0.0)
    with pytest.raises(ConfigError):
        BoostedHotspot(**bad).fit(df)  # type: ignore[arg-type]
