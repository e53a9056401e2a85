"""Imports: upload a 110 export, queue an ingest job for the worker, and read its report (rows loaded/quarantined).

The upload is checked before anything is queued (ASVS V5.2): a size limit while streaming to disk, the extension,
and the first bytes (an .xlsx must be a ZIP, a .parquet must start with ``PAR1``, a CSV must not be binary). The
file goes to ``<data_dir>/uploads/<random>/``; the lake itself is only ever written by ingest in the worker."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from anju.errors import AnjuError
from anju.ops.models import Job
from anju.web.deps import DbSession, Viewer, app_state, require
from anju.web.pages import render
from anju.web.routes.jobs import queue_job
from anju.web.schemas import JobOut

router = APIRouter(tags=["imports"])
Importer = Annotated[Viewer, Depends(require("run_imports"))]

EXTENSIONS = (".csv", ".txt", ".xlsx", ".parquet")
_PROFILE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
CHUNK = 1 << 20


class UploadRejected(AnjuError, ValueError):
    """An uploaded file was refused (too large, wrong type); nothing was queued."""


def _check_magic(ext: str, head: bytes) -> None:
    if ext == ".xlsx" and not head.startswith(b"PK\x03\x04"):
        raise UploadRejected("the file ends in .xlsx but is not an Excel (ZIP) file")
    if ext == ".parquet" and not head.startswith(b"PAR1"):
        raise UploadRejected("the file ends in .parquet but does not start with PAR1")
    if ext in (".csv", ".txt") and b"\x00" in head[:65536] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadRejected("the file ends in .csv but holds binary data")


async def save_upload(upload: UploadFile, root: Path, max_bytes: int) -> Path:
    """Stream the upload to ``root/<random>/<safe name>``, refusing it past ``max_bytes`` or with a bad type."""
    raw_name = Path(upload.filename or "upload.csv").name
    ext = Path(raw_name).suffix.lower()
    if ext not in EXTENSIONS:
        raise UploadRejected(f"file type {ext or '(none)'!r} is not accepted; upload one of {', '.join(EXTENSIONS)}")
    safe = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff_.\-]", "_", raw_name)[:100] or f"upload{ext}"
    folder = root / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=False)
    dest = folder / safe
    size = 0
    try:
        with dest.open("wb") as fh:
            while chunk := await upload.read(CHUNK):
                if size == 0:
                    _check_magic(ext, chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected(f"the file is larger than {max_bytes // (1 << 20)} MiB")
                fh.write(chunk)
        if size == 0:
            raise UploadRejected("the file is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a refused upload leaves nothing behind
        raise
    return dest


def _profiles() -> list[str]:
    from anju.ingest.profile import shipped_profiles

    return shipped_profiles()


@router.get("/imports", include_in_schema=False)
def imports_page(request: Request, session: DbSession, viewer: Importer) -> Response:
    jobs = session.scalars(select(Job).where(Job.kind == "ingest").order_by(Job.id.desc()).limit(50)).all()
    return render(request, "imports.html", {"jobs": jobs, "profiles": _profiles()})


async def _queue_import(request: Request, session: DbSession, viewer: Viewer, file: UploadFile, profile: str) -> Job:
    if not _PROFILE.match(profile) or profile not in _profiles():
        raise UploadRejected(f"unknown source profile {profile!r}; choose one of {', '.join(_profiles())}")
    state = app_state(request)
    path = await save_upload(file, state.settings.data_dir / "uploads", state.config.max_upload_mb << 20)
    return queue_job(request, session, viewer, "ingest", {"path": str(path), "profile": profile})


@router.post("/imports", include_in_schema=False)
async def import_form(request: Request, session: DbSession, viewer: Importer, file: Annotated[UploadFile, File()],
                      profile: Annotated[str, Form(max_length=40)] = "cn110") -> Response:
    job = await _queue_import(request, session, viewer, file, profile)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/api/v1/imports", response_model=JobOut, status_code=202)
async def import_api(request: Request, session: DbSession, viewer: Importer, file: Annotated[UploadFile, File()],
                     profile: Annotated[str, Form(max_length=40)] = "cn110") -> JobOut:
    """Upload a 110 export and queue its ingest (poll ``/api/v1/jobs/{id}`` for the report)."""
    return JobOut.model_validate(await _queue_import(request, session, viewer, file, profile))
