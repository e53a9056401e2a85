"""《小区治安月通报》 — the monthly bulletin as a Word document (python-docx), after GB/T 9704-2012.

Layout after the 党政机关公文格式 standard: A4, margins 37 mm (top, 天头) / 35 mm (bottom) / 28 mm (left, 订口) /
26 mm (right), body 3号 (16 pt) at a fixed 28.9 pt line pitch (22 lines a page), title 2号 (22 pt), first-level
headings "一、" in a sans (黑体) face, second-level "（一）" in bold serif, page numbers "— 1 —" at the foot, a red
版头 with the issuing body and a red rule, the issue number and date, and a 版记 (抄送, 印发) at the end. Fonts are
those Debian ships (``fonts-noto-cjk``): Noto Serif CJK SC stands in for 仿宋/宋体 and Noto Sans CJK SC for 黑体;
python-docx sets only the ASCII font names, so the East-Asian font is written into ``w:rFonts`` directly.
Dates are Chinese (2026年1月5日, Arabic numerals as the standard prescribes for 成文日期).

The document renders a :class:`~anju.assess.monthly.MonthAssessment`; it computes no number of its own.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from anju.assess.monthly import MonthAssessment

__all__ = ["BODY_FONT", "HEAD_FONT", "cn_date", "findings", "write_bulletin"]

BODY_FONT = "Noto Serif CJK SC"  # for 仿宋_GB2312 / 宋体
HEAD_FONT = "Noto Sans CJK SC"  # for 黑体
RED = RGBColor(0xE6, 0x00, 0x12)
CN_NUM = "一二三四五六七八九十"


def cn_date(d: dt.date) -> str:
    """``2026年1月5日``."""
    return f"{d.year}年{d.month}月{d.day}日"


def _pct(x: float, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * 100:.{digits}f}%"


def _font(run: Any, name: str, size: float, *, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _para(doc: Any, text: str = "", *, font: str = BODY_FONT, size: float = 16, bold: bool = False,
          align: Any = None, indent: bool = True, color: RGBColor | None = None, space_after: float = 0) -> Any:
    p = doc.add_paragraph()
    pf = p.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(28.9)
    pf.space_after = Pt(space_after)
    pf.space_before = Pt(0)
    if indent:
        pf.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    if text:
        _font(p.add_run(text), font, size, bold=bold, color=color)
    return p


def _rule(doc: Any) -> None:
    """A red rule under the 版头 (a bottom border on an empty paragraph)."""
    p = doc.add_paragraph()
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", "E60012")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)


def _page_numbers(section: Any) -> None:
    """Footer "— N —" (4号, centred) with a PAGE field."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), BODY_FONT, 14)
    run = p.add_run()
    _font(run, BODY_FONT, 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    _font(p.add_run(" —"), BODY_FONT, 14)


def _table(doc: Any, header: list[str], rows: list[list[Any]]) -> None:
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, h in zip(t.rows[0].cells, header, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(h), HEAD_FONT, 12)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r in rows:
        cells = t.add_row().cells
        for cell, v in zip(cells, r, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run("" if v is None else str(v)), BODY_FONT, 12)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, "", indent=False)


def _names(df: pd.DataFrame, limit: int = 40) -> str:
    if df.empty:
        return "无"
    names = [f"{n}（{s}）" if isinstance(s, str) and s else str(n)
             for n, s in zip(df["name"], df.get("street_name", pd.Series([""] * len(df))), strict=False)]
    more = f"等{len(names)}个" if len(names) > limit else f"共{len(names)}个"
    return "、".join(names[:limit]) + more


def _next_steps(m: MonthAssessment, weak_patrol: pd.DataFrame, fast: pd.DataFrame, cams: pd.DataFrame,
                low_streets: pd.DataFrame) -> list[str]:
    steps = []
    if len(m.keys["communities"]):
        steps.append(f"各属地派出所要对{'、'.join(m.keys['communities']['name'].head(3))}等重点小区逐一分析发案原因，"
                     "落实人防、物防、技防措施，压降可防性案件。")
    if len(weak_patrol):
        steps.append(f"{'、'.join(weak_patrol['name'].head(5))}等小区夜间巡逻缺失严重，物业公司要于下月5日前书面说明原因并整改，"
                     "社区民警要加强夜间抽查。")
    if len(fast):
        steps.append(f"{'、'.join(fast['name'].head(5))}等小区存在巡更打卡过快、疑似拍照打卡问题，要逐一核查，情况属实的按考评细则扣分。")
    if len(cams):
        steps.append(f"{'、'.join(cams['name'].head(5))}等小区探头故障率高，要督促物业限期维修，恢复技防设施正常运行。")
    if len(low_streets):
        steps.append(f"{'、'.join(low_streets['name'])}群众满意度明显低于全区，属地派出所要走访了解原因，回应群众诉求。")
    steps.append("各单位要对照考评细则查漏补缺，巩固“零发案小区”“控案先进小区”创建成果。")
    return steps


