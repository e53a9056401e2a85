"""Authentication over HTTP against the real app and database (SQLite and PostgreSQL): sessions, cookies, CSRF,
lockout, rate limits, timeouts, logout and security headers."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from anju.ops.models import LoginAttempt, User, WebSession, utcnow
from anju.web.security import CSP, WebConfig, token_hash


def _form_csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the form"
    return m.group(1)


def test_login_form_sets_a_fresh_httponly_session_and_redirects(client, pw) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    planted = "attacker-chosen-token"
    client.cookies.set("anju_session", planted)
    r = client.post("/login", data={"username": "admin", "password": pw("admin"), "csrf_token":
                                    _form_csrf(page.text), "next": "/rankings"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/rankings"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    token = re.search(r"anju_session=([^;]+)", cookie).group(1)
    assert token != planted and len(token) >= 40
    engine = client.app.state.anju.engine
    with Session(engine) as s:  # only the hash is stored
        assert s.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token))) is not None
        assert s.scalar(select(WebSession).where(WebSession.token_hash == token)) is None


def test_open_redirect_after_login_is_refused(client, pw) -> None:
    page = client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": pw("admin"),
                                    "csrf_token": _form_csrf(page.text), "next": "//evil.example/x"},
                    follow_redirects=False)
    assert r.headers["location"] == "/"


def test_https_uses_host_prefix_and_secure_cookie(make_client, pw) -> None:
    c = make_client(https=True)
    pre = c.get("/api/v1/auth/csrf").json()["csrf_token"]
    r = c.post("/api/v1/auth/login", json={"username": "leader", "password": pw("leader")},
               headers={"X-CSRF-Token": pre})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-anju_session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert "strict-transport-security" in c.get("/healthz").headers


def test_wrong_password_and_unknown_user_get_the_same_answer(client) -> None:
    pre = client.get("/api/v1/auth/csrf").json()["csrf_token"]
    a = client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong-password-123"},
                    headers={"X-CSRF-Token": pre})
    b = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password-123"},
                    headers={"X-CSRF-Token": pre})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_login_without_csrf_token_is_refused(client, pw) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": pw("admin")}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/api/v1/auth/login", json={"username": "admin", "password": pw("admin")})
    assert r.status_code == 403


def test_state_changing_calls_need_the_session_csrf_token(client) -> None:
    client.login_as("analyst")
    body = {"title": "测试通知", "body": "x", "area_level": "district"}
    assert client.post("/api/v1/notices", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    del client.headers["X-CSRF-Token"]
    assert client.post("/api/v1/notices", json=body).status_code == 403
    assert client.post("/api/v1/notices", json=body, headers={"X-CSRF-Token": client.csrf}).status_code == 201


def test_lockout_after_repeated_failures_even_with_the_right_password(make_client, pw) -> None:
    c = make_client(config=WebConfig(max_failed_logins=3, lockout_minutes=15))
    pre = c.get("/api/v1/auth/csrf").json()["csrf_token"]
    for _ in range(3):
        r = c.post("/api/v1/auth/login", json={"username": "station", "password": "not-the-password"},
                   headers={"X-CSRF-Token": pre})
    assert r.json()["error"] == "locked"
    r = c.post("/api/v1/auth/login", json={"username": "station", "password": pw("station")},
               headers={"X-CSRF-Token": pre})
    assert r.status_code == 401 and r.json()["error"] == "locked"
    with Session(c.app.state.anju.engine) as s:
        user = s.scalar(select(User).where(User.username == "station"))
        assert user.locked_until is not None and user.locked_until > utcnow()
        assert s.scalar(select(LoginAttempt).where(LoginAttempt.username == "station",
                                                   LoginAttempt.ok.is_(True))) is None


def test_rate_limit_per_address(make_client, pw) -> None:
    c = make_client(config=WebConfig(ip_attempts=4, max_failed_logins=100))
    pre = c.get("/api/v1/auth/csrf").json()["csrf_token"]
    codes = [c.post("/api/v1/auth/login", json={"username": f"u{i}", "password": "x" * 12},
                    headers={"X-CSRF-Token": pre}).status_code for i in range(6)]
    assert codes[:4] == [401] * 4 and codes[4:] == [429, 429]
    r = c.post("/api/v1/auth/login", json={"username": "admin", "password": pw("admin")},
               headers={"X-CSRF-Token": pre})
    assert r.status_code == 429


def test_logout_invalidates_the_session_everywhere(client) -> None:
    client.login_as("leader")
    token = client.cookies.get("anju_session")
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 200
    client.cookies.set("anju_session", token)  # replaying the old cookie does not work
    assert client.get("/api/v1/auth/me").status_code == 401
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_idle_and_absolute_timeouts(client) -> None:
    client.login_as("leader")
    engine = client.app.state.anju.engine
    assert client.get("/api/v1/auth/me").status_code == 200
    with Session(engine) as s:
        s.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
        s.commit()
    assert client.get("/api/v1/auth/me").status_code == 401
    client.login_as("leader")
    with Session(engine) as s:
        s.execute(update(WebSession).where(WebSession.revoked_at.is_(None))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_disabling_a_user_ends_their_sessions(make_client) -> None:
    admin, station = make_client().login_as("admin"), make_client().login_as("station")
    assert station.get("/api/v1/auth/me").status_code == 200
    sid = station.get("/api/v1/auth/me").json()["id"]
    assert admin.post(f"/api/v1/users/{sid}/disable").status_code == 200
    assert station.get("/api/v1/auth/me").status_code == 401


def test_security_headers_on_pages_and_api(client) -> None:
    for path in ("/login", "/healthz", "/api/v1/openapi.json"):
        h = client.get(path).headers
        assert h["content-security-policy"] == CSP
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
        assert "no-store" in h["cache-control"]
    script_src = next(d for d in CSP.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in CSP


def test_pages_have_no_inline_scripts(client) -> None:
    client.login_as("admin")
    for path in ("/", "/login", "/communities", "/rankings", "/notices", "/tasks", "/users", "/audit"):
        html = client.get(path).text
        for m in re.finditer(r"<script([^>]*)>(.*?)</script>", html, re.S):
            attrs, body = m.group(1), m.group(2).strip()
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs, body[:80])
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), f"inline event handler on {path}"
