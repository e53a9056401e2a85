"""Benchmark the release analytics on one district-year (0.5 M calls + the comparison year) and at 10 M calls.

Synthetic calls in the lake schema (120 communities in 12 streets, the taxonomy's leaves with a realistic mix,
daily rhythm, coordinates, template call texts, fraud losses) are written to Parquet in a temporary directory and read
through Ibis/DuckDB exactly as ``anju.lake`` does. Then every analytic the release calls runs once (headline, counts,
comparisons, shares, trend, night, hour × weekday, all rankings, safety index for communities and streets,
supervision, fraud techniques, heat maps) and, separately, the word analytics (segmentation dominates them).

Usage: ``python benchmarks/bench_analytics.py [--quick] [--rows N] [--big]``
(``--quick``: 50 k calls a year; default 500 k a year; ``--big``: 5 M a year = 10 M calls).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from anju.taxonomy import load_taxonomy

FAMILY_SHARE = {"dispute": 0.50, "traffic": 0.11, "help": 0.09, "theft": 0.09, "fraud": 0.05, "noise": 0.05,
                "public_order": 0.04, "assault": 0.025, "other": 0.025, "fire": 0.01, "robbery": 0.002}
TEXTS = {
    "theft": ["报警人称停放在{p}的电动车被盗", "事主称{p}家中被撬门入室盗窃，损失约{a}元", "{p}快递被人拿走"],
    "fraud": ["报警人称网上刷单返利被骗{a}元", "接到冒充客服电话退款被骗{a}元", "投资理财平台无法提现被骗共计{a}元"],
    "dispute": ["报警人称与邻居因噪音发生纠纷", "{p}酒后纠纷，双方发生口角", "与物业因停车费问题发生纠纷"],
    "traffic": ["{p}两车相撞，无人受伤", "{p}道路拥堵", "电动车与轿车相撞有人受伤"],
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthesize(n_per_year: int, out: Path, seed: int = 0) -> pd.DataFrame:
    """Write two years (2024, 2025) of synthetic calls to Parquet files; return the community table."""
    rng = np.random.default_rng(seed)
    tax = load_taxonomy()
    fams = list(FAMILY_SHARE)
    leaves = {f: tax.codes(family=f) for f in fams}
    n_comm = 120
    comm_ids = np.array([f"C{i:03d}" for i in range(n_comm)])
    street_ids = np.array([f"S{i // 10:02d}" for i in range(n_comm)])
    weight = rng.gamma(2.0, 1.0, n_comm)
    weight /= weight.sum()
    cx, cy = rng.uniform(0, 9000, n_comm), rng.uniform(0, 10000, n_comm)
    places = [f"{c}小区" for c in comm_ids]
    text_pool = {f: [t.format(p=places[i % n_comm], a=int(a)) for i, t in enumerate(TEXTS.get(f, ["报警人求助"]) * 200)
                     for a in (rng.lognormal(8, 1, 1))] for f in fams}
    hour_w = np.array([2, 1.4, 1, .7, .5, .6, 1, 2, 3, 3.2, 3.3, 3.5, 3.3, 3.4, 3.5, 3.6, 3.7, 4.1, 4.3, 4.4,
                       4.5, 4.0, 3.6, 2.8])
    hour_w /= hour_w.sum()
    for year in (2024, 2025):
        n = n_per_year
        batch = 1_000_000
        for b0 in range(0, n, batch):
            m = min(batch, n - b0)
            day = rng.integers(0, 365, m)
            ts = (np.datetime64(f"{year}-01-01") + day.astype("timedelta64[D]")).astype("datetime64[s]")
            ts = ts + (rng.choice(24, m, p=hour_w) * 3600 + rng.integers(0, 3600, m)).astype("timedelta64[s]")
            fam = rng.choice(len(fams), m, p=np.array(list(FAMILY_SHARE.values())) / sum(FAMILY_SHARE.values()))
            ci = rng.choice(n_comm, m, p=weight)
            cat = np.empty(m, dtype=object)
            txt = np.empty(m, dtype=object)
            for j, f in enumerate(fams):
                sel = fam == j
                cat[sel] = rng.choice(leaves[f], int(sel.sum()))
                pool = text_pool[f]
                txt[sel] = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), int(sel.sum()))]
            loss = np.where(fam == fams.index("fraud"), np.round(rng.lognormal(8.5, 1.2, m), 2), np.nan)
            loss[rng.random(m) < 0.3] = np.nan
            x = cx[ci] + rng.normal(0, 250, m)
            y = cy[ci] + rng.normal(0, 250, m)
            table = pa.table({
                "reported_at": pa.array(ts, pa.timestamp("us")),
                "year": pa.array(np.full(m, year, np.int32)),
                "month": pa.array((ts.astype("datetime64[M]").astype(int) % 12 + 1).astype(np.int32)),
                "category": pa.array(cat, pa.string()).dictionary_encode(),
                "family": pa.array(np.array(fams, dtype=object)[fam], pa.string()).dictionary_encode(),
                "community_id": pa.array(comm_ids[ci]).dictionary_encode(),
                "street_id": pa.array(street_ids[ci]).dictionary_encode(),
                "x": x, "y": y, "text": pa.array(txt, pa.string()).dictionary_encode(), "loss_yuan": loss,
            })
            pq.write_table(table, out / f"calls-{year}-{b0 // batch:03d}.parquet")
    hh = rng.integers(300, 6000, n_comm).astype(float)
    return pd.DataFrame({"area_id": comm_ids, "name": comm_ids, "parent_id": street_ids, "households": hh,
                         "population": hh * 2.6})


def timed(label: str, fn: Callable[[], Any], rows: list[tuple[str, float, float]]) -> Any:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    rows.append((label, time.perf_counter() - t0, time.process_time() - c0))
    return out


def run(n_per_year: int, *, words: bool = True) -> None:
    from anju.analytics import (
        compare,
        counts,
        fraud_techniques,
        headline,
        hour_weekday,
        monthly,
        night_counts,
        rankings,
        rising_terms,
        safety_index,
        shares,
        supervision,
        top_terms,
    )
    from anju.config import load_settings
    from anju.deployment import load_deployment
    from anju.spatial.kde import extent_of, heat_map, heat_maps

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        com = synthesize(n_per_year, d)
        gen = time.perf_counter() - t0
        streets = pd.DataFrame({"area_id": sorted(com["parent_id"].unique())})
        streets["name"] = streets["area_id"]
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        t = con.read_parquet(str(d / "*.parquet"), table_name="incidents")
        total = t.count().to_pandas()
        print(f"calls: {total:,} ({n_per_year:,} a year × 2), synthesis + Parquet {gen:.1f} s")
        dep = load_deployment(load_settings(data_dir=d / "deployment"))  # the shipped configuration
        tax, seg = dep.taxonomy, dep.segmenter
        P, C = "2025H2", "2024H2"
        rows: list[tuple[str, float, float]] = []
        wall0, cpu0 = time.perf_counter(), time.process_time()
        timed("headline (10 metrics, tests, fraud loss)", lambda: headline(t, P, taxonomy=tax), rows)
        timed("counts community × family + rates", lambda: counts(t, P, areas=com, taxonomy=tax), rows)
        timed("compare community × family (yoy, tests)", lambda: compare(t, P, areas=com, taxonomy=tax), rows)
        timed("compare street (pop)", lambda: compare(t, P, comparison="pop", level="street", by=None, taxonomy=tax), rows)
        timed("shares family, and by community (dispute share per area)",
              lambda: (shares(t, P, taxonomy=tax), shares(t, P, level="community", taxonomy=tax)), rows)
        timed("monthly trend 24 months × family", lambda: monthly(t, "2024", "2025", by="family", taxonomy=tax), rows)
        timed("night counts + hour × weekday", lambda: (night_counts(t, P, areas=com, taxonomy=tax, window=dep.night),
                                                               hour_weekday(t, P, taxonomy=tax)), rows)
        timed("5 rankings (shrinkage, rank change)", lambda: rankings(t, P, areas=com, definitions=dep.rankings, taxonomy=tax), rows)
        timed("safety index community + street",
              lambda: (safety_index(t, P, areas=com, taxonomy=tax, config=dep.index),
                       safety_index(t, P, areas=streets, level="street", child_areas=com, taxonomy=tax,
                                    config=dep.index)), rows)
        timed("supervision top-10", lambda: supervision(t, "2024", P, areas=com, taxonomy=tax), rows)
        timed("fraud techniques (+ yoy)", lambda: fraud_techniques(t, P, comparison=C, taxonomy=tax), rows)

        def maps() -> Any:
            ext = extent_of(t, P)
            return (heat_map(t, P, extent=ext), heat_map(t, P, night=True, extent=ext),
                    heat_maps(t, P, extent=ext))

        timed("heat maps: all day, night, 11 families", maps, rows)
        core_wall, core_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        for label, w, c in rows:
            print(f"  {label:<45} {w:7.2f} s wall {c:7.2f} s cpu")
        print(f"ANALYTICS (numbers) total: {core_wall:.2f} s wall, {core_cpu:.2f} s cpu "
              f"→ {total / core_wall / 1e6:.2f} M calls/s; peak RSS {peak_rss_mb():.0f} MB")
        if words:
            wrows: list[tuple[str, float, float]] = []
            w0 = time.perf_counter()
            timed("top terms per family (≤ 20 k texts each)", lambda: top_terms(t, P, segmenter=seg, taxonomy=tax), wrows)
            timed("rising terms (≤ 20 k texts per period)", lambda: rising_terms(t, P, segmenter=seg, taxonomy=tax), wrows)
            for label, w, c in wrows:
                print(f"  {label:<45} {w:7.2f} s wall {c:7.2f} s cpu")
            print(f"WORDS total: {time.perf_counter() - w0:.2f} s wall; peak RSS {peak_rss_mb():.0f} MB")
        con.disconnect()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50 k calls a year")
    ap.add_argument("--big", action="store_true", help="5 M calls a year (10 M in total)")
    ap.add_argument("--rows", type=int, default=None, help="calls per year")
    ap.add_argument("--no-words", action="store_true")
    a = ap.parse_args(argv)
    n = a.rows or (50_000 if a.quick else 5_000_000 if a.big else 500_000)
    print(f"machine: {os.cpu_count()} cpus, python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}")
    run(n, words=not a.no_words)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
