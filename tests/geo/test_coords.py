"""Coordinate systems: an independent scalar reference, round trips (hypothesis), NaN, and the Shanghai addresses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.errors import GeoError
from anju.geo import coords
from anju.geo.coords import convert, haversine_m

# --- an independent scalar transcription of the published formula (eviltransform / coordtransform) -----------
_A, _EE = 6378245.0, 0.00669342162296594323


def _ref_tlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _ref_tlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def ref_wgs2gcj(lng: float, lat: float) -> tuple[float, float]:
    if not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lng, lat
    dlat, dlng = _ref_tlat(lng - 105.0, lat - 35.0), _ref_tlon(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    dlng = (dlng * 180.0) / (_A / sq * math.cos(radlat) * math.pi)
    return lng + dlng, lat + dlat


def ref_gcj2bd(lng: float, lat: float) -> tuple[float, float]:
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


china_lon = st.floats(73.0, 135.0)
china_lat = st.floats(3.0, 53.0)


def test_forward_matches_scalar_reference() -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(60, 150, 3000), rng.uniform(-5, 60, 3000)
    gx, gy = coords.wgs84_to_gcj02(lon, lat)
    ref = np.array([ref_wgs2gcj(a, b) for a, b in zip(lon, lat, strict=True)])
    np.testing.assert_allclose(gx, ref[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(gy, ref[:, 1], rtol=0, atol=1e-11)
    bx, by = coords.gcj02_to_bd09(gx, gy)
    refb = np.array([ref_gcj2bd(a, b) for a, b in zip(gx, gy, strict=True)])
    np.testing.assert_allclose(bx, refb[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(by, refb[:, 1], rtol=0, atol=1e-11)


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_gcj_round_trip_within_half_metre(lon: float, lat: float) -> None:
    gx, gy = coords.wgs84_to_gcj02([lon], [lat])
    assert haversine_m(gx, gy, lon, lat)[0] > 10  # the offset (18-700 m) really is applied inside China
    wx, wy = coords.gcj02_to_wgs84(gx, gy)
    assert haversine_m(wx, wy, lon, lat)[0] < 0.5
    assert haversine_m(wx, wy, lon, lat)[0] < 1e-3  # in fact to the millimetre
    # and the other way: the inverse of a GCJ point maps forward onto it
    wx2, wy2 = coords.gcj02_to_wgs84([lon], [lat])
    fx, fy = coords.wgs84_to_gcj02(wx2, wy2)
    assert haversine_m(fx, fy, lon, lat)[0] < 1e-3


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trips(lon: float, lat: float) -> None:
    bx, by = coords.gcj02_to_bd09([lon], [lat])
    gx, gy = coords.bd09_to_gcj02(bx, by)
    assert haversine_m(gx, gy, lon, lat)[0] < 1e-3
    wx, wy = convert(*convert([lon], [lat], "wgs84", "bd09"), "BD09", "WGS84")
    assert haversine_m(wx, wy, lon, lat)[0] < 0.5


def test_bd09_published_inverse_is_only_approximate() -> None:
    """Why bd09_to_gcj02 iterates: Baidu's one-step inverse is off by up to ~1 m."""
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(100, 125, 2000), rng.uniform(20, 45, 2000)
    bx, by = coords.gcj02_to_bd09(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * math.pi * 3000 / 180)
    th = np.arctan2(y, x) - 0.000003 * np.cos(x * math.pi * 3000 / 180)
    one_step = haversine_m(z * np.cos(th), z * np.sin(th), lon, lat)
    iterated = haversine_m(*coords.bd09_to_gcj02(bx, by), lon, lat)
    assert one_step.max() > 0.1
    assert iterated.max() < 1e-3


