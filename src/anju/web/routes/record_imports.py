"""Excel imports of operational records (organisations, communities, dated profiles, users) from the web.

Upload (size limit, ``.xlsx`` only, checked by its first bytes) → a dry run that shows every row of the sheet with
what the import would do (新增 / 更新 / 不变, or 拒绝 with the reason) and writes nothing → commit, which runs the same
:func:`anju.ops.imports.import_records` for real (audited there). Importing the same file twice changes nothing: the
second run reports every row unchanged. The uploaded file waits in ``<data_dir>/uploads/<random>/`` with its owner's
id and is removed after the commit. A downloadable template per kind carries the Chinese headers.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from anju.errors import AnjuError, DataNotFoundError
from anju.ops import audit
from anju.ops.imports import COLUMNS, IMPORT_KINDS, REQUIRED, ImportReport, import_records
from anju.web.deps import DbSession, Forbidden, Viewer, ViewerDep, app_state, client_ip
from anju.web.pages import render
from anju.web.routes.imports import UploadRejected, save_upload

router = APIRouter(tags=["imports"])

KIND_PERMISSION = {"organisations": "run_imports", "communities": "run_imports", "profiles": "run_imports",
                   "users": "manage_users"}
"""Who may import each kind (users only by administrators)."""
KIND_LABELS = {"organisations": ("单位", "organisations"), "communities": ("小区/社区", "communities"),
               "profiles": ("小区概况（按日期）", "community profiles (dated)"), "users": ("用户", "users")}
OUTCOME_ZH = {"created": "新增", "updated": "更新", "unchanged": "不变", "rejected": "拒绝"}
_TOKEN = re.compile(r"^[0-9a-f]{16}$")
_OWNER = ".owner"


def _kind(viewer: Viewer, kind: str) -> str:
    if kind not in IMPORT_KINDS:
        raise DataNotFoundError(f"unknown import kind {kind!r}; expected one of {list(IMPORT_KINDS)}")
    if not viewer.can(KIND_PERMISSION[kind]):
        raise Forbidden(f"role {viewer.role!r} may not import {kind}")
    return kind


def _uploads(request: Request) -> Path:
    return Path(app_state(request).settings.data_dir) / "uploads"


def _pending(request: Request, viewer: Viewer, token: str) -> Path:
    """The uploaded workbook waiting under ``token``, only for the user who uploaded it."""
    folder = _uploads(request) / token
    owner = folder / _OWNER
    if not _TOKEN.match(token) or not owner.is_file() or owner.read_text() != str(viewer.user.id):
        raise DataNotFoundError("no pending import with that token; upload the file again")
    files = [p for p in folder.iterdir() if p.suffix == ".xlsx"]
    if len(files) != 1:
        raise DataNotFoundError("no pending import with that token; upload the file again")
    return files[0]


def _rows(rep: ImportReport, lang: str) -> list[dict[str, Any]]:
    out = []
    for row, key, outcome in rep.outcomes:
        head, _, reason = outcome.partition(": ")
        out.append({"row": row, "key": key, "outcome": head,
                    "label": OUTCOME_ZH.get(head, head) if lang == "zh" else head, "reason": reason})
    return out


def run_import(request: Request, session: Any, viewer: Viewer, kind: str, path: Path, *, dry_run: bool
               ) -> ImportReport:
    """Run :func:`import_records` on ``path``; a dry run is rolled back whole and audited as a preview."""
    ip = client_ip(request)
    if not dry_run:
        rep = import_records(session, path, kind, actor=viewer.user, ip=ip)
    else:
        try:  # import_records runs in one transaction (ops.db.begin_write): the rollback undoes every row
            rep = import_records(session, path, kind, actor=viewer.user, ip=ip)
        finally:
            session.rollback()
        audit.record(session, actor=viewer.user, action=f"import.{kind}.preview", target_type="import",
                     target_id=rep.sha256[:16], detail={k: v for k, v in rep.summary().items() if k != "rejected"}
                     | {"rejected": len(rep.rejected)}, ip=ip)
    session.commit()
    return rep


@router.get("/imports/records", include_in_schema=False)
def records_page(request: Request, viewer: ViewerDep) -> Response:
    kinds = [k for k in IMPORT_KINDS if viewer.can(KIND_PERMISSION[k])]
    if not kinds:
        raise Forbidden(f"role {viewer.role!r} may not import records")
    cols = {k: [COLUMNS[k][c][0] + ("*" if c in REQUIRED[k] else "") for c in COLUMNS[k]] for k in kinds}
    return render(request, "record_imports.html", {"kinds": kinds, "labels": KIND_LABELS, "cols": cols,
                                                   "max_mb": app_state(request).config.max_upload_mb})


@router.get("/imports/records/{kind}/template.xlsx", include_in_schema=False)
def template(request: Request, viewer: ViewerDep, kind: str) -> Response:
    """An empty workbook with the kind's Chinese headers (required ones first in :data:`REQUIRED`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _kind(viewer, kind)
    wb = Workbook()
    ws = wb.active
    ws.title = KIND_LABELS[kind][0][:30].replace("/", "、")
    ws.append([COLUMNS[kind][c][0] for c in COLUMNS[kind]])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-template.xlsx"'})


