"""Patrol plans per shift: K contiguous patrol areas that cover the most predicted incidents, and a Koper-curve
schedule of short stops at each area's hot boxes ("警力跟着警情走").

Areas are found by seeded greedy region growing: for each unit in turn, the ``n_seeds`` riskiest free cells are
tried as seeds, each seed grows by repeatedly adding the riskiest free neighbouring cell (4-connected) until the area
holds ``max_cells`` cells, and the best-scoring region is kept. The problem (K disjoint connected regions of bounded
size maximising covered risk) is NP-hard; ``docs/methods/patrol.md`` reports the greedy result against the exact
optimum (:func:`exact_patrol_areas`) on small grids.

The schedule follows Koper (1995): stops of 10–16 minutes, long enough for residual deterrence and not longer,
rotating among the hot boxes so that each is revisited within two hours (Sherman & Weisburd 1995's Minneapolis
dosage; Telep, Mitchell & Weisburd 2014's Sacramento trial).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from anju.errors import ConfigError
from anju.forecast.events import Shift, parse_shift
from anju.geo.regular_grid import RegularGrid

__all__ = ["PatrolPlan", "exact_patrol_areas", "koper_schedule", "patrol_areas", "plan_patrol"]

_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _check_surface(surface: np.ndarray, grid: RegularGrid) -> np.ndarray:
    s = np.asarray(surface, dtype=float)
    if s.shape != grid.shape:
        raise ConfigError(f"surface must have the grid's shape {grid.shape}. Got {s.shape}.", key="surface")
    if not np.isfinite(s).all() or (s < 0).any():
        raise ConfigError("surface must be finite and non-negative (a forecast's expected counts).", key="surface")
    return np.where(grid.mask, s, 0.0)


def _neighbours(c: int, nx: int, ny: int) -> list[int]:
    iy, ix = divmod(c, nx)
    return [(iy + dy) * nx + ix + dx for dx, dy in _NEIGHBOURS if 0 <= ix + dx < nx and 0 <= iy + dy < ny]


def _grow(seed: int, risk: np.ndarray, free: np.ndarray, nx: int, ny: int, max_cells: int) -> list[int]:
    """Greedy growth from ``seed`` with a one-cell lookahead.

    At each step the region takes either its riskiest free 4-neighbour, or a neighbour together with one of that
    neighbour's free neighbours, whichever adds the most risk per cell — so a low-risk connector is taken when a
    rich cell lies behind it.
    """
    region = [seed]
    taken = {seed}
    frontier = {j for j in _neighbours(seed, nx, ny) if free[j]}
    while frontier and len(region) < max_cells:
        slots = max_cells - len(region)
        best_gain = -1.0
        best: tuple[int, ...] = (seed,)
        for c in sorted(frontier):
            if risk[c] > best_gain:
                best_gain, best = float(risk[c]), (c,)
            if slots >= 2:
                for d in _neighbours(c, nx, ny):
                    if free[d] and d not in taken and d != c:
                        gain = (float(risk[c]) + float(risk[d])) / 2.0
                        if gain > best_gain + 1e-15:
                            best_gain, best = gain, (c, d)
        for c in best:
            if c in taken:
                continue
            taken.add(c)
            region.append(c)
            frontier.discard(c)
            frontier.update(j for j in _neighbours(c, nx, ny) if free[j] and j not in taken)
    return region


def patrol_areas(
    surface: np.ndarray, grid: RegularGrid, units: int, *, max_cells: int = 20, n_seeds: int = 10
) -> list[np.ndarray]:
    """K disjoint 4-connected patrol areas of at most ``max_cells`` active cells covering the most risk.

    Returns one array of flat cell ids per unit, riskiest area first (fewer if the study area runs out).

    Examples
    --------
    >>> g = RegularGrid.from_bounds(0, 0, 499, 99, 100)  # 1 × 5 cells
    >>> s = np.array([[5.0, 0.0, 1.0, 4.0, 3.0]])
    >>> [a.tolist() for a in patrol_areas(s, g, 2, max_cells=2)]
    [[3, 4], [0, 1]]
    """
    if not isinstance(units, (int, np.integer)) or units < 1:
        raise ConfigError(f"units must be a positive integer. Got {units!r}.", key="units")
    if not isinstance(max_cells, (int, np.integer)) or max_cells < 1:
        raise ConfigError(f"max_cells must be a positive integer. Got {max_cells!r}.", key="max_cells")
    risk = _check_surface(surface, grid).ravel()
    free = grid.mask.ravel().copy()
    areas: list[np.ndarray] = []
    for _ in range(int(units)):
        idx = np.flatnonzero(free)
        if idx.size == 0:
            break
        k = min(int(n_seeds), idx.size)
        seeds = idx[np.argsort(-risk[idx], kind="stable")[:k]]
        best: list[int] | None = None
        best_value = -1.0
        for seed in seeds.tolist():
            region = _grow(seed, risk, free, grid.nx, grid.ny, int(max_cells))
            value = float(risk[region].sum())
            if value > best_value + 1e-12:
                best, best_value = region, value
        assert best is not None
        free[best] = False
        areas.append(np.asarray(sorted(best, key=lambda c: -risk[c]), dtype=np.int64))
    return areas


def _connected_sets(nx: int, ny: int, active: np.ndarray, max_cells: int) -> list[int]:
    """All 4-connected sets of ≤ max_cells active cells, as bitmasks (each enumerated once)."""
    n = nx * ny
    neigh = []
    for c in range(n):
        iy, ix = divmod(c, nx)
        neigh.append([(iy + dy) * nx + ix + dx for dx, dy in _NEIGHBOURS
                      if 0 <= ix + dx < nx and 0 <= iy + dy < ny and active[(iy + dy) * nx + ix + dx]])
    found: set[int] = set()
    frontier = {1 << c for c in range(n) if active[c]}
    found |= frontier
    for _ in range(max_cells - 1):
        nxt: set[int] = set()
        for m in frontier:
            cells = [c for c in range(n) if m >> c & 1]
            for c in cells:
                for j in neigh[c]:
                    if not m >> j & 1:
                        nxt.add(m | 1 << j)
        nxt -= found
        found |= nxt
        frontier = nxt
    return sorted(found)


def exact_patrol_areas(surface: np.ndarray, grid: RegularGrid, units: int, *, max_cells: int
                       ) -> tuple[float, list[int]]:
    """Brute-force optimum of the patrol-area problem on a tiny grid (≤ 36 cells): best covered risk and bitmasks.

    Enumerates every connected set of ≤ ``max_cells`` cells and searches disjoint combinations; exponential, meant
    only to measure the greedy's approximation quality in tests and docs.
    """
    if grid.n_cells > 36:
        raise ConfigError(f"exact_patrol_areas is for tiny grids (≤ 36 cells). Got {grid.n_cells}.", key="grid")
    risk = _check_surface(surface, grid).ravel()
    sets = _connected_sets(grid.nx, grid.ny, grid.mask.ravel(), max_cells)
    values = {m: float(sum(risk[c] for c in range(grid.n_cells) if m >> c & 1)) for m in sets}
    ranked = sorted(sets, key=lambda m: -values[m])
    best_value, best_sets = -1.0, []
    k = min(int(units), len(ranked))
    # branch and bound over the ranked sets
    def search(start: int, chosen: list[int], used: int, value: float) -> None:
        nonlocal best_value, best_sets
        if len(chosen) == k:
            if value > best_value:
                best_value, best_sets = value, list(chosen)
            return
        for i in range(start, len(ranked)):
            m = ranked[i]
            if value + values[m] * (k - len(chosen)) <= best_value:
                return  # sets are sorted: no later choice can do better
            if m & used:
                continue
            chosen.append(m)
            search(i + 1, chosen, used | m, value + values[m])
            chosen.pop()

    search(0, [], 0, 0.0)
    return best_value, best_sets


def _tour(cells: np.ndarray, grid: RegularGrid) -> np.ndarray:
    """Nearest-neighbour tour through the cells, starting at the first (riskiest)."""
    xc, yc = grid.centres()
    px, py = xc.ravel()[cells], yc.ravel()[cells]
    order = [0]
    left = list(range(1, cells.size))
    while left:
        last = order[-1]
        d = [np.hypot(px[j] - px[last], py[j] - py[last]) for j in left]
        order.append(left.pop(int(np.argmin(d))))
    return cells[np.asarray(order)]


def _travel_minutes(a: int, b: int, grid: RegularGrid, speed_kmh: float, min_travel: float) -> float:
    ay, ax = divmod(a, grid.nx)
    by, bx = divmod(b, grid.nx)
    km = np.hypot(ax - bx, ay - by) * grid.cell_size / 1000.0
    return max(min_travel, km / speed_kmh * 60.0) if a != b else 0.0


def koper_schedule(
    areas: list[np.ndarray],
    surface: np.ndarray,
    grid: RegularGrid,
    *,
    start: Any,
    hours: float = 8.0,
    stop_minutes: tuple[float, float] = (10.0, 16.0),
    revisit_minutes: float = 120.0,
    speed_kmh: float = 15.0,
    min_travel_minutes: float = 2.0,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Stops per unit over a shift: rotate through the area's hot boxes with 10–16-minute stops.

    Each unit's hot boxes are its area's riskiest cells, as many as fit in a cycle that — with the longest stop and
    the travel between them — lasts at most ``revisit_minutes``; the unit repeats that cycle (a nearest-neighbour
    tour) until the shift ends, with stop lengths drawn uniformly in ``stop_minutes`` so visits are not predictable.

    Returns a table: unit, visit, cell_id, x, y, arrive, depart, stop_minutes, risk.
    """
    lo, hi = float(stop_minutes[0]), float(stop_minutes[1])
    if not 0 < lo <= hi:
        raise ConfigError(f"stop_minutes must be (min, max) with 0 < min ≤ max. Got {stop_minutes!r}.",
                          key="stop_minutes")
    if hi > revisit_minutes:
        raise ConfigError(f"revisit_minutes ({revisit_minutes}) must exceed the longest stop ({hi}).",
                          key="revisit_minutes")
    risk = _check_surface(surface, grid).ravel()
    xc, yc = grid.centres()
    rng = np.random.default_rng(random_state)
    t0 = pd.Timestamp(start)
    rows = []
    for unit, cells in enumerate(areas, start=1):
        ranked = cells[np.argsort(-risk[cells], kind="stable")]
        boxes = ranked[:1]
        for h in range(ranked.size, 0, -1):  # the most boxes whose worst-case cycle fits the revisit bound
            tour = _tour(ranked[:h], grid)
            cycle = h * hi + sum(_travel_minutes(int(tour[i]), int(tour[(i + 1) % h]), grid, speed_kmh,
                                                 min_travel_minutes) for i in range(h))
            if cycle <= revisit_minutes or h == 1:
                boxes = tour
                break
        clock = 0.0
        visit = 0
        i = 0
        while True:
            cell = int(boxes[i % boxes.size])
            stop = float(rng.uniform(lo, hi))
            if clock + stop > hours * 60.0:
                break
            visit += 1
            rows.append({
                "unit": unit, "visit": visit, "cell_id": cell,
                "x": float(xc.ravel()[cell]), "y": float(yc.ravel()[cell]),
                "arrive": t0 + pd.Timedelta(minutes=clock),
                "depart": t0 + pd.Timedelta(minutes=clock + stop),
                "stop_minutes": stop, "risk": float(risk[cell]),
            })
            nxt = int(boxes[(i + 1) % boxes.size])
            clock += stop + _travel_minutes(cell, nxt, grid, speed_kmh, min_travel_minutes)
            i += 1
    return pd.DataFrame(rows, columns=["unit", "visit", "cell_id", "x", "y", "arrive", "depart", "stop_minutes",
                                       "risk"])


