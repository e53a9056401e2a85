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
    e = fig.enc
    layer = release.geo[e["layer"]]
    names = layer.name_of()
    ids = _labels(table, e["id"])
    vals = _nums(table, e["value"])
    marked = set(e.get("marked", ()))
    data = []
    for i, v in zip(ids, vals, strict=True):
        if v is None:
            continue
        item: dict[str, Any] = {"name": names.get(i, i), "value": v}
        if i in marked:  # the worst and best are named on the map itself
            item["label"] = {"show": True, "fontSize": 10, "color": "#111", "textBorderColor": "#fff",
                             "textBorderWidth": 2}
        data.append(item)
    finite = [v for v in vals if v is not None]
    vmin = e.get("vmin", min(finite) if finite else 0)
    vmax = e.get("vmax", max(finite) if finite else 1)
    colors = SAFETY if e.get("palette", "safety") == "safety" else HEAT
    unit = str(e.get("unit_zh" if lang == "zh" else "unit_en", ""))
    visual: dict[str, Any]
    if e.get("bands"):
        bands = list(e["bands"])
        ramp = SAFETY if len(bands) > 2 else [SAFETY[0], SAFETY[-1]]
        step = (len(ramp) - 1) / max(len(bands) - 1, 1)
        visual = {"type": "piecewise", "left": 10, "bottom": 10, "text": [unit, ""] if unit else None, "showLabel": True,
                  "pieces": [{"min": b["min"], "max": b["max"], "label": b["zh" if lang == "zh" else "en"],
                              "color": ramp[round(k * step)]} for k, b in enumerate(bands)]}
    else:
        visual = {"type": "continuous", "min": vmin, "max": vmax, "calculable": True, "left": 10, "bottom": 10,
                  "precision": 0, "text": [f"{text('high', lang)}  {unit}".strip(), text("low", lang)],
                  "inRange": {"color": colors}}
    series: list[dict[str, Any]] = [{
        "type": "map", "map": map_name(e["layer"]), "roam": False, "data": data, "layoutCenter": ["50%", "50%"],
        "layoutSize": "95%", "boundingCoords": _bbox(layer.bounds),
        "itemStyle": {"areaColor": "#eeeeee", "borderColor": "#ffffff", "borderWidth": 0.6},
        "emphasis": {"label": {"show": True}, "itemStyle": {"areaColor": "#4d4d4d"}},
        "select": {"disabled": True},
    }]
    outline = e.get("outline")
    if outline and outline in release.geo:  # street boundaries drawn over the communities, same frame
        series.append({"type": "map", "map": map_name(outline), "roam": False, "silent": True, "z": 3,
                       "layoutCenter": ["50%", "50%"], "layoutSize": "95%", "boundingCoords": _bbox(layer.bounds),
                       "itemStyle": {"areaColor": "rgba(0,0,0,0)", "borderColor": "#222", "borderWidth": 1.6},
                       "label": {"show": False}, "emphasis": {"disabled": True}, "select": {"disabled": True},
                       "tooltip": {"show": False}, "data": []})
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}<br/>{c}"},
        "visualMap": {**visual, "seriesIndex": 0},
        "series": series,
    }


def _bbox(b: tuple[float, float, float, float]) -> list[list[float]]:
    """ECharts ``boundingCoords``: [[west, north], [east, south]] (so two layers share one frame)."""
    return [[b[0], b[3]], [b[2], b[1]]]


