"""Personal data at ingest: keyed hashes and masked forms of caller names and phone numbers, masked free text.

Caller names and phone numbers never reach the lake in clear. Each is normalised (names: whitespace removed;
phones: digits only, a leading 86/0086 country code dropped) and stored twice:

* a **keyed hash**: HMAC-SHA256 (RFC 2104) with the deployment secret (:func:`anju.config.deployment_secret`),
  hex. The same person or number gives the same hash within a deployment, so repeat callers can be counted, but
  without the secret nobody can test a guessed number against it (a plain hash of an 11-digit number is reversed by
  brute force in minutes).
* a **masked** form for display: ``138****5678``, ``张*``, ``欧阳**``.

Free text (简要案情) has mobile, landline and ID-card numbers masked in place.

The HMAC runs in DuckDB over each batch's *distinct* values (:class:`Hasher`), off Python's interpreter lock so
the pipeline overlaps it with other work. ``tests/ingest/test_pii.py`` checks it against Python's :mod:`hmac` for
any key and text.
"""

from __future__ import annotations

import hashlib
import threading

import pyarrow as pa
import pyarrow.compute as pc

from anju.lake.duck import quiet_duckdb

__all__ = [
    "COMPOUND_SURNAMES",
    "Hasher",
    "mask_name",
    "mask_phone",
    "mask_text",
    "normalize_name",
    "normalize_phone",
]

#: Two-character (复姓) surnames kept whole in the masked form (欧阳** rather than 欧***).
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕",
    "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "赫连", "澹台", "公冶", "宗政", "濮阳",
    "太史", "申屠", "钟离", "仲孙", "单于", "拓跋", "完颜", "乐正", "东郭", "司空", "左丘", "第五",
)

_NULL = pa.scalar(None, pa.string())

# Free-text patterns, applied in this order (ID numbers first, so the mobile pattern does not bite into them).
_TEXT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"([1-9]\d{3})\d{10}(\d{3}[\dXx])", r"\1**********\2"),  # 18-digit resident ID: keep 4 + 4
    (r"(1[3-9]\d)\d{4}(\d{4})", r"\1****\2"),  # mobile: 138****5678
    (r"(0\d{2,3}[-－])\d{3,4}(\d{4})", r"\1****\2"),  # landline with area code: 021-****1234
)


def _empty_to_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(pc.utf8_length(values), 0), _NULL, values)


def normalize_phone(values: pa.Array) -> pa.Array:
    """Digits only, without a leading ``86``/``0086`` country code; null when no digits remain.

    >>> normalize_phone(pa.array(["+86 138-1234-5678", "021 6438 1234", "无", None])).to_pylist()
    ['13812345678', '02164381234', None, None]
    """
    values = values.cast(pa.string())
    plain = pc.and_(pc.utf8_is_digit(values), pc.equal(pc.utf8_length(values), 11)).fill_null(True)
    if pc.all(plain).as_py():  # the common case: already 11 bare digits
        return _empty_to_null(values)
    digits = pc.replace_substring_regex(values, r"\D+", "")
    digits = pc.replace_substring_regex(digits, r"^(?:0086|86)(1\d{10})$", r"\1")
    return _empty_to_null(digits)


def mask_phone(normalized: pa.Array) -> pa.Array:
    """``138****5678``: first 3 and last 4 digits kept (numbers of 8+ digits); shorter ones keep the last 2.

    >>> mask_phone(pa.array(["13812345678", "02164381234", "110", None])).to_pylist()
    ['138****5678', '021****1234', '*10', None]
    """
    n = pc.utf8_length(normalized)
    long_ = pc.greater_equal(n, 8)
    head = pc.if_else(long_, pc.utf8_slice_codeunits(normalized, 0, 3), "")
    tail_len = pc.if_else(long_, 4, 2)
    stars = pc.binary_repeat("*", pc.max_element_wise(pc.subtract(n, pc.add(pc.if_else(long_, 3, 0), tail_len)), 0))
    tail = pc.utf8_slice_codeunits(normalized, -4)
    tail = pc.if_else(long_, tail, pc.utf8_slice_codeunits(normalized, -2))
    return pc.binary_join_element_wise(head, stars, tail, "")


def normalize_name(values: pa.Array) -> pa.Array:
    """Whitespace removed; null when empty.

    >>> normalize_name(pa.array([" 张 三 ", "", None])).to_pylist()
    ['张三', None, None]
    """
    values = values.cast(pa.string())
    if not pc.any(pc.match_substring_regex(values, r"\s")).as_py():
        return _empty_to_null(values)
    return _empty_to_null(pc.replace_substring_regex(values, r"\s+", ""))


