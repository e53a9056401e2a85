"""Colours, fonts and fixed labels shared by the HTML (ECharts) and the PDF (matplotlib) renderers."""

from __future__ import annotations

from typing import Any

__all__ = ["FONT_STACK", "HEAT", "PALETTE", "SAFETY", "WEEKDAYS", "num", "text"]

PALETTE = ["#2f6f9f", "#d9822b", "#3f9a5a", "#c23b3b", "#7b5ea7", "#8c6d3f", "#d46aa8", "#6f6f6f", "#a8a83a",
           "#2aa5b5", "#e0b43a", "#506b8a"]
SAFETY = ["#b35806", "#f1a340", "#d8daeb", "#998ec3", "#542788"]
"""Safety-index colour ramp, low (poor, orange) to high (good, purple): ColorBrewer PuOr, readable with red–green
colour blindness (no red–green contrast carries the meaning)."""
HEAT = ["#fff5d6", "#fed976", "#fd8d3c", "#e31a1c", "#800026"]
"""Heat-map ramp, low to high density."""
FONT_STACK = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif'
MPL_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "DejaVu Sans"]

WEEKDAYS = {
    "zh": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}

_TEXT = {
    "low": ("低", "low"),
    "high": ("高", "high"),
    "estimate": ("估计值", "estimate"),
    "interval": ("95% 区间", "95% interval"),
    "significant": ("显著", "significant"),
    "not_significant": ("不显著", "not significant"),
    "internal": ("内部版", "internal edition"),
    "public": ("公众版", "public edition"),
    "generated": ("生成于", "generated"),
    "compare": ("对比", "compared with"),
    "page": ("第 {p} 页 / 共 {n} 页", "page {p} of {n}"),
    "contents": ("目录", "Contents"),
    "more_rows": ("另有 {n} 行见 tables.xlsx", "{n} more rows in tables.xlsx"),
    "all_rows": ("共 {n} 行，全部列出。", "{n} rows, all shown."),
    "ends_rows": ("共 {n} 行：列出前 {a} 行与末 {b} 行，中间 {h} 行见 tables.xlsx 同名工作表。",
                  "{n} rows: the first {a} and the last {b} are shown; the {h} in between are in the sheet of the "
                  "same name in tables.xlsx."),
    "head_rows": ("共 {n} 行：列出前 {a} 行，其余 {h} 行见 tables.xlsx 同名工作表。",
                  "{n} rows: the first {a} are shown; the other {h} are in the sheet of the same name in tables.xlsx."),
    "no_data": ("无数据", "no data"),
    "pp": ("{d} 个百分点", "{d} percentage points"),
    "gap_rows": ("…… 中间 {h} 行从略 ……", "… {h} rows left out here …"),
    "small_note": ("公众版中 1–2 起的数字显示为“<3”，由其推算的比率不予显示。",
                   "In the public edition counts of 1–2 are shown as “<3” and rates derived from them are blank."),
    "offline": ("本页面离线可用：图表库与边界数据均已内嵌，不访问网络。",
                "This page works offline: chart library and boundaries are embedded; it makes no network request."),
}


def text(key: str, lang: str, **kw: Any) -> str:
    """A fixed UI string in ``lang``."""
    zh, en = _TEXT[key]
    s = zh if lang == "zh" else en
    return s.format(**kw) if kw else s


def num(v: Any) -> float | None:
    """A drawable number, or ``None`` for a masked (``"<3"``) or missing value."""
    if v is None or isinstance(v, str):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
