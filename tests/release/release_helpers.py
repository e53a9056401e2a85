"""Helpers of the release tests: read back the files, compare them, drive headless Chromium."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from anju.release import Release

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def html_data(path: Path) -> dict[str, Any]:
    """The JSON embedded in index.html (``<script id="anju-data">``)."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="anju-data">(.*?)</script>', text, re.S)
    assert m, "index.html has no embedded data"
    return json.loads(m.group(1))


def xlsx_tables(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet of tables.xlsx as rows of values (header row first), read back with openpyxl."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed (make setup installs it)")
    return path


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def assert_same_numbers(release: Release, out: Path) -> dict[str, Any]:
    """release.json == the data embedded in index.html == tables.xlsx, cell by cell; returns release.json."""
    from anju.release.render_xlsx import sheet_names

    js = json.loads((out / "release.json").read_text(encoding="utf-8"))
    html = html_data(out / "index.html")
    assert html["tables"] == js["tables"]
    assert set(js["tables"]) == set(release.tables)
    sheets = xlsx_tables(out / "tables.xlsx")
    names = sheet_names(release)
    for key, t in js["tables"].items():
        rows = sheets[names[key]]
        assert rows[0] == [c["label"] for c in t["columns"]], key
        assert len(rows) - 1 == len(t["rows"]), key
        for got, want in zip(rows[1:], t["rows"], strict=True):
            for cell, col in zip(got, t["columns"], strict=True):
                assert _same(cell, want[col["key"]]), (key, col["key"], cell, want[col["key"]])
    return js


# For every chart box: does it hold a canvas, and how many of its pixels are neither transparent nor white?
_INK_JS = """
() => Array.from(document.querySelectorAll('.chart')).map(el => {
  const c = el.querySelector('canvas');
  if (!c) { return {id: el.id, canvas: false, ink: 0}; }
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) { ink++; }
  }
  return {id: el.id, canvas: true, ink: ink, w: c.width, h: c.height};
})
"""


def open_offline(html: Path, screenshot: Path) -> dict[str, Any]:
    """Load ``html`` in headless Chromium; return requests, console errors, chart ink and the page's chart count."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make setup installs it)")
    requests: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.wait_for_function("window.anju && window.anju.ready", timeout=20_000)
            page.wait_for_timeout(300)
            result = {
                "charts": page.evaluate("window.anju.charts.length"),
                "chart_errors": page.evaluate("window.anju.errors"),
                "ink": page.evaluate(_INK_JS),
                "lang": page.evaluate("document.documentElement.lang"),
            }
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    result["requests"] = requests
    result["problems"] = problems
    return result


def check_offline_page(html: Path, screenshot: Path, n_figures: int) -> dict[str, Any]:
    r = open_offline(html, screenshot)
    assert r["requests"] == [html.resolve().as_uri()], r["requests"]
    assert r["problems"] == [] and r["chart_errors"] == []
    assert r["charts"] == n_figures
    blank = [c for c in r["ink"] if not c["canvas"] or c["ink"] < 500]
    assert not blank, blank
    assert screenshot.stat().st_size > 50_000
    return r




def assemble_release(settings: Any, period: str, **kwargs: Any) -> Any:
    """The release model of ``period`` for a data directory, through the service the CLI and web call."""
    from anju.deployment import load_deployment
    from anju.services.lake import open_lake
    from anju.services.release import release_model

    dep = load_deployment(settings)
    with open_lake(dep) as lake:
        return release_model(dep, lake, period, **kwargs)
