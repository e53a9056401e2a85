"""Benchmark: the release's aggregation analytics on DuckDB and on Spark (local mode), side by side, by lake size.

A province-sized lake is made from the demo district: one district generated once (``anju demo``, two years), then
copied K times as K districts (record keys and every area id suffixed ``-dK``, so no two districts share a key or a
community) and written as one Hive-partitioned lake with a manifest. Each (engine, size) runs in a fresh process
under ``/usr/bin/time``, plus the Spark JVM's own counters from ``/proc`` (it is never waited for, so time does not
see it): wall time, CPU time (user + sys of Python and JVM) and peak RSS (Python + JVM). Inside the run, the engine start and the analytics are timed apart.

The workload is the engine-side part of the release, run through the same functions the release calls:
``headline`` (period vs a year earlier), ``counts`` per community × family for both periods, ``monthly`` per
community over two years, ``hour_weekday`` and ``night_counts``. ``--workload words`` runs instead the two sections
that used to pull one row per call to the driver: the heat maps (the release's common extent, all-day and night
grids: a GROUP BY over cell indices) and the words (top terms, distinctive terms and rising terms of the release,
unsampled, one job cache: the texts are segmented per partition where the rows are and only the term table reaches
the driver). The copies repeat the base district's texts, so the distinct texts (what is segmented) stay those of
one district at every size: the words figure grows with the scan and the GROUP BY over texts, not with the
segmentation, which grows with the distinct texts (measured on the demo district: docs/performance.md).

Usage::

    nice -n 10 python benchmarks/bench_spark.py --rows 1000000 10000000 [--engines duckdb spark] [--workload words]
    python benchmarks/bench_spark.py --quick          # 200 k rows, both engines

Lakes are cached under ``$ANJU_BENCH_DIR`` (default: the system temp folder) / ``anju-bench-spark``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_SCALE = 0.05
COPIES_PER_CHUNK = 100  # copies of the base district per COPY while building a province lake (~4.6 M rows)
AREA_COLUMNS = ("district_id", "street_id", "community_id", "grid_id", "station_id", "police_district_id")


def bench_root() -> Path:
    return Path(os.environ.get("ANJU_BENCH_DIR", tempfile.gettempdir())) / "anju-bench-spark"


def base_district(root: Path) -> Path:
    """The demo district every copy is made from (built once)."""
    from anju.config import load_settings
    from anju.demo.build import run_demo

    d = root / "base"
    if not (d / "lake" / "manifest.json").exists():
        run_demo(load_settings(data_dir=d, quiet=True), seed=42, scale=BASE_SCALE, years=2, end_year=2025,
                 out_dir=root / "base-files")
    return d


def province_lake(root: Path, rows: int) -> Path:
    """A data directory holding ceil(rows / base rows) copies of the base district as one lake."""
    import duckdb

    from anju.config import load_settings
    from anju.lake.engine import open_lake
    from anju.lake.manifest import Manifest
    from anju.lake.schema import INCIDENT_SCHEMA

    base = base_district(root)
    with open_lake(load_settings(data_dir=base, quiet=True)) as lake:
        n_base = int(lake.incidents().count().execute())
        files = [str(base / "lake" / f) for f in lake.manifest.files("incidents")]
    k = math.ceil(rows / n_base)
    d = root / f"province-{rows}"
    if (d / "lake" / "manifest.json").exists():
        return d
    inc = d / "lake" / "incidents"
    inc.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # DuckDB is capped (its default limit is 80 % of RAM) and spills to disk. No ORDER BY: the partitioned write
    # already puts each month in its own folder, and sorting 50 M copied rows first was killed at ~20 GB of memory
    # uncapped, and under a 4 GB cap spilled 26 GB and wrote ~0.4 MB/s on the loaded machine (2026-12-07); default
    # row groups (122,880 rows), so the open partitions buffer little
    con.execute(f"SET memory_limit = '{os.environ.get('ANJU_BENCH_DUCKDB_MEMORY', '4GB')}'")
    con.execute(f"SET temp_directory = '{root / 'duckdb-tmp'}'")
    cols = []
    for f in INCIDENT_SCHEMA.names:
        if f == "record_key":
            cols.append("record_key || '-d' || k AS record_key")
        elif f in AREA_COLUMNS:
            cols.append(f"CASE WHEN {f} IS NULL THEN NULL ELSE {f} || '-d' || k END AS {f}")
        else:
            cols.append(f'"{f}"')
    flist = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    # built in chunks of copies, each marked done when its COPY finished: a killed build resumes where it stopped
    # (a 50 M lake takes about an hour on the loaded 2-core machine); a chunk cut short is removed and redone
    done = d / "build-done"
    done.mkdir(exist_ok=True)
    for f in inc.rglob("*.parquet"):  # files of a chunk not marked done (or of an older, unchunked build)
        if not (done / f.name.split("_", 1)[0]).exists():
            f.unlink()
    for c0 in range(0, k, COPIES_PER_CHUNK):
        tag = f"c{c0:05d}"
        if (done / tag).exists():
            continue
        con.execute(
            f"COPY (SELECT {', '.join(cols)} FROM read_parquet({flist}, hive_partitioning = true, "
            f"hive_types = {{'year': INTEGER, 'month': INTEGER}}), range({c0}, {min(k, c0 + COPIES_PER_CHUNK)}) r(k)) "
            f"TO '{inc}' (FORMAT parquet, PARTITION_BY (year, month), FILENAME_PATTERN '{tag}_{{i}}', "
            "OVERWRITE_OR_IGNORE true)")
        (done / tag).touch()
        print(f"  copies {c0}–{min(k, c0 + COPIES_PER_CHUNK) - 1} of {k} written", flush=True)
    parts = sorted(str(p.relative_to(d / "lake")) for p in inc.rglob("*.parquet"))
    m = Manifest(d / "lake" / "manifest.json")
    m.add_import({"import_id": "bench", "source": "demo", "rows_loaded": n_base * k}, parts, [])
    m.save()
    # the area layers are the base district's: the copies' ids are unknown to them, as for an unloaded layer
    return d


def _word_steps(t: Any, dep: Any) -> dict[str, Callable[[], object]]:
    """The heat and word sections' analytics, as the release calls them (see the module doc)."""
    from anju.analytics import distinctive_terms, rising_terms, top_terms
    from anju.spatial.kde import extent_of, heat_map

    seg, tax, heat = dep.segmenter, dep.taxonomy, dep.analysis.heat
    cache: dict = {}

    def heat_maps() -> object:
        ext = extent_of(t, "2025H2", cell_size=heat.cell_m)
        return [heat_map(t, "2025H2", night=night, cell_size=heat.cell_m, bandwidth=heat.bandwidth_m, extent=ext)
                for night in (None, dep.night)]

    return {
        "heat": heat_maps,
        "top_terms": lambda: top_terms(t, "2025H2", by=None, top=80, max_texts=None, segmenter=seg, taxonomy=tax,
                                       cache=cache),
        "distinctive": lambda: distinctive_terms(t, "2025H2", segmenter=seg, taxonomy=tax, cache=cache),
        "rising": lambda: rising_terms(t, "2025H2", comparison="yoy", top=15, max_texts=None, segmenter=seg,
                                       taxonomy=tax, cache=cache),
    }


