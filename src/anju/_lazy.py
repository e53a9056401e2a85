"""Lazy public names of a package (PEP 562), so that importing one small submodule does not import them all."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, home: Mapping[str, str], namespace: MutableMapping[str, Any]
                 ) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: a public name listed in ``home`` (name → submodule) is imported
    from its submodule when first asked for and kept in the package's ``namespace`` (its ``globals()``)."""

    def __getattr__(name: str) -> Any:
        sub = home.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        namespace[name] = value
        return value

    return __getattr__