@dataclass
class PatrolPlan:
    """A shift's patrol plan: the areas, the stop schedule and how much predicted risk they cover."""

    grid: RegularGrid
    surface: np.ndarray
    areas: list[np.ndarray]
    schedule: pd.DataFrame
    shift: Shift | None
    start: pd.Timestamp
    total_expected: float
    covered_expected: float
    hot_box_expected: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def covered_share(self) -> float:
        """Share of the predicted incidents of the study area that fall in the patrol areas."""
        return self.covered_expected / self.total_expected if self.total_expected > 0 else 0.0

    @property
    def hot_box_share(self) -> float:
        """Share of predicted incidents in the cells that actually receive Koper stops."""
        return self.hot_box_expected / self.total_expected if self.total_expected > 0 else 0.0

    def areas_frame(self) -> pd.DataFrame:
        """One row per unit: cells, area (km²), expected incidents, share, hot boxes, stops, minutes on scene,
        longest gap between visits to one box (minutes)."""
        risk = self.surface.ravel()
        rows = []
        for unit, cells in enumerate(self.areas, start=1):
            sch = self.schedule[self.schedule["unit"] == unit]
            gaps = []
            for _, g in sch.groupby("cell_id"):
                arr = g["arrive"].sort_values()
                gaps.extend((arr.diff().dt.total_seconds() / 60.0).dropna().tolist())
            exp = float(risk[cells].sum())
            rows.append({
                "unit": unit,
                "cells": int(cells.size),
                "area_km2": cells.size * self.grid.cell_area_m2 / 1e6,
                "expected": exp,
                "share": exp / self.total_expected if self.total_expected > 0 else 0.0,
                "hot_boxes": int(sch["cell_id"].nunique()),
                "stops": len(sch),
                "minutes_on_scene": float(sch["stop_minutes"].sum()),
                "max_revisit_gap_min": max(gaps) if gaps else np.nan,
            })
        return pd.DataFrame(rows)

    def cells_frame(self) -> pd.DataFrame:
        """One row per patrol cell: unit, cell_id, x, y, risk, hot_box."""
        xc, yc = self.grid.centres()
        boxes = set(self.schedule["cell_id"].tolist())
        rows = []
        for unit, cells in enumerate(self.areas, start=1):
            for c in cells.tolist():
                rows.append({"unit": unit, "cell_id": c, "x": float(xc.ravel()[c]), "y": float(yc.ravel()[c]),
                             "risk": float(self.surface.ravel()[c]), "hot_box": c in boxes})
        return pd.DataFrame(rows)


