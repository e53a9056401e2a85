"""The web platform's application factory: ``create_app(settings)``.

Builds the app state (database engine, lake view, templates), mounts the static files (front-end libraries copied
from npm at install time, never a CDN), adds the security headers, CSRF check and error handlers, and includes one
router per resource. The REST API lives under ``/api/v1`` with its OpenAPI document at ``/api/v1/openapi.json``;
pages are rendered on the server (Jinja2 + htmx).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from anju.config import Settings, deployment_secret
from anju.errors import AccessDeniedError, AnjuError, DataNotFoundError
from anju.ops import db
from anju.web.deps import AppState, CsrfFailed, Forbidden, LoginRequired, check_csrf
from anju.web.lake_view import LakeView
from anju.web.pages import make_templates, render
from anju.web.security import SecurityHeaders, WebConfig

__all__ = ["STATIC_DIR", "app_from_env", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, *, config: WebConfig | None = None, database_url: str | None = None,
               upgrade: bool = True, lake: LakeView | None = None) -> FastAPI:
    """The FastAPI app of one deployment.

    Parameters
    ----------
    settings : the deployment settings (data directory with the lake; ``database_url`` for the ops database).
    config : web limits (timeouts, lockout, upload size); defaults in :class:`~anju.web.security.WebConfig`.
    database_url : overrides the ops database URL (tests pass a PostgreSQL URL here).
    upgrade : bring the database schema to the latest migration first (Alembic).
    lake : a :class:`LakeView` to share (tests share one across apps; default a new one on ``settings``).
    """
    from anju.web import routes
    from anju.web.open311 import create_open311_app

    url = database_url or db.database_url(settings)
    if upgrade:
        db.upgrade_to_head(url)
    engine = db.make_engine(url)
    state = AppState(settings=settings, config=config or WebConfig(), engine=engine,
                     sessions=db.session_factory(engine), lake=lake or LakeView(settings),
                     secret=deployment_secret(settings), templates=make_templates())
    app = FastAPI(
        title="anju 安居",
        version="1",
        description="社区平安数据平台接口 / community safety platform API. Authenticate with the session cookie "
                    "(POST /api/v1/auth/login) and send the X-CSRF-Token header on every state-changing call.",
        docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(check_csrf)],
    )
    app.state.anju = state
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Open311 GeoReport v2 (resident services) before the routers: its public POST is the busiest path, and a mount
    # matched first skips trying every page route (~3 ms per request with the routers' ~200 routes in front)
    app.mount("/open311/v2", create_open311_app(app))
    for router in routes.ROUTERS:
        app.include_router(router)
    _error_handlers(app)
    return app


def app_from_env() -> FastAPI:
    """The app of the deployment named by the ``ANJU_*`` environment (for ``uvicorn --factory`` with several worker
    processes, which ``anju serve --workers N`` starts; the schema is already upgraded by then)."""
    import threading

    from anju.config import load_settings
    from anju.web.heap import freeze_loaded, freeze_startup_heap

    settings = load_settings()
    app = create_app(settings, upgrade=False)
    freeze_startup_heap()  # a serving process: keep full garbage collections short (anju.web.heap)

    def warm() -> None:
        app.state.anju.lake.warm(settings.lang)
        freeze_loaded()

    threading.Thread(target=warm, daemon=True).start()
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_body(status: int, message: str) -> dict[str, Any]:
    """The one error body of the API: ``{"ok": false, "status": ..., "error": ...}``."""
    return {"ok": False, "status": status, "error": message}


def _error(request: Request, status: int, key: str, message: str) -> Response:
    if _is_api(request):
        return JSONResponse(error_body(status, message), status_code=status)
    return render(request, "error.html", {"status": status, "key": key, "message": message}, status_code=status)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request) or request.headers.get("HX-Request"):
            return JSONResponse(error_body(401, "login required"), status_code=401)
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(nxt, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, "forbidden", str(exc))

    @app.exception_handler(AccessDeniedError)
    async def _denied(request: Request, exc: AccessDeniedError) -> Response:
        return _error(request, 403, "forbidden", str(exc))

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return _error(request, 403, "forbidden", "CSRF token missing or wrong; reload the page and try again")

    @app.exception_handler(DataNotFoundError)
    async def _missing(request: Request, exc: DataNotFoundError) -> Response:
        return _error(request, 404, "not_found", str(exc))

    @app.exception_handler(AnjuError)
    async def _anju(request: Request, exc: AnjuError) -> Response:
        return _error(request, 400, "error", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, "error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _error(request, 422, "error", f"{where}: {first.get('msg', 'invalid input')}")
