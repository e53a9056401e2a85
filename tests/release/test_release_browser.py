"""index.html in headless Chromium: no network request at all, every chart drawn, no console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from release_helpers import check_offline_page, open_offline

pytestmark = pytest.mark.browser


def test_synthetic_page_offline_and_drawn(synthetic_out: Path, synthetic: Any, tmp_path: Path) -> None:
    shot = tmp_path / "release-synthetic.png"
    r = check_offline_page(synthetic_out / "index.html", shot, len(synthetic.figures))
    assert r["lang"] == "zh-CN"
    ink = {c["id"]: c["ink"] for c in r["ink"]}
    # the map is mostly coloured polygons; the heat maps show both the base map and the heat
    assert ink["chart-index_map"] > 20_000
    assert ink["chart-heat_all"] > 20_000


def test_blank_chart_is_detected(synthetic_out: Path, tmp_path: Path) -> None:
    """The ink check can fail: a page whose chart options are emptied draws nothing and is caught."""
    text = (synthetic_out / "index.html").read_text(encoding="utf-8")
    broken = tmp_path / "index.html"
    broken.write_text(text.replace("chart.setOption(c.option);", "chart.setOption({});"), encoding="utf-8")
    r = open_offline(broken, tmp_path / "shot.png")
    assert all(c["ink"] < 500 for c in r["ink"])
