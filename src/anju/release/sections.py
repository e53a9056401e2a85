"""The section builders of a release: each calls analytics functions and returns tables, figures and notes.

A builder chooses columns, labels them in Chinese and English, reshapes (melt, pivot, merge on keys) and writes
sentences quoting the numbers it received. It never computes a number: counts, rates, shares, intervals, tests and
the index all come from :mod:`anju.analytics` and :mod:`anju.spatial.kde`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from anju.release.inputs import Part, ReleaseInputs
from anju.release.model import Column, Figure, Note, Table, format_money
from anju.release.style import WEEKDAYS

__all__ = ["BUILDERS", "night_label"]


def _part() -> Part:
    return Part()


def _cmp(inp: ReleaseInputs) -> Any:
    return inp.comparison


def _lab(df: pd.DataFrame, inp: ReleaseInputs, zh: str = "label_zh", en: str = "label_en") -> pd.Series:
    col = zh if inp.lang == "zh" else en
    return df[col] if col in df.columns else df[zh]


def _verdict(df: pd.DataFrame, inp: ReleaseInputs) -> pd.Series:
    col = "verdict_zh" if inp.lang == "zh" else "verdict_en"
    return df[col] if col in df.columns else pd.Series([None] * len(df), index=df.index)


def _fmt_pct(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:+.1f}%"


_LEVEL_LABEL = {"community": ("社区", "Community"), "grid": ("网格", "Grid cell"), "street": ("街镇", "Street"),
                "police_district": ("警区", "Police district"), "station": ("派出所", "Police station"),
                "district": ("区", "District"), "unit": ("管辖单位", "Responsible unit")}

NO_RESIDENTS_ZH = "辖区图层缺少常住人口数据，未计算千人发案率与平安指数"
NO_RESIDENTS_EN = ("The area layer has no resident population, so rates per 1,000 residents and the safety index are "
                   "not computed")


def level_label(level: str) -> tuple[str, str]:
    """The (zh, en) name of an area level, e.g. ``("社区", "Community")``."""
    return _LEVEL_LABEL.get(level, (level, level))


def has_residents(inp: ReleaseInputs) -> bool:
    """Whether the base area layer carries a usable ``population`` (else the index and per-1,000 rates are left out)."""
    return inp.has_attribute(inp.base_level, "population")


def night_label(inp: ReleaseInputs) -> str:
    return str(inp.deployment.night.label(inp.lang))


# Columns shared by the change tables (from anju.analytics.change.change_table).
def _change_columns(count_key: str = "count") -> tuple[Column, ...]:
    return (
        Column("count_prev", "对比期", "Comparison period", kind="count", small=True),
        Column("change_pct", "变化", "Change", kind="pct", guard=count_key),
        Column("p_value", "p 值", "p-value", kind="pvalue", guard=count_key, detail=True),
        Column("q_value", "q 值（BH 校正）", "q-value (BH-adjusted)", kind="pvalue", guard=count_key),
        Column("significant", "显著（q<0.05）", "Significant (q < 0.05)", kind="bool"),
        Column("verdict", "结论", "Verdict"),
    )


CHANGE_NOTE_ZH = ("变化经精确泊松检验（条件二项，按天数调整）；本表各行为一族检验，按 Benjamini–Hochberg 法校正为 q 值，"
                  "q<0.05 判为显著；样本过少时只报结论。")
CHANGE_NOTE_EN = ("Changes tested with an exact Poisson test (conditional binomial, adjusted for the days); the rows of "
                  "this table are one family of tests, adjusted by Benjamini–Hochberg into q-values, significant when "
                  "q < 0.05; with too few calls only the verdict is shown.")


def _with_change(out: pd.DataFrame, df: pd.DataFrame, inp: ReleaseInputs) -> pd.DataFrame:
    for k in ("count_prev", "change_pct", "p_value", "q_value", "significant"):
        out[k] = df[k].to_numpy() if k in df.columns else np.nan
    out["verdict"] = _verdict(df, inp).to_numpy()
    return out


# ---------------------------------------------------------------------------------------------------- headline
_HEADLINE_KIND = {"dispute_share": "share", "night_share": "share", "fraud_loss_yuan": "money"}


def headline_section(inp: ReleaseInputs) -> Part:
    from anju.analytics import headline

    part = _part()
    df = headline(inp.incidents, inp.period, comparison=_cmp(inp), taxonomy=inp.taxonomy)
    out = pd.DataFrame({
        "metric": df["metric"].to_numpy(),
        # money is shown as 万元/亿元 by the renderers, so the label names no unit of its own
        "indicator": _lab(df, inp).str.replace("（元）", "", regex=False).str.replace(" (yuan)", "", regex=False)
        .to_numpy(),
        "kind": [_HEADLINE_KIND.get(m, "count") for m in df["metric"]],
        "value": df["value"].to_numpy(),
        "compare": df["value_prev"].to_numpy() if "value_prev" in df.columns else np.nan,
        "change": df["change"].to_numpy() if "change" in df.columns else np.nan,
    })
    out = _with_change(out, df, inp)
    if not inp.has_loss:  # no amount in the source: no data, not 0 yuan
        out.loc[out["metric"] == "fraud_loss_yuan", ["value", "compare", "change", "change_pct", "p_value"]] = np.nan
        out.loc[out["metric"] == "fraud_loss_yuan", "verdict"] = "无数据" if inp.lang == "zh" else "no data"
    cols = (
        Column("metric", "指标代码", "Metric", kind="id"), Column("indicator", "指标", "Indicator"),
        Column("kind", "类型", "Kind", kind="id"), Column("value", "本期", "This period", kind="float"),
        Column("compare", "对比期", "Comparison period", kind="float"),
        Column("change", "变化量", "Difference", kind="float", digits=4, detail=True),
        Column("change_pct", "变化", "Change", kind="pct"), Column("p_value", "p 值", "p-value", kind="pvalue"),
        Column("q_value", "q 值（BH 校正）", "q-value (BH-adjusted)", kind="pvalue"),
        Column("significant", "显著", "Significant", kind="bool"), Column("verdict", "结论", "Verdict"),
    )
    out["q_value"] = df["q_value"].to_numpy() if "q_value" in df.columns else np.nan
    part.tables.append(Table("headline", "核心指标", "Headline figures", "headline", cols, out,
                             note_zh="计数经精确泊松检验（条件二项），七项计数为一族检验，按 Benjamini–Hochberg 校正，"
                                     "q<0.05 为显著；占比经 Fisher 精确检验；“样本过少”时不报告百分比；"
                                     "数据源无损失金额时显示“—”（无数据），不作 0 元。",
                             note_en="Counts tested with an exact Poisson (conditional binomial) test, the seven "
                                     "counts adjusted together by Benjamini–Hochberg (significant when q < 0.05); "
                                     "shares by Fisher's exact test; no percentage when the sample is too small; "
                                     "“—” where the source has no loss amounts (no data, not 0 yuan)."))
    by = out.set_index("metric")
    if "total" in by.index:
        r = by.loc["total"]
        zh = f"本期共接报{_spaced(inp.record_type[0])} {r['value']:,.0f} 起"
        en = f"{inp.record_type[1]} this period: {r['value']:,.0f}"
        if inp.comparison is not None and pd.notna(r["compare"]):
            zh += f"，对比期 {r['compare']:,.0f} 起，变化 {_fmt_pct(r['change_pct'])}（{r['verdict']}）"
            en += f", against {r['compare']:,.0f} in the comparison period: {_fmt_pct(r['change_pct'])} ({r['verdict']})"
        if "dispute_share" in by.index and pd.notna(by.loc["dispute_share", "value"]):
            zh += f"；纠纷类警情占 {by.loc['dispute_share', 'value'] * 100:.1f}%"
            en += f"; disputes make up {by.loc['dispute_share', 'value'] * 100:.1f}%"
        part.notes.append(Note("headline", zh + "。", en + "."))
    return part


# ---------------------------------------------------------------------------------------------------- index map
def _street_names(inp: ReleaseInputs, parent_ids: pd.Series) -> pd.Series:
    streets = inp.areas.get("street")
    if streets is None or "name" not in streets.columns:
        return pd.Series([None] * len(parent_ids), index=parent_ids.index)
    return parent_ids.map(dict(zip(streets["area_id"], streets["name"], strict=False)))


def index_section(inp: ReleaseInputs) -> Part:
    from anju.analytics.index import safety_index

    part = _part()
    grade = "grade_zh" if inp.lang == "zh" else "grade_en"
    cols = (
        Column("rank", "名次（1=最安全）", "Rank (1 = safest)", kind="rank"), Column("area_id", "编号", "Id", kind="id"),
        Column("name", "名称", "Name"), Column("street", "街镇", "Street"),
        Column("index", "平安指数", "Safety index", kind="index"), Column("grade", "等级", "Grade"),
        Column("count", "本期警情", "Calls", kind="count", small=True),
        Column("count_prev", "对比期警情", "Calls, comparison", kind="count", small=True, detail=True),
        Column("population", "常住人口", "Residents", kind="int", detail=True),
        Column("score_rate", "发案率得分", "Rate score", kind="index", detail=True),
        Column("score_preventable", "可防性得分", "Preventable score", kind="index", detail=True),
        Column("score_trend", "趋势得分", "Trend score", kind="index", detail=True),
    )
    if not has_residents(inp):
        return _counts_map(inp)
    for level, zh, en in (("community", "社区平安指数", "Safety index by community"),
                          ("street", "街镇平安指数", "Safety index by street")):
        if level not in inp.areas or not inp.has_attribute(level, "population"):
            continue
        df = safety_index(inp.incidents, inp.period, areas=inp.areas[level], level=level, config=inp.deployment.index,
                          comparison=_cmp(inp), taxonomy=inp.taxonomy)
        df = df.sort_values(["rank", "area_id"], ascending=[False, True], kind="stable")  # worst first
        out = pd.DataFrame({c.key: df[c.key].to_numpy() if c.key in df.columns else np.nan for c in cols})
        out["grade"] = df[grade].to_numpy() if grade in df.columns else df.get("grade")
        parents = inp.areas[level].set_index("area_id")["parent_id"] if "parent_id" in inp.areas[level] else None
        if level == "community" and parents is not None:
            out["street"] = _street_names(inp, df["area_id"].map(parents)).to_numpy()
        table_cols = cols if level == "community" else tuple(c for c in cols if c.key != "street")
        key = f"index_{level}"
        part.tables.append(Table(key, zh, en, "map", table_cols, out[[c.key for c in table_cols]],
                                 note_zh="0–100，越高越安全；由低到高排列（最需关注的在前）；同分同名次；公式与权重见"
                                         "附录“方法与数据说明”。",
                                 note_en="0–100, higher is safer; listed from lowest to highest (those needing most "
                                         "attention first); ties share a rank; formula and weights in the appendix "
                                         "“Methods and data”.",
                                 display_rows=20 if level == "community" else None))
        if level == "community" and level in inp.geo:
            grades = sorted(inp.deployment.index.grade, key=lambda g: g.min)
            bands = [{"min": float(g.min), "max": float(grades[i + 1].min) if i + 1 < len(grades) else 100.0,
                      "zh": f"{g.zh}（{g.min:g}–{grades[i + 1].min if i + 1 < len(grades) else 100:g}）",
                      "en": f"{g.en} ({g.min:g}–{grades[i + 1].min if i + 1 < len(grades) else 100:g})"}
                     for i, g in enumerate(grades)]
            ends = out.dropna(subset=["index"])
            marked = [*ends["area_id"].head(3).astype(str), *ends["area_id"].tail(3).astype(str)]
            enc = {"layer": level, "id": "area_id", "value": "index", "vmin": 0, "vmax": 100, "palette": "safety",
                   "bands": bands, "marked": marked, "unit_zh": "平安指数（0–100）", "unit_en": "Safety index (0–100)"}
            if "street" in inp.geo:
                enc["outline"] = "street"
            part.figures.append(Figure(
                f"map_{level}", "choropleth", key, "map", zh + "地图", en + " (map)", enc,
                note_zh="颜色按等级分段（色盲可辨的橙—紫色阶，橙色为低分）；标出指数最低与最高各 3 个社区；粗线为街镇边界；"
                        "鼠标悬停显示社区名称与指数。",
                note_en="Colours by grade band (an orange–purple scale readable with colour blindness; orange is low); "
                        "the 3 lowest and 3 highest communities are labelled; thick lines are street boundaries; "
                        "hover for a community's name and index."))
        if level == "community" and len(out):
            bottom, top = out.iloc[0], out.iloc[-1]
            part.notes.append(Note(
                "map",
                f"{len(out)} 个社区中，平安指数最高的是{top['name']}（{top['index']:.1f}），最低的是{bottom['name']}"
                f"（{bottom['index']:.1f}）。",
                f"Of {len(out)} communities, {top['name']} scores highest ({top['index']:.1f}) and {bottom['name']} "
                f"lowest ({bottom['index']:.1f}).",
            ))
    return part


def _counts_map(inp: ReleaseInputs) -> Part:
    """Without residents: calls by area of the base level (counts and change tests) and a map of them, plus a note
    saying why the safety index is left out."""
    from anju.analytics.counts import compare

    part = _part()
    level = inp.base_level
    lzh, len_ = level_label(level)
    df = compare(inp.incidents, inp.period, comparison=_cmp(inp), level=level, by=None, areas=inp.areas[level],
                 taxonomy=inp.taxonomy)
    df = df[df["area_id"].notna()].sort_values(["count", "area_id"], ascending=[False, True], kind="stable")
    out = pd.DataFrame({"area_id": df["area_id"].astype(str).to_numpy(), "name": df["name"].to_numpy(),
                        "count": df["count"].to_numpy()})
    out = _with_change(out, df, inp)
    cols = (Column("area_id", "编号", "Id", kind="id"), Column("name", lzh, len_),
            Column("count", "本期警情", "Calls", kind="count", small=True), *_change_columns())
    key = f"counts_{level}"
    zh, en = f"各{lzh}警情", f"Calls by {len_.lower()}"
    part.tables.append(Table(key, zh, en, "map", cols, out, display_rows=20,
                             note_zh=NO_RESIDENTS_ZH + "；按警情数列出。",
                             note_en=NO_RESIDENTS_EN + "; areas are listed by number of calls."))
    if level in inp.geo:
        part.figures.append(Figure(f"map_{level}", "choropleth", key, "map", zh + "地图", en + " (map)",
                                   {"layer": level, "id": "area_id", "value": "count", "palette": "heat"}))
    part.notes.append(Note("map", NO_RESIDENTS_ZH + "。", NO_RESIDENTS_EN + "."))
    return part


# ---------------------------------------------------------------------------------------------------- heat maps
def _grid_table(key: str, zh: str, en: str, grid: Any, min_share: float) -> Table:
    frame = grid.to_frame(min_share)
    data = pd.DataFrame({"i": frame["col"].to_numpy(), "j": frame["row"].to_numpy(), "lon": frame["lon"].to_numpy(),
                         "lat": frame["lat"].to_numpy(), "density": frame["density"].to_numpy()})
    cols = (Column("i", "列号", "Column", kind="int"), Column("j", "行号", "Row", kind="int"),
            Column("lon", "经度", "Longitude", kind="float", digits=5),
            Column("lat", "纬度", "Latitude", kind="float", digits=5),
            Column("density", "核密度（起/平方公里）", "Kernel density (calls/km²)", kind="float"))
    return Table(key, zh, en, "heat", cols, data, display_rows=0,
                 note_zh=f"网格 {grid.cell_size:.0f} 米，带宽 {grid.bandwidth:.0f} 米；只列出密度不低于最大值 "
                         f"{min_share:.0%} 的网格。",
                 note_en=f"{grid.cell_size:.0f} m cells, {grid.bandwidth:.0f} m bandwidth; cells below "
                         f"{min_share:.0%} of the peak density are left out.")


def heat_section(inp: ReleaseInputs) -> Part:
    from anju.spatial.kde import extent_of, heat_map

    part = _part()
    heat = inp.deployment.analysis.heat
    extent = extent_of(inp.incidents, inp.period, cell_size=heat.cell_m)
    night = night_label(inp)
    base = inp.base_level if inp.base_level in inp.geo else next(iter(inp.geo), None)
    for key, zh, en, is_night in (("heat_all", "全天警情热力图", "Heat map, all day", False),
                                  ("heat_night", f"夜间警情热力图（{night}）", f"Heat map, night ({night})", True)):
        grid = heat_map(inp.incidents, inp.period, crs=inp.metric_crs,
                        night=inp.deployment.night if is_night else None, cell_size=heat.cell_m,
                        bandwidth=heat.bandwidth_m, extent=extent)
        part.tables.append(_grid_table(key, zh.replace("热力图", "热力网格"), en.replace("Heat map", "Heat grid"), grid,
                                       heat.min_share))
        enc = {"lon": "lon", "lat": "lat", "value": "density", "i": "i", "j": "j", "cell_m": heat.cell_m,
               "unit_zh": "起/平方公里（本期）", "unit_en": "calls per km² (this period)"}
        if base is not None:
            enc["layer"] = base
        part.figures.append(Figure(
            key, "heat", key, "heat", zh, en, enc,
            note_zh=("核密度，单位：起/平方公里（本期合计）。夜间图用自身色阶：夜间警情远少于全天，用同一色阶将几乎空白；"
                     "两图比较的是位置而非数值。" if is_night else "核密度，单位：起/平方公里（本期合计）。"),
            note_en=("Kernel density in calls per km² over the period. The night map has its own colour scale: night "
                     "calls are far fewer, so on the all-day scale it would be nearly blank; compare where, not how "
                     "much." if is_night else "Kernel density in calls per km² over the period.")))
    return part


# ---------------------------------------------------------------------------------------------------- rankings
def rankings_section(inp: ReleaseInputs) -> Part:
    from anju.analytics.rankings import rankings

    part = _part()
    defs = {k: d for k, d in inp.deployment.rankings.items() if d.enabled}
    fallback: list[str] = []
    for rid, d in list(defs.items()):
        if d.level not in inp.areas and d.level == "community":
            d = d.model_copy(update={"level": inp.base_level})
        den = d.denominator
        if den is not None and not inp.has_attribute(d.level, den):
            what_zh, what_en = ("户数", "households") if den == "households" else ("常住人口", "resident population")
            d = d.model_copy(update={
                "per": "none",
                "description_zh": f"按警情数排名（辖区图层缺少{what_zh}数据，未计算每千{'户' if den == 'households' else '人'}"
                                  "发案率），95% 精确泊松区间。",
                "description_en": f"Ranked by number of calls (the area layer has no {what_en}, so no rate per 1,000 "
                                  "is computed), with 95% exact Poisson intervals."})
            fallback.append(rid)
        defs[rid] = d
    result = rankings(inp.incidents, inp.period, areas=inp.areas, definitions=defs, comparison=_cmp(inp),
                      taxonomy=inp.taxonomy)
    if fallback:
        part.notes.append(Note("rankings", "辖区图层缺少常住人口或户数数据，按率排名的榜单改按警情数排名。",
                               "The area layer has no residents or households, so the rankings by rate are ranked "
                               "by number of calls instead."))
    for rid, df in result.items():
        d = df.attrs.get("definition", {})
        per = d.get("per", "none")
        scale = d.get("scale", 1000)
        unit_zh = {"households": f"每{scale:,.0f}户", "residents": f"每{scale:,.0f}人"}.get(per, "")
        unit_en = {"households": f"per {scale:,.0f} households", "residents": f"per {scale:,.0f} residents"}.get(per, "")
        cols: list[Column] = [
            Column("rank", "名次", "Rank", kind="rank"), Column("area_id", "编号", "Id", kind="id"),
            Column("name", *level_label(str(d.get("level", "community")))), Column("count", "警情数", "Calls", kind="count", small=True),
        ]
        if per != "none":
            cols += [
                Column("denominator", "户数" if per == "households" else "人口",
                       "Households" if per == "households" else "Residents", kind="int", detail=True),
                Column("rate_raw", f"原始率（{unit_zh}）", f"Raw rate ({unit_en})", kind="rate", guard="count",
                       detail=True),
                Column("rate", f"收缩率（{unit_zh}）", f"Shrunk rate ({unit_en})", kind="rate"),
            ]
        else:
            cols.append(Column("rate", "估计值", "Estimate", kind="float"))
        cols += [
            Column("rate_low", "95% 下限", "95% low", kind="rate"), Column("rate_high", "95% 上限", "95% high", kind="rate"),
            Column("count_prev", "对比期警情", "Calls, comparison", kind="count", small=True, detail=True),
            Column("rank_prev", "对比期名次", "Rank, comparison", kind="rank", detail=True),
            Column("rank_change", "名次变化（正=上升）", "Rank change (+ = up)", kind="int"),
            Column("new_entry", "新上榜", "New entry", kind="bool", detail=True),
        ]
        out = pd.DataFrame({c.key: df[c.key].to_numpy() if c.key in df.columns else np.nan for c in cols})
        zh, en = str(d.get("zh", rid)), str(d.get("en", rid))
        key = f"ranking_{rid}"
        part.tables.append(Table(key, zh, en, "rankings", tuple(cols), out,
                                 note_zh=str(d.get("description_zh", "")), note_en=str(d.get("description_en", ""))))
        part.figures.append(Figure(key, "interval", key, "rankings", zh, en,
                                   {"label": "name", "value": "rate", "lower": "rate_low", "upper": "rate_high"},
                                   note_zh="圆点为估计值，条带为 95% 区间。", note_en="Dot: estimate; band: 95% interval."))
    return part


# ---------------------------------------------------------------------------------------------------- categories
def categories_section(inp: ReleaseInputs) -> Part:
    from anju.analytics.counts import compare, shares

    part = _part()
    fam = compare(inp.incidents, inp.period, comparison=_cmp(inp), level=None, by="family", taxonomy=inp.taxonomy)
    sh = shares(inp.incidents, inp.period, by="family", taxonomy=inp.taxonomy)
    fam = fam.merge(sh[["family", "share"]], on="family", how="left").sort_values("count", ascending=False)
    out = pd.DataFrame({"family": fam["family"].to_numpy(), "label": _lab(fam, inp).to_numpy(),
                        "count": fam["count"].to_numpy(), "share": fam["share"].to_numpy()})
    out = _with_change(out, fam, inp)
    cols = (Column("family", "类别代码", "Family code", kind="id"), Column("label", "类别", "Family"),
            Column("count", "本期警情", "Calls", kind="count", small=True),
            Column("share", "占比", "Share", kind="share", guard="count"), *_change_columns())
    part.tables.append(Table("families", "警情类别构成", "Calls by family", "categories", cols, out,
                             note_zh=CHANGE_NOTE_ZH, note_en=CHANGE_NOTE_EN))
    part.figures.append(Figure("family_pie", "pie", "families", "categories", "类别占比", "Share by family",
                               {"label": "label", "value": "count"}))
    part.figures.append(Figure("family_bar", "bar", "families", "categories", "本期与对比期", "This period and comparison",
                               {"x": "label", "series": ["count", "count_prev"], "horizontal": True}))

    leaf = compare(inp.incidents, inp.period, comparison=_cmp(inp), level=None, by="category", taxonomy=inp.taxonomy)
    leaf = leaf.sort_values("count", ascending=False)
    lout = pd.DataFrame({"category": leaf["category"].to_numpy(), "label": _lab(leaf, inp).to_numpy(),
                         "count": leaf["count"].to_numpy()})
    lout = _with_change(lout, leaf, inp)
    lcols = (Column("category", "细类代码", "Category code", kind="id"), Column("label", "细类", "Category"),
             Column("count", "本期警情", "Calls", kind="count", small=True), *_change_columns())
    part.tables.append(Table("categories", "警情细类", "Calls by category", "categories", lcols, lout, display_rows=20,
                             note_zh=CHANGE_NOTE_ZH, note_en=CHANGE_NOTE_EN))

    if "street" in inp.areas:
        st = compare(inp.incidents, inp.period, comparison=_cmp(inp), level="street", by=None,
                     areas=inp.areas["street"], taxonomy=inp.taxonomy)
        st = st[st["area_id"].notna()].sort_values("count", ascending=False)
        sout = pd.DataFrame({"area_id": st["area_id"].to_numpy(), "name": st["name"].to_numpy(),
                             "count": st["count"].to_numpy(),
                             "rate_residents": st["rate_residents"].to_numpy() if "rate_residents" in st else np.nan})
        sout = _with_change(sout, st, inp)
        scols = (Column("area_id", "编号", "Id", kind="id"), Column("name", "街镇", "Street"),
                 Column("count", "本期警情", "Calls", kind="count", small=True),
                 Column("rate_residents", "每千人", "Per 1,000 residents", kind="rate", guard="count"),
                 *_change_columns())
        if not inp.has_attribute("street", "population"):
            scols = tuple(c for c in scols if c.key != "rate_residents")
            sout = sout.drop(columns="rate_residents")
        part.tables.append(Table("streets", "各街镇警情", "Calls by street", "categories", scols, sout,
                                 note_zh="按本期警情数由多到少排列。" + CHANGE_NOTE_ZH,
                                 note_en="Listed from most to fewest calls. " + CHANGE_NOTE_EN))
    # the dispute share (纠纷类警情占比) is a headline metric: quoted once, in the headline note
    return part


# ---------------------------------------------------------------------------------------------------- time
def _month_label(m: Any, lang: str) -> str:
    """``2025年7月`` / ``Jul 2025``: the year is kept, so a 环比 comparison never passes January off as July."""
    return f"{m.year}年{m.month}月" if lang == "zh" else m.strftime("%b %Y")


def time_section(inp: ReleaseInputs) -> Part:
    from anju.analytics.counts import monthly
    from anju.analytics.night import hour_weekday, night_counts

    part = _part()
    hw = hour_weekday(inp.incidents, inp.period, taxonomy=inp.taxonomy)
    labels = WEEKDAYS[inp.lang]
    long = hw.reset_index(names="weekday").melt(id_vars="weekday", var_name="hour", value_name="count")
    long["hour"] = long["hour"].astype(int)
    long = long.sort_values(["weekday", "hour"], kind="stable")
    long["weekday"] = [labels[int(w)] for w in long["weekday"]]
    cols = (Column("weekday", "星期", "Weekday"), Column("hour", "小时", "Hour", kind="int"),
            Column("count", "警情数", "Calls", kind="count"))
    part.tables.append(Table("hour_weekday", "小时 × 星期", "Hour × weekday", "time", cols,
                             long[["weekday", "hour", "count"]].reset_index(drop=True), display_rows=0))
    part.figures.append(Figure("hour_weekday", "matrix", "hour_weekday", "time", "小时 × 星期警情分布",
                               "Calls by hour and weekday", {"x": "hour", "y": "weekday", "value": "count"}))

    months = inp.period.months()
    cur = monthly(inp.incidents, months[0], months[-1], taxonomy=inp.taxonomy)
    cur_months = list(pd.to_datetime(cur["month"]))
    trend = pd.DataFrame({"month": [_month_label(m, inp.lang) for m in cur_months],
                          "current": cur["count"].to_numpy()})
    tcols: list[Column] = [Column("month", "月份", "Month"),
                           Column("current", inp.period.label("zh"), inp.period.label("en"), kind="count")]
    trend_note = ("", "")
    if inp.comparison is not None:
        cm = inp.comparison.months()
        prev = monthly(inp.incidents, cm[0], cm[-1], taxonomy=inp.taxonomy)
        if len(prev) == len(trend):
            prev_months = list(pd.to_datetime(prev["month"]))
            trend["compare"] = prev["count"].to_numpy()
            tcols.append(Column("compare", inp.comparison.label("zh"), inp.comparison.label("en"), kind="count"))
            if any(a.month != b.month for a, b in zip(cur_months, prev_months, strict=True)):
                # 环比: the comparison's months differ, so each row names both (month k of each period)
                trend["month"] = [f"{_month_label(a, inp.lang)} / {_month_label(b, inp.lang)}"
                                  for a, b in zip(cur_months, prev_months, strict=True)]
                trend_note = ("横轴为两期的第几个月：“7月 / 1月”即本期 7 月与对比期 1 月。",
                              "The axis is the month of each period: “Jul / Jan” is July this period and January "
                              "in the comparison period.")
    part.tables.append(Table("trend", "月度趋势", "Monthly trend", "time", tuple(tcols), trend,
                             note_zh=trend_note[0], note_en=trend_note[1]))
    part.figures.append(Figure("trend", "line", "trend", "time", "月度警情趋势（起/月）", "Calls per month",
                               {"x": "month", "series": [c.key for c in tcols[1:]]},
                               note_zh=trend_note[0], note_en=trend_note[1]))

    if "street" in inp.areas:
        nc = night_counts(inp.incidents, inp.period, level="street", areas=inp.areas["street"],
                          window=inp.deployment.night, taxonomy=inp.taxonomy)
        nc = nc[nc["area_id"].notna()].sort_values("count_night", ascending=False)
        nout = pd.DataFrame({"name": nc["name"].to_numpy(), "count_night": nc["count_night"].to_numpy(),
                             "count": nc["count"].to_numpy(), "night_share": nc["night_share"].to_numpy()})
        ncols = (Column("name", "街镇", "Street"),
                 Column("count_night", f"夜间警情（{night_label(inp)}）", f"Night calls ({night_label(inp)})",
                        kind="count", small=True),
                 Column("count", "全天警情", "All calls", kind="count", small=True),
                 Column("night_share", "夜间占比", "Night share", kind="share", guard="count_night"))
        part.tables.append(Table("night_streets", "各街镇夜间警情", "Night calls by street", "time", ncols, nout))
    return part


# ---------------------------------------------------------------------------------------------------- words
def words_section(inp: ReleaseInputs) -> Part:
    from anju.analytics.words import rising_terms, top_terms
    part = _part()
    seg = inp.deployment.segmenter
    cache: dict = {}  # the period's sample is segmented once for both the top and the rising terms
    tt = top_terms(inp.incidents, inp.period, by=None, top=inp.deployment.analysis.release.top_terms,
                   segmenter=seg, taxonomy=inp.taxonomy, cache=cache, max_texts=None)
    if tt.empty:  # the source maps no call text (e.g. SF), or the period has none: no word cloud of nothing
        part.notes.append(Note("words", "本期警情记录无简要案情文本，未作词频分析。",
                               "The records of this period carry no call text, so there is no word analysis."))
        return part
    tt = tt.sort_values("count", ascending=False)
    out = pd.DataFrame({"term": tt["term"].to_numpy(), "count": tt["count"].to_numpy(),
                        "docs": tt["docs"].to_numpy() if "docs" in tt else np.nan})
    cols = (Column("term", "词语", "Term"), Column("count", "词频", "Count", kind="count", small=True),
            Column("docs", "出现警情数", "Calls containing it", kind="count", small=True, detail=True))
    n_texts = sum(tt.attrs.get("texts", {}).values())
    part.tables.append(Table("terms", "高频词", "Top terms", "words", cols, out, display_rows=20, cut="head",
                             note_zh=f"本期全部 {n_texts:,} 条案情文本（不抽样）经分词（含警务词典）并去除警务停用词后统计。",
                             note_en=f"Counted in all {n_texts:,} call texts of the period (no sampling) after "
                                     "segmentation (police dictionary) and removal of police-domain stop words."))
    part.figures.append(Figure("wordcloud", "wordcloud", "terms", "words", "词云", "Word cloud",
                               {"label": "term", "value": "count"}))
    from anju.analytics.words import distinctive_terms

    dt = distinctive_terms(inp.incidents, inp.period, segmenter=seg, taxonomy=inp.taxonomy, cache=cache)
    if len(dt):
        sep = "、" if inp.lang == "zh" else ", "
        grouped = dt.groupby("family", sort=False)
        fam_rows = pd.DataFrame({
            "family": list(grouped.groups),
            "label": [str(g[("label_zh" if inp.lang == "zh" else "label_en")].iloc[0]) for _, g in grouped],
            "terms": [sep.join(g.sort_values("rank")["term"].astype(str)) for _, g in grouped],
        })
        part.tables.append(Table(
            "distinctive_terms", "各类别特征词", "Terms that set each family apart", "words",
            (Column("family", "类别代码", "Family code", kind="id"), Column("label", "类别", "Family"),
             Column("terms", "特征词（区分度由高到低）", "Distinctive terms (most distinctive first)")),
            fam_rows,
            note_zh="每类警情的案情与其他各类相比用得明显更多的词（加权对数几率，z>0，至少出现 5 次）；各类通用的套话"
                    "得分接近零，不会出现。",
            note_en="Terms a family's call texts use clearly more than the other families' (weighted log-odds, z > 0, "
                    "seen at least 5 times); boilerplate common to every family scores near zero and does not show."))
    if inp.comparison is not None:
        rt = rising_terms(inp.incidents, inp.period, comparison=_cmp(inp), top=15, segmenter=seg,
                          taxonomy=inp.taxonomy, cache=cache, max_texts=None)
        if rt.empty:
            part.notes.append(Note("words", "对比期无可比的案情文本，未列上升与下降词。",
                                   "The comparison period has no call text to compare with, so no rising or "
                                   "falling terms are listed."))
            return part
        rt = rt.sort_values("z", ascending=False)
        rout = pd.DataFrame({"term": rt["term"].to_numpy(), "count": rt["count"].to_numpy(),
                             "count_prev": rt["count_prev"].to_numpy(), "z": rt["z"].to_numpy(),
                             "direction": [{"rising": "上升", "falling": "下降"}.get(d, d) if inp.lang == "zh" else d
                                           for d in rt["direction"]]})
        rcols = (Column("term", "词语", "Term"), Column("count", "本期词频", "Count", kind="count", small=True),
                 Column("count_prev", "对比期词频", "Count, comparison", kind="count", small=True),
                 Column("z", "z 值（加权对数几率）", "z (weighted log-odds)", kind="z"),
                 Column("direction", "方向", "Direction"))
        part.tables.append(Table("rising_terms", "上升与下降词", "Rising and falling terms", "words", rcols, rout,
                                 cut="head",
                                 note_zh="加权对数几率，信息性 Dirichlet 先验（Monroe 等，2008）；|z|>1.96 为显著。",
                                 note_en="Weighted log-odds with an informative Dirichlet prior (Monroe et al. 2008); "
                                         "|z| > 1.96 is significant."))
        part.figures.append(Figure("rising_terms", "diverging", "rising_terms", "words", "上升与下降词",
                                   "Rising and falling terms", {"label": "term", "value": "z"}))
    return part


# ---------------------------------------------------------------------------------------------------- fraud
def fraud_section(inp: ReleaseInputs) -> Part:
    from anju.analytics.words import fraud_techniques

    part = _part()
    ft = fraud_techniques(inp.incidents, inp.period, comparison=_cmp(inp), taxonomy=inp.taxonomy)
    ft = ft.sort_values("count", ascending=False)
    out = pd.DataFrame({"category": ft["category"].to_numpy(), "label": _lab(ft, inp).to_numpy(),
                        "count": ft["count"].to_numpy(), "share": ft["share"].to_numpy(),
                        "loss_total": ft["loss_total"].to_numpy(), "loss_median": ft["loss_median"].to_numpy(),
                        "loss_share": ft["loss_share"].to_numpy() if "loss_share" in ft else np.nan,
                        "costliest": ft["costliest"].to_numpy()})
    out = _with_change(out, ft, inp)
    if not inp.has_loss:  # the source records no amount: "no data", never "0 元"
        for k in ("loss_total", "loss_median", "loss_share"):
            out[k] = np.nan
        out["costliest"] = False
    cols = (Column("category", "手法代码", "Technique code", kind="id"), Column("label", "手法", "Technique"),
            Column("count", "警情数", "Calls", kind="count", small=True),
            Column("share", "占比", "Share", kind="share", guard="count"),
            Column("loss_total", "损失合计", "Total loss", kind="money", guard="count"),
            Column("loss_median", "损失中位数", "Median loss", kind="money", guard="count"),
            Column("loss_share", "损失占比", "Share of losses", kind="share", guard="count", detail=True),
            Column("costliest", "损失最大", "Costliest", kind="bool"), *_change_columns())
    part.tables.append(Table("fraud", "诈骗手法", "Fraud techniques", "fraud", cols, out))
    part.figures.append(Figure("fraud_count", "bar", "fraud", "fraud", "各诈骗手法警情数", "Calls by fraud technique",
                               {"x": "label", "series": ["count"], "horizontal": True}))
    if inp.has_loss:
        part.figures.append(Figure("fraud_loss", "bar", "fraud", "fraud", "各诈骗手法损失合计（元）",
                                   "Losses by technique (yuan)",
                                   {"x": "label", "series": ["loss_total"], "horizontal": True}))
    top = out[out["costliest"].astype(bool)]
    if len(top):
        r = top.iloc[0]
        part.notes.append(Note("fraud", f"让受害人损失最大的手法是“{r['label']}”，损失合计 "
                                        f"{format_money(r['loss_total'], 'zh')}，占诈骗损失的 {r['loss_share'] * 100:.1f}%。",
                               f"The costliest technique is “{r['label']}”: {format_money(r['loss_total'], 'en')} "
                               f"lost, {r['loss_share'] * 100:.1f}% of all fraud losses."))
    return part


# ---------------------------------------------------------------------------------------------------- audit
def _audit_examples(text: str, inp: ReleaseInputs) -> str:
    """``key｜coded→indicated｜text`` lines with the category codes replaced by their names."""
    def one(line: str) -> str:
        parts = line.split("｜", 2)
        if len(parts) == 3 and "→" in parts[1]:
            a, b = parts[1].split("→", 1)
            parts[1] = f"{_code_label(a, inp)}→{_code_label(b, inp)}"
        return "｜".join(parts)
    return "\n".join(one(x) for x in text.split("\n") if x)


def _code_label(code: str, inp: ReleaseInputs) -> str:
    tax = inp.taxonomy
    try:
        return str(tax.label(code, inp.lang))
    except (KeyError, ValueError):  # an unknown code is shown as is
        return code


def audit_section(inp: ReleaseInputs) -> Part:
    """Records whose text indicates a more serious category than their code, per station and month (internal only).

    The numbers come from :func:`anju.text.audit.downgrade_audit`. Only records with a known category are
    candidates: a record the source left uncategorised (``other.unknown``) was not recorded under a lighter
    category. The section is internal (see :data:`anju.release.model.EDITIONS`); its table is also record-level.
    """
    from anju.analytics._common import in_period
    from anju.text.audit import downgrade_audit

    part = _part()
    cur = in_period(inp.incidents, inp.period)
    cur = cur.filter(cur.category_known)
    audit = downgrade_audit(cur.select("record_key", "station_id", "reported_at", "category", "family", "text"),
                            rules=inp.deployment.audit_rules)
    df = audit.to_pandas() if hasattr(audit, "to_pandas") else audit
    df = df.sort_values(["flagged", "station_id", "month"], ascending=[False, True, True])
    names: dict[str, str] = {}
    st = inp.areas.get("station")
    if st is not None and "name" in st.columns:
        names = dict(zip(st["area_id"].astype(str), st["name"].astype(str), strict=False))
    sid = df["station_id"].astype("string").fillna("—")
    out = pd.DataFrame({
        "station_id": sid.to_numpy(),
        "station": [names.get(str(x), str(x)) for x in sid],
        "month": pd.to_datetime(df["month"]).dt.strftime("%Y-%m").to_numpy(),
        "records": df["records"].to_numpy(), "flagged": df["flagged"].to_numpy(),
        "flagged_of": [f"{int(a):,} / {int(b):,}" for a, b in zip(df["flagged"], df["records"], strict=True)],
        "flagged_share": df["flagged_share"].to_numpy(),
        "examples": [_audit_examples(str(x), inp) for x in df["examples"].astype("string").fillna("")],
    })
    cols = (Column("station_id", "派出所编号", "Station id", kind="id"), Column("station", "派出所", "Station"),
            Column("month", "月份", "Month"),
            Column("records", "警情数", "Records", kind="count", detail=True),
            Column("flagged", "疑似降格", "Flagged", kind="count", detail=True),
            Column("flagged_of", "疑似降格 / 警情数", "Flagged / records"),
            Column("flagged_share", "疑似降格占比", "Flagged share", kind="share", digits=3, detail=True),
            Column("examples", "待复核示例（编号｜所录类别→案情所示｜案情）",
                   "Examples for review (key | coded → indicated | text)"))
    flagged = out[out["flagged"] > 0]
    shown = flagged if len(flagged) else out.head(0)
    total = int(out["flagged"].sum()) if len(out) else 0
    records = int(out["records"].sum()) if len(out) else 0
    part.tables.append(Table("downgrade_audit", "降格审计：疑似降格的派出所与月份",
                             "Downgrading audit: stations and months with candidates", "audit", cols,
                             shown.reset_index(drop=True), record_level=True, cut="head", display_rows=20,
                             note_zh="简要案情显示的情形重于所录警情类别的记录（如录为纠纷、遗失，案情写有被盗、被抢、"
                                     "被打伤），供复核；数据源未分类的记录不在其列。只列出有疑似记录的派出所与月份。",
                             note_en="Records whose call text indicates a more serious category than their code "
                                     "(e.g. coded dispute or lost property while the text says stolen, robbed, "
                                     "injured), for review; records the source left uncategorised are not "
                                     "candidates. Only stations and months with candidates are listed."))
    part.notes.append(Note("audit", f"本期共有 {total:,} / {records:,} 条已分类警情的案情描述重于所录类别，已列出供复核"
                                    "（内部版）。",
                           f"{total:,} of {records:,} categorised records this period have a call text more serious "
                           "than their code; listed for review (internal edition)."))
    return part


# ---------------------------------------------------------------------------------------------------- supervision
def supervision_base(period: Any) -> Any:
    """The period the supervision list is drawn from: the calendar year before the release period's year."""
    from anju.analytics.periods import Period

    return Period.year(period.start.year - 1)


