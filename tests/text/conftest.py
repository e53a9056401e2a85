"""Fixtures of the text tests: a small synthetic labelled corpus and the real corpora (Teddy Cup, CAIL2018)."""

from __future__ import annotations

from pathlib import Path

import pytest
from text_synth import make_corpus


@pytest.fixture(scope="session")
def corpus() -> tuple[list[str], list[str]]:
    return make_corpus()


@pytest.fixture(scope="session")
def teddy_dir(shared_data: Path) -> Path:
    d = shared_data / "teddy-cup-2020-c-gov-messages"
    if not d.exists():
        pytest.skip(f"{d} missing")
    return d


@pytest.fixture(scope="session")
def cail_dir(shared_data: Path) -> Path:
    d = shared_data / "cail2018-small"
    if not d.exists():
        pytest.skip(f"{d} missing")
    return d
