"""Browser tests with Playwright driving Debian's Chromium: every role logs in, opens the overview and a community
page of its scope; the numbers on screen equal the release's, charts draw under the CSP, no request leaves
127.0.0.1, and screenshots are saved (out/screenshots/)."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
ROLES = ("admin", "leader", "analyst", "station", "community_police", "street_office", "evaluator",
         "property_manager", "grid_worker", "department")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(web_settings, lake_view, seed_ops, tmp_path_factory) -> Iterator[Any]:
    """The real app under uvicorn on 127.0.0.1 and a free port, on a seeded SQLite database."""
    import httpx
    import uvicorn

    from anju.web import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('browser-ops') / 'ops.sqlite3'}"
    seed_ops(url, web_settings)
    app = create_app(web_settings, database_url=url, upgrade=False, lake=lake_view)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    server.base = base  # type: ignore[attr-defined]
    server.anju_app = app  # type: ignore[attr-defined]
    yield server
    server.should_exit = True
    thread.join(timeout=10)
    app.state.anju.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module (launched once; each role gets a fresh context)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make setup)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _visible_code(server: Any, role: str) -> str | None:
    from anju.ops.models import User
    from anju.ops.scope import allowed_community_codes

    with Session(server.anju_app.state.anju.engine) as s:
        user = s.scalar(select(User).where(User.username == role))
        allowed = allowed_community_codes(s, user)
    names = server.anju_app.state.anju.lake.community_names()
    if allowed is None:
        return sorted(names)[0]
    inside = sorted(c for c in allowed if c in names)
    return inside[0] if inside else None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("role", ROLES)
def test_role_sees_the_release_numbers_in_the_browser(live_server, browser, release_json, pw, role) -> None:
    base = live_server.base
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    hosts: set[str] = set()
    problems: list[str] = []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url.split(":", 1)[0]))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{base}/")
    assert urlsplit(page.url).path == "/login"
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", pw(role))
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    rows = {r["metric"]: r for r in release_json["tables"]["headline"]["rows"]}
    index = {r["area_id"]: r for r in release_json["tables"]["index_community"]["rows"]}
    if role == "department":  # no analytics: it lands on the tasks routed to it
        assert urlsplit(page.url).path == "/tasks"
        assert page.locator("#tasks tbody tr").count() >= 1
        page.screenshot(path=str(SHOTS / f"{role}-tasks.png"), full_page=True)
    else:
        page.wait_for_selector("#map[data-ready=true]", timeout=30_000)  # ECharts drew our own GeoJSON
        cards = page.locator("#headline .card")
        if role in ("admin", "leader", "analyst", "evaluator"):
            assert cards.count() == len(rows)
            for i in range(cards.count()):
                card = cards.nth(i)
                metric = card.get_attribute("data-metric")
                assert _close(float(card.get_attribute("data-value")), rows[metric]["value"]), metric
            total = rows["total"]["value"]
            assert f"{round(total):,}" in page.locator("#headline").inner_text()
        else:
            assert cards.count() == 0  # district-wide cards are for district-wide roles
        shown = page.locator("#problems tbody tr")
        assert shown.count() >= 1
        for i in range(shown.count()):
            tr = shown.nth(i)
            ref = index[tr.get_attribute("data-area")]
            assert _close(float(tr.get_attribute("data-index")), ref["index"])
            assert f"{ref['index']:.1f}" in tr.inner_text()
        page.screenshot(path=str(SHOTS / f"{role}-overview.png"), full_page=True)

        code = _visible_code(live_server, role)
        assert code is not None
        page.goto(f"{base}/communities/{code}")
        page.wait_for_selector("#monthly[data-ready=true]", timeout=30_000)
        ref = index[code]
        assert _close(float(page.locator("#community-index").get_attribute("data-value")), ref["index"])
        assert f"{ref['index']:.1f}" in page.locator("#community-index").inner_text()
        assert page.locator("#community-name").inner_text() == ref["name"]
        page.screenshot(path=str(SHOTS / f"{role}-community.png"), full_page=True)
    page.click("#logout")
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/login"
    ctx.close()
    assert hosts == {"127.0.0.1"}, hosts
    assert problems == [], problems
