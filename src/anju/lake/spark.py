"""The lake on Apache Spark: the same :class:`~anju.lake.connection.Lake` API over an Ibis PySpark backend.

``--engine spark`` (``ANJU_ENGINE=spark``) opens a :class:`SparkLake`: the very Parquet files the manifest lists
(never a directory glob), read with the lake's own Arrow schema (``year``/``month`` typed from the Hive paths, naive
``reported_at`` as ``TIMESTAMP_NTZ``, so wall-clock times are never shifted), registered as the temporary views
``incidents`` and ``quarantine``. Analytics receive ``lake.incidents()`` as an Ibis table exactly as on DuckDB.

One :class:`~pyspark.sql.SparkSession` per process (a JVM takes ~10 s to start): :func:`spark_session` builds it
once from ``Settings.spark_master`` — ``local[2]`` by default, ``spark://…``/``yarn`` for a cluster, or a Spark
Connect URL ``sc://host:15002`` — and every lake opened afterwards reuses it. Closing a lake drops its views, not
the session. Engine differences the analytics must not see are isolated here and tested in tests/lake/test_spark.py.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from anju.errors import ConfigError
from anju.lake.connection import Lake
from anju.lake.schema import INCIDENT_SCHEMA, QUARANTINE_SCHEMA

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from anju.config import Settings

__all__ = ["LAKE_ROOT_ENV", "TEST_CONF", "SparkLake", "check_scheme", "lake_root_uri", "spark_schema", "spark_session",
           "stop_spark_session"]

#: Spark settings of every session anju starts: UTC session time (naive times are TIMESTAMP_NTZ and never shifted),
#: Arrow transfers to pandas, no web UI. Session-level: also set on a session made by spark-submit or Spark Connect.
SPARK_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
#: Added in local mode only (a cluster keeps its own): few shuffle partitions (the lake's aggregates are small), no
#: web UI, the driver bound to the loopback interface (no network).
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}

#: For many small queries on a small lake (the tests): the JVM compiles with its quick C1 compiler only. Spark's
#: generated code for ~40 short queries then costs ~40 % less JVM CPU (measured: a cold release on the demo
#: district 24.9 instead of 40–46 CPU s); long scans of a big lake want the optimising C2 compiler, so never the
#: default. Driver options take effect only when the JVM starts.
TEST_CONF: dict[str, str] = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}

_LOCK = threading.Lock()
_SESSION: Any = None


def _local(master: str) -> bool:
    return master.startswith("local")


def spark_session(settings: Settings | None = None, *, master: str | None = None,
                  conf: dict[str, str] | None = None) -> SparkSession:
    """The process's Spark session, started on first use (``master`` or ``settings.spark_master``).

    ``PYSPARK_PYTHON`` is set to this interpreter: Python workers must import anju and its libraries (with the
    system Python they fail on ``import h3``). ``ANJU_SPARK_DRIVER_MEMORY`` sizes a local driver (default 2g).
    ``conf`` adds settings to a session anju starts itself (not under spark-submit or Spark Connect), e.g. the
    tests' :data:`TEST_CONF`; it has no effect once the session runs.
    """
    global _SESSION
    with _LOCK:
        if _SESSION is not None:
            return _SESSION  # type: ignore[no-any-return]
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError("engine 'spark' needs pyspark, which is not installed; install the extra with "
                              "`pip install 'anju[spark]'` (or `make setup`), or use --engine duckdb",
                              key="engine") from None
        url = master or (settings.spark_master if settings is not None else None) or "local[2]"
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = SparkSession.builder.appName("anju")
        # started by spark-submit: the master and cluster settings are the submit's, never overridden here
        submitted = "PYSPARK_GATEWAY_PORT" in os.environ
        if url.startswith("sc://"):
            builder = builder.remote(url)
        elif not submitted:
            builder = builder.master(url)
            conf = {**SPARK_CONF, **LOCAL_CONF} if _local(url) else dict(SPARK_CONF)
            for k, v in conf.items():
                builder = builder.config(k, v)
            if _local(url):
                builder = builder.config("spark.driver.memory", os.environ.get("ANJU_SPARK_DRIVER_MEMORY", "2g"))
            for k, v in (conf or {}).items():
                builder = builder.config(k, v)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # no Java, a bad master URL, an unreachable cluster
            raise ConfigError(f"cannot start Spark on {url!r}: {str(exc).splitlines()[0] if str(exc) else exc}. "
                              "Check that Java 17 is installed (`java -version`) and the master/Spark Connect URL "
                              "(ANJU_SPARK_MASTER), or use --engine duckdb", key="spark_master") from exc
        for k in ("spark.sql.session.timeZone", "spark.sql.execution.arrow.pyspark.enabled"):
            session.conf.set(k, SPARK_CONF[k])
        if not url.startswith("sc://"):
            session.sparkContext.setLogLevel("ERROR")
        _SESSION = session
        return session


def stop_spark_session() -> None:
    """Stop the process's Spark session (tests and benchmarks; a CLI process simply exits)."""
    global _SESSION
    with _LOCK:
        if _SESSION is not None:
            _SESSION.stop()
            _SESSION = None


