"""The demo district with its duty data, built once per session at 5 % scale (two years, two days of tracks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def duty_demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from anju.config import load_settings
    from anju.demo.build import run_demo

    data_dir = tmp_path_factory.mktemp("duty-demo") / "anju-data"
    settings = load_settings(data_dir=data_dir, quiet=True)
    result = run_demo(settings, seed=42, scale=0.05, end_year=2025, years=2)
    out = Path(result.files.csv).parent
    truth = json.loads((out / "duty_truth.json").read_text(encoding="utf-8"))
    return {"settings": settings, "result": result, "truth": truth, "dir": out}
