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
from anju.release.model import Column, Figure, Note, Table
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
        Column("p_value", "p 值", "p-value", kind="pvalue", guard=count_key),
        Column("significant", "显著", "Significant", kind="bool"),
        Column("verdict", "结论", "Verdict"),
    )


def _with_change(out: pd.DataFrame, df: pd.DataFrame, inp: ReleaseInputs) -> pd.DataFrame:
    for k in ("count_prev", "change_pct", "p_value", "significant"):
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
        "indicator": _lab(df, inp).to_numpy(),
        "kind": [_HEADLINE_KIND.get(m, "count") for m in df["metric"]],
        "value": df["value"].to_numpy(),
        "compare": df["value_prev"].to_numpy() if "value_prev" in df.columns else np.nan,
    })
    out = _with_change(out, df, inp)
    cols = (
        Column("metric", "指标代码", "Metric", kind="id"), Column("indicator", "指标", "Indicator"),
        Column("kind", "类型", "Kind", kind="id"), Column("value", "本期", "This period", kind="float"),
        Column("compare", "对比期", "Comparison period", kind="float"),
        Column("change_pct", "变化", "Change", kind="pct"), Column("p_value", "p 值", "p-value", kind="pvalue"),
        Column("significant", "显著", "Significant", kind="bool"), Column("verdict", "结论", "Verdict"),
    )
    part.tables.append(Table("headline", "核心指标", "Headline figures", "headline", cols, out,
                             note_zh="变化经精确泊松检验（条件二项）；“样本过少”时不报告百分比。",
                             note_en="Changes tested with an exact Poisson (conditional binomial) test; no percentage "
                                     "is claimed when the sample is too small."))
    by = out.set_index("metric")
    if "total" in by.index:
        r = by.loc["total"]
        zh = f"本期共接报 110 警情 {r['value']:,.0f} 起"
        en = f"{r['value']:,.0f} calls to 110 this period"
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
        Column("rank", "名次", "Rank", kind="rank"), Column("area_id", "编号", "Id", kind="id"),
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
        df = df.sort_values("rank", kind="stable")
        out = pd.DataFrame({c.key: df[c.key].to_numpy() if c.key in df.columns else np.nan for c in cols})
        out["grade"] = df[grade].to_numpy() if grade in df.columns else df.get("grade")
        parents = inp.areas[level].set_index("area_id")["parent_id"] if "parent_id" in inp.areas[level] else None
        if level == "community" and parents is not None:
            out["street"] = _street_names(inp, df["area_id"].map(parents)).to_numpy()
        table_cols = cols if level == "community" else tuple(c for c in cols if c.key != "street")
        key = f"index_{level}"
        part.tables.append(Table(key, zh, en, "map", table_cols, out[[c.key for c in table_cols]],
                                 note_zh="0–100，越高越安全；公式与权重见 docs/safety-index.md。",
                                 note_en="0–100, higher is safer; formula and weights in docs/safety-index.md.",
                                 display_rows=20 if level == "community" else None))
        if level == "community" and level in inp.geo:
            part.figures.append(Figure(f"map_{level}", "choropleth", key, "map", zh + "地图", en + " (map)",
                                       {"layer": level, "id": "area_id", "value": "index", "vmin": 0, "vmax": 100,
                                        "palette": "safety"}))
        if level == "community" and len(out):
            top, bottom = out.iloc[0], out.iloc[-1]
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
        if base is not None:
            part.figures.append(Figure(key, "heat", key, "heat", zh, en,
                                       {"layer": base, "lon": "lon", "lat": "lat", "value": "density", "i": "i",
                                        "j": "j", "cell_m": heat.cell_m}))
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
    part.tables.append(Table("families", "警情类别构成", "Calls by family", "categories", cols, out))
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
    part.tables.append(Table("categories", "警情细类", "Calls by category", "categories", lcols, lout, display_rows=20))

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
        part.tables.append(Table("streets", "各街镇警情", "Calls by street", "categories", scols, sout))
    # the dispute share (纠纷类警情占比) is a headline metric: quoted once, in the headline note
    return part


