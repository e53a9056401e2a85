"""``ingest_file``: one source file → the lake, atomically and idempotently.

Stages overlap so both cores stay busy: a reader thread parses the next batch (for GBK, transcoded in-process by
``iconv(3)``), a second thread runs the per-batch checks and enrichment
(:meth:`~anju.ingest.transform.BatchTransformer.prepare`; the HMACs run meanwhile in a C kernel, see
:mod:`anju.ingest.pii`), the main thread settles duplicate keys in file order and assembles the rows
(:meth:`~anju.ingest.transform.BatchTransformer.finish`), and a writer thread encodes Parquet. Nearly all the work
is in pyarrow, NumPy, Shapely, DuckDB and the C kernel, which release Python's interpreter lock. Each stage makes
at most one batch ahead of the next (:func:`_prefetch`), so memory is bounded by a few batches whatever the file
size. The allocators suited to an import are a process setting, chosen at the process entry
(:func:`anju.ingest.allocator.process_allocators`, entered by ``anju``'s ``main``), never here.

Guarantees (tested in tests/ingest/test_pipeline.py and tests/lake/test_atomic.py):

* a file whose SHA-256 is already in the manifest is not read again: the earlier import is reported;
* record keys already in the lake or earlier in the file go to quarantine as ``duplicate_key``;
* nothing is visible until the manifest names the import; a killed import leaves only orphans, removed next time;
* only one writer at a time (``lake/.lock``).
"""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from anju import __version__
from anju.config import Settings
from anju.errors import ConfigError, IngestError
from anju.files import file_blake3, file_sha256
from anju.ingest.enrich import GeoContext
from anju.ingest.keys import KeyIndex
from anju.ingest.pii import Hasher
from anju.ingest.profile import Profile, ResolvedColumns, load_profile
from anju.ingest.readers import SourceReader, open_source
from anju.ingest.report import ImportReport
from anju.ingest.secret import fingerprint, lake_key
from anju.ingest.transform import BatchResult, BatchTransformer
from anju.lake.manifest import Manifest, lake_lock
from anju.lake.store import LakeWriter, clean_orphans
from anju.taxonomy import load_mapping, load_taxonomy

__all__ = ["CheckReport", "Progress", "check_file", "file_sha256", "ingest_file", "new_import_id"]

#: ``progress(bytes_done, bytes_total, rows_read)``; called after every batch.
Progress = Callable[[int, int, int], None]
T = TypeVar("T")


def new_import_id() -> str:
    """A sortable, unique import id: UTC time plus random hex, e.g. ``20261123T050102Z-3f9a1c``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _prefetch(items: Iterator[T], depth: int = 1, name: str = "anju-ingest-reader") -> Iterator[T]:
    """Run ``items`` in a thread, at most ``depth`` items ahead of the consumer (counting the one being made).

    The producer takes a slot before making an item and the consumer frees it when it takes the item, so with
    ``depth=1`` the thread makes the next item while the consumer works on the current one and then waits: a
    finished item never sits in a queue while a further one is being made (that would hold one more batch in
    memory for no gain in overlap). Exceptions re-raise in the consumer.
    """
    q: queue.Queue[Any] = queue.Queue()
    slots = threading.Semaphore(depth)
    done = object()
    stop = threading.Event()

    def take_slot() -> bool:
        while not stop.is_set():
            if slots.acquire(timeout=0.2):
                return True
        return False

    def run() -> None:
        try:
            it = iter(items)
            while take_slot():
                try:
                    x = next(it)
                except StopIteration:
                    break
                q.put(x)
                del x
        except BaseException as exc:
            q.put(_Failure(exc))
        finally:
            q.put(done)

    th = threading.Thread(target=run, name=name, daemon=True)
    th.start()
    try:
        while True:
            x = q.get()
            slots.release()
            if x is done:
                break
            if isinstance(x, _Failure):
                raise x.exc
            yield x
            del x
    finally:
        stop.set()
        slots.release()
        th.join(timeout=10)


@dataclass
class ImportTotals:
    """An import's counters, added up from its batches (both engines: :mod:`anju.lake.spark_ingest` extends it)."""

    rows_read: int = 0
    rows_loaded: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    unassigned: Counter[str] = field(default_factory=Counter)
    unparsed: Counter[str] = field(default_factory=Counter)

    def add(self, r: BatchResult) -> None:
        self.rows_read += r.rows_read
        self.rows_loaded += r.incidents.num_rows
        self.reasons.update(r.reasons)
        self.unknown.update(r.unknown_categories)
        self.unassigned.update(r.unassigned)
        self.unparsed.update(r.unparsed)


