"""Helpers shared by the tests on real public data (importable from any test folder: tests/ is on sys.path)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pyproj import Transformer

__all__ = ["sf_grid"]


def sf_grid(path: Path, size_m: float = 1000.0) -> tuple[str, float, float]:
    """Write a GeoJSON grid of ``size_m`` squares in UTM 10N covering the SF profile bounds (plus a margin).

    Returns the grid's CRS and its lower-left corner in it (ids are ``"{column}_{row}"`` from that corner).
    """
    crs = "EPSG:32610"
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x0, y0 = fwd.transform(-122.55, 37.68)
    x1, y1 = fwd.transform(-122.33, 37.86)
    x0, y0 = np.floor(x0 / size_m) * size_m, np.floor(y0 / size_m) * size_m
    feats = []
    t = np.linspace(0, 1, 11)[:-1]
    for ix, x in enumerate(np.arange(x0, x1, size_m)):
        for iy, y in enumerate(np.arange(y0, y1, size_m)):
            # 10 points per edge, so the lon/lat polygon follows the UTM square to a few millimetres
            xs = np.concatenate([x + t * size_m, np.full(10, x + size_m), x + (1 - t) * size_m, np.full(10, x)])
            ys = np.concatenate([np.full(10, y), y + t * size_m, np.full(10, y + size_m), y + (1 - t) * size_m])
            lon, lat = inv.transform(xs, ys)
            ring = [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]
            feats.append({"type": "Feature", "properties": {"id": f"{ix}_{iy}"},
                          "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return crs, float(x0), float(y0)
