"""The regular metric grid: square cells over a bounded extent, with a study-area mask.

One class, :class:`RegularGrid`, serves every part that puts events on cells — forecast surfaces and their scores
(:mod:`anju.forecast`), Gi* hot-spot maps and space-time cubes (:mod:`anju.spatial`). Cell ``(iy, ix)`` covers
``[x0 + ix·s, x0 + (ix+1)·s) × [y0 + iy·s, y0 + (iy+1)·s)`` with ``s = cell_size`` in metres of the deployment's
metric CRS; the flat cell id is ``iy·nx + ix`` (row-major, row 0 at the south, column 0 at the west). Origins built
by :meth:`RegularGrid.from_bounds` / :meth:`RegularGrid.from_points` are snapped to multiples of the cell size, so
the cells line up with ``floor(x / s), floor(y / s)`` (the convention of :func:`anju.geo.grid.metric_cells`) and two
grids of one deployment — last week's hot spots and next week's forecast — nest cell for cell.

Surfaces on a grid (counts, forecasts) are arrays of :attr:`RegularGrid.shape` ``(ny, nx)``; per-cell vectors are
their ``ravel()`` (flat cell id order). The ``mask`` marks the cells inside the study area: forecast scores count
masked cells only (PAI's area ``A``); it does not change cell ids, counts or centres.

Spatial weights between cells are a statistics concern and live in :mod:`anju.spatial.weights`
(``grid_contiguity(*grid.rowcol(cells))``); this module needs only NumPy and pandas (SciPy and shapely on demand).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from anju.errors import GeoError

__all__ = ["MAX_CELLS", "RegularGrid"]

#: Largest grid accepted (cells); a larger one is almost always a wrong cell size or unit (degrees for metres).
MAX_CELLS = 50_000_000


@dataclass(frozen=True, eq=False)
class RegularGrid:
    """A regular grid of square ``cell_size`` × ``cell_size`` metre cells, ``nx`` wide and ``ny`` high.

    Parameters
    ----------
    x0, y0 : float
        Metric coordinates of the south-west corner of cell 0.
    cell_size : float
        Cell edge length in metres (e.g. 150).
    nx, ny : int
        Number of columns (west → east) and rows (south → north).
    mask : ndarray of bool, shape (ny, nx), optional
        Cells inside the study area (default: all). Stored read-only.

    Two grids are equal when they have the same cells and the same mask.

    Examples
    --------
    >>> g = RegularGrid.from_bounds(0, 0, 449, 299, 150)
    >>> g.shape, g.n_cells, g.n_active, g.area_m2
    ((2, 3), 6, 6, 135000.0)
    >>> g.locate(np.array([10.0, 440.0, -1.0]), np.array([10.0, 299.0, 0.0])).tolist()
    [0, 5, -1]
    >>> g.counts(np.array([10.0, 20.0, 440.0]), np.array([10.0, 10.0, 299.0])).tolist()
    [[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> [a.tolist() for a in g.rowcol([0, 5])], [a.tolist() for a in g.centres([0, 5])]
    ([[0, 1], [0, 2]], [[75.0, 375.0], [75.0, 225.0]])
    """

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int
    mask: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        _check_cell_size(self.cell_size)
        if self.nx < 1 or self.ny < 1:
            raise GeoError(f"RegularGrid needs at least one row and column. Got nx={self.nx}, ny={self.ny}.")
        if self.nx * self.ny > MAX_CELLS:
            raise GeoError(
                f"RegularGrid of {self.nx}×{self.ny} cells is too large (limit {MAX_CELLS:,}); use a larger "
                f"cell_size (got {self.cell_size} m) or check that the coordinates are metres."
            )
        mask = np.ones((self.ny, self.nx), dtype=bool) if self.mask is None else np.asarray(self.mask, dtype=bool)
        if mask.shape != (self.ny, self.nx):
            raise GeoError(f"RegularGrid mask must have shape (ny, nx) = {(self.ny, self.nx)}. Got {mask.shape}.")
        mask = mask.copy()
        mask.setflags(write=False)
        object.__setattr__(self, "mask", mask)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegularGrid):
            return NotImplemented
        return self._key() == other._key() and bool(np.array_equal(self.mask, other.mask))

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[float, float, float, int, int]:
        return (float(self.x0), float(self.y0), float(self.cell_size), int(self.nx), int(self.ny))

    # ---- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_bounds(
        cls, xmin: float, ymin: float, xmax: float, ymax: float, cell_size: float, *, mask: Any = None,
        offset: tuple[float, float] = (0.0, 0.0),
    ) -> RegularGrid:
        """The smallest grid with origin on ``offset`` + a multiple of ``cell_size`` that covers the box (edges
        included). The offset shifts the cell boundaries (published forecasters tune it); default 0."""
        if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmax < xmin or ymax < ymin:
            raise GeoError(
                f"RegularGrid bounds must be finite with min ≤ max. Got {(xmin, ymin, xmax, ymax)}; check for "
                "NaN or swapped coordinates."
            )
        _check_cell_size(cell_size)
        ox, oy = (float(v) for v in offset)
        x0 = float(np.floor((xmin - ox) / cell_size) * cell_size + ox)
        y0 = float(np.floor((ymin - oy) / cell_size) * cell_size + oy)
        nx = int(np.floor((xmax - x0) / cell_size)) + 1
        ny = int(np.floor((ymax - y0) / cell_size)) + 1
        return cls(x0, y0, float(cell_size), nx, ny, mask)

    @classmethod
    def from_points(
        cls, x: npt.ArrayLike, y: npt.ArrayLike, cell_size: float, *, mask: str = "all", dilate: int = 0,
        offset: tuple[float, float] = (0.0, 0.0),
    ) -> RegularGrid:
        """The grid covering every finite point (NaN coordinates are ignored).

        ``mask="occupied"`` keeps the cells holding ≥ 1 point, grown by ``dilate`` edge-neighbour steps
        (:func:`scipy.ndimage.binary_dilation`). Use an area polygon (:meth:`restrict_to`) when one exists; the
        occupied-cell mask is the usual fallback in the hot-spot literature when the study area has no boundary file.
        """
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        ok = np.isfinite(xa) & np.isfinite(ya)
        if not ok.any():
            raise GeoError(
                "RegularGrid.from_points: no point has finite x/y coordinates; check that the events carry "
                "metric coordinates (columns x, y)."
            )
        xa, ya = xa[ok], ya[ok]
        grid = cls.from_bounds(xa.min(), ya.min(), xa.max(), ya.max(), cell_size, offset=offset)
        if mask == "all":
            return grid
        if mask != "occupied":
            raise GeoError(f"RegularGrid.from_points mask must be 'all' or 'occupied'. Got {mask!r}.")
        occ = grid.counts(xa, ya) > 0
        if dilate > 0:
            from scipy import ndimage

            occ = ndimage.binary_dilation(occ, iterations=int(dilate))
        return grid.with_mask(occ)

    def with_mask(self, mask: npt.ArrayLike) -> RegularGrid:
        """The same cells with another study-area mask (shape ``(ny, nx)``)."""
        return RegularGrid(self.x0, self.y0, self.cell_size, self.nx, self.ny, np.asarray(mask, dtype=bool))

    def restrict_to(self, geometry: Any) -> RegularGrid:
        """Keep the masked cells whose centre lies inside a shapely (multi)polygon in the same metric CRS."""
        import shapely

        xc, yc = self.centres()
        inside = shapely.contains_xy(geometry, xc, yc).reshape(self.shape)
        return self.with_mask(self.mask & inside)

    # ---- size -----------------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``, the shape of every surface on this grid."""
        return (self.ny, self.nx)

    @property
    def n_cells(self) -> int:
        """Number of cells, ``nx * ny`` (inside the mask or not)."""
        return self.nx * self.ny

    @property
    def n_active(self) -> int:
        """Number of cells inside the study area (the mask)."""
        return int(self.mask.sum())

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell in m²."""
        return self.cell_size * self.cell_size

    @property
    def area_m2(self) -> float:
        """Study area A in m² (active cells × cell area)."""
        return self.n_active * self.cell_area_m2

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the whole grid in metres."""
        return (self.x0, self.y0, self.x0 + self.nx * self.cell_size, self.y0 + self.ny * self.cell_size)

    # ---- point → cell ---------------------------------------------------------------------------------------------
    def locate(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Flat cell id of each point; ``-1`` for NaN coordinates or points outside the extent (mask not applied)."""
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        with np.errstate(invalid="ignore"):
            ix = np.floor((xa - self.x0) / self.cell_size)
            iy = np.floor((ya - self.y0) / self.cell_size)
            ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(xa.shape, -1, dtype=np.int64)
        out[ok] = iy[ok].astype(np.int64) * self.nx + ix[ok].astype(np.int64)
        return out

    def counts(
        self, x: npt.ArrayLike, y: npt.ArrayLike, weights: npt.ArrayLike | None = None
    ) -> npt.NDArray[np.float64]:
        """Events (or summed weights) per cell, shape ``(ny, nx)``; points outside the extent are dropped.

        ``counts(x, y).ravel()`` is the per-cell vector in flat cell id order.
        """
        idx = self.locate(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[ok]
        flat = np.bincount(idx[ok], weights=w, minlength=self.n_cells).astype(np.float64)
        return flat.reshape(self.shape)

    # ---- cell → position and geometry -------------------------------------------------------------------------
    def rowcol(self, cells: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``(row, col)`` = ``(iy, ix)`` of flat cell ids."""
        c = self._check_cells(cells)
        return c // self.nx, c % self.nx

    def centres(
        self, cells: npt.ArrayLike | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Metric ``(x, y)`` of cell centres, flat: all cells in id order when ``cells`` is None.

        ``reshape(grid.shape)`` gives the centres as surfaces.
        """
        c = np.arange(self.n_cells) if cells is None else self._check_cells(cells)
        row, col = c // self.nx, c % self.nx
        cx = (self.x0 + (col + 0.5) * self.cell_size).astype(np.float64)
        cy = (self.y0 + (row + 0.5) * self.cell_size).astype(np.float64)
        return cx, cy

    def boxes(self, cells: npt.ArrayLike | None = None) -> npt.NDArray[np.object_]:
        """Shapely polygons of the cells (all when ``cells`` is None), in the grid's metric CRS."""
        import shapely

        cx, cy = self.centres(cells)
        h = self.cell_size / 2
        return shapely.box(cx - h, cy - h, cx + h, cy + h)

    def rings(self, cells: npt.ArrayLike) -> list[list[tuple[float, float]]]:
        """Closed coordinate rings (metric, SW → SE → NE → NW → SW) of the given cells, e.g. for GeoJSON."""
        ids = np.asarray(cells, dtype=np.int64)
        iy, ix = np.divmod(ids, self.nx)
        x0 = self.x0 + ix * self.cell_size
        y0 = self.y0 + iy * self.cell_size
        s = self.cell_size
        return [
            [(a, b), (a + s, b), (a + s, b + s), (a, b + s), (a, b)]
            for a, b in zip(x0.tolist(), y0.tolist(), strict=True)
        ]

    def to_frame(self, surface: npt.ArrayLike, *, active_only: bool = True) -> pd.DataFrame:
        """A surface as a table: cell_id, ix, iy, x, y (centre, m), risk, rank (1 = highest), share."""
        s = np.asarray(surface, dtype=float)
        if s.shape != self.shape:
            raise GeoError(f"surface must have the grid's shape {self.shape}. Got {s.shape}.")
        xc, yc = self.centres()
        ids = np.arange(self.n_cells, dtype=np.int64)
        keep = self.mask.ravel() if active_only else np.ones(self.n_cells, dtype=bool)
        df = pd.DataFrame({
            "cell_id": ids[keep],
            "ix": (ids % self.nx)[keep],
            "iy": (ids // self.nx)[keep],
            "x": xc[keep],
            "y": yc[keep],
            "risk": s.ravel()[keep],
        })
        df["rank"] = df["risk"].rank(ascending=False, method="first").astype(np.int64)
        total = df["risk"].sum()
        df["share"] = df["risk"] / total if total > 0 else 0.0
        return df.sort_values("rank").reset_index(drop=True)

    def _check_cells(self, cells: npt.ArrayLike) -> npt.NDArray[np.int64]:
        c = np.asarray(cells, dtype=np.int64)
        if c.size and (c.min() < 0 or c.max() >= self.n_cells):
            raise GeoError(
                f"RegularGrid: cell ids must lie in [0, {self.n_cells}); got range [{c.min()}, {c.max()}]."
            )
        return c


def _check_cell_size(cell_size: float) -> None:
    if not (cell_size > 0 and math.isfinite(cell_size)):
        raise GeoError(f"RegularGrid cell_size must be a positive number of metres. Got {cell_size!r}.")
