"""Where a forecast grid sits: cell size, origin offset and rotation in the data's metric CRS.

Published forecasters tuned all three (the NIJ Real-Time Crime Forecasting Challenge winners shifted and rotated
their grids), so they are parameters rather than fixed choices. A rotated grid is handled by rotating the data:
events and study area are turned by ``-rotation_deg`` about the CRS origin, gridded with an axis-aligned
:class:`~anju.geo.regular_grid.RegularGrid`, and results are turned back (:meth:`GridFrame.to_data`). Cell areas are
exact in the CRS's unit: a cell of ``s`` units covers ``s²`` square units (feet in EPSG:2913, metres in UTM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from anju.errors import GeoError
from anju.geo.regular_grid import RegularGrid

__all__ = ["GridFrame"]


@dataclass(frozen=True)
class GridFrame:
    """Cell size, origin offset (``offset_x``, ``offset_y``, in CRS units) and rotation (degrees anticlockwise).

    Examples
    --------
    >>> f = GridFrame(100.0, rotation_deg=90.0)
    >>> gx, gy = f.to_grid(np.array([0.0]), np.array([50.0]))
    >>> [round(float(v), 6) for v in (*gx, *gy)]
    [50.0, 0.0]
    >>> [round(float(v[0]), 6) for v in f.to_data(gx, gy)]
    [0.0, 50.0]
    """

    cell_size: float = 150.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    rotation_deg: float = 0.0

    def __post_init__(self) -> None:
        for name in ("cell_size", "offset_x", "offset_y", "rotation_deg"):
            if not np.isfinite(getattr(self, name)):
                raise GeoError(f"grid {name} must be a finite number. Got {getattr(self, name)!r}.")
        if self.cell_size <= 0:
            raise GeoError(f"grid cell size must be positive. Got {self.cell_size!r}.")

    def _rot(self, x: npt.ArrayLike, y: npt.ArrayLike, deg: float) -> tuple[np.ndarray, np.ndarray]:
        xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if deg == 0:
            return xa, ya
        r = np.deg2rad(deg)
        c, s = np.cos(r), np.sin(r)
        return c * xa - s * ya, s * xa + c * ya

    def to_grid(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Data coordinates → the grid's (rotated) frame."""
        return self._rot(x, y, -self.rotation_deg)

    def to_data(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """The grid's frame → data coordinates."""
        return self._rot(x, y, self.rotation_deg)

    def geometry_to_grid(self, geom: Any) -> Any:
        """A shapely geometry (data CRS) in the grid's frame."""
        import shapely

        if self.rotation_deg == 0:
            return geom
        return shapely.transform(geom, lambda xy: np.column_stack(self.to_grid(xy[:, 0], xy[:, 1])))

    def geometry_to_data(self, geom: Any) -> Any:
        """Shapely geometries in the grid's frame back in the data CRS."""
        import shapely

        if self.rotation_deg == 0:
            return geom
        return shapely.transform(geom, lambda xy: np.column_stack(self.to_data(xy[:, 0], xy[:, 1])))

    def grid(self, x: npt.ArrayLike, y: npt.ArrayLike, *, study_area: Any = None, dilate: int = 1) -> RegularGrid:
        """The grid over grid-frame points: its cells cover the study area (grid frame) when given, masked to the
        cells touching it; otherwise the occupied cells grown by ``dilate``."""
        offset = (self.offset_x, self.offset_y)
        if study_area is None:
            return RegularGrid.from_points(x, y, self.cell_size, mask="occupied", dilate=dilate, offset=offset)
        import shapely

        xmin, ymin, xmax, ymax = shapely.bounds(study_area)
        g = RegularGrid.from_bounds(xmin, ymin, xmax, ymax, self.cell_size, offset=offset)
        touches = shapely.intersects(g.boxes(), study_area).reshape(g.shape)
        return g.with_mask(touches)
