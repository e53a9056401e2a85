"""A space-time cube: incident counts per location (grid cell or area) per time step.

Time steps have one fixed length (``"7D"``, ``"1D"``, ``"12h"`` …) and are aligned to the *end* of the analysed
span, as ArcGIS's Create Space Time Cube does, so the final step — the one emerging hot spot analysis cares about
most — is always complete. With ``start`` and ``end`` given, only whole steps that fit inside are kept; events
before the first whole step are left out (and counted in ``dropped``).

Locations are either every cell of a grid or, as in ArcGIS, only the cells with at least one event in the span
("locations with data"); the cube remembers which, so weights can be built for the same cells in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from anju.errors import GeoError
from anju.geo.regular_grid import RegularGrid
from anju.spatial.weights import distance_band, grid_contiguity

__all__ = ["SpaceTimeCube", "time_steps"]


def _to_ns(t: npt.ArrayLike) -> npt.NDArray[np.int64]:
    idx = pd.to_datetime(pd.Series(np.asarray(t)) if not isinstance(t, pd.Series) else t)
    return np.asarray(idx.to_numpy(dtype="datetime64[ns]")).view(np.int64)


def time_steps(
    t: npt.ArrayLike, *, step: str | pd.Timedelta = "7D", start: object = None, end: object = None
) -> tuple[npt.NDArray[np.int64], pd.DatetimeIndex]:
    """Step number of each timestamp (``-1`` outside the whole steps) and the ``n_steps + 1`` step edges.

    Steps are ``[edge_k, edge_{k+1})``, aligned so the last edge is ``end`` (default: the day after the latest
    timestamp, at midnight). ``start`` defaults to the earliest timestamp; only whole steps inside ``[start, end)``
    are kept.

    Examples
    --------
    >>> ts = pd.to_datetime(["2025-01-01 08:00", "2025-01-09 00:00", "2025-01-14 23:00"])
    >>> k, edges = time_steps(ts, step="7D", start="2025-01-01", end="2025-01-15")
    >>> k.tolist(), [str(e.date()) for e in edges]
    ([0, 1, 1], ['2025-01-01', '2025-01-08', '2025-01-15'])
    """
    width = pd.Timedelta(step)
    if width <= pd.Timedelta(0):
        raise GeoError(f"time_steps: step must be a positive duration like '7D'; got {step!r}.")
    ns = _to_ns(t)
    valid = ns != np.iinfo(np.int64).min  # NaT
    if end is None:
        if not valid.any():
            raise GeoError("time_steps: no valid timestamp to place the time steps; pass start= and end=.")
        end_ts = (pd.Timestamp(int(ns[valid].max())) + pd.Timedelta(days=1)).normalize()
    else:
        end_ts = pd.Timestamp(end)
    if start is None:
        if not valid.any():
            raise GeoError("time_steps: no valid timestamp to place the time steps; pass start= and end=.")
        start_ts = pd.Timestamp(int(ns[valid].min()))
    else:
        start_ts = pd.Timestamp(start)
    n_steps = int((end_ts - start_ts) // width)
    if n_steps < 1:
        raise GeoError(
            f"time_steps: the span {start_ts} → {end_ts} holds no whole step of {width}; use a shorter step or a "
            "longer period."
        )
    edges = pd.DatetimeIndex([end_ts - width * (n_steps - k) for k in range(n_steps + 1)])
    first = edges[0].value
    w = width.value
    k = np.full(ns.shape, -1, dtype=np.int64)
    inside = valid & (ns >= first) & (ns < end_ts.value)
    k[inside] = (ns[inside] - first) // w
    return k, edges


@dataclass(frozen=True)
class SpaceTimeCube:
    """Counts per location × time step.

    Attributes
    ----------
    counts : array (n_locations, n_steps) of float
    locations : array of int
        What each row is: a grid cell number (with ``grid``) or an area index.
    edges : DatetimeIndex
        ``n_steps + 1`` step edges; step ``k`` is ``[edges[k], edges[k+1])``.
    grid : RegularGrid or None
    dropped : int
        Events not counted (outside the whole steps, without coordinates, or outside the grid).
    """

    counts: npt.NDArray[np.float64]
    locations: npt.NDArray[np.int64]
    edges: pd.DatetimeIndex
    grid: RegularGrid | None = None
    dropped: int = 0
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_locations(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.counts.shape[1])

    @classmethod
    def from_events(
        cls,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        t: npt.ArrayLike,
        *,
        cell: float = 150.0,
        grid: RegularGrid | None = None,
        step: str | pd.Timedelta = "7D",
        start: object = None,
        end: object = None,
        locations: str = "occupied",
    ) -> SpaceTimeCube:
        """Count events (metric ``x``, ``y``, timestamps ``t``) per grid cell and time step.

        ``locations="occupied"`` keeps the cells with at least one counted event (ArcGIS's default);
        ``"all"`` keeps every cell of the grid (zeros included).
        """
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        k, edges = time_steps(t, step=step, start=start, end=end)
        if not (xa.shape == ya.shape == k.shape):
            raise GeoError(f"SpaceTimeCube.from_events: x, y and t must have one value per event; got "
                           f"{xa.shape}, {ya.shape}, {k.shape}.")
        g = grid if grid is not None else RegularGrid.from_points(xa[k >= 0], ya[k >= 0], cell)
        c = g.locate(xa, ya)
        ok = (c >= 0) & (k >= 0)
        return cls._assemble(c[ok], k[ok], g.n_cells, len(edges) - 1, edges, locations, g, int((~ok).sum()))

    @classmethod
    def from_codes(
        cls,
        codes: npt.ArrayLike,
        t: npt.ArrayLike,
        *,
        n_locations: int,
        step: str | pd.Timedelta = "7D",
        start: object = None,
        end: object = None,
    ) -> SpaceTimeCube:
        """Count events already assigned to locations ``0 … n_locations − 1`` (e.g. community indices; −1 = none).

        Every location is kept (areas are fixed units, a zero is information).
        """
        c = np.asarray(codes, dtype=np.int64)
        k, edges = time_steps(t, step=step, start=start, end=end)
        ok = (c >= 0) & (c < n_locations) & (k >= 0)
        return cls._assemble(c[ok], k[ok], n_locations, len(edges) - 1, edges, "all", None, int((~ok).sum()))

    @classmethod
    def _assemble(
        cls,
        c: npt.NDArray[np.int64],
        k: npt.NDArray[np.int64],
        n_loc: int,
        n_steps: int,
        edges: pd.DatetimeIndex,
        locations: str,
        grid: RegularGrid | None,
        dropped: int,
    ) -> SpaceTimeCube:
        if locations == "occupied":
            locs = np.unique(c)
            row = np.searchsorted(locs, c)
        elif locations == "all":
            locs = np.arange(n_loc, dtype=np.int64)
            row = c
        else:
            raise GeoError(f"SpaceTimeCube: locations must be 'occupied' or 'all'; got {locations!r}.")
        flat = np.bincount(row * n_steps + k, minlength=locs.size * n_steps)
        counts = flat.reshape(locs.size, n_steps).astype(np.float64)
        return cls(counts=counts, locations=locs.astype(np.int64), edges=edges, grid=grid, dropped=dropped)

    def weights(self, kind: str = "queen", *, distance: float | None = None) -> sp.csr_array:
        """Spatial weights between the cube's grid cells (queen/rook contiguity or a distance band), no diagonal."""
        if self.grid is None:
            raise GeoError("SpaceTimeCube.weights: this cube has no grid; build weights for its areas yourself.")
        if kind.lower() == "distance":
            if distance is None or not distance > 0:
                raise GeoError("SpaceTimeCube.weights: kind='distance' needs distance=<metres>.")
            cx, cy = self.grid.centres(self.locations)
            return distance_band(cx, cy, distance)
        return grid_contiguity(*self.grid.rowcol(self.locations), kind=kind)
