"""Reading the lake: an Ibis connection (DuckDB backend) whose tables show committed imports only.

:func:`connect` opens an in-memory DuckDB through Ibis, sets its time zone to UTC (``reported_at`` is a naive local
wall-clock time and is never shifted; ``reported_at_utc`` is the instant), and defines views over the Parquet files
the manifest lists — never over a directory glob, so files of an import that is still running or was killed are
invisible. Partition columns come from the paths with explicit types (``hive_types``), never by auto-detection.

Analytics take ``lake.incidents()`` (an :class:`ibis.Table`) and stay engine-neutral; ``lake.duckdb`` is there for
the rare raw-SQL need. The connection reads a snapshot: call :meth:`Lake.refresh` to see imports made since.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from anju.config import Settings
from anju.errors import DataNotFoundError, LakeError
from anju.lake.manifest import Manifest
from anju.lake.readers import hold_reader, release_reader
from anju.lake.schema import INCIDENT_SCHEMA, QUARANTINE_SCHEMA

__all__ = ["Lake", "connect"]

_HIVE = "hive_partitioning = true, hive_types = {'year': INTEGER, 'month': INTEGER}"


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
        return "BLOB"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    raise TypeError(f"no DuckDB type for {t}")  # pragma: no cover - schema is fixed


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _empty_select(schema: pa.Schema) -> str:
    cols = ", ".join(f'CAST(NULL AS {_duck_type(f.type)}) AS "{f.name}"' for f in schema)
    return f"SELECT {cols} WHERE false"


class Lake:
    """A read-only view of one data directory's lake. Use as a context manager or call :meth:`close`.

    Attributes
    ----------
    con : the Ibis DuckDB backend (``con.sql(...)``, ``con.table(...)``).
    duckdb : the raw ``duckdb`` connection underneath.
    manifest : the :class:`~anju.lake.manifest.Manifest` snapshot the views were built from.
    """

    #: the engine's name (``Settings.engine``)
    engine = "duckdb"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = settings.paths
        self._open_engine()
        # a shared lock for as long as this reader is open: compaction keeps the files of its manifest snapshot
        self._reader = hold_reader(self.paths.lake)
        try:
            self.manifest = Manifest.load(self.paths.manifest)
            self._define_views()
        except BaseException:
            release_reader(self._reader)
            self._close_engine()
            raise

    # ------------------------------------------------------------------ engine hooks (SparkLake overrides them)
    def _open_engine(self) -> None:
        self.con: Any = ibis.duckdb.connect()
        self.duckdb: Any = self.con.con
        self.duckdb.execute("SET TimeZone = 'UTC'")
        self.duckdb.execute("SET enable_progress_bar = false")

    def _close_engine(self) -> None:
        self.con.disconnect()

    def _listed_files(self) -> tuple[list[Path], list[Path]]:
        """The incident and quarantine files of the manifest snapshot (absolute); a missing one raises."""
        lake = self.paths.lake
        inc = [lake / f for f in self.manifest.files("incidents")]
        qua = [lake / f for f in self.manifest.files("quarantine")]
        for p in inc + qua:
            if not p.exists():
                raise LakeError(f"{p}: 数据湖清单列出的文件不存在 / listed in the lake manifest but missing. Run "
                                "`anju lake check` to see every problem and `anju lake repair` to drop the missing "
                                "files from the manifest (their rows are lost), or restore the file from a backup")
        return inc, qua

    def _area_view(self, name: str, path: Path) -> str:
        """Define a view over an area layer's Parquet file, without its geometry; returns the view's name."""
        quoted = str(path).replace("'", "''")
        self.duckdb.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * EXCLUDE (geometry) FROM read_parquet('{quoted}')"
        )
        return name

    # ------------------------------------------------------------------ views
    def _define_views(self) -> None:
        inc, qua = self._listed_files()
        cols = ", ".join(f'"{f.name}"' for f in INCIDENT_SCHEMA)
        legacy_files = self.manifest.legacy_files
        if inc and legacy_files and all(f in legacy_files for f in self.manifest.files("incidents")):
            cols = cols.replace('"time_precision"', 'CAST(NULL AS VARCHAR) AS "time_precision"')
        if inc:
            # files of a version-2 lake lack time_precision: read by name, the column null there
            legacy = ", union_by_name = true" if legacy_files else ""
            body = f"SELECT {cols} FROM read_parquet({_sql_list(inc)}, {_HIVE}{legacy})"
        else:
            body = _empty_select(INCIDENT_SCHEMA)
        self.duckdb.execute(f"CREATE OR REPLACE VIEW incidents AS {body}")
        qcols = ", ".join(f'"{f.name}"' for f in QUARANTINE_SCHEMA)
        if qua:
            qbody = f"SELECT {qcols} FROM read_parquet({_sql_list(qua)}, hive_partitioning = false)"
        else:
            qbody = _empty_select(QUARANTINE_SCHEMA)
        self.duckdb.execute(f"CREATE OR REPLACE VIEW quarantine AS {qbody}")

    def refresh(self) -> Lake:
        """Re-read the manifest and rebuild the views (to see imports committed since connecting)."""
        self.manifest = Manifest.load(self.paths.manifest)
        self._define_views()
        return self

    # ------------------------------------------------------------------ tables
    def incidents(self) -> ibis.Table:
        """All committed incidents (schema of docs/data-model.md)."""
        return self.con.table("incidents")

    def quarantine(self) -> ibis.Table:
        """All committed quarantine rows."""
        return self.con.table("quarantine")

    def imports(self) -> list[dict[str, Any]]:
        """Committed imports from the manifest, oldest first."""
        return self.manifest.imports

    def areas(self, layer: str) -> ibis.Table:
        """Attributes of an area layer (``areas/<layer>.parquet`` without its geometry)."""
        from anju.geo.areas import LAYERS

        if layer not in LAYERS:
            raise DataNotFoundError(f"unknown area layer {layer!r}; layers are {', '.join(LAYERS)}")
        p = self.paths.areas / f"{layer}.parquet"
        if not p.exists():
            loaded = sorted(x.stem for x in self.paths.areas.glob("*.parquet")) if self.paths.areas.exists() else []
            raise DataNotFoundError(f"area layer {layer!r} is not loaded (loaded: {loaded or 'none'}); "
                                    f"load it with `anju areas load FILE --layer {layer}`")
        return self.con.table(self._area_view(f"areas_{layer}", p))

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._close_engine()
        release_reader(self._reader)
        self._reader = None

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(settings: Settings) -> Lake:
    """Open the lake of ``settings.data_dir`` for reading (works on an empty or missing lake too).

    Examples
    --------
    >>> from anju.config import load_settings
    >>> lake = connect(load_settings(data_dir="/tmp/anju-doc-empty-lake"))
    >>> lake.incidents().count().execute(), lake.imports()
    (0, [])
    """
    return Lake(settings)
