"""The incident lake: append-only Hive-partitioned Parquet plus a manifest; read through Ibis (DuckDB).

``connect(settings)`` gives a read-only :class:`Lake` with ``incidents()``, ``quarantine()``, ``imports()`` and
``areas(layer)``. Only :mod:`anju.ingest` writes the lake. See docs/data-model.md.

``connect`` and ``Lake`` are imported lazily, so writers (ingest) do not pay for importing Ibis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anju.lake.connection import Lake, connect

__all__ = ["Lake", "connect"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from anju.lake import connection

        return getattr(connection, name)
    raise AttributeError(f"module 'anju.lake' has no attribute {name!r}")
