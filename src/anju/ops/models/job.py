"""Background jobs (ingest, release, text-model training) queued by the web app and run by ``anju worker``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anju.ops.models.base import Base, UTCDateTime, utcnow

__all__ = ["JOB_STATUSES", "Job"]

JOB_STATUSES = ("queued", "running", "done", "failed")
_STATUS_SQL = ", ".join(f"'{s}'" for s in JOB_STATUSES)


class Job(Base):
    """One job: ``kind`` and ``params`` say what to run; the worker fills status, progress, message and result."""

    __tablename__ = "job"
    __table_args__ = (CheckConstraint(f"status IN ({_STATUS_SQL})", name="status"),
                      Index("ix_job_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    unique_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    """Set for scheduled jobs (e.g. ``briefing:2026-12-07``): the database refuses a second job with the same key,
    so a schedule enqueues each (kind, date) once however many workers or restarts."""
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    worker: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
