"""The docstring examples of the text modules run and give the output they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["anju.text.normalize", "anju.text.segment", "anju.text.terms", "anju.text.extract", "anju.text.mask",
           "anju.text.classify", "anju.text.corpora", "anju.text.audit"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