def run_one(data_dir: Path, engine: str, workload: str = "aggregations") -> dict[str, float]:
    """One run in this process: open the lake on ``engine``, run the workload; returns timings."""
    t0 = time.perf_counter()
    from anju.analytics import Period, counts, headline, hour_weekday, monthly, night_counts
    from anju.config import load_settings
    from anju.deployment import load_deployment
    from anju.lake.engine import open_lake

    settings = load_settings(data_dir=data_dir, engine=engine, quiet=True)
    dep = load_deployment(settings)
    tax = dep.taxonomy
    out: dict[str, float] = {}
    with open_lake(settings) as lake:
        t = lake.incidents()
        out["rows"] = float(t.count().execute())
        out["open_s"] = time.perf_counter() - t0
        p, c = Period.parse("2025H2"), Period.parse("2024H2")
        steps = {
            "headline": lambda: headline(t, p, taxonomy=tax),
            "counts": lambda: [counts(t, q, level="community", by="family", taxonomy=tax) for q in (p, c)],
            "monthly": lambda: monthly(t, "2024-01", "2025-12", level="community", taxonomy=tax),
            "hour_weekday": lambda: hour_weekday(t, p, taxonomy=tax),
            "night": lambda: night_counts(t, p, taxonomy=tax),
        }
        if workload == "words":
            steps = _word_steps(t, dep)
        a0 = time.perf_counter()
        for name, step in steps.items():
            s0 = time.perf_counter()
            step()
            out[f"{name}_s"] = time.perf_counter() - s0
        out["analytics_s"] = time.perf_counter() - a0
        if engine == "spark":
            out.update(_jvm_usage(lake.spark))
    return out


