"""Shared fixtures. Real data lives in ../shared/data (never copied into the repo)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pg"]  # the ops database on SQLite and a throwaway PostgreSQL cluster (tests/pg.py)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


#: The test files that take longest on one worker, longest first (CPU seconds, docs/performance.md "Test suite").
#: CI runs two pytest-xdist workers with ``--dist loadfile --no-loadscope-reorder``: a worker takes the next whole
#: file in collection order, so these start first and the short files fill in at the end; a long file left for last
#: would run alone while the other core idles. Every other file keeps xdist's default order (most tests first).
LONGEST_FIRST = (
    "lake/test_spark.py",
    "lake/test_spark_ingest.py",
    "web/test_web_browser.py",
    "web/test_web_scope.py",
    "core/test_cli_errors.py",
    "text/test_mask.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, order the files as :data:`LONGEST_FIRST`, then by number of tests; tests within a file
    keep their order. A run without workers (``-n 0``) keeps pytest's own order."""
    if not hasattr(config, "workerinput"):
        return
    rank = {f"tests/{name}": i for i, name in enumerate(LONGEST_FIRST)}

    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    count = Counter(file_of(item) for item in items)
    items.sort(key=lambda item: (rank.get(file_of(item), len(rank)), -count[file_of(item)]))


def pytest_report_header(config: pytest.Config) -> list[str]:
    import duckdb
    import numpy
    import pyarrow
    import shapely

    return [f"engines: duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}, numpy {numpy.__version__}, "
            f"shapely {shapely.__version__}; shared data: {SHARED_DATA} ({'present' if SHARED_DATA.exists() else 'MISSING'})"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real public datasets; tests that need them skip loudly only if the folder is absent."""
    if not SHARED_DATA.exists():
        pytest.skip(f"real data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, empty data directory."""
    d = tmp_path / "anju-data"
    d.mkdir()
    return d


@dataclass(frozen=True)
class DemoDistrict:
    """A demo district built into a data directory: its settings, deployment, generator result and folders."""

    settings: Any
    deployment: Any
    result: Any
    root: Path

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    @property
    def truth(self) -> dict[str, Any]:
        return self.result.files.truth  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def demo_district(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., DemoDistrict]:
    """Build the demo district once per (seed, scale, years, end year) per test session and share it.

    The analytics, release and forecast tests all use the default (seed 42, 5 % scale, 2024–2025); tests must
    treat the data directory as read-only (write releases and outputs elsewhere).
    """
    from anju.config import load_settings
    from anju.demo.build import run_demo
    from anju.deployment import load_deployment

    cache: dict[tuple[int, float, int, int], DemoDistrict] = {}

    def build(seed: int = 42, scale: float = 0.05, years: int = 2, end_year: int = 2025) -> DemoDistrict:
        key = (seed, scale, years, end_year)
        if key not in cache:
            root = tmp_path_factory.mktemp(f"demo-{seed}-{scale:g}-{years}-{end_year}")
            settings = load_settings(data_dir=root / "anju-data", quiet=True)
            result = run_demo(settings, seed=seed, scale=scale, years=years, end_year=end_year)
            cache[key] = DemoDistrict(settings, load_deployment(settings), result, root)
        return cache[key]

    return build


@pytest.fixture(scope="session")
def demo(demo_district: Callable[..., DemoDistrict]) -> DemoDistrict:
    """The default demo district (seed 42, 5 % scale, 2024–2025), shared by every test folder."""
    return demo_district()
