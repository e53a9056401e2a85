"""A regular metric grid over the study area: the cells every forecast surface and score is defined on.

Cell ``(iy, ix)`` covers ``[x0 + ix·s, x0 + (ix+1)·s) × [y0 + iy·s, y0 + (iy+1)·s)`` with ``s`` the cell size in
metres; the flat cell id is ``iy·nx + ix`` (row-major, row 0 at the south). Origins built by
:meth:`Grid.from_bounds` are snapped to multiples of the cell size, so the cells line up with
``floor(x / s), floor(y / s)`` (the convention of ``anju.geo.grid.metric_cells``) and grids of one deployment nest.

The ``mask`` marks the cells inside the study area; scores (PAI's area ``A``) count masked cells only, and every
model returns 0 outside the mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from anju.errors import GeoError

__all__ = ["Grid"]


@dataclass(frozen=True, eq=False)
class Grid:
    """A metric grid with a study-area mask.

    Parameters
    ----------
    x0, y0 : float
        South-west corner in metres.
    cell_size : float
        Cell side in metres.
    nx, ny : int
        Number of columns and rows.
    mask : ndarray of bool, shape (ny, nx), optional
        Cells inside the study area (default: all).

    Examples
    --------
    >>> g = Grid.from_bounds(0, 0, 449, 299, 150)
    >>> g.shape, g.n_active, g.area_m2
    ((2, 3), 6, 135000.0)
    >>> g.counts(np.array([10.0, 20.0, 440.0]), np.array([10.0, 10.0, 299.0])).tolist()
    [[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int
    mask: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        if not (np.isfinite(self.cell_size) and self.cell_size > 0):
            raise GeoError(f"Grid cell_size must be a positive number of metres. Got {self.cell_size!r}.")
        if self.nx < 1 or self.ny < 1:
            raise GeoError(f"Grid needs at least one cell. Got nx={self.nx}, ny={self.ny}.")
        if self.nx * self.ny > 50_000_000:
            raise GeoError(
                f"Grid of {self.nx}×{self.ny} cells is too large; use a larger cell_size (got {self.cell_size} m)."
            )
        mask = np.ones((self.ny, self.nx), dtype=bool) if self.mask is None else np.asarray(self.mask, dtype=bool)
        if mask.shape != (self.ny, self.nx):
            raise GeoError(f"Grid mask must have shape (ny, nx) = {(self.ny, self.nx)}. Got {mask.shape}.")
        mask = mask.copy()
        mask.setflags(write=False)
        object.__setattr__(self, "mask", mask)

    # ---- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_bounds(
        cls, xmin: float, ymin: float, xmax: float, ymax: float, cell_size: float, *, mask: Any = None
    ) -> Grid:
        """The grid covering a bounding box, its origin snapped down to a multiple of ``cell_size``."""
        if not all(np.isfinite([xmin, ymin, xmax, ymax])) or xmax < xmin or ymax < ymin:
            raise GeoError(f"Grid bounds must be finite with min ≤ max. Got {(xmin, ymin, xmax, ymax)}.")
        if not cell_size > 0:
            raise GeoError(f"Grid cell_size must be a positive number of metres. Got {cell_size!r}.")
        x0 = float(np.floor(xmin / cell_size) * cell_size)
        y0 = float(np.floor(ymin / cell_size) * cell_size)
        nx = int(np.floor((xmax - x0) / cell_size)) + 1
        ny = int(np.floor((ymax - y0) / cell_size)) + 1
        return cls(x0, y0, float(cell_size), nx, ny, mask)

    @classmethod
    def from_points(
        cls, x: np.ndarray, y: np.ndarray, cell_size: float, *, mask: str = "all", dilate: int = 0
    ) -> Grid:
        """The grid covering points; ``mask="occupied"`` keeps cells holding ≥ 1 point, grown by ``dilate`` cells.

        Use an area polygon (:meth:`restrict_to`) when one exists; the occupied-cell mask is the usual fallback in
        the hot-spot literature when the study area has no boundary file.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            raise GeoError("Grid.from_points needs at least one point with finite coordinates.")
        x, y = x[ok], y[ok]
        grid = cls.from_bounds(x.min(), y.min(), x.max(), y.max(), cell_size)
        if mask == "all":
            return grid
        if mask != "occupied":
            raise GeoError(f"Grid.from_points mask must be 'all' or 'occupied'. Got {mask!r}.")
        occ = grid.counts(x, y) > 0
        if dilate > 0:
            occ = ndimage.binary_dilation(occ, iterations=int(dilate))
        return grid.with_mask(occ)

    def with_mask(self, mask: np.ndarray) -> Grid:
        """The same cells with another study-area mask."""
        return Grid(self.x0, self.y0, self.cell_size, self.nx, self.ny, mask)

    def restrict_to(self, geometry: Any) -> Grid:
        """Keep the masked cells whose centre lies inside a shapely (multi)polygon in the same metric CRS."""
        import shapely

        xc, yc = self.centres()
        inside = shapely.contains_xy(geometry, xc.ravel(), yc.ravel()).reshape(self.shape)
        return self.with_mask(self.mask & inside)

    # ---- geometry -----------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``, the shape of every surface on this grid."""
        return (self.ny, self.nx)

    @property
    def n_cells(self) -> int:
        return self.nx * self.ny

    @property
    def n_active(self) -> int:
        """Number of cells inside the study area."""
        return int(self.mask.sum())

    @property
    def cell_area_m2(self) -> float:
        return self.cell_size * self.cell_size

    @property
    def area_m2(self) -> float:
        """Study area A in m² (active cells × cell area)."""
        return self.n_active * self.cell_area_m2

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x0 + self.nx * self.cell_size, self.y0 + self.ny * self.cell_size)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates, two arrays of shape (ny, nx)."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell_size
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell_size
        return np.meshgrid(xs, ys)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat cell id of each point, −1 when outside the grid's extent (the mask is not applied)."""
        ix = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell_size)
        iy = np.floor((np.asarray(y, dtype=float) - self.y0) / self.cell_size)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(ix.shape, -1, dtype=np.int64)
        out[ok] = iy[ok].astype(np.int64) * self.nx + ix[ok].astype(np.int64)
        return out

    def counts(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Events (or weights) per cell, shape (ny, nx); points outside the extent are dropped."""
        idx = self.locate(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[ok]
        flat = np.bincount(idx[ok], weights=w, minlength=self.n_cells).astype(float)
        return flat.reshape(self.shape)

    def cell_polygons(self, cell_ids: np.ndarray) -> list[list[tuple[float, float]]]:
        """Closed rings (metric coordinates) of the given flat cell ids."""
        ids = np.asarray(cell_ids, dtype=np.int64)
        iy, ix = np.divmod(ids, self.nx)
        x0 = self.x0 + ix * self.cell_size
        y0 = self.y0 + iy * self.cell_size
        s = self.cell_size
        return [
            [(a, b), (a + s, b), (a + s, b + s), (a, b + s), (a, b)]
            for a, b in zip(x0.tolist(), y0.tolist(), strict=True)
        ]

    def to_frame(self, surface: np.ndarray, *, active_only: bool = True) -> pd.DataFrame:
        """A surface as a table: cell_id, ix, iy, x, y (centre, m), risk, rank (1 = highest), share."""
        surface = np.asarray(surface, dtype=float)
        if surface.shape != self.shape:
            raise GeoError(f"surface must have the grid's shape {self.shape}. Got {surface.shape}.")
        xc, yc = self.centres()
        ids = np.arange(self.n_cells, dtype=np.int64)
        keep = self.mask.ravel() if active_only else np.ones(self.n_cells, dtype=bool)
        df = pd.DataFrame({
            "cell_id": ids[keep],
            "ix": (ids % self.nx)[keep],
            "iy": (ids // self.nx)[keep],
            "x": xc.ravel()[keep],
            "y": yc.ravel()[keep],
            "risk": surface.ravel()[keep],
        })
        df["rank"] = df["risk"].rank(ascending=False, method="first").astype(np.int64)
        total = df["risk"].sum()
        df["share"] = df["risk"] / total if total > 0 else 0.0
        return df.sort_values("rank").reset_index(drop=True)
