"""Stream a source file as Arrow record batches of strings, whatever its size, format or encoding.

Formats: CSV/TXT (optionally gzip-compressed, ``.csv.gz``), XLSX/XLS (python-calamine) and Parquet (pyarrow).
Every column comes out as ``string`` so that the pipeline — not the reader — decides what is valid, and a rejected
row can be quarantined exactly as it was written.

Encodings (CSV only): a UTF-8 byte-order mark means ``utf-8-sig``; otherwise a large sample is decoded as strict
UTF-8 and, if that fails, the file is taken as GB18030 (a superset of GBK and GB2312, which is what Chinese Excel
and most police systems write). An explicit encoding (profile ``[read].encoding`` or ``--encoding``) wins. Non-UTF-8
input is transcoded to UTF-8 on the fly, block by block, by the C library's ``iconv(3)`` called in-process through
:mod:`ctypes` (which releases Python's lock during the call; no pipes, and memory stays at one block — the
``iconv`` *program* reads its whole input before writing anything); for the GBK family the C kernel converts each
block first with a table of every two-byte code made by ``iconv(3)`` itself, up to the first code it lacks, and
``iconv(3)`` does the rest (same output and errors, ~2.5× faster). Where ``iconv(3)`` does not know the encoding,
the ``iconv`` program in a child process or, failing that, pyarrow's Python-codec transcoder is used.

Row numbers: :attr:`SourceReader.row_numbers` of each batch are the 1-based data-row numbers in the source
(header excluded); rows the CSV parser could not split into the header's columns are reported in
:attr:`SourceReader.malformed` with their own numbers, so the numbering of good rows stays exact.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import datetime as _dt
import errno
import io
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar
from zlib import error as zlib_error

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from anju.errors import DataNotFoundError, EncodingError, IngestError
from anju.ingest import kernels

__all__ = [
    "DEFAULT_NULL_VALUES",
    "MalformedRow",
    "SourceBatch",
    "SourceReader",
    "detect_encoding",
    "file_format",
    "open_source",
]

DEFAULT_NULL_VALUES = ("", "NULL", "null", "NaN", "nan", "N/A", "#N/A", "None")
#: A source line longer than this cannot be a call record: it is quarantined as ``field_too_long`` (a line longer
#: than the parser's block would otherwise stop the whole file with "straddling object").
MAX_LINE_BYTES = 1 << 20
#: How much of a rejected line's raw text the quarantine keeps.
QUARANTINE_TEXT_CHARS = 2000
_SAMPLE_BYTES = 4 << 20
# The CSV parser's block: 2 MiB blocks stay in the core's caches while they are parsed and converted; 8 MiB blocks
# cost ~0.1-0.2 µs more per row of a call export (docs/performance.md).
_CSV_BLOCK = 2 << 20
_UTF8_NAMES = {"utf8", "utf-8", "utf_8", "u8"}


@dataclass(frozen=True)
class MalformedRow:
    """A source line (or record) that cannot be a row: wrong field count, a field too long, quotes out of sync.

    ``row`` is its data-line number (1-based, header excluded), ``text`` its raw text (cut to
    :data:`QUARANTINE_TEXT_CHARS`), ``reason`` a quarantine code of :data:`anju.lake.schema.QUARANTINE_REASONS`.
    """

    row: int
    detail: str
    text: str
    reason: str = "malformed_row"


@dataclass
class SourceBatch:
    """One batch of source rows: string columns named as in the file, plus their 1-based data-line numbers.

    ``occurrences``: for identifying-field keys, each row's occurrence number when it was computed over the whole
    file beforehand (the Spark ingest); None lets the transformer count them in file order.
    """

    table: pa.Table
    row_numbers: np.ndarray
    malformed: list[MalformedRow] = field(default_factory=list)
    occurrences: np.ndarray | None = None

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def file_format(path: Path) -> tuple[str, str | None]:
    """``(format, compression)`` of a file from its name: ``("csv", "gzip")`` for ``x.csv.gz``."""
    name = path.name.lower()
    compression = None
    if name.endswith(".gz"):
        compression, name = "gzip", name[:-3]
    suffix = Path(name).suffix
    if suffix in {".csv", ".txt", ".tsv"}:
        return "csv", compression
    if suffix in {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"} and compression is None:
        return "excel", None
    if suffix in {".parquet", ".pq"} and compression is None:
        return "parquet", None
    raise IngestError(
        f"{path.name}: unsupported file type {suffix or '(none)'!r}; anju reads .csv/.txt/.tsv (optionally .gz), "
        ".xlsx/.xls and .parquet"
    )


def _normalise_encoding(name: str) -> str:
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        raise EncodingError(
            f"unknown encoding {name!r}; use e.g. utf-8, utf-8-sig, gb18030 (covers GBK/GB2312), big5"
        ) from None
    if canonical in {"gbk", "gb2312"}:
        return "gb18030"  # superset; decodes every GBK file and the rare characters GBK lacks
    return canonical


def detect_encoding(sample: bytes) -> str:
    """Guess a CSV's encoding from its first bytes: ``utf-8-sig`` or ``utf-16`` (BOM), ``utf-8`` or ``gb18030``.

    Examples
    --------
    >>> detect_encoding("报警时间".encode("gbk")), detect_encoding("报警时间".encode()), detect_encoding(b"\\xef\\xbb\\xbfa")
    ('gb18030', 'utf-8', 'utf-8-sig')
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"; the BOM says the byte order
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


