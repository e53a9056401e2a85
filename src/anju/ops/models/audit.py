"""Audit events: append-only and hash-chained (see :mod:`anju.ops.audit` for writing and verifying)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from anju.errors import OpsError
from anju.ops.models.base import Base, UTCDateTime, utcnow

__all__ = ["AuditEvent"]


class AuditEvent(Base):
    """Who (``actor_*``) did what (``action`` on ``target_type``/``target_id``, ``detail``), when, from where (``ip``).

    ``seq`` numbers the chain 1, 2, 3…; ``prev_hash`` is the previous row's ``hash`` (64 zeros for the first) and
    is unique, so the chain cannot fork even with concurrent writers. The actor is stored by id and name, without
    a foreign key, so the trail outlives the user.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    """No update or delete path for audit rows through the ORM (the database triggers are the second wall)."""
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise OpsError("audit events are append-only: an update was refused")
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise OpsError("audit events are append-only: a delete was refused")