def findings(m: MonthAssessment) -> dict[str, pd.DataFrame]:
    """The flagged communities and streets the bulletin names (thresholds written here, shown in the text)."""
    names = m.scores.set_index("area_id")["name"]
    out: dict[str, pd.DataFrame] = {}
    p = m.patrol
    if len(p):
        p = p.assign(name=p["community_id"].map(names))
        out["weak_night"] = p[p["night_compliance"] < 0.6].sort_values("night_compliance")
        out["fast"] = p[p["fast_scan_share"] > 0.05].sort_values("fast_scan_share", ascending=False)
    else:
        out["weak_night"] = out["fast"] = pd.DataFrame(columns=["name"])
    c = m.cameras
    if len(c):
        c = c.assign(name=c["community_id"].map(names))
        out["cameras"] = c[c["camera_fault_rate"] > 0.3].sort_values("camera_fault_rate", ascending=False)
    else:
        out["cameras"] = pd.DataFrame(columns=["name"])
    s = m.survey_streets
    d = m.survey_district.get("satisfied")
    if len(s) and d:
        out["low_streets"] = s[s["satisfied_hi"] < d["rate"]].sort_values("satisfied_rate")
    else:
        out["low_streets"] = pd.DataFrame(columns=["name"])
    return out


def write_bulletin(m: MonthAssessment, path: str | Path, *, issued: dt.date | None = None, issue_no: int | None = None,
                   cc: str = "区委政法委，区住建委，各街道（镇），各派出所") -> Path:
    """Write the bulletin of ``m`` to ``path`` (.docx) and return the path."""
    issued = issued or dt.date.today()
    no = issue_no if issue_no is not None else m.month.start.month
    r = m.rubric
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    _page_numbers(sec)
    # 版头
    _para(doc, "小区治安月通报", font=BODY_FONT, size=36, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          color=RED)
    _para(doc, f"{m.month.start.year}年第{no}期", size=16, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, f"{r.issuer_zh}　　　　　　{cn_date(issued)}", size=14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _rule(doc)
    month_zh = f"{m.month.start.year}年{m.month.start.month}月"
    _para(doc, f"{month_zh}全区居民小区治安考评情况通报", size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
          indent=False, space_after=16)
    t = m.totals
    fnd = findings(m)

    def h1(i: int, text: str) -> None:
        _para(doc, f"{CN_NUM[i]}、{text}", font=HEAD_FONT, size=16)

    h1(0, "总体情况")
    change = t["preventable_change"]
    direction = "下降" if change < 0 else "上升"
    _para(doc, f"{month_zh}，全区{t['communities']}个居民小区共发生可防性案件{t['preventable']}起，"
               f"去年同月{t['preventable_prev']}起，同比{direction}{_pct(abs(change))}。按《{r.zh}》"
               f"（版本{r.version}）考评，全区小区平均得分{t['mean_score']:.1f}分；"
               f"评出“{r.titles.zero_case.zh}”{t['zero_case']}个、“{r.titles.control.zh}”{t['control']}个。")

    h1(1, "考评结果")
    sc = m.scores
    _para(doc, "（一）" + r.titles.zero_case.zh + "：" + _names(sc[sc["title"] == "zero_case"]) + "。",
          font=BODY_FONT, bold=False)
    _para(doc, "（二）" + r.titles.control.zh + "：" + _names(sc[sc["title"] == "control"]) + "。")
    _para(doc, "（三）得分前十名和后五名小区如下表：")
    head = ["名次", "小区", "街镇", "可防性案件", "去年同月", *[i.zh for i in r.indicator], "总分", "较上月"]
    rows = []
    show = pd.concat([sc.head(10), sc.tail(5)]) if len(sc) > 15 else sc
    for _, x in show.iterrows():
        rc = x.get("rank_change")
        mv = "—" if rc is None or pd.isna(rc) else ("↑" + str(int(rc)) if rc > 0 else ("↓" + str(-int(rc)) if rc < 0
                                                                                        else "持平"))
        rows.append([int(x["rank"]), x["name"], x.get("street_name", ""), int(x["preventable"]),
                     int(x["preventable_prev"]), *[f"{x[f'pts_{i.id}']:.1f}" for i in r.indicator],
                     f"{x['score']:.1f}", mv])
    _table(doc, head, rows)

    h1(2, "重点小区、重点街镇和多发可防性案件")
    y0, m0 = (m.month.start.year - r.key.years, m.month.start.month + 1) if m.month.start.month < 12 else (
        m.month.start.year - r.key.years + 1, 1)
    span = f"{y0}年{m0}月至{month_zh}"
    _para(doc, f"近{r.key.years}年（{span}）可防性案件最多的{r.key.communities}个重点小区、{r.key.streets}个重点街镇和"
               f"{r.key.types}类多发可防性案件如下：")
    _table(doc, ["序号", "重点小区", "可防性案件"],
           [[int(x["rank"]), x["name"], int(x["count"])] for _, x in m.keys["communities"].iterrows()])
    _table(doc, ["序号", "重点街镇", "可防性案件"],
           [[int(x["rank"]), x["name"], int(x["count"])] for _, x in m.keys["streets"].iterrows()])
    _table(doc, ["序号", "案件类型", "起数", "占可防性案件"],
           [[int(x["rank"]), x["label_zh"], int(x["count"]), _pct(x["share"])] for _, x in m.keys["types"].iterrows()])

    h1(3, "保安巡逻和技防设施检查情况")
    p = m.patrol
    if len(p):
        tot_s, tot_d = int(p["scheduled"].sum()), int(p["done"].sum())
        ns, nm = int(p["night_scheduled"].sum()), int(p["night_missed"].sum())
        _para(doc, f"（一）电子巡更。本月各小区计划巡逻{tot_s}趟，实际完成{tot_d}趟（{_pct(tot_d / max(tot_s, 1))}），"
                   f"其中夜间计划{ns}趟、漏巡{nm}趟。夜间巡逻完成率低于60%的小区："
                   f"{_names(fnd['weak_night'])}；巡更打卡过快（疑似拍照打卡，超过5%的打卡间隔不足20秒）的小区："
                   f"{_names(fnd['fast'])}。")
        wk = fnd["weak_night"]
        if len(wk):
            _table(doc, ["小区", "夜间计划", "夜间漏巡", "夜间完成率", "打卡过快占比"],
                   [[x["name"], int(x["night_scheduled"]), int(x["night_missed"]), _pct(x["night_compliance"]),
                     _pct(x["fast_scan_share"])] for _, x in wk.head(10).iterrows()])
    else:
        _para(doc, "（一）电子巡更。本月未导入巡更记录。")
    c = m.cameras
    if len(c):
        cams, faulty = int(c["cameras"].sum()), int(c["faulty_end"].sum())
        _para(doc, f"（二）技防设施。全区小区共有探头{cams}个，月末故障{faulty}个（故障率{_pct(faulty / max(cams, 1))}），"
                   f"平均完好率{_pct(float((c['camera_uptime'] * c['cameras']).sum() / max(cams, 1)))}。"
                   f"月末故障率超过30%的小区：{_names(fnd['cameras'])}。")
        if len(fnd["cameras"]):
            _table(doc, ["小区", "探头数", "月末故障", "故障率", "本月完好率"],
                   [[x["name"], int(x["cameras"]), int(x["faulty_end"]), _pct(x["camera_fault_rate"]),
                     _pct(x["camera_uptime"])] for _, x in fnd["cameras"].head(10).iterrows()])
    else:
        _para(doc, "（二）技防设施。本月未导入探头台账。")

    h1(4, "群众电话访评情况")
    d = m.survey_district
    if d:
        s, f = d["satisfied"], d["feel_safe"]
        _para(doc, f"本月随机电话访评居民{int(s['n'])}人次（每小区按楼栋分层抽取20人）。全区群众满意度"
                   f"{_pct(s['rate'])}（95%置信区间{_pct(s['lo'])}—{_pct(s['hi'])}），安全感{_pct(f['rate'])}"
                   f"（{_pct(f['lo'])}—{_pct(f['hi'])}），按小区户数加权，设计效应{s['deff']:.2f}。"
                   f"满意度明显低于全区（置信区间上限低于全区水平）的街镇：{_names(fnd['low_streets'])}。")
        ss = m.survey_streets.sort_values("satisfied_rate")
        _table(doc, ["街镇", "访评人数", "满意度", "95%区间", "安全感"],
               [[x["name"], int(x["satisfied_n"]), _pct(x["satisfied_rate"]),
                 f"{_pct(x['satisfied_lo'])}—{_pct(x['satisfied_hi'])}", _pct(x["feel_safe_rate"])]
                for _, x in ss.iterrows()])
    else:
        _para(doc, "本月未导入电话访评结果。")

    i = 5
    if m.commendations is not None:
        h1(i, "季度表彰")
        cm = m.commendations
        q = (m.month.start.month - 1) // 3 + 1
        _para(doc, f"根据{m.month.start.year}年第{q}季度考评结果，以下小区连续{r.commendation.months_with_title}个月获评"
                   f"“{r.titles.zero_case.zh}”或“{r.titles.control.zh}”且平均得分不低于{r.commendation.min_score:g}分，"
                   f"予以通报表彰：{_names(cm)}。")
        i += 1
    h1(i, "下步工作要求")
    for k, text in enumerate(_next_steps(m, fnd["weak_night"], fnd["fast"], fnd["cameras"], fnd["low_streets"])):
        _para(doc, f"（{CN_NUM[k]}）{text}")
    # 版记
    _para(doc, "", indent=False)
    _rule(doc)
    _para(doc, f"抄送：{cc}。", size=14, indent=False)
    _para(doc, f"{r.issuer_zh}　　　　{cn_date(issued)}印发", size=14, indent=False)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out