def start_import(settings: Settings, path: Path, profile: str | Profile, encoding: str | None
                 ) -> tuple[Profile, Any, Any, SourceReader, ResolvedColumns]:
    """The profile, taxonomy, category mapping, an open reader and the resolved columns of one source file — the
    start of an import on either engine (DuckDB here, Spark in :mod:`anju.lake.spark_ingest`)."""
    prof = profile if isinstance(profile, Profile) else load_profile(profile, data_dir=settings.data_dir)
    tax = load_taxonomy(data_dir=settings.data_dir)
    mapping = load_mapping(prof.mapping, taxonomy=tax, data_dir=settings.data_dir)
    reader = open_source(
        path,
        encoding=encoding or prof.read.encoding,
        delimiter=prof.read.delimiter,
        skip_rows=prof.read.skip_rows,
        sheet=prof.read.sheet,
        null_values=prof.read.null_values,
        batch_rows=settings.batch_rows,
    )
    try:
        resolved = prof.resolve(reader.columns)
        for fld, col in resolved.items():
            if col is not None and col in reader.unreadable:
                raise IngestError(
                    f"{path.name}: 列 {col!r}（映射为 [columns].{fld}）的类型 {reader.unreadable[col]} 不能作为文本读取 / "
                    f"column {col!r} (mapped as [columns].{fld}) has type {reader.unreadable[col]}, which cannot "
                    f"be read as text; map another column in the profile or convert this one to text first")
    except BaseException:
        reader.close()
        raise
    return prof, tax, mapping, reader, resolved


def earlier_import(manifest: Manifest, path: Path, size: int) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest's import of this very file, if any, and the file's BLAKE3 when it had to be computed.

    Only a file whose size an earlier import has can be a repeat, so other files are not hashed here (the caller
    hashes them alongside the import). Imports recorded before BLAKE3 carry only a SHA-256, which is then compared.
    """
    same_size = [i for i in manifest.imports if i.get("file_bytes") == size]
    if not same_size:
        return None, None
    blake3 = file_blake3(path)
    sha = file_sha256(path) if any("file_blake3" not in i for i in same_size) else None
    return manifest.find_file(blake3=blake3, sha256=sha), blake3


@dataclass(frozen=True)
class ImportStart:
    """Where an import starts, under the lake's lock (:func:`opened_import`)."""

    paths: Any  # the data directory's paths (created)
    manifest: Manifest  # the committed state; orphans of killed imports already removed
    size: int  # the source file's size in bytes
    earlier: dict[str, Any] | None  # the manifest's import of this very file: report it, import nothing
    blake3: str | None  # the file's BLAKE3 when the repeated-file check had to compute it


@contextlib.contextmanager
def opened_import(settings: Settings, path: Path) -> Iterator[ImportStart]:
    """The prologue of an import on either engine (DuckDB here, Spark in :mod:`anju.lake.spark_ingest`): the lake
    locked for the whole import, the manifest loaded, orphans removed, the file checked, a repeated file found."""
    paths = settings.paths.ensure()
    with lake_lock(paths.lake):
        manifest = Manifest.load(paths.manifest)
        clean_orphans(paths.lake, manifest)
        if not path.is_file():
            from anju.errors import DataNotFoundError

            raise DataNotFoundError(f"{path}: file not found")
        size = path.stat().st_size
        earlier, blake3 = earlier_import(manifest, path, size)
        yield ImportStart(paths, manifest, size, earlier, blake3)


