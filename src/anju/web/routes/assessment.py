"""Monthly assessment archive: the bulletins built so far (《小区治安月通报》 .docx and tables .xlsx) to download.

The bulletin is a district-wide document: only district-wide roles (leader, analyst, evaluator, administrator)
open it; downloads are audited. Bulletins are built with ``anju assess --month`` or, from this page, by the evaluator
role as a ``bulletin`` job that the worker runs (never in the web process); its progress is shown until the files
are ready to download."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from anju.assess.archive import archive_dir, archived
from anju.ops import audit
from anju.ops.models import Job
from anju.web.deps import DbSession, Forbidden, Viewer, ViewerDep, client_ip
from anju.web.pages import render
from anju.web.routes.jobs import queue_job
from anju.web.schemas import JobOut

router = APIRouter(tags=["assessment"])
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _check(viewer: Any) -> None:
    if not viewer.whole_district:
        raise Forbidden("the monthly bulletin covers the whole district; your role sees only part of it")


def _last_month() -> str:
    import datetime as dt

    first = dt.date.today().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


@router.get("/assessment", include_in_schema=False)
def archive_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    _check(viewer)
    jobs = session.scalars(select(Job).where(Job.kind == "bulletin").order_by(Job.id.desc()).limit(10)).all() \
        if viewer.can("assess") else []
    return render(request, "assessment.html", {"bulletins": archived(request.app.state.anju.settings),
                                               "jobs": jobs, "can_build": viewer.can("assess"),
                                               "default_month": _last_month()})


def _queue_bulletin(request: Request, session: DbSession, viewer: Viewer, month: str) -> Job:
    _check(viewer)
    if not viewer.can("assess"):
        raise Forbidden(f"role {viewer.role!r} may not build the assessment bulletin")
    if not _MONTH.match(month.strip()):
        from anju.errors import AnjuError

        raise AnjuError(f"the month must be written YYYY-MM (e.g. 2025-11); got {month!r}")
    return queue_job(request, session, viewer, "bulletin", {"month": month.strip()})


@router.post("/assessment/build", include_in_schema=False)
def build_form(request: Request, session: DbSession, viewer: ViewerDep,
               month: Annotated[str, Form(max_length=7)]) -> Response:
    job = _queue_bulletin(request, session, viewer, month)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/api/v1/assessment/bulletins", response_model=JobOut, status_code=202)
def build_api(request: Request, session: DbSession, viewer: ViewerDep, month: str) -> JobOut:
    """Queue the build of 《小区治安月通报》 for ``month`` (YYYY-MM); poll ``/api/v1/jobs/{id}``, then download from
    ``/assessment/{month}/docx`` or ``xlsx``."""
    return JobOut.model_validate(_queue_bulletin(request, session, viewer, month))


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
