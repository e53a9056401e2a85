"""Ingest benchmark: source file → lake, end to end, with the demo district's six area layers loaded.

For each size (0.5 M and 10 M rows; ``--quick``: 0.5 M only) and each encoding (GBK as the demo writes it, and
the same file transcoded to UTF-8) it creates a fresh data directory, loads the areas, and runs
``anju ingest FILE --profile cn110`` in a child process. It reports wall time, rows/s, the child's CPU time (user +
system, and per row — the stable figure on a shared machine, where wall time depends on the other jobs), its peak
RSS (``os.wait4`` rusage: the high-water mark of the child and its descendants) and the load average before the run.

Data: the demo generator (``anju.demo``) at the matching ``--scale``, cached under ``--work`` (default
``/tmp/anju-bench-ingest``) and reused across runs; without ``anju.demo`` a cn110-shaped sample
(``anju.ingest.sample``) is used and no areas are loaded.

Usage: ``python benchmarks/bench_ingest.py [--quick] [--rows 500000,10000000] [--encodings gbk,utf8] [--work DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

DEMO_ROWS_PER_SCALE = 1_350_000  # the demo writes about 450k calls a year for three years at scale 1


def prepare_data(work: Path, rows: int) -> tuple[Path, dict[str, Path]]:
    """A GBK cn110 file of about ``rows`` rows (demo district) and its area layers."""
    try:
        from anju.demo.generate import generate_files
    except ImportError:  # pragma: no cover - fallback when the demo part is absent
        from anju.ingest.sample import cn110_sample, write_csv

        p = work / f"sample-{rows}.gbk.csv"
        if not p.exists():
            write_csv(cn110_sample(rows, seed=1), p, encoding="gbk")
        return p, {}
    scale = round(rows / DEMO_ROWS_PER_SCALE, 4)
    t0 = time.perf_counter()
    files = generate_files(work / f"demo-{rows}", scale=scale)
    if not files.reused:
        print(f"  generated demo at scale {scale}: {files.rows:,} rows in {time.perf_counter() - t0:.0f} s",
              flush=True)
    return files.csv, files.layers


def utf8_copy(gbk: Path) -> Path:
    out = gbk.with_name(gbk.stem + ".utf8.csv")
    if not out.exists() or out.stat().st_mtime < gbk.stat().st_mtime:
        with gbk.open("rb") as src, out.open("wb") as dst:
            subprocess.run(["iconv", "-f", "GB18030", "-t", "UTF-8"], stdin=src, stdout=dst, check=True)
    return out


def load_areas(data_dir: Path, layers: dict[str, Path]) -> None:
    from anju.geo.areas import load_area_file

    order = ("district", "street", "community", "grid", "station", "police_district")
    for name in order:
        if name in layers:
            load_area_file(data_dir, layers[name], layer=name, id_field="id", name_field="name",
                           parent_field="parent_id" if name not in ("district", "station") else None)


def run_one(src: Path, data_dir: Path, encoding: str) -> dict[str, object]:
    env = {**os.environ, "ANJU_SECRET": "bench-secret-7f3a9c0d1e2b", "ANJU_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "anju.cli", "-q", "ingest", str(src), "--profile", "cn110", "--encoding", encoding]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest failed:\n{out}\n{err}")
    manifest = json.loads((data_dir / "lake" / "manifest.json").read_text(encoding="utf-8"))
    imp = manifest["imports"][-1]
    return {
        "rows": imp["rows_read"], "loaded": imp["rows_loaded"], "quarantined": imp["rows_quarantined"],
        "seconds": round(wall, 1), "rows_per_s": round(imp["rows_read"] / wall),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "sys_s": round(usage.ru_stime, 1),
        "cpu_us_per_row": round((usage.ru_utime + usage.ru_stime) / max(imp["rows_read"], 1) * 1e6, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "file_mb": round(src.stat().st_size / 2**20), "encoding": encoding,
        "unassigned": imp.get("unassigned_by_level"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="0.5 M rows only")
    ap.add_argument("--rows", default=None, help="comma-separated sizes (default 500000,10000000)")
    ap.add_argument("--encodings", default="utf8,gbk")
    ap.add_argument("--work", default="/tmp/anju-bench-ingest")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in (args.rows or ("500000" if args.quick else "500000,10000000")).split(",")]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"ingest benchmark — {platform.platform()}, python {platform.python_version()}, "
          f"{os.cpu_count()} cpus, load avg {os.getloadavg()[0]:.1f}", flush=True)
    results = []
    for n in sizes:
        gbk, layers = prepare_data(work, n)
        for enc in args.encodings.split(","):
            src = gbk if enc == "gbk" else utf8_copy(gbk)
            data_dir = work / f"data-{n}-{enc}"
            shutil.rmtree(data_dir, ignore_errors=True)
            data_dir.mkdir(parents=True)
            load_areas(data_dir, layers)
            load0 = os.getloadavg()[0]
            r = run_one(src, data_dir, "gb18030" if enc == "gbk" else "utf-8")
            r["load_avg_before"] = round(load0, 1)
            results.append(r)
            print(f"  {n:>10,} target | {enc:5s} | {r['rows']:>10,} rows | {r['seconds']:>7.1f} s | "
                  f"{r['rows_per_s']:>9,} rows/s | cpu {r['cpu_s']:>7.1f} s (sys {r['sys_s']:.1f}, "
                  f"{r['cpu_us_per_row']:.2f} µs/row) | peak RSS {r['peak_rss_mb']:>6,} MB | "
                  f"file {r['file_mb']:,} MB | load {r['load_avg_before']}", flush=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
