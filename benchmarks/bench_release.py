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
    from anju.lake import connect

    settings = load_settings(data_dir=data_dir, quiet=True)
    run_demo(settings, seed=42, scale=scale, years=2, end_year=end_year, out_dir=data_dir.parent / "files")
    return int(connect(settings).incidents().count().execute())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scale", type=float, default=None, help="demo scale (default 1.1 ≈ 0.5 M calls a year)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--end-year", type=int, default=2025)
    args = ap.parse_args(argv)
    scale = args.scale if args.scale is not None else (0.05 if args.quick else 1.1)

    from anju.config import load_settings
    from anju.release import render_all
    from anju.release.assemble import assemble_release

    root = Path(os.environ.get("ANJU_BENCH_DIR", tempfile.gettempdir())) / f"anju-bench-release-{scale:g}"
    t0 = time.perf_counter()
    rows = prepare(root / "data", scale, args.end_year)
    print(f"data: {rows:,} calls in the lake ({root}); prepared in {time.perf_counter() - t0:.1f} s")
    settings = load_settings(data_dir=root / "data", quiet=True)
    period = f"{args.end_year}H2"
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        timings: dict[str, float] = {}
        t = time.perf_counter()
        release = assemble_release(settings, period)
        timings["assemble (analytics)"] = time.perf_counter() - t
        out = root / "release"
        for fmt in ("json", "xlsx", "html", "pdf"):
            t = time.perf_counter()
            render_all(release, out, [fmt])
            timings[f"render {fmt}"] = time.perf_counter() - t
        timings["total"] = sum(timings.values())
        for k, v in timings.items():
            best[k] = min(v, best.get(k, float("inf")))
    n_period = release.meta.incidents
    for k, v in best.items():
        print(f"{k:22s} {v:7.2f} s")
    print(f"release {period}: {n_period:,} calls in the period, {rows:,} in the lake; "
          f"{rows / best['total']:,.0f} lake rows/s end to end; peak RSS {_rss_mib():,.0f} MiB")
    sizes = {p.name: p.stat().st_size / 1024 for p in sorted((root / "release").iterdir())}
    print("files: " + ", ".join(f"{k} {v:,.0f} KiB" for k, v in sizes.items()))
    budget = 15.0
    ok = best["total"] < budget or args.quick
    print(f"goal: whole release incl. PDF < {budget:.0f} s -> {'OK' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
