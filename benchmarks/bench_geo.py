"""Geo benchmark: polygon assignment, GCJ-02 → WGS-84 and H3 at 1 M and 10 M points.

Synthetic district near Shanghai (~9 × 10 km): 12 streets, 120 Voronoi communities, ~2,500 grid cells (each
community cut by a 250 m square grid, parent = community), 4 stations and 30 police districts. Points are uniform
over the district with 3 % strays over a box 10 % larger (a stress line puts all points there: ~17 % outside),
processed in batches of 500 k rows as the ingest does. Prints rows/s (wall and CPU) and peak RSS
(``resource.getrusage``).

    .venv/bin/python benchmarks/bench_geo.py            # 1 M and 10 M
    .venv/bin/python benchmarks/bench_geo.py --quick    # 200 k and 1 M
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import shapely

from anju.geo import coords, grid
from anju.geo.areas import AreaLayer, AreaSet

BBOX = (121.35, 31.10, 121.445, 31.19)
BATCH = 500_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _voronoi(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(np.column_stack([rng.uniform(BBOX[0], BBOX[2], n), rng.uniform(BBOX[1], BBOX[3], n)]))
    frame = shapely.box(*BBOX)
    return np.asarray(shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame)), frame))


def _locate_rep(parents: np.ndarray, children: np.ndarray, prefix: str) -> list[str | None]:
    rep = shapely.point_on_surface(children)
    tree = shapely.STRtree(parents)
    pairs = tree.query(rep, predicate="intersects")
    out: list[str | None] = [None] * len(children)
    for i, j in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
        if out[i] is None:
            out[i] = f"{prefix}{j}"
    return out


def _layer(name: str, geoms: np.ndarray, prefix: str, parents: list[str | None] | None = None) -> AreaLayer:
    ids = np.array([f"{prefix}{i}" for i in range(len(geoms))], dtype=object)
    par = np.array(parents if parents is not None else [None] * len(geoms), dtype=object)
    return AreaLayer(name, ids, ids.copy(), par, np.asarray(geoms, dtype=object),
                     pa.table({"area_id": ids.tolist(), "name": ids.tolist(), "parent_id": par.tolist()}))


def build_district() -> AreaSet:
    """The synthetic layers as an in-memory AreaSet."""
    streets = _voronoi(12, 1)
    comm = _voronoi(120, 2)
    step = 250.0 / 111_000.0  # ~250 m in degrees of latitude
    xs = np.arange(BBOX[0], BBOX[2], step / np.cos(np.radians(31.15)))
    ys = np.arange(BBOX[1], BBOX[3], step)
    squares = shapely.box(*[a.ravel() for a in np.meshgrid(xs, ys)],
                          *[a.ravel() + d for a, d in zip(np.meshgrid(xs, ys), (step / np.cos(np.radians(31.15)),
                                                                                   step), strict=True)])
    tree = shapely.STRtree(squares)
    grids, gpar = [], []
    for k, c in enumerate(comm):
        for j in tree.query(c, predicate="intersects").tolist():
            piece = shapely.intersection(c, squares[j])
            if piece.geom_type in ("Polygon", "MultiPolygon") and shapely.area(piece) > 1e-9:
                grids.append(piece)
                gpar.append(f"c{k}")
    stations = _voronoi(4, 3)
    pdist = _voronoi(30, 4)
    return AreaSet({
        "street": _layer("street", streets, "s"),
        "community": _layer("community", comm, "c", _locate_rep(streets, comm, "s")),
        "grid": _layer("grid", np.array(grids, dtype=object), "g", gpar),
        "station": _layer("station", stations, "p"),
        "police_district": _layer("police_district", pdist, "d", _locate_rep(stations, pdist, "p")),
    })


def _points(n: int, seed: int, stray: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """Uniform over the district, except a share ``stray`` uniform over its bbox + 5 % margin per side."""
    rng = np.random.default_rng(seed)
    w, h = BBOX[2] - BBOX[0], BBOX[3] - BBOX[1]
    x, y = rng.uniform(BBOX[0], BBOX[2], n), rng.uniform(BBOX[1], BBOX[3], n)
    k = rng.random(n) < stray
    x[k] = rng.uniform(BBOX[0] - 0.05 * w, BBOX[2] + 0.05 * w, int(k.sum()))
    y[k] = rng.uniform(BBOX[1] - 0.05 * h, BBOX[3] + 0.05 * h, int(k.sum()))
    return x, y


STRAY = 0.03


def _batched(n: int, fn: Callable[[np.ndarray, np.ndarray], object]) -> tuple[float, float]:
    """Run ``fn`` over n points in ingest-sized batches (points generated per batch, not timed).

    Returns (wall seconds, CPU seconds of this process): on a shared machine the CPU time is the steadier figure.
    """
    wall = cpu = 0.0
    for s in range(0, n, BATCH):
        x, y = _points(min(BATCH, n - s), s, STRAY)
        t, c = time.perf_counter(), time.process_time()
        fn(x, y)
        wall += time.perf_counter() - t
        cpu += time.process_time() - c
    return wall, cpu


def _row(what: str, n: int, times: tuple[float, float]) -> None:
    wall, cpu = times
    print(f"{what:<52s} {n:>11,d} rows {wall:7.2f} s {n / wall:>11,.0f} rows/s (CPU {cpu:6.2f} s, "
          f"{n / cpu:>11,.0f} rows/s)  peak RSS {_rss_mb():6.0f} MB", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the geo benchmark and print one line per measurement."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="200 k and 1 M points instead of 1 M and 10 M")
    args, _ = ap.parse_known_args(argv)  # tolerate flags meant for benchmarks/run.py
    sizes = (200_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)

    t = time.perf_counter()
    areas = build_district()
    print(f"synthetic district: {', '.join(f'{k} {len(v)}' for k, v in areas.layers.items())} "
          f"(built in {time.perf_counter() - t:.1f} s)")
    t, c = time.perf_counter(), time.process_time()
    x, y = _points(1000, 0)
    areas.assign(x, y, max_distance_m=200)  # builds the raster indexes and the metric nearest trees once
    print(f"index build (raster + STRtree, all layers): {time.perf_counter() - t:.2f} s "
          f"(CPU {time.process_time() - c:.2f} s); mixed cells "
          + ", ".join(f"{k} {v.index.mixed_share:.1%}" for k, v in areas.layers.items()))

    comm_only = AreaSet({"community": areas.layers["community"]}, areas.metric_crs)
    global STRAY
    print(f"points: uniform over the district, {STRAY:.0%} over its bbox + 5 % margin per side "
          f"(~0.5 % outside every polygon); batches of {BATCH:,}")
    for n in sizes:
        _row("assign 120 communities (polygon only)", n,
             _batched(n, lambda a, b: comm_only.assign(a, b, max_distance_m=0)))
        _row("assign 120 communities (polygon + nearest 200 m)", n,
             _batched(n, lambda a, b: comm_only.assign(a, b, max_distance_m=200)))
        _row("assign all 5 layers (polygon only)", n,
             _batched(n, lambda a, b: areas.assign(a, b, max_distance_m=0)))
        _row("assign all 5 layers (polygon + nearest 200 m)", n,
             _batched(n, lambda a, b: areas.assign(a, b, max_distance_m=200)))
    STRAY = 1.0
    _row("  stress: all layers + nearest, ~17 % points outside", sizes[0],
         _batched(sizes[0], lambda a, b: areas.assign(a, b, max_distance_m=200)))
    STRAY = 0.03
    n_exact = sizes[0]
    _row("  reference: exact STRtree 'intersects' (communities)", n_exact,
         _batched(n_exact, lambda a, b: areas.layers["community"].index.locate_exact(a, b)))
    for n in sizes:
        _row("GCJ-02 → WGS-84 (iterative)", n, _batched(n, coords.gcj02_to_wgs84))
        _row("WGS-84 → GCJ-02", n, _batched(n, coords.wgs84_to_gcj02))
        _row("H3 res 9 (vectorised)", n, _batched(n, lambda a, b: grid.h3_cells(a, b, 9)))
    n_loop = sizes[0]
    import h3.api.basic_int as h3i

    _row("  reference: h3.latlng_to_cell in a Python loop", n_loop,
         _batched(n_loop, lambda a, b: [h3i.latlng_to_cell(q, p, 9) for p, q in zip(a.tolist(), b.tolist(),
                                                                                     strict=True)]))


if __name__ == "__main__":
    main()
