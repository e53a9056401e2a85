"""Distributed ingest on Apache Spark: ``anju --engine spark ingest FILE|FOLDER`` (docs/scale.md).

The same import as :func:`anju.ingest.pipeline.ingest_file` — same profile, quarantine rules and reasons, keys,
masking, report and manifest entry — with the per-row work spread over Spark's executors:

1. **driver**: the source file is parsed by ingest's own reader (encodings, malformed lines, the line accounting
   ``loaded + quarantined = data lines``); its batches are staged as Parquet (columns renamed ``c0…``, plus the
   data-line number ``__row``) under the import's staging folder. Malformed lines are quarantined here.
2. **executors** (``mapInArrow``, Arrow batches in and out): ingest's :class:`~anju.ingest.transform.BatchTransformer`
   — imported, never copied — parses times, builds keys, converts and assigns coordinates, maps categories,
   hashes and masks personal data, and sorts rows into lake rows and quarantine rows, *without* the duplicate
   check (the only step that needs the whole file). Each batch also returns its counters (reasons, unknown
   categories, unassigned rows) as one JSON row. The result is written by Spark into the staging folder.
3. **Spark aggregation over keys only**: a loadable row is a ``duplicate_key`` when an earlier loadable row of the
   file has the same key (``row_number()`` over the key, ordered by data line) or the key is already in the lake
   for this source (a left join with the lake's keys) — exactly :meth:`~anju.ingest.keys.KeyIndex.claim`'s rule,
   first occurrence in file order wins.
4. **driver**: the duplicate rows (normally none or few) are transformed again from the staged source rows with
   every key taken, which gives their quarantine rows and details exactly as the DuckDB path writes them; the lake
   rows and quarantine rows are streamed from the staging folder into ingest's :class:`~anju.lake.store.LakeWriter`
   and committed through the manifest. Until that commit nothing is visible; an interrupted import leaves only its
   staging folder, removed by the next writer.

Profiles whose record key is built from identifying fields plus the occurrence of those values in the file
(``[key].fields``, e.g. ``sf-kaggle``) take one more Spark step before 2: the executors compute each staged row's
identity fingerprint, and ``row_number()`` over the fingerprint ordered by data line gives its occurrence number —
the DuckDB ingest's count in file order, independent of how the file is split (:func:`_number_occurrences`).
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from anju import __version__
from anju.errors import DataNotFoundError
from anju.files import file_blake3
from anju.ingest.enrich import GeoContext
from anju.ingest.pii import Hasher
from anju.ingest.pipeline import (
    ImportTotals,
    check_accounted,
    new_import_id,
    opened_import,
    profile_bounds,
    start_import,
)
from anju.ingest.profile import Profile, load_profile
from anju.ingest.readers import SourceBatch
from anju.ingest.report import ImportReport
from anju.ingest.secret import fingerprint, lake_key
from anju.ingest.transform import BatchResult, BatchTransformer
from anju.lake.schema import INCIDENT_SCHEMA, QUARANTINE_SCHEMA
from anju.lake.store import LakeWriter

if TYPE_CHECKING:
    from anju.config import Settings
    from anju.ingest.keys import KeyIndex
    from anju.ingest.pipeline import Progress

__all__ = ["ingest_file_spark", "ingest_path", "source_files"]

_ROW = "__row"
_FP = "__fp"  # identifying-field keys: the 64-bit identity fingerprint of a row
_OCC = "__occ"  # …and its occurrence number in the file
_KIND = "__kind"
_STATS = "__stats"
_Q = "q_"  # prefix of the quarantine columns in the executors' output (import_id/source_row clash otherwise)


def _out_schema() -> pa.Schema:
    """The Arrow schema of the executors' output: one kind column, incident columns, quarantine columns, stats."""
    inc = [pa.field(f.name, f.type) for f in INCIDENT_SCHEMA]
    inc = [pa.field(f.name, pa.timestamp("us", tz="UTC")) if f.name == "reported_at_utc" else f for f in inc]
    # Spark has no fixed-size binary: the 32-byte HMACs travel as binary (LakeWriter casts them back)
    inc = [pa.field(f.name, pa.binary()) if pa.types.is_fixed_size_binary(f.type) else f for f in inc]
    q = [pa.field(_Q + f.name, f.type) for f in QUARANTINE_SCHEMA]
    return pa.schema([pa.field(_KIND, pa.string()), *inc, *q, pa.field(_STATS, pa.string())])