class _CountingReader(io.RawIOBase):
    """A read-only raw stream that counts the bytes taken from the underlying file (for progress bars)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return n or 0

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.count += len(data)
        return data

    def close(self) -> None:
        self._fh.close()
        super().close()


class SourceReader:
    """An open source file; iterate it for :class:`SourceBatch` objects. Use as a context manager.

    Attributes
    ----------
    path, format, compression, encoding : what was opened and how it is decoded (encoding is None for non-CSV).
    columns : the header's column names, in file order.
    total_bytes, bytes_read : the file's size and how much of it has been consumed so far (for progress).
    """

    def __init__(self, path: Path, fmt: str, compression: str | None, encoding: str | None,
                 columns: list[str]) -> None:
        self.path = path
        self.format = fmt
        self.compression = compression
        self.encoding = encoding
        self.columns = columns
        self.total_bytes = path.stat().st_size
        self._batches: Iterator[SourceBatch] | None = None
        self._closers: list[Any] = []
        self._counter: _CountingReader | None = None
        #: the file's data lines (CSV) or rows (Excel, Parquet), counted independently of the parser; known once
        #: the batches are exhausted
        self.data_lines: int | None = None
        #: data lines held in the records given out so far (rows, malformed rows, blank lines)
        self.lines_accounted = 0
        #: empty data lines (nothing to load; counted, not quarantined)
        self.blank_lines = 0
        #: data lines re-read one by one because the quoting went out of sync (their good rows are loaded)
        self.lines_reread = 0
        #: what the reader changed on the way that the import report should mention
        self.notes: list[str] = []
        #: columns that cannot be read as text (Parquet nested/binary): name → type
        self.unreadable: dict[str, str] = {}

    @property
    def bytes_read(self) -> int:
        return self._counter.count if self._counter is not None else 0

    def __iter__(self) -> Iterator[SourceBatch]:
        if self._batches is None:
            raise IngestError(f"{self.path.name}: reader is closed")
        return self._batches

    def close(self) -> None:
        for c in reversed(self._closers):
            with contextlib.suppress(Exception):
                c()
        self._closers.clear()

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str = ",",
    skip_rows: int = 0,
    sheet: str | int | None = None,
    null_values: tuple[str, ...] | list[str] = DEFAULT_NULL_VALUES,
    batch_rows: int = 300_000,
) -> SourceReader:
    """Open ``path`` for streaming. ``encoding`` None/"auto" means detect (CSV only).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    EncodingError
        The encoding is unknown, or the header cannot be decoded with it.
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"{p}: file not found")
    fmt, compression = file_format(p)
    if fmt == "csv":
        return _open_csv(p, compression, encoding, delimiter, skip_rows, list(null_values), batch_rows)
    if fmt == "excel":
        return _open_excel(p, sheet, skip_rows, set(null_values), batch_rows)
    return _open_parquet(p, batch_rows)


# ---------------------------------------------------------------------------------------------------- CSV
def _raw_stream(p: Path, compression: str | None) -> tuple[IO[bytes], _CountingReader]:
    counter = _CountingReader(p.open("rb", buffering=0))
    if compression == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=io.BufferedReader(counter, 1 << 20)), counter  # type: ignore[return-value]
    return io.BufferedReader(counter, 1 << 20), counter


def _sample(p: Path, compression: str | None) -> bytes:
    raw, counter = _raw_stream(p, compression)
    try:
        return raw.read(_SAMPLE_BYTES)
    except (EOFError, OSError, zlib_error) as exc:
        raise _damaged(p, counter.count, exc) from exc
    finally:
        raw.close()
        counter.close()


def _damaged(p: Path, at: int, exc: BaseException) -> IngestError:
    """The error for a source that stops early: a truncated or damaged gzip stream, or a read failure."""
    size = p.stat().st_size
    if isinstance(exc, EOFError | zlib_error) or "gzip" in str(exc).lower() or p.name.lower().endswith(".gz"):
        what = "压缩文件不完整（被截断）或已损坏 / the compressed file is truncated or damaged"
    else:
        what = "读取失败 / cannot read the file"
    return IngestError(f"{p.name}: {what}: it stops at byte {at:,} of {size:,} ({exc}); nothing was imported. "
                       "Copy the file again from its source.")


def _other_encodings(failed: str) -> str:
    """The ``--encoding`` suggestions after ``failed`` did not decode a file: never ``failed`` itself."""
    options = {"utf-8": "--encoding utf-8", "gb18030": "--encoding gb18030 (GBK exports)",
               "utf-16": "--encoding utf-16 (Excel Unicode text)"}
    key = "utf-8" if failed in {"utf-8", "utf-8-sig"} else failed
    return " or ".join(v for k, v in options.items() if k != key)


def _header(sample: bytes, encoding: str, delimiter: str, skip_rows: int, p: Path) -> list[str]:
    import csv

    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{p.name}: 文件开头不是 {encoding} 编码 / cannot decode the start of the file as {encoding} "
            f"({exc.reason} at byte {exc.start}); try {_other_encodings(encoding)}"
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for _ in range(skip_rows):
            next(rows)
        header = next(rows)
    except StopIteration:
        raise IngestError(f"{p.name}: the file is empty (no header row after {skip_rows} skipped rows)") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise IngestError(f"{p.name}: the header row is empty")
    _refuse_duplicates(p, header)
    return header


def _refuse_duplicates(p: Path, header: list[str]) -> None:
    """Two columns of one name would make the profile's mapping ambiguous (CSV, Excel and Parquet alike)."""
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise IngestError(f"{p.name}: 表头列名重复 {dupes}，请在文件中改名后再导入 / duplicate column names in the "
                          f"header: {dupes}; rename them in the file")


