"""The resident-services migration (0002_resident): matches the models, and goes head → 0001 → head on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from anju.ops.db import alembic_config, current_revision, head_revision, make_engine, upgrade_to_head
from anju.ops.models import Base

TABLES = {"door_plate", "resident_report", "report_event", "open311_partner", "safe_house"}


def test_resident_tables_up_down_up(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade_to_head(empty_db_url)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert list(compare_metadata(ctx, Base.metadata)) == []
        command.downgrade(alembic_config(empty_db_url), "0001")
        assert current_revision(engine) == "0001"
        names = set(inspect(engine).get_table_names())
        assert not TABLES & names and "community" in names
        upgrade_to_head(empty_db_url)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
