"""The printable case report (挂牌督导个案报告, .docx): the case, "why this community" at opening and at the latest
review against the district median, the measures and visits log, and the progress towards the goal 同比."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm

from anju.assess.bulletin import HEAD_FONT, _para, _table, cn_date
from anju.ops.models import SupervisionCase

__all__ = ["STATUS_ZH", "write_case_report"]

STATUS_ZH = {"open": "督导中", "reviewing": "评估中", "closed_met": "已销号（达标）", "closed_not_met": "结案（未达标）",
             "merged": "已合并"}
CATEGORY_ZH = {"people": "人防", "physical": "物防", "technical": "技防", "management": "管理", "enforcement": "打击",
               "visit": "走访"}


def _v(x: object, pct: bool = False) -> str:
    if x is None:
        return "—"
    if pct and isinstance(x, float):
        return f"{x * 100:.1f}%"
    return f"{x:g}" if isinstance(x, float) else str(x)


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%"


def write_case_report(case: SupervisionCase, path: str | Path, *, issued: dt.date | None = None,
                      evaluation: dict[str, Any] | None = None) -> Path:
    """Write the case report of ``case`` (with its snapshots and measures loaded) to ``path``; ``evaluation`` (from
    :func:`anju.supervision.service.evaluate_cases`) adds the listed set's raw change, the change expected without
    intervention and the net effect, and this community's observed against expected count."""
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    com = case.community
    _para(doc, f"{com.name}挂牌督导个案报告", size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          space_after=12)
    _para(doc, "一、基本情况", font=HEAD_FONT)
    _para(doc, f"{com.name}（{com.code}）于{cn_date(case.opened_on)}列为挂牌督导小区"
               f"（{'按' + case.base_period + '年发案排名第' + str(case.rank_at_opening) + '位' if case.rank_at_opening else '人工列入'}），"
               f"督导领导{case.official}，责任社区民警{case.community_police or '—'}，派出所{case.station_code or '—'}。"
               f"整治目标：{case.families.replace('theft', '盗窃')}类警情同比下降{abs(case.goal_change) * 100:.0f}%。"
               f"当前状态：{STATUS_ZH.get(case.status, case.status)}"
               + (f"（{cn_date(case.closed_on)}）" if case.closed_on else "") + "。")
    opening = next((s for s in case.snapshots if s.kind == "opening"), None)
    latest = next((s for s in reversed(case.snapshots) if s.kind == "review"), None)
    _para(doc, "二、风险画像（与全区中位数对比）", font=HEAD_FONT)
    if opening is not None:
        rows = []
        late = {f["key"]: f for f in (latest.profile["factors"] if latest else [])}
        for f in opening.profile["factors"]:
            pct = f["key"].endswith(("share", "rate"))
            lt = late.get(f["key"], {})
            rows.append([f["zh"], _v(f["value"], pct), _v(f["median"], pct), _v(f["ratio"]),
                         _v(lt.get("value"), pct) if latest else "—"])
        _table(doc, ["因素", f"列管时（{opening.as_of}）", "全区中位数", "倍数", f"最近评估（{latest.as_of if latest else '—'}）"],
               rows)
        lead = "、".join(f"{c}（{n}起）" for c, n in opening.profile.get("leading_types", []))
        _para(doc, f"列管前12个月主要警情类型：{lead or '无'}。")
    _para(doc, "三、整治措施和走访记录", font=HEAD_FONT)
    if case.measures:
        _table(doc, ["日期", "类别", "措施", "责任人", "费用（元）", "佐证"],
               [[str(m.on_date), CATEGORY_ZH.get(m.category, m.category), m.what, m.who or "—",
                 _v(m.cost_yuan), m.evidence_name or "—"] for m in case.measures])
    else:
        _para(doc, "尚未登记整治措施。")
    _para(doc, "四、整治成效", font=HEAD_FONT)
    reviews = [(s.as_of, s.progress) for s in case.snapshots if s.kind == "review" and s.progress]
    if reviews:
        _table(doc, ["评估日期", "统计时段", "发案", "去年同期", "同比", "P值", "全区排名", "是否达标"],
               [[str(day), pr["span"], pr["count"], pr["count_prev"], _v(pr["change"], True),
                 f"{pr['p_value']:.3g}" if pr["p_value"] is not None else "—", pr["rank"],
                 "是" if pr["goal_met"] else "否"] for day, pr in reviews])
        _para(doc, "注：同比变化含回归均值成分（因上一年发案多而列管的小区，即便不整治次年也会有所下降），"
                   "整体净效果见下。")
    else:
        _para(doc, "尚未评估。")
    if evaluation is not None:
        ev = evaluation
        _para(doc, f"挂牌小区整体成效（{ev['listed']}个小区，{ev['period']}对比基期{ev['base_period']}，扣除回归均值）：",
              font=HEAD_FONT)
        _table(doc, ["指标", "数值", "说明"], [
            ["原始变化", _pct(ev["raw_change"]), "实际发案相对基期（按天折算）"],
            ["无干预预期变化", _pct(ev["expected_change"]), "经验贝叶斯预测：回归均值与全区趋势"],
            ["净效果", _pct(ev["net_change"]), f"95%区间 {_pct(ev['net_lo'])} 至 {_pct(ev['net_hi'])}"],
            ["对照组倍差", _pct(ev["did_change"]),
             f"对照{ev['comparison']}个相近小区，95%区间 {_pct(ev['did_lo'])} 至 {_pct(ev['did_hi'])}"],
        ])
        mine = ev["per_area"].get(case.community.code)
        if mine is not None:
            _para(doc, f"本小区：基期{mine['count_pre']}起，评估期{mine['count_post']}起，"
                       f"无干预预期约{mine['expected']:.0f}起。")
    _para(doc, f"{cn_date(issued or dt.date.today())}", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out
