"""The audit log: hash-chained, append-only in the app and in the database, tampering detected (both backends)."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from anju.errors import OpsError
from anju.ops import audit
from anju.ops.db import session_factory
from anju.ops.models import AuditEvent, User


def _drop_triggers(engine: Engine) -> None:
    """What someone with DDL rights could do; the chain must still reveal the edit. (Callers end their session's
    transaction first: DDL waits for readers' locks on PostgreSQL.)"""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_no_change ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))


def _fill(session: Session, n: int = 5) -> User:
    u = User(username="alice", display_name="爱丽丝", password_hash="-", role="admin")
    session.add(u)
    session.flush()
    for i in range(n):
        audit.record(session, actor=u, action="notice.publish", target_type="notice", target_id=i,
                     detail={"title": f"通知 {i}", "n": i}, ip="10.0.0.1")
    session.commit()
    return u


def test_chain_verifies(ops_session: Session) -> None:
    _fill(ops_session)
    rep = audit.verify(ops_session)
    assert rep.ok, rep.problems
    assert rep.rows == 5 and rep.head_seq == 5
    evs = ops_session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert evs[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(evs))
    assert evs[2].actor_name == "alice" and evs[2].detail == {"title": "通知 2", "n": 2}


def test_app_has_no_update_or_delete_path(ops_session: Session) -> None:
    _fill(ops_session, 2)
    ev = ops_session.scalars(select(AuditEvent)).first()
    assert ev is not None
    ev.action = "forged"
    with pytest.raises(OpsError, match="append-only"):
        ops_session.flush()
    ops_session.rollback()
    ops_session.delete(ops_session.scalars(select(AuditEvent)).first())
    with pytest.raises(OpsError, match="append-only"):
        ops_session.flush()
    ops_session.rollback()


def test_database_refuses_update_and_delete(ops_engine: Engine, ops_session: Session) -> None:
    _fill(ops_session, 2)
    for sql in ("UPDATE audit_event SET action = 'x' WHERE seq = 1", "DELETE FROM audit_event WHERE seq = 2"):
        with pytest.raises(Exception, match="append-only"), ops_engine.begin() as conn:
            conn.execute(text(sql))
    assert audit.verify(ops_session).ok


def test_edit_is_detected(ops_engine: Engine, ops_session: Session) -> None:
    _fill(ops_session)
    ops_session.rollback()
    _drop_triggers(ops_engine)
    with ops_engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET ip = '1.2.3.4' WHERE seq = 3"))
    ops_session.expire_all()
    rep = audit.verify(ops_session)
    assert not rep.ok
    assert any(p.startswith("seq 3: content") for p in rep.problems)


def test_delete_is_detected(ops_engine: Engine, ops_session: Session) -> None:
    _fill(ops_session)
    head = audit.verify(ops_session).head_hash
    ops_session.rollback()
    _drop_triggers(ops_engine)
    with ops_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    ops_session.expire_all()
    rep = audit.verify(ops_session)
    assert not rep.ok and any("missing" in p for p in rep.problems)
    # removing the newest row leaves a valid-looking chain; the noted head reveals it
    with ops_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 5"))
    ops_session.expire_all()
    assert any("expected head" in p for p in audit.verify(ops_session, expect_head=head).problems)


def test_concurrent_writers_keep_one_chain(ops_engine: Engine) -> None:
    factory = session_factory(ops_engine)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(15):
                with factory() as s:
                    audit.record(s, actor=None, action="job.run", target_type="job", target_id=f"{k}-{i}")
                    s.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with factory() as s:
        rep = audit.verify(s)
        assert rep.ok, rep.problems
        assert rep.rows == 45
