"""Open311 GeoReport v2 at ``/open311/v2/`` so other city systems (12345, 城运中心) exchange requests with us.

Methods: ``GET services.json`` (our report kinds), ``GET services/{code}.json`` (service definition),
``POST requests.json`` (submit), ``GET requests.json`` (list, with ``service_request_id``, ``status``,
``start_date``, ``end_date``, ``page``, ``page_size``), ``GET requests/{id}.json`` (one request). Requests carry
``status`` open|closed, ``status_notes``, ``agency_responsible``, ``expected_datetime`` (from the SLA),
``requested_datetime`` and ``updated_datetime`` (ISO 8601 with offset).

A POST without ``api_key`` is a public submission, with the same checks and rate limits as the public page; a
partner's ``api_key`` lifts the per-client limit and, as the FixMyStreet extension does, may post status updates
(``POST requests/{id}/updates.json`` with ``status`` and ``status_notes``). The API authenticates no browser
session, so it lives in its own sub-application without the session-CSRF check (no cookie is ever read).
Phone numbers are never returned. Without a partner key the list leaves out police, missing-person and family
matters, masks personal numbers in the text and gives the community instead of the door; ``description`` is the
resident's text as written otherwise (clients must escape it).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from anju.ops.models import DoorPlate, Open311Partner, ResidentReport
from anju.ops.resident import (
    PENDING,
    ResidentDesk,
    act,
    partner_by_key,
    plate_by_code,
    submit_report,
)
from anju.ops.resident_intake import PlateGone, SubmissionWriter, prepare_submission
from anju.ops.resident_trace import TRACE
from anju.resident.abuse import InputError
from anju.resident.orders import OPEN, Status
from anju.resident.plates import is_plate_code
from anju.text.mask import mask_pii
from anju.web.heap import freeze_loaded

__all__ = ["create_open311_app", "writer_of"]

TZ_FMT = "%Y-%m-%dT%H:%M:%S%z"
PUBLIC_MATTERS = ("market", "property", "street_order", "consult")
"""Matters listed publicly by ``GET requests.json`` (not police, missing persons or family disputes)."""


def _iso(dt: datetime | None, tz: Any) -> str | None:
    if dt is None:
        return None
    s = dt.astimezone(tz).strftime(TZ_FMT)
    return s[:-2] + ":" + s[-2:]


def _err(status: int, code: int, text: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": text}], status_code=status)


MAX_BODY = 256 * 1024
"""Largest urlencoded request body accepted (a 2,000-character text percent-encoded is ~18 KB)."""

_LIMITS = {"service_code": 32, "description": 20000, "api_key": 200, "address_string": 300, "phone": 40,
           "attribute[plate]": 32}


async def _read_form(request: Request) -> dict[str, str] | None:
    """The submitted fields (urlencoded read here with a size limit, multipart through Starlette); None when the
    body is too large."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded") or not ctype:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return None
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    async with request.form(max_files=1, max_fields=50) as form:
        return {k: v for k, v in form.items() if isinstance(v, str)}


def _float(form: dict[str, str], name: str, bound: float) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        v = float(raw)
    except ValueError:
        raise ValueError(f"{name}: not a number") from None
    if not -bound <= v <= bound:
        raise ValueError(f"{name}: must be between {-bound:g} and {bound:g}")
    return v


def _request_fields(form: dict[str, str]) -> dict[str, Any]:
    """The checked fields of ``POST requests.json`` (raises ValueError naming the field)."""
    for name, limit in _LIMITS.items():
        if len(form.get(name, "")) > limit:
            raise ValueError(f"{name}: at most {limit} characters")
    for name in ("service_code", "description"):
        if name not in form:
            raise ValueError(f"{name}: field required")
    return {"service_code": form["service_code"], "description": form["description"],
            "api_key": form.get("api_key") or None, "address_string": form.get("address_string", ""),
            "phone": form.get("phone") or None, "plate": form.get("attribute[plate]") or None,
            "lat": _float(form, "lat", 90), "long": _float(form, "long", 180)}


def writer_of(parent: Any) -> SubmissionWriter:
    """The web process's group-commit writer of public submissions (started on first use, after any fork)."""
    w = getattr(parent.state, "resident_writer", None)
    if w is None:
        from anju.web.routes.resident_public import pump_of

        rules = parent.state.resident_desk.rules
        w = SubmissionWriter(parent.state.anju.engine, duplicate_hours=rules.abuse.duplicate_hours,
                             duplicate_similarity=rules.abuse.duplicate_similarity,
                             on_commit=lambda: pump_of(parent).kick())
        parent.state.resident_writer = w
        if TRACE.enabled:  # the benchmark's wait breakdown: how late the event loop wakes
            parent.state.resident_lag_probe = asyncio.get_running_loop().create_task(_lag_probe())
    return w  # type: ignore[no-any-return]