def plan_patrol(
    surface: np.ndarray,
    grid: RegularGrid,
    units: int,
    *,
    shift: str | Shift | None = None,
    date: Any = None,
    max_cells: int = 20,
    n_seeds: int = 10,
    stop_minutes: tuple[float, float] = (10.0, 16.0),
    revisit_minutes: float = 120.0,
    speed_kmh: float = 15.0,
    random_state: int | None = 0,
) -> PatrolPlan:
    """Patrol areas and a Koper schedule for ``units`` units over one shift of ``date``.

    Examples
    --------
    >>> g = RegularGrid.from_bounds(0, 0, 999, 999, 100)
    >>> s = np.zeros(g.shape); s[2, 2] = s[2, 3] = 3.0; s[7, 7] = 2.0; s[0, 9] = 1.0
    >>> plan = plan_patrol(s, g, 2, shift="夜班", date="2024-05-01", max_cells=4)
    >>> round(plan.covered_share, 3), plan.start
    (0.889, Timestamp('2024-05-01 00:00:00'))
    """
    sh = parse_shift(shift)
    day = pd.Timestamp(date if date is not None else pd.Timestamp.now().normalize()).normalize()
    start = day + pd.Timedelta(hours=sh.start_hour) if sh is not None else day
    hours = sh.hours if sh is not None else 24.0
    s = _check_surface(surface, grid)
    areas = patrol_areas(s, grid, units, max_cells=max_cells, n_seeds=n_seeds)
    schedule = koper_schedule(areas, s, grid, start=start, hours=hours, stop_minutes=stop_minutes,
                              revisit_minutes=revisit_minutes, speed_kmh=speed_kmh, random_state=random_state)
    flat = s.ravel()
    covered = float(sum(flat[a].sum() for a in areas))
    boxes = np.unique(schedule["cell_id"].to_numpy(dtype=np.int64)) if len(schedule) else np.zeros(0, np.int64)
    return PatrolPlan(
        grid=grid, surface=s, areas=areas, schedule=schedule, shift=sh, start=start,
        total_expected=float(flat.sum()), covered_expected=covered, hot_box_expected=float(flat[boxes].sum()),
        meta={"units": int(units), "max_cells": int(max_cells), "stop_minutes": stop_minutes,
              "revisit_minutes": revisit_minutes, "speed_kmh": speed_kmh},
    )