def supervision_section(inp: ReleaseInputs) -> Part:
    """The supervised areas: listed by the base year's thefts, compared with the same months a year earlier (同比).

    A base *year* next to a release *half-year* would compare different months and different lengths; the list and
    its base ranks come from the base year, the change from the same months of the year before (seasonality held
    fixed), tested per area (Benjamini–Hochberg over the list) and for the set as a whole.
    """
    from anju.analytics.supervision import supervision, supervision_total

    part = _part()
    level = inp.base_level
    if level not in ("community", "grid"):
        # supervision lists are of communities (or grid cells); police districts, streets and units are not listed
        return part
    n_listed = inp.deployment.analysis.release.supervision_n
    base = supervision_base(inp.period)
    lzh, len_ = level_label(level)
    df = supervision(inp.incidents, base, inp.period, n=n_listed, areas=inp.areas[level], level=level,
                     comparison="yoy", taxonomy=inp.taxonomy)
    same = df.attrs["comparison"]
    from anju.analytics.periods import Period

    same_p = Period.parse(same)
    tot = supervision_total(df)
    out = pd.DataFrame({"rank_base": df["rank_base"].to_numpy(), "area_id": df["area_id"].to_numpy(),
                        "name": df["name"].to_numpy(), "count_base": df["count_base"].to_numpy(),
                        "count": df["count"].to_numpy()})
    out = _with_change(out, df, inp)
    for k in ("rank_now", "rank_change", "left_top_n"):
        out[k] = df[k].to_numpy() if k in df.columns else np.nan
    bzh, ben = base.label("zh"), base.label("en")
    szh, sen = same_p.label("zh"), same_p.label("en")
    cols = (Column("rank_base", f"基期名次（{bzh}）", f"Rank, base ({ben})", kind="rank"),
            Column("area_id", "编号", "Id", kind="id"), Column("name", lzh, len_),
            Column("count_base", f"基期盗窃（{bzh}全年，定名单用）", f"Thefts, base ({ben}, for the list)",
                   kind="count", small=True, detail=True),
            Column("count_prev", f"同期盗窃（{szh}）", f"Thefts, same months ({sen})", kind="count", small=True),
            Column("count", f"本期盗窃（{inp.period.label('zh')}）", f"Thefts ({inp.period.label('en')})",
                   kind="count", small=True),
            Column("change_pct", "同比变化", "Change on a year earlier", kind="pct", guard="count"),
            Column("p_value", "p 值", "p-value", kind="pvalue", guard="count", detail=True),
            Column("q_value", "q 值（BH 校正）", "q-value (BH-adjusted)", kind="pvalue", guard="count"),
            Column("significant", "显著（q<0.05）", "Significant (q < 0.05)", kind="bool"),
            Column("verdict", "结论", "Verdict"),
            Column("rank_now", "本期名次", "Rank now", kind="rank"),
            Column("rank_change", "名次变化（正=上升）", "Rank change (+ = up)", kind="int", detail=True),
            Column("left_top_n", f"已退出前{n_listed}", f"Left the top {n_listed}", kind="bool"))
    part.tables.append(Table(
        "supervision", f"挂牌督导{lzh}", "Supervised communities" if level == "community" else
        f"Supervised areas ({len_.lower()})", "supervision", cols, out[[c.key for c in cols]],
        note_zh=(f"名单：{bzh}全年盗窃警情最多的 {n_listed} 个{lzh}（基期名次）。变化：本期与上年同期（{szh}）"
                 "同月份相比，消除季节影响；精确泊松检验，名单内各行按 Benjamini–Hochberg 校正。"),
        note_en=(f"List: the {n_listed} areas ({len_.lower()}) with most thefts in {ben} (base rank). Change: this "
                 f"period against the same months a year earlier ({sen}), which holds seasonality fixed; exact "
                 "Poisson test, adjusted over the list by Benjamini–Hochberg.")))
    t = tot.iloc[0]
    total = pd.DataFrame({"areas": [int(t["areas"])], "count_prev": [int(t["count_prev"])], "count": [int(t["count"])],
                          "change_pct": [t["change_pct"]], "ratio_low_pct": [t["ratio_low_pct"]],
                          "ratio_high_pct": [t["ratio_high_pct"]], "p_value": [t["p_value"]],
                          "verdict": [_verdict(tot, inp).iloc[0]]})
    tcols = (Column("areas", f"督导{lzh}数", "Areas listed", kind="count"),
             Column("count_prev", f"同期盗窃（{szh}）", f"Thefts, same months ({sen})", kind="count"),
             Column("count", f"本期盗窃（{inp.period.label('zh')}）", f"Thefts ({inp.period.label('en')})",
                    kind="count"),
             Column("change_pct", "同比变化", "Change on a year earlier", kind="pct"),
             Column("ratio_low_pct", "95% 区间下限", "95% interval, low", kind="pct"),
             Column("ratio_high_pct", "95% 区间上限", "95% interval, high", kind="pct"),
             Column("p_value", "p 值", "p-value", kind="pvalue"), Column("verdict", "结论", "Verdict"))
    part.tables.append(Table("supervision_total", "督导名单合计", "The supervised set as a whole", "supervision",
                             tcols, total, note_zh="名单内全部督导对象的盗窃警情之和，一项精确泊松检验。",
                             note_en="Thefts summed over every listed area; one exact Poisson test."))
    part.figures.append(Figure("supervision", "bar", "supervision", "supervision",
                               f"督导{lzh}盗窃警情：上年同期与本期（起）",
                               "Thefts in supervised areas: same months a year earlier and now (calls)",
                               {"x": "name", "series": ["count_prev", "count"], "horizontal": True}))
    n_sig = int(pd.Series(out["significant"]).fillna(False).astype(bool).sum())
    n_left = int(pd.Series(out["left_top_n"]).fillna(False).astype(bool).sum())
    part.notes.append(Note(
        "supervision",
        f"{len(out)} 个督导{lzh}本期盗窃警情合计 {int(t['count']):,} 起，上年同期 {int(t['count_prev']):,} 起，"
        f"同比 {_fmt_pct(t['change_pct'])}（{_verdict(tot, inp).iloc[0]}）；其中 {n_sig} 个变化显著（q<0.05），"
        f"{n_left} 个已退出前 {n_listed}（按{bzh}名次定名单）。",
        f"The {len(out)} supervised areas had {int(t['count']):,} thefts this period against "
        f"{int(t['count_prev']):,} in the same months a year earlier: {_fmt_pct(t['change_pct'])} "
        f"({_verdict(tot, inp).iloc[0]}); {n_sig} changed significantly (q < 0.05) and {n_left} left the top "
        f"{n_listed} (listed by their {ben} rank)."))
    return part


