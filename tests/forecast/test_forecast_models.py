"""Each model against an independent, slow reference computation of its formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fcsynth import make_events

from anju.forecast import NaiveHotspot, ProspectiveHotspot, RetrospectiveHotspot, SpaceTimeKDE
from anju.forecast.events import to_days
from anju.geo.regular_grid import RegularGrid

START = pd.Timestamp("2024-06-10")
WINDOW = (START, START + pd.Timedelta("7D"))


@pytest.fixture(scope="module")
def ev() -> pd.DataFrame:
    return make_events(800, seed=5, days=170)


@pytest.fixture(scope="module")
def grid() -> RegularGrid:
    return RegularGrid.from_bounds(0, 0, 2999, 2999, 200.0)


def cell_xy(grid: RegularGrid, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.floor((x - grid.x0) / grid.cell_size).astype(int), np.floor((y - grid.y0) / grid.cell_size).astype(int)


def normalise(a: np.ndarray) -> np.ndarray:
    return a / a.sum()


def test_prospective_matches_bowers_formula(ev: pd.DataFrame, grid: RegularGrid) -> None:
    bw, lookback = 500.0, 56.0
    surface = ProspectiveHotspot(bandwidth_m=bw, lookback_days=lookback).fit(ev).predict(grid, WINDOW)
    # reference: loop over events and cells, risk = Σ 1/(1+d_cells) · 1/(1+weeks)
    ref = np.zeros(grid.shape)
    age = to_days(pd.Series([START]))[0] - to_days(ev["t"])
    ix, iy = cell_xy(grid, ev["x"].to_numpy(), ev["y"].to_numpy())
    cy, cx = np.mgrid[0:grid.ny, 0:grid.nx]
    for a, ex, ey in zip(age, ix, iy, strict=True):
        if not 0 < a <= lookback:
            continue
        d = np.hypot(cx - ex, cy - ey)
        ref += np.where(d * grid.cell_size <= bw, 1.0 / (1.0 + d), 0.0) / (1.0 + np.floor(a / 7.0))
    np.testing.assert_allclose(normalise(surface), normalise(ref), rtol=1e-9, atol=1e-15)
    assert ((surface == 0) == (ref == 0)).all()  # unreached cells are exact zeros (ties stay ties)


def test_kde_matches_direct_sum(ev: pd.DataFrame, grid: RegularGrid) -> None:
    bw, tau, lookback = 300.0, 30.0, 120.0
    surface = SpaceTimeKDE(bandwidth_m=bw, time_scale_days=tau, lookback_days=lookback).fit(ev).predict(grid, WINDOW)
    sigma = bw / grid.cell_size
    radius = int(4.0 * sigma + 0.5)  # scipy's truncation
    k1 = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k1 /= k1.sum()
    age = to_days(pd.Series([START]))[0] - to_days(ev["t"])
    ix, iy = cell_xy(grid, ev["x"].to_numpy(), ev["y"].to_numpy())
    ref = np.zeros(grid.shape)
    for a, ex, ey in zip(age, ix, iy, strict=True):
        if not 0 < a <= lookback:
            continue
        w = np.exp(-a / tau)
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                jx, jy = ex + dx, ey + dy
                if 0 <= jx < grid.nx and 0 <= jy < grid.ny:
                    ref[jy, jx] += w * k1[dx + radius] * k1[dy + radius]
    np.testing.assert_allclose(normalise(surface), normalise(ref), rtol=1e-9, atol=1e-14)


def test_retrospective_counts_and_scale(ev: pd.DataFrame, grid: RegularGrid) -> None:
    m = RetrospectiveHotspot(lookback_days=90.0).fit(ev)
    surface = m.predict(grid, WINDOW)
    recent = ev[(ev["t"] < START) & (ev["t"] >= START - pd.Timedelta("90D"))]
    ref, _, _ = np.histogram2d(recent["y"], recent["x"], bins=[grid.ny, grid.nx],
                               range=[[0, grid.ny * grid.cell_size], [0, grid.nx * grid.cell_size]])
    # scaled to the expected count over the window: rate over 90 days × 7 days
    np.testing.assert_allclose(surface, ref * 7.0 / 90.0, rtol=1e-12)


def test_naive_last_period_skips_gaps(grid: RegularGrid) -> None:
    # data stop two weeks before the window (a missing week, as in the Kaggle SF set)
    ev = pd.DataFrame({
        "x": [100.0, 100.0, 900.0, 900.0],
        "y": [100.0, 100.0, 900.0, 900.0],
        "t": pd.to_datetime(["2024-05-01 00:00", "2024-05-19 00:00", "2024-05-25 00:00", "2024-05-26 12:00"]),
    })
    s = NaiveHotspot(period_days=7.0).fit(ev).predict(grid, ("2024-06-10", "2024-06-17"))
    # last period = the 7 days before the last event (2024-05-26 12:00): only the two events at (900, 900)
    assert s[4, 4] == 2.0 and s.sum() == 2.0
    u = NaiveHotspot(strategy="uniform").fit(ev).predict(grid, ("2024-06-10", "2024-06-17"))
    assert np.unique(u).size == 1


def test_shift_weighting(grid: RegularGrid) -> None:
    ev = pd.DataFrame({
        "x": [100.0, 900.0], "y": [100.0, 900.0],
        "t": pd.to_datetime(["2024-06-01 02:00", "2024-06-01 14:00"]),  # one night, one day event
    })
    night = RetrospectiveHotspot(shift="night", shift_weight=0.25).fit(ev).predict(grid, WINDOW)
    assert night[0, 0] / night[4, 4] == pytest.approx(4.0)
    only = RetrospectiveHotspot(shift="night").fit(ev).predict(grid, WINDOW)
    assert only[4, 4] == 0 and only[0, 0] > 0
    # the expected count covers only the shift's hours: 1 night event in 365 days' nights → 7 nights
    assert only.sum() == pytest.approx(7.0 / 365.0)
