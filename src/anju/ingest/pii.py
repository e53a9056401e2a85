"""Personal data at ingest: keyed hashes and masked forms of caller names and phone numbers, masked free text.

Caller names and phone numbers never reach the lake in clear. Each is normalised (names: whitespace removed;
phones: digits only, a leading 86/0086 country code dropped) and stored twice:

* a **keyed hash**: HMAC-SHA256 (RFC 2104) with the deployment secret (:func:`anju.config.deployment_secret`),
  its 32-byte digest (``FIXED_LEN_BYTE_ARRAY(32)`` in Parquet, ``BLOB`` in DuckDB; ``hex(caller_hash)`` shows
  it as the usual 64 hex digits). The same person or number gives the same hash within a deployment, so repeat callers can be counted, but
  without the secret nobody can test a guessed number against it (a plain hash of an 11-digit number is reversed by
  brute force in minutes).
* a **masked** form for display: ``138****5678``, ``张*``, ``欧阳**``.

Free text (简要案情) has mobile, landline and ID-card numbers masked in place.

The HMAC (:class:`Hasher`) runs in a small C kernel built with the package (see :mod:`anju.ingest.kernels`: the
key's pad blocks are compressed once, then two SHA-256 compressions per value, two values at a time with the CPU's
SHA instructions when present), over the Arrow buffers and off Python's interpreter lock — about 0.06 µs per value
(0.09 one value at a time: a chain of SHA rounds waits on itself, and a second value fills the gaps). Where the kernel could not be
built (no C compiler at install time) the same HMAC runs in DuckDB SQL over each batch's distinct values (about
1.5 µs per value). ``tests/ingest/test_pii.py`` checks both against Python's :mod:`hmac` for any key and text.
"""

from __future__ import annotations

import functools
import hashlib
import threading

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anju.ingest import kernels
from anju.lake.duck import quiet_duckdb
from anju.text.mask import NAME_CHAR, NAME_KEYWORDS, mask_array, wide_digits

__all__ = [
    "COMPOUND_SURNAMES",
    "Hasher",
    "mask_name",
    "mask_phone",
    "mask_text",
    "name_forms",
    "normalize_name",
    "normalize_phone",
    "phone_forms",
]

#: Two-character (复姓) surnames kept whole in the masked form (欧阳** rather than 欧***).
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕",
    "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "赫连", "澹台", "公冶", "宗政", "濮阳",
    "太史", "申屠", "钟离", "仲孙", "单于", "拓跋", "完颜", "乐正", "东郭", "司空", "左丘", "第五",
)

_NULL = pa.scalar(None, pa.string())

def _empty_to_null(values: pa.Array) -> pa.Array:
    lengths = pc.binary_length(values)
    if len(values) == values.null_count or pc.min(lengths).as_py() > 0:  # nothing empty: no copy
        return values
    return pc.if_else(pc.equal(lengths, 0), _NULL, values)


def _all_ascii_digits(values: pa.Array, width: int) -> bool:
    """Whether every value is present and exactly ``width`` ASCII digits (checked on the buffers, no regex)."""
    if values.null_count or len(values) == 0:
        return False
    lengths = pc.min_max(pc.binary_length(values)).as_py()
    if lengths["min"] != width or lengths["max"] != width:
        return False
    offsets, data = _string_buffers(values)
    body = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]]
    return bool(((body - np.uint8(48)) < 10).all())


def normalize_phone(values: pa.Array) -> pa.Array:
    """Digits only, without a leading ``86``/``0086`` country code; null when no digits remain.

    >>> normalize_phone(pa.array(["+86 138-1234-5678", "021 6438 1234", "无", None])).to_pylist()
    ['13812345678', '02164381234', None, None]
    """
    values = values.cast(pa.string())
    if _all_ascii_digits(values, 11):  # the common case: already 11 bare digits
        return values
    plain = pc.match_substring_regex(values, r"^\d{11}$").fill_null(True)  # RE2's \d: ASCII digits
    if pc.all(plain).as_py():  # also common: 11 bare digits or missing
        return _empty_to_null(values)
    digits = pc.replace_substring_regex(values, r"\D+", "")
    digits = pc.replace_substring_regex(digits, r"^(?:0086|86)(1\d{10})$", r"\1")
    return _empty_to_null(digits)