# ---------------------------------------------------------------------------------------------------- method
def _spaced(zh: str) -> str:
    """A space before a term that starts with a digit ("的 110 警情"), none before Chinese."""
    return f" {zh}" if zh[:1].isdigit() else zh


_WARNINGS = {
    "date_only": ("{v:.0%} 的记录只有日期、没有时刻（记为 00:00），小时分布与夜间占比偏向午夜，仅供参考。",
                  "{v:.0%} of the records carry a date but no time (shown as 00:00), so the hour-of-day figures "
                  "and the night share lean towards midnight; read them with care."),
    "empty_weeks": ("本期 {of} 周中有 {v:.0f} 周没有任何记录（数据源可能只含隔周数据），计数与趋势按现有记录计算，"
                    "不可与完整数据直接比较。",
                    "{v:.0f} of the period's {of} weeks hold no record at all (the source may hold alternate weeks "
                    "only); counts and trends cover the records present and do not compare with complete data."),
    "no_location": ("{v:.1%} 的记录没有可用坐标，计入总数、不计入地图与地区排名。",
                    "{v:.1%} of the records have no usable location: they count in the totals but not in the maps "
                    "or the area rankings."),
}


def _data_notes(inp: ReleaseInputs) -> list[tuple[str, str]]:
    """The appendix's data paragraphs: what was excluded (per reason) and the warnings the data needs."""
    from anju.analytics.periods import in_period
    from anju.analytics.timeofday import date_only_count
    from anju.lake.schema import QUARANTINE_REASONS

    rt_zh, rt_en = inp.record_type
    out: list[tuple[str, str]] = []
    ex = inp.excluded
    if ex is not None and len(ex) and int(ex["rows"].sum()) > 0:
        parts_zh = "、".join(f"{QUARANTINE_REASONS.get(r, (r, r))[0]} {n:,} 行" for r, n in zip(ex["reason"], ex["rows"], strict=True))
        parts_en = ", ".join(f"{QUARANTINE_REASONS.get(r, (r, r))[1]}: {n:,}" for r, n in zip(ex["reason"], ex["rows"], strict=True))
        n = int(ex["rows"].sum())
        out.append((f"排除的数据：提供本期记录的导入批次中共有 {n:,} 行未通过校验，已隔离，不计入任何数字"
                    f"（{parts_zh}）。",
                    f"Excluded data: {n:,} rows of the imports that supplied this period failed validation and were "
                    f"quarantined; they count in no figure ({parts_en})."))
    else:
        out.append(("排除的数据：提供本期记录的导入批次没有被隔离的行。",
                    "Excluded data: the imports that supplied this period quarantined no row."))
    n_day = date_only_count(in_period(inp.incidents, inp.period))
    if n_day:
        out.append((f"排除的数据（按时刻的数字）：本期有 {n_day:,} 行记录只有日期、没有时刻，不计入夜间警情、夜间占比、"
                    "夜间热力图与时段分布（否则都会被算作 00:00）；这些记录计入其他所有数字。",
                    f"Excluded data (time-of-day figures): {n_day:,} records of the period carry a date but no time; "
                    "they count in no night figure, night share, night heat map or hour profile (they would all "
                    "fall at 00:00), and in every other figure."))
    w = inp.warnings
    if w is not None:
        for check, v, of in zip(w["check"], w["value"], w["of"], strict=True):
            if check in _WARNINGS:
                zh, en = _WARNINGS[check]
                out.append(("数据提示：" + zh.format(v=float(v), of=int(of)), "Data note: " + en.format(v=float(v), of=int(of))))
    if not inp.has_loss:
        out.append(("数据提示：数据源没有损失金额，诈骗损失显示为“—”（无数据）。",
                    "Data note: the source has no loss amounts, so fraud losses show “—” (no data)."))
    out.append((f"记录类型：本发布中的“警情”指{_spaced(rt_zh)}。",
                f"Record type: a “call” in this release is one of the {rt_en}."))
    return out


