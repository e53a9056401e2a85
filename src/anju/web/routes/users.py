"""Users and roles (admin): list (a view of personal data, audited), create, disable/enable, unlock, end sessions.

Disabling a user or ending their sessions revokes every open session at once (ASVS V7.4.2, V7.4.5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import DataNotFoundError, OpsError
from anju.ops import audit, passwords
from anju.ops.models import SCOPE_LEVELS, Organisation, User, UserScope
from anju.ops.roles import ROLE_LABELS, Role
from anju.web.auth import revoke_user_sessions
from anju.web.deps import DbSession, Viewer, client_ip, require
from anju.web.pages import render
from anju.web.schemas import UserIn, UserOut
from anju.web.tables import Col, Page, TableQuery, page_select, table_query

router = APIRouter(tags=["users"])
Admin = Annotated[Viewer, Depends(require("manage_users"))]
TQ = Annotated[TableQuery, Depends(table_query)]

COLS = (Col("username", "用户名", "User name", search=True), Col("display_name", "姓名", "Name", search=True),
        Col("role", "角色", "Role"), Col("active", "启用", "Active"))
_SORT = {"username": User.username, "display_name": User.display_name, "role": User.role, "id": User.id}


def _list(request: Request, session: Session, viewer: Viewer, tq: TableQuery) -> tuple[list[User], int]:
    rows, total = page_select(session, select(User), _SORT, [User.username, User.display_name], tq,
                              default_order=[User.id])
    audit.record(session, actor=viewer.user, action="users.view", target_type="user", target_id=None,
                 detail={"q": tq.q, "page": tq.page, "rows": len(rows)}, ip=client_ip(request))
    session.commit()
    return rows, total


def create_user(request: Request, session: Session, viewer: Viewer, body: UserIn) -> User:
    """Create a user with an argon2 hash, a known role and valid scope rows; audited (the password never is)."""
    try:
        Role(body.role)
    except ValueError:
        raise OpsError(f"unknown role {body.role!r}; expected one of {[r.value for r in Role]}") from None
    passwords.check_password_rule(body.password, username=body.username)
    if session.scalars(select(User).where(User.username == body.username)).first() is not None:
        raise OpsError(f"user name {body.username!r} is taken")
    if body.organisation_id is not None and session.get(Organisation, body.organisation_id) is None:
        raise OpsError(f"no organisation {body.organisation_id}")
    for level, _code in body.scopes:
        if level not in SCOPE_LEVELS:
            raise OpsError(f"scope level must be one of {list(SCOPE_LEVELS)}; got {level!r}")
    user = User(username=body.username, display_name=body.display_name,
                password_hash=passwords.hash_password(body.password), role=body.role,
                organisation_id=body.organisation_id, lang=body.lang, active=True)
    user.scopes = [UserScope(area_level=lv, area_code=c) for lv, c in body.scopes]
    session.add(user)
    session.flush()
    audit.record(session, actor=viewer.user, action="user.create", target_type="user", target_id=user.id,
                 detail={"username": user.username, "role": user.role, "organisation_id": user.organisation_id,
                         "scopes": [list(s) for s in body.scopes]}, ip=client_ip(request))
    session.commit()
    return user


def set_active(request: Request, session: Session, viewer: Viewer, user_id: int, active: bool) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise DataNotFoundError(f"no user {user_id}")
    if user.id == viewer.user.id and not active:
        raise OpsError("you cannot disable your own account")
    user.active = active
    if not active:
        user.locked_until = None
    revoked = revoke_user_sessions(session, user.id) if not active else 0
    audit.record(session, actor=viewer.user, action="user.enable" if active else "user.disable", target_type="user",
                 target_id=user.id, detail={"sessions_revoked": revoked}, ip=client_ip(request))
    session.commit()
    return user


@router.get("/users", include_in_schema=False)
def users_page(request: Request, session: DbSession, viewer: Admin, tq: TQ) -> Response:
    rows, total = _list(request, session, viewer, tq)
    orgs = session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.code)).all()
    return render(request, "users.html", {"users": rows, "page": Page([], total, tq), "cols": COLS,
                                          "roles": ROLE_LABELS, "orgs": orgs, "levels": SCOPE_LEVELS})


@router.post("/users", include_in_schema=False)
def user_form(request: Request, session: DbSession, viewer: Admin, username: Annotated[str, Form(max_length=64)],
              display_name: Annotated[str, Form(max_length=100)], password: Annotated[str, Form(max_length=256)],
              role: Annotated[str, Form(max_length=32)], organisation_id: Annotated[str, Form()] = "",
              scope_level: Annotated[str, Form(max_length=32)] = "",
              scope_code: Annotated[str, Form(max_length=64)] = "") -> Response:
    scopes = [(scope_level, scope_code.strip())] if scope_level and scope_code.strip() else []
    body = UserIn(username=username.strip(), display_name=display_name.strip(), password=password, role=role,
                  organisation_id=int(organisation_id) if organisation_id.strip().isdigit() else None, scopes=scopes,
                  lang="zh")
    create_user(request, session, viewer, body)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/active", include_in_schema=False)
def user_active_form(request: Request, session: DbSession, viewer: Admin, user_id: int,
                     active: Annotated[str, Form()] = "0") -> Response:
    set_active(request, session, viewer, user_id, active == "1")
    return RedirectResponse("/users", status_code=303)


@router.get("/api/v1/users")
def users_api(request: Request, session: DbSession, viewer: Admin, tq: TQ) -> dict[str, Any]:
    """Every user (admin only; each read is recorded in the audit log)."""
    rows, total = _list(request, session, viewer, tq)
    return {"data": [UserOut.model_validate(u).model_dump(mode="json") for u in rows], "count": total}


@router.post("/api/v1/users", response_model=UserOut, status_code=201)
def user_create_api(request: Request, session: DbSession, viewer: Admin, body: UserIn) -> UserOut:
    """Create a user (password ≥ 12 characters, stored as an argon2 hash)."""
    return UserOut.model_validate(create_user(request, session, viewer, body))


@router.post("/api/v1/users/{user_id}/disable", response_model=UserOut)
def user_disable_api(request: Request, session: DbSession, viewer: Admin, user_id: int) -> UserOut:
    """Disable a user and end all their sessions at once."""
    return UserOut.model_validate(set_active(request, session, viewer, user_id, False))
