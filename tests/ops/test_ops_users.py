"""Managing users: only admins, never beyond the operator's scope, sessions end on deactivation (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError, OpsError
from anju.ops import users
from anju.ops.models import AuditEvent, User, WebSession, utcnow
from anju.ops.passwords import verify_password

from .conftest import World


def _session_for(s: Session, u: User, token: str) -> WebSession:
    ws = WebSession(token_hash=token * 64, user_id=u.id, expires_at=utcnow() + timedelta(hours=8))
    s.add(ws)
    s.flush()
    return ws


def test_create_and_manage(ops_session: Session, world: World) -> None:
    admin = world.users["admin"]
    u = users.create_user(ops_session, admin, username="xiao", display_name="小王", password="a-fine-password",
                          role="community_police", organisation_id=world.orgs["PS1"].id,
                          scopes=[("community", "C1")])
    assert verify_password("a-fine-password", u.password_hash)[0]
    ws = _session_for(ops_session, u, "a")
    users.update_user(ops_session, admin, u.id, scopes=[("community", "C1"), ("community", "C2")])
    assert sorted(s.area_code for s in u.scopes) == ["C1", "C2"]
    assert ws.revoked_at is not None  # a scope change ends the sessions
    ws2 = _session_for(ops_session, u, "b")
    users.set_active(ops_session, admin, u.id, False)
    assert not u.active and ws2.revoked_at is not None
    users.reset_password(ops_session, admin, u.id, "another-fine-password")
    assert verify_password("another-fine-password", u.password_hash)[0]
    actions = list(ops_session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions == ["user.create", "user.update", "user.deactivate", "user.password"]
    assert "fine-password" not in str(list(ops_session.scalars(select(AuditEvent.detail))))


def test_refusals(ops_session: Session, world: World) -> None:
    admin, station = world.users["admin"], world.users["station"]
    with pytest.raises(AccessDeniedError):  # no MANAGE_USERS
        users.create_user(ops_session, station, username="s2", display_name="s", password="a-fine-password",
                          role="station")
    with pytest.raises(OpsError, match="taken"):
        users.create_user(ops_session, admin, username="station", display_name="s", password="a-fine-password",
                          role="station")
    with pytest.raises(OpsError, match="too short"):
        users.create_user(ops_session, admin, username="new", display_name="s", password="short", role="station")
    with pytest.raises(OpsError, match="public"):
        users.create_user(ops_session, admin, username="new", display_name="s", password="a-fine-password",
                          role="public")
    with pytest.raises(AccessDeniedError):  # an area that does not exist cannot be granted
        users.create_user(ops_session, admin, username="new", display_name="s", password="a-fine-password",
                          role="station", scopes=[("station", "PS9")])
    with pytest.raises(OpsError, match="own account"):
        users.set_active(ops_session, admin, admin.id, False)
    with pytest.raises(AccessDeniedError):  # a user may change only their own password
        users.reset_password(ops_session, station, world.users["leader"].id, "a-fine-password")
    users.reset_password(ops_session, station, station.id, "my-own-new-password")
