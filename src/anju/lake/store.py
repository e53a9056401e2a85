"""Writing the lake: append-only, Hive-partitioned Parquet, staged then renamed, committed by the manifest.

One import writes, under ``lake/_staging/<import_id>/``, one Parquet file per month it touches (rolled over every
:data:`MAX_ROWS_PER_FILE` rows) plus its quarantine file. Rows are buffered per month and flushed as row groups, so
memory stays bounded by about one batch whatever the order of the source. :meth:`LakeWriter.commit` renames the
files into ``incidents/year=Y/month=M/`` and ``quarantine/import_id=<id>/`` and then — last — adds the import to
the manifest. A writer killed at any point leaves files no reader looks at (readers list files from the manifest);
:func:`clean_orphans` removes them at the start of the next write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from anju.lake.manifest import Manifest
from anju.lake.readers import sweep_retired
from anju.lake.schema import INCIDENT_FILE_SCHEMA, QUARANTINE_SCHEMA

__all__ = ["MAX_ROWS_PER_FILE", "LakeWriter", "clean_orphans", "compact"]

MAX_ROWS_PER_FILE = 5_000_000
ROW_GROUP_ROWS = 250_000
_DICT_COLUMNS = [
    "import_id", "source", "category", "family", "source_category", "source_subcategory", "district_id",
    "street_id", "community_id", "grid_id", "station_id", "police_district_id", "assign_method", "unit",
    "caller_masked", "time_precision",
]
# Min/max statistics only where they can prune row groups: the columns that follow the order rows are written in
# (times, record keys, source rows; import and source are constant per file). Categories, areas, coordinates and
# texts are mixed within every row group, so their statistics would never prune and cost ~0.1 µs per row to write.
_STATS_COLUMNS = ["record_key", "import_id", "source", "source_row", "reported_at", "reported_at_utc"]
# HMAC digests are random bytes: zstd cannot shrink them, so they are stored uncompressed.
_RAW_COLUMNS = {"caller_hash", "phone_hash"}
_PARQUET_OPTS: dict[str, Any] = {
    "compression": {n: "none" if n in _RAW_COLUMNS else "zstd" for n in INCIDENT_FILE_SCHEMA.names},
    "compression_level": {n: 1 for n in INCIDENT_FILE_SCHEMA.names if n not in _RAW_COLUMNS},
    "use_dictionary": _DICT_COLUMNS,
    "write_statistics": _STATS_COLUMNS,
}


class _MonthFile:
    """An open Parquet writer for one (year, month) of one import."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self.writer = pq.ParquetWriter(path, INCIDENT_FILE_SCHEMA, **_PARQUET_OPTS)

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.rows += table.num_rows

    def close(self) -> None:
        self.writer.close()


