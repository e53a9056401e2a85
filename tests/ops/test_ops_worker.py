"""Background jobs: a real worker process runs real jobs; two workers never claim the same job (both backends)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from anju.config import load_settings
from anju.errors import OpsError
from anju.ops.db import session_factory
from anju.ops.models import AuditEvent, Job, utcnow
from anju.worker import claim_next, enqueue, recover_stale, spawn_worker


@pytest.fixture(scope="module")
def tiny_calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo 110 export (GBK cn110 CSV, about 1,400 calls)."""
    from anju.demo.generate import generate_files

    return generate_files(tmp_path_factory.mktemp("tiny"), seed=5, scale=0.003, end_year=2025, years=1).csv


def test_enqueue_checks_parameters(ops_session: Session, tmp_path: Path) -> None:
    with pytest.raises(OpsError, match="unknown job kind"):
        enqueue(ops_session, "mine_bitcoin")
    with pytest.raises(OpsError, match="needs parameter"):
        enqueue(ops_session, "ingest", {})
    with pytest.raises(OpsError, match="does not exist"):
        enqueue(ops_session, "ingest", {"path": str(tmp_path / "nope.csv")})
    with pytest.raises(OpsError, match="does not take"):
        enqueue(ops_session, "release", {"period": "2025H2", "rm": "-rf"})
    job = enqueue(ops_session, "release", {"period": "2025H2"})
    ops_session.commit()
    assert job.status == "queued" and job.progress == 0.0
    ev = ops_session.scalars(select(AuditEvent).where(AuditEvent.action == "job.enqueue")).one()
    assert ev.target_id == str(job.id)


def test_two_workers_never_claim_the_same_job(ops_engine: Engine, ops_session: Session) -> None:
    for i in range(40):
        ops_session.add(Job(kind="release", params={"n": i}, status="queued"))
    ops_session.commit()
    factory = session_factory(ops_engine)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while (jid := claim_next(factory, worker=name)) is not None:
                claimed[name].append(jid)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    all_ids = claimed["a"] + claimed["b"]
    assert len(all_ids) == len(set(all_ids)) == 40
    ops_session.expire_all()
    rows = ops_session.scalars(select(Job)).all()
    assert all(j.status == "running" for j in rows)
    assert {j.id for j in rows if j.worker == "a"} == set(claimed["a"])


def test_recover_stale(ops_engine: Engine, ops_session: Session) -> None:
    old = Job(kind="release", status="running", heartbeat_at=utcnow() - timedelta(minutes=30))
    fresh = Job(kind="release", status="running", heartbeat_at=utcnow())
    ops_session.add_all([old, fresh])
    ops_session.commit()
    assert recover_stale(session_factory(ops_engine)) == 1
    ops_session.expire_all()
    assert (old.status, fresh.status) == ("failed", "running")


def _wait(session: Session, ids: list[int], timeout: float = 240) -> list[Job]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        session.expire_all()
        jobs = session.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.id)).all()
        if all(j.status in ("done", "failed") for j in jobs):
            return list(jobs)
        time.sleep(0.5)
    raise AssertionError(f"jobs {ids} did not finish in {timeout} s")


def test_worker_process_runs_real_jobs(ops_url: str, ops_session: Session, tmp_path: Path,
                                       tiny_calls: Path) -> None:
    """`anju serve` starts the worker like this; the ingest goes through the real pipeline into the real lake."""
    from anju.lake import connect

    settings = load_settings(data_dir=tmp_path / "data", quiet=True, secret="test-secret-worker-0123456789")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    ok_job = enqueue(ops_session, "ingest", {"path": str(tiny_calls), "profile": "cn110"})
    bad_job = enqueue(ops_session, "ingest", {"path": str(bad), "profile": "cn110"})
    ops_session.commit()
    env_secret = os.environ.get("ANJU_SECRET")
    os.environ["ANJU_SECRET"] = str(settings.secret)
    try:
        proc = spawn_worker(settings, url=ops_url)
    finally:
        if env_secret is None:
            os.environ.pop("ANJU_SECRET", None)
        else:
            os.environ["ANJU_SECRET"] = env_secret
    try:
        done, failed = _wait(ops_session, [ok_job.id, bad_job.id])
    finally:
        proc.terminate()
        rc = proc.wait(timeout=30)
    assert rc == 0  # SIGTERM is a clean stop
    assert done.status == "done", (done.message, done.error)
    assert done.progress == 1.0 and done.started_at and done.finished_at and done.worker
    assert done.result is not None and done.result["rows_loaded"] > 1000
    with connect(settings) as lake:
        n = int(lake.incidents().count().execute())
    assert n == done.result["rows_loaded"]
    assert failed.status == "failed" and failed.message and "Traceback" not in failed.message
    actions = set(ops_session.scalars(select(AuditEvent.action)))
    assert {"job.enqueue", "job.done", "job.failed"} <= actions


def test_worker_cli_once(tmp_path: Path) -> None:
    """`anju worker --once` (default SQLite database of the data directory) drains the queue and exits; a failing
    release is recorded on the job, not crashed on. (Both backends are covered by the spawn test above.)"""
    from anju.ops.db import database_url, make_engine, upgrade_to_head

    data = tmp_path / "empty"
    url = database_url(load_settings(data_dir=data))
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        jid = enqueue(s, "release", {"period": "2025H2"}).id
        s.commit()
    env = {k: v for k, v in os.environ.items() if k != "ANJU_DATABASE_URL"}
    out = subprocess.run([sys.executable, "-m", "anju.cli", "--data-dir", str(data), "--quiet", "worker", "--once"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with session_factory(engine)() as s:
        j = s.get(Job, jid)
        assert j is not None and j.status == "failed" and j.message  # empty lake: a clear error on the job
        assert "Traceback" not in j.message
    engine.dispose()


def test_results_are_made_json() -> None:
    import numpy as np

    from anju.worker.runner import _jsonable

    out = _jsonable({"f": np.float64(0.5), "n": np.int64(3), "a": np.arange(2), "p": Path("/x"), "s": "安居"})
    assert out == {"f": 0.5, "n": 3, "a": [0, 1], "p": "/x", "s": "安居"}
