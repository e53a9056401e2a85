"""Duty operations (勤务): the daily briefing (alert levels, 三高, shift patrol plans), patrol dosage and visibility
from GPS tracks, the 四率 KPIs, grid coverage and resident-registry quality.

Pure functions over tables; reading the lake and the duty store is done by :mod:`anju.duty.store` and the CLI.
See docs/duty-operations.md.
"""