def _pack(res: BatchResult, schema: pa.Schema) -> pa.RecordBatch:
    """One output batch: the lake rows (kind ``i``), the quarantine rows (``q``) and the counters (``s``)."""
    inc, qua = res.incidents, res.quarantine
    stats = json.dumps({"rows_read": res.rows_read, "reasons": dict(res.reasons),
                        "unknown": dict(res.unknown_categories), "unassigned": dict(res.unassigned),
                        "unparsed": dict(res.unparsed)}, ensure_ascii=False)
    n_i, n_q = inc.num_rows, qua.num_rows
    cols: list[pa.Array] = []
    for f in schema:
        if f.name == _KIND:
            cols.append(pa.array(["i"] * n_i + ["q"] * n_q + ["s"], pa.string()))
        elif f.name == _STATS:
            cols.append(pa.array([None] * (n_i + n_q) + [stats], pa.string()))
        elif f.name.startswith(_Q):
            c = qua.column(f.name[len(_Q):]).combine_chunks().cast(f.type)
            cols.append(pa.concat_arrays([pa.nulls(n_i, f.type), c, pa.nulls(1, f.type)]))
        else:
            c = inc.column(f.name).combine_chunks().cast(f.type)
            cols.append(pa.concat_arrays([c, pa.nulls(n_q + 1, f.type)]))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


class _AllTaken:
    """A key index in which every key is already taken: the rows given are the duplicates (see module doc)."""

    def claim(self, keys: pa.Array, candidates: np.ndarray) -> np.ndarray:
        return np.asarray(candidates, dtype=bool).copy()

    def close(self) -> None:  # pragma: no cover - nothing to release
        pass


def _transformer(job: dict[str, Any], keys: Any = None) -> BatchTransformer:
    """The import's batch transformer, built from picklable parts (on an executor or on the driver)."""
    settings: Settings = job["settings"]
    prof: Profile = job["profile"]
    from anju.taxonomy import load_mapping, load_taxonomy

    tax = load_taxonomy(data_dir=settings.data_dir)
    mapping = load_mapping(prof.mapping, taxonomy=tax, data_dir=settings.data_dir)
    geo = GeoContext.build(settings, system=prof.coords.system, nearest_m=settings.nearest_threshold_m,
                           profile_bounds=profile_bounds(prof))
    return BatchTransformer(
        profile=prof, header=job["header"], resolved=job["resolved"], mapping=mapping, taxonomy=tax, geo=geo,
        hasher=Hasher(job["key"]), keys=cast("KeyIndex | None", keys), import_id=job["import_id"],
        source_file=job["source_file"], now=job["now"],
    )


#: per Python worker: the transformer of the import being run (built once per worker, not per batch)
_WORKER: dict[str, BatchTransformer] = {}


def _worker_transformer(job: dict[str, Any]) -> BatchTransformer:
    tr = _WORKER.get(job["import_id"])
    if tr is None:
        for old in list(_WORKER):
            _WORKER.pop(old).close()
        tr = _WORKER[job["import_id"]] = _transformer(job)
    return tr


def _source_batch(table: pa.Table, header: list[str]) -> SourceBatch:
    """A staged batch as the reader gave it: the source columns, data-line numbers and, for identifying-field
    keys, the occurrence numbers computed over the whole file (:func:`_number_occurrences`)."""
    rows = np.asarray(table.column(_ROW).to_numpy(zero_copy_only=False), dtype=np.int64)
    occ = None
    if _OCC in table.column_names:
        occ = np.asarray(table.column(_OCC).to_numpy(zero_copy_only=False), dtype=np.int64)
        table = table.drop_columns([_OCC])
    body = table.drop_columns([_ROW]).rename_columns(header)
    return SourceBatch(body, rows, [], occ)


