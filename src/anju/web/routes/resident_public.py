"""Public resident pages (no login, phone-first, no JavaScript needed, Chinese by default).

* ``GET /p/{code}`` — opened by scanning a door plate: the address is filled in; choose 报警求助 / 纠纷·投诉·咨询 /
  寻人·失物, write, optionally leave a phone and a photo. "Call 110" is always shown first.
* ``POST /p/{code}`` — rate-limited per plate and per client (429 with ``Retry-After``), checked, routed, stored;
  redirects to the receipt page.
* ``GET /r/{receipt}`` — status and history of a report; after closure the resident confirms and rates it
  (``POST /r/{receipt}/confirm``); not satisfied reopens it.
* ``GET /safe-houses`` — the safe houses on our own offline map, nearest first from a plate (``?plate=``).

Forms carry the pre-session CSRF token (the platform's ``anju_pre`` cookie), so they work without a login.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from anju.ops.models import DoorPlate, SafeHouse
from anju.ops.resident import (
    PENDING,
    ResidentDesk,
    RoutingPump,
    confirm_by_resident,
    nearest_safe_houses,
    plate_by_code,
    report_by_receipt,
    submit_report,
)
from anju.ops.resident_intake import PlateGone, prepare_submission
from anju.resident.abuse import InputError
from anju.resident.orders import RESOLUTION_ZH, STATUS_ZH, Resolution, Status
from anju.resident.plates import is_plate_code
from anju.web.deps import DbSession, app_state, client_ip
from anju.web.heap import freeze_loaded
from anju.web.open311 import writer_of
from anju.web.pages import render

__all__ = ["desk_of", "router"]

router = APIRouter(tags=["resident"])

STATUS_EN = {Status.MODERATION: "under review", Status.HIDDEN: "hidden", Status.NEW: "waiting for dispatch",
             Status.DISPATCHED: "dispatched", Status.SIGNED: "accepted", Status.IN_PROGRESS: "in progress",
             Status.CLOSED: "closed", Status.DUPLICATE: "duplicate"}
RESOLUTION_EN = {Resolution.FIXED: "fixed", Resolution.NOT_FIXED: "not fixed",
                 Resolution.NOT_RESPONSIBLE: "not our responsibility"}


def desk_of(request: Request) -> ResidentDesk:
    """The app's resident desk (rules, calendar, router, limiters), loaded once per app."""
    desk = getattr(request.app.state, "resident_desk", None)
    if desk is None:
        st = app_state(request)
        desk = ResidentDesk.load(st.settings.data_dir, st.secret)
        request.app.state.resident_desk = desk
        freeze_loaded()  # the router model is long-lived (anju.web.heap)
    return desk  # type: ignore[no-any-return]


def pump_of(app: Any) -> RoutingPump:
    """The app's routing pump (started on first use): routes the stored public submissions in batches."""
    pump = getattr(app.state, "resident_pump", None)
    if pump is None:
        desk: ResidentDesk = app.state.resident_desk  # loaded by the submission that kicks the pump
        pump = RoutingPump(app.state.anju.sessions, desk)
        app.state.resident_pump = pump
    return pump  # type: ignore[no-any-return]


def _plate_or_404(session: Any, code: str) -> DoorPlate | None:
    return plate_by_code(session, code) if is_plate_code(code) else None


def _not_found(request: Request) -> Response:
    return render(request, "resident_gone.html", {}, status_code=404)


def _limited(request: Request, desk: ResidentDesk, plate_code: str | None) -> int | None:
    """Seconds to wait when a limit is hit, else None (one hit counted per accepted attempt)."""
    ip = client_ip(request) or "?"
    if not desk.per_client.hit(f"ip:{ip}"):
        return desk.per_client.retry_after(f"ip:{ip}")
    if plate_code and not desk.per_plate.hit(f"plate:{plate_code}"):
        return desk.per_plate.retry_after(f"plate:{plate_code}")
    return None


def _form_ctx(plate: DoorPlate, desk: ResidentDesk, **extra: Any) -> dict[str, Any]:
    return {"plate": plate, "kinds": desk.rules.kind, "max_chars": desk.rules.abuse.max_text_chars, **extra}


@router.get("/p/{code}", include_in_schema=False)
def plate_page(request: Request, session: DbSession, code: str) -> Response:
    plate = _plate_or_404(session, code)
    if plate is None:
        return _not_found(request)
    desk = desk_of(request)
    near = nearest_safe_houses(session, plate.lon, plate.lat, 3) if plate.lon is not None and plate.lat \
        is not None else []
    return render(request, "resident_plate.html", _form_ctx(plate, desk, near=near, error=None, form={}))


