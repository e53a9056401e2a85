"""Ingest: source files (CSV/GBK, XLSX, Parquet) → validated, enriched, privacy-safe rows in the lake.

``ingest_file(settings, path, profile="cn110")`` is the entry point; profiles (TOML) say how an export's columns
map onto the lake. See docs/ingest.md.
"""

from anju.ingest.pipeline import check_file, ingest_file
from anju.ingest.profile import Profile, load_profile, shipped_profiles
from anju.ingest.report import ImportReport

__all__ = ["ImportReport", "Profile", "check_file", "ingest_file", "load_profile", "shipped_profiles"]