# ---------------------------------------------------------------------------------------------------- time
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
    trend = pd.DataFrame({"month": [f"{m.month}月" if inp.lang == "zh" else m.strftime("%b")
                                    for m in pd.to_datetime(cur["month"])],
                          "current": cur["count"].to_numpy()})
    tcols: list[Column] = [Column("month", "月份", "Month"), Column("current", "本期", "This period", kind="count")]
    if inp.comparison is not None:
        cm = inp.comparison.months()
        prev = monthly(inp.incidents, cm[0], cm[-1], taxonomy=inp.taxonomy)
        if len(prev) == len(trend):
            trend["compare"] = prev["count"].to_numpy()
            tcols.append(Column("compare", inp.comparison.label("zh"), inp.comparison.label("en"), kind="count"))
    part.tables.append(Table("trend", "月度趋势", "Monthly trend", "time", tuple(tcols), trend))
    part.figures.append(Figure("trend", "line", "trend", "time", "月度警情趋势", "Calls by month",
                               {"x": "month", "series": [c.key for c in tcols[1:]]}))

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
                   segmenter=seg, taxonomy=inp.taxonomy, cache=cache)
    if tt.empty:  # the source maps no call text (e.g. SF), or the period has none: no word cloud of nothing
        part.notes.append(Note("words", "本期警情记录无简要案情文本，未作词频分析。",
                               "The records of this period carry no call text, so there is no word analysis."))
        return part
    tt = tt.sort_values("count", ascending=False)
    out = pd.DataFrame({"term": tt["term"].to_numpy(), "count": tt["count"].to_numpy(),
                        "docs": tt["docs"].to_numpy() if "docs" in tt else np.nan})
    cols = (Column("term", "词语", "Term"), Column("count", "词频", "Count", kind="count", small=True),
            Column("docs", "出现警情数", "Calls containing it", kind="count", small=True, detail=True))
    part.tables.append(Table("terms", "高频词", "Top terms", "words", cols, out, display_rows=20,
                             note_zh="简要案情经分词（含警务词典）并去除停用词后统计。",
                             note_en="Counted in the call texts after segmentation (police dictionary) and stop-word "
                                     "removal."))
    part.figures.append(Figure("wordcloud", "wordcloud", "terms", "words", "词云", "Word cloud",
                               {"label": "term", "value": "count"}))
    if inp.comparison is not None:
        rt = rising_terms(inp.incidents, inp.period, comparison=_cmp(inp), top=15, segmenter=seg,
                          taxonomy=inp.taxonomy, cache=cache)
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
    cols = (Column("category", "手法代码", "Technique code", kind="id"), Column("label", "手法", "Technique"),
            Column("count", "警情数", "Calls", kind="count", small=True),
            Column("share", "占比", "Share", kind="share", guard="count"),
            Column("loss_total", "损失合计（元）", "Total loss (yuan)", kind="money", guard="count"),
            Column("loss_median", "损失中位数（元）", "Median loss (yuan)", kind="money", guard="count"),
            Column("loss_share", "损失占比", "Share of losses", kind="share", guard="count", detail=True),
            Column("costliest", "损失最大", "Costliest", kind="bool"), *_change_columns())
    part.tables.append(Table("fraud", "诈骗手法", "Fraud techniques", "fraud", cols, out))
    part.figures.append(Figure("fraud_count", "bar", "fraud", "fraud", "各诈骗手法警情数", "Calls by fraud technique",
                               {"x": "label", "series": ["count"], "horizontal": True}))
    part.figures.append(Figure("fraud_loss", "bar", "fraud", "fraud", "各诈骗手法损失合计", "Losses by technique",
                               {"x": "label", "series": ["loss_total"], "horizontal": True}))
    top = out[out["costliest"].astype(bool)]
    if len(top):
        r = top.iloc[0]
        part.notes.append(Note("fraud", f"让受害人损失最大的手法是“{r['label']}”，损失合计 {r['loss_total']:,.0f} 元，"
                                        f"占诈骗损失的 {r['loss_share'] * 100:.1f}%。",
                               f"The costliest technique is “{r['label']}”: {r['loss_total']:,.0f} yuan lost, "
                               f"{r['loss_share'] * 100:.1f}% of all fraud losses."))
    return part


