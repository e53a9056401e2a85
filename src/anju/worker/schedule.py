"""Jobs the worker queues by itself every day (the morning briefing at 06:00 local time).

A small loop step, not a scheduling library: :func:`schedule_tick` is called by :func:`anju.worker.run_worker`
on every turn of its loop (with the worker's clock, a fake one in tests) and queues the job of each due date with
the unique key ``<kind>:<YYYY-MM-DD>``. The ``job.unique_key`` column is unique, so a date is queued once however
many workers run, and a restart does not queue it again; a worker that was down catches up the missed dates at
start, at most ``catch_up_days`` back. The queued job runs like any other (claimed once, progress, audit).
APScheduler was considered: its job store would be a second queue beside ``job`` and its misfire handling does
not give the per-date idempotence the briefing needs; the ops database's unique key does.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from anju.errors import ConfigError
from anju.ops.models import Job

__all__ = ["Schedule", "ScheduledJob", "due_dates", "load_schedule", "schedule_tick"]


class ScheduledJob(BaseModel):
    """One daily job: its kind, the local time it is due, and how many days back a late worker catches up."""

    model_config = {"extra": "forbid"}
    kind: str
    at: time = time(6, 0)
    timezone: str = "Asia/Shanghai"
    catch_up_days: int = Field(default=3, ge=1, le=31)
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class Schedule(BaseModel):
    """The worker's daily jobs (``anju/worker/data/schedule.toml``)."""

    model_config = {"extra": "forbid"}
    job: list[ScheduledJob] = Field(default_factory=list)


def load_schedule(data_dir: str | Path | None = None) -> Schedule:
    """``<data_dir>/worker/schedule.toml`` when it exists, else the shipped schedule; validated, errors name the key."""
    path = Path(data_dir) / "worker" / "schedule.toml" if data_dir is not None else None
    if path is not None and path.exists():
        text, where = path.read_text(encoding="utf-8"), str(path)
    else:
        text = resources.files("anju.worker").joinpath("data/schedule.toml").read_text(encoding="utf-8")
        where = "anju/worker/data/schedule.toml"
    try:
        sched = Schedule.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc}).", key="schedule") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{where}: {key}: {err['msg']}.", key=key) from None
    from anju.worker.jobs import JOB_KINDS

    bad = [j.kind for j in sched.job if j.kind not in JOB_KINDS]
    if bad:
        raise ConfigError(f"{where}: unknown job kind(s) {bad}; expected some of {list(JOB_KINDS)}.", key="kind")
    return sched


def due_dates(entry: ScheduledJob, now: datetime) -> list[date]:
    """The local dates whose run of ``entry`` is due at ``now`` (aware), oldest first: today once its time has
    passed, and the ``catch_up_days - 1`` days before."""
    tz = ZoneInfo(entry.timezone)
    local = now.astimezone(tz)
    days = [local.date() - timedelta(days=i) for i in range(entry.catch_up_days - 1, -1, -1)]
    return [d for d in days if datetime.combine(d, entry.at, tzinfo=tz) <= local]


def schedule_tick(factory: sessionmaker[Session], schedule: Schedule, now: datetime | None = None) -> list[int]:
    """Queue the due runs not queued yet; returns the ids of the jobs queued now (usually none)."""
    from anju.worker.jobs import enqueue

    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("schedule_tick needs an aware datetime")
    queued: list[int] = []
    for entry in schedule.job:
        if not entry.enabled:
            continue
        for d in due_dates(entry, now):
            key = f"{entry.kind}:{d.isoformat()}"
            with factory() as s:
                if s.scalar(select(Job.id).where(Job.unique_key == key)) is not None:
                    continue
                params: dict[str, Any] = {"date": d.isoformat()}
                try:
                    job = enqueue(s, entry.kind, params, unique_key=key, actor_name="worker schedule")
                    s.commit()
                except IntegrityError:  # another worker queued it between our check and insert
                    s.rollback()
                    continue
                queued.append(int(job.id))
    return queued
