"""Point-in-polygon and nearest-polygon lookups for one area layer, vectorised and cached.

:class:`PolygonIndex` answers "which polygon covers this point" for millions of points. A raster of the layer's
bounding box (up to ~4 M cells) is labelled once: every cell that a polygon boundary passes through (found by
sampling each boundary at half a cell; when two consecutive samples are diagonal neighbours both other cells of
their 2×2 block are marked too, so the marking is conservative) is *mixed*; every other cell
lies wholly inside one polygon or wholly outside all of them, and the cells of each 4-connected boundary-free region
share one answer, found by testing a single cell centre. A point in a clean cell is then answered by an array lookup;
only points in mixed cells (typically a few per cent) are tested exactly with an ``STRtree`` ``intersects`` query.
A point on a shared edge belongs to every polygon whose closure contains it; the lowest polygon index wins, so the
answer is deterministic. The exact test is the reference: tests check the raster path against ``shapely.covers``.

:class:`NearestIndex` finds the nearest polygon within a distance in metric coordinates (``STRtree`` ``dwithin``
candidates, exact distances, ties to the lowest index; tested against ``STRtree.query_nearest``).
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["NearestIndex", "PolygonIndex", "lowest_match"]

_TARGET_CELLS = 4_000_000
_MAX_SIDE = 4096
_MIXED = -2


def lowest_match(pairs: NDArray[np.intp], n: int) -> NDArray[np.int64]:
    """From STRtree (input, tree) index pairs, the lowest tree index per input (-1 when none)."""
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    if pairs.shape[1]:
        np.minimum.at(out, pairs[0], pairs[1].astype(np.int64))
    out[out == np.iinfo(np.int64).max] = -1
    return out


class PolygonIndex:
    """Locate points in a fixed array of (multi)polygons; see the module docstring."""

    def __init__(self, geometries: NDArray[np.object_]) -> None:
        self.geometries = np.asarray(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self._table: NDArray[np.int32] | None = None
        self._grid: tuple[float, float, float, int, int] | None = None

    # -- exact path -------------------------------------------------------------------------------------------
    def locate_exact(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Lowest index of a polygon covering each point (-1 none); NaN → -1."""
        out = np.full(x.size, -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if ok.size == 0 or self.geometries.size == 0:
            return out
        pts = shapely.points(x[ok], y[ok])
        pairs = self.tree.query(pts, predicate="intersects")
        out[ok] = lowest_match(pairs, ok.size)
        return out

    # -- raster path ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        minx, miny, maxx, maxy = shapely.total_bounds(self.geometries).tolist()
        w, h = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        d = max(np.sqrt(w * h / _TARGET_CELLS), w / _MAX_SIDE, h / _MAX_SIDE, 1e-7)
        # pad by two cells so points just outside the bbox still fall in the (clean, empty) border
        x0, y0 = minx - 2 * d, miny - 2 * d
        nx = int(np.ceil((maxx - x0) / d)) + 3
        ny = int(np.ceil((maxy - y0) / d)) + 3
        mixed = np.zeros((ny, nx), dtype=bool)
        lines = shapely.get_parts(shapely.segmentize(shapely.boundary(self.geometries), d / 2.0))
        xy, part = shapely.get_coordinates(lines, return_index=True)
        if xy.size:
            ix = np.clip(np.floor((xy[:, 0] - x0) / d).astype(np.int64), 0, nx - 1)
            iy = np.clip(np.floor((xy[:, 1] - y0) / d).astype(np.int64), 0, ny - 1)
            mixed[iy, ix] = True
            # consecutive samples (≤ d/2 apart) sit in the same or neighbouring cells; when they are diagonal
            # neighbours the segment between them may cross either of the two other cells of the 2×2 block
            diag = (part[1:] == part[:-1]) & (ix[1:] != ix[:-1]) & (iy[1:] != iy[:-1])
            k = np.flatnonzero(diag)
            mixed[iy[k], ix[k + 1]] = True
            mixed[iy[k + 1], ix[k]] = True
        labels, n = ndimage.label(~mixed)
        table = np.full(ny * nx, _MIXED, dtype=np.int32)
        flat = labels.ravel()
        if n:
            # one representative cell per region: its centre decides the whole region
            first = np.full(n + 1, -1, dtype=np.int64)
            cells = np.flatnonzero(flat)
            first[flat[cells[::-1]]] = cells[::-1]
            reps = first[1:]
            cy, cx = np.divmod(reps, nx)
            answer = self.locate_exact(x0 + (cx + 0.5) * d, y0 + (cy + 0.5) * d)
            lut = np.concatenate([[_MIXED], answer]).astype(np.int32)
            table = lut[flat]
        self._table = table
        self._grid = (x0, y0, d, nx, ny)

    def locate(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Lowest index of a polygon covering each point (-1 none): raster lookup, exact test on mixed cells."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.geometries.size == 0:
            return np.full(x.size, -1, dtype=np.int64)
        if self._table is None:
            self._build()
        assert self._table is not None and self._grid is not None
        x0, y0, d, nx, ny = self._grid
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - x0) / d)
            fy = np.floor((y - y0) / d)
            inside = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # False for NaN
        out = np.full(x.size, -1, dtype=np.int64)
        idx = np.flatnonzero(inside)
        code = self._table[fy[idx].astype(np.int64) * nx + fx[idx].astype(np.int64)]
        out[idx] = code
        hard = idx[code == _MIXED]
        if hard.size:
            out[hard] = self.locate_exact(x[hard], y[hard])
        return out

    @property
    def mixed_share(self) -> float:
        """Share of raster cells that need the exact test (diagnostic)."""
        if self._table is None:
            self._build()
        assert self._table is not None
        return float((self._table == _MIXED).mean())


class NearestIndex:
    """Nearest polygon within a distance, in a metric CRS.

    Candidates come from an ``STRtree`` ``dwithin`` query (after a bounding-box prefilter that drops points farther
    than the distance from the whole layer); the exact distances of the candidate pairs then pick the nearest, ties
    to the lowest index. That is about twice as fast as ``query_nearest`` and gives the same answer (tested).
    """

    def __init__(self, metric_geometries: NDArray[np.object_]) -> None:
        self.geometries = np.asarray(metric_geometries, dtype=object)
        self.tree = shapely.STRtree(self.geometries)
        self.bounds = shapely.total_bounds(self.geometries) if self.geometries.size else np.full(4, np.nan)

    def nearest(self, x: NDArray[np.float64], y: NDArray[np.float64], max_distance: float) -> NDArray[np.int64]:
        """Index of the nearest polygon within ``max_distance`` metres (ties: lowest index), -1 beyond or NaN."""
        out = np.full(x.size, -1, dtype=np.int64)
        if self.geometries.size == 0 or not max_distance > 0:
            return out
        b = self.bounds
        with np.errstate(invalid="ignore"):
            near = ((x >= b[0] - max_distance) & (x <= b[2] + max_distance)
                    & (y >= b[1] - max_distance) & (y <= b[3] + max_distance))
        ok = np.flatnonzero(near)
        if ok.size == 0:
            return out
        pts = shapely.points(x[ok], y[ok])
        pairs = self.tree.query(pts, predicate="dwithin", distance=float(max_distance))
        if pairs.shape[1] == 0:
            return out
        d = shapely.distance(pts[pairs[0]], self.geometries[pairs[1]])
        order = np.lexsort((pairs[1], d, pairs[0]))  # by point, then distance, then polygon index
        first = order[np.r_[True, pairs[0][order][1:] != pairs[0][order][:-1]]]
        out[ok[pairs[0][first]]] = pairs[1][first]
        return out
