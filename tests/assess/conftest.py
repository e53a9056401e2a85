"""One small demo district (5 % scale, 2024–2025) with its assessment inputs, built once per test session."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from anju.config import load_settings
    from anju.demo.build import run_demo

    data_dir = tmp_path_factory.mktemp("assess-demo") / "anju-data"
    settings = load_settings(data_dir=data_dir, quiet=True)
    result = run_demo(settings, seed=42, scale=0.05, end_year=2025, years=2)
    out = Path(result.files.csv).parent
    planted = json.loads((out / "assessment" / "assessment_truth.json").read_text(encoding="utf-8"))
    return {"settings": settings, "result": result, "dir": out, "planted": planted,
            "truth": json.loads((out / "truth.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="session")
def december(demo: dict[str, Any]) -> Any:
    from anju.assess.monthly import assess_month

    return assess_month(demo["settings"], "2025-12")


# the web fixtures (demo data directory, seeded ops database on SQLite and PostgreSQL, logged-in clients)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from web.conftest import (  # noqa: E402
    _seeded_templates,
    client,
    engine_of,
    lake_view,
    make_client,
    pw,
    web_db,
    web_demo,
    web_settings,
)

__all__ = ["_seeded_templates", "client", "engine_of", "lake_view", "make_client", "pw", "web_db", "web_demo",
           "web_settings"]