def mask_phone(normalized: pa.Array) -> pa.Array:
    """``138****5678``: first 3 and last 4 digits kept (numbers of 8+ digits); shorter ones keep the last 2.

    >>> mask_phone(pa.array(["13812345678", "02164381234", "110", None])).to_pylist()
    ['138****5678', '021****1234', '*10', None]
    """
    normalized = _flat(normalized)
    n = np.asarray(pc.utf8_length(normalized).fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    long_ = n >= 8
    start = np.where(long_, 3, 0)
    stop = np.where(long_, -4, -2)
    offsets, data = _string_buffers(normalized)
    ascii_ = len(data) == 0 or bool(np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]].max(initial=0) < 0x80)
    return _replace_slices(normalized, start, stop, np.maximum(n - np.where(long_, 7, 2), 0), ascii_=ascii_)


def _replace_slices(values: pa.Array, start: np.ndarray, stop: np.ndarray, stars: np.ndarray, *,
                    ascii_: bool = False) -> pa.Array:
    """Per row, the characters ``start:stop`` replaced by ``stars`` asterisks (Python slice rules; null stays null).
    ``ascii_``: every value is ASCII, so characters are bytes (Arrow's byte-wise kernel, twice as fast).

    Arrow's ``utf8_replace_slice`` takes one slice and one replacement per call, so rows are grouped by
    ``(start, stop, stars)`` — a handful of groups (name and number lengths) — and each group is done in one call
    on a contiguous run of a permuted copy (one group, the usual case for phone numbers: no permutation at all).
    """
    if len(values) == 0:
        return values
    code = np.zeros(len(values), np.int64)
    levels: list[np.ndarray] = []
    for a in (start, stop, stars):
        uniq, inv = _small_codes(np.asarray(a, np.int64))
        code = code * len(uniq) + inv
        levels.append(uniq)
    used, inverse = _small_codes(code)
    n_groups = len(used)

    def one(arr: pa.Array, g: int) -> pa.Array:
        c = int(used[g])
        k = int(levels[2][c % len(levels[2])])
        c //= len(levels[2])
        b = int(levels[1][c % len(levels[1])])
        a = int(levels[0][c // len(levels[1])])
        kernel = pc.binary_replace_slice if ascii_ else pc.utf8_replace_slice
        return kernel(arr, start=a, stop=b, replacement="*" * k)

    if n_groups == 1:
        return one(values, 0)
    order = np.argsort(inverse.astype(np.int16) if n_groups < 1 << 15 else inverse, kind="stable")  # radix sort
    ordered = values.take(pa.array(order))
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=n_groups))])
    parts = [one(ordered.slice(int(bounds[g]), int(bounds[g + 1] - bounds[g])), g) for g in range(n_groups)]
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return pa.concat_arrays(parts).take(pa.array(back))


