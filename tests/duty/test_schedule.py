"""The worker's daily schedule: the briefing is queued once per date at 06:00 local, missed dates are caught up at
start within the limit, and a second worker (or a restart) queues nothing twice. A fake clock, never a sleep."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from anju.errors import ConfigError
from anju.ops.db import session_factory
from anju.ops.models import Job
from anju.worker.schedule import Schedule, ScheduledJob, due_dates, load_schedule, schedule_tick

SCHED = Schedule(job=[ScheduledJob(kind="briefing", at=time(6, 0), timezone="Asia/Shanghai", catch_up_days=3)])


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def test_due_dates_follow_local_time() -> None:
    e = SCHED.job[0]
    # 2026-12-06 21:59 UTC = 12-07 05:59 Shanghai: today not yet due, the two days before are
    assert due_dates(e, _utc("2026-12-06T21:59:00")) == [date(2026, 12, 5), date(2026, 12, 6)]
    assert due_dates(e, _utc("2026-12-06T22:00:00")) == [date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)]


def _briefing_jobs(s: Session) -> list[tuple[str, str]]:
    rows = s.execute(select(Job.unique_key, Job.params).where(Job.kind == "briefing").order_by(Job.id)).all()
    return [(k, p["date"]) for k, p in rows]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_tick_queues_each_date_once(ops_engine: Engine) -> None:
    factory = session_factory(ops_engine)
    one = Schedule(job=[SCHED.job[0].model_copy(update={"catch_up_days": 1})])
    assert schedule_tick(factory, one, _utc("2026-12-06T21:00:00")) == []  # 05:00 local: nothing yet
    first = schedule_tick(factory, one, _utc("2026-12-06T22:00:05"))
    assert len(first) == 1
    assert schedule_tick(factory, one, _utc("2026-12-06T23:30:00")) == []  # same date again: nothing
    # a restart the next morning queues the next date only
    assert len(schedule_tick(factory, one, _utc("2026-12-07T22:01:00"))) == 1
    with factory() as s:
        assert _briefing_jobs(s) == [("briefing:2026-12-07", "2026-12-07"), ("briefing:2026-12-08", "2026-12-08")]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_catch_up_is_limited(ops_engine: Engine) -> None:
    factory = session_factory(ops_engine)
    # the worker was down for a week; it starts on 12-14 at 09:00 local: 3 dates back at most, today included
    schedule_tick(factory, SCHED, _utc("2026-12-14T01:00:00"))
    with factory() as s:
        assert [d for _, d in _briefing_jobs(s)] == ["2026-12-12", "2026-12-13", "2026-12-14"]


def test_two_workers_race_for_the_same_date(ops_engine: Engine) -> None:
    """Both backends: concurrent ticks queue each date once (the unique key decides)."""
    factory = session_factory(ops_engine)
    now = _utc("2026-12-07T00:00:00")
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            for _ in range(3):
                schedule_tick(factory, SCHED, now)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "briefing")) == 3
        assert len({k for k, _ in _briefing_jobs(s)}) == 3


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_worker_loop_runs_the_schedule(ops_url: str, ops_engine: Engine, tmp_path: Path) -> None:
    """run_worker ticks the schedule with its clock and runs the queued job (an empty data directory: the briefing
    fails with a clear message on the job, and is not queued again on the next start)."""
    from anju.config import load_settings
    from anju.worker.runner import run_worker

    settings = load_settings(data_dir=tmp_path / "data", quiet=True)
    one = Schedule(job=[SCHED.job[0].model_copy(update={"catch_up_days": 1})])
    clock = lambda: _utc("2026-12-07T02:00:00")  # noqa: E731
    assert run_worker(settings, url=ops_url, once=True, clock=clock, schedule=one) == 1
    assert run_worker(settings, url=ops_url, once=True, clock=clock, schedule=one) == 0
    with session_factory(ops_engine)() as s:
        job = s.scalars(select(Job).where(Job.kind == "briefing")).one()
        assert job.unique_key == "briefing:2026-12-07" and job.status == "failed"
        assert job.message and "Traceback" not in job.message


def test_schedule_file_is_validated(tmp_path: Path) -> None:
    assert [j.kind for j in load_schedule(None).job] == ["briefing"]
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "schedule.toml").write_text('[[job]]\nkind = "briefing"\nat = "25:00"\n',
                                                        encoding="utf-8")
    with pytest.raises(ConfigError, match=r"job\.0\.at"):
        load_schedule(tmp_path)
    (tmp_path / "worker" / "schedule.toml").write_text('[[job]]\nkind = "dig"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown job kind"):
        load_schedule(tmp_path)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_requested_jobs_before_scheduled_ones(ops_engine: Engine) -> None:
    from anju.worker import claim_next, enqueue

    factory = session_factory(ops_engine)
    schedule_tick(factory, SCHED, _utc("2026-12-07T00:00:00"))  # three scheduled briefings queued first
    with factory() as s:
        asked = enqueue(s, "release", {"period": "2025H2"}).id
        s.commit()
    assert claim_next(factory, worker="w") == asked
