"""The assessment's Excel tables (one sheet per table of the bulletin, full length), written with xlsxwriter."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anju.assess.monthly import MonthAssessment

__all__ = ["write_workbook"]

SCORE_COLUMNS = {"rank": "名次", "area_id": "小区编码", "name": "小区", "street_name": "街镇",
                 "preventable": "可防性案件", "preventable_prev": "去年同月", "yoy_change": "同比",
                 "collection_rate": "信息采集率", "stale_share": "逾期未核实占比", "patrol_compliance": "巡逻履职率",
                 "night_compliance": "夜间巡逻完成率", "fast_scan_share": "打卡过快占比", "camera_uptime": "探头完好率",
                 "camera_fault_rate": "探头故障率", "satisfaction_rate": "满意度", "feel_safe_rate": "安全感",
                 "score": "总分", "title_zh": "称号", "rank_prev": "上月名次", "rank_change": "名次变化",
                 "missing": "缺少数据"}


def write_workbook(m: MonthAssessment, path: str | Path) -> Path:
    """Write the month's tables to ``path`` (.xlsx) and return it."""
    r = m.rubric
    sc = m.scores.copy()
    cols = [c for c in SCORE_COLUMNS if c in sc.columns]
    pts = [f"pts_{i.id}" for i in r.indicator] + [f"ded_{d.id}" for d in r.deduction]
    names = {**SCORE_COLUMNS, **{f"pts_{i.id}": f"{i.zh}得分" for i in r.indicator},
             **{f"ded_{d.id}": f"扣分：{d.zh}" for d in r.deduction}}
    sc["missing"] = sc["missing"].map(lambda v: "、".join(v) if isinstance(v, list) else "")
    sc = sc[cols[:-4] + pts + cols[-4:]].rename(columns=names)
    sheets: dict[str, pd.DataFrame] = {"考评结果": sc}
    nm = m.scores.set_index("area_id")["name"]
    if len(m.patrol):
        sheets["电子巡更"] = m.patrol.assign(name=m.patrol["community_id"].map(nm))
    if len(m.cameras):
        sheets["技防设施"] = m.cameras.assign(name=m.cameras["community_id"].map(nm))
    if len(m.survey_streets):
        sheets["电话访评-街镇"] = m.survey_streets
    if len(m.survey):
        sheets["电话访评-小区"] = m.survey.assign(name=m.survey["community_id"].map(nm))
    sheets["重点小区"] = m.keys["communities"]
    sheets["重点街镇"] = m.keys["streets"]
    sheets["多发可防性案件"] = m.keys["types"]
    if m.commendations is not None:
        cm = m.commendations.copy()
        cm["titles"] = cm["titles"].map(lambda v: "、".join(x or "—" for x in v))
        sheets["季度表彰"] = cm
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(out, engine="xlsxwriter") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False)
            xw.sheets[name].freeze_panes(1, 0)
            xw.sheets[name].set_column(0, max(len(df.columns) - 1, 0), 14)
    return out