def _open_csv(p: Path, compression: str | None, encoding: str | None, delimiter: str, skip_rows: int,
              null_values: list[str], batch_rows: int) -> SourceReader:
    sample = _sample(p, compression)
    if encoding is None or encoding.lower() == "auto":
        enc = detect_encoding(sample)
    else:
        enc = _normalise_encoding(encoding)
        if enc == "utf-8" and sample.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
    header = _header(sample, enc, delimiter, skip_rows, p)
    reader = SourceReader(p, "csv", compression, enc, header)
    raw, counter = _raw_stream(p, compression)
    reader._counter = counter
    reader._closers.append(raw.close)
    utf8: Any = raw
    transcoder: _Transcoder | _IconvStream | None = None
    read_encoding = "utf8"
    check_utf8 = True
    if enc not in {"utf-8", "utf-8-sig"}:
        iconv_stream = _IconvStream.open(raw, enc, p)
        if iconv_stream is not None:
            transcoder = utf8 = iconv_stream
            reader._closers.append(iconv_stream.close)
            check_utf8 = False  # iconv(3) writes valid UTF-8 or stops with an error
        elif shutil.which("iconv"):
            transcoder = _Transcoder(raw, enc, p)
            utf8 = transcoder.stdout
            reader._closers.append(transcoder.close)
        else:  # pragma: no cover - no iconv at all: pyarrow decodes (ASCII-compatible encodings only)
            read_encoding = enc
    lines = _LineStream(utf8, p, counter, compression is not None)
    malformed: list[MalformedRow] = []

    def on_invalid(row: Any) -> str:
        number = row.number - 1 - skip_rows if row.number is not None else -1
        malformed.append(MalformedRow(
            number, f"期望 {row.expected_columns} 列，实际 {row.actual_columns} 列 / expected "
                    f"{row.expected_columns} fields, got {row.actual_columns}", row.text))
        return "skip"

    try:
        csv_reader = pcsv.open_csv(
            lines,
            read_options=pcsv.ReadOptions(use_threads=False, block_size=_CSV_BLOCK, skip_rows=skip_rows,
                                          encoding=read_encoding),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                            ignore_empty_lines=False, invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                                null_values=null_values, strings_can_be_null=True,
                                                quoted_strings_can_be_null=True, check_utf8=check_utf8),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        reader.close()
        lines.check()
        raise _decode_error(p, enc, exc) from exc
    src = _CsvSource(p, compression, enc, delimiter, skip_rows + 1, header, set(null_values))
    reader._batches = _csv_batches(reader, csv_reader, src, malformed, batch_rows, transcoder, lines)
    return reader


def _decode_error(p: Path, enc: str, exc: BaseException) -> AnjuErrorLike:
    msg = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "utf8" in msg.lower() or "utf-8" in msg.lower() \
            or "decode" in msg.lower():
        return EncodingError(f"{p.name}: 文件不是有效的 {enc} 编码 / the file is not valid {enc} "
                             f"({msg.splitlines()[0]}); try {_other_encodings(enc)}")
    return IngestError(f"{p.name}: cannot parse the CSV: {msg.splitlines()[0]}")


AnjuErrorLike = EncodingError | IngestError


@dataclass
class _CsvSource:
    """How to read a CSV file's lines again, one by one (for the lines the parser could not split)."""

    path: Path
    compression: str | None
    encoding: str
    delimiter: str
    header_lines: int
    header: list[str]
    null_values: set[str]

    def lines(self, wanted: list[tuple[int, int]] | None = None, start: int = 1) -> Iterator[tuple[int, str]]:
        """``(data-line number, text)`` of the data lines in the ``wanted`` inclusive ranges (sorted), or of every
        line from ``start`` on. Lines end at ``\\n`` only, as the line count does."""
        raw, counter = _raw_stream(self.path, self.compression)
        text = io.TextIOWrapper(raw, encoding=self.encoding, errors="strict", newline="\n")
        try:
            k = 0
            for number, line in enumerate(text, start=1 - self.header_lines):
                if number < start:
                    continue
                if wanted is not None:
                    while k < len(wanted) and wanted[k][1] < number:
                        k += 1
                    if k == len(wanted):
                        return
                    if number < wanted[k][0]:
                        continue
                yield number, line.rstrip("\r\n") if line.endswith("\n") else line
        except UnicodeDecodeError as exc:
            raise _decode_error(self.path, self.encoding, exc) from exc
        except (EOFError, OSError, zlib_error) as exc:
            raise IngestError(f"{self.path.name}: the compressed file is truncated or damaged ({exc}); "
                              "nothing was imported") from exc
        finally:
            text.close()
            counter.close()

    def split(self, numbered: Iterator[tuple[int, str]], reason: str) -> SourceBatch:
        """Parse lines one by one: those with exactly the header's fields become rows, the others malformed."""
        import csv

        width = len(self.header)
        rows: list[list[str | None]] = []
        nums: list[int] = []
        bad: list[MalformedRow] = []
        for number, line in numbered:
            if not line.strip():
                continue  # an empty line: nothing to load (counted as blank by the caller)
            if len(line) > MAX_LINE_BYTES // 4 and len(line.encode()) > MAX_LINE_BYTES:
                bad.append(MalformedRow(number, f"一行超过 {MAX_LINE_BYTES:,} 字节 / a line longer than "
                                                f"{MAX_LINE_BYTES:,} bytes", line[:QUARANTINE_TEXT_CHARS],
                                        "field_too_long"))
                continue
            try:
                fields = next(csv.reader([line], delimiter=self.delimiter, strict=True))
            except csv.Error as exc:
                bad.append(MalformedRow(number, f"引号不配对 / unbalanced quotes: {exc}",
                                        line[:QUARANTINE_TEXT_CHARS], reason))
                continue
            if len(fields) != width:
                bad.append(MalformedRow(
                    number, f"期望 {width} 列，实际 {len(fields)} 列 / expected {width} fields, got {len(fields)}",
                    line[:QUARANTINE_TEXT_CHARS], reason))
                continue
            rows.append([None if f in self.null_values else f for f in fields])
            nums.append(number)
        table = pa.table({h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(self.header)})
        return SourceBatch(table, np.asarray(nums, dtype=np.int64), bad)