def _small_codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, return_inverse=True)`` for arrays of a few distinct small integers, by counting."""
    lo, hi = int(a.min()), int(a.max())
    if lo == hi:
        return np.array([lo], np.int64), np.zeros(a.size, np.int64)
    if hi - lo > 1 << 16:
        uniq, inv = np.unique(a, return_inverse=True)
        return uniq, inv.reshape(-1)
    present = np.bincount(a - lo, minlength=hi - lo + 1) > 0
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, rank[a - lo]


def normalize_name(values: pa.Array) -> pa.Array:
    """Whitespace removed; null when empty.

    >>> normalize_name(pa.array([" 张 三 ", "", None])).to_pylist()
    ['张三', None, None]
    """
    values = values.cast(pa.string())
    if not _has_ascii_space(values):  # RE2's \s is ASCII whitespace: a byte look-up instead of a regex pass
        return _empty_to_null(values)
    return _empty_to_null(pc.replace_substring_regex(values, r"\s+", ""))


#: RE2's ``\s``: tab, newline, form feed, carriage return, space
_SPACE_BYTES = np.zeros(256, dtype=bool)
_SPACE_BYTES[[9, 10, 12, 13, 32]] = True


def _has_ascii_space(values: pa.Array) -> bool:
    r"""Whether the array's text bytes hold a byte of RE2's ``\s`` (a superset when null slots hold bytes)."""
    offsets, data = _string_buffers(values)
    if len(values) == 0 or len(data) == 0:
        return False
    body = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]]
    return bool(_SPACE_BYTES[body].any())


#: bytes of a UTF-8 character by its first byte (a stray continuation byte counts as one)
_UTF8_WIDTH = np.ones(256, dtype=np.int64)
_UTF8_WIDTH[0xC0:0xE0] = 2
_UTF8_WIDTH[0xE0:0xF0] = 3
_UTF8_WIDTH[0xF0:] = 4
#: the compound surnames as the 48-bit integers of their six UTF-8 bytes (all are two three-byte characters)
_COMPOUND_CODES = np.array(sorted(int.from_bytes(s.encode(), "big") for s in COMPOUND_SURNAMES), dtype=np.int64)


def mask_name(normalized: pa.Array) -> pa.Array:
    """Keep the surname (one character, or two for a 复姓), star the rest; a one-character name becomes ``*``.

    Built on the Arrow buffers with NumPy (the kept characters' bytes gathered, the rest stars): one pass, where
    Arrow's slice-replace kernel needed a call per name length and a permutation of the rows.

    >>> mask_name(pa.array(["张三", "张三丰", "欧阳修", "欧阳小明", "李", None])).to_pylist()
    ['张*', '张**', '欧阳*', '欧阳**', '*', None]
    """
    normalized = _flat(normalized)
    rows = len(normalized)
    if rows == 0 or normalized.null_count == rows:
        return normalized
    n = np.asarray(pc.utf8_length(normalized).fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    valid = np.asarray(normalized.is_valid().to_numpy(zero_copy_only=False), dtype=bool) \
        if normalized.null_count else np.ones(rows, dtype=bool)
    offsets, data = _string_buffers(normalized)
    starts = offsets[:-1].astype(np.int64)
    buf = np.frombuffer(data, np.uint8) if len(data) else np.zeros(1, np.uint8)
    last = buf.size - 1
    keep = np.where(n <= 1, 0, 1)
    first = np.where(keep >= 1, _UTF8_WIDTH[buf[np.minimum(starts, last)]], 0)
    maybe = np.flatnonzero((n > 2) & (first == 3))
    if maybe.size:  # a compound surname: two three-byte characters that form one of COMPOUND_SURNAMES
        at = starts[maybe]
        code = np.zeros(maybe.size, np.int64)
        for j in range(6):  # (a byte past the buffer's end cannot complete a compound: clipped)
            code = (code << 8) | buf[np.minimum(at + j, last)]
        keep[maybe[np.isin(code, _COMPOUND_CODES)]] = 2
    prefix = np.where(keep == 2, 6, first) * valid
    stars = np.maximum(n - keep, 1) * valid
    out_offsets = np.zeros(rows + 1, np.int64)
    np.cumsum(prefix + stars, out=out_offsets[1:])
    out = np.full(int(out_offsets[-1]), 42, np.uint8)  # "*"
    rows_j = np.flatnonzero(prefix)
    for j in range(6):  # the kept characters' bytes (at most two three-byte characters), byte by byte
        if j:
            rows_j = rows_j[prefix[rows_j] > j]
        if rows_j.size == 0:
            break
        out[out_offsets[rows_j] + j] = buf[starts[rows_j] + j]
    if out_offsets[-1] >= 1 << 31:  # pragma: no cover - > 2 GiB of names in one batch
        raise OverflowError("masked names exceed 2 GiB")
    return pa.Array.from_buffers(pa.string(), rows, [_validity(normalized),
                                                     pa.py_buffer(out_offsets.astype(np.int32)), pa.py_buffer(out)])


def phone_forms(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``(normalize_phone(values), mask_phone(normalize_phone(values)))``: the HMAC input and the stored form."""
    norm = normalize_phone(_flat(values))
    return norm, mask_phone(norm)


def name_forms(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``(normalize_name(values), mask_name(normalize_name(values)))``: the HMAC input and the stored form."""
    norm = normalize_name(_flat(values))
    return norm, mask_name(norm)


def mask_text(values: pa.Array, *, names: bool = True) -> pa.Array:
    """Mask phone, resident-ID and bank-card numbers inside free text: :func:`anju.text.mask.mask_array`, the one
    set of rules for every text anju stores or shows, with the candidate rows found by :func:`_digit_runs` (a C
    byte scan when built; a superset of mask_array's own prefilter either way).

    >>> mask_text(pa.array(["联系电话13812345678，身份证110101199003071234", "138 1234 5678", "无号码", None])).to_pylist()
    ['联系电话138****5678，身份证1101**********1234', '138****5678', '无号码', None]
    """
    values = values.cast(pa.string())
    named, wide = _text_flags(values, names=names)
    return mask_array(values, candidates=_digit_runs(values, 7, separated=True), names=names,
                      name_candidates=named, wide=wide)


def _text_flags(values: pa.Array, *, names: bool, native: bool | None = None
                ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(names, wide)``: the texts where :data:`anju.text.mask.NAME_START` may match (a name keyword, then a
    character that can begin a name; None when ``names`` is False) and the texts holding one of the full-width digits
    of :func:`~anju.text.mask.wide_digits` — the other two prefilters of :func:`~anju.text.mask.mask_array`, from
    one pass of the C kernel (~0.05 µs per call text against ~0.12 + 0.04 for the RE2 pass and the NumPy scan).
    ``(None, None)`` without the kernel: ``mask_array`` then runs its own prefilters.

    The kernel reads a name's first character from a table of every BMP code point made by RE2 itself from
    :data:`~anju.text.mask.NAME_CHAR` (:func:`_name_char_table`), so both agree on every BMP character; a character
    outside the BMP is always a candidate (a superset: the RE2 rule decides)."""
    mod = kernels.native(native)
    if mod is None or len(values) == 0:
        return None, None
    offsets, data = _string_buffers(values)
    keywords = b"\0".join(k.encode() for k in NAME_KEYWORDS) if names else b""
    third = bytes(0x90 + ord(d) - 0xFF10 for d in wide_digits(names))
    flags = np.frombuffer(mod.text_flags(offsets, data, len(values), keywords, _name_char_table(), third), np.uint8)
    if values.null_count:
        flags = np.where(values.is_valid().to_numpy(zero_copy_only=False), flags, np.uint8(0))
    return ((flags & 1).astype(bool) if names else None), (flags & 2).astype(bool)


@functools.cache
def _name_char_table() -> bytes:
    """65,536 bytes: 1 where the BMP code point matches :data:`~anju.text.mask.NAME_CHAR` (asked of RE2 itself)."""
    cps = np.arange(0x10000)
    cps = cps[(cps < 0xD800) | (cps > 0xDFFF)]  # surrogates are not characters
    chars = pa.array([chr(c) for c in cps.tolist()], pa.string())
    hit = np.asarray(pc.match_substring_regex(chars, f"^{NAME_CHAR}$").to_numpy(zero_copy_only=False), dtype=bool)
    table = np.zeros(0x10000, np.uint8)
    table[cps[hit]] = 1
    return table.tobytes()


def _digit_runs(values: pa.Array, run: int, *, native: bool | None = None, separated: bool = False) -> pa.Array:
    """Boolean mask (False for null) of the values containing ``run`` consecutive ASCII digits — RE2's
    ``\\d{run}``; with ``separated``, one space, ``-``, ``.``, ``－`` or ``．`` between digits keeps a run going. A scan in the C
    kernel when it is built, eight bytes at a time outside digit runs (about 0.02 µs per 76-byte text)."""
    mod = kernels.native(native)
    if mod is None or len(values) == 0:
        pattern = rf"\d(?:[ \-－.．]?\d){{{run - 1}}}" if separated else rf"\d{{{run}}}"
        return pc.match_substring_regex(values, pattern).fill_null(False)
    offsets, data = _string_buffers(values)
    mask = np.frombuffer(mod.digit_runs(offsets, data, len(values), run, separated), dtype=np.bool_)
    if values.null_count:
        mask = mask & values.is_valid().to_numpy(zero_copy_only=False)
    return pa.array(mask, pa.bool_())


def _string_buffers(values: pa.Array) -> tuple[np.ndarray, pa.Buffer | bytes]:
    """The int32 offsets (n + 1, shifted to the array's offset) and the data buffer of a string array."""
    bufs = values.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1] \
        if bufs[1] is not None else np.zeros(len(values) + 1, np.int32)
    data = bufs[2] if bufs[2] is not None else b""
    return offsets, data


def _validity(values: pa.Array) -> pa.Buffer | None:
    """A fresh (offset 0) validity bitmap for ``values``, or None when nothing is null."""
    return values.is_valid().buffers()[1] if values.null_count else None


class Hasher:
    """HMAC-SHA256 of string arrays under one key: 32-byte digests (:meth:`digest`) or hex (:meth:`hexdigest`).

    With the C kernel (:mod:`anju.ingest._native`, the default): every value is hashed from the Arrow buffers with
    the key's inner and outer pad blocks compressed once (RFC 2104's HMAC with precomputed pads; identical output).
    Without it (``native=False``, or no kernel built): each call hashes the array's *distinct* values in DuckDB
    with ``sha256((K ⊕ opad) || unhex(sha256((K ⊕ ipad) || m)))`` — RFC 2104 written out in SQL (keys longer than
    a 64-byte block are hashed first, as the RFC says). Both run outside Python's interpreter lock, so the pipeline
    overlaps them with the rest of a batch's work. Measured in docs/performance.md.

    Examples
    --------
    >>> import hmac
    >>> h = Hasher(b"k" * 32)
    >>> want = hmac.new(b"k" * 32, b"13812345678", "sha256")
    >>> h.digest(pa.array(["13812345678", None])).to_pylist() == [want.digest(), None]
    True
    >>> h.hexdigest(pa.array(["13812345678"])).to_pylist() == [want.hexdigest()]
    True
    """

    #: values per call of the C kernel (its hex output must stay addressable by int32 offsets)
    CHUNK = 1 << 20
    #: the Arrow type of a digest column
    TYPE = pa.binary(32)

    def __init__(self, key: bytes, *, threads: int | None = 1, native: bool | None = None) -> None:
        if not key:
            raise ValueError("the HMAC key must not be empty")
        self._key = bytes(key)
        block = hashlib.sha256(key).digest() if len(key) > 64 else key
        block = block.ljust(64, b"\0")
        self._ipad = bytes(b ^ 0x36 for b in block)
        self._opad = bytes(b ^ 0x5C for b in block)
        self.native = kernels.native(native) is not None
        self._threads = threads
        self._con_: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        if self._con_ is None:
            self._con_ = quiet_duckdb(self._threads)
        return self._con_

    def digest(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """HMAC-SHA256 digest (``binary(32)``) of each UTF-8 string; null stays null. The lake stores this form."""
        return self._hmac(values, hex_=False)

    def hexdigest(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """HMAC-SHA256 as 64 lower-case hex digits (``string``) of each UTF-8 string; null stays null."""
        return self._hmac(values, hex_=True)

    def _hmac(self, values: pa.Array | pa.ChunkedArray, *, hex_: bool) -> pa.Array:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        values = values.cast(pa.string())
        out_type = pa.string() if hex_ else self.TYPE
        if values.null_count == len(values):
            return pa.nulls(len(values), out_type)
        if self.native:
            return self._hmac_native(values, hex_)
        return self._hmac_duckdb(values, hex_)

    def _hmac_native(self, values: pa.Array, hex_: bool) -> pa.Array:
        mod = kernels.native()
        assert mod is not None
        n = len(values)
        if n > self.CHUNK:
            return pa.concat_arrays([self._hmac_native(values.slice(i, self.CHUNK), hex_)
                                     for i in range(0, n, self.CHUNK)])
        offsets, data = _string_buffers(values)
        out = pa.py_buffer(mod.hmac_sha256(self._key, offsets, data, n, hex_))
        if not hex_:
            return pa.Array.from_buffers(self.TYPE, n, [_validity(values), out])
        out_offsets = pa.py_buffer(np.arange(0, 64 * (n + 1), 64, dtype=np.int32))
        return pa.Array.from_buffers(pa.string(), n, [_validity(values), out_offsets, out])

    def _hmac_duckdb(self, values: pa.Array, hex_: bool) -> pa.Array:
        """The SQL fallback: distinct values hashed in DuckDB."""
        enc = pc.dictionary_encode(values)
        with self._lock:
            con = self._con
            con.register("hmac_input", pa.table({"m": enc.dictionary}))
            try:
                mac = "sha256($2::BLOB || unhex(sha256($1::BLOB || encode(m))))"  # hex digits
                out = con.sql(f"SELECT {mac if hex_ else f'unhex({mac})'} AS h FROM hmac_input",
                              params=[self._ipad, self._opad]).to_arrow_table()
            finally:
                con.unregister("hmac_input")
        h = out.column("h").combine_chunks()
        return h.cast(pa.string() if hex_ else self.TYPE).take(enc.indices)

    def replace_each(self, texts: pa.Array, needles: pa.Array, replacements: pa.Array) -> pa.Array:
        """Row by row, replace ``needles[i]`` (2+ characters) inside ``texts[i]`` with ``replacements[i]``.

        Used to mask the caller's own name where the call text repeats it ("报警人张三称…"). A null text stays
        null; a null or one-character needle leaves the text as it is; a null replacement makes the result null
        where the needle applies (as SQL ``replace`` does).
        """
        texts, needles, replacements = (_flat(a) for a in (texts, needles, replacements))
        if len(texts) == 0:
            return texts
        if self.native:
            try:
                return self._replace_native(texts, needles, replacements)
            except OverflowError:  # pragma: no cover - > 2 GiB of text in one batch
                pass
        return self._replace_duckdb(texts, needles, replacements)

    def _replace_native(self, texts: pa.Array, needles: pa.Array, replacements: pa.Array) -> pa.Array:
        """The C kernel's search over every row (``find_each``), then its replacement over the rows found only:
        in most batches no call text repeats the caller's name and the texts come back as they are, uncopied."""
        mod = kernels.native()
        assert mod is not None
        applies = pc.and_(pc.is_valid(needles), pc.greater_equal(pc.utf8_length(needles), 2)).fill_null(False)
        active = pc.and_(applies, pc.is_valid(texts)).fill_null(False)
        act = np.asarray(active.to_numpy(zero_copy_only=False), dtype=np.uint8)
        to, td = _string_buffers(texts)
        no, nd = _string_buffers(needles)
        found = np.frombuffer(mod.find_each(to, td, no, nd, act, len(texts)), dtype=np.bool_)
        out = texts
        if found.any():
            rows = np.flatnonzero(found)
            take = pa.array(rows)
            t, nn, r = texts.take(take), needles.take(take), replacements.take(take)
            to, td = _string_buffers(t)
            no, nd = _string_buffers(nn)
            ro, rd = _string_buffers(r)
            m = len(rows)
            offsets, data = mod.replace_each(to, td, no, nd, ro, rd, np.ones(m, np.uint8), m)
            new = pa.Array.from_buffers(pa.string(), m, [_validity(t), pa.py_buffer(offsets), pa.py_buffer(data)])
            out = pc.replace_with_mask(texts, pa.array(found), new)
        if replacements.null_count:  # SQL's replace(t, n, NULL) is NULL wherever the needle applies
            nulled = pc.and_(applies, pc.is_null(replacements))
            if pc.any(nulled).as_py():
                out = pc.if_else(nulled, pa.scalar(None, pa.string()), out)
        return out

    def _replace_duckdb(self, texts: pa.Array, needles: pa.Array, replacements: pa.Array) -> pa.Array:
        table = pa.table({"t": texts, "n": needles, "r": replacements})
        with self._lock:
            con = self._con
            con.register("replace_input", table)
            try:
                out = con.sql(
                    "SELECT CASE WHEN t IS NULL OR n IS NULL OR length(n) < 2 THEN t ELSE replace(t, n, r) END AS t "
                    "FROM replace_input"
                ).to_arrow_table()
            finally:
                con.unregister("replace_input")
        return out.column("t").combine_chunks().cast(pa.string())

    def close(self) -> None:
        if self._con_ is not None:
            self._con_.close()
            self._con_ = None


def _flat(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.string())
