"""Users and roles (admin): list (a view of personal data, audited), create, edit role/organisation/scope,
disable/enable, reset a password.

The web only translates: every write goes through :mod:`anju.ops.users`, which checks the operator's permission
and scope (nobody grants a scope wider than their own), audits the change and ends the user's sessions when their
role, scope or password changes or the account is disabled (ASVS V7.4.2, V7.4.5)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import OpsError
from anju.ops import audit
from anju.ops import users as ops_users
from anju.ops.models import SCOPE_LEVELS, Organisation, User
from anju.ops.roles import ROLE_LABELS
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


class UserPatch(BaseModel):
    """A change of a user: only the fields given are changed; ``scopes`` replaces all scope rows."""

    display_name: str | None = Field(None, min_length=1, max_length=100)
    role: str | None = Field(None, max_length=32)
    organisation_id: int | None = None
    scopes: list[tuple[str, str]] | None = None
    active: bool | None = None


class PasswordIn(BaseModel):
    password: str = Field(min_length=12, max_length=256)


def parse_scopes(text: str) -> list[tuple[str, str]]:
    """Scope rows typed as ``level:code`` separated by spaces, commas or semicolons (the import's notation)."""
    out: list[tuple[str, str]] = []
    for part in re.split(r"[;；,，\s]+", text.strip()):
        if not part:
            continue
        level, sep, code = part.partition(":")
        if not sep or not code or level not in SCOPE_LEVELS:
            raise OpsError(f"scope {part!r} must be level:code with level one of {list(SCOPE_LEVELS)}")
        out.append((level, code))
    return out


def _list(request: Request, session: Session, viewer: Viewer, tq: TableQuery) -> tuple[list[User], int]:
    rows, total = page_select(session, select(User), _SORT, [User.username, User.display_name], tq,
                              default_order=[User.id])
    audit.record(session, actor=viewer.user, action="users.view", target_type="user", target_id=None,
                 detail={"q": tq.q, "page": tq.page, "rows": len(rows)}, ip=client_ip(request))
    session.commit()
    return rows, total


def create_user(request: Request, session: Session, viewer: Viewer, body: UserIn) -> User:
    """Create a user through :func:`anju.ops.users.create_user` (argon2 hash, role and scope checked, audited)."""
    user = ops_users.create_user(session, viewer.user, username=body.username, display_name=body.display_name,
                                 password=body.password, role=body.role, organisation_id=body.organisation_id,
                                 scopes=body.scopes, lang=body.lang, ip=client_ip(request))
    session.commit()
    return user


def change_user(request: Request, session: Session, viewer: Viewer, user_id: int, patch: UserPatch) -> User:
    """Apply a :class:`UserPatch` through the ops service (one transaction: all of it or nothing)."""
    ip = client_ip(request)
    user = ops_users.update_user(session, viewer.user, user_id, role=patch.role,
                                 organisation_id=patch.organisation_id, scopes=patch.scopes,
                                 display_name=patch.display_name, ip=ip)
    if patch.active is not None and patch.active != user.active:
        user = ops_users.set_active(session, viewer.user, user_id, patch.active, ip=ip)
    session.commit()
    return user


def _set_active(request: Request, session: Session, viewer: Viewer, user_id: int, active: bool) -> User:
    user = ops_users.set_active(session, viewer.user, user_id, active, ip=client_ip(request))
    session.commit()
    return user


def _reset(request: Request, session: Session, viewer: Viewer, user_id: int, password: str) -> User:
    user = ops_users.reset_password(session, viewer.user, user_id, password, ip=client_ip(request))
    session.commit()
    return user


def _org_id(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


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
              scopes: Annotated[str, Form(max_length=2000)] = "") -> Response:
    body = UserIn(username=username.strip(), display_name=display_name.strip(), password=password, role=role,
                  organisation_id=_org_id(organisation_id), scopes=parse_scopes(scopes), lang="zh")
    create_user(request, session, viewer, body)
    return RedirectResponse("/users", status_code=303)


@router.get("/users/{user_id}", include_in_schema=False)
def user_edit_page(request: Request, session: DbSession, viewer: Admin, user_id: int) -> Response:
    user = session.get(User, user_id)
    if user is None:
        from anju.errors import DataNotFoundError

        raise DataNotFoundError(f"no user {user_id}")
    audit.record(session, actor=viewer.user, action="users.view", target_type="user", target_id=user.id,
                 ip=client_ip(request))
    session.commit()
    orgs = session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.code)).all()
    scopes = " ".join(f"{s.area_level}:{s.area_code}" for s in sorted(user.scopes, key=lambda s: (s.area_level,
                                                                                                   s.area_code)))
    return render(request, "user_edit.html", {"u": user, "roles": ROLE_LABELS, "orgs": orgs, "scopes": scopes,
                                              "levels": SCOPE_LEVELS})


@router.post("/users/{user_id}", include_in_schema=False)
def user_edit_form(request: Request, session: DbSession, viewer: Admin, user_id: int,
                   display_name: Annotated[str, Form(max_length=100)], role: Annotated[str, Form(max_length=32)],
                   organisation_id: Annotated[str, Form()] = "",
                   scopes: Annotated[str, Form(max_length=2000)] = "") -> Response:
    patch = UserPatch(display_name=display_name.strip() or None, role=role,
                      organisation_id=_org_id(organisation_id), scopes=parse_scopes(scopes))
    change_user(request, session, viewer, user_id, patch)
    return RedirectResponse(f"/users/{user_id}?saved=1", status_code=303)


@router.post("/users/{user_id}/password", include_in_schema=False)
def user_password_form(request: Request, session: DbSession, viewer: Admin, user_id: int,
                       password: Annotated[str, Form(max_length=256)]) -> Response:
    _reset(request, session, viewer, user_id, password)
    return RedirectResponse(f"/users/{user_id}?saved=1", status_code=303)


@router.post("/users/{user_id}/active", include_in_schema=False)
def user_active_form(request: Request, session: DbSession, viewer: Admin, user_id: int,
                     active: Annotated[str, Form()] = "0") -> Response:
    _set_active(request, session, viewer, user_id, active == "1")
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


@router.patch("/api/v1/users/{user_id}", response_model=UserOut)
def user_update_api(request: Request, session: DbSession, viewer: Admin, user_id: int, body: UserPatch) -> UserOut:
    """Change a user's name, role, organisation, scope rows or active flag; a change of role or scope, or
    disabling, ends all their sessions."""
    return UserOut.model_validate(change_user(request, session, viewer, user_id, body))


@router.post("/api/v1/users/{user_id}/password", response_model=UserOut)
def user_password_api(request: Request, session: DbSession, viewer: Admin, user_id: int,
                      body: PasswordIn) -> UserOut:
    """Reset a user's password (the password rule applies); unlocks the account and ends its sessions."""
    return UserOut.model_validate(_reset(request, session, viewer, user_id, body.password))


@router.post("/api/v1/users/{user_id}/disable", response_model=UserOut)
def user_disable_api(request: Request, session: DbSession, viewer: Admin, user_id: int) -> UserOut:
    """Disable a user and end all their sessions at once."""
    return UserOut.model_validate(_set_active(request, session, viewer, user_id, False))


@router.post("/api/v1/users/{user_id}/enable", response_model=UserOut)
def user_enable_api(request: Request, session: DbSession, viewer: Admin, user_id: int) -> UserOut:
    """Enable a disabled user (clears a lockout)."""
    return UserOut.model_validate(_set_active(request, session, viewer, user_id, True))