def test_outside_china_unchanged_and_nan_passes() -> None:
    lon = np.array([2.35, -87.65, 121.47, np.nan, 121.0])
    lat = np.array([48.86, 41.85, 31.23, 31.0, np.nan])
    gx, gy = coords.wgs84_to_gcj02(lon, lat)
    assert gx[0] == 2.35 and gy[0] == 48.86 and gx[1] == -87.65
    assert gx[2] != 121.47
    assert np.isnan(gx[3]) and np.isnan(gy[4])
    for src, dst in [("wgs84", "gcj02"), ("gcj02", "wgs84"), ("bd09", "wgs84"), ("wgs84", "bd09"),
                     ("gcj02", "bd09"), ("bd09", "gcj02"), ("wgs84", "wgs84")]:
        x, y = convert(lon, lat, src, dst)
        assert np.isnan(x[3]) and np.isnan(y[3]) and np.isnan(x[4]) and np.isnan(y[4])
        assert np.isfinite(x[:3]).all()
    wx, wy = coords.gcj02_to_wgs84([-87.65], [41.85])
    assert wx[0] == -87.65 and wy[0] == 41.85


def test_convert_names_and_errors() -> None:
    x, y = convert([121.0], [31.0], "GCJ-02", "WGS84")
    x2, y2 = coords.gcj02_to_wgs84([121.0], [31.0])
    assert x[0] == x2[0] and y[0] == y2[0]
    same, _ = convert(np.array([1.0]), np.array([2.0]), "wgs84")
    assert same[0] == 1.0
    with pytest.raises(GeoError, match="unknown coordinate system 'utm'"):
        convert([1.0], [2.0], "utm")
    with pytest.raises(GeoError, match="same shape"):
        convert([1.0, 2.0], [2.0], "gcj02")


def test_haversine_against_pyproj_geodesic() -> None:
    from pyproj import Geod

    rng = np.random.default_rng(9)
    lon1, lat1 = rng.uniform(120, 122, 500), rng.uniform(30, 32, 500)
    lon2, lat2 = lon1 + rng.normal(0, 0.01, 500), lat1 + rng.normal(0, 0.01, 500)
    _, _, d = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(haversine_m(lon1, lat1, lon2, lat2), d, rtol=5e-3)


# --- the real check: 26,105 geocoded Shanghai addresses with both GCJ-02 and WGS-84 -----------------------------
@pytest.fixture(scope="module")
def shanghai(shared_data):  # type: ignore[no-untyped-def]
    p = shared_data / "shanghai-geography" / "covid2022_residential_addresses" / "geo.csv"
    df = pd.read_csv(p, usecols=["gcj02_lng", "gcj02_lat", "wgs84_lng", "wgs84_lat"])
    assert len(df) == 26105
    return df


def test_shanghai_addresses(shanghai: pd.DataFrame) -> None:
    g_lon, g_lat = shanghai.gcj02_lng.to_numpy(), shanghai.gcj02_lat.to_numpy()
    f_lon, f_lat = shanghai.wgs84_lng.to_numpy(), shanghai.wgs84_lat.to_numpy()
    w_lon, w_lat = coords.gcj02_to_wgs84(g_lon, g_lat)
    # 1. our inverse is exact: it maps forward onto the file's GCJ-02 to well under a millimetre
    fx, fy = coords.wgs84_to_gcj02(w_lon, w_lat)
    assert haversine_m(fx, fy, g_lon, g_lat).max() < 1e-3
    # 2. the file's own WGS-84 column is GCJ-02 minus ONE evaluation of the offset (coordtransform's
    #    gcj02towgs84); that reproduces it to its printed precision (7 decimals ≈ 5 cm) ...
    dlon, dlat = coords._gcj_offset(g_lon, g_lat)
    assert haversine_m(g_lon - dlon, g_lat - dlat, f_lon, f_lat).max() < 0.06
    # 3. ... so the comparison with it measures that shortcut's error: ~1.3 m median, < 2.3 m at worst
    err = haversine_m(w_lon, w_lat, f_lon, f_lat)
    assert 0.8 < np.median(err) < 1.6
    assert np.percentile(err, 99) < 2.3 and err.max() < 2.4
    # forward WGS→GCJ of the file's WGS-84 is off from the file's GCJ-02 by the same amount, for the same reason
    gx, gy = coords.wgs84_to_gcj02(f_lon, f_lat)
    ferr = haversine_m(gx, gy, g_lon, g_lat)
    assert 0.8 < np.median(ferr) < 1.6 and ferr.max() < 2.4
    # while the GCJ-02 offset itself is 470-500 m in Shanghai
    off = haversine_m(g_lon, g_lat, w_lon, w_lat)
    assert 440 < np.median(off) < 520
