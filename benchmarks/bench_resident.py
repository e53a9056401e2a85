"""Load on the public submission endpoint (Open311 ``POST /open311/v2/requests.json``, the same checks, routing
and storage as the plate page) against a real uvicorn server on SQLite (and PostgreSQL with ``--pg URL``).

An open-loop load generator sends ``--rate`` submissions a second for ``--seconds`` from many simulated clients
(distinct ``X-Forwarded-For`` is not trusted, so each client is a partner key: the per-client public limit would
otherwise refuse all but 5 a minute from one machine), records every latency, and afterwards checks that every
accepted submission is in the database with its exact text. A second phase sends from one anonymous client to show
that the excess is refused with 429, not errors.

The server stores first and routes in batches (the web app's default); ``--inline`` routes in the request (the
old path) for comparison. Reported: accepted/s, p50/p95/p99, the server's CPU per accepted submission (routing
included), how long the batch router needed to catch up after the load.

Usage: ``python benchmarks/bench_resident.py [--quick] [--rate 200] [--seconds 60] [--pg URL] [--inline]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

SERVER = r'''
import sys
from anju.config import load_settings
from anju.web.app import create_app
from anju.ops.resident import ResidentDesk
from anju.resident.calendar import load_calendar
from anju.resident.corpus import synthetic_reports
from anju.resident.routing import train_router
from anju.resident.rules import load_resident_rules
import uvicorn
data, url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app(load_settings(data_dir=data), database_url=url)
t, y = synthetic_reports(120, seed=0)
app.state.resident_desk = ResidentDesk(load_resident_rules(), load_calendar(), train_router(t, y), b"bench",
                                       defer_routing=sys.argv[4] == "1")
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", workers=1)
'''


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str, n_partners: int) -> list[str]:
    from anju.ops.db import make_engine, session_factory, upgrade_to_head
    from anju.ops.models import Organisation
    from anju.ops.resident import ensure_orgs, new_partner
    from anju.resident.rules import load_resident_rules

    upgrade_to_head(url)
    engine = make_engine(url)
    keys = []
    with session_factory(engine)() as s:
        s.add(Organisation(code="BENCH-BUREAU", name="bench", kind="bureau"))
        ensure_orgs(s, load_resident_rules())
        for i in range(n_partners):
            keys.append(new_partner(s, f"bench-{i}", actor=None)[1])
        s.commit()
    engine.dispose()
    return keys


async def _load(base: str, rate: float, seconds: float, keys: list[str] | None) -> dict[str, object]:
    from anju.resident.corpus import synthetic_reports

    texts, _ = synthetic_reports(40, seed=9)
    lat: list[float] = []
    codes: dict[int, int] = {}
    sent: list[tuple[str, str]] = []  # (receipt, text) of accepted ones
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        async def one(i: int) -> None:
            text = f"{texts[i % len(texts)]} #{i}"
            data = {"service_code": "dispute", "description": text}
            if keys:
                data["api_key"] = keys[i % len(keys)]
            t0 = time.perf_counter()
            try:
                r = await client.post("/open311/v2/requests.json", data=data)
                code = r.status_code
            except httpx.HTTPError:
                code = -1
            lat.append(time.perf_counter() - t0)
            codes[code] = codes.get(code, 0) + 1
            if code == 201:
                sent.append((r.json()[0]["service_request_id"], text))

        tasks = []
        start = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - start
    arr = np.array(lat) * 1000
    return {"sent": n, "wall_s": wall, "codes": codes, "accepted": sent, "p50_ms": float(np.percentile(arr, 50)),
            "p95_ms": float(np.percentile(arr, 95)), "p99_ms": float(np.percentile(arr, 99)), "max_ms": float(arr.max()),
            "accepted_per_s": len(sent) / wall}


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _routed(url: str) -> int:
    from sqlalchemy import func, select

    from anju.ops.db import make_engine, session_factory
    from anju.ops.models import ResidentReport
    from anju.ops.resident import PENDING

    engine = make_engine(url)
    with session_factory(engine)() as s:
        n = int(s.scalar(select(func.count()).select_from(ResidentReport)
                         .where(ResidentReport.route_method != PENDING)) or 0)
    engine.dispose()
    return n


def _check(url: str, accepted: list[tuple[str, str]]) -> tuple[int, int]:
    from sqlalchemy import select

    from anju.ops.db import make_engine, session_factory
    from anju.ops.models import ResidentReport

    engine = make_engine(url)
    with session_factory(engine)() as s:
        stored = dict(s.execute(select(ResidentReport.receipt, ResidentReport.text)).all())
    engine.dispose()
    same = sum(1 for rid, text in accepted if stored.get(rid) == text)
    return len(stored), same


def run(url: str, label: str, rate: float, seconds: float, defer: bool = True) -> None:
    keys = _seed(url, 50)
    port = _port()
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen([sys.executable, "-c", SERVER, data, url, str(port), "1" if defer else "0"])
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(base + "/open311/v2/services.json", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            cpu0 = _cpu_s(proc.pid)
            res = asyncio.run(_load(base, rate, seconds, keys))
            cpu = _cpu_s(proc.pid) - cpu0
            n_ok = len(res["accepted"])  # type: ignore[arg-type]
            t_end = time.perf_counter()
            while _routed(url) < n_ok and time.perf_counter() - t_end < 60:
                time.sleep(0.2)  # the batch router catches up after the load
            lag = time.perf_counter() - t_end
            stored, same = _check(url, res["accepted"])  # type: ignore[arg-type]
            print(f"{label} ({'store first, batch routing' if defer else 'routing in the request'}): target "
                  f"{rate:.0f}/s for {seconds:.0f} s → accepted {res['accepted_per_s']:.1f}/s, "
                  f"p50 {res['p50_ms']:.0f} ms, p95 {res['p95_ms']:.0f} ms, p99 {res['p99_ms']:.0f} ms, "
                  f"max {res['max_ms']:.0f} ms, codes {res['codes']}; server CPU {cpu:.1f} s = "
                  f"{1000 * cpu / max(n_ok, 1):.1f} ms per accepted submission (routing included); all routed "
                  f"{lag:.1f} s after the load; in the database: {stored} rows, {same}/{n_ok} accepted "
                  f"found with the same text", flush=True)
            burst = asyncio.run(_load(base, 20, 2, None))
            print(f"{label}: one anonymous client at 20/s for 2 s → codes {burst['codes']} (429 = refused by the "
                  f"rate limit)", flush=True)
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--pg", default=os.environ.get("ANJU_BENCH_PG_URL"))
    ap.add_argument("--inline", action="store_true", help="route in the request (the old path), for comparison")
    a = ap.parse_args()
    rate, seconds = (20.0, 5.0) if a.quick else (a.rate, a.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'ops.sqlite3'}", "sqlite", rate, seconds, defer=not a.inline)
    if a.pg:
        run(a.pg, "postgresql", rate, seconds, defer=not a.inline)


if __name__ == "__main__":
    main()
