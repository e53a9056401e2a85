"""The metric grid and the event/shift/window inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.errors import ConfigError, GeoError
from anju.forecast import Window, as_events, parse_shift
from anju.geo.regular_grid import RegularGrid


def test_counts_match_histogram2d() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(1000, 4000, 5000), rng.uniform(-2000, 500, 5000)
    g = RegularGrid.from_bounds(x.min(), y.min(), x.max(), y.max(), 250.0)
    ref, _, _ = np.histogram2d(y, x, bins=[g.ny, g.nx], range=[[g.y0, g.y0 + g.ny * 250], [g.x0, g.x0 + g.nx * 250]])
    np.testing.assert_array_equal(g.counts(x, y), ref)
    assert g.x0 % 250 == 0 and g.y0 % 250 == 0  # snapped origin: cells nest across grids of one deployment


def test_locate_agrees_with_geo_metric_cells() -> None:
    geo = pytest.importorskip("anju.geo.grid")
    rng = np.random.default_rng(1)
    x, y = rng.uniform(350_000, 360_000, 300), rng.uniform(3_450_000, 3_460_000, 300)
    g = RegularGrid.from_bounds(x.min(), y.min(), x.max(), y.max(), 150.0)
    flat = g.locate(x, y)
    iy, ix = np.divmod(flat, g.nx)
    gx, gy = geo.cell_indices(geo.metric_cells(x, y, 150.0))
    np.testing.assert_array_equal(ix + round(g.x0 / 150), gx)
    np.testing.assert_array_equal(iy + round(g.y0 / 150), gy)


def test_points_outside_are_dropped_and_masks() -> None:
    g = RegularGrid.from_bounds(0, 0, 299, 299, 100.0)
    assert g.locate(np.array([-1.0, 50.0, 350.0]), np.array([50.0, 50.0, 50.0])).tolist() == [-1, 0, -1]
    occ = RegularGrid.from_points(np.array([50.0, 850.0]), np.array([50.0, 50.0]), 100.0, mask="occupied")
    assert occ.n_active == 2 and occ.area_m2 == 2e4
    dil = RegularGrid.from_points(np.array([50.0, 850.0]), np.array([50.0, 50.0]), 100.0, mask="occupied", dilate=1)
    assert dil.n_active == 4
    tri = g.restrict_to(shapely.Polygon([(0, 0), (300, 0), (0, 300)]))
    assert tri.n_active == 3  # centres strictly inside the triangle x + y < 300
    with pytest.raises(GeoError, match="cell_size"):
        RegularGrid.from_bounds(0, 0, 10, 10, 0.0)
    with pytest.raises(GeoError, match="mask must have shape"):
        RegularGrid(0, 0, 1.0, 3, 2, np.ones((3, 2), bool))


def test_to_frame_ranks_and_shares() -> None:
    g = RegularGrid.from_bounds(0, 0, 299, 99, 100.0)
    df = g.to_frame(np.array([[1.0, 3.0, 0.0]]))
    assert df["cell_id"].tolist() == [1, 0, 2] and df["rank"].tolist() == [1, 2, 3]
    assert df["share"].tolist() == [0.75, 0.25, 0.0]


@settings(max_examples=80, deadline=None)
@given(st.floats(0, 24), st.floats(0, 24), st.floats(0, 23.99))
def test_shift_contains_matches_intervals(start: float, end: float, hour: float) -> None:
    if int(start) % 24 == int(end) % 24:  # a zero-length shift is refused (tested below)
        return
    sh = parse_shift(f"{int(start):02d}-{int(end):02d}")
    assert sh is not None
    day = 19_000.0
    iv = sh.intervals(day, day + 3)
    t = day + 1 + hour / 24.0
    inside = bool(((iv[:, 0] <= t) & (t < iv[:, 1])).any())
    assert inside == bool(sh.contains(np.array([hour]))[0])
    assert (iv[:, 1] - iv[:, 0]).sum() == pytest.approx(3 * sh.hours / 24.0)


def test_shift_names_and_errors() -> None:
    assert parse_shift("早班").hours == 8 and parse_shift("中班").start_hour == 16 and parse_shift("night").zh == "夜班"
    assert parse_shift("22:30-06").contains(np.array([22.0, 22.5, 5.9, 6.0])).tolist() == [False, True, True, False]
    with pytest.raises(ConfigError, match="早班/中班/夜班"):
        parse_shift("午班")
    with pytest.raises(ConfigError, match="positive length"):
        parse_shift("24-00")


def test_window_and_events() -> None:
    w = Window.from_origin("2024-03-01 08:00", "8h")
    assert w.days == pytest.approx(1 / 3)
    with pytest.raises(ConfigError, match="end must be after start"):
        Window("2024-03-02", "2024-03-01")
    ev = as_events(pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": [1.0, 2.0, 3.0],
                                 "reported_at": pd.to_datetime(["2024-01-01 06:00", "2024-01-01", None], format="mixed")}))
    assert len(ev) == 1 and ev.hour[0] == pytest.approx(6.0)  # rows without coordinates or time are dropped
    tz = as_events({"x": [0.0], "y": [0.0], "t": pd.to_datetime(["2024-01-01 06:00"]).tz_localize("Asia/Shanghai")})
    assert tz.hour[0] == pytest.approx(6.0)  # wall-clock hour kept
    with pytest.raises(ConfigError, match="missing column"):
        as_events(pd.DataFrame({"x": [1.0]}))
