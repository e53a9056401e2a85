"""Backtests on the public data (subsets, to stay quick): every model beats random at 5 % coverage, PEI ≤ 1.

The full study is ``python benchmarks/bench_forecast.py --study all`` (docs/forecasting.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from anju.forecast import (
    SEPP,
    NaiveHotspot,
    ProspectiveHotspot,
    RandomHotspot,
    RetrospectiveHotspot,
    SpaceTimeKDE,
    backtest,
    observed_origins,
    rolling_origins,
    summarize,
)
from anju.forecast.datasets import chicago_boundary, load_chicago_assaults, load_sf_kaggle
from anju.geo.regular_grid import RegularGrid

pytestmark = pytest.mark.slow

MODELS = {
    "naive": NaiveHotspot(),
    "random": RandomHotspot(random_state=0),
    "retrospective": RetrospectiveHotspot(lookback_days=180.0),
    "prospective": ProspectiveHotspot(),
    "kde": SpaceTimeKDE(lookback_days=180.0),
    "sepp": SEPP(lookback_days=120.0),
}


def check(res: pd.DataFrame) -> pd.DataFrame:
    assert (res["pei"].dropna() <= 1.0 + 1e-12).all()
    assert (res["hit_rate"].dropna() <= 1.0 + 1e-12).all()
    s = summarize(res, baseline="naive").set_index(["model", "coverage"])
    rand = s.loc[("random", 0.05), "pai_pooled"]
    assert 0.5 < rand < 1.6  # the random baseline is what it claims
    for model in MODELS:
        if model == "random":
            continue
        assert s.loc[(model, 0.05), "pai_pooled"] > 1.0, model
        assert s.loc[(model, 0.05), "pai_pooled"] > rand, model
        assert s.loc[(model, 0.01), "pei"] > s.loc[("random", 0.01), "pei"], model
    return s


def test_sf_kaggle_observed_weeks(shared_data: Path) -> None:
    ev = load_sf_kaggle(shared_data / "sf-crime-kaggle" / "train.csv.gz", start="2013-07-01", end="2014-03-01")
    assert ev["x"].between(540_000, 560_000).all()  # UTM 10N metres: the placeholder Y=90 rows are gone
    hist = ev[ev["t"] < pd.Timestamp("2014-01-01")]
    grid = RegularGrid.from_points(hist["x"], hist["y"], 150.0, mask="occupied")
    origins = observed_origins(ev, "2014-01-06", "2014-03-01")
    assert len(origins) == 4  # alternate weeks only: 4 of the 8 candidate weeks hold data
    check(backtest(MODELS, ev, grid, origins, "7D", training_days=200))


def test_chicago_assaults(shared_data: Path) -> None:
    ev = load_chicago_assaults(shared_data / "crimemappingdata-ashby" / "chicago_aggravated_assaults.csv.gz",
                               start="2017-06-01", end="2018-03-01")
    b = chicago_boundary(shared_data / "chicago-boundaries" / "community_areas.geojson")
    grid = RegularGrid.from_bounds(*shapely.bounds(b), 150.0).restrict_to(b)
    assert 24_000 < grid.n_active < 28_000  # Chicago is ~606 km² of land in 150 m cells
    origins = rolling_origins("2018-01-01", "2018-02-26", "14D")
    check(backtest(MODELS, ev, grid, origins, "7D", training_days=200))


def test_tempe_opioid_calls(shared_data: Path) -> None:
    """The Tempe adapter: duplicates dropped, UTM 12N metres, date-only times, and a long-memory map beats random."""
    from anju.forecast.datasets import load_tempe_opioid_calls
    from anju.forecast.events import date_only

    raw = pd.read_csv(shared_data / "crimemappingdata-ashby" / "tempe_opioid_calls.csv")
    ev = load_tempe_opioid_calls(shared_data / "crimemappingdata-ashby" / "tempe_opioid_calls.csv")
    assert len(ev) == len(raw.drop_duplicates()) < len(raw)
    assert ev["x"].between(395_000, 440_000).all() and ev["y"].between(3_680_000, 3_710_000).all()
    assert date_only(ev["t"])  # every call is a date at midnight: per-shift forecasts refuse them
    assert ev["t"].is_monotonic_increasing
    assert set(ev["category"]) == {"narcan", "no narcan", "unknown"}
    grid = RegularGrid.from_points(ev["x"], ev["y"], 150.0, mask="occupied", dilate=1)
    models = {"naive": NaiveHotspot(), "random": RandomHotspot(random_state=0),
              "retrospective": RetrospectiveHotspot(lookback_days=1095.0)}
    res = backtest(models, ev, grid, rolling_origins("2023-01-02", "2024-01-01", "91D"), "91D", training_days=1095)
    s = summarize(res, baseline="naive").set_index(["model", "coverage"])
    assert s.loc[("retrospective", 0.05), "pai_pooled"] > 2 * s.loc[("random", 0.05), "pai_pooled"]
