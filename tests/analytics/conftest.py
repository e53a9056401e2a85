"""Fixtures of the analytics tests: small synthetic incident tables with the lake schema."""

from __future__ import annotations

import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from synth import areas_for, random_incidents


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
