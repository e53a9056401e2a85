"""Resident pages, handler pages and the Open311 API over HTTP, against the real app and database (SQLite and
PostgreSQL): scan → submit → department queue → handle → close → resident rates → reopen; escaping, CSRF, rate
limits, scope, audit."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anju.config import load_settings
from anju.ops.db import make_engine, session_factory
from anju.ops.models import AuditEvent, Community, Organisation, ResidentReport, User, UserScope
from anju.ops.passwords import hash_password
from anju.ops.resident import ResidentDesk, ensure_orgs, new_partner, register_plates
from anju.resident.calendar import load_calendar
from anju.resident.corpus import synthetic_reports
from anju.resident.plates import PlateRow
from anju.resident.routing import train_router
from anju.resident.rules import load_resident_rules
from anju.web.app import create_app

PW = "Resident-test-pw-2026!"


@pytest.fixture(scope="module")
def router():
    t, y = synthetic_reports(120, seed=0)
    return train_router(t, y)


@pytest.fixture
def site(ops_url, tmp_path, router):
    settings = load_settings(data_dir=tmp_path / "data")
    app = create_app(settings, database_url=ops_url)
    app.state.resident_desk = ResidentDesk(load_resident_rules(), load_calendar(), router, b"s")
    engine = make_engine(ops_url)
    with session_factory(engine)() as s:
        for code, kind in (("PS1", "station"), ("BUREAU", "bureau")):
            s.add(Organisation(code=code, name=code, kind=kind))
        ensure_orgs(s, load_resident_rules())
        s.flush()
        orgs = {o.code: o for o in s.scalars(select(Organisation))}
        s.add(Community(code="C1", name="莲花新村", street_code="S1", station_code="PS1"))
        for name, role, org in (("analyst", "analyst", "BUREAU"), ("market", "department", "DEPT-MARKET"),
                                ("housing", "department", "DEPT-HOUSING"), ("ps1", "station", "PS1")):
            s.add(User(username=name, display_name=name, password_hash=hash_password(PW), role=role,
                       organisation=orgs[org], active=True, lang="zh"))
        s.flush()
        ps1 = s.scalars(select(User).where(User.username == "ps1")).one()
        s.add(UserScope(user_id=ps1.id, area_level="station", area_code="PS1"))
        plate = register_plates(s, [PlateRow("C1", "3号", "2", "301", 121.40, 31.10)], actor=None)[0]
        _, key = new_partner(s, "12345热线", actor=None)
        s.commit()
        code = plate.code
    client = TestClient(app, base_url="http://127.0.0.1")
    yield {"client": client, "code": code, "key": key, "engine": engine, "app": app}
    client.close()
    engine.dispose()


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the form"
    return m.group(1)


def _login(client: TestClient, user: str) -> None:
    page = client.get("/login")
    r = client.post("/login", data={"username": user, "password": PW, "csrf_token": _csrf(page.text), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def _submit(client: TestClient, code: str, text: str, kind: str = "dispute", **extra) -> object:
    page = client.get(f"/p/{code}")
    return client.post(f"/p/{code}", data={"kind": kind, "text": text, "csrf_token": _csrf(page.text), **extra},
                       follow_redirects=False)


def test_scan_submit_handle_close_rate_reopen(site):
    c, code = site["client"], site["code"]
    page = c.get(f"/p/{code}")
    assert page.status_code == 200 and "莲花新村 3号 2单元 301室" in page.text
    assert page.text.index("tel:110") < page.text.index("report-form")  # "call 110" comes first
    assert "<script" not in page.text.split("</head>")[1]  # the page needs no script to work
    r = _submit(c, code, "老街店铺卖假货，商家不给退款", phone="13800138000")
    assert r.status_code == 303
    receipt = r.headers["location"].split("/r/")[1].split("?")[0]
    rec = c.get(f"/r/{receipt}")
    assert "市场监管所" in rec.text and "已派单" in rec.text and "13800138000" not in rec.text
    # the market office sees it in its queue, with the phone in clear on the order page (audited)
    _login(c, "market")
    q = c.get("/orders")
    assert receipt in q.text
    oid = int(re.search(rf'href="/orders/(\d+)">{receipt}<', q.text).group(1))
    op = c.get(f"/orders/{oid}")
    assert "13800138000" in op.text
    for action, extra in (("sign", {}), ("start", {}), ("close", {"resolution": "fixed"})):
        op = c.get(f"/orders/{oid}")
        r = c.post(f"/orders/{oid}/act", data={"action": action, "note": f"{action} 说明",
                                               "csrf_token": _csrf(op.text), **extra}, follow_redirects=False)
        assert r.status_code == 303 and "error" not in r.headers["location"], r.headers["location"]
    # a note is required: the action is refused, nothing changes
    c.post("/logout", data={"csrf_token": _csrf(c.get("/orders").text)})
    # the resident rates it: not satisfied → reopened to the same office
    rec = c.get(f"/r/{receipt}")
    assert "已办结" in rec.text and "rate-form" in rec.text
    r = c.post(f"/r/{receipt}/confirm", data={"satisfied": "no", "csrf_token": _csrf(rec.text)},
               follow_redirects=False)
    assert r.status_code == 303
    rec = c.get(f"/r/{receipt}")
    assert "已派单" in rec.text and "居民不满意，重办" in rec.text
    with session_factory(site["engine"])() as s:
        rep = s.scalars(select(ResidentReport).where(ResidentReport.receipt == receipt)).one()
        assert (rep.status, rep.reopened, rep.org_code) == ("dispatched", 1, "DEPT-MARKET")
        acts = set(s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(rep.id))))
        assert {"report.view_phone", "report.sign", "report.start", "report.close"} <= acts


def test_scope_other_department_and_station(site):
    c, code = site["client"], site["code"]
    r = _submit(c, code, "超市卖过期食品，缺斤短两")
    receipt = r.headers["location"].split("/r/")[1].split("?")[0]
    with session_factory(site["engine"])() as s:
        oid = s.scalars(select(ResidentReport.id).where(ResidentReport.receipt == receipt)).one()
    _login(c, "housing")
    assert receipt not in c.get("/orders").text
    assert c.get(f"/orders/{oid}").status_code == 403
    assert c.get(f"/api/v1/orders/{oid}").status_code in (403, 404, 405)
    page = c.get("/orders")
    r = c.post(f"/api/v1/orders/{oid}/actions", json={"action": "sign", "note": "x"},
               headers={"X-CSRF-Token": _csrf(page.text)})
    assert r.status_code == 403
    c.post("/logout", data={"csrf_token": _csrf(page.text)})
    _login(c, "ps1")  # the station sees reports of its area, phone masked, but may not act on another's order
    op = c.get(f"/orders/{oid}")
    assert op.status_code == 200 and "act-form" not in op.text


def test_hostile_text_stored_and_escaped(site):
    c, code = site["client"], site["code"]
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> 楼道灯坏了'
    r = _submit(c, code, evil)
    receipt = r.headers["location"].split("/r/")[1].split("?")[0]
    page = c.get(f"/r/{receipt}")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert "<img src=x" not in page.text
    with session_factory(site["engine"])() as s:
        rep = s.scalars(select(ResidentReport).where(ResidentReport.receipt == receipt)).one()
        assert rep.text == evil and rep.status == "moderation"


def test_bad_requests(site):
    c, code = site["client"], site["code"]
    assert c.get("/p/0000000000000000").status_code == 404
    assert c.get("/p/../../etc").status_code == 404
    page = c.get(f"/p/{code}")
    r = c.post(f"/p/{code}", data={"kind": "dispute", "text": "x", "csrf_token": "wrong"})
    assert r.status_code == 403
    r = c.post(f"/p/{code}", data={"kind": "dispute", "text": "好" * 3000, "csrf_token": _csrf(page.text)})
    assert r.status_code == 422 and "过长" in r.text
    r = c.post(f"/p/{code}", data={"kind": "dispute", "text": "照片", "csrf_token": _csrf(page.text)},
               files={"photo": ("x.jpg", b"not a jpeg", "image/jpeg")})
    assert r.status_code == 422 and "图片" in r.text


def test_rate_limit_per_plate_returns_429(site):
    c, code = site["client"], site["code"]
    desk = site["app"].state.resident_desk
    desk.per_client.limit = 1000  # isolate the per-plate limit (6 an hour)
    codes = [_submit(c, code, f"第{i}次反映：路灯{i}号坏了，编号{i * 7919}").status_code for i in range(8)]
    assert codes[:6] == [303] * 6 and codes[6:] == [429, 429]
    page = c.get(f"/p/{code}")
    r = c.post(f"/p/{code}", data={"kind": "dispute", "text": "再试", "csrf_token": _csrf(page.text)})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_open311(site):
    c, code, key = site["client"], site["code"], site["key"]
    services = c.get("/open311/v2/services.json").json()
    assert {s["service_code"] for s in services} == {"urgent", "dispute", "lost"}
    assert c.get("/open311/v2/services/dispute.json").json()["attributes"][0]["code"] == "plate"
    r = c.post("/open311/v2/requests.json", data={"service_code": "dispute", "description": "电梯坏了物业不修",
                                                  "attribute[plate]": code})
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    got = c.get(f"/open311/v2/requests/{rid}.json").json()[0]
    assert got["status"] == "open" and got["agency_responsible"] == "房管办（物业监管）"
    assert got["expected_datetime"].endswith("+08:00") and "phone" not in got
    listed = c.get("/open311/v2/requests.json", params={"status": "open", "page_size": 1})
    assert listed.status_code == 200 and len(listed.json()) == 1 and int(listed.headers["X-Total-Count"]) >= 1
    assert c.post("/open311/v2/requests.json", data={"service_code": "nope", "description": "x"}).status_code == 400
    assert c.post("/open311/v2/requests.json", data={"service_code": "dispute", "description": "x",
                                                     "api_key": "wrong"}).status_code == 403
    # a partner submits and then posts a status update on its own request
    r = c.post("/open311/v2/requests.json", data={"service_code": "dispute", "api_key": key,
                                                  "description": "小区门口流动摊贩占道经营"})
    pid = r.json()[0]["service_request_id"]
    up = c.post(f"/open311/v2/requests/{pid}/updates.json", data={"api_key": key, "status": "open",
                                                                  "status_notes": "市民再次来电催办"})
    assert up.status_code == 200 and up.json()[0]["status_notes"].endswith("市民再次来电催办")
    assert c.post(f"/open311/v2/requests/{rid}/updates.json", data={"api_key": key, "status": "open",
                                                                    "status_notes": "x"}).status_code == 404


def test_open311_public_posts_rate_limited(site):
    c = site["client"]
    got = [c.post("/open311/v2/requests.json", data={"service_code": "dispute",
                                                    "description": f"噪音扰民第{i}次 {i * 31}"}).status_code
           for i in range(7)]
    assert got[:5] == [201] * 5 and got[5:] == [429, 429]


def test_open311_public_view_keeps_private_matters_out(site):
    c, key = site["client"], site["key"]
    r = c.post("/open311/v2/requests.json", data={"service_code": "dispute", "api_key": key,
                                                  "description": "超市卖假货，老板电话13912345678"})
    rid = r.json()[0]["service_request_id"]
    u = c.post("/open311/v2/requests.json", data={"service_code": "urgent", "api_key": key,
                                                  "description": "家里有人打架"})
    uid = u.json()[0]["service_request_id"]
    public = c.get("/open311/v2/requests.json", params={"page_size": 200}).json()
    ids = {x["service_request_id"] for x in public}
    assert rid in ids and uid not in ids
    mine = next(x for x in public if x["service_request_id"] == rid)
    assert "13912345678" not in mine["description"] and "139****5678" in mine["description"]
    assert mine["lat"] is None
    full = c.get(f"/open311/v2/requests/{rid}.json", params={"api_key": key}).json()[0]
    assert "13912345678" in full["description"]
    partner_list = {x["service_request_id"] for x in c.get("/open311/v2/requests.json",
                                                            params={"api_key": key, "page_size": 200}).json()}
    assert uid in partner_list


def test_diversion_and_stats_pages(site):
    c, code = site["client"], site["code"]
    for text in ("商店卖假货不退款", "电梯坏了物业不修", "和邻居因为漏水吵架想请社区调解"):
        assert _submit(c, code, text).status_code == 303
    _login(c, "analyst")
    page = c.get("/orders/diversion")
    assert page.status_code == 200
    row = re.search(r"<tr><td>莲花新村</td><td>(\d{4}-\d{2})</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page.text)
    assert row and row.group(2) == "3" and row.group(3) == "3" and row.group(4) == "0"  # no lake: no 110 calls
    stats = c.get("/orders/stats")
    assert stats.status_code == 200 and "市场监管所" in stats.text and "房管办" in stats.text
    one = c.get("/orders/stats", params={"department": "market"})
    assert "市场监管所" in one.text and "房管办（物业监管）</a>" not in one.text


def test_staff_views_escape_hostile_text_and_audit_only_the_clear_phone(site):
    """The moderation queue and the order page show a hostile report escaped to every staff viewer; the phone is in
    clear (and the view audited) only for one who may handle the order — a station that merely sees its
    community's reports gets the masked number and leaves no phone-view audit row."""
    c, code = site["client"], site["code"]
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> 楼道灯坏了'
    r = _submit(c, code, evil, phone="13900139000")
    receipt = r.headers["location"].split("/r/")[1].split("?")[0]
    for user, clear in (("analyst", True), ("ps1", False)):
        _login(c, user)
        q = c.get("/orders")
        assert receipt in q.text, user
        assert "<script>alert" not in q.text and "<img src=x" not in q.text
        oid = int(re.search(rf'href="/orders/(\d+)">{receipt}<', q.text).group(1))  # type: ignore[union-attr]
        op = c.get(f"/orders/{oid}")
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in op.text and "<img src=x" not in op.text
        assert ("13900139000" in op.text) is clear and ("139****9000" in op.text) is not clear, user
        api = c.get("/api/v1/orders").json()["data"]  # the JSON twin: masked for everyone
        assert [o["phone"] for o in api if o["receipt"] == receipt] == ["139****9000"]
        c.post("/logout", data={"csrf_token": _csrf(c.get("/orders").text)})
    with session_factory(site["engine"])() as s:
        rep = s.scalars(select(ResidentReport).where(ResidentReport.receipt == receipt)).one()
        viewers = set(s.scalars(select(AuditEvent.actor_name).where(AuditEvent.target_id == str(rep.id),
                                                                     AuditEvent.action == "report.view_phone")))
    assert viewers == {"analyst"}
