"""The docstring examples of the analytics modules run and give the output they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["anju.analytics", "anju.analytics.periods", "anju.analytics.window", "anju.analytics.change",
           "anju.analytics.counts", "anju.analytics.shrinkage", "anju.analytics.rankings", "anju.analytics.index",
           "anju.spatial.kde"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name != "anju.analytics.window":
        assert result.attempted > 0
