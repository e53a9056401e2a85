"""The incident lake: append-only Hive-partitioned Parquet plus a manifest; read through Ibis (DuckDB).

``connect(settings)`` gives a read-only :class:`Lake` with ``incidents()``, ``quarantine()``, ``imports()`` and
``areas(layer)``. Only :mod:`anju.ingest` writes the lake. See docs/data-model.md.
"""

from anju.lake.connection import Lake, connect

__all__ = ["Lake", "connect"]
