"""Record keys and duplicate detection.

A record key is ``<source>:<id>``: the profile's record-id column (trimmed; ``123.0`` → ``123`` with
``key.integer = true``), or — for exports without an id, like the SF Kaggle file — the MD5 of the row's chosen
columns, joined with a unit separator and a marker for nulls so ``("a", null)`` and ``(null, "a")`` differ
(the canonical-hash idea of sqlite-utils' ``hash_record``).

:class:`KeyIndex` remembers every key already in the lake for that source plus every key loaded so far in this
import, as 128-bit fingerprints in an in-memory DuckDB table (16 bytes per key; ten million keys ≈ 160 MB). Each batch is
joined against it with the batch as the hash-join build side, so a batch costs one scan of the index.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anju.lake.duck import quiet_duckdb

__all__ = ["KeyIndex", "hash_keys", "record_keys"]

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
        self.con = quiet_duckdb()
        self.con.execute("CREATE TABLE seen (h1 UBIGINT, h2 UBIGINT)")
        self.size = 0

    @classmethod
    def from_lake(cls, files: list[Path], source: str) -> KeyIndex:
        """Load the keys of ``source`` from the given incident files."""
        idx = cls()
        if files:
            paths = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in files) + "]"
            idx.con.execute(
                f"INSERT INTO seen SELECT {cls._H.format(k='record_key')} FROM read_parquet({paths}) "
                "WHERE source = $1",
                [source],
            )
            idx.size = int(idx.con.execute("SELECT count(*) FROM seen").fetchall()[0][0])
        return idx

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
        batch = pa.table({"i": pa.array(rows, pa.int64()), "k": sub})
        self.con.register("key_batch", batch)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE kb AS SELECT i, {self._H.format(k='k')} FROM key_batch")
            hit = self.con.sql(
                "SELECT i FROM (SELECT i, row_number() OVER (PARTITION BY h1, h2 ORDER BY i) AS r FROM kb) "
                "WHERE r > 1 UNION ALL SELECT kb.i FROM kb JOIN seen USING (h1, h2)"
            ).to_arrow_table().column("i").to_numpy()
            dup[np.asarray(hit, dtype=np.int64)] = True
            if hit.size:
                self.con.register("key_dups", pa.table({"i": pa.array(hit, pa.int64())}))
                self.con.execute("INSERT INTO seen SELECT h1, h2 FROM kb ANTI JOIN key_dups USING (i)")
                self.con.unregister("key_dups")
            else:
                self.con.execute("INSERT INTO seen SELECT h1, h2 FROM kb")
        finally:
            self.con.unregister("key_batch")
        self.size += int(rows.size - dup.sum())
        return dup

    def close(self) -> None:
        self.con.close()
