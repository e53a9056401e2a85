"""``index.html``: one self-contained page (ECharts inlined, boundaries embedded) that works with no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from anju.release.assets import asset_text
from anju.release.charts_echarts import chart_height, echarts_option, map_name
from anju.release.model import Column, ColumnKind, Release, Table, format_value
from anju.release.render_json import dumps, release_payload
from anju.release.renderers import register_renderer, template_env
from anju.release.style import FONT_STACK, text

__all__ = ["headline_cards", "html_document", "render_html", "table_view"]

_NUMERIC_KINDS = {"count", "int", "float", "rate", "share", "pct", "pvalue", "index", "rank", "money", "z"}



def table_view(t: Table, lang: str, *, max_rows: int | None = None, brief: bool = False) -> dict[str, Any]:
    """A table as display text (formatted cells), bounded to ``max_rows`` (default: the table's ``display_rows``);
    ``brief`` leaves out the ``detail`` columns (for print)."""
    limit = t.display_rows if max_rows is None else max_rows
    records = t.records()
    before, after = t.shown_rows(limit)
    # codes are for the Excel/JSON files, not for reading
    columns = [c for c in t.columns if c.kind != "id" and not (brief and c.detail)]

    def cells(r: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for c in columns:
            txt = format_value(r[c.key], c, lang)
            out.append({"text": txt, "num": c.kind in _NUMERIC_KINDS, "wrap": len(txt) > 16})
        return out

    hidden = len(records) - len(before) - len(after)
    rows = [cells(records[i]) for i in before]
    gap_at = len(rows) if after and hidden else None
    rows += [cells(records[i]) for i in after]
    if hidden == 0:
        summary = text("all_rows", lang, n=len(records))
    elif after:
        summary = text("ends_rows", lang, n=len(records), a=len(before), b=len(after), h=hidden)
    else:
        summary = text("head_rows", lang, n=len(records), a=len(before), h=hidden)
    return {
        "key": t.key, "title": t.title(lang), "note": t.note(lang),
        "columns": [{"key": c.key, "label": c.label(lang)} for c in columns],
        "rows": rows, "hidden_rows": hidden, "total_rows": len(records), "gap_at": gap_at,
        "gap": text("gap_rows", lang, h=hidden),
        "summary": summary,
    }


def headline_cards(release: Release) -> list[dict[str, str]]:
    """KPI cards from the ``headline`` table (columns: indicator, kind, value, compare, change_pct, p_value,
    significant); empty if the release has none."""
    if "headline" not in release.tables:
        return []
    lang = release.lang
    t = release.tables["headline"]
    cards = []
    for r in t.records():
        kind = cast(ColumnKind, r.get("kind") or "float")
        value = format_value(r.get("value"), Column("value", "", kind=kind), lang)
        if r.get("value") is None and kind == "money":
            value = text("no_data", lang)
        change = ""
        cls = "ns"
        ch = r.get("change_pct")
        diff = r.get("change")
        if kind == "share" and isinstance(diff, (int, float)):
            # a share is compared in percentage points, with its (Fisher) test's verdict
            sig = bool(r.get("significant"))
            word = r.get("verdict") or text("significant" if sig else "not_significant", lang)
            comp = format_value(r.get("compare"), Column("compare", "", kind=kind), lang)
            pp = text("pp", lang, d=f"{diff * 100:+.1f}")
            change = f"{text('compare', lang)} {comp}：{pp}（{word}）" if lang == "zh" else \
                f"{text('compare', lang)} {comp}: {pp} ({word})"
            if sig:
                cls = "up" if diff > 0 else "down"
        elif isinstance(ch, (int, float)):
            sig = bool(r.get("significant"))
            word = r.get("verdict") or text("significant" if sig else "not_significant", lang)
            comp = format_value(r.get("compare"), Column("compare", "", kind=kind), lang)
            change = f"{text('compare', lang)} {comp}: {ch:+.1f}%（{word}）" if lang == "zh" else \
                f"{text('compare', lang)} {comp}: {ch:+.1f}% ({word})"
            if sig:
                cls = "up" if ch > 0 else "down"
        cards.append({"label": str(r.get("indicator", "")), "value": value, "change": change, "cls": cls})
    return cards


def html_document(release: Release) -> str:
    """The full text of index.html."""
    lang = release.lang
    meta = release.meta
    charts = []
    sections = []
    used_layers: set[str] = set()
    for s in release.sections():
        figs = []
        for f in release.figures_in(s.key):
            dom = f"chart-{f.key}"
            charts.append({"dom": dom, "key": f.key, "kind": f.kind, "table": f.table,
                           "option": echarts_option(f, release)})
            for role in ("layer", "outline"):
                if f.enc.get(role) in release.geo:
                    used_layers.add(str(f.enc[role]))
            figs.append({"dom": dom, "kind": f.kind, "title": f.title(lang), "note": f.note(lang),
                         "height": chart_height(f, release.table(f.table))})
        tables = [table_view(t, lang) for t in release.tables_in(s.key) if t.display_rows != 0]
        notes = [n.text(lang) for n in release.notes_in(s.key)]
        cards = headline_cards(release) if s.key == "headline" else []
        if s.key == "headline":
            tables = [t for t in tables if t["key"] != "headline"]
        if not (figs or tables or notes or cards):
            continue
        sections.append({"key": s.key, "title": s.title(lang), "figures": figs, "tables": tables, "notes": notes,
                         "cards": cards, "pair": s.key in ("heat", "categories", "time", "words", "fraud")})
    payload = release_payload(release)
    payload["charts"] = charts
    payload["maps"] = {map_name(k): release.geo[k].geojson() for k in sorted(used_layers)}
    data_json = dumps(payload).replace("<", "\\u003c")  # "<" only occurs inside JSON strings
    compare = meta.compare_label(lang)
    meta_line = f"{meta.period_label(lang)}（{meta.start} — {meta.end}）" if lang == "zh" else \
        f"{meta.period_label(lang)} ({meta.start} – {meta.end})"
    if compare:
        meta_line += f" · {text('compare', lang)} {compare}"
    meta_line += f" · {text('generated', lang)} {meta.generated_at}"
    return template_env().get_template("index.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=meta.title(lang),
        meta=meta,
        meta_line=meta_line,
        edition=text("public" if meta.public else "internal", lang),
        sections=sections,
        font_stack=FONT_STACK,
        data_json=data_json,
        echarts_js=asset_text("echarts"),
        wordcloud_js=asset_text("echarts-wordcloud"),
        footer=(text("offline", lang) + (" " + text("small_note", lang) if meta.public else "")
                + f" · anju {meta.anju_version}"),
    )


@register_renderer("html", "index.html")
def render_html(release: Release, path: Path) -> None:
    """Write ``index.html``."""
    path.write_text(html_document(release), encoding="utf-8")
