"""``tables.xlsx``: one sheet per release table (headers in the release's language), plus an about sheet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import xlsxwriter

from anju.release.model import Release, plain
from anju.release.renderers import register_renderer

__all__ = ["render_xlsx", "sheet_names"]

_NUM_FORMATS = {
    "count": "#,##0", "int": "0", "rank": "0", "float": "0.00", "rate": "0.00", "share": "0.0%", "pct": "0.0",
    "pvalue": "0.0000", "index": "0.0", "money": "#,##0", "z": "0.00",
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(release: Release) -> dict[str, str]:
    """Table key → a unique, valid sheet name (≤ 31 characters) from the table's title."""
    names: dict[str, str] = {}
    used: set[str] = {_about_title(release.lang).lower()}
    for key, t in release.tables.items():
        base = _BAD_SHEET_CHARS.sub("_", t.title(release.lang)).strip("'") or key
        name = base[:31]
        n = 2
        while name.lower() in used:
            suffix = f"({n})"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        used.add(name.lower())
        names[key] = name
    return names


def _about_title(lang: str) -> str:
    return "说明" if lang == "zh" else "About"


@register_renderer("xlsx", "tables.xlsx")
def render_xlsx(release: Release, path: Path) -> None:
    """Write every table to its own sheet; numbers stay numbers (with a display format), ``"<3"`` stays text."""
    lang = release.lang
    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "strings_to_numbers": False,
                                         "strings_to_urls": False})
    try:
        head = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True,
                              "valign": "top", "font_name": "等线" if lang == "zh" else "Calibri"})
        fmts = {k: wb.add_format({"num_format": v}) for k, v in _NUM_FORMATS.items()}
        bold = wb.add_format({"bold": True})
        about = wb.add_worksheet(_about_title(lang))
        meta = release.meta
        rows: list[tuple[str, Any]] = [
            ("标题" if lang == "zh" else "Title", meta.title(lang)),
            ("时期" if lang == "zh" else "Period", f"{meta.period_label(lang)} ({meta.start} – {meta.end})"),
            ("对比时期" if lang == "zh" else "Compared with", meta.compare_label(lang) or "—"),
            ("版本" if lang == "zh" else "Edition",
             ("公众版" if meta.public else "内部版") if lang == "zh" else ("public" if meta.public else "internal")),
            ("生成时间" if lang == "zh" else "Generated", meta.generated_at),
            ("anju", meta.anju_version),
        ]
        for r, (k, v) in enumerate(rows):
            about.write(r, 0, k, bold)
            about.write(r, 1, v)
        about.set_column(0, 0, 14)
        about.set_column(1, 1, 60)
        names = sheet_names(release)
        r0 = len(rows) + 1
        about.write(r0, 0, "工作表" if lang == "zh" else "Sheet", bold)
        about.write(r0, 1, "内容" if lang == "zh" else "Contents", bold)
        for i, (key, t) in enumerate(release.tables.items(), start=r0 + 1):
            about.write(i, 0, names[key])
            about.write(i, 1, t.title(lang) + (f" — {t.note(lang)}" if t.note(lang) else ""))

        for key, t in release.tables.items():
            ws = wb.add_worksheet(names[key])
            for j, c in enumerate(t.columns):
                ws.write(0, j, c.label(lang), head)
                width = max(8, min(40, 2 * len(c.label(lang)) + 2))
                ws.set_column(j, j, width, fmts.get(c.kind))
            for i, rec in enumerate(t.records(), start=1):
                for j, c in enumerate(t.columns):
                    v = plain(rec[c.key])
                    if v is None:
                        continue
                    if isinstance(v, bool):
                        ws.write_boolean(i, j, v)
                    elif isinstance(v, (int, float)):
                        ws.write_number(i, j, v, fmts.get(c.kind))
                    else:
                        ws.write_string(i, j, str(v))
            ws.freeze_panes(1, 0)
            if len(t.data):
                ws.autofilter(0, 0, len(t.data), max(0, len(t.columns) - 1))
    finally:
        wb.close()
