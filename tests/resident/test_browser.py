"""End to end in Debian's Chromium on a phone-sized viewport: scan a plate URL, submit, the report appears in the
market office's queue, is signed, handled and closed there, and the resident confirms it with the receipt code.
No request leaves 127.0.0.1; the resident part runs with JavaScript disabled."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
PW = "Resident-test-pw-2026!"
SERVER = r'''
import sys
from anju.config import load_settings
from anju.web.app import create_app
from anju.ops.resident import ResidentDesk
from anju.resident.calendar import load_calendar
from anju.resident.corpus import synthetic_reports
from anju.resident.routing import train_router
from anju.resident.rules import load_resident_rules
import uvicorn
app = create_app(load_settings(data_dir=sys.argv[1]), database_url=sys.argv[2])
t, y = synthetic_reports(120, seed=0)
app.state.resident_desk = ResidentDesk(load_resident_rules(), load_calendar(), train_router(t, y), b"b")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
'''


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from anju.ops.db import make_engine, session_factory, upgrade_to_head
    from anju.ops.models import Community, Organisation, User
    from anju.ops.passwords import hash_password
    from anju.ops.resident import ensure_orgs, register_plates
    from anju.resident.plates import PlateRow
    from anju.resident.rules import load_resident_rules

    url = f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        s.add(Organisation(code="PS1", name="PS1", kind="station"))
        ensure_orgs(s, load_resident_rules())
        s.flush()
        market = s.scalars(select(Organisation).where(Organisation.code == "DEPT-MARKET")).one()
        s.add(Community(code="C1", name="莲花新村", station_code="PS1"))
        s.add(User(username="market", display_name="市场监管所", password_hash=hash_password(PW), role="department",
                   organisation=market, active=True))
        s.flush()
        code = register_plates(s, [PlateRow("C1", "3号", "2", "301", 121.40, 31.10)], actor=None)[0].code
        from anju.ops.models import SafeHouse

        s.add_all([SafeHouse(code="SH1", name="莲花便利店", address="莲花路1号", lon=121.400, lat=31.100,
                             status="active"),
                   SafeHouse(code="SH2", name="春申药房", address="春申路8号", lon=121.450, lat=31.130,
                             status="active")])
        s.commit()
    engine.dispose()
    port = _port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "data"), url, str(port)])
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base, code
    proc.terminate()
    proc.wait(10)


def test_phone_scan_submit_handle_close_confirm(server, tmp_path):
    from playwright.sync_api import sync_playwright

    base, code = server
    shots = Path(os.environ.get("ANJU_SCREENSHOTS", tmp_path))
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                    java_script_enabled=False, locale="zh-CN")
        page = phone.new_page()
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) and
                not r.url.startswith("data:") else None)
        page.goto(f"{base}/p/{code}")
        assert "莲花新村 3号 2单元 301室" in page.inner_text("#address")
        assert page.is_visible("#call110")
        page.screenshot(path=str(shots / "resident-plate.png"), full_page=True)
        page.check("input[name=kind][value=dispute]")
        page.fill("textarea[name=text]", "老街上的店铺卖假货，商家拒绝退款")
        page.fill("input[name=phone]", "13800138000")
        page.click("#submit")
        page.wait_for_selector("#receipt")
        receipt = page.inner_text("#receipt").strip()
        assert "市场监管所" in page.inner_text("#dept") and "已派单" in page.inner_text("#status")
        page.screenshot(path=str(shots / "resident-receipt.png"), full_page=True)

        staff = browser.new_context(viewport={"width": 1280, "height": 900})
        sp = staff.new_page()
        sp.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) and
              not r.url.startswith("data:") else None)
        sp.goto(f"{base}/login")
        sp.fill("input[name=username]", "market")
        sp.fill("input[name=password]", PW)
        sp.click("#login-submit")
        sp.goto(f"{base}/orders")
        sp.click(f"text={receipt}")
        assert "13800138000" in sp.inner_text("#order-phone")  # the handler sees the phone
        for action, res in (("sign", None), ("start", None), ("close", "fixed")):
            sp.select_option("#act-action", action)
            if res:
                sp.select_option("select[name=resolution]", res)
            sp.fill("#act-note", f"{action}：已处理")
            sp.click("#act-submit")
            sp.wait_for_load_state()
            assert not sp.is_visible("#act-error"), sp.inner_text("#act-error")
        assert "closed-fixed" in sp.inner_text("#order-status")
        sp.screenshot(path=str(shots / "resident-order.png"), full_page=True)

        page.goto(f"{base}/r/{receipt}")
        assert "已办结" in page.inner_text("#status")
        page.check("input[name=satisfied][value=yes]")
        page.click("#rate-submit")
        page.wait_for_selector("#rated")
        assert "满意" in page.inner_text("#rated")
        page.screenshot(path=str(shots / "resident-rated.png"), full_page=True)
        browser.close()
    assert outside == []


def test_nearest_safe_house_from_the_browser_position(server):
    """With JavaScript and the resident's permission, our own script asks for the position (CSP script-src 'self',
    Permissions-Policy geolocation=(self) on this page only) and the list comes back nearest first; without
    JavaScript the button stays hidden and the page still lists every safe house."""
    from playwright.sync_api import sync_playwright

    base, _ = server
    r = httpx.get(base + "/safe-houses")
    assert "geolocation=(self)" in r.headers["permissions-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert '<script src="/static/resident-geo.js" defer></script>' in r.text
    assert "geolocation=()" in httpx.get(base + "/r").headers["permissions-policy"]  # other pages: none
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN",
                                  geolocation={"longitude": 121.4502, "latitude": 31.1298},
                                  permissions=["geolocation"])
        page = ctx.new_page()
        page.goto(f"{base}/safe-houses")
        assert page.inner_text("#house-list li:first-child").startswith("莲花便利店")  # no position: by code
        page.click("#use-location")
        page.wait_for_url("**/safe-houses?lon=*")
        first = page.inner_text("#house-list li:first-child")
        assert first.startswith("春申药房") and " m" in first
        assert "位置未保存" in page.inner_text("#locate-status")
        nojs = browser.new_context(java_script_enabled=False).new_page()
        nojs.goto(f"{base}/safe-houses")
        assert not nojs.is_visible("#use-location") and nojs.locator("#house-list li").count() == 2
        browser.close()
