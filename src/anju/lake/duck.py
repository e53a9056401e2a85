"""DuckDB connections for anju's own batch work (hashing, keys): in memory, silent, bounded threads."""

from __future__ import annotations

import duckdb

__all__ = ["quiet_duckdb"]


def quiet_duckdb(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection without the terminal progress bar (it would scribble over Rich's)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con
