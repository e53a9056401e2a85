"""Hit rate, PAI and PEI against a brute-force reference; backtests and origin selection."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from fcsynth import make_events

from anju.errors import ConfigError
from anju.forecast import (
    NaiveHotspot,
    ProspectiveHotspot,
    RandomHotspot,
    backtest,
    coverage_scores,
    observed_origins,
    rolling_origins,
    summarize,
)
from anju.geo.regular_grid import RegularGrid


def brute_expected_hits(risk: np.ndarray, counts: np.ndarray, k: int) -> float:
    """Mean hits over every ordering of tied cells (exhaustive: tiny inputs only)."""
    values = np.unique(risk)[::-1]
    groups = [np.flatnonzero(risk == v) for v in values]
    totals = []
    for perms in itertools.product(*[itertools.permutations(g) for g in groups]):
        order = np.concatenate(perms)
        totals.append(counts[order[:k]].sum())
    return float(np.mean(totals))


@pytest.mark.parametrize("seed", range(5))
def test_scores_match_bruteforce_tie_expectation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = RegularGrid.from_bounds(0, 0, 399, 199, 100.0)  # 8 cells
    risk = rng.integers(0, 3, g.shape).astype(float)  # many ties
    counts = rng.integers(0, 4, g.shape)
    xc, yc = g.centres()
    x, y = np.repeat(xc.ravel(), counts.ravel()), np.repeat(yc.ravel(), counts.ravel())
    cov = [0.125, 0.25, 0.5, 1.0]
    df = coverage_scores(risk, g, (x, y), coverages=cov)
    big_n = counts.sum()
    for row, c in zip(df.itertuples(), cov, strict=True):
        k = round(c * 8)
        n = brute_expected_hits(risk.ravel(), counts.ravel(), k)
        best = np.sort(counts.ravel())[::-1][:k].sum()
        assert row.n == pytest.approx(n)
        assert row.hit_rate == pytest.approx(n / big_n)
        assert row.pai == pytest.approx((n / big_n) / (k / 8))
        assert row.n_star == best
        assert row.pei == pytest.approx(n / best)
        assert row.pei <= 1.0 + 1e-12


def test_perfect_constant_and_masked_surfaces() -> None:
    g = RegularGrid.from_bounds(0, 0, 999, 999, 100.0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(300, 80, 500), rng.normal(600, 80, 500)
    truth = g.counts(x, y)
    perfect = coverage_scores(truth, g, (x, y))
    assert np.allclose(perfect["pei"], 1.0)
    flat = coverage_scores(np.ones(g.shape), g, (x, y))
    assert np.allclose(flat["pai"], 1.0)  # ties broken in expectation: exactly the random expectation
    half = np.zeros(g.shape, bool)
    half[:, :5] = True
    gm = g.with_mask(half)
    s = coverage_scores(truth, gm, (x, y), coverages=[0.02])
    inside = g.counts(x, y)[half].sum()
    assert s["N"].iloc[0] == inside and s["cells"].iloc[0] == 1  # area and events of the mask only


def test_input_errors() -> None:
    g = RegularGrid.from_bounds(0, 0, 99, 99, 10.0)
    with pytest.raises(ConfigError, match="shape"):
        coverage_scores(np.zeros((3, 3)), g, (np.zeros(1), np.zeros(1)))
    with pytest.raises(ConfigError, match="coverages"):
        coverage_scores(np.zeros(g.shape), g, (np.zeros(1), np.zeros(1)), coverages=[0.0])


def test_observed_origins_skip_missing_weeks() -> None:
    ev = make_events(4000, days=140, seed=2)
    week = ((ev["t"] - pd.Timestamp("2024-01-01")).dt.days // 7)
    ev = ev[week % 2 == 0]  # every other week missing, as in the Kaggle SF set
    cands = rolling_origins("2024-01-01", "2024-05-20", "7D")
    got = observed_origins(ev, "2024-01-01", "2024-05-20")
    assert len(cands) == 20 and len(got) == 10
    assert all((o - pd.Timestamp("2024-01-01")).days // 7 % 2 == 0 for o in got)


def test_backtest_table_and_summary() -> None:
    ev = make_events(3000, days=180, seed=4)
    g = RegularGrid.from_points(ev["x"], ev["y"], 150.0)
    origins = rolling_origins("2024-05-06", "2024-06-24", "7D")
    res = backtest({"naive": NaiveHotspot(), "random": lambda: RandomHotspot(random_state=1),
                    "prospective": ProspectiveHotspot(family="theft")}, ev, g, origins, "7D")
    assert len(res) == 3 * len(origins) * 5
    assert set(res.columns) >= {"model", "origin", "coverage", "hit_rate", "pai", "pei", "fit_seconds"}
    assert (res["pei"].dropna() <= 1 + 1e-12).all()
    # each model is scored on its own target: the theft model's N counts thefts only
    n_all = res[res.model == "naive"].groupby("origin")["N"].first()
    n_theft = res[res.model == "prospective"].groupby("origin")["N"].first()
    assert (n_theft < n_all).all()
    s = summarize(res, baseline="naive")
    five = s[s.coverage == 0.05].set_index("model")
    assert five.loc["naive", "pai_vs_baseline"] == 1.0
    assert five.loc["prospective", "pai"] > 2 and five.loc["random", "pai"] < 2
    with pytest.raises(ConfigError, match="baseline"):
        summarize(res, baseline="oracle")


def test_backtest_uses_only_the_past() -> None:
    ev = make_events(2000, days=100, seed=6)
    g = RegularGrid.from_points(ev["x"], ev["y"], 150.0)
    origin = pd.Timestamp("2024-03-01")
    a = backtest(NaiveHotspot(), ev, g, [origin], "7D")
    b = backtest(NaiveHotspot(), ev[ev["t"] < origin + pd.Timedelta("7D")], g, [origin], "7D")
    pd.testing.assert_frame_equal(a.drop(columns=["fit_seconds", "predict_seconds"]),
                                  b.drop(columns=["fit_seconds", "predict_seconds"]))
