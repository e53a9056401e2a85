"""The shared demo district (5 % scale, 2024–2025) with its assessment inputs, and the web fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def demo(demo: Any) -> dict[str, Any]:
    """The shared demo district (tests/conftest.py, same seed, scale and years) with its planted assessment facts;
    the assessment tests only read its data directory (bulletins go to their own folders)."""
    out = Path(demo.result.files.csv).parent
    planted = json.loads((out / "assessment" / "assessment_truth.json").read_text(encoding="utf-8"))
    return {"settings": demo.settings, "result": demo.result, "dir": out, "planted": planted,
            "truth": json.loads((out / "truth.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="session")
def december(demo: dict[str, Any]) -> Any:
    from anju.assess.monthly import assess_month

    return assess_month(demo["settings"], "2025-12")


# the web fixtures (demo data directory, seeded ops database on SQLite and PostgreSQL, logged-in clients); tests/ is
# on sys.path already (pytest's rootdir conftest, tests/conftest.py, puts it there)
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
