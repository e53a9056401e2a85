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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from anju.errors import DataNotFoundError, EncodingError, IngestError

_native: Any
try:  # the C kernel of anju.ingest.pii, built with the package; optional
    from anju.ingest import _native  # type: ignore[attr-defined,no-redef]
except ImportError:  # pragma: no cover - built without a C compiler
    _native = None
_utf8: Any
try:  # UTF-8 validation in C (AVX2); optional: pyarrow's CSV converter checks otherwise
    from anju.ingest import _utf8  # type: ignore[attr-defined,no-redef]
except ImportError:  # pragma: no cover - built without a C compiler
    _utf8 = None

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
_SAMPLE_BYTES = 4 << 20
# The CSV parser's block: 2 MiB blocks stay in the core's caches while they are parsed and converted; 8 MiB blocks
# cost ~0.1-0.2 µs more per row of a call export (docs/performance.md).
_CSV_BLOCK = 2 << 20
_UTF8_NAMES = {"utf8", "utf-8", "utf_8", "u8"}


@dataclass(frozen=True)
class MalformedRow:
    """A CSV record whose field count differs from the header's."""

    row: int
    detail: str
    text: str


@dataclass
class SourceBatch:
    """One batch of source rows: string columns named as in the file, plus their 1-based row numbers."""

    table: pa.Table
    row_numbers: np.ndarray
    malformed: list[MalformedRow] = field(default_factory=list)

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
    """Guess a CSV's encoding from its first bytes: ``utf-8-sig`` (BOM), ``utf-8`` or ``gb18030``.

    Examples
    --------
    >>> detect_encoding("报警时间".encode("gbk")), detect_encoding("报警时间".encode()), detect_encoding(b"\\xef\\xbb\\xbfa")
    ('gb18030', 'utf-8', 'utf-8-sig')
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
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
    finally:
        raw.close()
        counter.close()


def _header(sample: bytes, encoding: str, delimiter: str, skip_rows: int, p: Path) -> list[str]:
    import csv

    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{p.name}: cannot decode the start of the file as {encoding} ({exc.reason} at byte {exc.start}); "
            "try --encoding gb18030 (GBK exports) or --encoding utf-8"
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
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise IngestError(f"{p.name}: duplicate column names in the header: {dupes}; rename them in the file")
    return header


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
    stream: Any = raw
    transcoder: _Transcoder | _IconvStream | _Utf8Checked | None = None
    read_encoding = "utf8"
    check_utf8 = True
    if enc in {"utf-8", "utf-8-sig"} and _utf8 is not None:
        transcoder = stream = _Utf8Checked(raw, p)  # validated here, ~10x faster than in the CSV converter
        check_utf8 = False
    elif enc not in {"utf-8", "utf-8-sig"}:
        iconv_stream = _IconvStream.open(raw, enc, p)
        if iconv_stream is not None:
            transcoder = stream = iconv_stream
            reader._closers.append(iconv_stream.close)
            check_utf8 = False  # iconv(3) writes valid UTF-8 or stops with an error
        elif shutil.which("iconv"):
            transcoder = _Transcoder(raw, enc, p)
            stream = transcoder.stdout
            reader._closers.append(transcoder.close)
        else:
            read_encoding = enc
    malformed: list[MalformedRow] = []

    def on_invalid(row: Any) -> str:
        number = row.number - 1 - skip_rows if row.number is not None else -1
        malformed.append(MalformedRow(
            number, f"期望 {row.expected_columns} 列，实际 {row.actual_columns} 列 / expected "
                    f"{row.expected_columns} fields, got {row.actual_columns}", row.text))
        return "skip"

    try:
        csv_reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(use_threads=False, block_size=_CSV_BLOCK, skip_rows=skip_rows,
                                          encoding=read_encoding),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                            invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                                null_values=null_values, strings_can_be_null=True,
                                                quoted_strings_can_be_null=True, check_utf8=check_utf8),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        reader.close()
        raise _decode_error(p, enc, exc) from exc
    reader._batches = _csv_batches(csv_reader, header, malformed, batch_rows, transcoder, p, enc)
    return reader


def _decode_error(p: Path, enc: str, exc: BaseException) -> AnjuErrorLike:
    msg = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "utf8" in msg.lower() or "utf-8" in msg.lower() \
            or "decode" in msg.lower():
        alt = "gb18030" if enc.startswith("utf") else "utf-8"
        return EncodingError(f"{p.name}: the file is not valid {enc} ({msg.splitlines()[0]}); "
                             f"try --encoding {alt}")
    return IngestError(f"{p.name}: cannot parse the CSV: {msg.splitlines()[0]}")


AnjuErrorLike = EncodingError | IngestError


def _csv_batches(csv_reader: Any, header: list[str], malformed: list[MalformedRow], batch_rows: int,
                 transcoder: _Transcoder | _IconvStream | _Utf8Checked | None, p: Path, enc: str
                 ) -> Iterator[SourceBatch]:
    """Re-batch the parser's blocks to ``batch_rows`` rows and number them, skipping the malformed rows' numbers.

    The parser reports each malformed row (with its record number) while parsing the block that holds it, so when a
    batch is cut, every malformed row up to the batch's last row is already known.
    """
    next_row = 1  # the next data-row number not yet given out
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    seen_bad = 0  # how many entries of `malformed` have been moved to `open_bad`
    open_bad: list[MalformedRow] = []

    def emit(final: bool) -> Iterator[SourceBatch]:
        nonlocal next_row, pending, pending_rows, seen_bad, open_bad
        while pending_rows and (final or pending_rows >= batch_rows):
            open_bad.extend(malformed[seen_bad:])
            seen_bad = len(malformed)
            table = pa.Table.from_batches(pending)  # chunked, zero-copy
            take = min(batch_rows, table.num_rows)
            # one contiguous copy per batch, made here so the parser's blocks are freed at once (downstream
            # stages would otherwise hold both the blocks and their copy)
            out, rest = table.slice(0, take).combine_chunks(), table.slice(take)
            nums = _good_row_numbers(next_row, take, sorted(m.row for m in open_bad))
            last = int(nums[-1])
            here = [m for m in open_bad if m.row <= last]
            open_bad = [m for m in open_bad if m.row > last]
            next_row = last + 1
            yield SourceBatch(out, nums, here)
            pending = rest.to_batches() if rest.num_rows else []
            pending_rows = rest.num_rows

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
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if transcoder is not None:
            transcoder.check()
        raise _decode_error(p, enc, exc) from exc
    if transcoder is not None:
        transcoder.check()
    rest_bad = open_bad + malformed[seen_bad:]
    if rest_bad:  # malformed rows after the last good row
        yield SourceBatch(pa.table({c: pa.array([], pa.string()) for c in header}),
                          np.zeros(0, np.int64), rest_bad)


def _good_row_numbers(start: int, n: int, bad: list[int]) -> np.ndarray:
    """The ``n`` data-row numbers from ``start`` upward that are not in the sorted list ``bad``."""
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


class _Utf8Checked(io.RawIOBase):
    """A UTF-8 byte stream passed through unchanged, validated block by block by the C kernel ``_utf8`` (AVX2,
    ~19 GB/s here; pyarrow's converter validated at ~1.5 GB/s, ~0.15 µs per row of a CJK call export).

    The first invalid byte stops the import with its offset, like the GB18030 path; a character cut by a block
    boundary is carried over to the next block; the stream may not end inside a character.
    """

    def __init__(self, raw: IO[bytes], p: Path) -> None:
        self._raw = raw
        self.path = p
        self._carry = b""
        self._pos = 0  # bytes passed through so far
        self.error: EncodingError | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if self.error is not None:
            raise self.error
        if not data:
            if self._carry:
                self._fail(self._pos - len(self._carry), "incomplete character (the file ends inside it)")
            return data
        err, tail = _utf8.check(self._carry, data)
        if err is not None:
            self._fail(self._pos + err, "invalid byte sequence")
        self._carry = self._carry + data if self._carry and tail == len(data) else data[len(data) - tail:]
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:  # pragma: no cover - pyarrow calls read()
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def _fail(self, offset: int, what: str) -> None:
        self.error = EncodingError(f"{self.path.name}: not valid utf-8: {what} at byte {offset}; "
                                   f"try --encoding gb18030")
        raise self.error

    def check(self) -> None:
        """Raise the validation error, if any (pyarrow may wrap an exception raised inside its reads)."""
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Iconv:
    """ctypes bindings of the C library's ``iconv_open``/``iconv``/``iconv_close`` (None where unavailable)."""

    lib: Any = None

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
        use = _native is not None if native is None else bool(native and _native is not None)
        table = cls._table_for(name) if use and name in cls.DOUBLE_BYTE else None
        return cls(lib, cd, raw, encoding, p, table=table)

    @classmethod
    def _table_for(cls, name: str) -> bytes | None:
        if name not in cls._tables:
            cls._tables[name] = _native.double_byte_table(name.encode("ascii"))
        return cls._tables[name]

    def readable(self) -> bool:
        return True

    def _fail(self, offset: int, what: str) -> EncodingError:
        alt = "utf-8" if self.encoding != "utf-8" else "gb18030"
        return EncodingError(f"{self.path.name}: not valid {self.encoding}: {what} at byte {offset}; "
                             f"try --encoding {alt}")

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
        fast, k = _native.double_byte_decode(self._table, data)
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
            alt = "utf-8" if self.encoding != "utf-8" else "gb18030"
            raise EncodingError(f"{self.path.name}: not valid {self.encoding}: {err or 'iconv failed'}; "
                                f"try --encoding {alt}")

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
    reader = SourceReader(p, "excel", None, None, header)
    reader._batches = _excel_batches(rows, header, null_values, min(batch_rows, 100_000))
    return reader


def _excel_batches(rows: Iterator[list[Any]], header: list[str], null_values: set[str],
                   batch_rows: int) -> Iterator[SourceBatch]:
    width = len(header)
    row_no = 0
    while True:
        cols: list[list[str | None]] = [[] for _ in range(width)]
        start = row_no + 1
        n = 0
        for r in rows:
            row_no += 1
            for i in range(width):
                t = _cell_text(r[i]) if i < len(r) else None
                cols[i].append(None if t is None or t in null_values else t)
            n += 1
            if n >= batch_rows:
                break
        if n == 0:
            return
        table = pa.table({h: pa.array(c, pa.string()) for h, c in zip(header, cols, strict=True)})
        yield SourceBatch(table, np.arange(start, start + n, dtype=np.int64))
        if n < batch_rows:
            return


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
    reader = SourceReader(p, "parquet", None, None, header)
    fh = p.open("rb", buffering=0)
    counter = _CountingReader(fh)
    reader._counter = counter
    reader._closers.append(counter.close)

    def batches() -> Iterator[SourceBatch]:
        start = 1
        for i, rb in enumerate(pf.iter_batches(batch_size=batch_rows)):
            table = pa.table({name: _to_string(rb.column(j)) for j, name in enumerate(header)})
            counter.count = int(p.stat().st_size * min(1.0, (i + 1) * batch_rows / max(pf.metadata.num_rows, 1)))
            yield SourceBatch(table, np.arange(start, start + rb.num_rows, dtype=np.int64))
            start += rb.num_rows

    reader._batches = batches()
    return reader
