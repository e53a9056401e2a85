"""The C kernel anju.geo._native against the NumPy path of coords (its reference): bit-identical results.

The kernel repeats coords._gcj_offset operation by operation with libm sin/sqrt (what NumPy calls for float64) and
the NumPy inverse's stopping rule chunk by chunk, so the comparisons below demand equality of every bit, not a
tolerance. Skipped when the extension was not built.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.geo import coords
from anju.geo.coords import haversine_m

native = pytest.importorskip("anju.geo._native", reason="anju.geo._native was not built (no C compiler)")

Conv = Callable[..., tuple[np.ndarray, np.ndarray]]
DIRECTIONS = [coords.wgs84_to_gcj02, coords.gcj02_to_wgs84]
BOX = (72.004, 137.8347, 0.8293, 55.8271)  # the out_of_china box


@pytest.fixture(autouse=True)
def _native_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts on the C path (whatever ANJU_GEO_NATIVE said at import)."""
    monkeypatch.setattr(coords, "_NATIVE", native)
    yield


def _numpy(fn: Conv, *args: object) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` on the NumPy path (the reference; it evaluates the formula on inf/huge inputs too, hence errstate)."""
    saved = coords._NATIVE
    coords._NATIVE = None
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    finally:
        coords._NATIVE = saved


def _assert_bits_equal(a: np.ndarray, b: np.ndarray) -> None:
    """Same shape, dtype and bit pattern (so also -0.0 vs 0.0 and NaN positions)."""
    assert a.shape == b.shape and a.dtype == b.dtype == np.float64
    ai, bi = np.ascontiguousarray(a).view(np.uint64), np.ascontiguousarray(b).view(np.uint64)
    bad = np.flatnonzero(ai.ravel() != bi.ravel())
    assert bad.size == 0, f"{bad.size} values differ, first at {bad[0]}: {a.ravel()[bad[0]]!r} vs {b.ravel()[bad[0]]!r}"


def _agree(fn: Conv, lon: object, lat: object) -> tuple[np.ndarray, np.ndarray]:
    cx, cy = fn(lon, lat)
    nx, ny = _numpy(fn, lon, lat)
    _assert_bits_equal(cx, nx)
    _assert_bits_equal(cy, ny)
    return cx, cy


def test_native_path_is_used() -> None:
    calls = []

    class Spy:
        def gcj_forward(self, *a: object) -> None:
            calls.append("f")
            native.gcj_forward(*a)

        def gcj_inverse(self, *a: object) -> None:
            calls.append("i")
            native.gcj_inverse(*a)

    coords._NATIVE = Spy()  # type: ignore[assignment]
    coords.wgs84_to_gcj02([121.0], [31.0])
    coords.gcj02_to_wgs84([121.0], [31.0])
    assert calls == ["f", "i"]


@pytest.mark.parametrize("fn", DIRECTIONS, ids=lambda f: f.__name__)
def test_200k_random_points_in_china_bit_identical(fn: Conv) -> None:
    # 200k points = three full 65,536-point chunks and a partial one; the uniform box mixes chunks that need
    # 2 and 3 iterations, so the per-chunk stopping rule is exercised
    rng = np.random.default_rng(20240611)
    lon = rng.uniform(BOX[0], BOX[1], 200_000)
    lat = rng.uniform(BOX[2], BOX[3], 200_000)
    cx, _ = _agree(fn, lon, lat)
    assert np.abs(cx - lon).min() > 0  # the offset really was applied


@pytest.mark.parametrize("fn", DIRECTIONS, ids=lambda f: f.__name__)
def test_mixed_inside_outside_nan_across_chunks(fn: Conv) -> None:
    rng = np.random.default_rng(11)
    n = 150_000
    lon = rng.uniform(60.0, 150.0, n)
    lat = rng.uniform(-5.0, 60.0, n)
    lon[rng.random(n) < 0.02] = np.nan
    lat[rng.random(n) < 0.02] = np.nan
    lon[rng.random(n) < 0.01] = np.inf
    lat[rng.random(n) < 0.01] = -np.inf
    cx, cy = _agree(fn, lon, lat)
    assert (np.isnan(cx) == np.isnan(cy)).all()
    assert np.isnan(cx).sum() >= 0.035 * n


def _edge_points() -> tuple[np.ndarray, np.ndarray]:
    """The box edges exactly and one ulp either side, corners, specials, far-away and -0.0 points."""
    lo_x, hi_x, lo_y, hi_y = BOX
    xs: list[float] = []
    ys: list[float] = []
    for ex in (lo_x, hi_x):
        for e in (np.nextafter(ex, -np.inf), ex, np.nextafter(ex, np.inf)):
            xs.append(float(e))
            ys.append(31.0)
    for ey in (lo_y, hi_y):
        for e in (np.nextafter(ey, -np.inf), ey, np.nextafter(ey, np.inf)):
            xs.append(121.0)
            ys.append(float(e))
    for cx_ in (lo_x, hi_x):
        for cy_ in (lo_y, hi_y):
            xs.append(cx_)
            ys.append(cy_)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300, 5e-324, 105.0, 35.0]
    for a in specials:
        for b in specials:
            xs.append(a)
            ys.append(b)
        xs += [a, 121.47]
        ys += [31.23, a]
    # u = lon - 105 = 0 (the √|u| kink), v = 0, Chicago, Paris, the South Pole
    xs += [105.0, 105.0, -87.65, 2.35, 0.0]
    ys += [35.0, 20.0, 41.85, 48.86, -90.0]
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("fn", DIRECTIONS, ids=lambda f: f.__name__)
def test_edges_and_specials_bit_identical(fn: Conv) -> None:
    lon, lat = _edge_points()
    cx, cy = _agree(fn, lon, lat)
    inside = ~coords.out_of_china(lon, lat)
    out = ~inside & ~np.isnan(lon) & ~np.isnan(lat)
    # outside China the input comes back bit for bit (so -0.0 stays -0.0), inside it moves
    _assert_bits_equal(cx[out], lon[out])
    _assert_bits_equal(cy[out], lat[out])
    assert (cx[inside] != lon[inside]).all()
    assert np.isnan(cx[np.isnan(lat)]).all() and np.isnan(cy[np.isnan(lon)]).all()
    # one ulp outside the box is unchanged, the box edge itself is inside
    assert cx[0] == lon[0] and cx[1] != lon[1]


@pytest.mark.parametrize("fn", DIRECTIONS, ids=lambda f: f.__name__)
def test_shapes_layouts_and_dtypes(fn: Conv) -> None:
    rng = np.random.default_rng(4)
    base_x = rng.uniform(100.0, 125.0, (300, 40))
    base_y = rng.uniform(20.0, 45.0, (300, 40))
    # empty, 0-d, Python lists, 2-D, Fortran order, strided (non-contiguous) views, float32, big-endian, ints
    cases: list[tuple[Any, Any]] = [
        (np.empty(0), np.empty(0)),
        (np.empty((0, 3)), np.empty((0, 3))),
        (np.float64(121.47), np.float64(31.23)),
        ([121.47, 116.39], [31.23, 39.9]),
        (base_x, base_y),
        (np.asfortranarray(base_x), np.asfortranarray(base_y)),
        (base_x[::3, ::2], base_y[1::3, ::2]),
        (base_x.T, base_y.T),
        (base_x.astype(np.float32), base_y.astype(np.float32)),
        (base_x.astype(">f8"), base_y.astype(">f8")),
        (np.array([121, 116]), np.array([31, 40])),
    ]
    for lon, lat in cases:
        cx, cy = _agree(fn, lon, lat)
        assert cx.shape == np.shape(lon) and cy.shape == np.shape(lat)
        assert cx.flags.c_contiguous and cx.dtype == np.float64


def test_inputs_not_modified() -> None:
    lon = np.array([121.47, 116.39, np.nan])
    lat = np.array([31.23, 39.9, 30.0])
    keep = lon.copy(), lat.copy()
    for fn in DIRECTIONS:
        fn(lon, lat)
    np.testing.assert_array_equal(lon, keep[0])
    np.testing.assert_array_equal(lat, keep[1])


finite_or_special = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(60.0, 150.0),
    st.sampled_from([BOX[0], BOX[1], 105.0, -0.0]),
)
lat_or_special = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-5.0, 60.0),
    st.sampled_from([BOX[2], BOX[3], 35.0, -0.0]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(finite_or_special, lat_or_special), min_size=0, max_size=40))
def test_any_points_bit_identical(points: list[tuple[float, float]]) -> None:
    lon = np.array([p[0] for p in points], dtype=np.float64)
    lat = np.array([p[1] for p in points], dtype=np.float64)
    for fn in DIRECTIONS:
        _agree(fn, lon, lat)


def test_round_trip_accuracy_native() -> None:
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(73.0, 135.0, 50_000), rng.uniform(3.0, 53.0, 50_000)
    gx, gy = coords.wgs84_to_gcj02(lon, lat)
    wx, wy = coords.gcj02_to_wgs84(gx, gy)
    assert max(np.abs(wx - lon).max(), np.abs(wy - lat).max()) < 1e-9  # degrees (≈ 0.1 mm)
    assert haversine_m(wx, wy, lon, lat).max() < 1e-4


def test_shanghai_addresses_bit_identical(shared_data) -> None:  # type: ignore[no-untyped-def]
    p = shared_data / "shanghai-geography" / "covid2022_residential_addresses" / "geo.csv"
    df = pd.read_csv(p, usecols=["gcj02_lng", "gcj02_lat", "wgs84_lng", "wgs84_lat"])
    _agree(coords.gcj02_to_wgs84, df.gcj02_lng.to_numpy(), df.gcj02_lat.to_numpy())
    _agree(coords.wgs84_to_gcj02, df.wgs84_lng.to_numpy(), df.wgs84_lat.to_numpy())


def test_kernel_argument_checks() -> None:
    x, y = np.array([121.0, 116.0]), np.array([31.0, 40.0])
    ox, oy = np.empty(2), np.empty(2)
    native.gcj_forward(x, y, ox, oy)
    # any buffer of doubles works (here array.array), not only ndarrays
    import array

    ax, ay, aox, aoy = array.array("d", x), array.array("d", y), array.array("d", [0, 0]), array.array("d", [0, 0])
    native.gcj_forward(ax, ay, aox, aoy)
    assert list(aox) == ox.tolist() and list(aoy) == oy.tolist()
    with pytest.raises(TypeError, match="float64"):
        native.gcj_forward(x.astype(np.float32), y, ox, oy)
    with pytest.raises(ValueError, match="values"):
        native.gcj_forward(x, y[:1], ox, oy)
    with pytest.raises(ValueError, match="overlaps"):
        native.gcj_inverse(x, y, x, oy, 65536, 12, 0.01, 1e-9)
    with pytest.raises(ValueError, match="chunk"):
        native.gcj_inverse(x, y, ox, oy, 0, 12, 0.01, 1e-9)
    ro = np.empty(2)
    ro.flags.writeable = False
    with pytest.raises((BufferError, ValueError, TypeError)):
        native.gcj_forward(x, y, ro, oy)
    with pytest.raises((BufferError, ValueError, TypeError)):
        native.gcj_forward(np.empty(4)[::2], y, ox, oy)  # not contiguous
    with pytest.raises(TypeError):
        native.gcj_forward(x, y, ox)


def test_env_var_forces_numpy() -> None:
    code = "from anju.geo import coords; print(coords._NATIVE is None, coords._native_mod is not None)"
    env = {**os.environ, "ANJU_GEO_NATIVE": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
