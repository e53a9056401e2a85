"""The front-end libraries inlined into index.html, copied from npm at install time (``make assets``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from anju.errors import DataNotFoundError

__all__ = ["ASSETS", "ASSET_DIR", "asset_text"]

ASSET_DIR = Path(__file__).resolve().parent / "assets"
ASSETS = {
    "echarts": ("echarts.min.js", "node_modules/echarts/dist/echarts.min.js"),
    "echarts-wordcloud": ("echarts-wordcloud.min.js", "node_modules/echarts-wordcloud/dist/echarts-wordcloud.min.js"),
}


@cache
def asset_text(name: str) -> str:
    """The text of a vendored asset, ready to inline in a ``<script>`` element.

    Raises
    ------
    DataNotFoundError
        When ``make assets`` has not been run (the file is built from npm, not committed).
    """
    filename, npm_path = ASSETS[name]
    path = ASSET_DIR / filename
    if not path.exists():
        raise DataNotFoundError(
            f"front-end asset {filename!r} is missing from {ASSET_DIR}; it is built from npm ({npm_path}). "
            "Run `make assets` (or `npm ci` at the repository root and copy it there)."
        )
    js = path.read_text(encoding="utf-8")
    # A literal "</script" would end the inline element early; the minified builds have none, but be safe.
    return js.replace("</script", "<\\/script")
