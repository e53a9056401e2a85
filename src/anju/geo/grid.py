"""Grid cells for counting and mapping: H3 hexagons and square metric cells.

* :func:`h3_cells` — H3 index (int64 form) at a resolution, vectorised; -1 where lon/lat is NaN.
* :func:`metric_cells` — square cells of ``size_m`` metres in the deployment's metric CRS, packed into one int64:
  ``cell = ((iy + 2**30) << 31) | (ix + 2**30)`` with ``ix = floor((x - x0) / size_m)`` and
  ``iy = floor((y - y0) / size_m)`` relative to an ``origin=(x0, y0)`` (default (0, 0), so cells of the same size
  line up across deployments in the same CRS). Any |ix|, |iy| < 2**30 packs, and every valid cell is ≥ 0; -1 marks
  NaN. :func:`cell_indices`, :func:`cell_centres` and :func:`cell_polygons` invert it for maps.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from anju.errors import GeoError
from anju.geo import _h3vec
from anju.geo.projection import from_metric

__all__ = [
    "cell_centres",
    "cell_indices",
    "cell_polygons",
    "h3_cells",
    "h3_centres",
    "h3_polygons",
    "metric_cells",
]

_OFF = 1 << 30
_MASK = (1 << 31) - 1


def h3_cells(lon: ArrayLike, lat: ArrayLike, res: int = 9) -> NDArray[np.int64]:
    """H3 cell of each point at resolution ``res`` as int64 (the integer form of the H3 index), -1 for NaN.

    Identical to ``h3.latlng_to_cell`` point by point (checked in tests), but computed by a vectorised NumPy
    projection onto the icosahedron faces; see docs/geo.md.

    >>> h3_cells([121.4737, float("nan")], [31.2304, 31.0], res=9).tolist()
    [617848112076292095, -1]
    """
    return _h3vec.latlng_to_cells(lon, lat, res)


def h3_centres(cells: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lon, lat) of H3 cell centres; NaN for -1."""
    import h3.api.basic_int as h3i

    c = np.asarray(cells, dtype=np.int64)
    uniq, inv = np.unique(c, return_inverse=True)
    lon = np.full(uniq.size, np.nan)
    lat = np.full(uniq.size, np.nan)
    for i, v in enumerate(uniq.tolist()):
        if v >= 0:
            lat[i], lon[i] = h3i.cell_to_latlng(v)
    return lon[inv].reshape(c.shape), lat[inv].reshape(c.shape)


def h3_polygons(cells: ArrayLike) -> NDArray[np.object_]:
    """Shapely polygons (WGS-84 lon/lat) of H3 cells, for maps; None for -1."""
    import h3.api.basic_int as h3i

    c = np.asarray(cells, dtype=np.int64).ravel()
    uniq, inv = np.unique(c, return_inverse=True)
    polys = np.empty(uniq.size, dtype=object)
    for i, v in enumerate(uniq.tolist()):
        if v >= 0:
            ring = [(lng, la) for la, lng in h3i.cell_to_boundary(v)]
            polys[i] = shapely.Polygon(ring)
    return polys[inv]


def metric_cells(
    x: ArrayLike, y: ArrayLike, size_m: float, *, origin: tuple[float, float] = (0.0, 0.0)
) -> NDArray[np.int64]:
    """Packed square-cell id of metric points (see module docstring); -1 where x or y is NaN.

    >>> metric_cells([354281.0, 354299.0, float("nan")], [3456101.0, 3456101.0, 0.0], 250).tolist()
    [2305872697101387145, 2305872697101387145, -1]
    """
    if not size_m > 0:
        raise GeoError(f"grid cell size must be > 0 metres; got {size_m!r}")
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(xa) & np.isfinite(ya)
    ix = np.floor((np.where(ok, xa, origin[0]) - origin[0]) / size_m)
    iy = np.floor((np.where(ok, ya, origin[1]) - origin[1]) / size_m)
    if ok.any() and (np.abs(ix[ok]).max() >= _OFF or np.abs(iy[ok]).max() >= _OFF):
        raise GeoError(f"metric cell index out of range for size_m={size_m}; choose an origin near the data")
    cells = ((iy.astype(np.int64) + _OFF) << 31) | (ix.astype(np.int64) + _OFF)
    return np.where(ok, cells, np.int64(-1))


def cell_indices(cells: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(ix, iy) integer cell indices of packed metric cells (meaningless for -1 cells: mask them)."""
    c = np.asarray(cells, dtype=np.int64)
    ix = (c & _MASK) - _OFF
    iy = (c >> 31) - _OFF
    return ix, iy


def cell_centres(
    cells: ArrayLike, size_m: float, *, origin: tuple[float, float] = (0.0, 0.0)
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Metric (x, y) centres of packed cells; NaN for -1.

    >>> x, y = cell_centres([2305872697101387145], 250)
    >>> float(x[0]), float(y[0])
    (354375.0, 3456125.0)
    """
    c = np.asarray(cells, dtype=np.int64)
    ix, iy = cell_indices(c)
    ok = c >= 0
    x = np.where(ok, origin[0] + (ix + 0.5) * size_m, np.nan)
    y = np.where(ok, origin[1] + (iy + 0.5) * size_m, np.nan)
    return x, y


def cell_polygons(
    cells: ArrayLike, size_m: float, *, origin: tuple[float, float] = (0.0, 0.0), crs: str | None = None
) -> NDArray[np.object_]:
    """Square polygons of packed cells: metric, or WGS-84 lon/lat when ``crs`` (the metric CRS) is given."""
    c = np.asarray(cells, dtype=np.int64).ravel()
    x, y = cell_centres(c, size_m, origin=origin)
    h = size_m / 2.0
    polys = shapely.box(x - h, y - h, x + h, y + h)
    if crs is not None:
        polys = shapely.transform(polys, lambda xy: np.column_stack(from_metric(xy[:, 0], xy[:, 1], crs)))
    polys = np.asarray(polys, dtype=object)
    polys[c < 0] = None
    return polys
