"""The assessment on the demo district: the planted findings come out, titles follow the lake, the bulletin reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
from docx import Document
from typer.testing import CliRunner

from anju.assess.inputs import KINDS, import_demo_inputs
from anju.taxonomy import load_taxonomy


def test_demo_inputs_are_imported_with_every_row_accounted(demo: dict[str, Any]) -> None:
    reps = {r.kind: r for r in demo["result"].assessment_reports}
    assert set(reps) == set(KINDS)
    for r in reps.values():
        assert r.accounted and r.loaded == r.rows and not r.rejected
    assert reps["patrol_scans"].rows == demo["planted"]["rows"]["patrol_scans"]
    again = import_demo_inputs(demo["settings"], demo["dir"])
    assert all(r.loaded == 0 and r.unchanged == r.rows for r in again)


def test_planted_patrol_findings(december: Any, demo: dict[str, Any]) -> None:
    p = december.patrol.set_index("community_id")
    weak = set(p.index[p["night_compliance"] < 0.6])
    assert weak == set(demo["planted"]["night_skippers"])
    fast = set(p.index[p["fast_scan_share"] > 0.05])
    assert fast == set(demo["planted"]["fast_scanners"])
    others = p.drop(index=list(weak | fast))
    assert others["night_compliance"].min() > 0.85 and others["patrol_compliance"].median() > 0.9


def test_planted_camera_failure(december: Any, demo: dict[str, Any]) -> None:
    c = december.cameras.set_index("community_id")
    bad = demo["planted"]["camera_failure"]
    assert c.loc[bad, "camera_fault_rate"] > 0.8
    assert c["camera_fault_rate"].drop(index=bad).max() < 0.3
    assert c["camera_fault_rate"].idxmax() == bad


def test_planted_low_satisfaction_street(december: Any, demo: dict[str, Any]) -> None:
    s = december.survey_streets.set_index("street_id")
    low = demo["planted"]["low_satisfaction_street"]
    d = december.survey_district["satisfied"]
    assert s["satisfied_rate"].idxmin() == low
    assert set(s.index[s["satisfied_hi"] < d["rate"]]) == {low}
    assert d["lo"] < d["rate"] < d["hi"] and d["deff"] > 1
    assert (december.survey.groupby("community_id")["sampled"].sum() == 20).all()


def test_titles_follow_an_independent_count_of_preventable_cases(december: Any, demo: dict[str, Any]) -> None:
    settings = demo["settings"]
    from anju.lake import connect

    with connect(settings) as lake:
        files = [Path(settings.paths.lake) / f for f in lake.manifest.files("incidents")]
    raw = pd.concat([pq.read_table(f, columns=["reported_at", "category", "community_id"]).to_pandas()
                     for f in files], ignore_index=True)
    prevent = set(load_taxonomy().codes(preventable=True))
    raw = raw[raw["category"].isin(prevent) & raw["community_id"].notna()]
    ts = pd.to_datetime(raw["reported_at"])
    if ts.dt.tz is not None:
        ts = ts.dt.tz_localize(None)
    now = raw[(ts >= "2025-12-01") & (ts < "2026-01-01")].groupby("community_id").size()
    prev = raw[(ts >= "2024-12-01") & (ts < "2025-01-01")].groupby("community_id").size()
    sc = december.scores.set_index("area_id")
    cases = now.reindex(sc.index).fillna(0)
    last = prev.reindex(sc.index).fillna(0)
    assert (sc["preventable"] == cases).all() and (sc["preventable_prev"] == last).all()
    assert set(sc.index[sc["title"] == "zero_case"]) == set(sc.index[cases == 0])
    ctrl = (cases > 0) & (last >= 3) & (cases <= 0.6 * last) & (sc["score"] >= 85)
    assert set(sc.index[sc["title"] == "control"]) == set(sc.index[ctrl])
    assert len(sc) == 120 and sc["score"].between(0, 100).all()


def test_key_lists(december: Any) -> None:
    k = december.keys
    assert len(k["communities"]) == 10 and len(k["streets"]) == 5 and len(k["types"]) == 7
    assert k["communities"]["count"].is_monotonic_decreasing and k["types"]["count"].is_monotonic_decreasing
    assert k["types"]["share"].sum() < 1


def test_cli_writes_the_bulletin_and_tables(demo: dict[str, Any], tmp_path: Path) -> None:
    from anju.cli import app

    out = tmp_path / "b"
    res = CliRunner().invoke(app, ["--data-dir", str(demo["settings"].data_dir), "--quiet", "assess", "--month",
                                   "2025-12", "--out", str(out), "--issued", "2026-01-05"])
    assert res.exit_code == 0, res.output
    doc = Document(str(out / "小区治安月通报-2025-12.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "小区治安月通报" in text and "2025年第12期" in text and "2026年1月5日" in text
    assert "2025年12月全区居民小区治安考评情况通报" in text
    for head in ("一、总体情况", "二、考评结果", "三、重点小区、重点街镇和多发可防性案件", "四、保安巡逻和技防设施检查情况",
                 "五、群众电话访评情况", "六、季度表彰", "下步工作要求"):
        assert head in text
    p = demo["planted"]
    assert p["camera_failure_name"] in text and p["low_satisfaction_street_name"] in text
    m = (out / "summary.json").read_text(encoding="utf-8")
    assert '"month": "2025-12"' in m
    sec = doc.sections[0]
    assert round(sec.top_margin.mm) == 37 and round(sec.left_margin.mm) == 28 and round(sec.page_width.mm) == 210
    fonts = {r._element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
             for para in doc.paragraphs for r in para.runs}
    assert fonts <= {"Noto Serif CJK SC", "Noto Sans CJK SC"}
    assert "翠竹康城" in cells or p["camera_failure_name"] in cells
    wb = openpyxl.load_workbook(out / "小区治安考评-2025-12.xlsx", read_only=True)
    assert {"考评结果", "电子巡更", "技防设施", "重点小区", "多发可防性案件"} <= set(wb.sheetnames)
    assert wb["考评结果"].max_row == 121
    bad = CliRunner().invoke(app, ["--data-dir", str(demo["settings"].data_dir), "assess", "--month", "2025/12"])
    assert bad.exit_code != 0


def test_scores_are_reproducible(demo: dict[str, Any], december: Any) -> None:
    from anju.assess.monthly import assess_month

    again = assess_month(demo["settings"], "2025-12")
    pd.testing.assert_frame_equal(again.scores.drop(columns="missing"), december.scores.drop(columns="missing"))
    assert dt.date(2025, 12, 1) == december.month.start and np.isfinite(december.totals["mean_score"])
