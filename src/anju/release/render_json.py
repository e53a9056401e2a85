"""``release.json``: every number of the release, in one JSON document (also embedded in index.html)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from anju.release.model import Release, plain
from anju.release.renderers import register_renderer

__all__ = ["FORMAT_VERSION", "release_payload", "render_json"]

FORMAT_VERSION = 1


def release_payload(release: Release) -> dict[str, Any]:
    """The release as plain JSON-ready data: meta, sections, notes, tables (columns + rows) and figure specs.

    Geometry is not included (it is a base map, not a number of the release); index.html carries it separately.
    """
    lang = release.lang
    meta = {k: plain(v) if not isinstance(v, dict) else v for k, v in dataclasses.asdict(release.meta).items()}
    meta["title"] = release.meta.title(lang)
    return {
        "anju_release": FORMAT_VERSION,
        "meta": meta,
        "edition": release.meta.edition,
        "sections": [{"key": s.key, "title": s.title(lang)} for s in release.sections()],
        "notes": [{"section": n.section, "text": n.text(lang)} for n in release.notes],
        "tables": {
            key: {
                "title": t.title(lang),
                "section": t.section,
                "note": t.note(lang),
                "columns": [{"key": c.key, "label": c.label(lang), "kind": c.kind} for c in t.columns],
                "rows": t.records(),
            }
            for key, t in release.tables.items()
        },
        "figures": [
            {"key": f.key, "kind": f.kind, "table": f.table, "section": f.section, "title": f.title(lang),
             "enc": dict(f.enc)}
            for f in release.figures
        ],
    }


def dumps(payload: Any) -> str:
    """Compact UTF-8 JSON (Chinese kept as is; NaN refused — :func:`plain` already turned it into null)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@register_renderer("json", "release.json")
def render_json(release: Release, path: Path) -> None:
    """Write ``release.json`` (indented, UTF-8)."""
    text = json.dumps(release_payload(release), ensure_ascii=False, allow_nan=False, indent=1)
    path.write_text(text + "\n", encoding="utf-8")