# ---------------------------------------------------------------------------------------------------- audit
def audit_section(inp: ReleaseInputs) -> Part:
    """Records whose text indicates a more serious category than their code, per station and month (internal only).

    The numbers come from :func:`anju.text.audit.downgrade_audit`; both tables are marked record-level because they
    quote records (keys and masked call texts), so the public edition leaves them out.
    """
    from anju.analytics._common import in_period
    from anju.text.audit import downgrade_audit

    part = _part()
    cur = in_period(inp.incidents, inp.period)
    audit = downgrade_audit(cur.select("record_key", "station_id", "reported_at", "category", "family", "text"),
                            rules=inp.deployment.audit_rules)
    df = audit.to_pandas() if hasattr(audit, "to_pandas") else audit
    df = df.sort_values(["flagged", "station_id", "month"], ascending=[False, True, True])
    out = pd.DataFrame({
        "station_id": df["station_id"].astype("string").fillna("—").to_numpy(),
        "month": pd.to_datetime(df["month"]).dt.strftime("%Y-%m").to_numpy(),
        "records": df["records"].to_numpy(), "flagged": df["flagged"].to_numpy(),
        "flagged_share": df["flagged_share"].to_numpy(),
        "examples": df["examples"].astype("string").fillna("").to_numpy(),
    })
    cols = (Column("station_id", "派出所", "Station", kind="id"), Column("month", "月份", "Month"),
            Column("records", "警情数", "Records", kind="count"),
            Column("flagged", "疑似降格", "Flagged", kind="count"),
            Column("flagged_share", "疑似降格占比", "Flagged share", kind="share"),
            Column("examples", "待复核示例", "Examples for review", detail=True))
    part.tables.append(Table("downgrade_audit", "降格审计（按派出所、月份）", "Downgrading audit by station and month",
                             "audit", cols, out, display_rows=12, record_level=True,
                             note_zh="简要案情显示的情形重于所录警情类别的记录（如录为纠纷、遗失，案情写有被盗、被抢、被打伤），"
                                     "供复核；规则见 docs/text.md。",
                             note_en="Records whose call text indicates a more serious category than their code "
                                     "(e.g. coded dispute or lost property while the text says stolen, robbed, "
                                     "injured), for review; rules in docs/text.md."))
    total = int(out["flagged"].sum()) if len(out) else 0
    part.notes.append(Note("audit", f"本期共有 {total:,} 条警情的案情描述重于所录类别，已列出供复核。",
                           f"{total:,} records this period have a call text more serious than their code; "
                           "listed for review."))
    return part


# ---------------------------------------------------------------------------------------------------- supervision
def supervision_base(period: Any) -> Any:
    """The period the supervision list is drawn from: the calendar year before the release period's year."""
    from anju.analytics.periods import Period

    return Period.year(period.start.year - 1)


def supervision_section(inp: ReleaseInputs) -> Part:
    from anju.analytics.supervision import supervision
    part = _part()
    SUPERVISION_N = inp.deployment.analysis.release.supervision_n
    base = supervision_base(inp.period)
    level = inp.base_level
    lzh, len_ = level_label(level)
    df = supervision(inp.incidents, base, inp.period, n=SUPERVISION_N, areas=inp.areas[level], level=level,
                     taxonomy=inp.taxonomy)
    out = pd.DataFrame({"rank_base": df["rank_base"].to_numpy(), "area_id": df["area_id"].to_numpy(),
                        "name": df["name"].to_numpy(), "count_base": df["count_base"].to_numpy(),
                        "count": df["count"].to_numpy()})
    out = _with_change(out, df, inp)
    for k in ("rank_now", "rank_change", "left_top_n"):
        out[k] = df[k].to_numpy() if k in df.columns else np.nan
    cols = (Column("rank_base", "基期名次", "Rank, base", kind="rank"), Column("area_id", "编号", "Id", kind="id"),
            Column("name", lzh, len_),
            Column("count_base", f"基期盗窃（{base.label('zh')}）", f"Thefts, base ({base.label('en')})",
                   kind="count", small=True),
            Column("count", "本期盗窃", "Thefts, this period", kind="count", small=True),
            Column("change_pct", "变化", "Change", kind="pct", guard="count"),
            Column("p_value", "p 值", "p-value", kind="pvalue", guard="count"),
            Column("significant", "显著", "Significant", kind="bool"), Column("verdict", "结论", "Verdict"),
            Column("rank_now", "本期名次", "Rank now", kind="rank"),
            Column("rank_change", "名次变化（正=上升）", "Rank change (+ = up)", kind="int"),
            Column("left_top_n", f"已退出前{SUPERVISION_N}", f"Left the top {SUPERVISION_N}", kind="bool"))
    part.tables.append(Table("supervision", f"挂牌督导{lzh}", "Supervised communities" if level == "community" else f"Supervised areas ({len_.lower()})", "supervision", cols,
                             out[[c.key for c in cols]],
                             note_zh=f"基期盗窃警情最多的 {SUPERVISION_N} 个{lzh}；变化经精确泊松检验。",
                             note_en=f"The {SUPERVISION_N} areas ({len_.lower()}) with most thefts in the base period; "
                                     "changes tested with an exact Poisson test."))
    part.figures.append(Figure("supervision", "bar", "supervision", "supervision", "督导社区盗窃警情：基期与本期",
                               "Thefts in supervised communities: base and now",
                               {"x": "name", "series": ["count_base", "count"], "horizontal": True}))
    n_sig = int(pd.Series(out["significant"]).fillna(False).astype(bool).sum())
    n_left = int(pd.Series(out["left_top_n"]).fillna(False).astype(bool).sum())
    part.notes.append(Note("supervision", f"{len(out)} 个督导{lzh}中，{n_sig} 个变化显著，{n_left} 个已退出前 {SUPERVISION_N}。",
                           f"Of {len(out)} supervised areas, {n_sig} changed significantly and {n_left} left "
                           f"the top {SUPERVISION_N}."))
    return part


