"""Space-time cubes: step alignment and counts against a pandas group-by."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anju.errors import GeoError
from anju.geo.regular_grid import RegularGrid
from anju.spatial.cube import SpaceTimeCube, time_steps


def test_time_steps_align_to_the_end_and_drop_partial_steps():
    ts = pd.to_datetime(["2025-01-01 00:00", "2025-01-03 12:00", "2025-01-10 00:00", "2025-01-21 23:59", "NaT"])
    k, edges = time_steps(ts, step="7D", start="2025-01-01", end="2025-01-22")
    assert list(edges) == list(pd.to_datetime(["2025-01-01", "2025-01-08", "2025-01-15", "2025-01-22"]))
    assert k.tolist() == [0, 0, 1, 2, -1]
    # a span that is not a whole number of steps: the first, partial step is dropped
    k2, edges2 = time_steps(ts, step="7D", start="2025-01-01", end="2025-01-20")
    assert edges2[0] == pd.Timestamp("2025-01-06") and edges2[-1] == pd.Timestamp("2025-01-20")
    assert k2.tolist() == [-1, -1, 0, -1, -1]
    # defaults: end = midnight after the latest event
    _, e3 = time_steps(ts[:4], step="1D")
    assert e3[-1] == pd.Timestamp("2025-01-22")
    with pytest.raises(GeoError):
        time_steps(ts, step="7D", start="2025-01-01", end="2025-01-05")


def test_cube_counts_match_groupby():
    rng = np.random.default_rng(0)
    n = 5000
    x = rng.uniform(0, 1500, n)
    y = rng.uniform(0, 900, n)
    t = pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.uniform(0, 70, n), unit="D")
    grid = RegularGrid(0.0, 0.0, 150.0, nx=10, ny=6)
    cube = SpaceTimeCube.from_events(x, y, t, grid=grid, step="7D", start="2025-03-01", end="2025-05-10",
                                     locations="all")
    assert cube.counts.shape == (60, 10) and cube.dropped == 0
    df = pd.DataFrame({"cell": grid.locate(x, y), "step": (t - pd.Timestamp("2025-03-01")).days // 7})
    ref = df.groupby(["cell", "step"]).size().unstack(fill_value=0).reindex(index=range(60), columns=range(10),
                                                                           fill_value=0)
    np.testing.assert_array_equal(cube.counts, ref.to_numpy())
    occ = SpaceTimeCube.from_events(x[:40], y[:40], t[:40], grid=grid, step="7D", start="2025-03-01",
                                    end="2025-05-10")
    assert set(occ.locations.tolist()) == set(grid.locate(x[:40], y[:40]).tolist())
    assert occ.counts.sum() == 40
    W = occ.weights("queen")
    assert W.shape == (occ.n_locations, occ.n_locations)
    assert occ.weights("distance", distance=200).shape == W.shape


def test_cube_from_area_codes():
    t = pd.to_datetime(["2025-01-01 01:00", "2025-01-02 01:00", "2025-01-02 02:00", "2025-01-03 03:00"])
    cube = SpaceTimeCube.from_codes([0, 2, 2, -1], t, n_locations=3, step="1D", start="2025-01-01",
                                    end="2025-01-04")
    assert cube.counts.tolist() == [[1, 0, 0], [0, 0, 0], [0, 2, 0]]
    assert cube.dropped == 1
    with pytest.raises(GeoError):
        cube.weights()
