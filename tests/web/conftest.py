"""Fixtures of the web tests: a small demo district (built once and shared by every pytest-xdist worker), its
operational records seeded into a fresh ops database per test (SQLite and PostgreSQL), and logged-in clients."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anju.config import Settings, load_settings
from anju.web.lake_view import LakeView
from anju.web.security import WebConfig

SEED = 42
ROLES = ("admin", "leader", "analyst", "station", "community_police", "street_office", "evaluator",
         "property_manager", "grid_worker", "department")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def web_demo(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A small demo data directory (2 years, 2 % volume) with its release numbers cached on disk; built once for
    all xdist workers (they share the parent of their temp folders)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base
    d = root / "web-demo"
    with _file_lock(root / "web-demo.lock"):
        if not (d / ".ready").exists():
            shutil.rmtree(d, ignore_errors=True)
            from anju.demo.build import run_demo

            settings = load_settings(data_dir=d, quiet=True)
            run_demo(settings, seed=SEED, scale=0.02, years=2)
            from anju.deployment import load_deployment
            from anju.services.release import build_release

            build_release(load_deployment(settings), "latest", formats=["json", "html", "xlsx"])  # the reference the pages must match
            LakeView(settings).release("zh")  # stores the release for the other workers
            (d / ".ready").touch()
    return d


@pytest.fixture(scope="session")
def web_settings(web_demo: Path) -> Settings:
    return load_settings(data_dir=web_demo, quiet=True)


@pytest.fixture(scope="session")
def release_json(web_settings: Settings) -> dict[str, Any]:
    """The release.json that ``anju release`` wrote for the demo (built independently of the web app)."""
    import json

    (path,) = list(web_settings.paths.releases.glob("*/release.json"))
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def release_rows(release: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return release["tables"][table]["rows"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def lake_view(web_settings: Settings) -> LakeView:
    """One lake view for every app of the session (the release is assembled at most once)."""
    return LakeView(web_settings)


@pytest.fixture(scope="session")
def _seeded_templates() -> dict[str, Any]:
    return {}


def _seed(url: str, settings: Settings) -> None:
    from anju.ops.db import make_engine, session_factory, upgrade_to_head
    from anju.ops.demo import seed_demo

    upgrade_to_head(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        seed_demo(session, settings, seed=SEED)
        session.commit()
    engine.dispose()


@pytest.fixture(scope="session")
def seed_ops() -> Callable[[str, Settings], None]:
    """``seed_ops(url, settings)``: migrate a database and write the demo district's records into it."""
    return _seed


@pytest.fixture
def web_db(request: pytest.FixtureRequest, backend: str, tmp_path: Path, web_settings: Settings,
           tmp_path_factory: pytest.TempPathFactory, _seeded_templates: dict[str, Any]) -> str:
    """URL of a fresh ops database holding the demo district's records (users, communities, profiles, notices,
    tasks), on SQLite and on a throwaway PostgreSQL cluster (``backend`` comes from tests/pg.py)."""
    if backend not in _seeded_templates:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("web-ops") / "ops.sqlite3"
            _seed(f"sqlite:///{path}", web_settings)
            _seeded_templates[backend] = path
        else:
            cluster = request.getfixturevalue("pg_cluster")
            url = cluster.create_database()
            _seed(url, web_settings)
            _seeded_templates[backend] = url.rsplit("/", 1)[1]
    tpl = _seeded_templates[backend]
    if backend == "sqlite":
        dest = tmp_path / "ops.sqlite3"
        shutil.copyfile(tpl, dest)
        return f"sqlite:///{dest}"
    return str(request.getfixturevalue("pg_cluster").create_database(template=str(tpl)))


def password(role: str) -> str:
    from anju.ops.demo import demo_password

    return demo_password(SEED, role)


@pytest.fixture(scope="session")
def pw() -> Callable[[str], str]:
    """The demo password of a role's account."""
    return password


class Client(TestClient):
    """A test client that can log in as a demo role and then sends its CSRF token with every call."""

    csrf: str = ""

    def login_as(self, role: str, pw: str | None = None) -> Client:
        pre = self.get("/api/v1/auth/csrf").json()["csrf_token"]
        r = self.post("/api/v1/auth/login", json={"username": role, "password": pw or password(role)},
                      headers={"X-CSRF-Token": pre})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf_token"]
        self.headers["X-CSRF-Token"] = self.csrf
        return self


@pytest.fixture
def make_client(web_settings: Settings, web_db: str, lake_view: LakeView) -> Iterator[Callable[..., Client]]:
    """``make_client(config=None, https=False, settings=None)`` → a client of a fresh app on the seeded database
    (``settings``: another data directory, e.g. a copy that a test may change)."""
    from anju.web import create_app

    clients: list[Client] = []

    def make(config: WebConfig | None = None, https: bool = False, settings: Settings | None = None) -> Client:
        lake = lake_view if settings is None else LakeView(settings)
        app = create_app(settings or web_settings, config=config, database_url=web_db, upgrade=False, lake=lake)
        c = Client(app, base_url="https://testserver" if https else "http://testserver")
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.app.state.anju.engine.dispose()  # type: ignore[attr-defined]
        c.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


@pytest.fixture
def engine_of(make_client: Callable[..., Client]) -> Callable[[Client], Any]:
    return lambda c: c.app.state.anju.engine  # type: ignore[attr-defined]
