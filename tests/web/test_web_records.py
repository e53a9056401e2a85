"""Notices, tasks, profiles and users over HTTP: hostile text is stored as given and shown escaped (stored XSS),
every write and every view of personal data is in the hash-chained audit log, and nobody can edit that log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from anju.errors import OpsError
from anju.ops.models import AuditEvent, Community, Notice, Organisation, Task

HOSTILE = ('<script>alert("xss")</script><img src=x onerror=alert(1)>'
           '"><svg onload=alert(2)>{{ 7*7 }}&amp;')


def _events(client, action: str) -> list[AuditEvent]:
    with Session(client.app.state.anju.engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_hostile_notice_and_task_texts_are_stored_as_given_and_shown_escaped(client) -> None:
    client.login_as("analyst")
    n = client.post("/api/v1/notices", json={"title": HOSTILE[:200], "body": HOSTILE, "area_level": "district"})
    assert n.status_code == 201
    nid = n.json()["id"]
    with Session(client.app.state.anju.engine) as s:
        assert s.get(Notice, nid).body == HOSTILE  # stored safely: as given, no lossy filtering
        org = s.scalar(select(Organisation.id).where(Organisation.kind == "station"))
        comm = s.scalar(select(Community.code))
    t = client.post("/api/v1/tasks", json={"title": "任务" + HOSTILE[:100], "body": HOSTILE,
                                           "assignee_org_id": org, "community_code": comm})
    assert t.status_code == 201
    tid = t.json()["id"]
    r = client.post(f"/api/v1/tasks/{tid}/replies", json={"body": HOSTILE, "status_to": "in_progress"})
    assert r.status_code == 201
    for path in (f"/notices/{nid}", "/notices", f"/tasks/{tid}", "/tasks"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html, path
        assert not re.search(r"<[^>]+\son(error|load)=", html), path
        assert "&lt;script&gt;alert(" in html, path
        assert "{{ 7*7 }}" in html, path  # shown as text, never evaluated as a template


def test_writes_are_audited_with_who_what_and_where(client) -> None:
    client.login_as("community_police")
    code = client.get("/api/v1/communities?per=1").json()["data"][0]["area_id"]
    r = client.post(f"/api/v1/communities/{code}/profiles",
                    json={"effective_date": "2026-03-01", "cameras": 40, "cameras_faulty": 2, "note": "复查"})
    assert r.status_code == 201
    ev = _events(client, "profile.add")[-1]
    assert ev.actor_name == "community_police" and ev.target_id == code and ev.ip == "testclient"
    assert ev.detail["cameras"] == 40
    hist = client.get(f"/api/v1/communities/{code}").json()["profiles"]
    assert hist[-1]["cameras"] == 40 and len(hist) >= 2  # a new dated row; the earlier ones are kept


def test_views_of_personal_data_are_audited_and_the_chain_verifies(client) -> None:
    client.login_as("admin")
    before = len(_events(client, "users.view"))
    assert client.get("/api/v1/users").json()["count"] >= 10
    assert client.get("/users").status_code == 200
    assert len(_events(client, "users.view")) == before + 2
    assert client.get("/audit.xlsx").status_code == 200
    assert _events(client, "audit.export")
    v = client.get("/api/v1/audit/verify").json()
    assert v["ok"] and v["rows"] >= 5
    login = _events(client, "login")[-1]
    assert login.actor_name == "admin"


def test_the_audit_log_cannot_be_edited_through_the_app(client) -> None:
    client.login_as("admin")
    spec = client.get("/api/v1/openapi.json").json()
    for path, ops in spec["paths"].items():
        if "audit" in path:
            assert set(ops) <= {"get"}, (path, set(ops))
    for method in ("put", "patch", "delete"):
        assert client.request(method, "/api/v1/audit").status_code == 405
    with Session(client.app.state.anju.engine) as s:  # the models refuse updates too
        ev = s.scalar(select(AuditEvent).order_by(AuditEvent.seq).offset(1).limit(1))
        ev.actor_name = "someone-else"
        with pytest.raises(OpsError):
            s.commit()
    engine = client.app.state.anju.engine
    with engine.begin() as conn, pytest.raises(DBAPIError):  # and so do the database triggers
        conn.execute(text("UPDATE audit_event SET actor_name = 'someone-else' WHERE seq = 2"))
    with engine.begin() as conn:  # a database superuser can still tamper: the chain shows it
        if engine.dialect.name == "sqlite":
            for (name,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                             "AND tbl_name = 'audit_event'")).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_event SET actor_name = 'someone-else' WHERE seq = 2"))
    assert client.get("/api/v1/audit/verify").json()["ok"] is False
    assert 'data-ok="false"' in client.get("/audit").text


def test_task_flow_assign_reply_and_status(make_client) -> None:
    station = make_client().login_as("station")
    with Session(station.app.state.anju.engine) as s:
        dept = s.scalar(select(Organisation).where(Organisation.code == "DEPT-HOUSING"))
    code = station.get("/api/v1/communities?per=1").json()["data"][0]["area_id"]
    t = station.post("/api/v1/tasks", json={"title": "群租整治", "body": "请核查", "assignee_org_id": dept.id,
                                            "community_code": code, "due_date": "2026-12-31"})
    assert t.status_code == 201
    tid = t.json()["id"]
    department = make_client().login_as("department")
    assert tid in {x["id"] for x in department.get("/api/v1/tasks?per=500").json()["data"]}
    r = department.post(f"/api/v1/tasks/{tid}/replies", json={"body": "已派员核查", "status_to": "done"})
    assert r.status_code == 201
    got = station.get(f"/api/v1/tasks/{tid}").json()
    assert got["status"] == "done" and got["replies"][-1]["body"] == "已派员核查"
    with Session(station.app.state.anju.engine) as s:
        assert s.get(Task, tid).status == "done"
