"""Pytest plugin: the ops database on SQLite and on a throwaway PostgreSQL cluster.

Loaded from ``tests/conftest.py``. Fixtures:

- ``pg_cluster`` (session): a PostgreSQL 15 cluster made with Debian's ``initdb``/``pg_ctl`` in a temporary folder,
  listening on 127.0.0.1 and a free port, stopped and removed at the end. Under pytest-xdist each worker has its own.
- ``ops_url`` (parametrised ``sqlite`` / ``postgresql``): the URL of a fresh, migrated (head) ops database; tests
  that take it run once per backend. WEB's tests can take it too.
- ``empty_db_url`` (same parametrisation): a fresh database with no tables (for migration tests).
- ``ops_engine``, ``ops_session``: an engine and a session on ``ops_url``.

Set ``ANJU_TEST_BACKENDS=sqlite`` to run only SQLite (e.g. on a machine without PostgreSQL); by default a missing
PostgreSQL is an error, not a silent skip.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("ANJU_PG_BIN", "/usr/lib/postgresql/15/bin"))
BACKENDS = [b.strip() for b in os.environ.get("ANJU_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """A running throwaway cluster; :meth:`create_database` makes a fresh database and returns its URL."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        self._counter = itertools.count(1)

    def _run(self, *args: str) -> None:
        cmd = [*args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> PgCluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w",
                  "start")
        self._watchdog()
        return self

    def _watchdog(self) -> None:
        """A detached shell that stops and removes the cluster once this test process is gone, so a run killed
        by a timeout (no fixture teardown) leaves no server behind."""
        stop = f"{PG_BIN / 'pg_ctl'} -D {self.data} -m immediate -w stop"
        if self._as_postgres:
            stop = f"runuser -u postgres -- {stop}"
        script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
                  f"[ -d {self.data} ] && {stop} >/dev/null 2>&1; rm -rf {self.root}")
        subprocess.Popen(["sh", "-c", script], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its SQLAlchemy URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (session-wide; removed afterwards)."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL binaries not found in {PG_BIN}: install Debian's postgresql package (make setup) "
                    "or set ANJU_TEST_BACKENDS=sqlite")
    cluster = PgCluster(Path(tempfile.mkdtemp(prefix="anju-pg-"))).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def _migrated_templates() -> dict[str, object]:
    """One migrated database per backend, copied for each test (much faster than migrating every time)."""
    return {}


def _template(request: pytest.FixtureRequest, backend: str, cache: dict[str, object]) -> object:
    from anju.ops.db import upgrade_to_head

    if backend not in cache:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("ops-template") / "ops.sqlite3"
            upgrade_to_head(f"sqlite:///{path}")
            cache[backend] = path
        else:
            cluster: PgCluster = request.getfixturevalue("pg_cluster")
            url = cluster.create_database()
            upgrade_to_head(url)
            cache[backend] = url.rsplit("/", 1)[1]
    return cache[backend]


@pytest.fixture(params=[pytest.param(b, marks=pytest.mark.postgres) if b == "postgresql" else b for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    """The ops database backend of this test run: ``sqlite`` or ``postgresql`` (marked ``postgres``, so
    ``-m "not postgres"`` deselects it)."""
    return str(request.param)


@pytest.fixture
def ops_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path,
            _migrated_templates: dict[str, object]) -> str:
    """URL of a fresh ops database at the newest migration, on each backend."""
    tpl = _template(request, backend, _migrated_templates)
    if backend == "sqlite":
        dest = tmp_path / "ops.sqlite3"
        shutil.copyfile(str(tpl), dest)
        return f"sqlite:///{dest}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(template=str(tpl))


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """URL of a fresh database with no tables, on each backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture
def ops_engine(ops_url: str) -> Iterator[object]:
    """An engine on ``ops_url`` (disposed afterwards)."""
    from anju.ops.db import make_engine

    engine = make_engine(ops_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ops_session(ops_engine: object) -> Iterator[object]:
    """A session on the fresh ops database."""
    from anju.ops.db import session_factory

    with session_factory(ops_engine)() as session:  # type: ignore[arg-type]
        yield session
