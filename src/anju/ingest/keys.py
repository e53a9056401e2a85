"""Record keys and duplicate detection.

A record key is ``<source>:<id>``: the profile's record-id column (trimmed; ``123.0`` → ``123`` with
``key.integer = true``), or — for exports without an id, like the SF Kaggle file — the MD5 of the row's chosen
columns, joined with a unit separator and a marker for nulls so ``("a", null)`` and ``(null, "a")`` differ
(the canonical-hash idea of sqlite-utils' ``hash_record``).

:class:`KeyIndex` remembers every key already in the lake for that source plus every key loaded so far in this
import, as 128-bit fingerprints (two 64-bit DuckDB hashes; 16 bytes per key, ten million keys ≈ 160 MB) in a few
sorted NumPy runs (size-tiered: four runs of about the same size are merged into one, so each key is copied
~log4(keys / batch) times) and a 32 MiB bit filter over the first hash's top 28 bits. A batch's fingerprints are
sorted; only those whose filter bit is set (the repeats, plus ~4 % false positives at ten million keys) are looked up
in the runs by binary search. An earlier version kept one sorted array and merged every batch into it with
``np.insert`` — a fresh copy of the whole index per batch, 4.6 s of CPU for 10 M keys against 2.6 s now — and
before that joined each batch against a DuckDB table, which scanned the whole index per batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anju.lake.duck import quiet_duckdb

__all__ = ["KeyIndex", "Occurrences", "hash_keys", "identity_fingerprints", "identity_keys", "normalize_key_text",
           "record_keys", "round_coords"]

_SEP = "\x1f"
_NULL_MARK = "\x00"


def hash_keys(columns: list[pa.Array], con: duckdb.DuckDBPyConnection | None = None) -> pa.Array:
    """MD5 hex of each row's values (nulls marked), as a stable key for rows without an id.

    >>> hash_keys([pa.array(["a", None]), pa.array([None, "a"])]).to_pylist() == \\
    ...     hash_keys([pa.array(["a", None]), pa.array([None, "a"])]).to_pylist()
    True
    """
    filled = [pc.fill_null(c.cast(pa.string()), _NULL_MARK) for c in columns]
    joined = pc.binary_join_element_wise(*filled, _SEP)
    own = con is None
    c = quiet_duckdb() if con is None else con
    try:
        c.register("key_input", pa.table({"v": joined}))
        out = c.sql("SELECT md5(v) AS h FROM key_input").to_arrow_table().column("h")
        c.unregister("key_input")
    finally:
        if own:
            c.close()
    return out.combine_chunks().cast(pa.string())


def normalize_key_text(values: pa.Array, *, casefold: bool = False) -> pa.Array:
    """An identifying text as compared in a key: NFKC (full-width letters and digits → ASCII, ideographic space →
    space), whitespace runs → one space, trimmed, lower-cased if ``casefold``; empty → null.

    >>> normalize_key_text(pa.array([" 11XX  Burnaby ST ", "ＡＢ　１", "", None]), casefold=True).to_pylist()
    ['11xx burnaby st', 'ab 1', None, None]
    """
    v = pc.utf8_normalize(values.cast(pa.string()), "NFKC")
    if pc.any(pc.match_substring_regex(v, r"\s\s|\t|\n|\r")).as_py():
        v = pc.replace_substring_regex(v, r"\s+", " ")
    v = pc.utf8_trim_whitespace(v)
    if casefold:
        v = pc.utf8_lower(v)
    return pc.if_else(pc.equal(pc.utf8_length(v), 0), pa.scalar(None, pa.string()), v)


def round_coords(raw: pa.Array, decimals: int) -> pa.Array:
    """A coordinate as compared in a key: the number rounded to ``decimals`` places, written as an integer count of
    ``10^-decimals`` (so ``-122.40849300000001``, ``-122.408493`` and ``-122.4085`` agree at 4 decimals); a value that
    is not a number stays as normalised text, an empty one null.

    >>> round_coords(pa.array(["-122.40849300000001", "-122.4085 ", "x", None]), 4).to_pylist()
    ['-1224085', '-1224085', 'x', None]
    """
    from anju.ingest.enrich import parse_numbers

    f, _bad = parse_numbers(raw)
    ok = np.isfinite(f)
    scaled = np.rint(np.where(ok, f, 0.0) * 10.0 ** decimals).astype(np.int64)
    num = pa.array(scaled, pa.int64(), mask=~ok).cast(pa.string())
    return pc.coalesce(num, normalize_key_text(raw))


def identity_keys(source: str, parts: list[pa.Array], hasher: Any,
                  occurrences: Occurrences | np.ndarray) -> pa.Array:
    """``<source>:<32 hex>-<n>`` for rows of an export without an id column.

    ``parts`` are the identifying fields' normalised values (:func:`normalize_key_text`, :func:`round_coords`, the
    parsed time); the hex is the first 128 bits of their keyed HMAC (``hasher``: the deployment secret, so a key
    built from a caller's name or number reveals nothing), and ``n`` is the occurrence of that value in the file
    so far (1 for the first row with these values, 2 for the second…): genuine repeat calls — same type, time
    and block — get keys of their own, and a re-export of the same calls, in any row order, gets the same keys.
    ``occurrences`` numbers the rows by their :func:`identity_fingerprints` in file order; an array gives the
    numbers already computed (the Spark ingest numbers a whole file with a window over the fingerprints).
    """
    raw = _identity_digest(parts, hasher)
    n = raw.shape[0]
    hexes = raw[:, :16].tobytes().hex().encode()
    hex_arr = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(np.arange(0, 32 * (n + 1), 32,
                                                                                 dtype=np.int32)),
                                                      pa.py_buffer(hexes)])
    if isinstance(occurrences, Occurrences):
        occ = occurrences.number(_fingerprints(raw))
    else:
        occ = np.asarray(occurrences, np.int64)
        if occ.shape != (n,):
            raise ValueError(f"{occ.shape[0]} occurrence numbers for {n} rows")
    return pc.binary_join_element_wise(pa.scalar(source + ":"), hex_arr, pa.scalar("-"),
                                       pa.array(occ, pa.int64()).cast(pa.string()), "")


def _identity_digest(parts: list[pa.Array], hasher: Any) -> np.ndarray:
    """The keyed HMAC of the joined identifying values, one row of 32 bytes per record."""
    filled = [pc.fill_null(p.cast(pa.string()), _NULL_MARK) for p in parts]
    joined = filled[0] if len(filled) == 1 else pc.binary_join_element_wise(*filled, _SEP)
    digest = hasher.digest(joined)  # binary(32), no nulls
    n = len(digest)
    raw = np.frombuffer(digest.buffers()[1], dtype=np.uint8)[digest.offset * 32:(digest.offset + n) * 32]
    return raw.reshape(n, 32)


def _fingerprints(raw: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(raw[:, :8]).view(np.uint64).ravel()


def identity_fingerprints(parts: list[pa.Array], hasher: Any) -> np.ndarray:
    """The 64-bit fingerprint (uint64) by which :class:`Occurrences` counts each row's identifying values: the
    occurrence number of a row is 1 + the number of earlier rows of the file with the same fingerprint."""
    return _fingerprints(_identity_digest(parts, hasher))


class Occurrences:
    """How many rows of this file so far had each identifying value (by a 64-bit fingerprint of it).

    Sorted NumPy arrays of the fingerprints seen and their counts; a batch is numbered in file order in one
    vectorised pass (its own repeats ranked by a stable sort, plus the counts of earlier batches).

    >>> o = Occurrences()
    >>> o.number(np.array([5, 7, 5], np.uint64)).tolist(), o.number(np.array([5, 9], np.uint64)).tolist()
    ([1, 1, 2], [3, 1])
    """

    def __init__(self) -> None:
        self._seen = np.zeros(0, np.uint64)
        self._count = np.zeros(0, np.int64)

    def number(self, fp: np.ndarray) -> np.ndarray:
        """1-based occurrence number of each fingerprint, counting earlier calls and earlier rows of ``fp``."""
        n = fp.size
        if n == 0:
            return np.zeros(0, np.int64)
        order = np.argsort(fp, kind="stable")
        s = fp[order]
        start = np.ones(n, dtype=bool)
        start[1:] = s[1:] != s[:-1]
        group_start = np.maximum.accumulate(np.where(start, np.arange(n), 0))
        rank = np.arange(n) - group_start  # 0 for a value's first row in this batch
        prior = np.zeros(n, np.int64)
        if self._seen.size:
            pos = np.searchsorted(self._seen, s)
            hit = pos < self._seen.size
            hit[hit] = self._seen[pos[hit]] == s[hit]
            prior[hit] = self._count[pos[hit]]
        out = np.empty(n, np.int64)
        out[order] = prior + rank + 1
        # remember the batch's totals
        uniq = s[start]
        total = np.add.reduceat(np.ones(n, np.int64), np.flatnonzero(start))
        allv = np.concatenate([self._seen, uniq])
        allc = np.concatenate([self._count, total])
        o = np.argsort(allv, kind="stable")
        allv, allc = allv[o], allc[o]
        keep = np.ones(allv.size, dtype=bool)
        keep[1:] = allv[1:] != allv[:-1]
        idx = np.flatnonzero(keep)
        self._seen = allv[idx]
        self._count = np.add.reduceat(allc, idx)
        return out


def record_keys(source: str, ids: pa.Array, *, integer: bool = False) -> pa.Array:
    """``<source>:<id>`` with the id trimmed (and ``.0`` dropped if ``integer``); null where the id is empty.

    >>> record_keys("chicago", pa.array(["11023904.0", " 7 ", "", None]), integer=True).to_pylist()
    ['chicago:11023904', 'chicago:7', None, None]
    """
    v = pc.utf8_trim_whitespace(ids.cast(pa.string()))
    if integer:
        v = pc.replace_substring_regex(v, r"^([+-]?\d+)\.0*$", r"\1")
    v = pc.if_else(pc.equal(pc.utf8_length(v), 0), pa.scalar(None, pa.string()), v)
    return pc.binary_join_element_wise(pa.scalar(source + ":"), v, "")


class KeyIndex:
    """The set of record keys already taken (in the lake, and earlier in this import)."""

    # Two independent 64-bit hashes of the key (DuckDB's fast ``hash`` of the key and of the key with a prefix)
    # make a 128-bit fingerprint: a chance collision among 10^8 keys is ~10^-22.
    _H = "hash({k}) AS h1, hash('anju:' || {k}) AS h2"

    def __init__(self) -> None:
        self.con = quiet_duckdb(1)
        # sorted runs of fingerprints (h1 sorted, h2 aligned; order among equal h1 values is arbitrary), oldest
        # first, at most ~3·log4(index / batch) of them (see _merge)
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        # one bit per value of h1's top bits, set for every key in the runs: a batch looks up in the runs only the
        # keys whose bit is set (their repeats, plus ~4 % false positives at 10 M keys) instead of all of them
        self._bits = np.zeros(1 << (_FILTER_BITS - 6), np.uint64)
        self.size = 0

    @classmethod
    def from_lake(cls, files: list[Path], source: str) -> KeyIndex:
        """Load the keys of ``source`` from the given incident files."""
        idx = cls()
        if files:
            paths = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in files) + "]"
            t = idx.con.sql(
                f"SELECT {cls._H.format(k='record_key')} FROM read_parquet({paths}) WHERE source = $1",
                params=[source],
            ).to_arrow_table()
            h1 = _u64(t.column("h1"))
            h2 = _u64(t.column("h2"))
            order = np.argsort(h1, kind="stable")
            idx._runs = [(h1[order], h2[order])]
            idx._mark(idx._runs[0][0])
            idx.size = int(h1.size)
        return idx

    def _fingerprints(self, keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        self.con.register("key_batch", pa.table({"k": keys}))
        try:
            t = self.con.sql(f"SELECT {self._H.format(k='k')} FROM key_batch").to_arrow_table()
        finally:
            self.con.unregister("key_batch")
        return _u64(t.column("h1")), _u64(t.column("h2"))

    def _mark(self, h1: np.ndarray) -> None:
        """Set the filter bits of ``h1``."""
        np.bitwise_or.at(self._bits, h1 >> _WORD_SHIFT, np.left_shift(_ONE, (h1 >> _BIT_SHIFT) & _BIT_MASK))

    def _maybe(self, h1: np.ndarray) -> np.ndarray:
        """Mask of ``h1`` whose filter bit is set (a superset of the keys in the runs)."""
        words = self._bits[h1 >> _WORD_SHIFT]
        return (np.right_shift(words, (h1 >> _BIT_SHIFT) & _BIT_MASK) & _ONE).astype(bool)

    def _taken(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """Mask of fingerprints (``h1`` sorted) already in the index."""
        found = np.zeros(h1.size, dtype=bool)
        if h1.size == 0 or not self._runs:
            return found
        cand = np.flatnonzero(self._maybe(h1))
        if cand.size:
            found[cand] = self._in_runs(h1[cand], h2[cand])
        return found

    def _in_runs(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """Exact look-up of fingerprints (``h1`` sorted) in the runs, by binary search."""
        found = np.zeros(h1.size, dtype=bool)
        for r1, r2 in self._runs:
            n = r1.size
            pos = np.searchsorted(r1, h1, side="left")
            live = np.flatnonzero((pos < n) & ~found)
            while live.size:  # walk the (almost always 0 or 1) run entries sharing each h1
                p = pos[live]
                same = r1[p] == h1[live]
                live, p = live[same], p[same]
                found[live[r2[p] == h2[live]]] = True
                pos[live] += 1
                live = live[(pos[live] < n) & ~found[live]]
        return found

    def claim(self, keys: pa.Array, candidates: np.ndarray) -> np.ndarray:
        """Mask of duplicate rows; every other candidate's key is remembered as taken.

        A row is a duplicate when its key is already taken or repeats an earlier candidate row of this batch.
        Only rows where ``candidates`` is True are considered (and only they can become duplicates), so call this
        last, for the rows that will otherwise be loaded.
        """
        n = len(keys)
        dup = np.zeros(n, dtype=bool)
        rows = np.flatnonzero(candidates)
        if rows.size == 0:
            return dup
        sub = keys if rows.size == n else keys.take(pa.array(rows))
        h1, h2 = self._fingerprints(sub)
        order = np.argsort(h1)
        s1 = h1[order]
        tie = np.flatnonzero(s1[1:] == s1[:-1])
        if tie.size:  # repeated keys (or a 64-bit collision): order those rows by (h1, h2, row) exactly
            span = np.unique(np.concatenate([tie, tie + 1]))
            runs = order[span]
            order[span] = runs[np.lexsort((runs, h2[runs], h1[runs]))]
        s2 = h2[order]
        repeat = np.zeros(rows.size, dtype=bool)
        repeat[1:] = (s1[1:] == s1[:-1]) & (s2[1:] == s2[:-1])  # a later row of the same key
        hit = repeat | self._taken(s1, s2)
        dup[rows[order[hit]]] = True
        new1, new2 = s1[~hit], s2[~hit]
        if new1.size:
            self._merge(new1, new2)
        return dup

    def _merge(self, new1: np.ndarray, new2: np.ndarray) -> None:
        """Add sorted fingerprints as a new run; when the last four runs are of about the same size, merge them
        into one (size-tiered: each key is copied ~log4(index / batch) times in all, where one sorted array copied
        the whole index every batch; a stable sort of the concatenated runs merges them in linear time)."""
        runs = self._runs
        runs.append((new1, new2))
        self._mark(new1)
        while len(runs) >= _FAN_IN and runs[-_FAN_IN][0].size < 2 * runs[-1][0].size:
            group = runs[-_FAN_IN:]
            del runs[-_FAN_IN:]
            c1 = np.concatenate([r[0] for r in group])
            order = np.argsort(c1, kind="stable")
            runs.append((c1[order], np.concatenate([r[1] for r in group])[order]))
        self.size += int(new1.size)

    def close(self) -> None:
        self.con.close()


_FAN_IN = 4  # runs merged at once
_FILTER_BITS = 28  # 2^28 bits = 32 MiB
_WORD_SHIFT = np.uint64(64 - (_FILTER_BITS - 6))  # top bits of h1 → word of the filter
_BIT_SHIFT = np.uint64(64 - _FILTER_BITS)  # the next six bits → bit in the word
_BIT_MASK = np.uint64(63)
_ONE = np.uint64(1)


def _u64(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    a = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return np.asarray(a.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.uint64)
