"""The worker loop: claim a queued job, run it, record progress and the outcome.

Claiming is one conditional UPDATE (``... SET status='running' WHERE id=:id AND status='queued'``): when two workers
race for the same job only one UPDATE matches, on SQLite and PostgreSQL alike, so a job never runs twice. Progress
and a heartbeat are written in their own short transactions (throttled), so the web app can show them while the job
runs. A job whose worker died (no heartbeat for :data:`STALE_AFTER`) is marked failed by :func:`recover_stale`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from anju.config import Settings
from anju.errors import AnjuError
from anju.ops import audit
from anju.ops.models import Job, utcnow
from anju.worker.jobs import job_handler

if TYPE_CHECKING:
    from anju.worker.schedule import Schedule

__all__ = ["STALE_AFTER", "claim_next", "recover_stale", "run_job", "run_worker", "spawn_worker", "worker_id"]

log = logging.getLogger("anju.worker")
STALE_AFTER = timedelta(minutes=5)
HEARTBEAT_S = 20.0
PROGRESS_EVERY_S = 0.5


def worker_id() -> str:
    """``host:pid`` of this process (recorded on the jobs it runs)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_next(factory: sessionmaker[Session], worker: str | None = None) -> int | None:
    """Claim the oldest queued job for this worker (requested jobs before scheduled ones); its id, or None when
    the queue is empty."""
    worker = worker or worker_id()
    while True:
        with factory() as s:
            # jobs people asked for before scheduled ones (a catch-up of briefings does not hold up an import)
            jid = s.scalar(select(Job.id).where(Job.status == "queued")
                           .order_by(Job.unique_key.is_not(None), Job.id).limit(1))
            if jid is None:
                return None
            now = utcnow()
            res = s.execute(update(Job).where(Job.id == jid, Job.status == "queued")
                            .values(status="running", worker=worker, started_at=now, heartbeat_at=now,
                                    message=None))
            s.commit()
            if getattr(res, "rowcount", 0) == 1:
                return int(jid)
        # another worker took it first: try the next one


def _default(v: Any) -> Any:
    tolist = getattr(v, "tolist", None)  # NumPy scalars and arrays
    if callable(tolist):
        return tolist()
    return str(v)  # paths, dates, anything else


def _jsonable(result: Any) -> Any:
    """The result as plain JSON (NumPy numbers, paths and dates converted), so storing it cannot fail."""
    return json.loads(json.dumps(result, ensure_ascii=False, default=_default))


def _set(factory: sessionmaker[Session], jid: int, **values: Any) -> None:
    with factory() as s:
        s.execute(update(Job).where(Job.id == jid).values(**values))
        s.commit()