def _newlines_per_row(table: pa.Table) -> np.ndarray:
    """How many newline characters each row's values hold (a row spans that many lines more than one)."""
    n = np.zeros(table.num_rows, dtype=np.int64)
    for col in table.columns:
        for chunk in col.chunks:
            data = chunk.buffers()[2]
            if data is None or data.size == 0 or not _has_newline(data):
                continue
            n += np.asarray(pc.count_substring(chunk, "\n").fill_null(0).to_numpy(zero_copy_only=False),
                            dtype=np.int64)
    return n


def _has_newline(data: pa.Buffer) -> bool:
    """Whether a buffer holds a ``\\n``: the C library's ``memchr`` over the buffer in place (no copy of it)."""
    libc = _Iconv.libc()
    if libc is None:  # pragma: no cover - no C library through ctypes
        return memoryview(data).tobytes().find(b"\n") >= 0
    return bool(libc.memchr(ctypes.c_void_p(data.address), 10, ctypes.c_size_t(data.size)))


def _looks_like_rows(value: str, delimiter: str, width: int) -> bool:
    """Does a multi-line value hold whole CSV lines (quotes out of sync) rather than a text with line breaks?"""
    return any(line.count(delimiter) >= width - 1 for line in value.split("\n")[1:])


def _csv_batches(reader: SourceReader, csv_reader: Any, src: _CsvSource, malformed: list[MalformedRow],
                 batch_rows: int, transcoder: _Transcoder | _IconvStream | None, lines: _LineStream
                 ) -> Iterator[SourceBatch]:
    """Re-batch the parser's blocks to ``batch_rows`` rows and give every record its data-line number.

    Every line of the file is accounted for: rows (a quoted value may span lines), malformed records, empty lines
    and lines too long for a record. The parser reports each malformed record (with its record number) while
    parsing the block that holds it, so when a batch is cut, every malformed record up to its last row is known.
    A record spanning lines whose values hold whole CSV lines means the quoting went out of sync (a stray ``"``
    swallowed the lines after it): its lines are re-read one by one at the end, the good ones loaded and the
    others quarantined as ``quoting_out_of_sync`` with their raw text. Should the parser stop on such a record
    (longer than its block), every line from the first unsettled one on is read one by one instead.
    """
    p, header, width = src.path, src.header, len(src.header)
    next_record = 1  # the record number (the parser's numbering) of the next record not yet given out
    next_line = 1  # the data-line number of that record's first line
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    seen_bad = 0
    open_bad: list[MalformedRow] = []
    reread: list[tuple[int, int]] = []

    def emit(final: bool) -> Iterator[SourceBatch]:
        nonlocal next_record, next_line, pending, pending_rows, seen_bad, open_bad
        while pending_rows and (final or pending_rows >= batch_rows):
            open_bad.extend(malformed[seen_bad:])
            seen_bad = len(malformed)
            table = pa.Table.from_batches(pending)  # chunked, zero-copy
            take = min(batch_rows, table.num_rows)
            # one contiguous copy per batch, made here so the parser's blocks are freed at once
            out, rest = table.slice(0, take).combine_chunks(), table.slice(take)
            pending = rest.to_batches() if rest.num_rows else []
            pending_rows = rest.num_rows
            records = _good_row_numbers(next_record, take, sorted(m.row for m in open_bad))
            last = int(records[-1])
            here = [m for m in open_bad if m.row <= last]
            open_bad = [m for m in open_bad if m.row > last]
            yield _number(out, records, here, last)

    def _number(out: pa.Table, records: np.ndarray, here: list[MalformedRow], last: int) -> SourceBatch:
        nonlocal next_record, next_line
        base = next_record
        extra = _newlines_per_row(out) if lines.quotes else np.zeros(out.num_rows, np.int64)
        spans = np.ones(last - next_record + 1, dtype=np.int64)
        spans[records - next_record] += extra
        for m in here:
            spans[m.row - next_record] += m.text.count("\n")
        first = next_line + np.concatenate([[0], np.cumsum(spans)[:-1]])
        keep = np.ones(out.num_rows, dtype=bool)
        bad: list[MalformedRow] = []
        # empty lines come through as rows of nulls (ignore_empty_lines=False keeps the numbering exact)
        if all(c.null_count for c in out.columns):
            empty = np.ones(out.num_rows, dtype=bool)
            for c in out.columns:
                empty &= np.asarray(c.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            for i in np.flatnonzero(empty):
                line = int(first[records[i] - next_record])
                if line + src.header_lines in lines.long_lines:
                    bad.append(MalformedRow(line, f"一行超过 {MAX_LINE_BYTES:,} 字节 / a line longer than "
                                                  f"{MAX_LINE_BYTES:,} bytes",
                                            lines.long_lines.pop(line + src.header_lines), "field_too_long"))
                else:
                    reader.blank_lines += 1
            keep &= ~empty
        for i in np.flatnonzero(extra):  # rows spanning lines: a text with line breaks, or quotes out of sync
            row = out.slice(int(i), 1).to_pylist()[0]
            if any(isinstance(v, str) and "\n" in v and _looks_like_rows(v, src.delimiter, width)
                   for v in row.values()):
                start = int(first[records[i] - next_record])
                reread.append((start, start + int(extra[i])))
                keep[i] = False
        for m in here:
            start = int(first[m.row - next_record])
            span = m.text.count("\n")
            if span:  # a malformed record over several lines: quotes out of sync, re-read line by line
                reread.append((start, start + span))
            else:
                bad.append(MalformedRow(start, m.detail, m.text[:QUARANTINE_TEXT_CHARS], m.reason))
        reader.lines_accounted += int(spans.sum())
        next_line += int(spans.sum())
        next_record = last + 1
        nums = first[records - base]
        if not keep.all():
            out, nums = out.filter(pa.array(keep)), nums[keep]
        return SourceBatch(out, nums, bad)

    try:
        try:
            while True:
                try:
                    batch = csv_reader.read_next_batch()
                except StopIteration:
                    break
                if batch.num_rows:
                    pending.append(batch)
                    pending_rows += batch.num_rows
                yield from emit(False)
            yield from emit(True)
        except pa.ArrowInvalid as exc:
            lines.check()
            if "straddl" not in str(exc):
                raise
            # a record longer than the parser's block: a quote opened and never closed. Every line from the first
            # one not yet given out is read one by one.
            rest = list(src.lines(start=next_line))
            batch = src.split(iter(rest), "quoting_out_of_sync")
            reader.lines_accounted += len(rest)
            reader.lines_reread += len(rest)
            reader.blank_lines += len(rest) - batch.num_rows - len(batch.malformed)
            reader.notes.append(f"引号不配对：第 {next_line} 行起逐行读取 / quotes out of sync: lines from "
                                f"{next_line} on were read one by one")
            reader.data_lines = next_line - 1 + len(rest)
            yield batch
            return
        rest_bad = open_bad + malformed[seen_bad:]
        if rest_bad:  # malformed records after the last good row
            last = max(m.row for m in rest_bad)
            yield _number(pa.table({c: pa.array([], pa.string()) for c in header}), np.zeros(0, np.int64),
                          rest_bad, last)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        lines.check()
        if transcoder is not None:
            transcoder.check()
        raise _decode_error(p, src.encoding, exc) from exc
    lines.check()
    if transcoder is not None:
        transcoder.check()
    if reread:
        ranges = _merge_ranges(reread)
        n_lines = sum(b - a + 1 for a, b in ranges)
        batch = src.split(src.lines(ranges), "quoting_out_of_sync")
        reader.lines_reread += n_lines
        reader.blank_lines += n_lines - batch.num_rows - len(batch.malformed)
        reader.notes.append(f"引号不配对：{n_lines} 行逐行重读 / quotes out of sync: {n_lines} lines re-read one by "
                            "one")
        yield batch
    reader.data_lines = lines.total_lines - src.header_lines


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _good_row_numbers(start: int, n: int, bad: list[int]) -> np.ndarray:
    """The ``n`` record numbers from ``start`` upward that are not in the sorted list ``bad``."""
    if not bad or n == 0:
        return np.arange(start, start + n, dtype=np.int64)
    end = start + n - 1
    while True:
        k = sum(1 for b in bad if start <= b <= end)
        if start + n - 1 + k == end:
            break
        end = start + n - 1 + k
    nums = np.arange(start, end + 1, dtype=np.int64)
    return nums[~np.isin(nums, np.asarray(bad, dtype=np.int64))]


def _count_newlines(data: bytes) -> int:
    """``data.count(b"\\n")``, vectorised (NumPy compares the bytes in place: ~2.5× faster than ``bytes.count``)."""
    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == 10)) if data else 0


