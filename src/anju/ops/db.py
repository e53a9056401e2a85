"""Connecting to the operations database and bringing its schema up to date.

One schema serves SQLite (the embedded default, ``<data_dir>/ops.sqlite3`` in WAL mode with foreign keys on) and
PostgreSQL (a deployment sets ``ANJU_DATABASE_URL``). The schema is owned by the Alembic migrations shipped in
``anju/ops/migrations``; :func:`upgrade_to_head` runs them programmatically, so no ``alembic.ini`` is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from anju.config import Settings

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "database_url",
    "downgrade_to_base",
    "make_engine",
    "session_factory",
    "upgrade_to_head",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "ops.sqlite3"


def database_url(settings: Settings) -> str:
    """The ops database URL: ``settings.database_url`` (``ANJU_DATABASE_URL``), else SQLite in the data directory."""
    if settings.database_url:
        return settings.database_url
    path = Path(settings.data_dir).resolve() / SQLITE_FILE
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Per connection: WAL (readers never block the writer), foreign keys on, wait for locks instead of failing."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def begin_write(session: Session) -> None:
    """Open the database transaction now, holding SQLite's write lock, so a multi-row write is whole or absent.

    pysqlite (the default SQLite driver) opens its transaction only before the first INSERT/UPDATE/DELETE, so a
    SAVEPOINT issued before that runs outside any transaction and its RELEASE commits at once: the rows of a
    savepoint-per-row import would stay even if the caller rolls back or the process dies half-way. On SQLite this
    issues ``BEGIN IMMEDIATE`` (waiting up to the busy timeout for other writers); on PostgreSQL the session's
    transaction already covers savepoints, and nothing is done. Call it before the first savepoint of a write.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    driver = conn.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout on every connection.

    The parent folder of a SQLite file is created. Extra keyword arguments go to :func:`sqlalchemy.create_engine`.
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    """An Alembic ``Config`` pointing at the shipped migrations and ``url`` (no ini file)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade_to_head(url: str) -> None:
    """Apply every migration up to the newest (idempotent: an up-to-date database is left as it is)."""
    from alembic import command

    make_engine(url).dispose()  # creates a SQLite file's folder
    command.upgrade(alembic_config(url), "head")


def downgrade_to_base(url: str) -> None:
    """Undo every migration (drops the ops tables); used by the migration tests and for a clean reinstall."""
    from alembic import command

    command.downgrade(alembic_config(url), "base")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision of the shipped migrations (what :func:`upgrade_to_head` brings a database to)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@contextmanager
def open_session(settings: Settings) -> Iterator[Session]:
    """A session on the deployment's ops database, brought to the newest revision first (for CLI commands)."""
    url = database_url(settings)
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            yield s
    finally:
        engine.dispose()
