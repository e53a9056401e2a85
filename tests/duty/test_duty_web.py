"""Duty pages and API over the real app and a real (SQLite) ops database: scope per role, audited writes and views."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

SEED = 42


@pytest.fixture(scope="module")
def app_db(duty_demo: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    from anju.duty.service import run_briefing
    from anju.ops.db import make_engine, session_factory, upgrade_to_head
    from anju.ops.demo import seed_demo

    run_briefing(duty_demo["settings"], "2025-12-31")
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('duty-ops')) / 'ops.sqlite3'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        seed_demo(s, duty_demo["settings"], seed=SEED, end_year=2025)
        s.commit()
    engine.dispose()
    return url


@pytest.fixture
def login(duty_demo: dict[str, Any], app_db: str) -> Iterator[Any]:
    from anju.ops.demo import demo_password
    from anju.web import create_app

    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        app = create_app(duty_demo["settings"], database_url=app_db, upgrade=False)
        c = TestClient(app)
        pre = c.get("/api/v1/auth/csrf").json()["csrf_token"]
        r = c.post("/api/v1/auth/login", json={"username": role, "password": demo_password(SEED, role)},
                   headers={"X-CSRF-Token": pre})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.app.state.anju.engine.dispose()  # type: ignore[attr-defined]
        c.close()


def _audit(app_db: str) -> list[Any]:
    from anju.ops.db import make_engine, session_factory
    from anju.ops.models import AuditEvent

    engine = make_engine(app_db)
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        out = [(e.action, e.target_type, e.detail) for e in rows]
    engine.dispose()
    return out


def test_station_sees_only_its_station(login: Any) -> None:
    leader = login("leader").get("/api/v1/duty/briefing", params={"day": "2025-12-31"}).json()
    station = login("station").get("/api/v1/duty/briefing", params={"day": "2025-12-31"}).json()
    assert len({s["station_id"] for s in leader["stations"]}) == 6
    assert {s["station_id"] for s in station["stations"]} == {"PS03"}
    assert {p["station_id"] for p in station["plan_used"]} == {"PS03"}
    assert {a["station_id"] for a in station["alerts"]} <= {"PS03"}
    assert set(station["three_highs"]) == {"PS03"}
    page = login("station").get("/duty", params={"day": "2025-12-31"})
    assert page.status_code == 200 and "PS03" in page.text and 'data-station="PS01"' not in page.text


def test_adjustment_needs_reason_scope_and_is_audited(login: Any, app_db: str) -> None:
    st = login("station")
    b = st.get("/api/v1/duty/briefing", params={"day": "2025-12-31"}).json()
    box = b["plan_used"][0]["box_id"]
    no_reason = st.post("/api/v1/duty/adjustments", json={"day": "2025-12-31", "station_id": "PS03",
                                                         "kind": "drop_box", "target": box, "reason": ""})
    assert no_reason.status_code in (400, 422)
    other = st.post("/api/v1/duty/adjustments", json={"day": "2025-12-31", "station_id": "PS01", "kind": "level",
                                                     "target": "PS01-01", "value": {"level": 0}, "reason": "x"})
    assert other.status_code == 403
    hostile = "<script>alert(1)</script> 道路施工"
    ok = st.post("/api/v1/duty/adjustments", json={"day": "2025-12-31", "station_id": "PS03", "kind": "drop_box",
                                                  "target": box, "reason": hostile})
    assert ok.status_code == 201, ok.text
    after = st.get("/api/v1/duty/briefing", params={"day": "2025-12-31"}).json()
    assert box not in {p["box_id"] for p in after["plan_used"]}  # the plan actually used
    assert len(after["plan_used"]) == len(b["plan_used"]) - 1
    assert after["adjustments"][-1]["reason"] == hostile
    page = st.get("/duty", params={"day": "2025-12-31"}).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    events = [e for e in _audit(app_db) if e[0] == "duty.adjust"]
    assert events and events[-1][2]["target"] == box and events[-1][2]["reason"] == hostile
    assert login("analyst").post("/api/v1/duty/adjustments", json={
        "day": "2025-12-31", "station_id": "PS03", "kind": "drop_box", "target": box, "reason": "r"}).status_code == 403


def test_registry_worklist_scoped_and_view_audited(login: Any, app_db: str, duty_demo: dict[str, Any]) -> None:
    as_of = duty_demo["truth"]["registry"]["as_of"]
    cp = login("community_police")
    rows = cp.get("/api/v1/duty/registry", params={"as_of": as_of}).json()["data"]
    admin_rows = login("admin").get("/api/v1/duty/registry", params={"as_of": as_of}).json()["data"]
    assert len(admin_rows) == 45
    mine = {c for c in {r["community_id"] for r in admin_rows}}
    assert {r["community_id"] for r in rows} < mine or not rows
    assert login("analyst").get("/api/v1/duty/registry", params={"as_of": as_of}).status_code == 403
    views = [e for e in _audit(app_db) if e[0] == "registry.view"]
    assert len(views) >= 2
    outside = next(r for r in admin_rows if r["community_id"] not in {x["community_id"] for x in rows})
    refused = cp.post("/api/v1/duty/registry/checks", json={
        "household_id": outside["household_id"], "community_id": outside["community_id"], "flag": outside["flag"],
        "outcome": "confirmed"})
    assert refused.status_code == 403
    if rows:
        r = rows[0]
        ok = cp.post("/api/v1/duty/registry/checks", json={"household_id": r["household_id"],
                                                          "community_id": r["community_id"], "flag": r["flag"],
                                                          "outcome": "false_alarm", "note": "已核实"})
        assert ok.status_code == 201
        assert any(e[0] == "registry.check" for e in _audit(app_db))


def test_kpi_api_scoped(login: Any) -> None:
    lead = login("leader").get("/api/v1/duty/kpi", params={"month": "2025-12"}).json()["data"]
    st = login("station").get("/api/v1/duty/kpi", params={"month": "2025-12"}).json()["data"]
    assert "全区" in {r["station_id"] for r in lead} and {r["station_id"] for r in st} == {"PS03"}
    fulfil = {r["station_id"]: r["value"] for r in lead if r["kpi"] == "duty_fulfilment"}
    assert fulfil["PS03"] == next(r["value"] for r in st if r["kpi"] == "duty_fulfilment")
    x = login("station").get("/duty/kpi.xlsx", params={"month": "2025-12"})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    import io

    import pandas as pd

    assert set(pd.read_excel(io.BytesIO(x.content), engine="calamine")["station_id"]) == {"PS03"}


def test_registry_names_masked_and_clear_view_audited(login: Any, app_db: str, duty_demo: dict[str, Any]) -> None:
    """Heads of household are in the ops database only: masked on the worklist page and API, in clear for a
    registry checker of the community one household at a time (audited), never in the duty store."""
    import pandas as pd

    from anju.duty.imports import read_store
    from anju.ops.db import make_engine, session_factory
    from anju.ops.models import User
    from anju.ops.scope import allowed_community_codes

    as_of = duty_demo["truth"]["registry"]["as_of"]
    heads = pd.read_csv(duty_demo["dir"] / "registry_households.csv", dtype=str, keep_default_na=False)
    clear = dict(zip(heads["household_id"], zip(heads["户主姓名"], heads["身份证号"], strict=True), strict=True))
    stored = read_store(duty_demo["settings"], "households")
    assert not {"name", "id_number", "户主姓名", "身份证号"} & set(stored.columns)
    admin = login("admin")
    rows = admin.get("/api/v1/duty/registry", params={"as_of": as_of}).json()["data"]
    named = [r for r in rows if r["name_masked"]]
    assert len(named) == sum(1 for r in rows if clear[r["household_id"]][0])  # every person found, masked
    assert named and not [r for r in rows if r["flag"] == "undeclared" and r["name_masked"]]  # nobody registered
    for r in named:
        name, idn = clear[r["household_id"]]
        assert r["name_masked"] != name and r["name_masked"][0] == name[0] and "*" in r["name_masked"]
        assert r["id_masked"][:4] == idn[:4] and r["id_masked"][-4:] == idn[-4:] and "*" * 10 in r["id_masked"]
    page = admin.get("/duty/registry", params={"as_of": as_of}).text
    assert named[0]["id_masked"] in page
    assert not any(clear[r["household_id"]][1] in page for r in named)
    # a community police officer sees the clear values of a household of their community, audited
    engine = make_engine(app_db)
    with session_factory(engine)() as s:
        cp_user = s.query(User).filter_by(username="community_police").one()
        mine = allowed_community_codes(s, cp_user)
    engine.dispose()
    assert mine
    in_scope = heads[heads["community_id"].isin(mine) & (heads["户主姓名"] != "")]["household_id"].iloc[0]
    outside = heads[~heads["community_id"].isin(mine) & (heads["户主姓名"] != "")]["household_id"].iloc[0]
    cp = login("community_police")
    shown = cp.post("/duty/registry/person", data={"household_id": in_scope, "as_of": as_of})
    assert shown.status_code == 200 and clear[in_scope][0] in shown.text and clear[in_scope][1] in shown.text
    assert shown.headers["cache-control"] == "no-store"
    views = [e for e in _audit(app_db) if e[0] == "registry.view_person"]
    assert views and views[-1][2]["community"] in mine
    assert cp.post("/duty/registry/person", data={"household_id": outside}).status_code == 403
    assert login("analyst").post("/duty/registry/person", data={"household_id": in_scope}).status_code == 403


def test_guard_rounds_on_the_community_page(login: Any, app_db: str, duty_demo: dict[str, Any]) -> None:
    """The community page shows the property company's guard rounds with the assessment's own compliance number
    (the same function over the same scans), the last rounds and their missed checkpoints; scoped like the page."""
    import datetime as dt
    import re

    import pandas as pd

    from anju.analytics.patrol import patrol_compliance
    from anju.assess.inputs import stored
    from anju.ops.db import make_engine, session_factory
    from anju.ops.models import User
    from anju.ops.scope import allowed_community_codes

    engine = make_engine(app_db)
    with session_factory(engine)() as s:
        mine = sorted(allowed_community_codes(s, s.query(User).filter_by(username="community_police").one()) or [])
    engine.dispose()
    settings = duty_demo["settings"]
    plans, scans = stored(settings, "patrol_plan"), stored(settings, "patrol_scans")
    assert plans is not None and scans is not None
    code = next(c for c in mine if (scans["community_id"].astype(str) == c).any())
    sc = scans[scans["community_id"].astype(str) == code]
    at, end = pd.to_datetime(sc["scanned_at"], format="mixed"), pd.to_datetime(scans["scanned_at"], format="mixed").max()
    first = (end - pd.Timedelta(days=29)).date()  # one window for the district: the 30 days up to its latest scan
    expected = patrol_compliance(sc[at.dt.date >= first], plans[plans["community_id"].astype(str) == code], first,
                                 end.date())
    page = login("community_police").get(f"/communities/{code}")
    assert page.status_code == 200, page.text[:300]
    shown = re.search(r'id="guard-compliance">([\d.]+)%', page.text)
    assert shown and float(shown.group(1)) == round(100 * float(expected["patrol_compliance"].iloc[0]), 1)
    assert page.text.count("<tr><td>") >= 1 and 'id="guard-recent"' in page.text
    assert isinstance(first, dt.date)
    other = next(c for c in scans["community_id"].astype(str).unique() if c not in mine)
    assert login("community_police").get(f"/communities/{other}").status_code in (403, 404)


def test_kpi_trend_scoped_and_equal_to_each_month(login: Any) -> None:
    """The KPI page's six-month trend: the same figures as each month's table, only the stations in scope."""
    lead = login("leader")
    trend = lead.get("/api/v1/duty/kpi/trend", params={"month": "2025-12"}).json()
    assert trend["months"] == ["2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12"]
    for m in ("2025-11", "2025-12"):
        month = {(r["station_id"], r["kpi"]): r["value"]
                 for r in lead.get("/api/v1/duty/kpi", params={"month": m}).json()["data"]}
        got = {(r["station_id"], r["kpi"]): r["values"].get(m) for r in trend["data"]}
        assert {k: v for k, v in got.items() if k in month} == month and month
    st = login("station").get("/api/v1/duty/kpi/trend", params={"month": "2025-12"}).json()
    assert {r["station_id"] for r in st["data"]} == {"PS03"}
    page = login("station").get("/duty/kpi", params={"month": "2025-12"}).text
    assert 'id="kpi-trend"' in page and page.count('data-month="2025-07"') == st["count"] and "<polyline" in page
