"""Demo generator benchmark: rows/s writing the GBK cn110 CSV, and peak RSS.

Default: scale 1 (≈ 1.36 M calls over three years, ≈ 300 MB of GBK CSV). ``--quick`` runs scale 0.1.
``--scale X`` picks another volume (7.5 gives 10 M+ rows for the ingest benchmark). The CSV goes to a temporary
folder (or ``--out``) and is deleted afterwards unless ``--keep``.

Usage: ``python benchmarks/bench_demo.py [--quick] [--scale X] [--out DIR] [--keep]``
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from anju.demo.generate import generate_files
from anju.demo.geography import build_district
from anju.demo.model import build_plan


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="scale 0.1")
    ap.add_argument("--scale", type=float, default=None)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    print(f"machine: {platform.platform()}, python {platform.python_version()}, cpus {__import__('os').cpu_count()}")

    t0 = time.perf_counter()
    d = build_district(args.seed)
    plan = build_plan(d, end_year=2025)
    t_geo = time.perf_counter() - t0
    print(f"district + plan: {t_geo:.2f} s ({len(d.layers['community'])} communities, "
          f"{len(d.b_x):,} buildings)")

    tmp = Path(tempfile.mkdtemp(prefix="anju-bench-demo-")) if args.out is None else args.out
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        files = generate_files(tmp, seed=args.seed, scale=scale, end_year=2025, force=True)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows = files.rows
        mb = files.manifest["csv_bytes"] / 1e6
        print(f"scale {scale:g}: {rows:,} rows, {mb:,.0f} MB GBK CSV in {dt:.1f} s "
              f"→ {rows / dt:,.0f} rows/s, {mb / dt:.1f} MB/s (CPU {cpu:.1f} s → {rows / cpu:,.0f} rows per CPU-s); "
              f"peak RSS {_peak_rss_mb():,.0f} MB; load average {__import__('os').getloadavg()[0]:.1f}")
        print(f"plan expected rows: {plan.lam.sum() * scale:,.0f}")
    finally:
        if args.out is None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif args.keep:
            print(f"kept in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
