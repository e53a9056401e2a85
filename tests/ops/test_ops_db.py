"""Connecting: the URL from settings, SQLite pragmas, aware UTC times on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from anju.config import load_settings
from anju.ops.db import database_url, make_engine
from anju.ops.models import Organisation, User, WebSession


def test_database_url_default_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANJU_DATABASE_URL", raising=False)
    s = load_settings(data_dir=tmp_path)
    assert database_url(s) == f"sqlite:///{(tmp_path / 'ops.sqlite3').resolve()}"
    monkeypatch.setenv("ANJU_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:5/anju")
    assert database_url(load_settings(data_dir=tmp_path)) == "postgresql+psycopg://u@127.0.0.1:5/anju"


def test_sqlite_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'ops.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_times_are_aware_utc_and_naive_refused(ops_session: Session) -> None:
    org = Organisation(code="B", name="分局", kind="bureau")
    ops_session.add(org)
    u = User(username="u1", display_name="甲", password_hash="x", role="admin")
    ops_session.add(u)
    ops_session.flush()
    local = datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    ws = WebSession(token_hash="a" * 64, user_id=u.id, expires_at=local)
    ops_session.add(ws)
    ops_session.commit()
    ops_session.expire_all()
    back = ops_session.get(WebSession, ws.id)
    assert back is not None and back.expires_at.tzinfo is not None
    assert back.expires_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    ops_session.add(WebSession(token_hash="b" * 64, user_id=u.id, expires_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive"):
        ops_session.flush()
    ops_session.rollback()


def test_check_constraint_refuses_unknown_kind(ops_session: Session) -> None:
    from sqlalchemy.exc import IntegrityError

    ops_session.add(Organisation(code="X", name="x", kind="club"))
    with pytest.raises(IntegrityError):
        ops_session.flush()
    ops_session.rollback()
