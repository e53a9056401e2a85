"""Log in and out: the login page and form, and the JSON twins under ``/api/v1/auth``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from anju.web.auth import LoginFailed, LoginResult, login, logout
from anju.web.deps import DbSession, ViewerDep, app_state, client_ip, current_viewer
from anju.web.i18n import request_lang, translate
from anju.web.pages import render
from anju.web.schemas import LoginIn, MeOut
from anju.web.security import PRE_COOKIE, is_https, session_cookie_name

router = APIRouter(tags=["auth"])


def _safe_next(nxt: str | None) -> str:
    """Only a local path may follow login (no open redirect)."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        return "/"
    parts = urlsplit(nxt)
    return "/" if parts.scheme or parts.netloc else nxt


def _set_session_cookie(request: Request, response: Response, result: LoginResult) -> None:
    https = is_https(request)
    cfg = app_state(request).config
    response.set_cookie(session_cookie_name(https), result.token, max_age=cfg.absolute_hours * 3600, path="/",
                        httponly=True, secure=https, samesite="lax")
    response.delete_cookie(PRE_COOKIE, path="/")


def _clear_session_cookie(request: Request, response: Response) -> None:
    https = is_https(request)
    response.delete_cookie(session_cookie_name(https), path="/", secure=https, httponly=True, samesite="lax")


@router.get("/login", include_in_schema=False)
def login_page(request: Request, session: DbSession, next: str | None = None) -> Response:
    if current_viewer(request, session) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", include_in_schema=False)
def login_form(request: Request, session: DbSession, username: Annotated[str, Form(max_length=64)],
               password: Annotated[str, Form(max_length=256)], next: Annotated[str, Form()] = "/") -> Response:
    state = app_state(request)
    try:
        result = login(session, username, password, ip=client_ip(request),
                       user_agent=request.headers.get("user-agent"), config=state.config)
    except LoginFailed as exc:
        lang = request_lang(request, state.settings.lang)
        return render(request, "login.html", {"next": _safe_next(next), "error": translate(exc.reason, lang),
                                              "username": username},
                      status_code=429 if exc.reason == "too_many" else 401, viewer=None)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    _set_session_cookie(request, resp, result)
    return resp


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    logout(session, viewer.web_session, user=viewer.user, ip=client_ip(request))
    resp = RedirectResponse("/login", status_code=303)
    _clear_session_cookie(request, resp)
    return resp


@router.post("/api/v1/auth/login", response_model=MeOut)
def api_login(request: Request, session: DbSession, body: LoginIn) -> Response:
    """Open a session: sets the HttpOnly session cookie and returns the CSRF token to send as ``X-CSRF-Token``.

    Before login, the CSRF token is the one bound to the ``anju_pre`` cookie (GET ``/api/v1/auth/csrf``)."""
    state = app_state(request)
    try:
        result = login(session, body.username, body.password, ip=client_ip(request),
                       user_agent=request.headers.get("user-agent"), config=state.config)
    except LoginFailed as exc:
        status = 429 if exc.reason == "too_many" else 401
        return JSONResponse({"ok": False, "status": status, "error": exc.reason}, status_code=status)
    u = result.user
    out = MeOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role, lang=u.lang,
                csrf_token=result.web_session.csrf_token or "")
    resp = JSONResponse(out.model_dump())
    _set_session_cookie(request, resp, result)
    return resp


@router.get("/api/v1/auth/csrf")
def api_pre_csrf(request: Request) -> Response:
    """The pre-login CSRF token (and its ``anju_pre`` cookie) for ``POST /api/v1/auth/login``."""
    from anju.web.security import csrf_token, new_token

    pre = request.cookies.get(PRE_COOKIE) or new_token()
    resp = JSONResponse({"csrf_token": csrf_token(app_state(request).secret, pre)})
    resp.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=is_https(request), path="/")
    return resp


@router.get("/api/v1/auth/me", response_model=MeOut)
def api_me(viewer: ViewerDep) -> MeOut:
    u = viewer.user
    return MeOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role, lang=u.lang,
                 csrf_token=viewer.csrf)


@router.post("/api/v1/auth/logout")
def api_logout(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    logout(session, viewer.web_session, user=viewer.user, ip=client_ip(request))
    resp = JSONResponse({"ok": True})
    _clear_session_cookie(request, resp)
    return resp
