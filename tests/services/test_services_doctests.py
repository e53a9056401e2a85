"""The docstring examples of the deployment, the engine factory and the GeoJSON writer run as shown."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["anju.deployment", "anju.deployment.loaders", "anju.lake.engine", "anju.geo.geojson"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