def run_job(settings: Settings, factory: sessionmaker[Session], jid: int) -> str:
    """Run a claimed job to its end; returns the final status (``done`` or ``failed``). Never raises for a job's
    own failure: the error is recorded on the job (a clear message for anju's errors, the traceback otherwise)."""
    with factory() as s:
        job = s.get(Job, jid)
        if job is None:
            raise AnjuError(f"job {jid} does not exist")
        kind, params = job.kind, dict(job.params or {})
    last = [0.0]
    stop = threading.Event()

    def report(progress: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            _set(factory, jid, progress=max(0.0, min(1.0, float(progress))), message=message[:500],
                 heartbeat_at=utcnow())

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                _set(factory, jid, heartbeat_at=utcnow())
            except Exception:  # a missed beat is retried; the job itself goes on
                log.exception("heartbeat of job %d failed", jid)

    hb = threading.Thread(target=beat, name=f"job-{jid}-heartbeat", daemon=True)
    hb.start()
    try:
        result = job_handler(kind)(settings, params, report)
    except Exception as exc:
        stop.set()
        msg = str(exc) if isinstance(exc, AnjuError) else f"{type(exc).__name__}: {exc}"
        detail = None if isinstance(exc, AnjuError) else traceback.format_exc()[-4000:]
        _set(factory, jid, status="failed", message=msg[:2000], error=detail or msg, finished_at=utcnow())
        status = "failed"
    else:
        stop.set()
        _set(factory, jid, status="done", progress=1.0, result=_jsonable(result), finished_at=utcnow(),
             message="完成 / done")
        status = "done"
    hb.join(timeout=1)
    with factory() as s:
        audit.record(s, actor=None, actor_name=f"worker {worker_id()}", action=f"job.{status}", target_type="job",
                     target_id=jid, detail={"kind": kind})
        s.commit()
    return status


def recover_stale(factory: sessionmaker[Session], stale_after: timedelta = STALE_AFTER) -> int:
    """Mark running jobs with no heartbeat for ``stale_after`` as failed (their worker died); returns how many."""
    cutoff = utcnow() - stale_after
    with factory() as s:
        res = s.execute(update(Job).where(Job.status == "running", Job.heartbeat_at < cutoff)
                        .values(status="failed", finished_at=utcnow(),
                                message="工作进程中断 / the worker stopped while running this job"))
        s.commit()
        return int(getattr(res, "rowcount", 0) or 0)


def run_worker(settings: Settings, *, url: str | None = None, once: bool = False, poll_s: float = 1.0,
               stop: threading.Event | None = None, clock: Callable[[], datetime] | None = None,
               schedule: Schedule | None = None) -> int:
    """Claim and run jobs until stopped (SIGTERM/SIGINT or ``stop``); with ``once``, until the queue is empty.

    On every turn the daily schedule (:mod:`anju.worker.schedule`, ``<data_dir>/worker/schedule.toml`` or the
    shipped one) queues the jobs that are due by ``clock`` (default: now, UTC), catching up missed dates at start.
    Returns the number of jobs run. The database is brought to the newest schema first.
    """
    from anju.ops.db import database_url, make_engine, session_factory, upgrade_to_head
    from anju.worker.schedule import load_schedule, schedule_tick

    url = url or database_url(settings)
    upgrade_to_head(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    stop = stop or threading.Event()
    clock = clock or (lambda: datetime.now(UTC))
    desks: list[Any] = []
    schedule = schedule if schedule is not None else load_schedule(settings.data_dir)
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    n = 0
    try:
        recovered = recover_stale(factory)
        if recovered:
            log.warning("marked %d stale job(s) as failed", recovered)
        while not stop.is_set():
            queued = schedule_tick(factory, schedule, clock())
            if queued:
                log.info("schedule queued job(s) %s", queued)
            _route_reports(settings, factory, desks)
            jid = claim_next(factory)
            if jid is None:
                if once:
                    break
                stop.wait(poll_s)
                continue
            log.info("running job %d", jid)
            run_job(settings, factory, jid)
            n += 1
    finally:
        engine.dispose()
        for sig, handler in previous.items():  # a caller (a test, a server) keeps its own signal handling
            signal.signal(sig, handler)
    return n


def _route_reports(settings: Settings, factory: sessionmaker[Session], desks: list[Any]) -> int:
    """Route the resident reports the web process stored but did not route (it stopped, or is busy); the desk
    (rules, router model) is loaded the first time there is something to route."""
    from anju.ops.models import ResidentReport
    from anju.ops.resident import PENDING, ResidentDesk, route_pending

    with factory() as s:
        if s.scalar(select(ResidentReport.id).where(ResidentReport.route_method == PENDING).limit(1)) is None:
            return 0
        if not desks:
            from anju.config import deployment_secret

            desks.append(ResidentDesk.load(settings.data_dir, deployment_secret(settings)))
        n = 0
        try:
            while (k := route_pending(s, desks[0])) > 0:
                n += k
        except Exception:  # recorded; the reports stay pending for the next turn
            log.exception("routing resident reports failed")
        return n


def spawn_worker(settings: Settings, *, url: str | None = None) -> subprocess.Popen[bytes]:
    """Start ``anju worker`` as a child process (what ``anju serve`` does); stop it with ``terminate()``, which
    lets it finish its current job's bookkeeping and exit."""
    from anju.ops.db import database_url

    env = dict(os.environ)
    env["ANJU_DATABASE_URL"] = url or database_url(settings)
    cmd = [sys.executable, "-m", "anju.cli", "--data-dir", str(settings.data_dir), "--quiet", "worker"]
    return subprocess.Popen(cmd, env=env)
