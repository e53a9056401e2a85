"""Monthly assessment inputs from the web: entry of one row and upload of a whole table (CSV or Excel), per kind.

The input tables are the ones the rubric reads (:data:`anju.assess.inputs.KINDS`: patrol plans and scans, camera
inventory and fault reports, resident registrations, the survey frame and answers). Each kind is entered by the roles
responsible for it (:data:`INPUT_ROLES`) and only for the communities in their scope: the web translates into
:func:`anju.assess.inputs.import_input` with the viewer's communities, so a row of another community is rejected with
its reason, every row is accounted and importing the same rows twice changes nothing. Every import is audited.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.assess.inputs import KINDS, OPTIONAL, InputReport, community_ids, import_input, stored_dir
from anju.ops import audit
from anju.ops.models import Community
from anju.ops.scope import community_filter
from anju.web.deps import DbSession, Forbidden, Viewer, ViewerDep, app_state, client_ip
from anju.web.pages import render
from anju.web.routes.imports import UploadRejected, save_upload

router = APIRouter(tags=["assessment"])

_FIELD = ("station", "property_manager", "community_police", "grid_worker")
INPUT_ROLES: dict[str, frozenset[str]] = {
    "patrol_plan": frozenset({"property_manager", "station", "evaluator"}),
    "patrol_scans": frozenset({"property_manager", "station", "evaluator"}),
    "cameras": frozenset({*_FIELD, "evaluator"}),
    "camera_faults": frozenset({*_FIELD, "evaluator"}),
    "registrations": frozenset({"community_police", "grid_worker", "street_office", "station", "evaluator"}),
    "survey_frame": frozenset({"evaluator", "analyst"}),
    "survey_answers": frozenset({"evaluator", "analyst"}),
}
"""Who enters each input (administrators may enter all); the data scope limits the communities."""

HINTS = {"scanned_at": "2025-11-03 22:05", "installed_at": "2023-05-01", "reported_at": "2025-11-02 08:00",
         "repaired_at": "2025-11-05 17:00", "month": "2025-11", "day_slots": "09:00;15:00",
         "night_slots": "21:00;01:00", "reached": "1/0", "feel_safe": "1/0", "satisfied": "1/0", "saw_patrol": "1/0"}


def kinds_for(viewer: Viewer) -> list[str]:
    return [k for k, roles in INPUT_ROLES.items() if viewer.role == "admin" or viewer.role in roles]


def _kind(viewer: Viewer, kind: str) -> str:
    if kind not in KINDS:
        from anju.errors import DataNotFoundError

        raise DataNotFoundError(f"unknown input {kind!r}; expected one of {list(KINDS)}")
    if kind not in kinds_for(viewer):
        raise Forbidden(f"role {viewer.role!r} does not enter {KINDS[kind].zh} ({kind})")
    return kind


@contextlib.contextmanager
def _locked(request: Request) -> Iterator[None]:
    """One writer at a time per data directory (the stored tables are read, extended and replaced)."""
    d = stored_dir(app_state(request).settings)
    d.mkdir(parents=True, exist_ok=True)
    with (d / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _import(request: Request, session: Session, viewer: Viewer, kind: str, path: Path | str,
            frame: pd.DataFrame | None = None) -> InputReport:
    settings = app_state(request).settings
    with _locked(request):
        rep = import_input(settings, kind, path, known_communities=community_ids(settings), frame=frame,
                           allowed_communities=viewer.communities)
    audit.record(session, actor=viewer.user, action=f"assessment.input.{kind}", target_type="assessment_input",
                 target_id=kind, detail={"file": Path(str(path)).name, "rows": rep.rows, "loaded": rep.loaded,
                                         "unchanged": rep.unchanged, "rejected": len(rep.rejected)},
                 ip=client_ip(request))
    session.commit()
    return rep


def _report(rep: InputReport) -> dict[str, Any]:
    return {"kind": rep.kind, "rows": rep.rows, "loaded": rep.loaded, "unchanged": rep.unchanged,
            "rejected": [{"row": r, "reason": m} for r, m in rep.rejected], "dropped_columns": rep.dropped_columns}


def _page(request: Request, session: Session, viewer: Viewer, report: dict[str, Any] | None = None) -> Response:
    kinds = kinds_for(viewer)
    if not kinds:
        raise Forbidden(f"role {viewer.role!r} enters no assessment input")
    coms = session.execute(select(Community.code, Community.name).where(community_filter(viewer.user))
                           .order_by(Community.code)).all()
    fields = {k: [(c, KINDS[k].aliases.get(c, (c,))[0], c in OPTIONAL, HINTS.get(c, "")) for c in KINDS[k].columns]
              for k in kinds}
    return render(request, "assessment_inputs.html", {"kinds": kinds, "labels": {k: KINDS[k].zh for k in kinds},
                                                      "fields": fields, "communities": coms, "report": report})


@router.get("/assessment/inputs", include_in_schema=False)
def inputs_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    return _page(request, session, viewer)


async def _upload(request: Request, session: Session, viewer: Viewer, kind: str, file: UploadFile) -> InputReport:
    _kind(viewer, kind)
    if Path(file.filename or "").suffix.lower() not in (".csv", ".xlsx"):
        raise UploadRejected("assessment inputs are imported from CSV or Excel (.xlsx) files")
    state = app_state(request)
    path = await save_upload(file, Path(state.settings.data_dir) / "uploads", state.config.max_upload_mb << 20)
    try:
        return _import(request, session, viewer, kind, path)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@router.post("/assessment/inputs/{kind}/upload", include_in_schema=False)
async def upload_form(request: Request, session: DbSession, viewer: ViewerDep, kind: str,
                      file: Annotated[UploadFile, File()]) -> Response:
    rep = await _upload(request, session, viewer, kind, file)
    return _page(request, session, viewer, _report(rep))


@router.post("/assessment/inputs/{kind}/entry", include_in_schema=False)
async def entry_form(request: Request, session: DbSession, viewer: ViewerDep, kind: str) -> Response:
    """One row typed into the form: the same validation and scope as an upload."""
    _kind(viewer, kind)
    form = await request.form()
    row = {c: str(form.get(c, "") or "")[:200] for c in KINDS[kind].columns}
    rep = _import(request, session, viewer, kind, f"web-entry-{kind}", frame=pd.DataFrame([row], dtype=str))
    return _page(request, session, viewer, _report(rep))


@router.post("/api/v1/assessment/inputs/{kind}")
async def upload_api(request: Request, session: DbSession, viewer: ViewerDep, kind: str,
                     file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Import a CSV/Excel table of assessment input ``kind``; rows outside the caller's scope are rejected. Every
    row is accounted: loaded + unchanged + rejected = rows."""
    return _report(await _upload(request, session, viewer, kind, file))
