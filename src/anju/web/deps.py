"""FastAPI dependencies: the app state, a database session, the lake view, the current user and their scope.

Permissions are dependencies (``Depends(require("write_notices"))``), not code copied into each route. An
unauthenticated page request is sent to the login page; an API call gets 401 with the one error body.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from anju.config import Settings
from anju.ops import roles
from anju.ops.models import User, WebSession, utcnow
from anju.ops.scope import allowed_community_codes
from anju.web.i18n import request_lang
from anju.web.lake_view import LakeView
from anju.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    PRE_COOKIE,
    WebConfig,
    csrf_matches,
    is_https,
    session_cookie_name,
    token_hash,
)

__all__ = ["AppState", "DbSession", "Forbidden", "LoginRequired", "Viewer", "ViewerDep", "app_state", "client_ip",
           "current_viewer", "db_session", "require", "require_user"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """No valid session: pages redirect to the login page, the API answers 401."""


class Forbidden(Exception):
    """The user is logged in but their role or scope does not allow this (403)."""

    def __init__(self, message: str = "forbidden") -> None:
        super().__init__(message)


class CsrfFailed(Exception):
    """A state-changing request without the right CSRF token (403)."""


@dataclass
class AppState:
    """Everything the app holds for its lifetime (no module-level singletons: tests run many apps side by side)."""

    settings: Settings
    config: WebConfig
    engine: Engine
    sessions: sessionmaker[Session]
    lake: LakeView
    secret: bytes
    templates: Any


@dataclass
class Viewer:
    """Who is asking: the user, their web session, role, visible community codes (None = whole district)."""

    user: User
    web_session: WebSession
    role: str
    communities: frozenset[str] | None
    csrf: str

    def can(self, permission: str) -> bool:
        """Whether the role grants ``permission`` (a :class:`~anju.ops.roles.Permission` value); ``login`` is
        every signed-in role."""
        if permission == "login":
            return True
        try:
            return roles.has_permission(self.role, roles.Permission(permission))
        except ValueError:
            return False

    @property
    def whole_district(self) -> bool:
        return self.communities is None


def app_state(request: Request) -> AppState:
    return request.app.state.anju  # type: ignore[no-any-return]


def db_session(request: Request) -> Iterator[Session]:
    """A session per request; routes commit their writes themselves, anything else is rolled back."""
    with app_state(request).sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _lookup(request: Request, session: Session) -> Viewer | None:
    state = app_state(request)
    token = request.cookies.get(session_cookie_name(is_https(request)))
    if not token:
        return None
    ws = session.scalars(select(WebSession).where(WebSession.token_hash == token_hash(token))).first()
    if ws is None or ws.revoked_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=state.config.idle_minutes)
    if ws.expires_at <= now or ws.last_seen_at + idle <= now:
        return None
    user = ws.user
    if user is None or not user.active:
        return None
    if (now - ws.last_seen_at).total_seconds() > 30:  # at most one write per 30 s per session
        ws.last_seen_at = now
        session.commit()
    communities = _scope(session, user)
    return Viewer(user=user, web_session=ws, role=user.role, communities=communities, csrf=ws.csrf_token or "")


_SCOPE_TTL_S = 60.0
_scope_cache: dict[tuple[Any, ...], tuple[float, frozenset[str] | None]] = {}


def _scope(session: Session, user: User) -> frozenset[str] | None:
    """The user's visible community codes, reused for up to a minute while the user's role, organisation and
    scope rows are unchanged (they are part of the key, so an admin's change applies at once; a newly imported
    community appears within the minute)."""
    import time

    key = (id(session.get_bind()), user.id, user.role, user.organisation_id, user.active,
           tuple(sorted((s.area_level, s.area_code) for s in user.scopes)))
    now = time.monotonic()
    hit = _scope_cache.get(key)
    if hit is not None and now - hit[0] < _SCOPE_TTL_S:
        return hit[1]
    codes = allowed_community_codes(session, user)
    if len(_scope_cache) > 10_000:
        _scope_cache.clear()
    _scope_cache[key] = (now, codes)
    return codes


def current_viewer(request: Request, session: DbSession) -> Viewer | None:
    """The logged-in viewer, or None (no cookie, expired, revoked, disabled user)."""
    if hasattr(request.state, "viewer"):
        cached: Viewer | None = request.state.viewer
        return cached
    viewer = _lookup(request, session)
    request.state.viewer = viewer
    return viewer


async def check_csrf(request: Request, session: DbSession) -> None:
    """App-wide dependency: a state-changing request must carry the CSRF token of its session (or pre-session)."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    viewer = current_viewer(request, session)
    if viewer is not None:
        if viewer.csrf and given is not None and hmac.compare_digest(viewer.csrf, given):
            return
        raise CsrfFailed()
    pre = request.cookies.get(PRE_COOKIE)
    if csrf_matches(app_state(request).secret, pre, given):
        return
    raise CsrfFailed()


def require_user(request: Request, session: DbSession) -> Viewer:
    viewer = current_viewer(request, session)
    if viewer is None:
        raise LoginRequired()
    request.state.lang = request_lang(request, viewer.user.lang or app_state(request).settings.lang)
    return viewer


ViewerDep = Annotated[Viewer, Depends(require_user)]


def require(permission: str) -> Callable[..., Viewer]:
    """A dependency that lets only roles holding ``permission`` through (403 otherwise)."""

    def dep(viewer: ViewerDep) -> Viewer:
        if not viewer.can(permission):
            raise Forbidden(f"role {viewer.role!r} lacks permission {permission!r}")
        return viewer

    dep.__name__ = f"require_{permission}"
    return dep
