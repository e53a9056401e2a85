"""Benchmark of the Safety Index release: one district-year (about 0.5 M calls) plus its comparison year.

Builds (once, cached under ``$ANJU_BENCH_DIR`` or the system temp folder) a demo district with two years of calls,
then times ``anju.release`` end to end: assembling the release from the analytics functions, and each renderer
(JSON, XLSX, HTML, PDF). Prints the timings, throughput and peak RSS.

Usage: ``python benchmarks/bench_release.py [--quick] [--scale S] [--repeat N]``
(``--quick``: scale 0.05, about 25 k calls a year).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(data_dir: Path, scale: float, end_year: int) -> int:
    """Build the demo district (two years) into ``data_dir`` (a no-op when already there); returns lake rows."""
    from anju.config import load_settings
    from anju.demo.build import run_demo
    from anju.lake.engine import open_lake

    settings = load_settings(data_dir=data_dir, quiet=True)
    run_demo(settings, seed=42, scale=scale, years=2, end_year=end_year, out_dir=data_dir.parent / "files")
    with open_lake(settings) as lake:
        return int(lake.incidents().count().execute())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scale", type=float, default=None, help="demo scale (default 1.1 ≈ 0.5 M calls a year)")
    ap.add_argument("--repeat", type=int, default=2, help="runs; the first includes import costs (cold)")
    ap.add_argument("--end-year", type=int, default=2025)
    args = ap.parse_args(argv)
    scale = args.scale if args.scale is not None else (0.05 if args.quick else 1.1)

    from anju.config import load_settings
    from anju.deployment import load_deployment
    from anju.release import render_all
    from anju.services.lake import open_lake
    from anju.services.release import release_model

    root = Path(os.environ.get("ANJU_BENCH_DIR", tempfile.gettempdir())) / f"anju-bench-release-{scale:g}"
    t0 = time.perf_counter()
    rows = prepare(root / "data", scale, args.end_year)
    print(f"data: {rows:,} calls in the lake ({root}); prepared in {time.perf_counter() - t0:.1f} s")
    settings = load_settings(data_dir=root / "data", quiet=True)
    period = f"{args.end_year}H2"
    load0 = f"{os.getloadavg()[0]:.1f}"
    runs: list[tuple[dict[str, float], dict[str, float]]] = []
    for _ in range(max(1, args.repeat)):
        timings: dict[str, float] = {}
        cpus: dict[str, float] = {}
        t, c = time.perf_counter(), time.process_time()
        dep = load_deployment(settings)
        with open_lake(dep) as lake:
            release = release_model(dep, lake, period)
        timings["assemble (analytics)"] = time.perf_counter() - t
        cpus["assemble (analytics)"] = time.process_time() - c
        out = root / "release"
        for fmt in ("json", "xlsx", "html", "pdf"):
            t, c = time.perf_counter(), time.process_time()
            render_all(release, out, [fmt])
            timings[f"render {fmt}"] = time.perf_counter() - t
            cpus[f"render {fmt}"] = time.process_time() - c
        timings["total"] = sum(timings.values())
        cpus["total"] = sum(cpus.values())
        runs.append((timings, cpus))
    cold = runs[0]
    warm = min(runs[1:] or runs, key=lambda r: r[0]["total"])
    print(f"load average before/after: {load0} / {os.getloadavg()[0]:.1f} (2-core machine shared with others: "
          "CPU time is the better guide when it is high)")
    print(f"{'step':22s} {'cold wall':>10s} {'cold CPU':>9s} {'warm wall':>10s} {'warm CPU':>9s}")
    for k in cold[0]:
        print(f"{k:22s} {cold[0][k]:9.2f}s {cold[1][k]:8.2f}s {warm[0][k]:9.2f}s {warm[1][k]:8.2f}s")
    best = warm[0]
    n_period = release.meta.incidents
    print(f"release {period}: {n_period:,} calls in the period, {rows:,} in the lake; "
          f"{rows / best['total']:,.0f} lake rows/s end to end (warm); peak RSS {_rss_mib():,.0f} MiB")
    sizes = {p.name: p.stat().st_size / 1024 for p in sorted((root / "release").iterdir())}
    print("files: " + ", ".join(f"{k} {v:,.0f} KiB" for k, v in sizes.items()))
    budget = 15.0
    wall, cpu_s = best["total"], warm[1]["total"]
    verdict = "OK" if wall < budget else (
        f"wall MISSED on this loaded machine (load {os.getloadavg()[0]:.1f}); CPU {cpu_s:.1f} s "
        f"{'fits' if cpu_s < budget else 'does NOT fit'} the budget on an idle 2-core machine")
    print(f"goal: whole release incl. PDF < {budget:.0f} s (warm wall {wall:.1f} s, CPU {cpu_s:.1f} s) -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