class _LineStream(io.RawIOBase):
    """The CSV parser's input, passed on in whole lines, with its own count of the lines (independent of the parser).

    * ``lines``: every line of the stream, counted by its ``\\n`` (a last line without one counts too);
    * a line longer than :data:`MAX_LINE_BYTES` is passed on as an empty line and remembered in ``long_lines``
      (physical line number → its first characters), so the reader quarantines it as ``field_too_long`` and the
      parser never meets it;
    * ``quotes``: whether a ``"`` has been seen — without one no value can span lines, and the reader skips
      looking for newlines inside values;
    * a truncated or damaged gzip stream becomes :class:`IngestError` naming the byte where it stops.
    """

    def __init__(self, src: IO[bytes], p: Path, counter: _CountingReader | None, compressed: bool) -> None:
        self._src = src
        self.path = p
        self._counter = counter
        self._compressed = compressed
        self._carry = b""
        self._skipping: bytearray | None = None  # the start of a too-long line being dropped
        self._skip_line = 0
        self.lines = 0  # newline characters passed on
        self.last_open = False  # the stream ended with a line lacking its newline
        self.quotes = False
        self.long_lines: dict[int, str] = {}
        self.error: IngestError | None = None

    def readable(self) -> bool:
        return True

    def _read_src(self, size: int) -> bytes:
        try:
            return self._src.read(size)
        except (EOFError, OSError, zlib_error) as exc:
            self.error = _damaged(self.path, self._counter.count if self._counter is not None else 0, exc)
            raise self.error from exc

    def read(self, size: int = -1) -> bytes:
        want = size if size and size > 0 else _CSV_BLOCK
        while True:
            block = self._read_src(want)
            if not block:
                out, self._carry = self._carry, b""
                if self._skipping is not None:  # the file ends inside a too-long line: it stays an empty line
                    self._end_long_line()
                    out = b"\n"
                if out:
                    out = self._pass(out)
                    self.last_open = not out.endswith(b"\n")
                return out
            if self._skipping is not None:
                cut = block.find(b"\n")
                if cut < 0:
                    self._keep(block)
                    continue
                self._keep(block[:cut])
                self._end_long_line()
                block = block[cut:]  # the newline ends the (now empty) line
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                data = self._carry + block if self._carry else block
                if len(data) > MAX_LINE_BYTES:
                    self._start_long_line(data)
                    self._carry = b""
                else:
                    self._carry = data
                continue
            # one copy of the block (the carried start of a line + the block's whole lines), made in one go: two
            # fresh multi-MiB copies per block (join, then cut) cost ~0.5 µs per row of a call export in page faults
            if self._carry:
                out = self._carry + memoryview(block)[:cut]
            else:
                out = block if cut == len(block) else block[:cut]
            self._carry = block[cut:]
            out = self._pass(out)  # counts the lines before the carried one
            if len(self._carry) > MAX_LINE_BYTES:
                self._start_long_line(self._carry)
                self._carry = b""
            return out

    def _pass(self, out: bytes) -> bytes:
        """Count the lines of ``out`` (whole lines), drop the too-long ones, note quotes."""
        half = MAX_LINE_BYTES // 2
        if len(out) > half:  # a line over MAX_LINE_BYTES holds a whole aligned window of half that without "\n"
            k = 0
            while k < len(out):
                if out.find(b"\n", k, k + half) < 0 and k + half <= len(out):
                    start = out.rfind(b"\n", 0, k) + 1
                    end = out.find(b"\n", k)
                    end = len(out) if end < 0 else end
                    if end - start > MAX_LINE_BYTES:
                        number = self.lines + out.count(b"\n", 0, start) + 1
                        self.long_lines[number] = out[start:start + 4 * QUARANTINE_TEXT_CHARS].decode(
                            "utf-8", "replace")[:QUARANTINE_TEXT_CHARS]
                        out = out[:start] + (out[end:] if end < len(out) else b"\n")  # an empty line stays
                        k = start + 1
                        continue
                k += half
        if not self.quotes and b'"' in out:
            self.quotes = True
        self.lines += _count_newlines(out)
        return out

    def _start_long_line(self, head: bytes) -> None:
        self._skipping = bytearray(head[:4 * QUARANTINE_TEXT_CHARS])
        self._skip_line = self.lines + 1

    def _keep(self, part: bytes) -> None:
        assert self._skipping is not None
        if len(self._skipping) < 4 * QUARANTINE_TEXT_CHARS:
            self._skipping += part[:4 * QUARANTINE_TEXT_CHARS - len(self._skipping)]

    def _end_long_line(self) -> None:
        assert self._skipping is not None
        self.long_lines[self._skip_line] = bytes(self._skipping).decode("utf-8", "replace")[:QUARANTINE_TEXT_CHARS]
        self._skipping = None

    def readinto(self, buffer: Any) -> int:  # pragma: no cover - pyarrow calls read()
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    @property
    def total_lines(self) -> int:
        """Lines seen in all (valid once the stream is exhausted)."""
        return self.lines + (1 if self.last_open else 0)

    def check(self) -> None:
        if self.error is not None:
            raise self.error


