"""ECharts options for the figures of a release (for index.html). Pure data → options; no numbers computed.

Each builder reads the figure's table through its encoding and returns a JSON-ready option dict; the page's small
script only calls ``echarts.registerMap`` for each boundary layer and ``setOption`` for each chart.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from anju.release.model import Figure, Release, Table
from anju.release.style import FONT_STACK, HEAT, PALETTE, SAFETY, num, text

__all__ = ["chart_height", "echarts_option", "map_name"]

Builder = Callable[[Figure, Table, Release], dict[str, Any]]
_BUILDERS: dict[str, Builder] = {}


def _builder(kind: str) -> Callable[[Builder], Builder]:
    def deco(f: Builder) -> Builder:
        _BUILDERS[kind] = f
        return f

    return deco


def map_name(layer: str) -> str:
    """Name under which a boundary layer is registered with ``echarts.registerMap``."""
    return f"anju-{layer}"


def chart_height(fig: Figure, table: Table) -> int:
    """Pixel height of a chart's box in the page."""
    if fig.kind in ("choropleth", "heat"):
        return 520
    if fig.kind in ("interval", "diverging") or (fig.kind == "bar" and fig.enc.get("horizontal")):
        return max(260, 26 * len(table.data) + 80)
    if fig.kind == "matrix":
        return 320
    return 340


def echarts_option(fig: Figure, release: Release) -> dict[str, Any]:
    """The ECharts option of ``fig`` (animation off, so a screenshot taken at load shows the final chart)."""
    table = release.table(fig.table)
    opt = _BUILDERS[fig.kind](fig, table, release)
    opt.setdefault("animation", False)
    opt.setdefault("textStyle", {"fontFamily": FONT_STACK})
    opt.setdefault("color", PALETTE)
    return opt


def _labels(table: Table, key: str) -> list[str]:
    return ["" if v is None else str(v) for v in table.values(key)]


def _nums(table: Table, key: str) -> list[float | None]:
    return [num(v) for v in table.values(key)]


@_builder("choropleth")
def _choropleth(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    lang = release.lang
    layer = release.geo[fig.enc["layer"]]
    names = layer.name_of()
    ids = _labels(table, fig.enc["id"])
    vals = _nums(table, fig.enc["value"])
    data = [{"name": names.get(i, i), "value": v} for i, v in zip(ids, vals, strict=True) if v is not None]
    finite = [v for v in vals if v is not None]
    vmin = fig.enc.get("vmin", min(finite) if finite else 0)
    vmax = fig.enc.get("vmax", max(finite) if finite else 1)
    colors = SAFETY if fig.enc.get("palette", "safety") == "safety" else HEAT
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}<br/>{c}"},
        "visualMap": {"type": "continuous", "min": vmin, "max": vmax, "calculable": True, "left": 10, "bottom": 10,
                      "text": [text("high", lang), text("low", lang)], "inRange": {"color": colors}},
        "series": [{
            "type": "map", "map": map_name(fig.enc["layer"]), "roam": True, "data": data, "layoutCenter": ["50%", "50%"],
            "layoutSize": "95%",
            "itemStyle": {"areaColor": "#eeeeee", "borderColor": "#ffffff", "borderWidth": 0.6},
            "emphasis": {"label": {"show": True}, "itemStyle": {"areaColor": "#5b8ff9"}},
            "select": {"disabled": True},
        }],
    }


@_builder("heat")
def _heat(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    lang = release.lang
    lon, lat, val = _nums(table, fig.enc["lon"]), _nums(table, fig.enc["lat"]), _nums(table, fig.enc["value"])
    data = [[x, y, v] for x, y, v in zip(lon, lat, val, strict=True) if v is not None and x is not None and y is not None]
    vmax = max((d[2] for d in data), default=1.0) or 1.0
    point = fig.enc.get("point_px") or _heat_point_px(lon, lat, release.geo[fig.enc["layer"]].bounds)
    return {
        "tooltip": {"show": False},
        "geo": {"map": map_name(fig.enc["layer"]), "roam": True, "layoutCenter": ["50%", "50%"], "layoutSize": "95%",
                "itemStyle": {"areaColor": "#f4f4f4", "borderColor": "#9a9a9a", "borderWidth": 0.5},
                "emphasis": {"disabled": True}, "select": {"disabled": True}},
        "visualMap": {"type": "continuous", "min": 0, "max": vmax, "calculable": True, "left": 10, "bottom": 10,
                      "text": [text("high", lang), text("low", lang)], "precision": 2,
                      "inRange": {"color": HEAT}, "seriesIndex": 0},
        "series": [{"type": "heatmap", "coordinateSystem": "geo", "data": data,
                    "pointSize": point, "blurSize": int(fig.enc.get("blur_px", point))}],
    }


def _heat_point_px(lon: list[float | None], lat: list[float | None], bounds: tuple[float, float, float, float],
                   box_px: float = 480.0) -> int:
    """Heat point size in pixels so that neighbouring grid cells touch when the whole layer fills the chart box."""
    xs = sorted({round(x, 7) for x in lon if x is not None})
    if len(xs) < 2:
        return 8
    cell = min(b - a for a, b in itertools.pairwise(xs))
    span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1e-9)
    return max(3, min(40, round(1.3 * box_px * cell / span)))


