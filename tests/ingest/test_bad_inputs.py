"""Every case of the bad-input corpus (tests/ingest/bad_inputs.py): each data line accounted for — loaded,
quarantined with its reason and line number, or empty — or a clear error that names the file and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_inputs import MAKERS, Case

from anju.config import Settings
from anju.errors import AnjuError
from anju.ingest import ingest_file
from anju.lake import connect
from anju.lake.manifest import Manifest

_FIRST_ID = 100_000_000_000  # cn110_sample's first 接警编号 is J100000000000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    d = tmp_path_factory.mktemp("bad-inputs")
    return {c.name: c for c in (make(d) for make in MAKERS)} | {"__dir__": d}  # type: ignore[dict-item]


def _cases(corpus: dict[str, Case], name: str) -> tuple[Case, Path]:
    c = corpus[name]
    return c, corpus["__dir__"] / c.file  # type: ignore[operator]


@pytest.mark.parametrize("name", sorted({
    "stray_quote_unquoted", "stray_quote_minimal", "unclosed_quote_big", "huge_field", "truncated_gz",
    "blank_lines", "utf8_bom", "utf16_bom", "utf16le_bom", "gbk", "xlsx_duplicate_header", "xlsx_merged_cells",
    "parquet_duplicate_columns", "parquet_nested_unmapped", "parquet_nested_mapped",
}))
def test_bad_input_is_accounted_or_refused(corpus: dict[str, Case], settings: Settings, name: str) -> None:
    case, path = _cases(corpus, name)
    if case.error:
        with pytest.raises(AnjuError) as info:
            ingest_file(settings, path, **case.options)
        msg = str(info.value)
        for part in case.error:
            assert part in msg, msg
        assert "Traceback" not in msg and "\n" not in msg.strip()
        assert not Manifest.load(settings.paths.manifest).imports  # nothing written
        assert not list(settings.paths.lake.rglob("*.parquet"))
        return
    report = ingest_file(settings, path, **case.options)
    assert report.data_lines == case.data_lines
    assert report.rows_loaded == case.loaded
    for reason, count in case.reasons.items():
        assert report.quarantine_by_reason.get(reason) == count, report.quarantine_by_reason
    lines_in_rows = report.rows_loaded + report.rows_quarantined + report.blank_lines
    assert lines_in_rows == case.data_lines  # no multi-line values in these files: one row per line
    with connect(settings) as lake:
        rows = lake.incidents().select("record_key", "source_row").execute()
        q = lake.quarantine().execute() if report.rows_quarantined else None
    quarantine = [] if q is None else list(zip(q["source_row"], q["reason"], q["raw"], strict=True))
    assert len(rows) == case.loaded
    if path.suffix in {".csv", ".gz"} and name != "blank_lines":  # a row's line number is its position
        ids = rows["record_key"].str.rsplit("J", n=1).str[1].astype("int64") - _FIRST_ID
        assert (rows["source_row"] == ids + 1).all()
    for row, reason, raw in quarantine:
        if reason in {"quoting_out_of_sync", "field_too_long"}:
            assert raw and len(raw) <= 2000 + 10  # the raw line, cut short, kept for the reviewer
            assert 1 <= row <= case.data_lines


def test_stray_quote_row_is_the_one_quarantined(corpus: dict[str, Case], settings: Settings) -> None:
    _, path = _cases(corpus, "stray_quote_unquoted")
    ingest_file(settings, path)
    with connect(settings) as lake:
        q = lake.quarantine().execute()
    assert list(zip(q["source_row"], q["reason"], strict=True)) == [(71, "quoting_out_of_sync")]
    assert f"J{_FIRST_ID + 70}" in q["raw"][0]


def test_importing_the_recovered_file_twice_changes_nothing(corpus: dict[str, Case], settings: Settings) -> None:
    _, path = _cases(corpus, "stray_quote_minimal")
    first = ingest_file(settings, path)
    again = ingest_file(settings, path)
    assert again.skipped_duplicate_file and again.rows_loaded == first.rows_loaded