async def _lag_probe() -> None:
    """Trace the event loop's lateness on a 10 ms timer (only when tracing; see :mod:`anju.ops.resident_trace`)."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        lag = time.perf_counter() - t - 0.01
        if lag > 0.005:
            TRACE.add("l", t, lag)


def create_open311_app(parent: FastAPI) -> FastAPI:
    """The Open311 sub-application; it shares the parent's database and resident desk."""
    app = FastAPI(title="anju Open311 GeoReport v2", docs_url=None, redoc_url=None, openapi_url="/openapi.json")

    def state() -> Any:
        return parent.state.anju

    def desk() -> ResidentDesk:
        d = getattr(parent.state, "resident_desk", None)
        if d is None:
            st = state()
            d = ResidentDesk.load(st.settings.data_dir, st.secret)
            parent.state.resident_desk = d
            freeze_loaded()  # the router model is long-lived (anju.web.heap)
        return d  # type: ignore[no-any-return]

    def service(k: Any) -> dict[str, Any]:
        return {"service_code": k.code, "service_name": k.zh, "description": k.en, "metadata": True,
                "type": "realtime", "keywords": k.code, "group": "resident"}

    def as_request(r: ResidentReport, d: ResidentDesk, full: bool) -> dict[str, Any]:
        """One request; ``full`` (a partner) gets the text and door-level address, the public gets the text with
        personal numbers masked and the community only."""
        dept = d.rules.departments().get(r.department)
        notes = r.events[-1].note if r.events else ""
        if not full:
            notes = mask_pii([notes])[0] or ""
        return {"service_request_id": r.receipt, "status": "open" if Status(r.status) in OPEN or
                r.status == Status.MODERATION.value else "closed",
                "status_notes": notes, "service_name": d.rules.kinds()[r.kind].zh if r.kind in d.rules.kinds()
                else r.kind, "service_code": r.kind,
                "description": r.text if full else (mask_pii([r.text])[0] or ""),
                "agency_responsible": dept.zh if dept else r.department, "service_notice": "",
                "requested_datetime": _iso(r.created_at, d.tz), "updated_datetime": _iso(r.updated_at, d.tz),
                "expected_datetime": _iso(r.deadline, d.tz),
                "address": r.address if full else (r.community.name if r.community is not None else ""),
                "lat": r.lat if full else None, "long": r.lon if full else None,
                "extended_attributes": {"state": r.status, "resolution": r.resolution, "matter": r.matter}}

    @app.get("/services.json")
    def services() -> list[dict[str, Any]]:
        return [service(k) for k in desk().rules.kind]

    @app.get("/services/{code}.json")
    def service_definition(code: str) -> Response:
        kinds = desk().rules.kinds()
        if code not in kinds:
            return _err(404, 404, f"unknown service_code {code!r}")
        return JSONResponse({"service_code": code, "attributes": [
            {"variable": True, "code": "plate", "datatype": "string", "required": False,
             "datatype_description": "门牌二维码编号 / door-plate code", "order": 1, "description": "门牌编号"},
            {"variable": True, "code": "phone", "datatype": "string", "required": False,
             "datatype_description": "7–15 digits", "order": 2, "description": "联系电话"}]})

    def partner_of(api_key: str) -> tuple[int, str] | None:
        with state().sessions() as session:
            p = partner_by_key(session, api_key)
            return (p.id, p.name) if p is not None else None

    def store_now(d: ResidentDesk, fields: dict[str, Any], partner_id: int | None, ip: str) -> str:
        """The routed-at-once path (urgent words, kinds that fix the matter): ORM, classifier in the request."""
        with state().sessions() as session:
            p: DoorPlate | None = None
            if fields["plate"]:
                p = plate_by_code(session, fields["plate"])
                if p is None:
                    raise PlateGone("unknown or revoked plate")
            partner = session.get(Open311Partner, partner_id) if partner_id is not None else None
            r = submit_report(session, d, kind=fields["service_code"], text=fields["description"],
                              phone=fields["phone"], plate=p, address=fields["address_string"], lon=fields["long"],
                              lat=fields["lat"], client_ip=ip, source="partner" if partner else "open311",
                              partner=partner)
            session.commit()
            if r.route_method == PENDING:
                from anju.web.routes.resident_public import pump_of

                pump_of(parent).kick()
            return r.receipt

    @app.post("/requests.json")
    async def post_request(request: Request) -> Response:
        """Submit a request. The hot path of the public endpoint: the form is parsed here (no per-field validation
        machinery), the checks and rate limits run on the event loop, and the row goes to the process's group-commit
        writer (:class:`~anju.ops.resident_intake.SubmissionWriter`); the 201 is sent after the commit."""
        form = await _read_form(request)
        if form is None:
            return _err(413, 413, f"request body larger than {MAX_BODY // 1024} KB")
        try:
            fields = _request_fields(form)
        except ValueError as exc:
            return _err(400, 400, str(exc))
        d = desk()
        ip = request.client.host if request.client else "?"
        partner = await run_in_threadpool(partner_of, fields["api_key"]) if fields["api_key"] else None
        if fields["api_key"] and partner is None:
            return _err(403, 403, "invalid api_key")
        key = f"partner:{partner[0]}" if partner else f"ip:{ip}"
        if partner is None and not d.per_client.hit(key):
            return JSONResponse([{"code": 429, "description": "rate limit exceeded"}], status_code=429,
                                headers={"Retry-After": str(d.per_client.retry_after(key))})
        plate = fields["plate"]
        if plate:
            if not is_plate_code(plate):
                return _err(400, 400, "unknown or revoked plate")
            if partner is None and not d.per_plate.hit(f"plate:{plate}"):
                return JSONResponse([{"code": 429, "description": "rate limit exceeded for this plate"}],
                                    status_code=429, headers={"Retry-After": "60"})
        try:
            sub = prepare_submission(d, kind=fields["service_code"], text=fields["description"],
                                     phone=fields["phone"], plate_code=plate, address=fields["address_string"],
                                     lon=fields["long"], lat=fields["lat"], client_ip=ip,
                                     source="partner" if partner else "open311",
                                     partner_id=partner[0] if partner else None)
            if sub is not None:
                writer = writer_of(parent)
                receipt = await asyncio.wrap_future(writer.submit(sub))
                writer.resumed(sub)
            else:
                receipt = await run_in_threadpool(store_now, d, fields, partner[0] if partner else None, ip)
        except PlateGone:
            return _err(400, 400, "unknown or revoked plate")
        except InputError as exc:
            return _err(400, 400, str(exc))
        return JSONResponse([{"service_request_id": receipt, "service_notice": "", "account_id": None}],
                            status_code=201)

    @app.get("/requests.json")
    def get_requests(service_request_id: str | None = None, service_code: str | None = None,
                     status: str | None = None, start_date: datetime | None = None,
                     end_date: datetime | None = None, page: int = 1, page_size: int = 50,
                     api_key: str | None = None) -> Response:
        d = desk()
        page_size = max(1, min(page_size, 200))
        with state().sessions() as session:
            partner = partner_by_key(session, api_key)
            stmt = select(ResidentReport).where(ResidentReport.status.not_in(["hidden", "moderation"]))
            if partner is None:  # the public list leaves out police, missing-person and family matters
                stmt = stmt.where(ResidentReport.matter.in_(PUBLIC_MATTERS))
            if service_request_id:
                ids = [x.strip().upper() for x in service_request_id.split(",")][:200]
                stmt = stmt.where(ResidentReport.receipt.in_(ids))
            if service_code:
                stmt = stmt.where(ResidentReport.kind == service_code)
            if status in ("open", "closed"):
                opens = [s.value for s in OPEN]
                stmt = stmt.where(ResidentReport.status.in_(opens) if status == "open"
                                  else ResidentReport.status.not_in(opens))
            if start_date:
                stmt = stmt.where(ResidentReport.created_at >= start_date.astimezone(UTC))
            if end_date:
                stmt = stmt.where(ResidentReport.created_at <= end_date.astimezone(UTC))
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.scalars(stmt.order_by(ResidentReport.created_at.desc(), ResidentReport.id.desc())
                                   .offset((max(page, 1) - 1) * page_size).limit(page_size)).all()
            return JSONResponse([as_request(r, d, partner is not None) for r in rows],
                                headers={"X-Total-Count": str(total)})

    @app.get("/requests/{receipt}.json")
    def get_request(receipt: str, api_key: str | None = None) -> Response:
        """One request by its receipt (the receipt is unguessable: whoever holds it may follow it)."""
        d = desk()
        with state().sessions() as session:
            partner = partner_by_key(session, api_key)
            r = session.scalars(select(ResidentReport).where(ResidentReport.receipt == receipt.upper()[:32],
                                                             ResidentReport.status != "hidden")).first()
            if r is None:
                return _err(404, 404, "no such service_request_id")
            return JSONResponse([as_request(r, d, partner is not None and r.partner_id == partner.id)])

    @app.post("/requests/{receipt}/updates.json")
    def post_update(request: Request, receipt: str, api_key: Annotated[str, Form(max_length=200)],
                    status_notes: Annotated[str, Form(max_length=1000)],
                    status: Annotated[str, Form(pattern="^(open|closed)$")]) -> Response:
        d = desk()
        with state().sessions() as session:
            partner = partner_by_key(session, api_key)
            if partner is None:
                return _err(403, 403, "status updates need a partner api_key")
            r = session.scalars(select(ResidentReport).where(ResidentReport.receipt == receipt.upper()[:32])).first()
            if r is None or r.partner_id != partner.id:
                return _err(404, 404, "no such service_request_id from this partner")
            try:
                if status == "closed" and Status(r.status) in (Status.SIGNED, Status.IN_PROGRESS):
                    act(session, d, r, "close", actor=None, note=f"[{partner.name}] {status_notes}",
                        resolution="fixed", check_permission=False)
                elif Status(r.status) in OPEN:
                    act(session, d, r, "urge", actor=None, note=f"[{partner.name}] {status_notes}",
                        check_permission=False)
                else:
                    return _err(409, 409, f"request is {r.status}; no update possible")
                session.commit()
            except (InputError, ValueError) as exc:
                session.rollback()
                return _err(400, 400, str(exc))
            return JSONResponse([as_request(r, d, True)])

    return app
