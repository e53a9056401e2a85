"""Every import accounts for every row: loaded, unchanged (already there) or rejected with its line and reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anju.assess.inputs import InputError, import_input, stored
from anju.config import load_settings


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_settings(data_dir=tmp_path / "d", quiet=True)


def _csv(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_scans_rows_accounted_and_reimport_changes_nothing(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = _csv(tmp_path, "s.csv", "小区编码,保安编号,巡更点,打卡时间\n"
             "c1,g1,1,2025-11-03 22:00:00\n"
             "c1,g1,2,2025-11-03 22:03:00\n"
             "c1,g1,2,2025-11-03 22:03:00\n"      # repeated in the file
             "c9,g1,1,2025-11-03 22:00:00\n"      # unknown community
             "c1,,1,2025-11-03 22:00:00\n"        # no guard
             "c1,g1,x,2025-11-03 22:00:00\n"      # bad checkpoint
             "c1,g1,3,昨天晚上\n")                  # bad time
    r = import_input(settings, "patrol_scans", p, known_communities={"c1", "c2"})
    assert (r.rows, r.loaded, r.unchanged) == (7, 2, 1) and r.accounted
    assert r.rejected == [(5, "unknown community_id (not in the community layer)"), (6, "guard_id is empty"),
                          (7, "checkpoint must be a whole number ≥ 1"),
                          (8, "scanned_at is not a date/time (e.g. 2025-11-03 22:05:00)")]
    again = import_input(settings, "patrol_scans", p, known_communities={"c1", "c2"})
    assert (again.loaded, again.unchanged, len(again.rejected)) == (0, 3, 4)
    s = stored(settings, "patrol_scans")
    assert s is not None and len(s) == 2 and str(s["scanned_at"].dtype).startswith("datetime64")


def test_gb18030_and_excel_and_personal_columns(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = _csv(tmp_path, "f.csv", "小区编码,楼号,居民编号,姓名,手机\nc1,1,R1,张三,13800000000\nc1,2,R2,李四,13900000000\n",
             encoding="gb18030")
    r = import_input(settings, "survey_frame", p)
    assert r.loaded == 2 and sorted(r.dropped_columns) == ["姓名", "手机"]
    s = stored(settings, "survey_frame")
    assert s is not None and list(s.columns) == ["community_id", "building", "resident_ref"]
    x = tmp_path / "reg.xlsx"
    pd.DataFrame({"月份": ["2025-11", "2025-11", "2025-13"], "小区编码": ["c1", "c1", "c1"], "楼号": ["1", "2", "3"],
                  "户数": ["80", "80", "80"], "已采集户数": ["70", "90", "70"], "逾期未核实户数": ["5", "5", "5"]}
                 ).to_excel(x, index=False)
    r2 = import_input(settings, "registrations", x)
    assert r2.loaded == 1 and [line for line, _ in r2.rejected] == [3, 4]
    assert "exceeds" in r2.rejected[0][1] and "YYYY-MM" in r2.rejected[1][1]


def test_faults_repaired_before_reported_and_survey_flags(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = _csv(tmp_path, "f.csv", "camera_id,reported_at,repaired_at\nk1,2025-11-03,2025-11-01\nk2,2025-11-03,\n")
    r = import_input(settings, "camera_faults", f)
    assert r.loaded == 1 and r.rejected == [(2, "repaired_at is before reported_at")]
    a = _csv(tmp_path, "a.csv", "month,community_id,building,resident_ref,reached,feel_safe,satisfied,saw_patrol\n"
             "2025-11,c1,1,R1,1,1,0,\n2025-11,c1,1,R2,1,2,0,1\n")
    r = import_input(settings, "survey_answers", a)
    assert r.loaded == 1 and r.rejected[0][0] == 3 and "feel_safe" in r.rejected[0][1]


def test_whole_file_refusals(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = _csv(tmp_path, "x.csv", "community_id,guard_id\nc1,g1\n")
    with pytest.raises(InputError, match="missing checkpoint, scanned_at"):
        import_input(settings, "patrol_scans", p)
    with pytest.raises(InputError, match="unknown input kind"):
        import_input(settings, "guards", p)
    assert stored(settings, "patrol_scans") is None
