"""The kinds of background job and what each runs: thin wrappers over the same functions the CLI calls.

A handler takes the settings, the job's ``params`` and a ``report(progress, message)`` callback, and returns a
JSON-able result. Parameters are checked when the job is queued (:func:`enqueue`), so a bad request fails at once
with a clear message instead of later in the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from anju.config import Settings
from anju.errors import OpsError
from anju.ops import audit
from anju.ops.models import Job, User

__all__ = ["JOB_KINDS", "Report", "enqueue", "job_handler"]

Report = Callable[[float, str], None]
Handler = Callable[[Settings, dict[str, Any], Report], dict[str, Any]]


def _ingest(settings: Settings, params: dict[str, Any], report: Report) -> dict[str, Any]:
    """Import a 110 export into the lake (``path``, ``profile`` = cn110, optional ``encoding``)."""
    from anju.ingest.pipeline import ingest_file

    def progress(done: int, total: int, rows: int) -> None:
        report(done / total if total else 0.0, f"{rows:,} rows read")

    rep = ingest_file(settings, params["path"], profile=params.get("profile", "cn110"), progress=progress,
                      encoding=params.get("encoding"))
    return rep.to_dict()


def _release(settings: Settings, params: dict[str, Any], report: Report) -> dict[str, Any]:
    """Build a Safety Index release (``period`` = latest, optional ``compare``, ``lang``, ``public``, ``formats``)."""
    from anju.deployment import load_deployment
    from anju.services.release import build_release

    report(0.05, "assembling the release")
    folder = build_release(load_deployment(settings), str(params.get("period", "latest")), compare=params.get("compare"),
                           lang=str(params.get("lang", settings.lang)), public=bool(params.get("public", False)),
                           formats=params.get("formats"), by=params.get("by"))
    return {"folder": str(folder), "files": sorted(p.name for p in Path(folder).iterdir() if p.is_file())}


def _train_text(settings: Settings, params: dict[str, Any], report: Report) -> dict[str, Any]:
    """Train a text model (``task``, optional ``data`` path) and evaluate it on the held-out split."""
    from anju.deployment import load_deployment
    from anju.services.text import train

    report(0.05, f"training {params['task']}")
    info = train(load_deployment(settings), str(params["task"]), params.get("data"))
    return {"task": info.task, "version": info.version, "n_train": info.n_train, "n_test": info.n_test,
            "metrics": info.metrics}


def _briefing(settings: Settings, params: dict[str, Any], report: Report) -> dict[str, Any]:
    """The morning briefing of ``date`` (default today): the same call as ``anju briefing``."""
    from anju.duty.service import briefing_job

    return briefing_job(settings, params, report)


def _bulletin(settings: Settings, params: dict[str, Any], report: Report) -> dict[str, Any]:
    """《小区治安月通报》 of ``month`` (YYYY-MM): the same call as ``anju assess --month``; archived for download."""
    from anju.assess.archive import build_bulletin

    report(0.05, f"assessing {params['month']}")
    files = build_bulletin(settings, str(params["month"]))
    report(0.95, "bulletin written")
    return {"month": str(params["month"]), "folder": str(files.folder),
            "files": sorted(p.name for p in files.folder.iterdir() if p.is_file())}


_HANDLERS: dict[str, tuple[Handler, tuple[str, ...], tuple[str, ...]]] = {
    # kind: (handler, required params, optional params)
    "ingest": (_ingest, ("path",), ("profile", "encoding")),
    "release": (_release, (), ("period", "compare", "lang", "public", "formats", "by")),
    "train_text": (_train_text, ("task",), ("data",)),
    "briefing": (_briefing, (), ("date", "force")),
    "bulletin": (_bulletin, ("month",), ()),
}
JOB_KINDS = tuple(_HANDLERS)
"""The job kinds a worker runs."""


def job_handler(kind: str) -> Handler:
    """The function that runs jobs of ``kind``."""
    try:
        return _HANDLERS[kind][0]
    except KeyError:
        raise OpsError(f"unknown job kind {kind!r}; expected one of {list(JOB_KINDS)}") from None


def enqueue(session: Session, kind: str, params: dict[str, Any] | None = None, *, created_by: User | None = None,
            ip: str | None = None, unique_key: str | None = None, actor_name: str | None = None) -> Job:
    """Queue a job (the caller commits); its parameters are checked now. The request is audited.

    ``unique_key`` (scheduled jobs, e.g. ``briefing:2026-12-07``) makes a second job with the same key fail with an
    ``IntegrityError`` at flush: see :mod:`anju.worker.schedule`."""
    job_handler(kind)
    params = dict(params or {})
    _, required, optional = _HANDLERS[kind]
    missing = [k for k in required if params.get(k) in (None, "")]
    if missing:
        raise OpsError(f"job {kind!r} needs parameter(s) {missing}")
    unknown = set(params) - set(required) - set(optional)
    if unknown:
        raise OpsError(f"job {kind!r} does not take parameter(s) {sorted(unknown)}; "
                       f"expected some of {list(required + optional)}")
    if kind == "bulletin":
        from anju.assess.monthly import parse_month

        parse_month(str(params["month"]))  # a bad month fails now, not in the worker
    if kind == "ingest" and not Path(str(params["path"])).is_file():
        raise OpsError(f"ingest job: file {params['path']!r} does not exist")
    job = Job(kind=kind, params=params, status="queued", progress=0.0, unique_key=unique_key,
              created_by=created_by.id if created_by is not None else None)
    session.add(job)
    session.flush()
    audit.record(session, actor=created_by, actor_name=actor_name, action="job.enqueue", target_type="job",
                 target_id=job.id, detail={"kind": kind, "params": params}, ip=ip)
    return job