@router.post("/p/{code}", include_in_schema=False)
async def plate_submit(request: Request, session: DbSession, code: str,
                       kind: Annotated[str, Form(max_length=32)], text: Annotated[str, Form(max_length=20000)],
                       phone: Annotated[str, Form(max_length=40)] = "",
                       photo: Annotated[UploadFile | None, File()] = None) -> Response:
    plate = await run_in_threadpool(_plate_or_404, session, code)  # a query: not on the event loop
    if plate is None:
        return _not_found(request)
    desk = desk_of(request)
    wait = _limited(request, desk, code)
    if wait is not None:
        resp = render(request, "resident_plate.html", _form_ctx(
            plate, desk, near=[], error="提交过于频繁，请稍后再试 / too many submissions, please wait",
            form={"kind": kind, "text": text}), status_code=429)
        resp.headers["Retry-After"] = str(wait)
        return resp
    data = None
    if photo is not None and photo.filename:
        data = await photo.read(desk.rules.abuse.photo_max_bytes + 1)
    try:
        # store first through the process's group-commit writer (acknowledged after its commit); urgent texts
        # and kinds that fix the matter are routed at once below
        sub = prepare_submission(desk, kind=kind, text=text, phone=phone or None, plate_code=code,
                                 client_ip=client_ip(request), source="plate") if data is None else None
        if sub is not None:
            writer = writer_of(request.app)
            receipt = await asyncio.wrap_future(writer.submit(sub))
            writer.resumed(sub)
        else:  # a photo to re-encode, or routing in the request: CPU and queries, off the event loop
            def store() -> Any:
                r = submit_report(session, desk, kind=kind, text=text, phone=phone or None, photo=data,
                                  plate=plate, client_ip=client_ip(request), source="plate")
                session.commit()
                return r

            r = await run_in_threadpool(store)
            receipt = r.receipt
            if r.route_method == PENDING:
                pump_of(request.app).kick()
    except PlateGone:  # revoked while the form was open
        return _not_found(request)
    except InputError as exc:
        session.rollback()
        return render(request, "resident_plate.html", _form_ctx(plate, desk, near=[], error=str(exc),
                                                                 form={"kind": kind, "text": text}),
                      status_code=422)
    return RedirectResponse(f"/r/{receipt}?new=1", status_code=303)


def _receipt_ctx(desk: ResidentDesk, r: Any) -> dict[str, Any]:
    depts = desk.rules.departments()
    dept = depts.get(r.department)
    events = [e for e in r.events]
    return {"r": r, "dept": dept, "status_zh": STATUS_ZH[Status(r.status)], "status_en": STATUS_EN[Status(r.status)],
            "res_zh": RESOLUTION_ZH.get(Resolution(r.resolution)) if r.resolution else "",
            "res_en": RESOLUTION_EN.get(Resolution(r.resolution)) if r.resolution else "",
            "events": events, "can_rate": r.status == Status.CLOSED.value and r.satisfied is None,
            "kind": desk.rules.kinds().get(r.kind), "status_names": (STATUS_ZH, STATUS_EN), "tz": desk.tz}


@router.get("/r/{receipt}", include_in_schema=False)
def receipt_page(request: Request, session: DbSession, receipt: str, new: int = 0) -> Response:
    r = report_by_receipt(session, receipt) if len(receipt) <= 32 else None
    if r is None or r.status == Status.HIDDEN.value:
        return _not_found(request)
    return render(request, "resident_receipt.html", {**_receipt_ctx(desk_of(request), r), "new": bool(new)})


@router.post("/r/{receipt}/confirm", include_in_schema=False)
def receipt_confirm(request: Request, session: DbSession, receipt: str,
                    satisfied: Annotated[str, Form(pattern="^(yes|no)$")],
                    note: Annotated[str, Form(max_length=1000)] = "") -> Response:
    r = report_by_receipt(session, receipt) if len(receipt) <= 32 else None
    if r is None or r.status == Status.HIDDEN.value:
        return _not_found(request)
    desk = desk_of(request)
    if r.status != Status.CLOSED.value or r.satisfied is not None:
        return RedirectResponse(f"/r/{r.receipt}", status_code=303)
    wait = _limited(request, desk, None)
    if wait is not None:
        return Response("too many requests", status_code=429, headers={"Retry-After": str(wait)})
    try:
        confirm_by_resident(session, desk, r, satisfied=satisfied == "yes", note=note)
        session.commit()
    except InputError:
        session.rollback()
    return RedirectResponse(f"/r/{r.receipt}", status_code=303)


@router.get("/r", include_in_schema=False)
def receipt_lookup(request: Request, receipt: str = "") -> Response:
    if receipt.strip():
        code = "".join(ch for ch in receipt.strip().upper() if ch.isalnum())[:32]
        return RedirectResponse(f"/r/{code}", status_code=303)
    return render(request, "resident_lookup.html", {})


def _community_polygons(request: Request) -> list[Any]:
    cached = getattr(request.app.state, "resident_polygons", None)
    if cached is None:
        try:
            from anju.geo.areas import AreaSet

            areas = AreaSet.from_data_dir(app_state(request).settings)
            layer = areas.layers.get("community")
            cached = list(layer.geometries) if layer is not None else []
        except Exception:  # no area layers loaded yet: the map shows the points only
            cached = []
        request.app.state.resident_polygons = cached
    return cached  # type: ignore[no-any-return]


@router.get("/safe-houses", include_in_schema=False)
def safe_houses_page(request: Request, session: DbSession, plate: str = "",
                     lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
                     lat: Annotated[float | None, Query(ge=-90, le=90)] = None) -> Response:
    """Safe houses nearest first from a plate, or from the browser's position (``lon``/``lat`` sent by
    ``/static/resident-geo.js`` when the resident allows it; used for this response only, never stored)."""
    from anju.resident.svgmap import svg_map

    p = _plate_or_404(session, plate) if plate else None
    houses = session.scalars(select(SafeHouse).where(SafeHouse.status == "active").order_by(SafeHouse.code)).all()
    here = (p.lon, p.lat) if p is not None and p.lon is not None and p.lat is not None else None
    source = "plate" if here else None
    if here is None and lon is not None and lat is not None:
        here, source = (lon, lat), "browser"
    near = nearest_safe_houses(session, here[0], here[1], len(houses)) if here else [(h, None) for h in houses]
    svg = svg_map(_community_polygons(request), [(h.lon, h.lat, h.name, "house") for h in houses],
                  highlight=here, width=640)
    # the SVG is built by us from numbers and escaped labels (anju.resident.svgmap), so it may be inserted as is
    resp = render(request, "resident_safe_houses.html", {"near": near, "svg": Markup(svg), "plate": p,
                                                         "here_source": source})
    # this page alone may ask for the position, and only from our own origin's script
    resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    return resp
