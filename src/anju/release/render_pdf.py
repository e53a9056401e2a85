"""``report.pdf``: an A4 report with the release's figures as static images (matplotlib) and its tables,
laid out by WeasyPrint with the CJK font embedded (``lang="zh-CN"`` so Chinese glyphs come from the SC face)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from weasyprint.urls import URLFetcher, URLFetcherResponse

from anju.release.charts_mpl import figure_png, setup_fonts
from anju.release.model import SECTIONS, Release
from anju.release.render_html import headline_cards, table_view
from anju.release.renderers import register_renderer, template_env
from anju.release.style import FONT_STACK, text

__all__ = ["PDF_MAX_ROWS", "pdf_document_html", "render_pdf"]

_FIG_SCHEME = "anju-figure"
PDF_MAX_ROWS = 24
"""A table of at most this many rows is printed whole; a longer one keeps both ends (or its head, for lists sorted by
importance) and says how many rows are left out and where they are (tables.xlsx)."""
PDF_DPI = 130
_ZH_NUMERALS = "一二三四五六七八九十"
BODY_FONT = '"FangSong", "FangSong_GB2312", "Noto Serif CJK SC", ' + FONT_STACK
"""仿宋 for body text as GB/T 9704 asks, where the machine has it; else Noto (Debian's fonts-noto-cjk)."""
HEADING_FONT = '"SimHei", "Noto Sans CJK SC", ' + FONT_STACK
"""黑体 for headings (Noto Sans CJK SC bold stands in on Debian)."""


def _heading(i: int, title: str, lang: str) -> str:
    """A first-level heading numbered as official documents do: ``一、核心指标``."""
    if lang != "zh" or i >= len(_ZH_NUMERALS):
        return f"{i + 1}. {title}"
    return f"{_ZH_NUMERALS[i]}、{title}"



def _css_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _page_label(lang: str) -> str:
    """CSS ``content`` value for "page p of n" in ``lang``."""
    template = text("page", lang)
    before, rest = template.split("{p}")
    middle, after = rest.split("{n}")
    return f"{_css_string(before)} counter(page) {_css_string(middle)} counter(pages) {_css_string(after)}"


def _pngs(release: Release) -> dict[str, bytes]:
    """Every figure as PNG; drawn in two threads (Agg releases the GIL while rasterising)."""
    setup_fonts()
    figs = list(release.figures)
    workers = max(1, min(2, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        images = list(pool.map(lambda f: figure_png(f, release, dpi=PDF_DPI), figs))
    return {f.key: img for f, img in zip(figs, images, strict=True)}


def pdf_document_html(release: Release, pngs: dict[str, bytes] | None = None) -> str:
    """The HTML that WeasyPrint lays out as report.pdf."""
    lang = release.lang
    meta = release.meta
    pngs = _pngs(release) if pngs is None else pngs
    sections: list[dict[str, Any]] = []
    for s in release.sections():
        if s.key == "headline":
            continue
        figs = [{"title": f.title(lang), "note": f.note(lang), "src": f"{_FIG_SCHEME}:{f.key}"}
                for f in release.figures_in(s.key)]
        tables = [table_view(t, lang, max_rows=min(PDF_MAX_ROWS, t.display_rows or PDF_MAX_ROWS), brief=True)
                  for t in release.tables_in(s.key) if t.display_rows != 0]
        notes = [n.text(lang) for n in release.notes_in(s.key)]
        if figs or tables or notes:
            sections.append({"title": _heading(len(sections), s.title(lang), lang), "figures": figs,
                             "tables": tables, "notes": notes})
    compare = meta.compare_label(lang)
    meta_line = f"{meta.period_label(lang)}（{meta.start} — {meta.end}）" if lang == "zh" else \
        f"{meta.period_label(lang)} ({meta.start} – {meta.end})"
    if compare:
        meta_line += f" · {text('compare', lang)} {compare}"
    return template_env().get_template("report.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=meta.title(lang),
        meta_line=meta_line,
        edition=text("public" if meta.public else "internal", lang),
        cards=headline_cards(release),
        headline_title=SECTIONS[0].title(lang),
        headline_notes=[n.text(lang) for n in release.notes_in("headline")],
        sections=sections,
        font_stack=FONT_STACK,
        body_font=BODY_FONT,
        heading_font=HEADING_FONT,
        page_label=_page_label(lang),
        running_title=_css_string(meta.title(lang)),
        footer=f"{text('generated', lang)} {meta.generated_at} · anju {meta.anju_version}"
        + (" · " + text("small_note", lang) if meta.public else ""),
    )


class _FigureFetcher(URLFetcher):  # type: ignore[misc]
    """Hands the figure PNGs to WeasyPrint from memory (no temporary files, no base64 in the HTML) and refuses
    every other URL, so the report can never load anything from outside."""

    def __init__(self, pngs: dict[str, bytes]) -> None:
        super().__init__(fail_on_errors=True)
        self._pngs = pngs

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme, _, key = url.partition(":")
        if scheme == _FIG_SCHEME and key in self._pngs:
            return URLFetcherResponse(url, self._pngs[key], {"Content-Type": "image/png"}, 200)
        raise ValueError(f"the PDF report loads no external resource; refused {url!r}")


@register_renderer("pdf", "report.pdf")
def render_pdf(release: Release, path: Path) -> None:
    """Write ``report.pdf`` (A4)."""
    import weasyprint

    pngs = _pngs(release)
    html = pdf_document_html(release, pngs)

    fetcher = _FigureFetcher(pngs)
    weasyprint.HTML(string=html, base_url=str(path.parent), url_fetcher=fetcher).write_pdf(str(path))
