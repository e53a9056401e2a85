"""The docstring examples of the release package run and give the output they show."""

from __future__ import annotations

import doctest

import anju.release.model


def test_model_docstring_examples() -> None:
    result = doctest.testmod(anju.release.model, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