def method_section(inp: ReleaseInputs) -> Part:
    """The appendix: how every number was made and what the data lacks, so no reader needs a developer document."""
    part = _part()
    night = night_label(inp)
    rt_zh, rt_en = inp.record_type
    wt = inp.deployment.index.weights
    w_sum = (wt.rate + wt.preventable + wt.trend) or 1.0
    w_rate, w_prev, w_trend = wt.rate / w_sum, wt.preventable / w_sum, wt.trend / w_sum
    data_note = (
        (f"数据：本期及对比期的{_spaced(rt_zh)}；地区按记录所载管辖单位分组（无辖区边界）；未注明管辖单位的记录计入总数、"
         "不计入地区排名。",
         f"Data: the {rt_en} of the period and the comparison period, grouped by the responsible unit each record "
         "names (no boundaries); records without a unit count in totals but not in area rankings.")
        if inp.base_level == "unit" else
        (f"数据：本期及对比期的{_spaced(rt_zh)}；按案发坐标归属社区、街镇与网格；无坐标的记录计入总数、不计入地区排名；"
         "坐标超出辖区或不在任何区域内的记录在导入时已被隔离，不计入总数（见下方“排除的数据”）。",
         f"Data: the {rt_en} of the period and the comparison period, assigned to communities, streets and grids by "
         "their coordinates; records without a location count in totals but not in area rankings; records outside "
         "the district or every area were quarantined at import and count in no total (see “Excluded data” "
         "below)."))
    texts = [
        data_note,
        ("变化检验：两期计数按精确泊松检验（条件二项）判断，按两期天数调整；同一张表的各行为一族检验，"
         "以 Benjamini–Hochberg 法控制错误发现率，给出 q 值，q<0.05 判为显著；样本过少（两期合计不足 10 起）时只报结论"
         "不报百分比。",
         "Changes: an exact Poisson test (conditional binomial) on the two counts, adjusted for the periods' days; the "
         "rows of one table are one family of tests, whose false discovery rate is held by the Benjamini–Hochberg "
         "procedure: q-values are shown and q < 0.05 is significant; with fewer than 10 calls in both periods "
         "together only the verdict is shown."),
        ("同比与季节：对比期默认为上年同期（同比），月份相同，季节影响相互抵消；挂牌督导名单按上年全年定，但变化同样与"
         "上年同期比较。",
         "Year on year and seasons: the comparison is by default the same months a year earlier, so seasonal swings "
         "cancel; the supervision list is drawn from the whole base year, but its change is also against the same "
         "months a year earlier."),
        ("排行榜：发案率经经验贝叶斯泊松—伽马模型收缩（小社区的率向全区平均拉近，拉近多少取决于其人口或户数），"
         "并给出 95% 区间，小社区不会因偶然几起警情登顶；同值同名次。",
         "Rankings: rates are shrunk with an empirical-Bayes Poisson–gamma model (a small community's rate is pulled "
         "towards the district's, the more so the fewer its residents or households), with 95% intervals, so a small "
         "community cannot top a list by chance; equal values share a rank."),
        (f"夜间：{night}；热力图为米制网格上的分箱核密度估计，单位为每平方公里每半年的警情数（起/平方公里）。",
         f"Night: {night}; heat maps are binned kernel density estimates on a metric grid, in calls per km² over the "
         "half-year."),
        (f"平安指数：0–100，越高越安全。由三部分加权合成：严重程度加权的收缩发案率（权重 {w_rate:.0%}）、"
         f"可防性案件（{w_prev:.0%}）与变化趋势（{w_trend:.0%}）；各部分先换算为 0–100 得分，"
         "等级按指数分段。",
         f"Safety index: 0–100, higher is safer: a weighted blend of the severity-weighted shrunk rate (weight "
         f"{w_rate:.0%}), preventable cases ({w_prev:.0%}) and the trend "
         f"({w_trend:.0%}); each part is first scored 0–100; grades are bands of the index."),
        ("词频：统计本期全部案情文本（不抽样），分词使用警务词典，去除警务通用停用词（如“双方”“报警人”）；"
         "上升词用加权对数几率（Monroe、Colaresi 与 Quinn，2008），|z|>1.96 约为 95% 把握。",
         "Words: every call text of the period is counted (no sampling), segmented with a police dictionary, with "
         "police-domain stop words removed (e.g. “both parties”, “the caller”); rising terms by weighted log-odds "
         "(Monroe, Colaresi & Quinn 2008), |z| > 1.96 ≈ 95% sure."),
        ("公众版：只含公众版栏目（不含内部复核栏目）；1–2 起的数字显示为“<3”，由其推算的比率不予显示；"
         "不含任何个人信息。",
         "Public edition: only the public sections (no internal review sections); counts of 1–2 show as “<3” and "
         "rates derived from them are blank; no personal data."),
    ]
    if not has_residents(inp):
        texts[3] = ("排行榜：缺少人口或户数时按警情数排名，并给出 95% 精确泊松区间。",
                    "Rankings: without residents or households, areas are ranked by number of calls, with 95% exact "
                    "Poisson intervals.")
        texts[5] = (f"平安指数：{NO_RESIDENTS_ZH}；地图与排行榜按警情数。",
                    "Safety index: not computed, since the area layer has no resident population (nor are rates per "
                    "1,000 residents); the map and rankings use numbers of calls.")
    texts += _data_notes(inp)
    part.notes.extend(Note("method", zh, en) for zh, en in texts)
    return part


BUILDERS = (headline_section, index_section, heat_section, rankings_section, categories_section, time_section,
            words_section, fraud_section, supervision_section, audit_section, method_section)
