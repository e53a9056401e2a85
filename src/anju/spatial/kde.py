"""Binned kernel density heat maps (热力图) on a metric grid.

Points (metres in the deployment's metric CRS, the lake's ``x``/``y``) are counted into square cells (the cells of
``numpy.histogram2d``; for the lake the engine counts them, so only occupied cells reach the driver), then smoothed with a Gaussian kernel of standard deviation ``bandwidth`` metres
(``scipy.ndimage.gaussian_filter``). This is the binned KDE of Wand (1994): exact up to binning error of about a
cell, and ~300× faster than evaluating a kernel per point (1 M points in about 0.2 s). Densities are incidents per
km² over the period. The grid carries its extent and CRS, so cells and centres convert to WGS-84 for maps via
:func:`anju.geo.projection.from_metric`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from anju.errors import KDEError

__all__ = ["KDEGrid", "extent_from_bounds", "extent_of", "heat_map", "heat_maps", "kde_grid"]

Extent = tuple[float, float, float, float]
MAX_CELLS = 16_000_000


@dataclass(frozen=True)
class KDEGrid:
    """A smoothed density grid.

    Attributes
    ----------
    density : ndarray, shape (ny, nx)
        Incidents per km²; row 0 is the southernmost row (``y`` grows with the row index).
    extent : (xmin, ymin, xmax, ymax)
        Metres in ``crs``; cell ``(r, c)`` spans ``xmin + c·cell_size`` … and ``ymin + r·cell_size`` ….
    cell_size, bandwidth : float
        Metres.
    crs : str or None
        The metric CRS (e.g. ``EPSG:32651``); needed for the WGS-84 helpers.
    n : int
        Points used (weights summed when weighted).
    """

    density: NDArray[np.float64]
    extent: Extent
    cell_size: float
    bandwidth: float
    crs: str | None
    n: float

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.density.shape[0]), int(self.density.shape[1]))

    @property
    def cell_area_km2(self) -> float:
        return self.cell_size**2 / 1e6

    @property
    def total(self) -> float:
        """Smoothed mass inside the grid (≈ ``n`` minus what the kernel spread beyond the edge)."""
        return float(self.density.sum() * self.cell_area_km2)

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cell centres in metres, flattened row-major (same order as ``density.ravel()``)."""
        ny, nx = self.shape
        xs = self.extent[0] + (np.arange(nx) + 0.5) * self.cell_size
        ys = self.extent[1] + (np.arange(ny) + 0.5) * self.cell_size
        gx, gy = np.meshgrid(xs, ys)
        return gx.ravel(), gy.ravel()

    def _need_crs(self) -> str:
        if not self.crs:
            raise KDEError("this heat map has no CRS; pass crs= (the deployment's metric CRS) to convert to WGS-84")
        return self.crs

    def centres_wgs84(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cell centres as WGS-84 lon/lat (flattened row-major)."""
        from anju.geo.projection import from_metric

        x, y = self.centres()
        lon, lat = from_metric(x, y, self._need_crs())
        return np.asarray(lon, float), np.asarray(lat, float)

    def cell_polygons_wgs84(self, mask: ArrayLike | None = None) -> NDArray[np.object_]:
        """Cell squares as shapely polygons in WGS-84 (flattened row-major), optionally only where ``mask``."""
        import shapely

        from anju.geo.projection import from_metric

        x, y = self.centres()
        keep = np.ones(x.shape, bool) if mask is None else np.asarray(mask, bool).ravel()
        x, y = x[keep], y[keep]
        h = self.cell_size / 2
        cx = np.stack([x - h, x + h, x + h, x - h, x - h], axis=1)
        cy = np.stack([y - h, y - h, y + h, y + h, y - h], axis=1)
        lon, lat = from_metric(cx.ravel(), cy.ravel(), self._need_crs())
        coords = np.stack([np.asarray(lon, float), np.asarray(lat, float)], axis=1).reshape(-1, 5, 2)
        return np.asarray(shapely.polygons(coords), dtype=object)

    def to_frame(self, min_share: float = 0.0, *, wgs84: bool = True) -> pd.DataFrame:
        """Cells with density above ``min_share × max`` as rows: ``row``, ``col``, ``x``, ``y``, [``lon``, ``lat``],
        ``density`` — the input of a chart's heat layer."""
        d = self.density.ravel()
        peak = float(d.max()) if d.size else 0.0
        keep = d > max(peak * min_share, 0.0) if peak > 0 else np.zeros(d.shape, bool)
        x, y = self.centres()
        rows, cols = np.divmod(np.arange(d.size), self.shape[1])
        out = pd.DataFrame({"row": rows[keep], "col": cols[keep], "x": x[keep], "y": y[keep]})
        if wgs84 and self.crs:
            lon, lat = self.centres_wgs84()
            out["lon"], out["lat"] = lon[keep], lat[keep]
        out["density"] = d[keep]
        return out


def _snap(extent: Extent, cell: float) -> Extent:
    x0, y0, x1, y1 = extent
    return (math.floor(x0 / cell) * cell, math.floor(y0 / cell) * cell,
            math.ceil(x1 / cell) * cell, math.ceil(y1 / cell) * cell)


def _check_params(cell_size: float, bandwidth: float) -> None:
    if not (cell_size > 0 and math.isfinite(cell_size)):
        raise KDEError(f"cell_size must be a positive number of metres; got {cell_size!r}")
    if not (bandwidth >= 0 and math.isfinite(bandwidth)):
        raise KDEError(f"bandwidth must be a non-negative number of metres; got {bandwidth!r}")


def kde_grid(
    x: ArrayLike,
    y: ArrayLike,
    *,
    cell_size: float = 100.0,
    bandwidth: float = 300.0,
    extent: Extent | None = None,
    weights: ArrayLike | None = None,
    crs: str | None = None,
    truncate: float = 4.0,
) -> KDEGrid:
    """Binned Gaussian KDE of points on a square metric grid.

    Parameters
    ----------
    x, y : array_like
        Metres (NaN points are dropped).
    cell_size : float
        Cell edge in metres.
    bandwidth : float
        Gaussian kernel standard deviation in metres (0 = plain counts per cell).
    extent : (xmin, ymin, xmax, ymax), optional
        Grid extent (snapped outwards to whole cells); default: the points' bounds padded by 3 bandwidths. Use one
        extent for all-day, night and per-family maps so they align. Points outside are ignored; cells are
        ``numpy.histogram2d``'s (half-open, the last row and column closed: a point on the max edge counts).
    weights : array_like, optional
        Point weights (e.g. severity).
    crs : str, optional
        Metric CRS of ``x``/``y``, kept for the WGS-84 helpers.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = kde_grid(rng.normal(0, 200, 5000), rng.normal(0, 200, 5000), cell_size=50, bandwidth=100)
    >>> r, c = np.unravel_index(g.density.argmax(), g.shape)
    >>> xs, ys = g.centres()
    >>> bool(abs(xs[r * g.shape[1] + c]) < 100), bool(abs(ys[r * g.shape[1] + c]) < 100), round(g.total / 5000, 2)
    (True, True, 1.0)
    """
    _check_params(cell_size, bandwidth)
    xx = np.asarray(x, dtype=float).ravel()
    yy = np.asarray(y, dtype=float).ravel()
    if xx.shape != yy.shape:
        raise KDEError(f"x and y differ in length ({xx.size} vs {yy.size})")
    ww = None if weights is None else np.asarray(weights, dtype=float).ravel()
    ok = np.isfinite(xx) & np.isfinite(yy)
    if ww is not None:
        ok &= np.isfinite(ww)
        ww = ww[ok]
    xx, yy = xx[ok], yy[ok]
    if extent is None:
        if xx.size == 0:
            raise KDEError("no points with coordinates and no extent given; pass extent= for an empty map")
        pad = 3 * bandwidth + cell_size
        extent = (float(xx.min()) - pad, float(yy.min()) - pad, float(xx.max()) + pad, float(yy.max()) + pad)
    ext, nx, ny = _shape(extent, cell_size)
    inside = (xx >= ext[0]) & (xx <= ext[2]) & (yy >= ext[1]) & (yy <= ext[3])
    col = np.minimum(np.floor((xx[inside] - ext[0]) / cell_size).astype(np.int64), nx - 1)
    row = np.minimum(np.floor((yy[inside] - ext[1]) / cell_size).astype(np.int64), ny - 1)
    flat = row * nx + col
    h = np.bincount(flat, weights=None if ww is None else ww[inside], minlength=nx * ny).astype(float)
    h = h.reshape(ny, nx)
    n = float(h.sum())
    sigma = bandwidth / cell_size
    if sigma > 0:
        h = ndimage.gaussian_filter(h, sigma=sigma, mode="constant", truncate=truncate)
    return KDEGrid(density=h / (cell_size**2 / 1e6), extent=ext, cell_size=float(cell_size),
                   bandwidth=float(bandwidth), crs=crs, n=n)


def extent_from_bounds(bounds: tuple[float, float, float, float], crs: str, *, cell_size: float = 100.0,
                       pad: float = 0.0) -> Extent:
    """Metric extent of WGS-84 bounds ``(minlon, minlat, maxlon, maxlat)`` (e.g. ``AreaSet.bounds``), padded."""
    from anju.geo.projection import to_metric

    lon = np.array([bounds[0], bounds[2], bounds[0], bounds[2]])
    lat = np.array([bounds[1], bounds[1], bounds[3], bounds[3]])
    x, y = to_metric(lon, lat, crs)
    return _snap((float(np.min(x)) - pad, float(np.min(y)) - pad, float(np.max(x)) + pad, float(np.max(y)) + pad),
                 cell_size)


def _filtered(incidents: ir.Table, period: Any, *, night: Any = None, families: Iterable[str] | None = None,
              categories: Iterable[str] | None = None, taxonomy: Any = None) -> ir.Table:
    from anju.analytics._common import category_filter, in_period
    from anju.analytics.window import as_window

    t = in_period(incidents, period) if period is not None else incidents
    t = category_filter(t, families=families, categories=categories, taxonomy=taxonomy)
    w = as_window(night)
    if w is not None:
        t = t.filter(w.expr(t))
    return t.filter(t.x.notnull() & t.y.notnull())


def _shape(extent: Extent, cell_size: float) -> tuple[Extent, int, int]:
    ext = _snap(extent, cell_size)
    nx = max(1, round((ext[2] - ext[0]) / cell_size))
    ny = max(1, round((ext[3] - ext[1]) / cell_size))
    if nx * ny > MAX_CELLS:
        raise KDEError(f"the grid would have {nx} × {ny} = {nx * ny:,} cells (limit {MAX_CELLS:,}); use a larger "
                       "cell_size or a smaller extent")
    return (ext[0], ext[1], ext[0] + nx * cell_size, ext[1] + ny * cell_size), nx, ny


def _engine_bins(t: ir.Table, ext: Extent, nx: int, ny: int, cell_size: float, extra: tuple[str, ...] = ()
                 ) -> pd.DataFrame:
    """Counts per grid cell computed by the engine: one GROUP BY over the cell indices, so only the occupied cells'
    counts reach the driver, never the points (a province's half-year is hundreds of millions of rows).

    The cells are :func:`kde_grid`'s and ``numpy.histogram2d``'s: half-open ``[edge, next edge)`` except the last
    row and column, which also take points exactly on the grid's max edge; points outside are dropped. The index is
    ``floor((x - xmin) / cell)`` in IEEE doubles on every engine, so DuckDB and Spark put each point in the same cell.
    """
    t = t.filter((t.x >= ext[0]) & (t.x <= ext[2]) & (t.y >= ext[1]) & (t.y <= ext[3]))
    col = ibis.least(((t.x - ext[0]) / cell_size).floor().cast("int64"), nx - 1)
    row = ibis.least(((t.y - ext[1]) / cell_size).floor().cast("int64"), ny - 1)
    t = t.mutate(_c=col, _r=row)
    return t.group_by([*extra, "_r", "_c"]).aggregate(n=ibis._.count()).to_pandas()


def _from_bins(df: pd.DataFrame, ext: Extent, nx: int, ny: int, cell_size: float, bandwidth: float,
               crs: str | None, truncate: float = 4.0) -> KDEGrid:
    h = np.zeros((ny, nx))
    if len(df):
        np.add.at(h, (df["_r"].to_numpy(np.int64), df["_c"].to_numpy(np.int64)), df["n"].to_numpy(float))
    n = float(h.sum())
    if bandwidth > 0:
        h = ndimage.gaussian_filter(h, sigma=bandwidth / cell_size, mode="constant", truncate=truncate)
    return KDEGrid(density=h / (cell_size**2 / 1e6), extent=ext, cell_size=float(cell_size),
                   bandwidth=float(bandwidth), crs=crs, n=n)


def _bounds(t: ir.Table, pad: float) -> Extent:
    b = t.aggregate(x0=t.x.min(), y0=t.y.min(), x1=t.x.max(), y1=t.y.max()).to_pandas().iloc[0]
    if pd.isna(b["x0"]):
        raise KDEError("no incident with coordinates in this period; pass extent= for an empty map")
    return (float(b["x0"]) - pad, float(b["y0"]) - pad, float(b["x1"]) + pad, float(b["y1"]) + pad)


def extent_of(incidents: ir.Table, period: Any = None, *, cell_size: float = 100.0, pad: float = 300.0) -> Extent:
    """Extent of the incidents with coordinates (in ``period`` if given), padded and snapped — one extent for all
    maps of a release."""
    return _snap(_bounds(_filtered(incidents, period), pad), cell_size)


def heat_map(
    incidents: ir.Table,
    period: Any,
    *,
    crs: str | None = None,
    night: Any = None,
    families: Iterable[str] | None = None,
    taxonomy: Any = None,
    categories: Iterable[str] | None = None,
    cell_size: float = 100.0,
    bandwidth: float = 300.0,
    extent: Extent | None = None,
) -> KDEGrid:
    """Heat map of a period's incidents (optionally only at night or only some families) from the lake's ``x``/``y``.

    The engine counts the points per cell (only the cell counts are fetched); the smoothing is then done in NumPy.
    Without ``extent`` the grid covers the points padded by 3 bandwidths (pass one extent to align several maps).

    ``night``: ``True`` for 21:00–03:00, a window text or :class:`anju.analytics.window.NightWindow`.
    """
    _check_params(cell_size, bandwidth)
    t = _filtered(incidents, period, night=night, families=families, categories=categories, taxonomy=taxonomy)
    if extent is None:
        extent = _bounds(t, 3 * bandwidth + cell_size)
    ext, nx, ny = _shape(extent, cell_size)
    return _from_bins(_engine_bins(t, ext, nx, ny, cell_size), ext, nx, ny, cell_size, bandwidth, crs)


def heat_maps(
    incidents: ir.Table,
    period: Any,
    *,
    crs: str | None = None,
    night: Any = None,
    families: Iterable[str] | None = None,
    taxonomy: Any = None,
    cell_size: float = 100.0,
    bandwidth: float = 300.0,
    extent: Extent | None = None,
) -> dict[str, KDEGrid]:
    """One heat map per category family (one query), on a common extent; key ``"all"`` holds all families."""
    _check_params(cell_size, bandwidth)
    t = _filtered(incidents, period, night=night, families=families, taxonomy=taxonomy)
    if extent is None:
        extent = _bounds(t, 3 * bandwidth + cell_size)
    ext, nx, ny = _shape(extent, cell_size)
    bins = _engine_bins(t, ext, nx, ny, cell_size, extra=("family",))
    allb = bins.groupby(["_r", "_c"], as_index=False)["n"].sum()
    out = {"all": _from_bins(allb, ext, nx, ny, cell_size, bandwidth, crs)}
    for f in sorted(set(bins["family"]) if families is None else set(families)):
        out[str(f)] = _from_bins(bins[bins["family"] == f], ext, nx, ny, cell_size, bandwidth, crs)
    return out
