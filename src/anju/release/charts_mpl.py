"""Static images (PNG) of a release's figures for the PDF, drawn with matplotlib from the same tables as the HTML.

Uses the object API (``matplotlib.figure.Figure`` + Agg canvas), never pyplot, so it is safe to call from worker
threads. Chinese text needs a CJK font: :func:`setup_fonts` finds Noto Sans CJK SC (Debian ``fonts-noto-cjk``)
even when matplotlib's font cache predates its installation.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter
from PIL import Image

from anju.release.model import Figure, GeoLayer, Release, Table
from anju.release.style import HEAT, MPL_FONTS, PALETTE, SAFETY, num, text

__all__ = ["cjk_font_name", "figure_png", "setup_fonts"]

WIDTH_IN = 6.7  # A4 text width with 20 mm margins
_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)

Drawer = Callable[[MplFigure, Figure, Table, Release], None]
_DRAWERS: dict[str, Drawer] = {}


def _drawer(kind: str) -> Callable[[Drawer], Drawer]:
    def deco(f: Drawer) -> Drawer:
        _DRAWERS[kind] = f
        return f

    return deco


@lru_cache(maxsize=1)
def setup_fonts() -> str | None:
    """Make a CJK font known to matplotlib and set it first in ``font.sans-serif``; returns its name or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    if not any(n in names for n in MPL_FONTS[:-1]):
        for p in _FONT_FILES:
            if Path(p).exists():
                font_manager.fontManager.addfont(p)
        names = {f.name for f in font_manager.fontManager.ttflist}
    found = next((n for n in MPL_FONTS[:-1] if n in names), None)
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [n for n in MPL_FONTS if n in names] + ["DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["font.size"] = 9
    return found


def cjk_font_name() -> str | None:
    """The CJK font matplotlib will use, or None when none is installed (Chinese would show as boxes)."""
    return setup_fonts()


def figure_png(fig: Figure, release: Release, *, dpi: int = 150) -> bytes:
    """Draw ``fig`` as a PNG (bytes) sized for an A4 page."""
    setup_fonts()
    table = release.table(fig.table)
    height = _height(fig, table)
    # fixed margins instead of constrained layout: measuring every tick label took ~40 % of the drawing time
    mfig = MplFigure(figsize=(WIDTH_IN, height), dpi=dpi, layout=None)
    FigureCanvasAgg(mfig)
    _DRAWERS[fig.kind](mfig, fig, table, release)
    _margins(mfig, fig, table, height)
    mfig.set_facecolor("white")
    mfig.canvas.draw()
    rgba = np.asarray(mfig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    buf = io.BytesIO()
    # RGB (no alpha) PNG, quickly compressed: WeasyPrint embeds its data as is instead of re-encoding it
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _text_em(text: str) -> float:
    """Rough width of a label in ems: CJK characters are 1 em, others about 0.6."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in text)


def _margins(mfig: MplFigure, fig: Figure, table: Table, height: float) -> None:
    """Margins (in inches, turned into figure fractions) fitted to the labels each kind of chart shows."""
    if fig.kind in ("wordcloud",):
        return
    em = 9 / 72  # inches per em at the 9 pt font
    if fig.kind in ("choropleth", "heat", "pie"):
        mfig.subplots_adjust(left=0.01, right=0.7 if fig.kind == "pie" else 0.86, bottom=0.02, top=0.98)
        return
    left_in = 0.45
    bottom_in = 0.45
    label_key = {"interval": "label", "diverging": "label", "matrix": "y"}.get(fig.kind)
    if fig.kind == "bar" and fig.enc.get("horizontal"):
        label_key = "x"
    if label_key:
        labels = [str(v) for v in table.values(fig.enc[label_key]) if v is not None]
        left_in = 0.25 + em * max((_text_em(x) for x in labels), default=2)
    elif fig.kind in ("bar", "line") and len(table.data) > 8:
        bottom_in = 0.25 + 0.7 * em * max((_text_em(str(v)) for v in table.values(fig.enc["x"])), default=2)
    if fig.kind == "diverging":
        bottom_in = 0.6
    right = 0.86 if fig.kind == "matrix" else 0.97
    mfig.subplots_adjust(left=min(0.45, left_in / WIDTH_IN), right=right, bottom=min(0.4, bottom_in / height),
                         top=1 - min(0.25, 0.15 / height))


def _height(fig: Figure, table: Table) -> float:
    if fig.kind in ("choropleth", "heat"):
        return 4.3
    if fig.kind in ("interval", "diverging") or (fig.kind == "bar" and fig.enc.get("horizontal")):
        return min(8.5, max(2.2, 0.24 * len(table.data) + 0.9))
    if fig.kind == "wordcloud":
        return 3.4
    return 3.0


def _labels(table: Table, key: str) -> list[str]:
    return ["" if v is None else str(v) for v in table.values(key)]


def _nums(table: Table, key: str) -> np.ndarray:
    return np.array([np.nan if (x := num(v)) is None else x for v in table.values(key)], dtype=float)


def _int_fmt(v: float, _pos: object = None) -> str:
    return f"{v:,.0f}"


_INT_FMT = FuncFormatter(_int_fmt)


def _value_axis(axis: Any, kind: str, lang: str) -> None:
    """Tick labels as a reader writes the numbers (integers with separators; money in 万元 / thousand yuan, never
    "1e8") and the axis titled with its unit."""
    if kind == "money":
        div, unit = (1e4, "万元") if lang == "zh" else (1e3, "thousand yuan")
        axis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v / div:,.0f}"))
        axis.set_label_text(unit, fontsize=7)
    elif kind in ("count", "int"):
        axis.set_major_formatter(_INT_FMT)
        axis.set_label_text("起" if lang == "zh" else "calls", fontsize=7)
    elif kind == "index":
        axis.set_major_formatter(_INT_FMT)


def _cmap(colors: list[str], name: str) -> LinearSegmentedColormap:
    return LinearSegmentedColormap.from_list(name, colors)


def _polys(layer: GeoLayer) -> tuple[list[np.ndarray], np.ndarray]:
    """Exterior rings of every polygon part, and the index of the area each ring belongs to."""
    parts, idx = shapely.get_parts(layer.geometries, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    coords = [np.asarray(shapely.get_coordinates(r)) for r in rings]
    return coords, np.asarray(idx)


def _map_axes(mfig: MplFigure, layer: GeoLayer) -> Any:
    ax = mfig.add_subplot()
    minx, miny, maxx, maxy = layer.bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1 / math.cos(math.radians((miny + maxy) / 2)))
    ax.set_axis_off()
    return ax


@_drawer("choropleth")
def _choropleth(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    layer = release.geo[fig.enc["layer"]]
    ax = _map_axes(mfig, layer)
    value_of = dict(zip(_labels(table, fig.enc["id"]), _nums(table, fig.enc["value"]), strict=True))
    vals = np.array([value_of.get(i, np.nan) for i in layer.ids], dtype=float)
    finite = vals[np.isfinite(vals)]
    vmin = fig.enc.get("vmin", float(finite.min()) if finite.size else 0.0)
    vmax = fig.enc.get("vmax", float(finite.max()) if finite.size else 1.0)
    lang = release.lang
    e = fig.enc
    unit = str(e.get("unit_zh" if lang == "zh" else "unit_en", "")) or table.column(e["value"]).label(lang)
    rings, idx = _polys(layer)
    rv = vals[idx]
    if e.get("bands"):  # one colour per grade band, legend of the bands
        from matplotlib.patches import Patch

        bands = list(e["bands"])
        ramp = SAFETY if len(bands) > 2 else [SAFETY[0], SAFETY[-1]]
        step = (len(ramp) - 1) / max(len(bands) - 1, 1)
        band_colors = [ramp[round(k * step)] for k in range(len(bands))]

        def colour(v: float) -> Any:
            if not np.isfinite(v):
                return "#eeeeee"
            k = max([n for n, b in enumerate(bands) if v >= b["min"]], default=0)
            return band_colors[k]

        colors = [colour(v) for v in rv]
        ax.add_collection(PolyCollection(rings, facecolors=colors, edgecolors="white", linewidths=0.4))
        handles = [Patch(facecolor=c, label=b["zh" if lang == "zh" else "en"]) for c, b in zip(band_colors, bands,
                                                                                                strict=True)]
        ax.legend(handles=handles[::-1], title=unit, loc="lower left", fontsize=7, title_fontsize=7, frameon=True)
    else:
        cmap = _cmap(SAFETY if e.get("palette", "safety") == "safety" else HEAT, "anju")
        norm = Normalize(vmin=vmin, vmax=vmax)
        colors = [cmap(norm(v)) if np.isfinite(v) else (0.93, 0.93, 0.93, 1) for v in rv]
        ax.add_collection(PolyCollection(rings, facecolors=colors, edgecolors="white", linewidths=0.4))
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        cb = mfig.colorbar(sm, ax=ax, shrink=0.6, fraction=0.05, pad=0.02, label=unit)
        cb.ax.yaxis.set_major_formatter(_INT_FMT)
    outline = e.get("outline")
    if outline and outline in release.geo:
        orings, _ = _polys(release.geo[outline])
        ax.add_collection(PolyCollection(orings, facecolors="none", edgecolors="#222222", linewidths=1.0, zorder=3))
    marked = set(e.get("marked", ()))
    if marked:
        cents = shapely.point_on_surface(layer.geometries)
        for aid, name, pt in zip(layer.ids, layer.names, cents, strict=True):
            if aid in marked:
                ax.annotate(name, (pt.x, pt.y), fontsize=6.5, ha="center", va="center", zorder=4,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


@_drawer("heat")
def _heat(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    layer = release.geo.get(fig.enc.get("layer", ""))
    lang = release.lang
    unit = str(fig.enc.get("unit_zh" if lang == "zh" else "unit_en", "")) or table.column(fig.enc["value"]).label(lang)
    if layer is None:
        ax = mfig.add_subplot()
        ax.set_xlabel("经度" if lang == "zh" else "Longitude")
        ax.set_ylabel("纬度" if lang == "zh" else "Latitude")
    else:
        ax = _map_axes(mfig, layer)
    i = _nums(table, fig.enc["i"]).astype(float)
    j = _nums(table, fig.enc["j"]).astype(float)
    lon, lat, v = _nums(table, fig.enc["lon"]), _nums(table, fig.enc["lat"]), _nums(table, fig.enc["value"])
    ok = np.isfinite(i) & np.isfinite(j) & np.isfinite(v)
    if ok.any():
        i, j, lon, lat, v = (a[ok] for a in (i, j, lon, lat, v))
        ii, jj = (i - i.min()).astype(int), (j - j.min()).astype(int)
        raster = np.full((jj.max() + 1, ii.max() + 1), np.nan)
        raster[jj, ii] = v
        raster[raster <= 0] = np.nan
        # cell size in degrees from the cells' own centres (the grid is regular in the metric CRS)
        dx = (lon.max() - lon.min()) / max(1, ii.max()) if ii.max() else 0.001
        dy = (lat.max() - lat.min()) / max(1, jj.max()) if jj.max() else 0.001
        extent = (lon.min() - dx / 2, lon.max() + dx / 2, lat.min() - dy / 2, lat.max() + dy / 2)
        im = ax.imshow(raster, origin="lower", extent=extent, cmap=_cmap(HEAT, "heat"), alpha=0.85,
                       interpolation="bilinear", zorder=1)
        cb = mfig.colorbar(im, ax=ax, shrink=0.6, fraction=0.05, pad=0.02, label=unit)
        cb.ax.yaxis.set_major_formatter(_INT_FMT)
    if layer is None:
        ax.set_aspect(1 / math.cos(math.radians(float(np.nanmean(lat)) if np.isfinite(lat).any() else 0.0)))
        return
    rings, _ = _polys(layer)
    ax.add_collection(PolyCollection(rings, facecolors="none", edgecolors="#8a8a8a", linewidths=0.35, zorder=2))
    minx, miny, maxx, maxy = layer.bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)


@_drawer("interval")
def _interval(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    lang = release.lang
    ax = mfig.add_subplot()
    labels = _labels(table, fig.enc["label"])
    est, lo, hi = (_nums(table, fig.enc[k]) for k in ("value", "lower", "upper"))
    y = np.arange(len(labels))[::-1]
    ax.hlines(y, lo, hi, color="#9ec5e8", linewidth=6, label=text("interval", lang))
    ax.plot(est, y, "o", color="#1f4e79", markersize=4, label=text("estimate", lang))
    ax.set_yticks(y, labels)
    ax.set_xlim(left=0)
    ax.grid(axis="x", color="#e5e5e5")
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _series_keys(fig: Figure) -> list[str]:
    s = fig.enc["series"]
    return list(s) if isinstance(s, (list, tuple)) else [s]


@_drawer("bar")
def _bar(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    ax = mfig.add_subplot()
    x = _labels(table, fig.enc["x"])
    keys = _series_keys(fig)
    horizontal = bool(fig.enc.get("horizontal"))
    stack = bool(fig.enc.get("stack"))
    pos = np.arange(len(x))
    width = 0.8 if stack or len(keys) == 1 else 0.8 / len(keys)
    base = np.zeros(len(x))
    for k, key in enumerate(keys):
        vals = np.nan_to_num(_nums(table, key))
        off = 0 if stack or len(keys) == 1 else (k - (len(keys) - 1) / 2) * width
        lab = table.column(key).label(release.lang)
        color = PALETTE[k % len(PALETTE)]
        if horizontal:
            ax.barh(pos[::-1] + off, vals, height=width, left=base if stack else None, label=lab, color=color)
        else:
            ax.bar(pos + off, vals, width=width, bottom=base if stack else None, label=lab, color=color)
        if stack:
            base = base + vals
    if horizontal:
        ax.set_yticks(pos[::-1], x)
    else:
        ax.set_xticks(pos, x, rotation=30 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
    if len(keys) > 1:
        ax.legend(fontsize=7, frameon=False)
    _value_axis(ax.xaxis if horizontal else ax.yaxis, table.column(keys[0]).kind, release.lang)
    ax.grid(axis="x" if horizontal else "y", color="#e5e5e5")
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


@_drawer("line")
def _line(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    ax = mfig.add_subplot()
    x = _labels(table, fig.enc["x"])
    pos = np.arange(len(x))
    for k, key in enumerate(_series_keys(fig)):
        ax.plot(pos, _nums(table, key), marker="o", markersize=3, color=PALETTE[k % len(PALETTE)],
                label=table.column(key).label(release.lang))
    step = max(1, math.ceil(len(x) / 12))
    ax.set_xticks(pos[::step], x[::step], rotation=30 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
    # not forced to zero: six monthly counts of a few thousand would flatten into one line
    ax.margins(y=0.15)
    _value_axis(ax.yaxis, table.column(_series_keys(fig)[0]).kind, release.lang)
    ax.legend(fontsize=7, frameon=False)
    ax.grid(axis="y", color="#e5e5e5")
    ax.spines[["top", "right"]].set_visible(False)


@_drawer("matrix")
def _matrix(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    ax = mfig.add_subplot()
    xs, ys, vs = _labels(table, fig.enc["x"]), _labels(table, fig.enc["y"]), _nums(table, fig.enc["value"])
    xcat, ycat = list(dict.fromkeys(xs)), list(dict.fromkeys(ys))
    xi = {v: i for i, v in enumerate(xcat)}
    yi = {v: i for i, v in enumerate(ycat)}
    m = np.full((len(ycat), len(xcat)), np.nan)
    m[[yi[y] for y in ys], [xi[x] for x in xs]] = vs
    im = ax.imshow(m, aspect="auto", cmap=_cmap(HEAT, "heat"))
    ax.set_xticks(range(len(xcat)), xcat, fontsize=7)
    ax.set_yticks(range(len(ycat)), ycat)
    mfig.colorbar(im, ax=ax, shrink=0.8, fraction=0.04, pad=0.02,
                  label=table.column(fig.enc["value"]).label(release.lang))


@_drawer("wordcloud")
def _wordcloud(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    """A simple tag cloud: words in rank order, font size by weight, flowed into centred lines."""
    ax = mfig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    words = _labels(table, fig.enc["label"])
    vals = _nums(table, fig.enc["value"])
    ok = np.isfinite(vals)
    words = [w for w, o in zip(words, ok, strict=True) if o]
    vals = vals[ok]
    if not len(vals):
        return
    order = np.argsort(-vals, kind="stable")
    vmax, vmin = float(vals.max()), float(vals.min())
    renderer = mfig.canvas.get_renderer()  # type: ignore[attr-defined]
    w_px, h_px = mfig.get_size_inches() * mfig.dpi
    lines: list[list[tuple[str, float, float, float, str]]] = [[]]
    line_w = 0.0
    for n, k in enumerate(order):
        size = 10 + 22 * (math.sqrt(vals[k] - vmin) / math.sqrt(vmax - vmin) if vmax > vmin else 1.0)
        t = ax.text(0, 0, words[k], fontsize=size, fontweight="bold")
        bb = t.get_window_extent(renderer)
        t.remove()
        wpx = bb.width + 0.6 * size
        if line_w + wpx > 0.96 * w_px and lines[-1]:
            lines.append([])
            line_w = 0.0
        lines[-1].append((words[k], size, wpx, bb.height, PALETTE[n % len(PALETTE)]))
        line_w += wpx
    heights = [max(h for *_, h, _c in line) * 1.25 for line in lines]
    y = (h_px + min(sum(heights), h_px)) / 2
    for line, lh in zip(lines, heights, strict=True):
        y -= lh
        if y < 0:
            break
        total = sum(w for _, _, w, _, _ in line)
        x = (w_px - total) / 2
        for word, size, wpx, _h, color in line:
            ax.text(x / w_px, y / h_px, word, fontsize=size, fontweight="bold", color=color,
                    transform=ax.transAxes, va="bottom")
            x += wpx


@_drawer("diverging")
def _diverging(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    ax = mfig.add_subplot()
    labels = _labels(table, fig.enc["label"])
    vals = _nums(table, fig.enc["value"])
    flags = table.values(fig.enc["flag"]) if fig.enc.get("flag") else [True] * len(vals)
    colors = [("#c23b3b" if v > 0 else "#2f6f9f") if f else "#bbbbbb" for v, f in zip(vals, flags, strict=True)]
    y = np.arange(len(labels))[::-1]
    ax.barh(y, np.nan_to_num(vals), color=colors, height=0.7)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_yticks(y, labels)
    ax.set_xlabel(table.column(fig.enc["value"]).label(release.lang))
    ax.grid(axis="x", color="#e5e5e5")
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


@_drawer("pie")
def _pie(mfig: MplFigure, fig: Figure, table: Table, release: Release) -> None:
    ax = mfig.add_subplot()
    labels = _labels(table, fig.enc["label"])
    vals = _nums(table, fig.enc["value"])
    ok = np.isfinite(vals) & (vals > 0)
    labels = [lab for lab, o in zip(labels, ok, strict=True) if o]
    vals = vals[ok]
    total = float(vals.sum()) or 1.0
    wedges, *_ = ax.pie(vals, colors=[PALETTE[k % len(PALETTE)] for k in range(len(vals))],
                        wedgeprops={"width": 0.42, "edgecolor": "white"},
                        autopct=lambda pct: f"{pct:.1f}%" if pct >= 4 else "", pctdistance=0.79,
                        textprops={"fontsize": 7}, startangle=90, counterclock=False)
    # small slices get no label on the ring (they would collide); the legend gives every share
    legend = [f"{lab}  {v / total * 100:.1f}%" for lab, v in zip(labels, vals, strict=True)]
    ax.legend(wedges, legend, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, frameon=False)
    ax.set_aspect("equal")
