"""The audit log: append-only, each row chained to the previous one by SHA-256.

``hash = SHA-256(canonical JSON of (seq, at, actor, action, target, detail, ip, prev_hash))``. Editing any field of a
row breaks its hash; deleting a row leaves a gap in ``seq`` and a ``prev_hash`` that no longer matches; a forked
chain is impossible because ``prev_hash`` and ``seq`` are unique. The application has no update or delete path:
the ORM refuses to flush a changed or deleted :class:`AuditEvent`, and the migration adds database triggers that
refuse UPDATE and DELETE on ``audit_event`` (someone with DDL rights can still drop them, which is why
:func:`verify` exists; note the head hash it returns elsewhere to detect truncation of the newest rows).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anju.errors import OpsError
from anju.ops.models import AuditEvent, User, utcnow

__all__ = ["GENESIS", "AuditReport", "event_hash", "record", "verify"]

GENESIS = "0" * 64
"""``prev_hash`` of the first row."""


def _ts(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(*, seq: int, at: datetime, actor_id: int | None, actor_name: str, action: str, target_type: str,
               target_id: str | None, detail: Any, ip: str | None, prev_hash: str) -> str:
    """The SHA-256 (hex) of one event's canonical JSON form."""
    body = json.dumps(
        [seq, _ts(at), actor_id, actor_name, action, target_type, target_id, detail, ip, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _jsonable(detail: dict[str, Any] | None) -> dict[str, Any]:
    # round-trip through JSON so what is hashed is exactly what the database returns later
    out: dict[str, Any] = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    return out


def record(session: Session, *, actor: User | None, action: str, target_type: str,
           target_id: object | None = None, detail: dict[str, Any] | None = None,
           ip: str | None = None, actor_name: str | None = None) -> AuditEvent:
    """Append one event to the chain (in the caller's transaction; it is committed with the audited write).

    ``actor`` None is the system (CLI, worker, import); ``actor_name`` overrides the recorded name. Concurrent
    writers cannot fork the chain: the unique ``prev_hash`` makes the loser retry on the new head.
    """
    name = actor_name or (actor.username if actor is not None else "system")
    detail_j = _jsonable(detail)
    tid = None if target_id is None else str(target_id)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        session.execute(text("SELECT pg_advisory_xact_lock(7242019)"))  # serialise chain appends
    for _attempt in range(20):
        head = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
                               ).first()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        at = utcnow()
        ev = AuditEvent(seq=seq, at=at, actor_id=actor.id if actor is not None else None, actor_name=name,
                        action=action, target_type=target_type, target_id=tid, detail=detail_j, ip=ip,
                        prev_hash=prev)
        ev.hash = event_hash(seq=seq, at=at, actor_id=ev.actor_id, actor_name=name, action=action,
                             target_type=target_type, target_id=tid, detail=detail_j, ip=ip, prev_hash=prev)
        try:
            with session.begin_nested():
                session.add(ev)
            return ev
        except IntegrityError:
            continue  # another writer appended first: chain onto the new head
    raise OpsError("could not append to the audit log: the chain head kept moving (20 attempts)")


@dataclass(frozen=True)
class AuditReport:
    """Result of :func:`verify`: ``ok``, rows checked, the head (seq, hash) and the problems found."""

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    problems: list[str]


def verify(session: Session, *, expect_head: str | None = None) -> AuditReport:
    """Walk the chain in ``seq`` order and report every edited, deleted or reordered row.

    ``expect_head``: a head hash noted earlier; if it is no longer in the chain, rows were removed from the end or
    the chain was rebuilt.
    """
    problems: list[str] = []
    prev, expected_seq, n, seen_expected = GENESIS, 1, 0, expect_head is None
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    last_hash = GENESIS
    for ev in session.scalars(stmt):
        n += 1
        if ev.seq != expected_seq:
            problems.append(f"seq {expected_seq}–{ev.seq - 1} missing (deleted rows) before seq {ev.seq}")
        if ev.prev_hash != prev:
            problems.append(f"seq {ev.seq}: prev_hash does not match the previous row (a row was deleted or edited)")
        h = event_hash(seq=ev.seq, at=ev.at, actor_id=ev.actor_id, actor_name=ev.actor_name, action=ev.action,
                       target_type=ev.target_type, target_id=ev.target_id, detail=ev.detail, ip=ev.ip,
                       prev_hash=ev.prev_hash)
        if h != ev.hash:
            problems.append(f"seq {ev.seq}: content does not match its hash (the row was edited)")
        if expect_head is not None and ev.hash == expect_head:
            seen_expected = True
        prev, expected_seq, last_hash = ev.hash, ev.seq + 1, ev.hash
    if not seen_expected:
        problems.append(f"the expected head {expect_head} is not in the chain (rows removed from the end?)")
    return AuditReport(ok=not problems, rows=n, head_seq=expected_seq - 1, head_hash=last_hash, problems=problems)
