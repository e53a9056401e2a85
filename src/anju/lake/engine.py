"""The engine factory: the one place that turns ``Settings.engine`` into a lake connection.

``duckdb`` (the embedded default) opens a :class:`~anju.lake.connection.Lake`; ``spark`` opens a
:class:`~anju.lake.spark.SparkLake` with the same API over an Ibis PySpark backend (docs/scale.md).

Expressions whose result would differ by engine are written here once, engine-neutral, and tested on both
(tests/lake/test_spark.py): a stable hash for deterministic sampling (DuckDB's ``hash`` and Spark's Murmur3
``hash`` disagree, so :func:`hash_prefix` uses MD5, which both compute alike), and :func:`sum_batches`, which runs
a Python function per batch of rows where the rows are (Spark's executors, or this process on DuckDB) and sums its
output, so a per-row Python step such as word segmentation scales out like the SQL around it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from anju.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from anju.config import Settings
    from anju.lake.connection import Lake

__all__ = ["ENGINES", "HASH_DIGITS", "BatchFunction", "hash_prefix", "hash_threshold", "is_spark", "open_lake",
           "sum_batches"]

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


BatchFunction = Callable[["pa.RecordBatch"], "pa.RecordBatch"]
"""A function of one Arrow batch of rows to one Arrow batch of partial results (see :func:`sum_batches`)."""

#: Rows per batch on DuckDB (Spark's batches are its own: ``spark.sql.execution.arrow.maxRecordsPerBatch``).
DUCKDB_BATCH_ROWS = 250_000


def is_spark(expr: Any) -> bool:
    """Whether an Ibis expression runs on Spark (a table of a :class:`~anju.lake.spark.SparkLake`)."""
    return getattr(expr._find_backend(use_default=True), "name", "") == "pyspark"


def sum_batches(expr: Any, fn: BatchFunction, schema: pa.Schema, keys: Sequence[str]) -> pd.DataFrame:
    """Apply ``fn`` to every Arrow batch of the rows of ``expr`` and sum its outputs per ``keys``.

    ``fn`` maps a batch with ``expr``'s columns to a batch of ``schema``: the ``keys`` columns and integer columns
    that are partial sums (counts), so the result does not depend on how the rows are split into batches. On Spark
    ``fn`` runs in the executors (``mapInArrow``; it is pickled, so it must carry what it needs, not read the
    driver's files) and the sums are a Spark aggregation: only the summed table reaches the driver. On DuckDB the
    rows are fetched as Arrow (one machine) and ``fn`` runs on batches of them in this process, summed with
    pandas. The result has ``schema``'s columns, one row per distinct key (null keys kept), in no particular order.
    """
    import pyarrow as pa

    if is_spark(expr):
        from anju.lake.spark import spark_sum_batches

        return spark_sum_batches(expr, fn, schema, keys)
    outs = [fn(b) for b in expr.to_pyarrow().to_batches(max_chunksize=DUCKDB_BATCH_ROWS)]
    df = pa.Table.from_batches([o for o in outs if o.num_rows], schema=schema).to_pandas()
    if len(outs) > 1 and len(df):
        df = df.groupby(list(keys), dropna=False, sort=False, as_index=False).sum()
    return df.reset_index(drop=True)
