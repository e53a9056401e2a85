"""A regular square grid in metric coordinates: the cells that hot spot maps, space-time cubes and forecasts share.

Cells are numbered row-major from the south-west corner: ``cell = row * ncols + col`` with ``row`` growing north
and ``col`` growing east. The origin is snapped to a multiple of the cell size, so two grids built from different
periods of the same district line up cell for cell (a forecast for next week and last week's hot spots can be
compared directly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from anju.errors import GeoError

__all__ = ["RegularGrid"]


@dataclass(frozen=True)
class RegularGrid:
    """A regular grid of square ``cell`` × ``cell`` metre cells, ``ncols`` wide and ``nrows`` high.

    Parameters
    ----------
    x0, y0 : float
        Metric coordinates of the south-west corner of cell 0.
    cell : float
        Cell edge length in metres (e.g. 150).
    ncols, nrows : int
        Grid size.

    Examples
    --------
    >>> import numpy as np
    >>> g = RegularGrid.from_points(np.array([10.0, 460.0]), np.array([5.0, 140.0]), cell=150)
    >>> (g.x0, g.y0, g.ncols, g.nrows)
    (0.0, 0.0, 4, 1)
    >>> g.index(np.array([10.0, 460.0, -1.0]), np.array([5.0, 140.0, 0.0])).tolist()
    [0, 3, -1]
    """

    x0: float
    y0: float
    cell: float
    ncols: int
    nrows: int

    def __post_init__(self) -> None:
        if not (self.cell > 0 and math.isfinite(self.cell)):
            raise GeoError(f"RegularGrid: cell size must be a positive number of metres; got {self.cell!r}.")
        if self.ncols < 1 or self.nrows < 1:
            raise GeoError(
                f"RegularGrid: the grid needs at least one row and column; got ncols={self.ncols}, "
                f"nrows={self.nrows}."
            )

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_bounds(cls, xmin: float, ymin: float, xmax: float, ymax: float, cell: float) -> RegularGrid:
        """The smallest grid with origin on a multiple of ``cell`` that covers the box (edges included)."""
        if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmax < xmin or ymax < ymin:
            raise GeoError(
                f"RegularGrid.from_bounds: bounds must be finite with min <= max; got "
                f"({xmin}, {ymin}, {xmax}, {ymax})."
            )
        if not cell > 0:
            raise GeoError(f"RegularGrid: cell size must be a positive number of metres; got {cell!r}.")
        x0 = math.floor(xmin / cell) * cell
        y0 = math.floor(ymin / cell) * cell
        ncols = math.floor((xmax - x0) / cell) + 1
        nrows = math.floor((ymax - y0) / cell) + 1
        return cls(float(x0), float(y0), float(cell), ncols, nrows)

    @classmethod
    def from_points(cls, x: npt.ArrayLike, y: npt.ArrayLike, cell: float) -> RegularGrid:
        """The grid covering every finite point (NaN coordinates are ignored)."""
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        ok = np.isfinite(xa) & np.isfinite(ya)
        if not ok.any():
            raise GeoError(
                "RegularGrid.from_points: no point has finite x/y coordinates; check that the events carry "
                "metric coordinates (columns x, y)."
            )
        return cls.from_bounds(xa[ok].min(), ya[ok].min(), xa[ok].max(), ya[ok].max(), cell)

    # -- properties ---------------------------------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        """Number of cells, ``ncols * nrows``."""
        return self.ncols * self.nrows

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the whole grid in metres."""
        return (self.x0, self.y0, self.x0 + self.ncols * self.cell, self.y0 + self.nrows * self.cell)

    # -- point → cell -------------------------------------------------------------------------------------------
    def index(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Cell number of each point; ``-1`` for NaN coordinates or points outside the grid."""
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        with np.errstate(invalid="ignore"):
            col = np.floor((xa - self.x0) / self.cell)
            row = np.floor((ya - self.y0) / self.cell)
            ok = (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)
        out = np.full(xa.shape, -1, dtype=np.int64)
        out[ok] = row[ok].astype(np.int64) * self.ncols + col[ok].astype(np.int64)
        return out

    def counts(
        self, x: npt.ArrayLike, y: npt.ArrayLike, *, weights: npt.ArrayLike | None = None
    ) -> npt.NDArray[np.float64]:
        """Number (or weighted sum) of points per cell, an array of length :attr:`n_cells`."""
        idx = self.index(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[ok]
        return np.bincount(idx[ok], weights=w, minlength=self.n_cells).astype(np.float64)

    # -- cell → geometry ----------------------------------------------------------------------------------------
    def rowcol(self, cells: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``(row, col)`` of cell numbers."""
        c = self._check_cells(cells)
        return c // self.ncols, c % self.ncols

    def centres(
        self, cells: npt.ArrayLike | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Metric ``(x, y)`` of cell centres (all cells when ``cells`` is None)."""
        c = np.arange(self.n_cells) if cells is None else self._check_cells(cells)
        row, col = c // self.ncols, c % self.ncols
        cx = (self.x0 + (col + 0.5) * self.cell).astype(np.float64)
        cy = (self.y0 + (row + 0.5) * self.cell).astype(np.float64)
        return cx, cy

    def boxes(self, cells: npt.ArrayLike | None = None) -> npt.NDArray[np.object_]:
        """Shapely polygons of the cells, in the grid's metric CRS."""
        import shapely

        cx, cy = self.centres(cells)
        h = self.cell / 2
        return shapely.box(cx - h, cy - h, cx + h, cy + h)

    def weights(
        self, kind: str = "queen", *, cells: npt.ArrayLike | None = None, self_weight: float = 0.0
    ) -> sp.csr_array:
        """Contiguity weights between cells (all cells, or the subset ``cells`` in that order).

        Thin door to :func:`anju.spatial.weights.grid_contiguity`.
        """
        from anju.spatial.weights import grid_contiguity

        c = np.arange(self.n_cells) if cells is None else self._check_cells(cells)
        row, col = c // self.ncols, c % self.ncols
        return grid_contiguity(row, col, kind=kind, self_weight=self_weight)

    def _check_cells(self, cells: npt.ArrayLike) -> npt.NDArray[np.int64]:
        c = np.asarray(cells, dtype=np.int64)
        if c.size and (c.min() < 0 or c.max() >= self.n_cells):
            raise GeoError(
                f"RegularGrid: cell numbers must lie in [0, {self.n_cells}); got range [{c.min()}, {c.max()}]."
            )
        return c
