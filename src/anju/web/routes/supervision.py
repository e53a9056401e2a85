"""Supervision board (挂牌督导): the cases in the viewer's scope, a case page, the case report; JSON twins.

Cases are read through :mod:`anju.supervision.access` (SQL scope filter; by id outside scope = 403); officers' names
only for roles that may read personal data, and viewing them is audited. Writes stay on the CLI for now."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from anju.ops import audit
from anju.supervision.access import case_dict, visible_case, visible_cases
from anju.supervision.report import STATUS_ZH, write_case_report
from anju.web.deps import DbSession, ViewerDep, client_ip
from anju.web.pages import render

router = APIRouter(tags=["supervision"])


def _latest(case: Any) -> dict[str, Any] | None:
    return next((s.progress for s in reversed(case.snapshots) if s.progress), None)


def _row(case: Any, viewer: Any) -> dict[str, Any]:
    d = case_dict(case, viewer.user)
    d["status_zh"] = STATUS_ZH.get(case.status, case.status)
    d["progress"] = _latest(case)
    return d


def _audit_personal(session: Any, viewer: Any, request: Request, target: str | None) -> None:
    if viewer.can("read_personal"):
        audit.record(session, actor=viewer.user, action="supervision.view", target_type="supervision_case",
                     target_id=target, ip=client_ip(request))
        session.commit()


@router.get("/supervision", include_in_schema=False)
def board_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    rows = [_row(c, viewer) for c in visible_cases(session, viewer.user)]
    _audit_personal(session, viewer, request, None)
    return render(request, "supervision.html", {"cases": rows})


@router.get("/supervision/{case_id}", include_in_schema=False)
def case_page(request: Request, session: DbSession, viewer: ViewerDep, case_id: int) -> Response:
    case = visible_case(session, viewer.user, case_id)
    _audit_personal(session, viewer, request, str(case_id))
    return render(request, "supervision_case.html", {"c": _row(case, viewer), "case": case})


@router.get("/supervision/{case_id}/report.docx", include_in_schema=False)
def case_report(request: Request, session: DbSession, viewer: ViewerDep, case_id: int) -> Response:
    case = visible_case(session, viewer.user, case_id)
    if not viewer.can("read_personal"):
        from anju.web.deps import Forbidden

        raise Forbidden("the case report names officers; your role may not read personal data")
    with tempfile.TemporaryDirectory() as d:
        data = write_case_report(case, Path(d) / "case.docx").read_bytes()
    audit.record(session, actor=viewer.user, action="supervision.export", target_type="supervision_case",
                 target_id=str(case_id), ip=client_ip(request))
    session.commit()
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f'attachment; filename="case-{case_id}.docx"'})


@router.get("/api/v1/supervision/cases")
def cases_api(request: Request, session: DbSession, viewer: ViewerDep) -> dict[str, Any]:
    """Supervision cases in the viewer's scope with their latest progress."""
    rows = [_row(c, viewer) for c in visible_cases(session, viewer.user)]
    _audit_personal(session, viewer, request, None)
    return {"data": rows, "count": len(rows)}


@router.get("/api/v1/supervision/cases/{case_id}")
def case_api(request: Request, session: DbSession, viewer: ViewerDep, case_id: int) -> dict[str, Any]:
    """One case with its snapshots (risk profile at opening and each review) and measures."""
    case = visible_case(session, viewer.user, case_id)
    d = _row(case, viewer)
    d["snapshots"] = [{"kind": s.kind, "as_of": s.as_of.isoformat(), "profile": s.profile, "progress": s.progress}
                      for s in case.snapshots]
    d["measures"] = [{"on_date": m.on_date.isoformat(), "category": m.category, "what": m.what,
                      "who": m.who if viewer.can("read_personal") else None, "cost_yuan": m.cost_yuan,
                      "evidence": m.evidence_name} for m in case.measures]
    _audit_personal(session, viewer, request, str(case_id))
    return d