def _jvm_usage(spark: object) -> dict[str, float]:
    """CPU seconds and peak RSS of the Spark JVM (a child that /usr/bin/time does not see: it is never waited for)."""
    proc = getattr(getattr(spark, "sparkContext", None), "_gateway", None)
    pid = getattr(getattr(proc, "proc", None), "pid", None)
    if pid is None:
        return {}
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = next(int(x.split()[1]) for x in Path(f"/proc/{pid}/status").read_text().splitlines()
               if x.startswith("VmHWM"))
    return {"jvm_cpu_s": cpu, "jvm_peak_rss_mib": hwm / 1024}


def measure(data_dir: Path, engine: str, workload: str = "aggregations") -> dict[str, float]:
    """Run :func:`run_one` in a fresh process under /usr/bin/time (wall, CPU of all processes, peak RSS)."""
    cmd = ["/usr/bin/time", "-f", "TIME %e %U %S %M", sys.executable, __file__, "--child", str(data_dir), engine,
           "--workload", workload]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    line = [x for x in res.stderr.splitlines() if x.startswith("TIME ")]
    if res.returncode != 0 or not line:
        raise RuntimeError(f"{engine} on {data_dir} failed:\n{res.stderr[-3000:]}")
    wall, user, sys_, rss = line[-1].split()[1:]
    out = json.loads([x for x in res.stdout.splitlines() if x.startswith("{")][-1])
    out.update(wall_s=float(wall), cpu_s=float(user) + float(sys_) + out.get("jvm_cpu_s", 0.0),
               peak_rss_mib=int(rss) / 1024 + out.get("jvm_peak_rss_mib", 0.0))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    ap.add_argument("--quick", action="store_true", help="200 k rows only")
    ap.add_argument("--workload", choices=["aggregations", "words"], default="aggregations",
                    help="the release's aggregations (default) or its heat and word sections")
    ap.add_argument("--child", nargs=2, metavar=("DATA_DIR", "ENGINE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(Path(args.child[0]), args.child[1], args.workload)))
        return 0
    sizes = [200_000] if args.quick else args.rows
    root = bench_root()
    root.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores; lakes under {root}")
    results = []
    for n in sizes:
        g0 = time.perf_counter()
        d = province_lake(root, n)
        print(f"lake of {n:,} rows ready in {time.perf_counter() - g0:.1f} s: {d}", flush=True)
        for engine in args.engines:
            r = measure(d, engine, args.workload)
            r.update(engine=engine, target=n, load=os.getloadavg()[0], workload=args.workload)
            results.append(r)
            print(f"{engine:6s} rows {int(r['rows']):>11,}  wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
                  f"open {r['open_s']:6.1f} s  analytics {r['analytics_s']:7.1f} s  "
                  f"peak RSS {r['peak_rss_mib']:7.0f} MiB  load {r['load']:.1f}  "
                  + " ".join(f"{k[:-2]}={r[k]:.1f}" for k in r if k.endswith("_s") and k not in
                             ("wall_s", "cpu_s", "open_s", "analytics_s")), flush=True)
    (root / f"results-{args.workload}.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
