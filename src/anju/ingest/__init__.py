"""Ingest: source files (CSV/GBK, XLSX, Parquet) → validated, enriched, privacy-safe rows in the lake.

``ingest_file(settings, path, profile="cn110")`` is the entry point; profiles (TOML) say how an export's columns
map onto the lake. See docs/ingest.md.

The names below are imported on first use (PEP 562): importing a submodule such as ``anju.ingest.allocator``,
which every ``anju`` command does at its entry, must not pull in the whole pipeline (pandas, DuckDB, H3…).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anju._lazy import lazy_getattr

if TYPE_CHECKING:
    from anju.ingest.pipeline import check_file, ingest_file
    from anju.ingest.profile import Profile, load_profile, shipped_profiles
    from anju.ingest.report import ImportReport

__all__ = ["ImportReport", "Profile", "check_file", "ingest_file", "load_profile", "shipped_profiles"]

_HOME = {"check_file": "pipeline", "ingest_file": "pipeline", "Profile": "profile", "load_profile": "profile",
         "shipped_profiles": "profile", "ImportReport": "report"}


__getattr__ = lazy_getattr(__name__, _HOME, globals())
