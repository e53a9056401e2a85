"""Server-rendered pages: the Jinja2 environment (autoescaping on) and the one ``render`` helper.

Every page gets the language, the viewer, the CSRF token (also put on ``<body hx-headers>`` for htmx) and the
navigation the viewer's role may use. Templates never mark user text ``|safe``; data for charts goes into
``<script type="application/json">`` blocks through ``|tojson`` (which escapes ``<``, ``>`` and ``&``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from anju.release.model import format_value
from anju.web.i18n import LANG_COOKIE, request_lang, translate
from anju.web.security import PRE_COOKIE, csrf_token, is_https, new_token

__all__ = ["NAV", "TEMPLATE_DIR", "make_templates", "render"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

NAV: tuple[tuple[str, str, str], ...] = (
    ("overview", "/", "read_analytics"),
    ("rankings", "/rankings", "read_analytics"),
    ("communities", "/communities", "read_communities"),
    ("releases", "/releases", "read_releases"),
    ("imports", "/imports", "run_imports"),
    ("duty", "/duty", "read_analytics"),
    ("supervision", "/supervision", "read_communities"),
    ("assessment", "/assessment", "assess"),
    ("assessment_inputs", "/assessment/inputs", "write_profiles"),
    ("notices", "/notices", "login"),
    ("tasks", "/tasks", "login"),
    ("orders", "/orders", "login"),
    ("siting", "/resident/siting", "run_imports"),
    ("users", "/users", "manage_users"),
    ("audit", "/audit", "read_audit"),
)
"""(text key, path, permission) of the navigation bar, shown only to roles holding the permission."""


def _fmt(v: Any, kind: str = "float", digits: int | None = None, lang: str = "zh") -> str:
    from anju.release.model import Column

    return format_value(v, Column("x", "x", kind=kind, digits=digits), lang)  # type: ignore[arg-type]


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    templates.env.autoescape = True
    templates.env.filters["fmt"] = _fmt
    templates.env.globals["format_value"] = format_value
    return templates


def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200,
           viewer: Any = None) -> HTMLResponse:
    """Render a page with the common context; sets the language cookie when ``?lang=`` was given."""
    state = request.app.state.anju
    viewer = viewer if viewer is not None else getattr(request.state, "viewer", None)
    default = viewer.user.lang if viewer is not None and viewer.user.lang else state.settings.lang
    lang = request_lang(request, default)
    pre = None
    if viewer is not None:
        csrf = viewer.csrf
    else:
        pre = request.cookies.get(PRE_COOKIE) or new_token()
        csrf = csrf_token(state.secret, pre)

    def t(key: str, **kw: Any) -> str:
        return translate(key, lang, **kw)

    nav = [(t(k), path) for k, path, perm in NAV if viewer is not None and viewer.can(perm)]
    ctx = {"request": request, "lang": lang, "t": t, "viewer": viewer, "csrf": csrf, "nav": nav,
           "path": request.url.path, "query": dict(request.query_params), **context}
    resp = state.templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax",
                        secure=is_https(request))
    if pre is not None and pre != request.cookies.get(PRE_COOKIE):
        resp.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=is_https(request), path="/")
    return resp  # type: ignore[no-any-return]