def spark_schema(schema: pa.Schema) -> Any:
    """The Spark ``StructType`` of a lake Arrow schema (naive timestamps → ``TIMESTAMP_NTZ``)."""
    from pyspark.sql import types as T

    def one(t: pa.DataType) -> Any:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return T.StringType()
        if pa.types.is_int64(t):
            return T.LongType()
        if pa.types.is_int32(t):
            return T.IntegerType()
        if pa.types.is_float64(t):
            return T.DoubleType()
        if pa.types.is_boolean(t):
            return T.BooleanType()
        if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
            return T.BinaryType()
        if pa.types.is_timestamp(t):
            return T.TimestampType() if t.tz else T.TimestampNTZType()
        raise TypeError(f"no Spark type for {t}")  # pragma: no cover - schema is fixed

    return T.StructType([T.StructField(f.name, one(f.type), True) for f in schema])


def _uri(p: Path | str) -> str:
    """A path as Spark reads it: local paths become ``file://`` URIs; ``s3a://``/``hdfs://`` pass through."""
    s = str(p)
    return s if "://" in s else "file://" + str(Path(s).resolve())  # no %-escaping: Hadoop reads "=" as is


LAKE_ROOT_ENV = "ANJU_SPARK_LAKE_ROOT"
"""Environment variable: the URI under which Spark reads the lake's files (``file:///mnt/shared/anju/lake``,
``s3a://bucket/anju/lake``, ``hdfs://nn/anju/lake``) when the executors cannot read the data directory's own path.
The manifest is still read from the local data directory (a synchronised copy; see docs/scale.md)."""


def lake_root_uri(settings: Settings) -> str:
    """The URI of the lake's root as Spark reads it: ``$ANJU_SPARK_LAKE_ROOT`` or the data directory's lake."""
    root = os.environ.get(LAKE_ROOT_ENV, "").strip().rstrip("/")
    return root or _uri(settings.paths.lake)


def check_scheme(spark: Any, uri: str) -> None:
    """Fail with a clear error when the running Spark has no file system for the scheme of ``uri``.

    ``s3a://`` needs the ``hadoop-aws`` jar and its AWS SDK bundle on the classpath (``spark.jars.packages`` or the
    cluster's own installation); pyspark's wheel ships ``file://`` and ``hdfs://`` only.
    """
    scheme = uri.split("://", 1)[0] if "://" in uri else "file"
    jvm = getattr(spark, "_jvm", None)
    if jvm is None:  # Spark Connect: the server checks when it reads
        return
    try:
        jvm.org.apache.hadoop.fs.FileSystem.getFileSystemClass(scheme, spark._jsc.hadoopConfiguration())
    except Exception as exc:
        raise ConfigError(
            f"Spark 不支持数据湖地址 {uri} 的协议 {scheme}:// / the running Spark has no file system for "
            f"{scheme}:// ({LAKE_ROOT_ENV}={uri}): {str(exc).splitlines()[0][:200]}. For s3a:// add the hadoop-aws "
            "jar matching Spark's Hadoop version and its AWS SDK bundle (spark.jars.packages, or the cluster's "
            "Spark installation); see docs/scale.md", key="spark_lake_root") from None


