"""User administration over HTTP (admin): edit role and scope, disable, reset a password — through the ops
service, with CSRF, audit, session ends, scope rules and escaped hostile names; on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.ops.models import AuditEvent, Community, User

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _user(client, username: str) -> User:
    with Session(client.app.state.anju.engine) as s:
        u = s.scalar(select(User).where(User.username == username))
        assert u is not None
        _ = list(u.scopes)
        s.expunge_all()
        return u


def _actions(client, target: int) -> list[str]:
    with Session(client.app.state.anju.engine) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "user",
                                                               AuditEvent.target_id == str(target))
                              .order_by(AuditEvent.seq)))


def test_admin_edits_role_and_scope_by_form_and_the_user_is_logged_out(make_client) -> None:
    admin, grid = make_client().login_as("admin"), make_client().login_as("grid_worker")
    u = _user(admin, "grid_worker")
    with Session(admin.app.state.anju.engine) as s:
        com = s.scalars(select(Community).order_by(Community.code)).first()
        assert com is not None and com.station_code
        station, code = com.station_code, com.code
    page = admin.get(f"/users/{u.id}")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    del admin.headers["X-CSRF-Token"]  # a browser form: the token travels in the form only
    # without the CSRF token the form is refused and nothing changes
    bad = admin.post(f"/users/{u.id}", data={"display_name": "x", "role": "station", "scopes": f"station:{station}"},
                     follow_redirects=False)
    assert bad.status_code == 403 and _user(admin, "grid_worker").role == "grid_worker"
    r = admin.post(f"/users/{u.id}", data={"csrf_token": admin.csrf, "display_name": "网格员甲", "role": "station",
                                          "scopes": f"station:{station} community:{code}"},
                   follow_redirects=False)
    assert r.status_code == 303, r.text
    after = _user(admin, "grid_worker")
    assert after.role == "station" and after.display_name == "网格员甲"
    assert {(s.area_level, s.area_code) for s in after.scopes} == {("station", station), ("community", code)}
    assert grid.get("/api/v1/auth/me").status_code == 401  # a role change ends the user's sessions
    assert "user.update" in _actions(admin, u.id)


def test_admin_api_patch_disable_enable_and_password_reset(make_client, pw) -> None:
    admin = make_client().login_as("admin")
    u = _user(admin, "street_office")
    assert admin.patch(f"/api/v1/users/{u.id}", json={"role": "public"}).status_code == 400
    assert admin.patch(f"/api/v1/users/{u.id}", json={"scopes": [["street", "NO-SUCH-STREET"]]}).status_code == 403
    assert _user(admin, "street_office").role == "street_office"  # refused changes leave no trace
    r = admin.patch(f"/api/v1/users/{u.id}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert admin.post(f"/api/v1/users/{u.id}/enable").json()["active"] is True
    assert admin.post(f"/api/v1/users/{u.id}/password", json={"password": "short"}).status_code == 422
    new = "新的口令-Street-2026"
    assert admin.post(f"/api/v1/users/{u.id}/password", json={"password": new}).status_code == 200
    c = make_client()
    c.login_as("street_office", new)
    acts = _actions(admin, u.id)
    assert acts[-3:] == ["user.deactivate", "user.activate", "user.password"]
    with Session(admin.app.state.anju.engine) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.password")).all()[-1]
        assert new not in str(ev.detail)  # the password never reaches the log
    assert make_client().post("/api/v1/auth/login", json={"username": "street_office",
                                                           "password": pw("street_office")}).status_code != 200


def test_non_admins_cannot_edit_users(make_client) -> None:
    admin = make_client().login_as("admin")
    u = _user(admin, "grid_worker")
    for role in ("leader", "station", "analyst"):
        c = make_client().login_as(role)
        assert c.patch(f"/api/v1/users/{u.id}", json={"role": "admin"}).status_code == 403
        assert c.post(f"/api/v1/users/{u.id}/password", json={"password": "x" * 20}).status_code == 403
        assert c.get(f"/users/{u.id}").status_code == 403
    assert _user(admin, "grid_worker").role == "grid_worker"


def test_hostile_display_name_is_stored_as_given_and_shown_escaped(make_client) -> None:
    admin = make_client().login_as("admin")
    r = admin.post("/api/v1/users", json={"username": "hostile.user", "display_name": HOSTILE[:100],
                                          "password": "Hostile-Pass-2026!", "role": "grid_worker"})
    assert r.status_code == 201, r.text
    assert _user(admin, "hostile.user").display_name == HOSTILE[:100]
    for path in ("/users", f"/users/{r.json()['id']}"):
        html = admin.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert not re.search(r'value="[^"]*"[^>]*\sonerror=', html), path  # the quote cannot close the attribute
        assert "&lt;script&gt;alert(" in html, path