# ---------------------------------------------------------------------------------------------------- method
def method_section(inp: ReleaseInputs) -> Part:
    part = _part()
    night = night_label(inp)
    data_note = (
        ("数据：本期及对比期的 110 接警记录；地区按记录所载管辖单位分组（无辖区边界）；未注明管辖单位的警情计入总数、"
         "不计入地区排名。",
         "Data: 110 call records of the period and the comparison period, grouped by the responsible unit each record "
         "names (no boundaries); calls without a unit count in totals but not in area rankings.")
        if inp.base_level == "unit" else
        ("数据：本期及对比期的 110 接警记录；按案发坐标归属社区、街镇与网格；无坐标或界外警情计入总数、不计入地区排名。",
         "Data: 110 call records of the period and the comparison period, assigned to communities, streets and grids by "
         "their coordinates; calls without a location count in totals but not in area rankings."))
    texts = [
        data_note,
        ("变化检验：两期计数按精确泊松检验（条件二项）判断是否显著，并按天数调整；样本过少时只报结论不报百分比。",
         "Changes: exact Poisson test (conditional binomial) on the two counts, adjusted for the periods' days; with too "
         "few calls only the verdict is shown."),
        ("排行榜：率经经验贝叶斯泊松—伽马收缩并给出 95% 区间，小社区不会因偶然因素登顶（docs/methods/shrinkage.md）。",
         "Rankings: rates shrunk with an empirical-Bayes Poisson–gamma model, with 95% intervals, so a small community "
         "cannot top a list by chance (docs/methods/shrinkage.md)."),
        (f"夜间：{night}；热力图为米制网格上的分箱核密度估计。",
         f"Night: {night}; heat maps are binned kernel density estimates on a metric grid."),
        ("平安指数：0–100 的综合指数，由严重程度加权的收缩发案率、可防性案件与趋势构成（docs/safety-index.md）。",
         "Safety index: a 0–100 composite of the severity-weighted shrunk rate, preventable cases and the trend "
         "(docs/safety-index.md)."),
        ("词频：简要案情分词（警务词典、停用词表）；上升词用加权对数几率（Monroe、Colaresi 与 Quinn，2008）。",
         "Words: call texts segmented with a police dictionary and stop words; rising terms by weighted log-odds "
         "(Monroe, Colaresi & Quinn 2008)."),
    ]
    if not has_residents(inp):
        texts[2] = ("排行榜：缺少人口或户数时按警情数排名，并给出 95% 精确泊松区间。",
                    "Rankings: without residents or households, areas are ranked by number of calls, with 95% exact "
                    "Poisson intervals.")
        texts[4] = (f"平安指数：{NO_RESIDENTS_ZH}；地图与排行榜按警情数。",
                    "Safety index: not computed, since the area layer has no resident population (nor are rates per "
                    "1,000 residents); the map and rankings use numbers of calls.")
    part.notes.extend(Note("method", zh, en) for zh, en in texts)
    return part


BUILDERS = (headline_section, index_section, heat_section, rankings_section, categories_section, time_section,
            words_section, fraud_section, supervision_section, audit_section, method_section)
