"""The audit log (admin): read-only pages and API over the hash-chained events, with the chain's verification.

There is no route that edits or deletes an event; reading the log is itself recorded."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.ops import audit
from anju.ops.models import AuditEvent
from anju.web.deps import DbSession, Viewer, client_ip, require
from anju.web.pages import render
from anju.web.tables import Col, Page, TableQuery, page_select, table_query, xlsx_bytes

router = APIRouter(tags=["audit"])
Auditor = Annotated[Viewer, Depends(require("read_audit"))]
TQ = Annotated[TableQuery, Depends(table_query)]

COLS = (Col("seq", "序号", "Seq"), Col("at", "时间", "When"), Col("actor_name", "操作人", "Who", search=True),
        Col("action", "操作", "Action", search=True), Col("target_type", "对象类型", "Target type"),
        Col("target_id", "对象", "Target", search=True), Col("ip", "来源地址", "From"), Col("detail", "详情", "Detail"))
_SORT = {"seq": AuditEvent.seq, "at": AuditEvent.at, "actor_name": AuditEvent.actor_name,
         "action": AuditEvent.action}


def _event(e: AuditEvent) -> dict[str, Any]:
    import json

    return {"seq": e.seq, "at": e.at.strftime("%Y-%m-%d %H:%M:%S"), "actor_name": e.actor_name,
            "action": e.action, "target_type": e.target_type, "target_id": e.target_id, "ip": e.ip,
            "detail": json.dumps(e.detail, ensure_ascii=False), "hash": e.hash}


def _list(request: Request, session: Session, viewer: Viewer, tq: TableQuery, *,
          paged: bool = True) -> tuple[list[AuditEvent], int]:
    rows, total = page_select(session, select(AuditEvent), _SORT,
                              [AuditEvent.actor_name, AuditEvent.action, AuditEvent.target_id], tq,
                              default_order=[AuditEvent.seq.desc()], paged=paged)
    audit.record(session, actor=viewer.user, action="audit.view" if paged else "audit.export", target_type="audit",
                 target_id=None, detail={"q": tq.q, "page": tq.page}, ip=client_ip(request))
    session.commit()
    return rows, total


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, session: DbSession, viewer: Auditor, tq: TQ) -> Response:
    rows, total = _list(request, session, viewer, tq)
    report = audit.verify(session)
    return render(request, "audit.html", {"events": [_event(e) for e in rows], "page": Page([], total, tq),
                                          "cols": COLS, "report": report})


@router.get("/audit.xlsx", include_in_schema=False)
def audit_xlsx(request: Request, session: DbSession, viewer: Auditor, tq: TQ) -> Response:
    from anju.web.i18n import request_lang

    rows, _ = _list(request, session, viewer, tq, paged=False)
    return Response(xlsx_bytes("audit", COLS, [_event(e) for e in rows], request_lang(request, viewer.user.lang)),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="audit.xlsx"'})


@router.get("/api/v1/audit")
def audit_api(request: Request, session: DbSession, viewer: Auditor, tq: TQ) -> dict[str, Any]:
    """Audit events, newest first (read only; the read itself is recorded)."""
    rows, total = _list(request, session, viewer, tq)
    return {"data": [_event(e) for e in rows], "count": total}


@router.get("/api/v1/audit/verify")
def audit_verify_api(session: DbSession, viewer: Auditor) -> dict[str, Any]:
    """Check the hash chain: ``ok`` is false when a row was edited or deleted."""
    r = audit.verify(session)
    return {"ok": r.ok, "rows": r.rows, "head_seq": r.head_seq, "head_hash": r.head_hash, "problems": r.problems}
