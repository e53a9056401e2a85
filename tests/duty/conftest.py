"""The demo district with its duty data (5 % scale, two years, two days of tracks), copied once per session."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def duty_demo(demo_district: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The session's shared demo district (seed 42, 5 %, 2024–2025, which includes the duty data) in a private
    copy of its data directory: the duty tests import files and write briefings there, and the shared one is
    read-only. Copying is a fraction of a second; building the same demo again cost ~18 s of CPU."""
    from anju.config import load_settings

    base = demo_district(seed=42, scale=0.05, years=2, end_year=2025)
    data_dir = tmp_path_factory.mktemp("duty-demo") / "anju-data"
    shutil.copytree(base.data_dir, data_dir, symlinks=True)
    settings = load_settings(data_dir=data_dir, quiet=True)
    out = data_dir / Path(base.result.files.csv).parent.relative_to(base.data_dir)
    truth = json.loads((out / "duty_truth.json").read_text(encoding="utf-8"))
    return {"settings": settings, "result": base.result, "truth": truth, "dir": out}