@_builder("interval")
def _interval(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    lang = release.lang
    e = fig.enc
    labels = _labels(table, e["label"])[::-1]  # first row at the top
    est, lo, hi = (_nums(table, e[k])[::-1] for k in ("value", "lower", "upper"))
    bar = {"type": "bar", "barWidth": 10, "barGap": "-100%", "silent": True}
    return {
        "grid": {"left": 10, "right": 30, "top": 30, "bottom": 20, "containLabel": True},
        "legend": {"data": [text("estimate", lang), text("interval", lang)], "top": 0},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "xAxis": {"type": "value", "min": 0, "splitLine": {"show": False}},
        "yAxis": {"type": "category", "data": labels, "axisLabel": {"interval": 0}, "axisTick": {"show": False}},
        "series": [
            {**bar, "name": text("interval", lang), "data": hi, "itemStyle": {"color": "#9ec5e8"}, "z": 1},
            {**bar, "name": "lower", "data": lo, "itemStyle": {"color": "#ffffff"}, "z": 2,
             "tooltip": {"show": False}},
            {"type": "scatter", "name": text("estimate", lang), "data": est, "symbolSize": 9, "z": 3,
             "itemStyle": {"color": "#1f4e79"}},
        ],
    }


def _dataset_series(fig: Figure, table: Table, release: Release, kind: str) -> dict[str, Any]:
    e = fig.enc
    series_keys = list(e["series"]) if isinstance(e["series"], (list, tuple)) else [e["series"]]
    x = _labels(table, e["x"])
    horizontal = bool(e.get("horizontal"))
    series = []
    for key in series_keys:
        col = table.column(key)
        s: dict[str, Any] = {"type": kind, "name": col.label(release.lang), "data": _nums(table, key)}
        if kind == "bar" and e.get("stack"):
            s["stack"] = "total"
        if kind == "line":
            s["smooth"] = False
            s["symbolSize"] = 5
        series.append(s)
    cat_axis = {"type": "category", "data": x[::-1] if horizontal else x,
                "axisLabel": {"interval": 0 if horizontal or len(x) <= 12 else "auto",
                              "rotate": 0 if horizontal or len(x) <= 8 else 30}}
    if horizontal:
        for s in series:
            s["data"] = s["data"][::-1]
    return {
        "grid": {"left": 10, "right": 30, "top": 40, "bottom": 20, "containLabel": True},
        "legend": {"top": 0} if len(series) > 1 else {"show": False},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value"} if horizontal else cat_axis,
        "yAxis": cat_axis if horizontal else {"type": "value"},
        "series": series,
    }


@_builder("bar")
def _bar(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    return _dataset_series(fig, table, release, "bar")


@_builder("line")
def _line(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    return _dataset_series(fig, table, release, "line")


@_builder("matrix")
def _matrix(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    e = fig.enc
    xs, ys, vs = _labels(table, e["x"]), _labels(table, e["y"]), _nums(table, e["value"])
    xcat = list(dict.fromkeys(xs))
    ycat = list(dict.fromkeys(ys))
    xi = {v: i for i, v in enumerate(xcat)}
    yi = {v: i for i, v in enumerate(ycat)}
    data = [[xi[x], yi[y], v] for x, y, v in zip(xs, ys, vs, strict=True)]
    finite = [v for v in vs if v is not None]
    return {
        "grid": {"left": 10, "right": 20, "top": 10, "bottom": 60, "containLabel": True},
        "tooltip": {"position": "top"},
        "xAxis": {"type": "category", "data": xcat, "splitArea": {"show": True}},
        "yAxis": {"type": "category", "data": ycat, "splitArea": {"show": True}, "inverse": True},
        "visualMap": {"min": min(finite, default=0), "max": max(finite, default=1), "calculable": True,
                      "orient": "horizontal", "left": "center", "bottom": 0, "inRange": {"color": HEAT}},
        "series": [{"type": "heatmap", "data": data, "label": {"show": False}}],
    }


@_builder("wordcloud")
def _wordcloud(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    e = fig.enc
    words = _labels(table, e["label"])
    vals = _nums(table, e["value"])
    data = [{"name": w, "value": v, "textStyle": {"color": PALETTE[i % len(PALETTE)]}}
            for i, (w, v) in enumerate(zip(words, vals, strict=True)) if v is not None]
    return {
        "tooltip": {"show": True},
        "series": [{"type": "wordCloud", "shape": "circle", "left": "center", "top": "center", "width": "96%",
                    "height": "96%", "sizeRange": [12, 56], "rotationRange": [0, 0], "gridSize": 6,
                    "drawOutOfBound": False, "layoutAnimation": False,
                    "textStyle": {"fontFamily": FONT_STACK, "fontWeight": "bold"}, "data": data}],
    }


@_builder("diverging")
def _diverging(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    e = fig.enc
    labels = _labels(table, e["label"])[::-1]
    vals = _nums(table, e["value"])[::-1]
    flags = table.values(e["flag"])[::-1] if e.get("flag") else [True] * len(vals)
    data = []
    for v, f in zip(vals, flags, strict=True):
        color = ("#c23b3b" if (v or 0) > 0 else "#2f6f9f") if f else "#bbbbbb"
        data.append({"value": v, "itemStyle": {"color": color}})
    return {
        "grid": {"left": 10, "right": 30, "top": 20, "bottom": 20, "containLabel": True},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "xAxis": {"type": "value", "name": table.column(e["value"]).label(release.lang)},
        "yAxis": {"type": "category", "data": labels, "axisLabel": {"interval": 0}},
        "series": [{"type": "bar", "data": data, "barWidth": 12}],
    }


@_builder("pie")
def _pie(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    e = fig.enc
    data = [{"name": n, "value": v} for n, v in zip(_labels(table, e["label"]), _nums(table, e["value"]), strict=True)
            if v is not None]
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"type": "scroll", "orient": "vertical", "right": 0, "top": 20, "bottom": 20},
        "series": [{"type": "pie", "radius": ["35%", "68%"], "center": ["40%", "52%"], "data": data,
                    "label": {"formatter": "{b}\n{d}%"}}],
    }