def _fingerprint_batches(job: dict[str, Any]) -> Any:
    """The ``mapInArrow`` function of identifying-field keys: each staged row plus its identity fingerprint."""

    def run(batches: Any) -> Any:
        tr = _worker_transformer(job)
        for rb in batches:
            t = pa.Table.from_batches([rb])
            body = t.drop_columns([_ROW]).rename_columns(job["header"])
            fp = tr.identity_fingerprints(body).view(np.int64)  # Spark has no unsigned 64-bit type
            yield pa.RecordBatch.from_arrays([*rb.columns, pa.array(fp, pa.int64())],
                                             names=[*rb.schema.names, _FP])

    return run


def _number_occurrences(spark: Any, job: dict[str, Any], raw_dir: Path, out_dir: Path) -> Path:
    """Stage the source rows again with their occurrence numbers (identifying-field keys, ``[key].fields``).

    The DuckDB ingest numbers a row 1 + the earlier rows of the file with the same identity fingerprint, counting
    in file order across batches; here that is ``row_number()`` over the fingerprint ordered by data line, so the
    keys do not depend on how the file is split over executors.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from anju.lake.spark import _uri

    src = spark.read.parquet(_uri(raw_dir))
    schema = T.StructType([*src.schema.fields, T.StructField(_FP, T.LongType(), False)])
    fps = src.mapInArrow(_fingerprint_batches(job), schema)
    numbered = fps.withColumn(_OCC, F.row_number().over(Window.partitionBy(_FP).orderBy(_ROW))).drop(_FP)
    numbered.sortWithinPartitions(_ROW).write.parquet(_uri(out_dir))
    return out_dir


def _map_batches(job: dict[str, Any]) -> Any:
    """The ``mapInArrow`` function: source batches in, packed lake/quarantine/counter batches out."""
    schema = _out_schema()

    def run(batches: Any) -> Any:
        tr = _worker_transformer(job)
        for rb in batches:
            if rb.num_rows == 0:
                continue
            res = tr(_source_batch(pa.Table.from_batches([rb]), job["header"]))
            yield _pack(res, schema)

    return run


def source_files(path: Path) -> list[Path]:
    """The files to import for ``path``: the file itself, or a folder's CSV/XLSX/Parquet files sorted by name."""
    if path.is_dir():
        exts = (".csv", ".csv.gz", ".txt", ".tsv", ".xlsx", ".parquet")
        files = sorted(f for f in path.iterdir() if f.is_file() and f.name.lower().endswith(exts))
        if not files:
            raise DataNotFoundError(f"{path}: 文件夹中没有可导入的文件 / no CSV, XLSX or Parquet file in this folder")
        return files
    return [path]


def ingest_path(settings: Settings, path: str | Path, *, profile: str | Profile = "cn110",
                progress: Progress | None = None, encoding: str | None = None) -> list[ImportReport]:
    """Import a file, or every export of a folder (one import each, in name order), on ``settings.engine``:
    :func:`ingest_file_spark` on Spark, :func:`anju.ingest.pipeline.ingest_file` on DuckDB."""
    from anju.ingest.pipeline import ingest_file

    run = ingest_file_spark if settings.engine == "spark" else ingest_file
    return [run(settings, f, profile=profile, progress=progress, encoding=encoding) for f in source_files(Path(path))]


