"""Load on the public submission endpoint (Open311 ``POST /open311/v2/requests.json``: the same checks, rate limits
and storage as the plate page) against the real server, ``anju serve``, on SQLite and on PostgreSQL (``--pg URL``).

The load generator is ``wrk`` (Debian package ``wrk``; C, a few per cent of a core at 200/s, so the figure measures
the server and not the client) with a Lua script that sends anonymous submissions from many distinct clients (the
``X-Forwarded-For`` of a reverse proxy on the same host, which ``anju serve`` trusts from 127.0.0.1), so the
per-client limit does not refuse legitimate load; the requests follow one schedule shared by the connections (a
slot every 1/``--rate`` s, read from the monotonic clock through LuaJIT's FFI; a missed slot is sent as soon as a
connection is free), so the offered rate averages ``--rate`` unless every connection waits for an answer. Every
text carries an id (``#w<thread>-<n>``); afterwards every stored text is compared with the text sent under its id,
the number of rows with the number of 201 answers, and every receipt answered is looked up. A second phase sends from
one client at 20/s for 2 s: the excess must be refused with 429, and nothing may fail with 5xx.

Reported: accepted/s, p50/p90/p99 (wrk), codes, the server's CPU per stored submission (all its processes, read
from /proc around the load; routing included, as the routing pump runs in the web processes; PostgreSQL's own
processes not) and the client's CPU; and, from the servers' trace (``ANJU_INTAKE_TRACE``), where the submissions
waited inside the server — the writer's queue, the database lock (SQLite) or connection check-out (PostgreSQL), the
inserts, the commit, the event loop's wake-up — with the pauses during the load (full garbage collections,
event-loop lateness, routing batches): figures that depend far less on how loaded the machine is than p99. Requests in flight when wrk stops at the deadline are stored but never answered
(wrk closes the connection): the database may hold up to one row per connection more than the 201s counted.

Usage: ``python benchmarks/bench_resident.py [--quick] [--rate 200] [--seconds 60] [--workers N] [--pg URL|auto]
[--pg-workers N] [--no-sqlite]``
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

import httpx

LUA = r'''
-- wrk is built on LuaJIT: the monotonic clock comes through its FFI (os.time has one-second resolution)
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } anju_timespec;
int clock_gettime(int clk_id, anju_timespec *tp);
]]
local ts = ffi.new("anju_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local texts = {TEXTS}
local period_ms = 1000 / RATE  -- the target, requests per second, for all connections together
local slot = nil
local outdir = "OUTDIR"
local nthreads = 0
local counter = 0
local out = nil
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
function init(args)
  out = io.open(outdir .. "/wrk-" .. tid .. ".txt", "w")
end
function request()
  counter = counter + 1
  local ip = "10." .. (tid % 256) .. "." .. (math.floor(counter / 256) % 256) .. "." .. (counter % 256)
  local body = "service_code=dispute&description=" .. texts[(counter % #texts) + 1] .. "+%23w" .. tid .. "-" .. counter
  return wrk.format("POST", "/open311/v2/requests.json",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Forwarded-For"] = ip}, body)
end
function response(status, headers, body)
  out:write(status, " ", body, "\n")
end
-- wrk asks for a pause before every request of a connection (the first one too). Requests are sent on one
-- schedule shared by the connections, one slot every 1/RATE s: each pause runs to the next slot (none when the
-- slot is already past: a slot missed while every connection waited for an answer, or while wrk itself was not
-- scheduled, is sent as soon as a connection is free), so the offered rate averages the target unless the
-- server answers fewer than that with every connection busy.
function delay()
  local now = now_ms()
  if slot == nil then slot = now end
  slot = slot + period_ms
  return math.max(0, math.floor(slot - now + 0.5))
end
function done(summary, latency, requests)
  io.write(string.format("PCT %.0f %.0f %.0f %.0f\n", latency:percentile(50), latency:percentile(90),
                         latency:percentile(99), latency.max))
end
'''


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _texts() -> list[str]:
    from anju.resident.corpus import synthetic_reports

    texts, _ = synthetic_reports(40, seed=9)
    # one hostile text: stored as written (held for moderation), shown escaped
    return [*texts[:39], "<script>alert('x')</script> 楼道堆物"]


def _seed(url: str, data: Path) -> None:
    """Schema, the departments' organisations, and a trained router in ``<data>/models`` (what the server loads)."""
    from anju.ops.db import make_engine, session_factory, upgrade_to_head
    from anju.ops.models import Organisation
    from anju.ops.resident import ensure_orgs
    from anju.resident.corpus import synthetic_reports
    from anju.resident.routing import save_router, train_router
    from anju.resident.rules import load_resident_rules

    upgrade_to_head(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        s.add(Organisation(code="BENCH-BUREAU", name="bench", kind="bureau"))
        ensure_orgs(s, load_resident_rules())
        s.commit()
    engine.dispose()
    t, y = synthetic_reports(120, seed=0)
    save_router(data / "models", train_router(t, y), data_source="synthetic", n_train=len(t))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the uvicorn supervisor and its worker processes)."""
    kids: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p.name))
    out, todo = [], [pid]
    while todo:
        q = todo.pop()
        out.append(q)
        todo.extend(kids.get(q, []))
    return out


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (Linux /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _wrk(base: str, rate: float, seconds: float, connections: int, outdir: Path) -> dict[str, object]:
    texts = _texts()
    lua = (LUA.replace("TEXTS", ", ".join(f'"{quote_plus(t)}"' for t in texts))
           .replace("RATE", f"{rate:.1f}").replace("OUTDIR", str(outdir)))
    script = outdir / "submit.lua"
    script.write_text(lua)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s", "-s",
                          str(script), base], capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    codes: dict[int, int] = {}
    accepted: list[str] = []
    for f in outdir.glob("wrk-*.txt"):
        for line in f.read_text().splitlines():
            code, _, body = line.partition(" ")
            codes[int(code)] = codes.get(int(code), 0) + 1
            if code == "201":
                accepted.append(re.search(r'"service_request_id":"([^"]+)"', body).group(1))  # type: ignore[union-attr]
    m = re.search(r"PCT (\d+) (\d+) (\d+) (\d+)", out)
    p50, p90, p99, mx = (int(x) / 1000 for x in m.groups()) if m else (float("nan"),) * 4
    errors = re.search(r"Socket errors: (.*)", out)
    return {"codes": codes, "accepted": accepted, "wall_s": wall, "p50_ms": p50, "p90_ms": p90, "p99_ms": p99,
            "max_ms": mx, "socket_errors": errors.group(1) if errors else "none", "texts": texts,
            "client_cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def _burst(base: str, rate: float, seconds: float) -> dict[int, int]:
    """One client (no forwarded address) at ``rate``/s: the per-client limit must refuse the excess with 429."""
    codes: dict[int, int] = {}
    with httpx.Client(base_url=base, timeout=30) as c:
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))
            r = c.post("/open311/v2/requests.json", data={"service_code": "dispute", "description": f"同一客户端 {i}"})
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
    return codes


def _waits(trace: Path, t0: float, t1: float) -> str:
    """Where the submissions of the load waited inside the servers (``ANJU_INTAKE_TRACE``, see
    ``anju.ops.resident_trace``): p50/p99 of each step, the batch sizes, the web processes that answered, and the
    pauses in the load window (full garbage collections, event-loop lateness, routing batches)."""
    subs: list[list[float]] = []
    per_proc: list[int] = []
    other: dict[str, list[list[float]]] = {"g": [], "l": [], "r": []}
    for f in sorted(trace.glob("intake-*.tsv")):
        n = 0
        for line in f.read_text().splitlines():
            kind, *vals = line.split("\t")
            v = [float(x) for x in vals]
            if kind == "s" and t0 <= v[0] <= t1:
                subs.append(v)
                n += 1
            elif kind in other and t0 <= v[0] <= t1:
                other[kind].append(v)
        if n:
            per_proc.append(n)
    if not subs:
        return "no trace"

    def pq(xs: list[float]) -> str:
        xs = sorted(xs)
        return (f"{1000 * xs[len(xs) // 2]:.1f}/{1000 * xs[min(len(xs) - 1, int(len(xs) * 0.99))]:.1f}/"
                f"{1000 * xs[-1]:.0f}")

    steps = {"queue wait": (1, 2), "lock wait": (2, 3), "insert": (3, 4), "commit": (4, 5), "loop wake": (5, 6),
             "in the server": (0, 6)}
    parts = [f"{name} {pq([v[b] - v[a] for v in subs])}" for name, (a, b) in steps.items()]
    gen2 = [v[1] for v in other["g"] if v[2] == 2]
    gen2_cpu = [v[3] for v in other["g"] if v[2] == 2]
    lags = [v[1] for v in other["l"]]
    routing = [v[1] - v[0] for v in other["r"]]
    return (f"waits p50/p99/max ms: {', '.join(parts)}; batch size median {sorted(v[7] for v in subs)[len(subs) // 2]:.0f}"
            f" max {max(v[7] for v in subs):.0f}; submissions per web process {sorted(per_proc, reverse=True)}; "
            f"full GCs during the load {len(gen2)} (longest {1000 * max(gen2, default=0):.0f} ms, CPU "
            f"{1000 * max(gen2_cpu, default=0):.0f} ms); event-loop lags "
            f"> 5 ms {len(lags)} (sum {sum(lags):.2f} s, longest {1000 * max(lags, default=0):.0f} ms); routing "
            f"{len(routing)} batches, {sum(v[2] for v in other['r']):.0f} reports, {sum(routing):.1f} s")


def _check(url: str, accepted: list[str], texts: list[str]) -> dict[str, int]:
    """Rows of the load, receipts found, texts equal to the text sent under their id, reports still unrouted."""
    from sqlalchemy import select

    from anju.ops.db import make_engine
    from anju.ops.models import ResidentReport
    from anju.ops.resident import PENDING

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(ResidentReport.receipt, ResidentReport.text, ResidentReport.route_method)).all()
    engine.dispose()
    load = {r.receipt: r.text for r in rows if " #w" in r.text}
    same = 0
    for text in load.values():
        m = re.fullmatch(r"(.*) #w(\d+)-(\d+)", text, flags=re.S)
        if m and texts[int(m.group(3)) % len(texts)] == m.group(1):
            same += 1
    return {"rows": len(load), "receipts_found": sum(1 for r in accepted if r in load), "same_text": same,
            "pending": sum(1 for r in rows if r.route_method == PENDING)}


def run(url: str, label: str, rate: float, seconds: float, workers: int, connections: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data, outdir = Path(tmp) / "data", Path(tmp) / "out"
        outdir.mkdir()
        _seed(url, data)
        port = _port()
        trace = Path(tmp) / "trace"
        trace.mkdir()
        env = {**os.environ, "ANJU_DATABASE_URL": url, "ANJU_DATA_DIR": str(data), "ANJU_INTAKE_TRACE": str(trace)}
        anju = shutil.which("anju", path=str(Path(sys.executable).parent)) or "anju"
        proc = subprocess.Popen([anju, "serve", "--no-worker", "--port", str(port), "--workers", str(workers)],
                                env=env, stdout=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            t_start = time.perf_counter()
            while time.perf_counter() - t_start < 600:  # several processes each import the platform: slow on a busy box
                try:
                    if httpx.get(base + "/open311/v2/services.json", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
                if proc.poll() is not None:
                    sys.exit(f"{label}: the server exited with code {proc.returncode}")
            with httpx.Client(base_url=base) as c:  # warm every process (desk, router, writer) before measuring
                for i in range(8 * workers):
                    c.post("/open311/v2/requests.json", headers={"X-Forwarded-For": f"10.255.0.{i}"},
                           data={"service_code": "dispute", "description": f"预热 {i}"})
            time.sleep(1.5)
            pids = _tree(proc.pid)
            load0 = os.getloadavg()[0]
            cpu0 = _cpu_s(pids)
            t_load = time.perf_counter()  # the servers' trace uses the same monotonic clock
            res = _wrk(base, rate, seconds, connections, outdir)
            t_load_end = time.perf_counter()
            cpu = _cpu_s(pids) - cpu0
            load1 = os.getloadavg()[0]
            accepted: list[str] = res["accepted"]  # type: ignore[assignment]
            n_ok = len(accepted)
            t_end = time.perf_counter()
            chk = _check(url, accepted, res["texts"])  # type: ignore[arg-type]
            while chk["pending"] and time.perf_counter() - t_end < 60:
                time.sleep(0.5)  # the routing pump catches up after the load
                chk = _check(url, accepted, res["texts"])  # type: ignore[arg-type]
            lag = time.perf_counter() - t_end
            print(f"{label}, {workers} web process(es), wrk -c{connections}: target {rate:.0f}/s for {seconds:.0f} s "
                  f"→ accepted {n_ok / res['wall_s']:.1f}/s ({n_ok}), p50 {res['p50_ms']:.1f} ms, p90 "
                  f"{res['p90_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, max {res['max_ms']:.0f} ms, codes "
                  f"{res['codes']}, socket errors {res['socket_errors']}; server CPU {cpu:.1f} s = "
                  f"{1000 * cpu / max(chk['rows'], 1):.2f} ms per stored submission (routing included, the "
                  f"database server's own processes not); client (wrk) CPU "
                  f"{res['client_cpu_s']:.1f} s; load average {load0:.1f} → {load1:.1f}; all routed {lag:.1f} s "
                  f"after the load; in the database: {chk['rows']} rows of the load, {chk['receipts_found']}/{n_ok} "
                  f"receipts found, {chk['same_text']}/{chk['rows']} with the text sent", flush=True)
            time.sleep(1.5)  # the servers flush their trace about once a second
            print(f"{label}: {_waits(trace, t_load, t_load_end)}", flush=True)
            burst = _burst(base, 20, 2)
            print(f"{label}: one client at 20/s for 2 s → codes {burst} (429 = refused by the rate limit)", flush=True)
            # rows ≥ answers: requests still in flight when wrk stops at the deadline are stored, but wrk closes
            # their connections before the 201 arrives (at most one per connection)
            ok = (chk["receipts_found"] == n_ok and chk["same_text"] == chk["rows"]
                  and n_ok <= chk["rows"] <= n_ok + connections and not chk["pending"]
                  and set(res["codes"]) <= {201} and set(burst) <= {201, 429})  # type: ignore[arg-type]
            if not ok:
                print(f"{label}: CHECK FAILED", flush=True)
                sys.exit(1)
        finally:
            proc.terminate()
            proc.wait(20)


class _PgCluster:
    """A throwaway PostgreSQL cluster for ``--pg auto`` (Debian's binaries) with the default durability: fsync and
    synchronous commit on, as a deployment runs it (the test clusters turn them off for speed)."""

    BIN = Path(os.environ.get("ANJU_PG_BIN", "/usr/lib/postgresql/15/bin"))

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="anju-bench-pg-"))
        self.port = _port()
        self.root.chmod(0o777)

    def _run(self, *cmd: str) -> None:
        pre = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*pre, *cmd], check=True, capture_output=True)

    def __enter__(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run(str(self.BIN / "initdb"), "-D", str(self.root / "data"), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        self._run(str(self.BIN / "pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.root / "log"), "-w", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=200", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def __exit__(self, *exc: object) -> None:
        try:
            self._run(str(self.BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server and the cluster on the way out
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=1, help="web processes on SQLite (PostgreSQL: --pg-workers)")
    ap.add_argument("--pg-workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--pg", default=os.environ.get("ANJU_BENCH_PG_URL"),
                    help="PostgreSQL URL, or 'auto' for a throwaway local cluster")
    ap.add_argument("--no-sqlite", action="store_true")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_resident needs wrk (Debian: apt-get install wrk; `make bench` installs it)")
    rate, seconds = (50.0, 5.0) if a.quick else (a.rate, a.seconds)
    if not a.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'ops.sqlite3'}", "sqlite", rate, seconds, a.workers, a.connections)
    if a.pg == "auto":
        with _PgCluster() as url:
            run(url, "postgresql", rate, seconds, a.pg_workers, a.connections)
    elif a.pg:
        run(a.pg, "postgresql", rate, seconds, a.pg_workers, a.connections)


if __name__ == "__main__":
    main()
