"""The engine factory: the one place that turns ``Settings.engine`` into a lake connection.

``duckdb`` (the embedded default) opens a :class:`~anju.lake.connection.Lake`; ``spark`` opens a
:class:`~anju.lake.spark.SparkLake` with the same API over an Ibis PySpark backend (docs/scale.md).

Expressions whose result would differ by engine are written here once, engine-neutral, and tested on both
(tests/lake/test_spark.py): a stable hash for deterministic sampling (DuckDB's ``hash`` and Spark's Murmur3
``hash`` disagree, so :func:`hash_prefix` uses MD5, which both compute alike).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from anju.errors import ConfigError

if TYPE_CHECKING:
    from anju.config import Settings
    from anju.lake.connection import Lake

__all__ = ["ENGINES", "HASH_DIGITS", "hash_prefix", "hash_threshold", "open_lake"]

ENGINES = ("duckdb", "spark")
"""Values of ``Settings.engine`` (``ANJU_ENGINE``, ``--engine``)."""


def open_lake(settings: Settings) -> Lake:
    """Open the lake of ``settings.data_dir`` on the engine ``settings.engine``; use it as a context manager.

    Examples
    --------
    >>> from anju.config import load_settings
    >>> with open_lake(load_settings(data_dir="/tmp/anju-doc-engine")) as lake:
    ...     lake.incidents().count().execute()
    0
    """
    engine = settings.engine
    if engine == "duckdb":
        from anju.lake.connection import Lake

        return Lake(settings)
    if engine == "spark":
        from anju.lake.spark import SparkLake

        return SparkLake(settings)
    raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}", key="engine")


HASH_DIGITS = 8
"""Hex digits of the MD5 prefix :func:`hash_prefix` keeps (32 bits: a uniform bucket in ``[0, 2**32)``)."""


def hash_prefix(value: Any) -> Any:
    """The first :data:`HASH_DIGITS` lowercase hex digits of the MD5 of a string expression — the same on every
    engine, so ``hash_prefix(key) < hash_threshold(0.1)`` keeps the same ~10 % of rows on DuckDB and Spark."""
    return value.hexdigest("md5").lower().substr(0, HASH_DIGITS)


def hash_threshold(fraction: float) -> str:
    """The hex bound below which a share ``fraction`` of :func:`hash_prefix` values fall (compare as text).

    >>> hash_threshold(0.5), hash_threshold(0.0), hash_threshold(1.0)
    ('80000001', '00000001', 'g')
    """
    if fraction >= 1.0:
        return "g"  # above every hex digit: keep all
    n = int((16**HASH_DIGITS) * max(fraction, 0.0)) + 1
    return f"{n:0{HASH_DIGITS}x}"
