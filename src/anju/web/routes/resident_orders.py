"""Work orders for handlers (departments, stations, the mediation team, dispatchers), door plates, statistics.

Pages: ``/orders`` (the queue in scope), ``/orders/{id}`` (detail, history, actions), ``/orders/stats``
(per-department handling times, SLA compliance, reopen rate, satisfaction with intervals; ``?department=`` for one
department's page), ``/plates`` (registry, Excel import, PDF sheets, revoke). JSON twins under ``/api/v1/orders``.
Visibility comes from :func:`anju.ops.resident.report_filter`; acting needs :func:`anju.ops.resident.can_handle`;
every action and every view of a reporter's phone or photo is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from anju.errors import AccessDeniedError
from anju.ops.audit import record
from anju.ops.models import Community, DoorPlate, ResidentReport
from anju.ops.resident import (
    act,
    can_handle,
    get_report,
    register_plates,
    report_filter,
    revoke_plate,
    show_phone,
)
from anju.resident.metrics import department_performance
from anju.resident.orders import ACTION_ZH, ACTIONS, STATUS_ZH, Action, Status, state_type
from anju.resident.plates import plate_sheet_pdf, read_plate_file
from anju.web.deps import DbSession, Viewer, ViewerDep, client_ip, require
from anju.web.pages import render
from anju.web.routes.resident_public import desk_of

__all__ = ["router"]

router = APIRouter(tags=["orders"])
Manager = Annotated[Viewer, Depends(require("run_imports"))]


def _orders(session: Any, viewer: Viewer, status: str | None, limit: int = 200) -> list[ResidentReport]:
    stmt = select(ResidentReport).where(report_filter(viewer.user))
    if status in {s.value for s in Status}:
        stmt = stmt.where(ResidentReport.status == status)
    return list(session.scalars(stmt.order_by(ResidentReport.created_at.desc(), ResidentReport.id.desc())
                                .limit(limit)))


def _row(r: ResidentReport, now: datetime) -> dict[str, Any]:
    return {"id": r.id, "receipt": r.receipt, "kind": r.kind, "matter": r.matter, "department": r.department,
            "org_code": r.org_code, "status": r.status, "state_type": state_type(r.status, r.resolution),
            "resolution": r.resolution, "created_at": r.created_at.isoformat(),
            "deadline": r.deadline.isoformat() if r.deadline else None,
            "overdue": bool(r.deadline and r.status in {s.value for s in (Status.NEW, Status.DISPATCHED,
                                                                           Status.SIGNED, Status.IN_PROGRESS)}
                            and r.deadline < now),
            "address": r.address, "text": r.text, "phone": r.phone_masked, "reopened": r.reopened,
            "escalated": r.escalated, "satisfied": r.satisfied, "confidence": round(r.confidence, 3),
            "suggestions": r.suggestions, "sitting_date": r.sitting_date.isoformat() if r.sitting_date else None}


@router.get("/orders", include_in_schema=False)
def orders_page(request: Request, session: DbSession, viewer: ViewerDep, status: str | None = None) -> Response:
    now = datetime.now(UTC)
    rows = [_row(r, now) for r in _orders(session, viewer, status)]
    return render(request, "resident_orders.html", {"rows": rows, "status": status, "statuses": STATUS_ZH,
                                                    "depts": desk_of(request).rules.departments()})


@router.get("/api/v1/orders")
def orders_api(session: DbSession, viewer: ViewerDep, status: str | None = None) -> dict[str, Any]:
    """Work orders in the caller's scope (newest first, at most 200), phones masked."""
    now = datetime.now(UTC)
    data = [_row(r, now) for r in _orders(session, viewer, status)]
    return {"data": data, "count": len(data)}


def _allowed_actions(viewer: Viewer, r: ResidentReport) -> list[tuple[str, str]]:
    if not can_handle(viewer.user, r):
        return []
    st = Status(r.status)
    dispatcher = viewer.user.role in ("admin", "analyst")
    out = []
    for a, froms in ACTIONS.items():
        if st not in froms or a in (Action.VISIT, Action.REOPEN):
            continue
        if a in (Action.DISPATCH, Action.APPROVE, Action.HIDE) and not dispatcher:
            continue
        out.append((a.value, ACTION_ZH[a]))
    return out


