"""Benchmark of the spatial statistics: Gi* + FDR, emerging hot spots, Knox near-repeat test.

Targets (issue 4): 1 M events on a 30 × 30 km area with 150 m cells (40 000 cells) → Gi* + FDR < 5 s; Knox on
100 k events < 60 s. Also timed: emerging hot spots on a 40 000-cell × 52-week cube.

Usage: ``python benchmarks/bench_spatial.py [--quick]`` (quick: 100 k events, 10 k for Knox).
Events are synthetic and seeded: a uniform background plus Gaussian clusters (a city is clustered, and clustering
is what makes the Knox pair list long).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time

import numpy as np
import pandas as pd

from anju.geo.regular_grid import RegularGrid
from anju.spatial.cube import SpaceTimeCube
from anju.spatial.emerging import emerging_hotspots
from anju.spatial.gistar import confidence_bins, gi_star
from anju.spatial.nearrepeat import knox_test
from anju.spatial.weights import grid_contiguity

SIDE = 30_000.0  # metres
CELL = 150.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def events(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half uniform, half in 300 Gaussian clusters (σ 250 m); times over one year, in days."""
    nb = n // 2
    x = rng.uniform(0, SIDE, nb)
    y = rng.uniform(0, SIDE, nb)
    centres = rng.uniform(2000, SIDE - 2000, (300, 2))
    k = rng.integers(0, 300, n - nb)
    x = np.r_[x, centres[k, 0] + rng.normal(0, 250, n - nb)].clip(0, SIDE - 1)
    y = np.r_[y, centres[k, 1] + rng.normal(0, 250, n - nb)].clip(0, SIDE - 1)
    t = rng.uniform(0, 364, n)
    return x, y, t


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"{label:58s} {dt:8.2f} s (cpu {dc:6.2f} s)   peak RSS {peak_rss_mb():7.0f} MB", flush=True)
    return out, dt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    n_gi = 100_000 if quick else 1_000_000
    n_knox = 10_000 if quick else 100_000
    rng = np.random.default_rng(20250101)
    load = os.getloadavg()[0]
    print(f"machine: {platform.platform()}, python {platform.python_version()}, {os.cpu_count()} cpus, "
          f"load {load:.1f}; quick={quick}")
    if load > (os.cpu_count() or 1):
        print("  note: the machine is busy; wall times are inflated, cpu times are the better guide")

    # --- Gi* + FDR ------------------------------------------------------------------------------------------
    x, y, t = events(n_gi, rng)
    grid = RegularGrid.from_bounds(0, 0, SIDE - 1e-6, SIDE - 1e-6, CELL)
    t_all = 0.0
    counts, d = timed(f"grid counts: {n_gi:,} events → {grid.n_cells:,} cells", lambda: grid.counts(x, y).ravel())
    t_all += d
    W, d = timed("queen weights (with self)",
                 lambda: grid_contiguity(*grid.rowcol(np.arange(grid.n_cells)), kind="queen", self_weight=1.0))
    t_all += d
    res, d = timed("Gi* z-scores", gi_star, counts, W)
    t_all += d
    bins, d = timed("FDR confidence bins (3 levels)", confidence_bins, res.z, res.p, fdr=True)
    t_all += d
    print(f"{'=> Gi* + FDR total (target < 5 s)':58s} {t_all:8.2f} s   hot cells: {(bins > 0).sum():,}")
    timed("Gi* with 99 conditional permutations", gi_star, counts, W, permutations=99, seed=1)

    # --- emerging hot spots: 40k cells × 52 weeks ---------------------------------------------------------
    ts = pd.Timestamp("2025-01-06") + pd.to_timedelta(t, unit="D")
    cube, d1 = timed("space-time cube (all cells × 52 weekly steps)", SpaceTimeCube.from_events, x, y, ts,
                     grid=grid, step="7D", start="2025-01-06", end="2026-01-05", locations="all")
    print(f"  cube shape {cube.counts.shape}, dropped {cube.dropped}")
    Wc = cube.weights("queen")
    em, d2 = timed("emerging hot spots (space-time Gi*, FDR, 2 × Mann–Kendall)", emerging_hotspots, cube.counts, Wc)
    top = em["category"].value_counts().head(4).to_dict()
    print(f"{'=> emerging total':58s} {d1 + d2:8.2f} s   {top}")

    # --- Knox ---------------------------------------------------------------------------------------------
    kx, ky, kt = events(n_knox, rng)
    kt = np.floor(kt)
    kr, d = timed(f"Knox {n_knox:,} events, 99 permutations (target < 60 s)", knox_test, kx, ky, kt,
                  space_bands=[100, 200, 300, 400], time_bands=[7, 14, 21, 28], permutations=99, seed=1)
    within = int(kr.observed[:-1].sum())
    print(f"  pairs within 400 m: {within:,} of {kr.n_pairs:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
