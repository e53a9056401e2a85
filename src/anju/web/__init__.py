"""The web platform: FastAPI app with server-rendered pages (Jinja2 + htmx) and a REST API under ``/api/v1``.

``create_app(settings)`` builds it; ``anju serve`` runs it. The layout follows FastAPI's full-stack template: one
router per resource (:mod:`anju.web.routes`), dependencies for the database session, the lake view and the current
user (:mod:`anju.web.deps`), pydantic schemas at the edge (:mod:`anju.web.schemas`). Numbers come from the release
(:mod:`anju.web.lake_view`); records, scope, permissions and the audit log from :mod:`anju.ops`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from anju.web.app import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from anju.web.app import create_app

        return create_app
    raise AttributeError(name)
