"""Monthly assessment archive: the bulletins built so far (《小区治安月通报》 .docx and tables .xlsx) to download.

The bulletin is a district-wide document: only district-wide roles (leader, analyst, evaluator, administrator)
open it; downloads are audited. Bulletins are built with ``anju assess --month`` (a long job, never in the web
process)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from anju.assess.archive import archive_dir, archived
from anju.ops import audit
from anju.web.deps import DbSession, Forbidden, ViewerDep, client_ip
from anju.web.pages import render

router = APIRouter(tags=["assessment"])
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _check(viewer: Any) -> None:
    if not viewer.whole_district:
        raise Forbidden("the monthly bulletin covers the whole district; your role sees only part of it")


@router.get("/assessment", include_in_schema=False)
def archive_page(request: Request, viewer: ViewerDep) -> Response:
    _check(viewer)
    return render(request, "assessment.html", {"bulletins": archived(request.app.state.anju.settings)})


@router.get("/api/v1/assessment/bulletins")
def archive_api(request: Request, viewer: ViewerDep) -> dict[str, Any]:
    """Summaries of the archived monthly bulletins, newest first."""
    _check(viewer)
    rows = archived(request.app.state.anju.settings)
    return {"data": rows, "count": len(rows)}


@router.get("/assessment/{month}/{kind}", include_in_schema=False)
def download(request: Request, session: DbSession, viewer: ViewerDep, month: str, kind: str) -> Response:
    _check(viewer)
    if not _MONTH.match(month) or kind not in ("docx", "xlsx"):
        raise Forbidden("unknown bulletin file")
    folder = archive_dir(request.app.state.anju.settings) / month
    files = sorted(folder.glob(f"*.{kind}")) if folder.is_dir() else []
    if not files:
        from anju.errors import DataNotFoundError

        raise DataNotFoundError(f"no bulletin for {month}; build it with `anju assess --month {month}`")
    audit.record(session, actor=viewer.user, action="assessment.export", target_type="bulletin",
                 target_id=f"{month}.{kind}", ip=client_ip(request))
    session.commit()
    return FileResponse(files[0], filename=files[0].name)