@router.get("/orders/stats", include_in_schema=False)
def stats_page(request: Request, session: DbSession, viewer: ViewerDep, department: str | None = None) -> Response:
    rows = session.execute(select(ResidentReport.department, ResidentReport.created_at, ResidentReport.signed_at,
                                  ResidentReport.closed_at, ResidentReport.deadline, ResidentReport.reopened,
                                  ResidentReport.satisfied, ResidentReport.status)
                           .where(report_filter(viewer.user),
                                  ResidentReport.status.not_in(["duplicate", "hidden", "moderation"]))).all()
    df = pd.DataFrame(rows, columns=["department", "created_at", "signed_at", "closed_at", "deadline", "reopened",
                                     "satisfied", "status"])
    if department:
        df = df[df["department"] == department]
    perf = department_performance(df, now=pd.Timestamp.now(tz="UTC")) if len(df) else pd.DataFrame()
    depts = desk_of(request).rules.departments()
    return render(request, "resident_stats.html", {"perf": perf.to_dict("records"), "depts": depts,
                                                   "department": department})


def _dispute_calls(request: Request) -> pd.DataFrame:
    """110 dispute calls per community and month from the lake (cached per app; empty without a lake)."""
    cached = getattr(request.app.state, "resident_dispute_calls", None)
    if cached is None:
        from anju.deployment import load_deployment
        from anju.services.lake import open_lake
        from anju.web.deps import app_state

        try:
            with open_lake(load_deployment(app_state(request).settings)) as lake:
                cached = lake.duckdb.execute(
                    "SELECT community_id AS community_code, strftime(reported_at, '%Y-%m') AS month, "
                    "count(*) AS dispute_calls FROM incidents WHERE family = 'dispute' AND community_id IS NOT NULL "
                    "GROUP BY 1, 2").df()
        except Exception:  # no lake yet: the page shows the plate reports only
            cached = pd.DataFrame({"community_code": [], "month": [], "dispute_calls": []})
        request.app.state.resident_dispute_calls = cached
    return cached  # type: ignore[no-any-return]


@router.get("/orders/diversion", include_in_schema=False)
def diversion_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    """Plate reports and 110 dispute calls per community and month: the share diverted from 110."""
    from anju.resident.metrics import diversion_by_community_month

    police = {c for c, d in desk_of(request).rules.departments().items() if d.kind == "police"}
    rows = session.execute(select(Community.code, ResidentReport.created_at, ResidentReport.department)
                           .join(Community, ResidentReport.community_id == Community.id)
                           .where(report_filter(viewer.user), ResidentReport.kind != "urgent")).all()
    reports = pd.DataFrame(rows, columns=["community_code", "created_at", "department"])
    reports["police"] = reports["department"].isin(police)
    months = sorted(set(pd.to_datetime(reports["created_at"], utc=True).dt.strftime("%Y-%m"))) if len(reports) \
        else []
    calls = _dispute_calls(request)
    calls = calls[calls["month"].isin(months)] if months else calls.iloc[:0]
    if viewer.communities is not None:
        calls = calls[calls["community_code"].isin(viewer.communities)]
    table = diversion_by_community_month(reports[["community_code", "created_at", "police"]], calls)
    table = table[table["reports"] > 0].sort_values(["diverted", "community_code"], ascending=[False, True])
    names = {c.code: c.name for c in session.scalars(select(Community))}
    return render(request, "resident_diversion.html", {"rows": table.head(300).to_dict("records"), "names": names})


@router.get("/orders/{report_id}", include_in_schema=False)
def order_page(request: Request, session: DbSession, viewer: ViewerDep, report_id: int) -> Response:
    r = get_report(session, viewer.user, report_id)
    phone = show_phone(session, viewer.user, r, ip=client_ip(request))
    session.commit()
    desk = desk_of(request)
    return render(request, "resident_order.html", {
        "r": r, "row": _row(r, datetime.now(UTC)), "phone": phone, "events": list(r.events),
        "actions": _allowed_actions(viewer, r), "depts": desk.rules.departments(), "statuses": STATUS_ZH,
        "handler": can_handle(viewer.user, r), "error": request.query_params.get("error")})


