"""Metric CRS choice and projection round trips, checked against geodesic distances."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from anju.errors import GeoError
from anju.geo.projection import from_metric, metric_crs_for, to_metric, transformer, utm_epsg


def test_utm_zone_choice() -> None:
    assert metric_crs_for([121.2, 121.7], [31.0, 31.4]) == "EPSG:32651"  # Shanghai
    assert metric_crs_for([-87.94, -87.52, np.nan], [41.64, 42.02, 0.0]) == "EPSG:32616"  # Chicago, NaN ignored
    assert metric_crs_for([-122.5, -122.35], [37.7, 37.8]) == "EPSG:32610"  # San Francisco
    assert utm_epsg(151.2, -33.9) == 32756  # southern hemisphere
    assert utm_epsg(180.0, 10.0) == 32660
    with pytest.raises(GeoError, match="no finite coordinates"):
        metric_crs_for([np.nan], [np.nan])


def test_round_trip_and_distances() -> None:
    rng = np.random.default_rng(2)
    lon, lat = rng.uniform(121.2, 121.7, 2000), rng.uniform(31.0, 31.4, 2000)
    crs = metric_crs_for(lon, lat)
    x, y = to_metric(lon, lat, crs)
    lon2, lat2 = from_metric(x, y, crs)
    np.testing.assert_allclose(lon2, lon, atol=1e-9)
    np.testing.assert_allclose(lat2, lat, atol=1e-9)
    # planar distances in the UTM zone agree with the ellipsoidal geodesic to < 0.1 % within a district
    i, j = rng.integers(0, 2000, 500), rng.integers(0, 2000, 500)
    planar = np.hypot(x[i] - x[j], y[i] - y[j])
    _, _, geo = Geod(ellps="WGS84").inv(lon[i], lat[i], lon[j], lat[j])
    keep = geo > 100
    np.testing.assert_allclose(planar[keep], geo[keep], rtol=1e-3)


def test_nan_and_cache() -> None:
    x, y = to_metric([121.0, np.nan], [31.0, 31.0], "EPSG:32651")
    assert np.isfinite(x[0]) and np.isnan(x[1]) and np.isnan(y[1])
    lon, lat = from_metric([np.nan], [3e6], "EPSG:32651")
    assert np.isnan(lon[0]) and np.isnan(lat[0])
    assert transformer("EPSG:4326", "EPSG:32651") is transformer("EPSG:4326", "EPSG:32651")
    with pytest.raises(GeoError, match="unknown CRS"):
        to_metric([1.0], [1.0], "EPSG:999999")
