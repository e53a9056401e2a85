"""``/healthz`` (ready when the database answers) and the offline Swagger UI of the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

from anju.web.deps import app_state

router = APIRouter(tags=["health"])


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers; says whether the lake has data and whether its numbers are cached."""
    state = app_state(request)
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the probe must answer, whatever broke
        return JSONResponse({"ok": False, "database": str(exc)[:200]}, status_code=503)
    key = state.lake.data_key()
    return JSONResponse({"ok": True, "database": "ok", "lake": "empty" if key is None else "ok",
                         "lake_builds": state.lake.builds})


_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>anju API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>"""


@router.get("/api/v1/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI from the npm package swagger-ui-dist, served by the app (no CDN, no inline script)."""
    return HTMLResponse(_DOCS)