def profile_bounds(prof: Profile) -> tuple[float, float, float, float] | None:
    """The profile's plausible coordinate box as (lon min, lat min, lon max, lat max), or None."""
    b = prof.coords.bounds
    return (b.lon[0], b.lat[0], b.lon[1], b.lat[1]) if b is not None else None


def ingest_file(settings: Settings, path: str | Path, *, profile: str | Profile = "cn110",
                progress: Progress | None = None, encoding: str | None = None) -> ImportReport:
    """Import one source file into the lake of ``settings.data_dir`` through a profile.

    Parameters
    ----------
    settings : the deployment settings (data directory, batch size, nearest-area threshold, secret).
    path : CSV (UTF-8/GBK, optionally .gz), XLSX or Parquet file.
    profile : profile name (``cn110``, ``chicago``, ``sf-kaggle`` or one in ``<data_dir>/profiles``) or path.
    progress : optional callback ``(bytes_done, bytes_total, rows_read)``.
    encoding : overrides the profile's ``[read].encoding`` (e.g. ``"gb18030"``).

    Returns
    -------
    ImportReport
        Counts of rows read / loaded / quarantined (by reason), unknown categories and unassigned rows.
    """
    return _ingest(settings, path, profile, progress, encoding)


def _ingest(settings: Settings, path: str | Path, profile: str | Profile, progress: Progress | None,
            encoding: str | None) -> ImportReport:
    started = time.perf_counter()
    p = Path(path)
    with opened_import(settings, p) as start:
        paths, manifest, size, blake3 = start.paths, start.manifest, start.size, start.blake3
        if start.earlier is not None:
            return ImportReport.from_manifest(start.earlier, skipped=True)
        digest: dict[str, str] = {}  # the file's BLAKE3, its identity in the manifest
        hash_thread: threading.Thread | None = None
        if blake3 is not None:
            digest["blake3"] = blake3
        else:  # cannot be a repeat: hash it alongside the import
            hash_thread = threading.Thread(target=lambda: digest.__setitem__("blake3", file_blake3(p)), daemon=True)
            hash_thread.start()

        prof, tax, mapping, reader, resolved = start_import(settings, p, profile, encoding)
        import_id = new_import_id()
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        geo = GeoContext.build(settings, system=prof.coords.system, nearest_m=settings.nearest_threshold_m,
                               profile_bounds=profile_bounds(prof))
        keys = KeyIndex.from_lake([paths.lake / f for f in manifest.files("incidents")], prof.source)
        key = lake_key(settings, manifest.data)  # checked against the lake's key fingerprint
        hasher = Hasher(key)
        transformer = BatchTransformer(
            profile=prof, header=reader.columns, resolved=resolved, mapping=mapping, taxonomy=tax, geo=geo,
            hasher=hasher, keys=keys, import_id=import_id, source_file=p.name,
        )
        writer = LakeWriter(paths.lake, import_id, buffer_rows=max(settings.batch_rows // 2, 50_000))
        totals = ImportTotals()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anju-ingest-writer")
        pending: list[Future[None]] = []
        try:
            # reader thread → stage-1 thread → this thread (stage 2, in order) → writer thread
            stage1 = map(transformer.prepare, _prefetch(iter(reader), depth=1))
            for prepared in _prefetch(stage1, depth=1, name="anju-ingest-stage1"):
                result = transformer.finish(prepared)
                totals.add(result)
                while pending:  # at most one batch queued for the writer: memory stays at a few batches
                    pending.pop(0).result()
                pending.append(pool.submit(_write, writer, result))
                if progress is not None:
                    progress(reader.bytes_read, reader.total_bytes, totals.rows_read)
            for f in pending:
                f.result()
            pending.clear()
            if hash_thread is not None:
                hash_thread.join()
            earlier = manifest.find_file(blake3=digest["blake3"])
            if earlier is not None:  # pragma: no cover - same bytes with a different size cannot happen
                writer.abort()
                return ImportReport.from_manifest(earlier, skipped=True)
            report = ImportReport(
                import_id=import_id,
                source=prof.name,
                source_file=p.name,
                rows_read=totals.rows_read,
                rows_loaded=totals.rows_loaded,
                rows_quarantined=sum(totals.reasons.values()),
                quarantine_by_reason=dict(totals.reasons.most_common()),
                unknown_categories=dict(totals.unknown.most_common()),
                unassigned_by_level=dict(totals.unassigned),
                encoding=reader.encoding,
                metric_crs=geo.metric_crs,
                data_lines=reader.data_lines or 0,
                blank_lines=reader.blank_lines,
                lines_reread=reader.lines_reread,
                notes=list(reader.notes),
                unparsed_values=dict(totals.unparsed),
            )
            check_accounted(p, report, reader)
            report.seconds = time.perf_counter() - started
            entry = {
                **report.to_dict(),
                "source_path": str(p.resolve()),
                "file_blake3": digest["blake3"],
                "file_bytes": size,
                "started_at": started_at,
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "coord_system": prof.coords.system,
                "profile_path": str(prof.path),
                "mapping": prof.mapping,
                "anju_version": __version__,
            }
            entry.pop("skipped_duplicate_file", None)
            manifest.data.setdefault("key_fingerprint", fingerprint(key))
            writer.commit(manifest, entry)
            report.seconds = time.perf_counter() - started
            return report
        except BaseException:
            for f in pending:
                with contextlib.suppress(BaseException):
                    f.result()
            writer.abort()
            raise
        finally:
            pool.shutdown(wait=True)
            transformer.close()
            reader.close()
            hasher.close()
            keys.close()


def check_accounted(p: Path, report: ImportReport, reader: SourceReader) -> None:
    """Every row and every line of the source is accounted for, or the import fails and writes nothing.

    Rows: ``loaded + quarantined = rows read`` (records the reader gave out). Lines: the lines those records span
    plus the empty lines equal the file's data lines as counted by the reader independently of the CSV parser
    (for Excel and Parquet: the sheet's rows, the file's row count). Either failing means a row would be lost in
    silence.
    """
    if report.rows_loaded + report.rows_quarantined != report.rows_read:
        raise IngestError(f"{p.name}: 内部错误，行数不符 / internal error: {report.rows_read} rows read but "
                          f"{report.rows_loaded} loaded + {report.rows_quarantined} quarantined; nothing was imported")
    if reader.data_lines is None or reader.lines_accounted != reader.data_lines:
        raise IngestError(f"{p.name}: 行数不符，未导入任何数据 / the file has {reader.data_lines} data lines but "
                          f"{reader.lines_accounted} were accounted for (rows, malformed and empty lines); nothing "
                          "was imported. Please report this file.")


def _write(writer: LakeWriter, result: BatchResult) -> None:
    writer.write(result.incidents)
    writer.write_quarantine(result.quarantine)


# ------------------------------------------------------------------------------------------------ dry run
@dataclass
class CheckReport:
    """What ``anju profile check`` shows: the column mapping with samples, and the rows that would fail."""

    profile: Profile
    source_file: str
    encoding: str | None
    columns: list[str]
    resolved: dict[str, str | None]
    samples: dict[str, list[Any]]
    parsed: dict[str, list[Any]]
    rows_checked: int
    would_load: int
    failures: list[dict[str, Any]]
    reasons: dict[str, int]
    unknown_categories: dict[str, int]
    unmapped_columns: list[str]
    geo_levels: list[str]


def check_file(settings: Settings, path: str | Path, *, profile: str | Profile = "cn110", rows: int = 1000,
               encoding: str | None = None, samples: int = 3) -> CheckReport:
    """Dry-run a profile on the first ``rows`` rows of a file; nothing is written anywhere.

    Duplicates are checked within those rows and against the lake (read-only). Personal data in the samples is
    shown masked.
    """
    p = Path(path)
    small = settings.model_copy(update={"batch_rows": max(1001, rows)})
    prof, tax, mapping, reader, resolved = start_import(small, p, profile, encoding)
    manifest = Manifest.load(settings.paths.manifest)
    geo = GeoContext.build(settings, system=prof.coords.system, nearest_m=settings.nearest_threshold_m,
                           profile_bounds=profile_bounds(prof))
    keys = KeyIndex.from_lake([settings.paths.lake / f for f in manifest.files("incidents")], prof.source)
    key = secrets.token_bytes(32)  # throwaway key: the dry run must not create the deployment secret
    if prof.key.fields and (settings.secret or settings.paths.secret_file.exists()):
        # identifying-field keys are HMACs: with the lake's own key the dry run sees repeats of lake rows
        with contextlib.suppress(ConfigError):
            key = lake_key(settings, manifest.data)
    hasher = Hasher(key)
    transformer = BatchTransformer(
        profile=prof, header=reader.columns, resolved=resolved, mapping=mapping, taxonomy=tax, geo=geo,
        hasher=hasher, keys=keys, import_id="dry-run", source_file=p.name, keep_parsed=True,
    )
    try:
        first = next(iter(reader), None)
        if first is None:
            raise IngestError(f"{p.name}: no data rows")
        t = first.table.slice(0, rows)
        batch = type(first)(t, first.row_numbers[:rows], [m for m in first.malformed if m.row <= rows])
        result = transformer(batch)
    finally:
        reader.close()
        transformer.close()
        hasher.close()
        keys.close()
    assert result.parsed is not None
    par = result.parsed
    k = min(samples, t.num_rows)
    sample_vals: dict[str, list[Any]] = {}
    parsed_vals: dict[str, list[Any]] = {}
    inc = result.incidents
    for fld, col in resolved.items():
        if col is None:
            continue
        if fld in ("text", "address"):  # numbers and the caller's name masked, as they will be stored
            sample_vals[fld] = par[fld].to_pylist()[:k]
            continue
        if fld in ("caller", "phone"):  # never shown in clear, not even in a dry run
            sample_vals[fld] = par[fld].to_pylist()[:k]
            parsed_vals[fld] = [("HMAC " + h.hex()[:8] + "…") if h else None
                                for h in inc.column(f"{fld}_hash").to_pylist()[:k]] if inc.num_rows else []
            continue
        sample_vals[fld] = t.column(col).to_pylist()[:k]
    parsed_vals["record_key"] = par["record_key"].to_pylist()[:k]
    parsed_vals["time"] = [str(x) if x is not None else None for x in par["time"].to_pylist()[:k]]
    parsed_vals["category"] = list(par["category"][:k])
    if resolved.get("lon"):
        parsed_vals["lon"] = [None if x != x else round(float(x), 6) for x in par["lon"][:k]]
        parsed_vals["lat"] = [None if x != x else round(float(x), 6) for x in par["lat"][:k]]
    failures = []
    reason, detail = par["reason"], par["detail"]
    for i in range(t.num_rows):
        if reason[i] is not None:
            failures.append({"row": int(batch.row_numbers[i]), "reason": reason[i], "detail": detail[i]})
    for m in batch.malformed:
        failures.append({"row": m.row, "reason": "malformed_row", "detail": m.detail})
    used = {c for c in resolved.values() if c}
    return CheckReport(
        profile=prof, source_file=p.name, encoding=reader.encoding, columns=reader.columns,
        resolved=dict(resolved), samples=sample_vals, parsed=parsed_vals, rows_checked=result.rows_read,
        would_load=result.incidents.num_rows, failures=sorted(failures, key=lambda f: f["row"]),
        reasons=dict(result.reasons), unknown_categories=dict(result.unknown_categories),
        unmapped_columns=[c for c in reader.columns if c not in used], geo_levels=geo.levels,
    )