@router.get("/orders/{report_id}/photo", include_in_schema=False)
def order_photo(request: Request, session: DbSession, viewer: ViewerDep, report_id: int) -> Response:
    r = get_report(session, viewer.user, report_id)
    if not can_handle(viewer.user, r):
        raise AccessDeniedError("only the organisation holding this order may open its photo")
    if r.photo is None:
        return Response(status_code=404)
    record(session, actor=viewer.user, action="report.view_photo", target_type="resident_report", target_id=r.id,
           ip=client_ip(request))
    session.commit()
    return Response(r.photo, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _do(request: Request, session: Any, viewer: Viewer, report_id: int, action: str, note: str,
        department: str | None, resolution: str | None, extend_days: int | None) -> ResidentReport:
    r = get_report(session, viewer.user, report_id)
    if action in (Action.DISPATCH.value, Action.APPROVE.value, Action.HIDE.value) and \
            viewer.user.role not in ("admin", "analyst"):
        raise AccessDeniedError("only a dispatcher may dispatch, approve or hide")
    if action in (Action.VISIT.value, Action.REOPEN.value):
        raise AccessDeniedError("回访/重办 follow the resident's rating")
    act(session, desk_of(request), r, action, actor=viewer.user, note=note, department=department or None,
        resolution=resolution or None, extend_days=extend_days, ip=client_ip(request))
    session.commit()
    return r


@router.post("/orders/{report_id}/act", include_in_schema=False)
def order_act(request: Request, session: DbSession, viewer: ViewerDep, report_id: int,
              action: Annotated[str, Form(max_length=24)], note: Annotated[str, Form(max_length=1000)],
              department: Annotated[str, Form(max_length=32)] = "",
              resolution: Annotated[str, Form(max_length=24)] = "",
              extend_days: Annotated[int, Form(ge=0, le=60)] = 0) -> Response:
    from urllib.parse import quote

    from anju.errors import AnjuError

    try:
        _do(request, session, viewer, report_id, action, note, department, resolution, extend_days or None)
    except AccessDeniedError:
        raise
    except (AnjuError, ValueError) as exc:
        session.rollback()
        return RedirectResponse(f"/orders/{report_id}?error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"/orders/{report_id}", status_code=303)


class ActionIn(BaseModel):
    action: str = Field(max_length=24)
    note: str = Field(max_length=1000)
    department: str | None = Field(None, max_length=32)
    resolution: str | None = Field(None, max_length=24)
    extend_days: int | None = Field(None, ge=1, le=60)


@router.post("/api/v1/orders/{report_id}/actions")
def order_act_api(request: Request, session: DbSession, viewer: ViewerDep, report_id: int,
                  body: ActionIn) -> dict[str, Any]:
    """Apply an action (sign, start, close, return, reassign, extend, urge, escalate, dispatch…) with its note."""
    r = _do(request, session, viewer, report_id, body.action, body.note, body.department, body.resolution,
            body.extend_days)
    return _row(r, datetime.now(UTC))


# ------------------------------------------------------------------------------------------------ plates
@router.get("/plates", include_in_schema=False)
def plates_page(request: Request, session: DbSession, viewer: Manager, community: str = "") -> Response:
    stmt = select(DoorPlate).join(Community).order_by(Community.code, DoorPlate.building, DoorPlate.unit,
                                                      DoorPlate.door).limit(500)
    if community:
        stmt = stmt.where(Community.code == community)
    plates = session.scalars(stmt).all()
    return render(request, "resident_plates.html", {"plates": plates, "community": community, "result": None})


@router.post("/plates/import", include_in_schema=False)
async def plates_import(request: Request, session: DbSession, viewer: Manager,
                        file: Annotated[UploadFile, File()]) -> Response:
    import tempfile

    suffix = Path(file.filename or "x.xlsx").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        return render(request, "resident_plates.html", {"plates": [], "community": "", "result": None,
                                                        "error": "请上传 .xlsx 或 .csv / upload .xlsx or .csv"},
                      status_code=422)
    data = await file.read(20_000_000)
    comms = {c.code: c.name for c in session.scalars(select(Community))}
    existing = {(c, b, u, d) for c, b, u, d in session.execute(
        select(Community.code, DoorPlate.building, DoorPlate.unit, DoorPlate.door).join(Community)
        .where(DoorPlate.active.is_(True)))}
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"plates{suffix}"
        p.write_bytes(data)
        res = read_plate_file(p, communities=comms, existing=existing)
    created = register_plates(session, [row for _, row in res.accepted], actor=viewer.user, ip=client_ip(request))
    session.commit()
    return render(request, "resident_plates.html", {"plates": created, "community": "", "result": res})


@router.get("/plates/sheet.pdf", include_in_schema=False)
def plates_sheet(request: Request, session: DbSession, viewer: Manager, community: str) -> Response:
    from anju.resident.plates import PlateRow

    rows = session.execute(select(DoorPlate, Community).join(Community).where(
        Community.code == community, DoorPlate.active.is_(True)).order_by(DoorPlate.building, DoorPlate.unit,
                                                                           DoorPlate.door)).all()
    base = str(request.base_url).rstrip("/")
    pdf = plate_sheet_pdf([(PlateRow(c.code, p.building, p.unit, p.door, community_name=c.name), p.code)
                           for p, c in rows], base)
    record(session, actor=viewer.user, action="plate.print", target_type="community", target_id=community,
           detail={"plates": len(rows)}, ip=client_ip(request))
    session.commit()
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="plates-{community}.pdf"'})


@router.post("/plates/{plate_id}/revoke", include_in_schema=False)
def plates_revoke(request: Request, session: DbSession, viewer: Manager, plate_id: int) -> Response:
    p = session.get(DoorPlate, plate_id)
    if p is None:
        return Response(status_code=404)
    revoke_plate(session, p, actor=viewer.user, ip=client_ip(request))
    session.commit()
    return RedirectResponse("/plates", status_code=303)