def mask_name(normalized: pa.Array) -> pa.Array:
    """Keep the surname (one character, or two for a 复姓), star the rest; a one-character name becomes ``*``.

    >>> mask_name(pa.array(["张三", "张三丰", "欧阳修", "欧阳小明", "李", None])).to_pylist()
    ['张*', '张**', '欧阳*', '欧阳**', '*', None]
    """
    n = pc.utf8_length(normalized)
    compound = pc.and_(pc.is_in(pc.utf8_slice_codeunits(normalized, 0, 2), pa.array(COMPOUND_SURNAMES)),
                       pc.greater(n, 2))
    keep = pc.if_else(pc.less_equal(n, 1), 0, pc.if_else(compound, 2, 1))
    head = pc.utf8_slice_codeunits(normalized, 0, 2)
    head = pc.if_else(pc.equal(keep, 2), head, pc.if_else(pc.equal(keep, 1),
                                                           pc.utf8_slice_codeunits(normalized, 0, 1), ""))
    stars = pc.binary_repeat("*", pc.max_element_wise(pc.subtract(n, keep), 1))
    return pc.binary_join_element_wise(head, stars, "")


def mask_text(values: pa.Array) -> pa.Array:
    """Mask mobile, landline and resident-ID numbers inside free text (only rows with a 7+ digit run are touched).

    >>> mask_text(pa.array(["联系电话13812345678，身份证110101199003071234", "无号码", None])).to_pylist()
    ['联系电话138****5678，身份证1101**********1234', '无号码', None]
    """
    values = values.cast(pa.string())
    hit = pc.match_substring_regex(values, r"\d{7}").fill_null(False)
    if not pc.any(hit).as_py():
        return values
    idx = pc.indices_nonzero(hit)
    sub = values.take(idx)
    for pattern, repl in _TEXT_PATTERNS:
        sub = pc.replace_substring_regex(sub, pattern, repl)
    return pc.replace_with_mask(values, hit, sub)


class Hasher:
    """HMAC-SHA256 (hex) of string arrays under one key, computed in DuckDB.

    Each call hashes the array's *distinct* values with
    ``sha256((K ⊕ opad) || unhex(sha256((K ⊕ ipad) || m)))`` — RFC 2104 written out in SQL (keys longer than a
    64-byte block are hashed first, as the RFC says). DuckDB runs it outside Python's interpreter lock, so the
    pipeline overlaps it with the rest of a batch's work; a per-value Python loop (``hmac.new`` or pre-hashed
    ``hashlib`` states) costs about as much CPU but would hold the lock. Measured in docs/performance.md.

    Examples
    --------
    >>> import hmac
    >>> h = Hasher(b"k" * 32)
    >>> h.hmac_hex(pa.array(["13812345678", None])).to_pylist()[0] == hmac.new(b"k" * 32, b"13812345678",
    ...                                                                          "sha256").hexdigest()
    True
    """

    def __init__(self, key: bytes, *, threads: int | None = 1) -> None:
        if not key:
            raise ValueError("the HMAC key must not be empty")
        block = hashlib.sha256(key).digest() if len(key) > 64 else key
        block = block.ljust(64, b"\0")
        self._ipad = bytes(b ^ 0x36 for b in block)
        self._opad = bytes(b ^ 0x5C for b in block)
        self._con = quiet_duckdb(threads)
        self._lock = threading.Lock()

    def hmac_hex(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """HMAC-SHA256 hex digest of each UTF-8 string; null stays null. Distinct values are hashed once."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        enc = pc.dictionary_encode(values.cast(pa.string()))
        if len(enc.dictionary) == 0:
            return pa.nulls(len(values), pa.string())
        with self._lock:
            self._con.register("hmac_input", pa.table({"m": enc.dictionary}))
            try:
                out = self._con.sql(
                    "SELECT sha256($2::BLOB || unhex(sha256($1::BLOB || encode(m)))) AS h FROM hmac_input",
                    params=[self._ipad, self._opad],
                ).to_arrow_table()
            finally:
                self._con.unregister("hmac_input")
        return out.column("h").combine_chunks().cast(pa.string()).take(enc.indices)

    def replace_each(self, texts: pa.Array, needles: pa.Array, replacements: pa.Array) -> pa.Array:
        """Row by row, replace ``needles[i]`` (2+ characters) inside ``texts[i]`` with ``replacements[i]``.

        Used to mask the caller's own name where the call text repeats it ("报警人张三称…").
        """
        if len(texts) == 0:
            return texts.cast(pa.string())
        table = pa.table({"t": texts.cast(pa.string()), "n": needles.cast(pa.string()),
                          "r": replacements.cast(pa.string())})
        with self._lock:
            self._con.register("replace_input", table)
            try:
                out = self._con.sql(
                    "SELECT CASE WHEN t IS NULL OR n IS NULL OR length(n) < 2 THEN t ELSE replace(t, n, r) END AS t "
                    "FROM replace_input"
                ).to_arrow_table()
            finally:
                self._con.unregister("replace_input")
        return out.column("t").combine_chunks().cast(pa.string())

    def close(self) -> None:
        self._con.close()
