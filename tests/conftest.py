"""Shared fixtures. Real data lives in ../shared/data (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pg"]  # the ops database on SQLite and a throwaway PostgreSQL cluster (tests/pg.py)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


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
