"""The migrations own the schema: they match the models, and run empty → head → base → head on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from anju.ops.db import current_revision, downgrade_to_base, make_engine, upgrade_to_head
from anju.ops.models import Base

TABLES = {"organisation", "users", "user_scope", "community", "community_grid", "community_profile", "notice",
          "task", "task_reply", "audit_event", "web_session", "login_attempt", "job"}


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def test_models_and_migrations_agree(ops_url: str) -> None:
    assert _diff(ops_url) == []


def test_empty_head_base_head(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        upgrade_to_head(empty_db_url)
        assert current_revision(engine) == "0001"
        assert set(inspect(engine).get_table_names()) >= TABLES
        downgrade_to_base(empty_db_url)
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade_to_head(empty_db_url)
        upgrade_to_head(empty_db_url)  # idempotent
        assert current_revision(engine) == "0001"
        assert _diff(empty_db_url) == []
    finally:
        engine.dispose()


def test_diff_detects_a_drift(ops_url: str) -> None:
    """The agreement test can fail: drop an index and autogenerate notices it."""
    from sqlalchemy import text

    engine = make_engine(ops_url)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_notice_area_code"))
    engine.dispose()
    assert any("ix_notice_area_code" in repr(d) for d in _diff(ops_url))
