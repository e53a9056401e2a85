"""Fixtures for the release tests: a synthetic release rendered once per session (internal and public)."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_synthetic import make_release

from anju.release import Release, render_all


@pytest.fixture(scope="session")
def synthetic() -> Release:
    return make_release("zh")


@pytest.fixture(scope="session")
def synthetic_out(synthetic: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release-synthetic")
    render_all(synthetic, out)
    return out


@pytest.fixture(scope="session")
def synthetic_public_out(synthetic: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release-synthetic-public")
    render_all(synthetic.public(), out)
    return out