@_builder("heat")
def _heat(fig: Figure, table: Table, release: Release) -> dict[str, Any]:
    lang = release.lang
    e = fig.enc
    lon, lat, val = _nums(table, e["lon"]), _nums(table, e["lat"]), _nums(table, e["value"])
    data = [[x, y, v] for x, y, v in zip(lon, lat, val, strict=True) if v is not None and x is not None and y is not None]
    vmax = max((d[2] for d in data), default=1.0) or 1.0
    unit = str(e.get("unit_zh" if lang == "zh" else "unit_en", ""))
    visual = {"type": "continuous", "min": 0, "max": vmax, "calculable": True, "left": 10, "bottom": 10,
              "text": [f"{text('high', lang)}  {unit}".strip(), text("low", lang)], "precision": 0,
              "inRange": {"color": HEAT}, "seriesIndex": 0}
    if "layer" not in e or e["layer"] not in release.geo:
        # no boundary layer (e.g. a city released by responsible unit): the grid drawn on longitude/latitude axes
        xs = [d[0] for d in data] or [0.0]
        ys = [d[1] for d in data] or [0.0]
        bounds = (min(xs), min(ys), max(xs), max(ys))
        point = e.get("point_px") or _heat_point_px(lon, lat, bounds)
        return {
            "tooltip": {"show": False},
            "grid": {"left": 60, "right": 20, "top": 20, "bottom": 50},
            "xAxis": {"type": "value", "min": bounds[0], "max": bounds[2], "scale": True,
                      "name": "经度" if lang == "zh" else "Longitude", "nameLocation": "middle", "nameGap": 28,
                      "axisLabel": {"formatter": "{value}"}},
            "yAxis": {"type": "value", "min": bounds[1], "max": bounds[3], "scale": True,
                      "name": "纬度" if lang == "zh" else "Latitude"},
            "visualMap": visual,
            "series": [{"type": "scatter", "data": data, "symbol": "rect", "symbolSize": point,
                        "itemStyle": {"opacity": 0.85}}],
        }
    point = e.get("point_px") or _heat_point_px(lon, lat, release.geo[e["layer"]].bounds)
    return {
        "tooltip": {"show": False},
        "geo": {"map": map_name(e["layer"]), "roam": True, "layoutCenter": ["50%", "50%"], "layoutSize": "95%",
                "itemStyle": {"areaColor": "#f4f4f4", "borderColor": "#9a9a9a", "borderWidth": 0.5},
                "emphasis": {"disabled": True}, "select": {"disabled": True}},
        "visualMap": visual,
        "series": [{"type": "heatmap", "coordinateSystem": "geo", "data": data,
                    "pointSize": point, "blurSize": int(e.get("blur_px", point))}],
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
    value_axis = _value_axis(table.column(series_keys[0]).kind, release.lang)
    if kind == "line":
        value_axis["scale"] = True  # not forced to zero: monthly counts of a few thousand would flatten
    return {
        "grid": {"left": 10, "right": 30, "top": 40, "bottom": 30, "containLabel": True},
        "legend": {"top": 0} if len(series) > 1 else {"show": False},
        "tooltip": {"trigger": "axis"},
        "xAxis": value_axis if horizontal else cat_axis,
        "yAxis": cat_axis if horizontal else value_axis,
        "series": series,
    }


def _value_axis(kind: str, lang: str) -> dict[str, Any]:
    """A value axis titled with its unit; money in 万元 (thousand yuan), counts as integers."""
    ax: dict[str, Any] = {"type": "value", "nameLocation": "end", "nameTextStyle": {"color": "#6b7785"}}
    if kind in ("count", "int"):
        ax["name"] = "起" if lang == "zh" else "calls"
        ax["minInterval"] = 1
    elif kind == "money":
        ax["name"] = "万元" if lang == "zh" else "thousand yuan"
        ax["axisLabel"] = {"formatter": _MONEY_JS_ZH if lang == "zh" else _MONEY_JS_EN}
    return ax


# A JSON option cannot carry a function and an ECharts template cannot divide, so money axes name a formatter
# ("fmt:wan") that the page script (index.html.j2) replaces with its function before setOption.
_MONEY_JS_ZH = "fmt:wan"
_MONEY_JS_EN = "fmt:thousand"


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
    """Words placed here (a spiral layout, largest first) and drawn as text labels of an invisible scatter: the
    chart is complete after one synchronous ``setOption``, so a one-shot screenshot shows it (the word-cloud
    plugin lays out on timers after the page's load event)."""
    e = fig.enc
    words = _labels(table, e["label"])
    vals = _nums(table, e["value"])
    items = [(w, v) for w, v in zip(words, vals, strict=True) if v is not None and w]
    placed = layout_words(items, width=_CLOUD_W, height=_CLOUD_H)
    data = [{"name": w, "value": [x, y, v],
             "label": {"fontSize": size, "color": PALETTE[k % len(PALETTE)]}}
            for k, (w, v, x, y, size) in enumerate(placed)]
    return {
        "tooltip": {"show": True, "formatter": "{b}"},
        "grid": {"left": 0, "right": 0, "top": 0, "bottom": 0},
        "xAxis": {"type": "value", "min": -_CLOUD_W / 2, "max": _CLOUD_W / 2, "show": False},
        "yAxis": {"type": "value", "min": -_CLOUD_H / 2, "max": _CLOUD_H / 2, "show": False},
        "series": [{"type": "scatter", "symbolSize": 1, "itemStyle": {"color": "rgba(0,0,0,0)"}, "data": data,
                    "labelLayout": {"hideOverlap": False},
                    "label": {"show": True, "formatter": "{b}", "position": "inside", "fontFamily": FONT_STACK,
                              "fontWeight": "bold", "opacity": 1}, "emphasis": {"scale": False}}],
    }


_CLOUD_W, _CLOUD_H = 540.0, 330.0


def _text_width(word: str, size: float) -> float:
    return sum(size if ord(ch) > 0x2E80 else 0.6 * size for ch in word)


def layout_words(items: list[tuple[str, float]], *, width: float, height: float, min_px: float = 12.0,
                 max_px: float = 48.0) -> list[tuple[str, float, float, float, float]]:
    """Place words on an Archimedean spiral from the centre, largest first, without overlaps; words that do not fit
    are left out. Returns ``(word, value, x, y, font_px)`` with ``(0, 0)`` the centre and y pointing up.

    Examples
    --------
    >>> [(w, round(s)) for w, _, _, _, s in layout_words([("盗窃", 100.0), ("纠纷", 25.0)], width=300, height=200)]
    [('盗窃', 48), ('纠纷', 24)]
    """
    import math

    if not items:
        return []
    items = sorted(items, key=lambda wv: -wv[1])
    top = max(v for _, v in items) or 1.0
    boxes: list[tuple[float, float, float, float]] = []
    out: list[tuple[str, float, float, float, float]] = []
    for w, v in items:
        size = max(min_px, max_px * math.sqrt(max(v, 0.0) / top))
        bw, bh = _text_width(w, size) + 4, size * 1.15
        t = 0.0
        while t < 400:
            x, y = 0.5 * t * math.cos(t) * (width / height), 0.5 * t * math.sin(t)
            box = (x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2)
            if box[0] < -width / 2 or box[2] > width / 2 or box[1] < -height / 2 or box[3] > height / 2:
                if abs(x) > width and abs(y) > height:
                    break
            elif all(box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3] for b in boxes):
                boxes.append(box)
                out.append((w, v, x, y, size))
                break
            t += 0.08
    return out


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
