"""Benchmark of the web platform: 20 concurrent users browsing the overview, community and rankings pages.

Builds (once, cached under ``$ANJU_BENCH_DIR`` or the system temp folder; or ``--data-dir`` to reuse one) the demo
district with its operational records, starts ``anju serve`` in its own process on a free port, logs in 20 users
of several roles (whole-district and scoped) and has each browse for ``--seconds`` (default 60): overview →
a community page of its scope → rankings, as fast as answers come. Prints request count, throughput, p50/p95/p99
latency, errors, and how many times the server assembled the release (the overview's cache works when that is at
most 1). Exits 1 when p95 ≥ 300 ms or any request failed. The load generator runs on the same machine.

Usage: ``python benchmarks/bench_web.py [--quick] [--users N] [--seconds S] [--data-dir DIR]``
(``--quick``: scale 0.05, 10 s).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROLES = ("leader", "analyst", "admin", "evaluator", "station", "community_police", "street_office",
         "property_manager", "grid_worker")


def prepare(data_dir: Path, scale: float) -> None:
    """The demo district and its ops records in ``data_dir`` (no-ops when already there)."""
    from anju.config import load_settings
    from anju.demo.build import run_demo
    from anju.ops.db import database_url, make_engine, session_factory, upgrade_to_head
    from anju.ops.demo import seed_demo

    settings = load_settings(data_dir=data_dir, quiet=True)
    if not settings.paths.manifest.exists():
        run_demo(settings, seed=42, scale=scale, years=2)
    url = database_url(settings)
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        seed_demo(s, settings)
        s.commit()
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    import httpx

    from anju.ops.demo import demo_password

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--scale", type=float, default=None, help="demo scale (default 1.0 ≈ 450 k calls a year)")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4),
                    help="web processes (anju serve --workers; default one per core, at most 4)")
    args = ap.parse_args(argv)
    scale = args.scale or (0.05 if args.quick else 1.0)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    root = Path(os.environ.get("ANJU_BENCH_DIR", tempfile.gettempdir())) / f"anju-bench-web-{scale:g}"
    data_dir = args.data_dir or root / "data"
    t0 = time.perf_counter()
    prepare(data_dir, scale)
    print(f"data: {data_dir} (prepared in {time.perf_counter() - t0:.1f} s)", flush=True)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "anju.cli", "--quiet", "--data-dir", str(data_dir), "serve",
                               "--port", str(port), "--no-worker", "--workers", str(args.workers)], stdout=subprocess.DEVNULL)
    try:
        t0 = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.perf_counter() - t0 > 120:
                print("server did not start")
                return 1
            time.sleep(0.2)
        clients = []
        t1 = time.perf_counter()
        for i in range(args.users):
            role = ROLES[i % len(ROLES)]
            c = httpx.Client(base_url=base, timeout=30)
            pre = c.get("/api/v1/auth/csrf").json()["csrf_token"]
            r = c.post("/api/v1/auth/login", json={"username": role, "password": demo_password(42, role)},
                       headers={"X-CSRF-Token": pre})
            r.raise_for_status()
            if i == 0:  # first view: the overview's numbers (read from the on-disk cache, or built once)
                c.get("/api/v1/overview", timeout=900).raise_for_status()
                print(f"first overview in {time.perf_counter() - t1:.1f} s", flush=True)
            codes = [row["area_id"] for row in c.get("/api/v1/communities?per=500").json()["data"]]
            clients.append((role, c, codes))
        print(f"{args.users} users logged in", flush=True)

        lat: list[tuple[str, float]] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.perf_counter() + seconds

        def browse(role: str, c: httpx.Client, codes: list[str], rnd: random.Random) -> None:
            while time.perf_counter() < stop_at:
                for kind, path in (("overview", "/"), ("community", f"/communities/{rnd.choice(codes)}"),
                                   ("rankings", "/rankings")):
                    s = time.perf_counter()
                    try:
                        r = c.get(path)
                        ok = r.status_code == 200
                    except httpx.HTTPError as exc:
                        ok, r = False, exc  # type: ignore[assignment]
                    dt = time.perf_counter() - s
                    with lock:
                        lat.append((kind, dt))
                        if not ok:
                            errors.append(f"{role} {path}: {getattr(r, 'status_code', r)}")

        threads = [threading.Thread(target=browse, args=(role, c, codes, random.Random(i)))
                   for i, (role, c, codes) in enumerate(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        health = httpx.get(f"{base}/healthz").json()
    finally:
        server.terminate()
        server.wait(timeout=30)

    import numpy as np

    all_ms = np.array([d for _, d in lat]) * 1000
    print(f"users {args.users}, {args.workers} web process(es), {seconds:.0f} s: {len(lat):,} requests, {len(lat) / seconds:.1f} req/s, "
          f"errors {len(errors)}")
    print(f"latency ms: p50 {np.percentile(all_ms, 50):.0f}, p95 {np.percentile(all_ms, 95):.0f}, "
          f"p99 {np.percentile(all_ms, 99):.0f}, max {all_ms.max():.0f}")
    for kind in ("overview", "community", "rankings"):
        ms = np.array([d for k, d in lat if k == kind]) * 1000
        print(f"  {kind:10s} n={len(ms):6d}  p50 {np.percentile(ms, 50):6.0f}  p95 {np.percentile(ms, 95):6.0f}")
    print(f"release assemblies in the server: {health.get('lake_builds')} (cache keyed on the lake manifest)")
    for e in errors[:5]:
        print("  error:", e)
    p95 = float(np.percentile(all_ms, 95))
    ok = p95 < 300 and not errors
    print(f"goal p95 < 300 ms and no errors: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
