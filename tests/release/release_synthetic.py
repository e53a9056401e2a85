"""A small, fully synthetic Release with every figure kind, built directly on the model (no lake, no analytics).

It lets the renderers be tested on their own: numbers here are arbitrary but deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from anju.release.model import Column, Figure, GeoLayer, Note, Release, ReleaseMeta, Table

LON0, LAT0, STEP = 121.38, 31.11, 0.012
OFFICIAL_NAME = "王建国"  # a person's name: must never appear in the public edition


def _layer() -> GeoLayer:
    ids, names, geoms = [], [], []
    for r in range(3):
        for c in range(4):
            ids.append(f"C{r}{c}")
            names.append(["康城", "莘庄", "春申", "古美"][c] + ["一村", "二村", "三村"][r])
            x0, y0 = LON0 + c * STEP, LAT0 + r * STEP
            geoms.append(shapely.box(x0, y0, x0 + STEP, y0 + STEP))
    return GeoLayer("community", ids, names, geoms)


def make_release(lang: str = "zh") -> Release:
    rng = np.random.default_rng(7)
    layer = _layer()
    n = len(layer)
    meta = ReleaseMeta(district="示范区", period="2025H2", period_zh="2025年下半年", period_en="2025 H2",
                       start="2025-07-01", end="2025-12-31", compare="2024H2", compare_zh="2024年下半年",
                       compare_en="2024 H2", lang=lang, generated_at="2026-01-05 09:00", anju_version="test",
                       incidents=12345)
    headline = Table("headline", "核心指标", "Headline figures", "headline", (
        Column("indicator", "指标", "Indicator"), Column("kind", "类型", "Kind"),
        Column("value", "本期", "This period", kind="float"), Column("compare", "对比期", "Compared", kind="float"),
        Column("change_pct", "变化", "Change", kind="pct"), Column("p_value", "p 值", "p", kind="pvalue"),
        Column("significant", "显著", "Significant", kind="bool")),
        pd.DataFrame({"indicator": ["110 警情总数", "纠纷类占比", "夜间警情"], "kind": ["count", "share", "count"],
                      "value": [12345.0, 0.482, 2310.0], "compare": [13020.0, 0.47, 2400.0],
                      "change_pct": [-5.18, 2.55, -3.75], "p_value": [0.00001, 0.2, 0.18],
                      "significant": [True, False, False]}))
    index = rng.uniform(35, 95, n).round(1)
    safety = Table("safety_index", "社区平安指数", "Safety index", "map", (
        Column("community_id", "社区编号", "Community id", kind="id"), Column("community", "社区", "Community"),
        Column("index", "平安指数", "Safety index", kind="index"), Column("rank", "排名", "Rank", kind="rank")),
        pd.DataFrame({"community_id": layer.ids, "community": layer.names, "index": index,
                      "rank": pd.Series(-index).rank(method="min").astype(int)}).sort_values("rank"),
        display_rows=5)
    ii, jj = np.meshgrid(np.arange(24), np.arange(18))
    ii, jj = ii.ravel(), jj.ravel()
    lon = LON0 + (ii + 0.5) * 4 * STEP / 24
    lat = LAT0 + (jj + 0.5) * 3 * STEP / 18
    dens = np.exp(-((ii - 7) ** 2 + (jj - 6) ** 2) / 18) + 0.6 * np.exp(-((ii - 18) ** 2 + (jj - 12) ** 2) / 10)
    heat_cols = (Column("i", "列", "col", kind="int"), Column("j", "行", "row", kind="int"),
                 Column("lon", "经度", "lon", kind="float", digits=5), Column("lat", "纬度", "lat", kind="float", digits=5),
                 Column("density", "密度(起/平方公里)", "Density (calls/km²)", kind="float"))
    heat_all = Table("heat_all", "全天热力网格", "Heat grid, all day", "heat", heat_cols,
                     pd.DataFrame({"i": ii, "j": jj, "lon": lon, "lat": lat, "density": dens * 50}), display_rows=0)
    heat_night = Table("heat_night", "夜间热力网格", "Heat grid, night", "heat", heat_cols,
                       pd.DataFrame({"i": ii, "j": jj, "lon": lon, "lat": lat, "density": dens[::-1] * 20}),
                       display_rows=0)
    rate = np.sort(rng.uniform(2, 30, 8))[::-1]
    counts = np.array([40, 31, 25, 2, 18, 1, 9, 7])
    ranking = Table("ranking_theft", "最受小偷欢迎小区", "Communities most popular with thieves", "rankings", (
        Column("rank", "名次", "Rank", kind="rank"), Column("community", "小区", "Community"),
        Column("count", "盗窃警情", "Thefts", kind="count", small=True),
        Column("raw_rate", "原始率(‰户)", "Raw rate per 1,000 households", kind="rate", guard="count"),
        Column("rate", "收缩率(‰户)", "Shrunk rate per 1,000 households", kind="rate"),
        Column("lower", "下限", "Lower", kind="rate"), Column("upper", "上限", "Upper", kind="rate"),
        Column("rank_change", "名次变化", "Rank change", kind="int")),
        pd.DataFrame({"rank": np.arange(1, 9), "community": layer.names[:8], "count": counts,
                      "raw_rate": rate * 1.1, "rate": rate, "lower": rate * 0.6, "upper": rate * 1.5,
                      "rank_change": [0, 2, -1, 3, 0, -2, 1, 0]}))
    fams = ["纠纷", "求助", "盗窃", "交通", "诈骗", "噪音扰民", "火灾"]
    fcount = np.array([5950, 2100, 1800, 1500, 700, 293, 2])
    shares = Table("family_shares", "警情类别构成", "Calls by family", "categories", (
        Column("family", "类别", "Family"), Column("count", "警情数", "Calls", kind="count", small=True),
        Column("share", "占比", "Share", kind="share", guard="count")),
        pd.DataFrame({"family": fams, "count": fcount, "share": fcount / fcount.sum()}))
    hours = np.repeat(np.arange(24), 7)
    wd = np.tile(["周一", "周二", "周三", "周四", "周五", "周六", "周日"], 24)
    hw = Table("hour_weekday", "小时×星期", "Hour × weekday", "time", (
        Column("hour", "小时", "Hour", kind="int"), Column("weekday", "星期", "Weekday"),
        Column("count", "警情数", "Calls", kind="count")),
        pd.DataFrame({"hour": hours, "weekday": wd,
                      "count": (50 + 40 * np.sin((hours - 6) / 24 * 2 * np.pi) + rng.integers(0, 10, 168)).astype(int)}),
        display_rows=0)
    months = [f"{m}月" for m in range(7, 13)]
    trend = Table("trend", "月度趋势", "Monthly trend", "time", (
        Column("month", "月份", "Month"), Column("current", "本期", "This period", kind="count"),
        Column("compare", "去年同期", "Same months last year", kind="count")),
        pd.DataFrame({"month": months, "current": [2100, 2050, 1990, 2080, 2040, 2085],
                      "compare": [2200, 2190, 2150, 2180, 2120, 2180]}))
    terms = ["纠纷", "噪音", "电动车", "被盗", "醉酒", "快递", "诈骗", "转账", "邻居", "停车", "漏水", "吵架",
             "求助", "钥匙", "走失", "刷单", "返利", "冒充", "客服", "贷款"]
    words = Table("terms", "高频词", "Top terms", "words", (
        Column("term", "词语", "Term"), Column("count", "频次", "Count", kind="count", small=True)),
        pd.DataFrame({"term": terms, "count": (900 / np.arange(1, 21) ** 0.8).astype(int)}), display_rows=10)
    rising = Table("rising_terms", "上升与下降词", "Rising and falling terms", "words", (
        Column("term", "词语", "Term"), Column("z", "z 值", "z-score", kind="z"),
        Column("significant", "显著", "Significant", kind="bool")),
        pd.DataFrame({"term": ["刷单", "返利", "醉酒", "停车", "快递", "钥匙"], "z": [4.1, 2.8, 2.0, -1.5, -2.4, -3.3],
                      "significant": [True, True, True, False, True, True]}))
    fraud = Table("fraud_techniques", "诈骗手法", "Fraud techniques", "fraud", (
        Column("technique", "手法", "Technique"), Column("count", "起数", "Cases", kind="count", small=True),
        Column("share", "占比", "Share", kind="share", guard="count"),
        Column("median_loss", "损失中位数(元)", "Median loss (yuan)", kind="money", guard="count")),
        pd.DataFrame({"technique": ["刷单返利", "冒充客服", "虚假贷款", "冒充公检法", "网络交友"],
                      "count": [320, 180, 120, 60, 2], "share": np.array([320, 180, 120, 60, 2]) / 682,
                      "median_loss": [5200.0, 8800.0, 3000.0, 50000.0, 20000.0]}))
    sup = Table("supervision", "挂牌督导社区", "Supervised communities", "supervision", (
        Column("community", "社区", "Community"), Column("base_count", "基期盗窃", "Thefts, base", kind="count", small=True),
        Column("count", "本期盗窃", "Thefts, now", kind="count", small=True),
        Column("change_pct", "变化", "Change", kind="pct", guard="count"),
        Column("p_value", "p 值", "p", kind="pvalue"), Column("significant", "显著", "Significant", kind="bool"),
        Column("official", "督导领导", "Supervising official", personal=True)),
        pd.DataFrame({"community": layer.names[:3], "base_count": [60, 44, 30], "count": [31, 40, 2],
                      "change_pct": [-48.3, -9.1, -93.3], "p_value": [0.003, 0.66, 0.0001],
                      "significant": [True, False, True], "official": [OFFICIAL_NAME, "李四", "赵六"]}))
    records = Table("fraud_examples", "诈骗警情示例", "Fraud call examples", "fraud", (
        Column("record_key", "编号", "Record"), Column("text", "简要案情", "Call text")),
        pd.DataFrame({"record_key": ["cn110:1", "cn110:2"], "text": ["报警人称被刷单诈骗5000元", "冒充客服退款"]}),
        record_level=True)
    tables = {t.key: t for t in (headline, safety, heat_all, heat_night, ranking, shares, hw, trend, words, rising,
                                 fraud, sup, records)}
    figures = (
        Figure("index_map", "choropleth", "safety_index", "map", "社区平安指数地图", "Safety index map",
               {"layer": "community", "id": "community_id", "value": "index", "vmin": 0, "vmax": 100}),
        Figure("heat_all", "heat", "heat_all", "heat", "全天警情热力图", "Heat map, all day",
               {"layer": "community", "lon": "lon", "lat": "lat", "value": "density", "i": "i", "j": "j"}),
        Figure("heat_night", "heat", "heat_night", "heat", "夜间警情热力图", "Heat map, night",
               {"layer": "community", "lon": "lon", "lat": "lat", "value": "density", "i": "i", "j": "j"}),
        Figure("ranking_theft", "interval", "ranking_theft", "rankings", "最受小偷欢迎小区", "Thieves' favourites",
               {"label": "community", "value": "rate", "lower": "lower", "upper": "upper"}),
        Figure("family_pie", "pie", "family_shares", "categories", "类别占比", "Shares", {"label": "family", "value": "count"}),
        Figure("family_bar", "bar", "family_shares", "categories", "类别警情数", "Calls by family",
               {"x": "family", "series": ["count"], "horizontal": True}),
        Figure("hour_weekday", "matrix", "hour_weekday", "time", "小时×星期", "Hour × weekday",
               {"x": "hour", "y": "weekday", "value": "count"}),
        Figure("trend", "line", "trend", "time", "月度趋势", "Monthly trend", {"x": "month", "series": ["current", "compare"]}),
        Figure("wordcloud", "wordcloud", "terms", "words", "词云", "Word cloud", {"label": "term", "value": "count"}),
        Figure("rising", "diverging", "rising_terms", "words", "上升与下降词", "Rising and falling",
               {"label": "term", "value": "z", "flag": "significant"}),
        Figure("fraud", "bar", "fraud_techniques", "fraud", "诈骗手法", "Fraud techniques",
               {"x": "technique", "series": ["count"]}),
    )
    notes = (Note("headline", "本期 110 警情 12,345 起，同比下降 5.2%（显著）。",
                  "12,345 calls this period, 5.2% fewer than a year earlier (significant)."),)
    return Release(meta=meta, tables=tables, figures=figures, geo={"community": layer}, notes=notes)