class _Iconv:
    """ctypes bindings of the C library's ``iconv_open``/``iconv``/``iconv_close`` (None where unavailable)."""

    lib: Any = None
    _libc: Any = None

    @classmethod
    def libc(cls) -> Any:
        """The C library with ``memchr`` declared (None where ctypes cannot load it)."""
        if cls._libc is None:
            try:
                lib = ctypes.CDLL(None)
                lib.memchr.restype = ctypes.c_void_p
                lib.memchr.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
                cls._libc = lib
            except (OSError, AttributeError):  # pragma: no cover
                cls._libc = False
        return cls._libc or None

    @classmethod
    def load(cls) -> Any:
        if cls.lib is None:
            try:
                lib = ctypes.CDLL(None, use_errno=True)
                lib.iconv_open.restype = ctypes.c_void_p
                lib.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
                lib.iconv.restype = ctypes.c_size_t
                lib.iconv.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                      ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p),
                                      ctypes.POINTER(ctypes.c_size_t)]
                lib.iconv_close.argtypes = [ctypes.c_void_p]
                cls.lib = lib
            except (OSError, AttributeError):  # pragma: no cover - a C library without iconv
                cls.lib = False
        return cls.lib or None


class _IconvStream(io.RawIOBase):
    """A read-only UTF-8 stream transcoded block by block from ``raw`` with ``iconv(3)`` (see the module docstring).

    A multibyte character cut by a block boundary is carried over to the next block; an invalid sequence stops the
    stream with :class:`EncodingError` naming its byte offset.
    """

    BLOCK = 4 << 20
    #: double-byte encodings converted by the C kernel's table (made by iconv, so the same output) up to the first
    #: code it lacks (a four-byte GB18030 sequence, an invalid byte), from where iconv takes over: ~2.5× faster
    DOUBLE_BYTE = frozenset({"GB18030", "GBK", "CP936", "GB2312", "EUC-CN"})
    _tables: ClassVar[dict[str, bytes | None]] = {}

    def __init__(self, lib: Any, cd: int, raw: IO[bytes], encoding: str, p: Path, *,
                 table: bytes | None = None) -> None:
        self._lib = lib
        self._cd: int | None = cd
        self._raw = raw
        self.encoding = encoding
        self.path = p
        self._carry = b""
        self._consumed = 0  # source bytes converted so far (for error messages)
        self._eof = False
        self._pending = bytearray()
        self._out = bytearray(self.BLOCK * 2 + 64)
        self._table = table

    @classmethod
    def open(cls, raw: IO[bytes], encoding: str, p: Path, *, native: bool | None = None) -> _IconvStream | None:
        lib = _Iconv.load()
        if lib is None:
            return None
        name = encoding.upper().replace("_", "-")
        cd = lib.iconv_open(b"UTF-8", name.encode("ascii"))
        if cd is None or cd == ctypes.c_void_p(-1).value:
            return None
        mod = kernels.native(native)
        table = cls._table_for(mod, name) if mod is not None and name in cls.DOUBLE_BYTE else None
        return cls(lib, cd, raw, encoding, p, table=table)

    @classmethod
    def _table_for(cls, mod: Any, name: str) -> bytes | None:
        if name not in cls._tables:
            cls._tables[name] = mod.double_byte_table(name.encode("ascii"))
        return cls._tables[name]

    def readable(self) -> bool:
        return True

    def _fail(self, offset: int, what: str) -> EncodingError:
        return EncodingError(f"{self.path.name}: 文件不是有效的 {self.encoding} 编码 / not valid {self.encoding}: "
                             f"{what} at byte {offset}; try {_other_encodings(self.encoding)}")

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of UTF-8 (all the rest when ``size`` < 0); ``b""`` at the end."""
        while (size < 0 or len(self._pending) < size) and not (self._eof and not self._carry):
            block = self._raw.read(self.BLOCK) if not self._eof else b""
            if not block:
                self._eof = True
            data = self._carry + block if self._carry else block
            self._pending += self._convert(data, final=self._eof)
        if size < 0 or size >= len(self._pending):
            out, self._pending = bytes(self._pending), bytearray()
        else:
            out = bytes(memoryview(self._pending)[:size])
            del self._pending[:size]
        return out

    def _convert(self, data: bytes, *, final: bool) -> bytes:
        if self._table is None or not data:
            return self._iconv(data, final=final)
        mod = kernels.native()
        if mod is None:  # switched off since the stream was opened
            return self._iconv(data, final=final)
        fast, k = mod.double_byte_decode(self._table, data)
        if k == len(data):
            self._carry = b""
            self._consumed += k
            return bytes(fast)
        self._consumed += k
        return bytes(fast) + self._iconv(data[k:], final=final)

    def _iconv(self, data: bytes, *, final: bool) -> bytes:
        lib, n = self._lib, len(data)
        if len(self._out) < 2 * n + 64:
            self._out = bytearray(2 * n + 64)
        src = (ctypes.c_char * n).from_buffer_copy(data) if n else None
        dst = (ctypes.c_char * len(self._out)).from_buffer(self._out)
        in_ptr = ctypes.c_void_p(ctypes.addressof(src) if src is not None else None)
        in_left = ctypes.c_size_t(n)
        out_ptr = ctypes.c_void_p(ctypes.addressof(dst))
        out_left = ctypes.c_size_t(len(self._out))
        res = lib.iconv(self._cd, ctypes.byref(in_ptr), ctypes.byref(in_left), ctypes.byref(out_ptr),
                        ctypes.byref(out_left))
        err = ctypes.get_errno() if res == ctypes.c_size_t(-1).value else 0
        done_in = n - in_left.value
        produced = len(self._out) - out_left.value
        del dst
        result = bytes(memoryview(self._out)[:produced])
        if err == errno.EILSEQ:
            raise self._fail(self._consumed + done_in, "invalid multibyte sequence")
        if err == errno.EINVAL and final:
            raise self._fail(self._consumed + done_in, "incomplete multibyte sequence at the end of the file")
        if err not in (0, errno.EINVAL):  # pragma: no cover - E2BIG cannot happen with a 2× output buffer
            raise IngestError(f"{self.path.name}: iconv failed ({errno.errorcode.get(err, err)})")
        self._carry = data[done_in:]
        self._consumed += done_in
        return result

    def check(self) -> None:
        """Nothing to check afterwards: errors are raised while reading."""

    def close(self) -> None:
        if self._cd is not None:
            self._lib.iconv_close(self._cd)
            self._cd = None
        super().close()


class _Transcoder:
    """``iconv -f ENC -t UTF-8`` in a child process, fed from a thread; its stdout is the UTF-8 stream."""

    def __init__(self, raw: IO[bytes], encoding: str, p: Path) -> None:
        self.encoding = encoding
        self.path = p
        self.proc = subprocess.Popen(
            ["iconv", "-f", encoding.upper().replace("_", "-"), "-t", "UTF-8"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdout = self.proc.stdout
        self._raw = raw
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._feed, name="anju-iconv-feed", daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            while True:
                chunk = self._raw.read(1 << 20)
                if not chunk:
                    break
                stdin.write(chunk)
        except BrokenPipeError:
            pass  # iconv stopped (bad input or the reader was closed); check() reports it
        except BaseException as exc:  # pragma: no cover - I/O errors on the source file
            self._error = exc
        finally:
            with contextlib.suppress(Exception):
                stdin.close()

    def check(self) -> None:
        """Raise :class:`EncodingError` if iconv rejected the input."""
        self._thread.join()
        rc = self.proc.wait()
        if self._error is not None:
            raise IngestError(f"{self.path.name}: error while reading: {self._error}")
        if rc != 0:
            err = (self.proc.stderr.read() if self.proc.stderr else b"").decode("utf-8", "replace").strip()
            raise EncodingError(f"{self.path.name}: not valid {self.encoding}: {err or 'iconv failed'}; "
                                f"try {_other_encodings(self.encoding)}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=5)
        with contextlib.suppress(Exception):
            self.stdout.close()
        with contextlib.suppress(Exception):
            if self.proc.stderr:
                self.proc.stderr.close()


# ---------------------------------------------------------------------------------------------------- Excel
def _cell_text(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, _dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return str(v)
    return str(v)


def _open_excel(p: Path, sheet: str | int | None, skip_rows: int, null_values: set[str],
                batch_rows: int) -> SourceReader:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(p))
    except Exception as exc:
        raise IngestError(f"{p.name}: cannot open the workbook: {exc}") from exc
    names = wb.sheet_names
    if sheet is None:
        sheet = 0
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise IngestError(f"{p.name}: sheet index {sheet} out of range; sheets: {names}")
        ws = wb.get_sheet_by_index(sheet)
    else:
        if sheet not in names:
            raise IngestError(f"{p.name}: no sheet named {sheet!r}; sheets: {names}")
        ws = wb.get_sheet_by_name(sheet)
    rows = iter(ws.iter_rows())
    try:
        for _ in range(skip_rows):
            next(rows)
        header = [(_cell_text(v) or "").strip() for v in next(rows)]
    except StopIteration:
        raise IngestError(f"{p.name}: the sheet is empty") from None
    while header and not header[-1]:
        header.pop()
    header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    _refuse_duplicates(p, header)
    reader = SourceReader(p, "excel", None, None, header)
    # vertically merged cells hold their value in the top cell only: fill it down (absolute sheet coordinates)
    r0, c0 = ws.start if ws.start is not None else (0, 0)
    fill: dict[tuple[int, int], tuple[int, int]] = {}
    for (top, left), (bottom, right) in ws.merged_cell_ranges or []:
        for c in range(left, right + 1):
            for r in range(top + 1, bottom + 1):
                fill[(r - r0, c - c0)] = (top - r0, c - c0)
    reader.data_lines = max(ws.height - skip_rows - 1, 0)  # the sheet's own dimension, not the rows iterated
    reader._batches = _excel_batches(reader, rows, header, null_values, min(batch_rows, 100_000), fill,
                                     skip_rows + 1)
    return reader


def _excel_batches(reader: SourceReader, rows: Iterator[list[Any]], header: list[str], null_values: set[str],
                   batch_rows: int, fill: dict[tuple[int, int], tuple[int, int]], first_row: int
                   ) -> Iterator[SourceBatch]:
    width = len(header)
    row_no = 0
    tops = {src for src in fill.values()}
    top_values: dict[tuple[int, int], str | None] = {}
    filled = 0
    while True:
        cols: list[list[str | None]] = [[] for _ in range(width)]
        nums: list[int] = []
        n = 0
        for r in rows:
            row_no += 1
            at = first_row + row_no - 1  # the row's index in the sheet
            vals = [_cell_text(r[i]) if i < len(r) else None for i in range(width)]
            if fill or tops:
                for i in range(width):
                    if (at, i) in tops:
                        top_values[(at, i)] = vals[i]
                    src = fill.get((at, i))
                    if src is not None and vals[i] is None and top_values.get(src) is not None:
                        vals[i] = top_values[src]
                        filled += 1
            reader.lines_accounted += 1
            if all(v is None or v.strip() == "" for v in vals):
                reader.blank_lines += 1
                continue
            for i in range(width):
                t = vals[i]
                cols[i].append(None if t is None or t in null_values else t)
            nums.append(row_no)
            n += 1
            if n >= batch_rows:
                break
        else:
            if filled:
                reader.notes.append(f"合并单元格已向下填充 {filled} 个 / {filled} cells of vertically merged "
                                    "ranges filled down")
            if n:
                yield SourceBatch(_string_table(header, cols), np.asarray(nums, dtype=np.int64))
            return
        yield SourceBatch(_string_table(header, cols), np.asarray(nums, dtype=np.int64))


def _string_table(header: list[str], cols: list[list[str | None]]) -> pa.Table:
    return pa.table({h: pa.array(c, pa.string()) for h, c in zip(header, cols, strict=True)})


# ---------------------------------------------------------------------------------------------------- Parquet
def _to_string(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    t = col.type
    if pa.types.is_string(t):
        return col
    if pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return pc.cast(col, pa.string())
    if pa.types.is_floating(t):
        # integral floats print without ".0" (phone numbers and ids stored as doubles)
        arr = col
        integral = pc.and_(pc.is_finite(arr), pc.equal(pc.floor(arr), arr))
        as_int = pc.cast(pc.if_else(integral, arr, 0.0), pa.int64(), safe=False)
        return pc.if_else(integral, pc.cast(as_int, pa.string()), pc.cast(arr, pa.string()))
    if pa.types.is_timestamp(t):  # whole seconds: sub-second precision means nothing for a 110 call
        if t.tz is not None:
            col = pc.cast(pc.cast(col, pa.timestamp(t.unit, "UTC")), pa.timestamp("s", "UTC"), safe=False)
            return pc.binary_join_element_wise(pc.strftime(col, format="%Y-%m-%dT%H:%M:%S"), "+0000", "")
        return pc.strftime(pc.cast(col, pa.timestamp("s"), safe=False), format="%Y-%m-%d %H:%M:%S")
    return pc.cast(col, pa.string())


def _open_parquet(p: Path, batch_rows: int) -> SourceReader:
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:
        raise IngestError(f"{p.name}: not a readable Parquet file: {exc}") from exc
    header = pf.schema_arrow.names
    _refuse_duplicates(p, header)
    reader = SourceReader(p, "parquet", None, None, header)
    reader.data_lines = pf.metadata.num_rows
    # nested and binary columns cannot be read as text: unmapped they are ignored (nulls), mapped a clear error
    reader.unreadable = {f.name: str(f.type) for f in pf.schema_arrow
                         if pa.types.is_nested(f.type) or pa.types.is_binary(f.type)
                         or pa.types.is_large_binary(f.type) or pa.types.is_fixed_size_binary(f.type)}
    fh = p.open("rb", buffering=0)
    counter = _CountingReader(fh)
    reader._counter = counter
    reader._closers.append(counter.close)

    def batches() -> Iterator[SourceBatch]:
        start = 1
        for i, rb in enumerate(pf.iter_batches(batch_size=batch_rows)):
            table = pa.table({name: pa.nulls(rb.num_rows, pa.string()) if name in reader.unreadable
                              else _to_string(rb.column(j)) for j, name in enumerate(header)})
            reader.lines_accounted += rb.num_rows
            counter.count = int(p.stat().st_size * min(1.0, (i + 1) * batch_rows / max(pf.metadata.num_rows, 1)))
            yield SourceBatch(table, np.arange(start, start + rb.num_rows, dtype=np.int64))
            start += rb.num_rows

    reader._batches = batches()
    return reader