class LakeWriter:
    """Stage one import's rows; :meth:`commit` publishes them, :meth:`abort` discards them."""

    def __init__(self, lake_dir: Path, import_id: str, *, buffer_rows: int = 500_000) -> None:
        self.lake_dir = Path(lake_dir)
        self.import_id = import_id
        self.staging = self.lake_dir / "_staging" / import_id
        self.staging.mkdir(parents=True, exist_ok=False)
        self.buffer_rows = buffer_rows
        self._buffers: dict[tuple[int, int], list[pa.Table]] = {}
        self._buffered = 0
        self._open: dict[tuple[int, int], _MonthFile] = {}
        self._done: list[tuple[tuple[int, int], Path]] = []
        self._counters: dict[tuple[int, int], int] = {}
        self._quarantine: pq.ParquetWriter | None = None
        self.rows_written = 0
        self.quarantine_rows = 0

    # ---------------------------------------------------------------- incidents
    def write(self, table: pa.Table) -> None:
        """Buffer incident rows (schema :data:`~anju.lake.schema.INCIDENT_SCHEMA`, with year and month)."""
        if table.num_rows == 0:
            return
        ym = pc.add(pc.multiply(table.column("year").cast(pa.int32()), 100), table.column("month").cast(pa.int32()))
        body = table.drop_columns(["year", "month"]).select(INCIDENT_FILE_SCHEMA.names).cast(INCIDENT_FILE_SCHEMA)
        ymn = np.asarray(ym.to_numpy(), dtype=np.int64)
        if ymn.min() == ymn.max():
            self._add(divmod(int(ymn[0]), 100), body)
        else:
            if np.any(np.diff(ymn) < 0):  # not in time order: sort once by month
                order = np.argsort(ymn, kind="stable")
                body = body.take(pa.array(order))
                ymn = ymn[order]
            cuts = np.flatnonzero(np.diff(ymn)) + 1  # then cut zero-copy slices at the month changes
            for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [ymn.size]]), strict=True):
                self._add(divmod(int(ymn[a]), 100), body.slice(int(a), int(b - a)))
        while self._buffered > self.buffer_rows:
            self._flush_largest()

    def _add(self, ym: tuple[int, int], part: pa.Table) -> None:
        self._buffers.setdefault(ym, []).append(part)
        self._buffered += part.num_rows
        if sum(t.num_rows for t in self._buffers[ym]) >= ROW_GROUP_ROWS:
            self._flush(ym)

    def _flush_largest(self) -> None:
        ym = max(self._buffers, key=lambda k: sum(t.num_rows for t in self._buffers[k]))
        self._flush(ym)

    def _flush(self, ym: tuple[int, int]) -> None:
        parts = self._buffers.pop(ym, [])
        if not parts:
            return
        table = pa.concat_tables(parts)
        self._buffered -= table.num_rows
        f = self._open.get(ym)
        if f is None or f.rows >= MAX_ROWS_PER_FILE:
            if f is not None:
                f.close()
                self._done.append((ym, f.path))
            n = self._counters.get(ym, 0)
            self._counters[ym] = n + 1
            f = _MonthFile(self.staging / "incidents" / f"year={ym[0]}" / f"month={ym[1]}"
                           / f"part-{self.import_id}-{n}.parquet")
            self._open[ym] = f
        f.write(table)
        self.rows_written += table.num_rows

    # ---------------------------------------------------------------- quarantine
    def write_quarantine(self, table: pa.Table) -> None:
        """Append quarantine rows (schema :data:`~anju.lake.schema.QUARANTINE_SCHEMA`)."""
        if table.num_rows == 0:
            return
        if self._quarantine is None:
            p = self.staging / "quarantine" / f"import_id={self.import_id}" / "part-0.parquet"
            p.parent.mkdir(parents=True, exist_ok=True)
            self._quarantine = pq.ParquetWriter(p, QUARANTINE_SCHEMA, compression="zstd")
        self._quarantine.write_table(table.select(QUARANTINE_SCHEMA.names).cast(QUARANTINE_SCHEMA))
        self.quarantine_rows += table.num_rows

    # ---------------------------------------------------------------- finish
    def _close_all(self) -> list[Path]:
        for ym in list(self._buffers):
            self._flush(ym)
        for ym, f in self._open.items():
            f.close()
            self._done.append((ym, f.path))
        self._open.clear()
        if self._quarantine is not None:
            self._quarantine.close()
            self._quarantine = None
        return [p for _, p in self._done]

    def commit(self, manifest: Manifest, entry: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Close the files, move them into the lake and record the import in the manifest (last)."""
        staged = self._close_all()
        q = self.staging / "quarantine" / f"import_id={self.import_id}" / "part-0.parquet"
        if q.exists():
            staged.append(q)
        incidents: list[str] = []
        quarantine: list[str] = []
        for src in staged:
            rel = src.relative_to(self.staging)
            dst = self.lake_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            (incidents if rel.parts[0] == "incidents" else quarantine).append(rel.as_posix())
        entry = {**entry, "files": len(incidents)}
        manifest.add_import(entry, incidents, quarantine)
        manifest.save()
        shutil.rmtree(self.staging, ignore_errors=True)
        return incidents, quarantine

    def abort(self) -> None:
        """Discard everything staged."""
        with contextlib.suppress(Exception):
            self._buffers.clear()
            for f in self._open.values():
                with contextlib.suppress(Exception):
                    f.close()
            if self._quarantine is not None:
                with contextlib.suppress(Exception):
                    self._quarantine.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def clean_orphans(lake_dir: Path, manifest: Manifest) -> list[str]:
    """Remove staging leftovers and data files no committed import owns (call while holding the lake lock).

    Returns the removed paths (relative to the lake), for the log.
    """
    lake_dir = Path(lake_dir)
    removed: list[str] = []
    staging = lake_dir / "_staging"
    if staging.exists():
        for d in staging.iterdir():
            removed.append(d.relative_to(lake_dir).as_posix())
            if d.is_dir():
                shutil.rmtree(d, ignore_errors=True)
            else:
                d.unlink(missing_ok=True)
    retired = set(manifest.data.get("retired", []))
    for table in ("incidents", "quarantine"):
        known = set(manifest.files(table)) | retired  # retired files go only when no reader is open
        root = lake_dir / table
        if not root.exists():
            continue
        for f in root.rglob("*.parquet"):
            rel = f.relative_to(lake_dir).as_posix()
            if rel not in known:
                f.unlink(missing_ok=True)
                removed.append(rel)
        for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                d.rmdir()  # only succeeds when empty
    removed += sweep_retired(lake_dir, manifest)
    return removed


def compact(lake_dir: Path, manifest: Manifest, *, min_files: int = 2) -> dict[str, int]:
    """Merge each month's files into one (call while holding the lake lock).

    The merged file is written aside and the manifest is switched to it atomically, so readers never see a row twice
    or miss one; the old files are retired and deleted only once no reader is open (:mod:`anju.lake.readers`). Returns ``{"partitions": k, "files_before": a,
    "files_after": b}``.
    """
    lake_dir = Path(lake_dir)
    by_month: dict[str, list[str]] = {}
    for rel in manifest.files("incidents"):
        by_month.setdefault(str(Path(rel).parent), []).append(rel)
    before = sum(len(v) for v in by_month.values())
    merged = 0
    for part_dir, files in sorted(by_month.items()):
        if len(files) < min_files:
            continue
        n = 0
        while (lake_dir / part_dir / f"part-compact-{n}.parquet").exists():
            n += 1
        name = f"part-compact-{n}.parquet"
        tmp = lake_dir / "_staging" / "compact" / part_dir / name
        tmp.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(tmp, INCIDENT_FILE_SCHEMA, **_PARQUET_OPTS) as w:
            pending: list[pa.Table] = []
            pending_rows = 0
            for rel in files:
                pf = pq.ParquetFile(lake_dir / rel)
                for rg in range(pf.num_row_groups):
                    have = [n for n in INCIDENT_FILE_SCHEMA.names if n in pf.schema_arrow.names]
                    t = pf.read_row_group(rg, columns=have)
                    for f in INCIDENT_FILE_SCHEMA:  # a version-2 file: time_precision unknown (null)
                        if f.name not in have:
                            t = t.append_column(f, pa.nulls(t.num_rows, f.type))
                    t = t.select(INCIDENT_FILE_SCHEMA.names).cast(INCIDENT_FILE_SCHEMA)
                    pending.append(t)
                    pending_rows += t.num_rows
                    if pending_rows >= ROW_GROUP_ROWS:
                        w.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                        pending, pending_rows = [], 0
            if pending:
                w.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
        dst = lake_dir / part_dir / name
        os.replace(tmp, dst)
        manifest.replace_files("incidents", files, [dst.relative_to(lake_dir).as_posix()])
        # the old files are retired, not deleted: an open reader may still be reading them (anju.lake.readers)
        manifest.data.setdefault("retired", []).extend(files)
        manifest.save()
        merged += 1
    shutil.rmtree(lake_dir / "_staging" / "compact", ignore_errors=True)
    sweep_retired(lake_dir, manifest)
    after = len(manifest.files("incidents"))
    return {"partitions": merged, "files_before": before, "files_after": after}
