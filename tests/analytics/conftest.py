"""Fixtures of the analytics tests: small synthetic incident tables with the lake schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from analytics_synth import areas_for, random_incidents

DEMO_SCALE = 0.05


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
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo district at 5 % scale, two years (2024–2025), ingested into a temporary data dir."""
    from anju.config import load_settings
    from anju.demo.build import run_demo
    from anju.lake import connect

    data_dir = tmp_path_factory.mktemp("analytics-demo") / "anju-data"
    settings = load_settings(data_dir=data_dir, quiet=True)
    result = run_demo(settings, seed=42, scale=DEMO_SCALE, end_year=2025, years=2)
    out_dir = Path(result.files.csv).parent
    truth = json.loads((out_dir / "truth.json").read_text(encoding="utf-8"))
    lake = connect(settings)
    return {"settings": settings, "lake": lake, "t": lake.incidents(), "truth": truth, "dir": out_dir,
            "community": lake.areas("community").to_pandas(), "street": lake.areas("street").to_pandas()}
