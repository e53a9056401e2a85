"""Every role sees only its scope over HTTP: by id, by filter and by export, for reads and writes, on SQLite and
PostgreSQL. The expected sets come from the database (communities each demo user's scope rows reach)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.ops.models import Community, Notice, Task, User
from anju.ops.scope import allowed_community_codes, notice_filter, task_filter

SCOPED = ("station", "community_police", "street_office", "property_manager", "grid_worker")


def _facts(client, role: str) -> tuple[frozenset[str], list[str], User]:
    with Session(client.app.state.anju.engine) as s:
        user = s.scalar(select(User).where(User.username == role))
        allowed = allowed_community_codes(s, user)
        every = list(s.scalars(select(Community.code).order_by(Community.code)))
        s.expunge_all()
    assert allowed is not None and 0 < len(allowed) < len(every), role
    return allowed, every, user


@pytest.mark.parametrize("role", SCOPED)
def test_reads_outside_scope_are_refused(client, role: str) -> None:
    allowed, every, _ = _facts(client, role)
    client.login_as(role)
    inside = sorted(allowed)[0]
    outside = next(c for c in every if c not in allowed)
    assert client.get(f"/api/v1/communities/{inside}").status_code == 200
    assert client.get(f"/api/v1/communities/{outside}").status_code == 403
    assert client.get(f"/communities/{outside}").status_code == 403
    # by filter: lists, rankings, the map and the overview stay inside
    listed = client.get("/api/v1/communities?per=500").json()
    assert {r["area_id"] for r in listed["data"]} <= allowed and listed["count"] > 0
    name = client.app.state.anju.lake.community_names()[outside]
    assert client.get("/api/v1/communities", params={"q": name}).json()["count"] == 0
    assert client.get("/api/v1/communities", params={"q": outside}).json()["count"] == 0
    ov = client.get("/api/v1/overview").json()
    assert not ov["whole_district"] and ov["headline"] == []
    assert {r["area_id"] for r in ov["index"]} <= allowed
    geo = client.get("/api/v1/geo/communities.geojson").json()
    assert {f["id"] for f in geo["features"]} <= allowed
    for rk in client.get("/api/v1/rankings").json()["data"]:
        rows = client.get(f"/api/v1/rankings/{rk['key']}?per=500").json()["data"]
        assert {r["area_id"] for r in rows} <= allowed
    # by export
    for url in ("/communities.xlsx", f"/rankings/{rk['key']}.xlsx"):
        ws = load_workbook(io.BytesIO(client.get(url).content)).active
        ids = {row[1] for row in ws.iter_rows(min_row=2, values_only=True)}
        assert ids <= allowed, url
    ws = load_workbook(io.BytesIO(client.get("/communities.xlsx", params={"q": outside}).content)).active
    assert ws.max_row == 1


@pytest.mark.parametrize("role", SCOPED)
def test_writes_outside_scope_are_refused(client, role: str) -> None:
    allowed, every, _ = _facts(client, role)
    client.login_as(role)
    outside = next(c for c in every if c not in allowed)
    inside = sorted(allowed)[0]
    body = {"effective_date": "2026-01-01", "households": 10}
    assert client.post(f"/api/v1/communities/{outside}/profiles", json=body).status_code == 403
    assert client.post(f"/api/v1/communities/{inside}/profiles", json=body).status_code == 201
    r = client.post("/api/v1/notices", json={"title": "全区通知", "body": "", "area_level": "district"})
    assert r.status_code == 403
    r = client.post("/api/v1/notices", json={"title": "社区通知", "area_level": "community", "area_code": outside})
    assert r.status_code == 403
    r = client.post("/api/v1/tasks", json={"title": "越权交办", "assignee_org_id": 1, "community_code": outside})
    assert r.status_code == 403


@pytest.mark.parametrize("role", (*SCOPED, "department"))
def test_notices_and_tasks_outside_scope_by_id(client, role: str) -> None:
    with Session(client.app.state.anju.engine) as s:
        user = s.scalar(select(User).where(User.username == role))
        hidden_n = s.scalars(select(Notice.id).where(~notice_filter(user))).first()
        hidden_t = s.scalars(select(Task.id).where(~task_filter(user))).first()
        seen_t = set(s.scalars(select(Task.id).where(task_filter(user))))
    client.login_as(role)
    listed = client.get("/api/v1/tasks?per=500").json()
    assert {t["id"] for t in listed["data"]} == seen_t
    if hidden_t is not None:
        assert client.get(f"/api/v1/tasks/{hidden_t}").status_code == 403
        assert client.get(f"/tasks/{hidden_t}").status_code == 403
        r = client.post(f"/api/v1/tasks/{hidden_t}/replies", json={"body": "越权回复"})
        assert r.status_code == 403
    if hidden_n is not None:
        assert client.get(f"/api/v1/notices/{hidden_n}").status_code == 403
    assert client.get("/api/v1/tasks/999999").status_code == 403  # missing and hidden look the same


def test_department_sees_no_analytics_and_no_communities(client) -> None:
    client.login_as("department")
    for path in ("/api/v1/overview", "/api/v1/communities", "/api/v1/rankings", "/communities.xlsx"):
        assert client.get(path).status_code == 403, path
    assert client.get("/api/v1/releases").status_code == 200


@pytest.mark.parametrize("role", ("leader", "analyst", "station", "property_manager", "grid_worker", "evaluator"))
def test_only_admins_read_users_and_the_audit_log(client, role: str) -> None:
    client.login_as(role)
    for path in ("/api/v1/users", "/api/v1/audit", "/users", "/audit", "/audit.xlsx"):
        assert client.get(path).status_code == 403, (role, path)
    assert client.post("/api/v1/users", json={"username": "x1", "display_name": "x", "password": "p" * 14,
                                              "role": "admin"}).status_code == 403


def test_whole_district_roles_see_everything(client) -> None:
    client.login_as("leader")
    ov = client.get("/api/v1/overview").json()
    assert ov["whole_district"] and ov["headline"]
    with Session(client.app.state.anju.engine) as s:
        n = len(list(s.scalars(select(Community.code))))
    assert client.get("/api/v1/communities?per=500").json()["count"] == n
    assert client.post("/api/v1/notices", json={"title": "x", "area_level": "district"}).status_code == 403  # read only
