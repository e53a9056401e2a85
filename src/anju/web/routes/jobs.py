"""Background jobs (release builds, ingests): status pages that htmx polls, and the JSON twin.

The web process only queues a :class:`~anju.ops.models.Job` row; a worker process claims and runs it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from anju.errors import DataNotFoundError
from anju.ops.models import Job
from anju.web.deps import DbSession, Forbidden, Viewer, ViewerDep, client_ip
from anju.web.pages import render
from anju.web.schemas import JobOut

router = APIRouter(tags=["jobs"])

JOB_PERMISSION = {"release": "build_releases", "ingest": "run_imports", "bulletin": "assess"}
"""Who may queue (and watch) each kind of job."""


def queue_job(request: Request, session: Session, viewer: Viewer, kind: str, params: dict[str, Any]) -> Job:
    """Queue a job for the worker through :func:`anju.worker.jobs.enqueue` (parameters checked now, request
    audited); the caller has checked the permission."""
    from anju.worker.jobs import enqueue

    job = enqueue(session, kind, params, created_by=viewer.user, ip=client_ip(request))
    session.commit()
    return job


def visible_job(session: Session, viewer: Viewer, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise DataNotFoundError(f"no job {job_id}")
    perm = JOB_PERMISSION.get(job.kind, "admin")
    if job.created_by != viewer.user.id and not viewer.can(perm):
        raise Forbidden(f"job {job_id} is not yours")
    return job


@router.get("/jobs/{job_id}", include_in_schema=False)
def job_page(request: Request, session: DbSession, viewer: ViewerDep, job_id: int) -> Response:
    job = visible_job(session, viewer, job_id)
    partial = request.headers.get("HX-Request") == "true"
    return render(request, "_job.html" if partial else "job.html", {"job": job})


@router.get("/api/v1/jobs/{job_id}", response_model=JobOut)
def job_api(session: DbSession, viewer: ViewerDep, job_id: int) -> JobOut:
    """A job's status, progress (0–1), message and result."""
    return JobOut.model_validate(visible_job(session, viewer, job_id))
