"""The one GeoJSON writer: a table of properties plus an array of shapely geometries → a FeatureCollection.

Hot spots, forecasts and patrol plans all write their cells and areas through :func:`write_geojson`, in WGS-84
(RFC 7946), coordinates rounded to 7 decimals (about 1 cm).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["cells_wgs84", "feature_collection", "write_geojson"]


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v.item() if hasattr(v, "item") else v


def feature_collection(frame: pd.DataFrame, geoms: Any, *, digits: int = 7) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one feature per row of ``frame`` with the geometry of the same position.

    Examples
    --------
    >>> import shapely
    >>> fc = feature_collection(pd.DataFrame({"id": [1]}), [shapely.Point(104.123456789, 30.5)])
    >>> fc["features"][0]["geometry"], fc["features"][0]["properties"]
    ({'type': 'Point', 'coordinates': [104.1234568, 30.5]}, {'id': 1})
    """
    import shapely

    g = np.asarray(geoms, dtype=object)
    if len(g) != len(frame):
        raise ValueError(f"{len(frame)} rows but {len(g)} geometries")
    g = shapely.transform(g, lambda xy: np.round(xy, digits))
    shapes = [json.loads(s) if s is not None else None for s in shapely.to_geojson(g)]
    records = json.loads(frame.to_json(orient="records", force_ascii=False, double_precision=15))
    feats = [{"type": "Feature", "geometry": s, "properties": {k: _clean(v) for k, v in p.items()}}
             for s, p in zip(shapes, records, strict=True)]
    return {"type": "FeatureCollection", "features": feats}


def write_geojson(path: Path | str, frame: pd.DataFrame, geoms: Any) -> Path:
    """Write :func:`feature_collection` of ``frame`` and ``geoms`` (WGS-84 lon/lat) as UTF-8 JSON; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(feature_collection(frame, geoms), ensure_ascii=False), encoding="utf-8")
    return p


def cells_wgs84(grid: Any, cells: Any, crs: str) -> Any:
    """Shapely polygons (WGS-84) of the given cells of a metric :class:`~anju.geo.regular_grid.RegularGrid`."""
    import shapely

    from anju.geo.projection import from_metric

    def to_wgs(xy: np.ndarray) -> np.ndarray:
        lon, lat = from_metric(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(grid.boxes(np.asarray(cells)), to_wgs)
