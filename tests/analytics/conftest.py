"""Fixtures of the analytics tests: small synthetic incident tables with the lake schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from analytics_synth import areas_for, random_incidents


@pytest.fixture(scope="session")
def random_df() -> pd.DataFrame:
    """6,000 random calls over 2024–2025 in 12 communities (5 % unassigned), all leaves."""
    return random_incidents(6000, seed=7)


@pytest.fixture(scope="session")
def random_areas(random_df: pd.DataFrame) -> pd.DataFrame:
    return areas_for(random_df)


@pytest.fixture
def random_table(random_df: pd.DataFrame) -> ibis.Table:
    return ibis.memtable(random_df)


@pytest.fixture(scope="session")
def demo(demo: Any) -> Iterator[dict[str, Any]]:
    """The shared demo district (tests/conftest.py) opened for the analytics tests: its lake, tables and truth."""
    from anju.services.lake import open_lake

    with open_lake(demo.deployment) as lake:
        yield {"settings": demo.settings, "deployment": demo.deployment, "lake": lake, "t": lake.incidents(),
               "truth": demo.truth, "dir": Path(demo.result.files.csv).parent,
               "community": lake.areas("community").to_pandas(), "street": lake.areas("street").to_pandas()}