def ingest_file_spark(settings: Settings, path: str | Path, *, profile: str | Profile = "cn110",
                      progress: Progress | None = None, encoding: str | None = None) -> ImportReport:
    """Import one source file into the lake with the per-row work on Spark (see the module doc).

    Same arguments and result as :func:`anju.ingest.pipeline.ingest_file`; the lake rows are the same.
    """
    import time

    from anju.lake.spark import _uri, spark_schema, spark_session

    started = time.perf_counter()
    p = Path(path)
    with opened_import(settings, p) as start:
        paths, manifest, size = start.paths, start.manifest, start.size
        if start.earlier is not None:
            return ImportReport.from_manifest(start.earlier, skipped=True)
        digest = start.blake3 or file_blake3(p)
        prof = profile if isinstance(profile, Profile) else load_profile(profile, data_dir=settings.data_dir)
        prof, _tax, _mapping, reader, resolved = start_import(settings, p, prof, encoding)
        spark = spark_session(settings)
        import_id = new_import_id()
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        key = lake_key(settings, manifest.data)
        job: dict[str, Any] = {
            "settings": settings, "profile": prof, "header": list(reader.columns), "resolved": dict(resolved),
            "key": key, "import_id": import_id, "source_file": p.name,
            "now": datetime.now(zoneinfo.ZoneInfo(prof.time.timezone)).replace(tzinfo=None),
        }
        writer = LakeWriter(paths.lake, import_id, buffer_rows=max(settings.batch_rows // 2, 50_000))
        raw_dir, out_dir = writer.staging / "spark-raw", writer.staging / "spark-out"
        raw_dir.mkdir(parents=True)
        driver = _transformer(job)
        totals = _Totals()
        try:
            # 1. the driver parses the file and stages its rows; malformed lines are quarantined here
            names = [f"c{i}" for i in range(len(job["header"]))]
            for i, batch in enumerate(reader):
                if batch.num_rows:
                    t = batch.table.rename_columns(names).append_column(
                        _ROW, pa.array(batch.row_numbers, pa.int64()))
                    pq.write_table(t, raw_dir / f"part-{i:06d}.parquet")
                if batch.malformed:
                    res = driver(SourceBatch(batch.table.slice(0, 0), batch.row_numbers[:0], batch.malformed))
                    totals.add(res)
                    writer.write_quarantine(res.quarantine)
                if progress is not None:
                    progress(reader.bytes_read, reader.total_bytes, totals.rows_read)
            # 2. the executors transform the rows (identifying-field keys: numbered over the whole file first)
            dups: np.ndarray = np.zeros(0, np.int64)
            if any(raw_dir.iterdir()):
                if prof.key.fields:
                    raw_dir = _number_occurrences(spark, job, raw_dir, writer.staging / "spark-raw-occ")
                src = spark.read.parquet(_uri(raw_dir))
                out_schema = spark_schema(_out_schema())
                src.mapInArrow(_map_batches(job), out_schema).write.parquet(_uri(out_dir))
                # 3. duplicate keys, over keys only
                dups = _duplicates(spark, out_dir, [paths.lake / f for f in manifest.files("incidents")],
                                   prof.source)
            # 4. the duplicates' quarantine rows, then everything into the lake writer
            if dups.size:
                table = ds.dataset(raw_dir, format="parquet").to_table(
                    filter=ds.field(_ROW).isin(pa.array(dups, pa.int64())))
                table = table.sort_by(_ROW)
                batch = _source_batch(table, job["header"])
                as_loaded = driver(batch)  # what these rows added to the counters as loaded rows
                totals.subtract_loaded(as_loaded)
                taken = _transformer(job, keys=_AllTaken())
                try:
                    res = taken(batch)
                finally:
                    taken.close()
                totals.reasons.update(res.reasons)
                writer.write_quarantine(res.quarantine)
            if out_dir.exists():
                _drain(out_dir, writer, totals, set(dups.tolist()))
            report = ImportReport(
                import_id=import_id, source=prof.name, source_file=p.name, rows_read=totals.rows_read,
                rows_loaded=totals.rows_loaded, rows_quarantined=sum(totals.reasons.values()),
                quarantine_by_reason=dict(totals.reasons.most_common()),
                unknown_categories=dict(totals.unknown.most_common()),
                unassigned_by_level=dict(totals.unassigned), encoding=reader.encoding,
                metric_crs=driver.geo.metric_crs, data_lines=reader.data_lines or 0,
                blank_lines=reader.blank_lines, lines_reread=reader.lines_reread, notes=list(reader.notes),
                unparsed_values=dict(totals.unparsed),
            )
            check_accounted(p, report, reader)
            entry = {
                **report.to_dict(), "source_path": str(p.resolve()), "file_blake3": digest, "file_bytes": size,
                "started_at": started_at, "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "coord_system": prof.coords.system, "profile_path": str(prof.path), "mapping": prof.mapping,
                "anju_version": __version__, "engine": "spark",
            }
            entry.pop("skipped_duplicate_file", None)
            manifest.data.setdefault("key_fingerprint", fingerprint(key))
            writer.commit(manifest, entry)
            report.seconds = time.perf_counter() - started
            return report
        except BaseException:
            writer.abort()
            raise
        finally:
            driver.close()
            reader.close()


def _duplicates(spark: Any, out_dir: Path, lake_files: list[Path], source: str) -> np.ndarray:
    """Data-line numbers of the loadable rows whose key an earlier row of the file, or the lake, already has."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from anju.lake.spark import _uri

    inc = (spark.read.parquet(_uri(out_dir)).filter(F.col(_KIND) == "i")
           .select("record_key", F.col("source_row")))
    ranked = inc.withColumn("_n", F.row_number().over(Window.partitionBy("record_key").orderBy("source_row")))
    cond = F.col("_n") > 1
    if lake_files:
        lake = (spark.read.parquet(*[_uri(f) for f in lake_files]).filter(F.col("source") == source)
                .select("record_key").distinct().withColumn("_in_lake", F.lit(True)))
        ranked = ranked.join(lake, "record_key", "left")
        cond = cond | F.col("_in_lake").isNotNull()
    rows = ranked.filter(cond).select("source_row").toPandas()["source_row"].to_numpy(np.int64)
    return np.sort(rows)


def _drain(out_dir: Path, writer: LakeWriter, totals: _Totals, dups: set[int]) -> None:
    """Stream the executors' output into the lake writer (minus the duplicates) and add up the counters."""
    dup_arr = pa.array(sorted(dups), pa.int64())
    files = sorted(out_dir.glob("*.parquet"))
    for f in files:
        pf = pq.ParquetFile(f)
        for rb in pf.iter_batches(batch_size=200_000):
            t = pa.Table.from_batches([rb])
            kind = t.column(_KIND)
            inc = t.filter(pa.compute.equal(kind, "i"))
            if inc.num_rows:
                if dups:
                    inc = inc.filter(pa.compute.invert(pa.compute.is_in(inc.column("source_row"),
                                                                        value_set=dup_arr)))
                inc = inc.select(INCIDENT_SCHEMA.names)
                writer.write(inc)
                totals.rows_loaded += inc.num_rows
            qua = t.filter(pa.compute.equal(kind, "q"))
            if qua.num_rows:
                qua = qua.select([_Q + n for n in QUARANTINE_SCHEMA.names]).rename_columns(QUARANTINE_SCHEMA.names)
                writer.write_quarantine(qua)
            for s in t.filter(pa.compute.equal(kind, "s")).column(_STATS).to_pylist():
                totals.add_stats(json.loads(s))


class _Totals(ImportTotals):
    """The import's counters; on Spark, most batches' counters arrive as JSON rows from the executors."""

    def add_stats(self, s: dict[str, Any]) -> None:
        """The counters of a batch transformed on an executor (its lake rows are counted as they are written)."""
        self.rows_read += int(s["rows_read"])
        self.reasons.update(s["reasons"])
        self.unknown.update(s["unknown"])
        self.unassigned.update(s["unassigned"])
        self.unparsed.update(s["unparsed"])

    def subtract_loaded(self, r: BatchResult) -> None:
        """Take back what rows counted as loaded added (they turned out to be duplicates); zeros are kept."""
        for mine, theirs in ((self.unknown, r.unknown_categories), (self.unassigned, r.unassigned),
                             (self.unparsed, r.unparsed)):
            for k, v in theirs.items():
                mine[k] -= v
                if mine[k] == 0 and mine is not self.unassigned:
                    del mine[k]  # as on DuckDB: only categories/fields some loaded row has are reported

