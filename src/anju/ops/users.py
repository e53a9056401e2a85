"""Managing users: create, change role/organisation/scope, (de)activate, reset a password, end sessions.

Only a role with :attr:`~anju.ops.roles.Permission.MANAGE_USERS` may call these, and an operator can never grant a
scope wider than their own (the flaw of RuoYi's CVE-2026-37669, where role data-scope assignment was not checked
against the operator's scope). Deactivating a user, changing their role or scope, or resetting their password ends
all their sessions (ASVS 7.4). Every change is audited; passwords never reach the log.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError, OpsError
from anju.ops import audit
from anju.ops.models import SCOPE_LEVELS, Organisation, User, UserScope, WebSession, utcnow
from anju.ops.passwords import check_password_rule, hash_password
from anju.ops.roles import DISTRICT_WIDE, Permission, Role, require
from anju.ops.scope import is_district_wide, require_area_in_scope

__all__ = ["create_user", "reset_password", "revoke_sessions", "set_active", "update_user"]


def _check_scopes(session: Session, operator: User, scopes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = sorted(set(scopes))
    for level, code in out:
        if level not in SCOPE_LEVELS:
            raise OpsError(f"scope level {level!r} unknown; expected one of {list(SCOPE_LEVELS)}")
        if level == "district" and not is_district_wide(operator):
            raise AccessDeniedError("only a district-wide operator may grant a district scope")
        if level != "district":
            require_area_in_scope(session, operator, level, code)
    return out


def _check_role(operator: User, role: str) -> str:
    try:
        r = Role(role)
    except ValueError:
        raise OpsError(f"role {role!r} unknown; expected one of {[x.value for x in Role if x is not Role.PUBLIC]}"
                       ) from None
    if r is Role.PUBLIC:
        raise OpsError("'public' is the visitor without a login; it cannot be given to a user")
    if r is Role.ADMIN and operator.role != Role.ADMIN.value:
        raise AccessDeniedError("only an administrator may create administrators")
    if r in DISTRICT_WIDE and not is_district_wide(operator):
        raise AccessDeniedError(f"role {r.value!r} sees the whole district; only a district-wide operator may "
                                "grant it")
    return r.value


def revoke_sessions(session: Session, user_id: int) -> int:
    """End every open session of a user; returns how many were open."""
    now = utcnow()
    open_ = session.scalars(select(WebSession).where(WebSession.user_id == user_id,
                                                     WebSession.revoked_at.is_(None))).all()
    for ws in open_:
        ws.revoked_at = now
    return len(open_)


def create_user(session: Session, operator: User, *, username: str, display_name: str, password: str, role: str,
                organisation_id: int | None = None, scopes: Iterable[tuple[str, str]] = (), lang: str = "zh",
                ip: str | None = None) -> User:
    """Create a user (the caller commits)."""
    require(operator.role, Permission.MANAGE_USERS)
    username = username.strip()
    if not username or len(username) > 64:
        raise OpsError("username must be 1–64 characters")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise OpsError(f"username {username!r} is taken")
    check_password_rule(password, username=username)
    role = _check_role(operator, role)
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise OpsError(f"organisation {organisation_id} does not exist")
    rows = _check_scopes(session, operator, scopes)
    user = User(username=username, display_name=display_name.strip() or username, role=role, lang=lang,
                password_hash=hash_password(password), organisation_id=organisation_id, active=True,
                password_changed_at=utcnow())
    user.scopes = [UserScope(area_level=lv, area_code=cd) for lv, cd in rows]
    session.add(user)
    session.flush()
    audit.record(session, actor=operator, action="user.create", target_type="user", target_id=user.id,
                 detail={"username": username, "role": role, "organisation_id": organisation_id,
                         "scopes": [f"{lv}:{cd}" for lv, cd in rows]}, ip=ip)
    return user


def update_user(session: Session, operator: User, user_id: int, *, role: str | None = None,
                organisation_id: int | None = None, scopes: Iterable[tuple[str, str]] | None = None,
                display_name: str | None = None, ip: str | None = None) -> User:
    """Change a user's role, organisation, scope or name; a change of role or scope ends their sessions."""
    require(operator.role, Permission.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise OpsError(f"user {user_id} does not exist")
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        changes["role"] = [user.role, _check_role(operator, role)]
        user.role = role
    if organisation_id is not None and organisation_id != user.organisation_id:
        if session.get(Organisation, organisation_id) is None:
            raise OpsError(f"organisation {organisation_id} does not exist")
        changes["organisation_id"] = [user.organisation_id, organisation_id]
        user.organisation_id = organisation_id
    if display_name is not None and display_name.strip() and display_name != user.display_name:
        changes["display_name"] = True
        user.display_name = display_name.strip()
    if scopes is not None:
        new = _check_scopes(session, operator, scopes)
        have = {(s.area_level, s.area_code): s for s in user.scopes}
        if set(have) != set(new):
            for key, row in have.items():
                if key not in new:
                    user.scopes.remove(row)
            user.scopes.extend(UserScope(area_level=lv, area_code=cd) for lv, cd in new if (lv, cd) not in have)
            changes["scopes"] = [f"{lv}:{cd}" for lv, cd in new]
    if not changes:
        return user
    ended = revoke_sessions(session, user.id) if {"role", "scopes", "organisation_id"} & set(changes) else 0
    session.flush()
    audit.record(session, actor=operator, action="user.update", target_type="user", target_id=user.id,
                 detail={"changes": changes, "sessions_ended": ended}, ip=ip)
    return user


def set_active(session: Session, operator: User, user_id: int, active: bool, *, ip: str | None = None) -> User:
    """Activate or deactivate a user; deactivating ends their sessions. Operators cannot deactivate themselves."""
    require(operator.role, Permission.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise OpsError(f"user {user_id} does not exist")
    if user.id == operator.id and not active:
        raise OpsError("you cannot deactivate your own account")
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    ended = 0 if active else revoke_sessions(session, user.id)
    session.flush()
    audit.record(session, actor=operator, action="user.activate" if active else "user.deactivate",
                 target_type="user", target_id=user.id, detail={"sessions_ended": ended}, ip=ip)
    return user


def reset_password(session: Session, operator: User, user_id: int, new_password: str, *,
                   ip: str | None = None) -> User:
    """Set a new password (an admin reset, or the user's own change), unlock the account and end its sessions."""
    user = session.get(User, user_id)
    if user is None:
        raise OpsError(f"user {user_id} does not exist")
    if operator.id != user.id:
        require(operator.role, Permission.MANAGE_USERS)
    check_password_rule(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.failed_logins, user.locked_until = 0, None
    ended = revoke_sessions(session, user.id)
    session.flush()
    audit.record(session, actor=operator, action="user.password", target_type="user", target_id=user.id,
                 detail={"by_self": operator.id == user.id, "sessions_ended": ended}, ip=ip)
    return user