class SparkLake(Lake):
    """The lake read by Spark through Ibis: the same tables, columns and types as the DuckDB :class:`Lake`.

    Attributes
    ----------
    con : the Ibis PySpark backend.
    spark : the Spark session (shared by every SparkLake of the process).
    """

    engine = "spark"

    def _open_engine(self) -> None:
        import ibis

        self.spark: Any = spark_session(self.settings)
        self.con = ibis.pyspark.connect(self.spark)
        self.duckdb = None  # raw DuckDB SQL is not available on this engine: use Ibis expressions
        self._prefix = f"anju_{uuid.uuid4().hex[:8]}_"  # views of this lake; others may be open in the session
        self._views: list[str] = []

    def _close_engine(self) -> None:
        for v in self._views:
            self.spark.catalog.dropTempView(v)
        self._views = []

    def _register(self, name: str, df: Any) -> str:
        view = self._prefix + name
        df.createOrReplaceTempView(view)
        if view not in self._views:
            self._views.append(view)
        return view

    def _files(self) -> tuple[list[str], list[str], str]:
        """The manifest's incident and quarantine files and the incidents' base path, as URIs under the lake root
        (:func:`lake_root_uri`). With a remote root the files are not checked locally (the cluster reads them)."""
        root = lake_root_uri(self.settings)
        if not os.environ.get(LAKE_ROOT_ENV, "").strip():
            inc, qua = self._listed_files()
            return [_uri(p) for p in inc], [_uri(p) for p in qua], _uri(self.paths.incidents)
        check_scheme(self.spark, root)
        return ([f"{root}/{f}" for f in self.manifest.files("incidents")],
                [f"{root}/{f}" for f in self.manifest.files("quarantine")], f"{root}/incidents")

    def _define_views(self) -> None:
        inc, qua, base = self._files()
        inc_schema = spark_schema(INCIDENT_SCHEMA)
        if inc:
            # explicit files, the lake's schema: year/month come from the Hive paths under basePath with the
            # schema's types (never inferred); files of a version-2 lake lack time_precision, read as null
            df = self.spark.read.schema(inc_schema).option("basePath", base).parquet(*inc)
            df = df.select(*[f.name for f in INCIDENT_SCHEMA])
        else:
            df = self.spark.createDataFrame([], inc_schema)
        self._incidents = self._register("incidents", df)
        q_schema = spark_schema(QUARANTINE_SCHEMA)
        if qua:
            qdf = self.spark.read.schema(q_schema).parquet(*qua)
        else:
            qdf = self.spark.createDataFrame([], q_schema)
        self._quarantine = self._register("quarantine", qdf)

    def _area_view(self, name: str, path: Path) -> str:
        df = self.spark.read.parquet(_uri(path))
        if "geometry" in df.columns:
            df = df.drop("geometry")
        return self._register(name, df)

    def incidents(self) -> Any:
        """All committed incidents (schema of docs/data-model.md).

        Ibis types every Spark timestamp as zone-less; ``reported_at_utc`` is re-typed as UTC (a no-op cast in a
        UTC session), so pandas results carry the zone as on DuckDB. ``reported_at`` stays ``TIMESTAMP_NTZ``.
        """
        t = self.con.table(self._incidents)
        return t.mutate(reported_at_utc=t.reported_at_utc.cast("timestamp('UTC', 6)"))

    def quarantine(self) -> Any:
        """All committed quarantine rows."""
        return self.con.table(self._quarantine)


def _apply_batches(fn: Any) -> Any:
    """The ``mapInArrow`` function of :func:`spark_sum_batches`: ``fn`` over each batch, empty outputs skipped."""

    def run(batches: Any) -> Any:
        for rb in batches:
            out = fn(rb)
            if out.num_rows:
                yield out

    return run


def spark_sum_batches(expr: Any, fn: Any, schema: pa.Schema, keys: Any) -> Any:
    """:func:`anju.lake.engine.sum_batches` on Spark: ``fn`` in the executors over the rows of ``expr`` (Arrow
    batches in and out, ``mapInArrow``), then one ``groupBy(keys).sum`` in Spark; returns the sums as pandas."""
    from pyspark.sql import functions as F

    backend = expr._find_backend()
    backend._run_pre_execute_hooks(expr)  # registers in-memory tables and UDFs, as Ibis's own execute does
    df = backend._session.sql(backend.compile(expr))
    out = df.mapInArrow(_apply_batches(fn), spark_schema(schema))
    values = [f.name for f in schema if f.name not in keys]
    summed = out.groupBy(*keys).agg(*[F.sum(v).alias(v) for v in values])
    res = summed.toPandas()
    for v in values:
        res[v] = res[v].astype("int64")
    return res[[f.name for f in schema]]
