"""Gi*, emerging hot spots and the Knox test on real public data (../shared/data).

- Chicago aggravated assaults 2010–2019 (148k, lon/lat → UTM 16N with pyproj);
- Vancouver thefts 2020 (22k, already UTM 10N metres);
- San Francisco burglaries 2014 (Kaggle SF crime, lon/lat → UTM 10N): the burglary-like case for near repeats.

What the data say (also in docs/methods/near-repeat.md): burglary shows the classic near-repeat signature (same
place and within ~400 m, first week only); Chicago assaults repeat at the same address within a week but show no
near repeat beyond it; Vancouver thefts exceed expectation in every near band, a space-time heterogeneity the Knox
test cannot tell from contagion.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pyproj import Transformer

from anju.spatial.cube import SpaceTimeCube
from anju.spatial.emerging import emerging_hotspots
from anju.spatial.gistar import grid_hotspots
from anju.spatial.nearrepeat import knox_test, time_in_days
from anju.spatial.weights import grid_contiguity

BANDS = {"space_bands": [100, 200, 300, 400], "time_bands": [7, 14, 21, 28]}


@pytest.fixture(scope="module")
def chicago(shared_data):
    df = pd.read_csv(shared_data / "crimemappingdata-ashby" / "chicago_aggravated_assaults.csv.gz")
    df = df.drop_duplicates()  # 111 exact duplicate rows (same minute and rounded point)
    x, y = Transformer.from_crs(4326, 26916, always_xy=True).transform(df["longitude"].to_numpy(),
                                                                         df["latitude"].to_numpy())
    return x, y, pd.to_datetime(df["date"], format="%Y-%m-%d %H:%M").reset_index(drop=True)


@pytest.fixture(scope="module")
def chicago_hotspots(chicago):
    x, y, _ = chicago
    return grid_hotspots(x, y, cell=150)


def test_chicago_gistar_hot_cells_are_the_dense_cells(chicago_hotspots):
    grid, df = chicago_hotspots
    assert grid.n_cells > 40_000  # ~40 × 35 km of city at 150 m
    share_cells = (df["bin"] == 3).mean()
    share_events = df.loc[df["bin"] == 3, "count"].sum() / df["count"].sum()
    assert share_cells < 0.10 and share_events > 0.5  # hot spots: few cells, most assaults
    top = df.nlargest(100, "count")
    assert (top["bin"] == 3).mean() >= 0.9  # the densest cells are hot (an isolated spike need not be)
    assert df.loc[df["bin"] == 3, "count"].mean() > 10 * df.loc[df["bin"] == 0, "count"].mean()
    # counts are sparse (most cells 0), so no neighbourhood can be significantly *low*: no cold spots
    assert (df["bin"] < 0).sum() == 0


@pytest.mark.slow
def test_chicago_gistar_equals_esda_on_the_real_grid(chicago_hotspots):
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    grid, df = chicago_hotspots
    w = libpysal.weights.WSP(sp.csr_matrix(grid_contiguity(*grid.rowcol(np.arange(grid.n_cells)), kind="queen"))).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(df["count"].to_numpy(), w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(df["z"].to_numpy(), ref.Zs, atol=1e-6, rtol=0)


def test_chicago_emerging_hot_spots_sit_inside_the_long_run_hot_spots(chicago, chicago_hotspots):
    x, y, t = chicago
    grid, df = chicago_hotspots
    m = (t >= "2018-01-01").to_numpy()
    cube = SpaceTimeCube.from_events(x[m], y[m], t[m], grid=grid, step="28D", start="2018-01-01", end="2020-01-01")
    assert cube.n_steps == 26 and cube.counts.sum() == m.sum() - cube.dropped
    res = emerging_hotspots(cube.counts, cube.weights("queen"))
    res["cell"] = cube.locations
    res = res.merge(df[["cell", "bin"]], on="cell")
    hot = res[res["category_code"] > 0]
    assert len(hot) > 50
    assert (hot["bin"] > 0).mean() > 0.9  # 2018–19 hot patterns lie in the 2010–19 Gi* hot spots
    assert (res["category_code"] < 0).sum() == 0  # consistent with no cold spots above
    assert {"sporadic_hot", "new_hot", "consecutive_hot"} <= set(hot["category"])


def test_chicago_assaults_repeat_at_the_same_place_but_not_nearby(chicago):
    x, y, t = chicago
    m = (t.dt.year == 2019).to_numpy()
    res = knox_test(x[m], y[m], time_in_days(t[m]), permutations=99, seed=1, **BANDS)
    assert res.n_events > 14_000
    assert res.ratio[0, 0] > 1.3 and res.p_values[0, 0] == pytest.approx(0.01)  # same address, same week
    # no near-repeat beyond the same address: ratios within 10 % of 1 from 100 m on
    assert np.all(np.abs(res.ratio[2:5, :4] - 1) < 0.1)


def test_sf_burglary_shows_the_classic_near_repeat_pattern(shared_data):
    df = pd.read_csv(shared_data / "sf-crime-kaggle" / "train.csv.gz", usecols=["Dates", "Category", "X", "Y"])
    b = df[(df["Category"] == "BURGLARY") & (df["Y"] < 40)]  # Kaggle has a few rows at Y = 90
    b = b[b["Dates"].str.startswith("2014")]
    x, y = Transformer.from_crs(4326, 32610, always_xy=True).transform(b["X"].to_numpy(), b["Y"].to_numpy())
    res = knox_test(x, y, time_in_days(pd.to_datetime(b["Dates"])), permutations=99, seed=1, **BANDS)
    assert res.n_events > 2500
    # first week: repeat at the same place (ratio ~3) and near repeats out to 400 m, all significant
    assert res.ratio[0, 0] > 2 and res.p_values[0, 0] <= 0.01
    assert np.all(res.ratio[1:5, 0] > 1.05) and np.all(res.p_values[1:5, 0] <= 0.05)
    # after the first week the excess is gone at the same place
    assert np.all(res.ratio[0, 1:4] < 1.2)


def test_vancouver_thefts_gistar_and_knox(shared_data):
    v = pd.read_csv(shared_data / "crimemappingdata-ashby" / "vancouver_thefts.csv.gz")
    t = pd.to_datetime(pd.DataFrame({"year": v["YEAR"], "month": v["MONTH"], "day": v["DAY"],
                                     "hour": v["HOUR"], "minute": v["MINUTE"]}))
    x, y = v["X"].to_numpy(), v["Y"].to_numpy()
    grid, df = grid_hotspots(x, y, cell=150)
    cells = grid.locate(x, y)
    hot_cells = df.loc[df["bin"] == 3, "cell"].to_numpy()
    in_hot = np.isin(cells, hot_cells)
    # downtown carries the hot spots: most thefts in hot cells are in the Central Business District
    assert v.loc[in_hot, "NEIGHBOURHOOD"].value_counts().index[0] == "Central Business District"
    assert in_hot.mean() > 0.4 and (df["bin"] == 3).mean() < 0.15
    m = (v["TYPE"] == "Theft from Vehicle").to_numpy()
    res = knox_test(x[m], y[m], time_in_days(t[m]), permutations=99, seed=1, **BANDS)
    # excess in every near band, decaying with distance and with time gap (a heterogeneity signal)
    assert np.all(res.ratio[:5, :4] > 1.05) and np.all(res.p_values[:5, :4] <= 0.01)
    assert res.ratio[0, 0] > res.ratio[1, 0] > res.ratio[4, 0]
    assert res.ratio[1, 0] > res.ratio[1, 3]