@router.post("/imports/records/{kind}", include_in_schema=False)
async def upload_preview(request: Request, session: DbSession, viewer: ViewerDep, kind: str,
                         file: Annotated[UploadFile, File()]) -> Response:
    """Upload a workbook and show the dry run (nothing is written yet)."""
    _kind(viewer, kind)
    if Path(file.filename or "").suffix.lower() != ".xlsx":
        raise UploadRejected("records are imported from Excel workbooks (.xlsx); save the sheet as .xlsx and retry")
    path = await save_upload(file, _uploads(request), app_state(request).config.max_upload_mb << 20)
    (path.parent / _OWNER).write_text(str(viewer.user.id))
    try:
        rep = run_import(request, session, viewer, kind, path, dry_run=True)
    except AnjuError:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    lang = getattr(request.state, "lang", "zh")
    return render(request, "record_import_report.html", {"kind": kind, "label": KIND_LABELS[kind], "rep": rep,
                                                         "rows": _rows(rep, lang), "dry_run": True,
                                                         "token": path.parent.name})


@router.post("/imports/records/{kind}/commit", include_in_schema=False)
def commit_import(request: Request, session: DbSession, viewer: ViewerDep, kind: str,
                  token: Annotated[str, Form(max_length=16)]) -> Response:
    """Import the previewed workbook for real; the upload is removed afterwards."""
    _kind(viewer, kind)
    path = _pending(request, viewer, token)
    try:
        rep = run_import(request, session, viewer, kind, path, dry_run=False)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    lang = getattr(request.state, "lang", "zh")
    return render(request, "record_import_report.html", {"kind": kind, "label": KIND_LABELS[kind], "rep": rep,
                                                         "rows": _rows(rep, lang), "dry_run": False, "token": None})


@router.post("/imports/records/{kind}/cancel", include_in_schema=False)
def cancel_import(request: Request, viewer: ViewerDep, kind: str, token: Annotated[str, Form(max_length=16)]
                  ) -> Response:
    _kind(viewer, kind)
    shutil.rmtree(_pending(request, viewer, token).parent, ignore_errors=True)
    return RedirectResponse("/imports/records", status_code=303)


@router.post("/api/v1/imports/records/{kind}")
async def import_api(request: Request, session: DbSession, viewer: ViewerDep, kind: str,
                     file: Annotated[UploadFile, File()], dry_run: bool = True) -> dict[str, Any]:
    """Import an Excel sheet of ``kind`` records; ``dry_run`` (default) only reports what would happen. Every row
    is accounted: created + updated + unchanged + rejected = rows."""
    _kind(viewer, kind)
    if Path(file.filename or "").suffix.lower() != ".xlsx":
        raise UploadRejected("records are imported from Excel workbooks (.xlsx)")
    path = await save_upload(file, _uploads(request), app_state(request).config.max_upload_mb << 20)
    try:
        rep = run_import(request, session, viewer, kind, path, dry_run=dry_run)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    lang = getattr(request.state, "lang", "zh")
    return {**rep.summary(), "dry_run": dry_run, "outcomes": _rows(rep, lang),
            "new_passwords": None if dry_run else (rep.new_passwords or None)}
