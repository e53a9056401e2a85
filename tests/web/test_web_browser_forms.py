"""Browser tests of the write forms (Playwright + Debian's Chromium): an administrator changes a user's role, and a
station officer opens a supervision case and records a measure with an evidence file — through the real pages (CSRF
token in the form, no inline script), with no request leaving 127.0.0.1."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.ops.models import SupervisionCase, User

from .test_web_browser import SHOTS, browser, live_server  # noqa: F401  (the shared module fixtures)
from .test_web_supervision_forms import png_bytes

pytestmark = pytest.mark.browser


def _login(browser: Any, base: str, role: str, password: str) -> tuple[Any, Any, set[str], list[str]]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    hosts: set[str] = set()
    problems: list[str] = []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or ""))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", password)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    return ctx, page, hosts, problems


def test_admin_changes_a_users_role_in_the_browser(live_server, browser, pw) -> None:  # noqa: F811
    engine = live_server.anju_app.state.anju.engine
    with Session(engine) as s:
        uid = s.scalar(select(User.id).where(User.username == "street_office"))
    ctx, page, hosts, problems = _login(browser, live_server.base, "admin", pw("admin"))
    page.goto(f"{live_server.base}/users")
    page.click(f"tr[data-user='{uid}'] a")
    page.wait_for_selector("#user-edit")
    page.select_option("#user-edit select[name=role]", "grid_worker")
    page.click("#user-edit button[type=submit]")
    page.wait_for_selector("#saved")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-user-edit.png"), full_page=True)
    with Session(engine) as s:
        assert s.get(User, uid).role == "grid_worker"
    ctx.close()
    assert hosts == {"127.0.0.1"} and problems == [], (hosts, problems)


def test_station_opens_a_case_and_records_a_measure_in_the_browser(live_server, browser, pw, tmp_path) -> None:  # noqa: F811
    from anju.ops.scope import allowed_community_codes

    engine = live_server.anju_app.state.anju.engine
    with Session(engine) as s:
        code = sorted(allowed_community_codes(s, s.scalar(select(User).where(User.username == "station"))))[0]
    ctx, page, hosts, problems = _login(browser, live_server.base, "station", pw("station"))
    page.goto(f"{live_server.base}/supervision")
    page.click("#manual-open summary")
    form = page.locator("#manual-open form")
    form.locator("input[name=community_code]").fill(code)
    form.locator("input[name=base_period]").fill("2024")
    form.locator("input[name=official]").fill("李副局长")
    form.locator("input[name=opened_on]").fill("2025-01-01")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#measure")
    evidence = tmp_path / "现场照片.png"
    evidence.write_bytes(png_bytes())
    page.select_option("#measure select[name=category]", "技防")
    page.fill("#measure input[name=what]", "楼道加装高清探头 4 个")
    page.fill("#measure input[name=cost]", "8000")
    page.set_input_files("#measure input[name=evidence]", str(evidence))
    page.click("#measure button[type=submit]")
    page.wait_for_selector("#measures tbody tr")
    assert "楼道加装高清探头" in page.locator("#measures").inner_text()
    page.screenshot(path=str(SHOTS / "station-supervision-case.png"), full_page=True)
    with Session(engine) as s:
        case = s.scalars(select(SupervisionCase).order_by(SupervisionCase.id.desc())).first()
        assert case is not None and case.community.code == code and case.official == "李副局长"
        assert [m.evidence_type for m in case.measures] == ["image/png"]
    ctx.close()
    assert hosts == {"127.0.0.1"} and problems == [], (hosts, problems)
