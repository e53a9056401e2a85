"""The examples in anju.geo's docstrings run, and anju.geo.areas still offers every name it had before the split."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["areas", "area_layers", "area_loading", "area_store", "grid", "regular_grid"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"anju.geo.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_areas_facade_re_exports_the_split_modules() -> None:
    from anju.geo import area_layers, area_loading, area_store, areas

    homes = {
        "LAYERS": area_layers, "PARENT": area_layers, "CHILD": area_layers, "HIERARCHIES": area_layers,
        "LAYER_LABELS": area_layers, "AreaLayer": area_layers, "LayerReport": area_layers,
        "load_area_file": area_loading, "read_meta": area_store, "layer_summary": area_store,
    }
    for name, home in homes.items():
        assert getattr(areas, name) is getattr(home, name), name
    assert set(areas.__all__) >= set(homes) | {"AreaSet", "require_layers"}
    assert all(hasattr(areas, n) for n in areas.__all__)
