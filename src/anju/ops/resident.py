"""Resident services on the ops database: plates, report submission and routing, work-order actions, the
resident's follow-up and rating, the overdue sweep, scope of the queues, and safe houses.

The domain rules live in :mod:`anju.resident` (pure); this module stores their decisions. A :class:`ResidentDesk`
holds what a deployment loads once: the rules, the working-day calendar, the report router and the rate limiters.
Staff actions and every view of a reporter's phone number are written to the audit chain; public submissions are
recorded in the order's own history (``report_event``) with an HMAC of the client address, so the public endpoint
does not serialise on the audit chain.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, false, func, insert, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from anju.errors import AccessDeniedError, AnjuError
from anju.ops.audit import record
from anju.ops.models import (
    Community,
    DoorPlate,
    Open311Partner,
    Organisation,
    ReportEvent,
    ResidentReport,
    SafeHouse,
    User,
)
from anju.ops.resident_trace import TRACE
from anju.ops.roles import Role
from anju.ops.scope import community_filter, is_district_wide
from anju.resident import orders as O
from anju.resident.abuse import RateLimiter, clean_text, find_duplicate, moderation_reasons
from anju.resident.calendar import WorkCalendar, load_calendar
from anju.resident.mediation import next_sitting
from anju.resident.photos import reencode_photo
from anju.resident.plates import PlateRow, new_plate_code, random_code
from anju.resident.routing import route_reports
from anju.resident.rules import ResidentRules, load_resident_rules
from anju.text.classify import TextClassifier
from anju.text.mask import mask_one

__all__ = [
    "ResidentDesk",
    "RoutingPump",
    "act",
    "can_handle",
    "check_submission",
    "confirm_by_resident",
    "deferrable",
    "ensure_orgs",
    "get_report",
    "nearest_safe_houses",
    "new_partner",
    "partner_by_key",
    "plate_by_code",
    "queue_counts",
    "register_plates",
    "report_by_receipt",
    "report_filter",
    "revoke_plate",
    "route_pending",
    "show_phone",
    "submit_report",
    "sweep_overdue",
]

LOCAL_TZ = "Asia/Shanghai"


@dataclass
class ResidentDesk:
    """A deployment's loaded resident-service configuration and in-process limiters."""

    rules: ResidentRules
    calendar: WorkCalendar
    router: TextClassifier | None
    secret: bytes
    per_plate: RateLimiter = field(init=False)
    per_client: RateLimiter = field(init=False)
    tz: Any = None
    defer_routing: bool = False
    """Store first, route in batches (:func:`route_pending`): what the web app does; off for direct callers."""

    def __post_init__(self) -> None:
        from zoneinfo import ZoneInfo

        a = self.rules.abuse
        self.per_plate = RateLimiter(a.per_plate_per_hour, 3600.0)
        self.per_client = RateLimiter(a.per_client_per_minute, 60.0)
        self.tz = self.tz or ZoneInfo(LOCAL_TZ)

    @classmethod
    def load(cls, data_dir: Any, secret: bytes, *, router: TextClassifier | None = None) -> ResidentDesk:
        """Rules and calendar from the data directory (or the shipped ones); the latest saved router if any."""
        if router is None:
            from anju.resident.routing import load_router

            try:
                router = load_router(f"{data_dir}/models")
            except (AnjuError, FileNotFoundError):
                router = None
        return cls(load_resident_rules(data_dir), load_calendar(data_dir), router, secret, defer_routing=True)

    def client_key(self, ip: str | None) -> str | None:
        """HMAC of a client address (kept for rate limits and abuse review, never the address itself)."""
        if not ip:
            return None
        return hmac.new(self.secret, ip.encode(), hashlib.sha256).hexdigest()[:32]

    def deadline(self, at: datetime, matter: str) -> datetime:
        """The order's deadline (end of the last allowed working day, local time), as UTC."""
        days = self.rules.sla_days(matter) if matter else self.rules.sla_days("consult")
        local = at.astimezone(self.tz)
        return self.calendar.deadline(local, days).astimezone(UTC)


def _receipt() -> str:
    """A fresh receipt code (12 characters, 60 random bits)."""
    return random_code(12)


# ------------------------------------------------------------------------------------------------ plates
def plate_by_code(session: Session, code: str) -> DoorPlate | None:
    """The active plate with this code, else None (revoked and unknown codes look the same)."""
    return session.scalars(select(DoorPlate).where(DoorPlate.code == code, DoorPlate.active.is_(True))).first()


def register_plates(session: Session, rows: list[PlateRow], *, actor: User | None, ip: str | None = None
                    ) -> list[DoorPlate]:
    """Create a plate (with a fresh code) for each address; the caller commits."""
    codes = {c.code: c.id for c in session.scalars(select(Community).where(
        Community.code.in_({r.community_code for r in rows})))}
    out = []
    for r in rows:
        if r.community_code not in codes:
            raise AnjuError(f"unknown community code {r.community_code!r}")
        p = DoorPlate(code=new_plate_code(), community_id=codes[r.community_code], building=r.building,
                      unit=r.unit, door=r.door, lon=r.lon, lat=r.lat, active=True, active_key="active")
        session.add(p)
        out.append(p)
    session.flush()
    record(session, actor=actor, action="plate.create", target_type="door_plate", target_id=None,
           detail={"count": len(out)}, ip=ip)
    return out


def revoke_plate(session: Session, plate: DoorPlate, *, actor: User | None, ip: str | None = None) -> None:
    """Revoke a plate: its code stops opening the public page."""
    plate.active = False
    plate.active_key = f"r{plate.id}"
    plate.revoked_at = datetime.now(UTC)
    record(session, actor=actor, action="plate.revoke", target_type="door_plate", target_id=plate.id, ip=ip)


# ------------------------------------------------------------------------------------------------ submit
def _org_for(desk: ResidentDesk, department: str, community: Community | None) -> str:
    dept = desk.rules.departments()[department]
    if dept.kind == "police":
        return (community.station_code if community is not None and community.station_code
                else desk.rules.departments()[desk.rules.routing.dispatcher].org)
    return dept.org


def _event(report: ResidentReport, ev: O.Event, actor: User | None) -> None:
    report.events.append(ReportEvent(action=ev.action.value, from_status=ev.from_status.value,
                                     to_status=ev.to_status.value, note=ev.note, department=ev.department,
                                     actor_id=actor.id if actor is not None else None,
                                     actor_name=actor.username if actor is not None else "system", at=ev.at,
                                     detail=dict(ev.detail)))


PENDING = "pending"
"""``route_method`` of a report stored but not routed yet (the public endpoints store first, route in batches)."""

#: Words that make a free-text report urgent at submission (cheap, before any classifier): such a report is routed at
#: once instead of waiting for the batch, so a police matter reaches the station without delay (110 first: the page
#: always shows "call 110" for urgent help).
URGENT_WORDS = re.compile(r"持刀|拿刀|砍人|杀人|打人|打架|斗殴|救命|抢劫|抢夺|着火|火灾|起火|绑架|跳楼|轻生|自杀|"
                          r"家暴|殴打|流血|受伤|闯入|撬门|入室|性侵|猥亵|有人跟踪")


def check_submission(desk: ResidentDesk, kind: str, text: str | None, phone: str | None) -> tuple[str, str | None]:
    """The stored text and phone digits of a submission; raises :class:`~anju.resident.abuse.InputError` for a
    kind we do not know, an empty or too long text, or a phone without 7–15 digits (one check for every path)."""
    from anju.resident.abuse import InputError

    rules = desk.rules
    kinds = rules.kinds()
    if kind not in kinds:
        raise InputError(f"未知的事项类型 {kind!r} / unknown kind; expected one of {sorted(kinds)}")
    body = clean_text(text, max_chars=rules.abuse.max_text_chars)
    phone_clean = None
    if phone:
        phone_clean = clean_text(phone, max_chars=20, required=False, field="电话")
        digits = "".join(ch for ch in phone_clean if ch.isdigit())
        if not 7 <= len(digits) <= 15:
            raise InputError("电话号码应为 7–15 位数字 / phone must have 7–15 digits")
        phone_clean = digits
    return body, phone_clean


def deferrable(desk: ResidentDesk, kind: str, body: str) -> bool:
    """Whether a submission may be stored now and routed in a batch: the desk defers, the kind does not fix the
    matter, and the text holds no urgent word (:data:`URGENT_WORDS`: those are routed at once, 110 first)."""
    return desk.defer_routing and not desk.rules.kinds()[kind].matter and URGENT_WORDS.search(body) is None


def submit_report(session: Session, desk: ResidentDesk, *, kind: str, text: str, phone: str | None = None,
                  photo: bytes | None = None, plate: DoorPlate | None = None, community: Community | None = None,
                  address: str = "", lon: float | None = None, lat: float | None = None,
                  client_ip: str | None = None, source: str = "plate", partner: Open311Partner | None = None,
                  now: datetime | None = None) -> ResidentReport:
    """Check and store a report (routed now, or later in a batch when ``desk.defer_routing``); returns it with its
    receipt. The caller commits.

    Duplicate detection, moderation and the SLA start (= submission time) are decided here either way. With
    ``desk.defer_routing`` a free-text report whose kind does not fix the matter and which holds no urgent word
    (:data:`URGENT_WORDS`) is stored as ``route_method = "pending"`` with the dispatcher, and
    :func:`route_pending` routes it (the text classifier over a batch): the public POST never runs the classifier.
    Raises :class:`~anju.resident.abuse.InputError` for input that cannot be stored as it is (nothing stored).
    """
    rules = desk.rules
    body, phone_clean = check_submission(desk, kind, text, phone)
    photo_jpeg = None
    if photo:
        photo_jpeg = reencode_photo(photo, max_bytes=rules.abuse.photo_max_bytes, max_side=rules.abuse.photo_max_side)
    now = now or datetime.now(UTC)
    if plate is not None:
        community = plate.community
        lon, lat = plate.lon, plate.lat
        address = address or f"{community.name} {plate.building} {plate.unit} {plate.door}".strip()
    area = community.code if community is not None else ""
    defer = deferrable(desk, kind, body)
    dispatcher = rules.departments()[rules.routing.dispatcher]
    r = ResidentReport(receipt=_receipt(), source=source, plate=plate, community=community,
                       address=clean_text(address, max_chars=300, required=False), lon=lon, lat=lat, kind=kind,
                       text=body, phone=phone_clean, phone_masked=mask_one(phone_clean) if phone_clean else None,
                       photo=photo_jpeg, client_key=desk.client_key(client_ip),
                       partner_id=partner.id if partner else None, matter="", department=rules.routing.dispatcher,
                       org_code=dispatcher.org, confidence=0.0, route_method=PENDING, suggestions=[],
                       moderation=list(moderation_reasons(body)), status=O.Status.NEW.value, created_at=now,
                       updated_at=now)
    session.add(r)
    dup = None
    if plate is not None:
        since = now - timedelta(hours=rules.abuse.duplicate_hours)
        recent = session.execute(select(ResidentReport.receipt, ResidentReport.text, ResidentReport.id).where(
            ResidentReport.plate_id == plate.id, ResidentReport.created_at >= since,
            ResidentReport.status != O.Status.DUPLICATE.value, ResidentReport.id.is_not(None)
        ).order_by(ResidentReport.created_at.desc()).limit(50)).all()
        found = find_duplicate(body, [(x.receipt, x.text) for x in recent if x.receipt != r.receipt],
                               threshold=rules.abuse.duplicate_similarity)
        if found is not None:
            dup = next(x for x in recent if x.receipt == found)
    if dup is not None:
        r.duplicate_of_id = dup.id
        state, ev = O.apply(O.OrderState(O.Status.NEW, None, None), O.Action.MARK_DUPLICATE,
                            note=f"24小时内同一门牌的相似报告 {dup.receipt}", at=now, duplicate_of=dup.receipt)
        _event(r, ev, None)
        r.status = state.status.value
    elif r.moderation:
        r.status = O.Status.MODERATION.value
        r.events.append(ReportEvent(action="hold", from_status="new", to_status="moderation", at=now,
                                    note="待审核：" + "、".join(r.moderation), detail={"reasons": r.moderation}))
    if not defer:
        routed = route_reports(desk.router, [body], [kind], [area], rules=rules).iloc[0]
        _apply_route(desk, r, routed, now)
    elif r.status == O.Status.NEW.value:
        r.events.append(ReportEvent(action="submit", from_status="new", to_status="new", at=now,
                                    note="已受理，等待分派", detail={}))
    session.flush()
    return r


def _route_values(desk: ResidentDesk, status: str, created_at: datetime, community: Any, routed: Any,
                  now: datetime) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The columns a routing decision sets on a report (new, held for moderation, or a duplicate) and its history
    row, if any (one rule for the ORM path and the batch path). ``community`` needs ``station_code`` (or is None).
    The SLA runs from the submission time (``created_at``), whenever the routing happens."""
    dept = str(routed["department"])
    matter = str(routed["matter"])
    values: dict[str, Any] = {"matter": matter, "confidence": float(routed["confidence"]),
                              "route_method": str(routed["method"]), "suggestions": list(routed["suggestions"])}
    start = created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=UTC)
    if status != O.Status.NEW.value:  # held for moderation keeps the routing; a duplicate keeps no queue of its own
        values.update(department=dept, org_code=_org_for(desk, dept, community))
        return values, None
    if not routed["to_dispatcher"]:
        state, ev = O.apply(O.OrderState(O.Status.NEW, None, None), O.Action.DISPATCH,
                            note=f"自动派单（{routed['method']}，置信度 {float(routed['confidence']):.2f}）", at=now,
                            department=dept, new_deadline=desk.deadline(start, matter))
        department = state.department or dept
        values.update(status=state.status.value, department=department, deadline=state.deadline)
        if department == desk.rules.mediation.department:
            values["sitting_date"] = next_sitting(now.astimezone(desk.tz), desk.rules.mediation.weekdays,
                                                  desk.calendar)
        event = {"action": ev.action.value, "from_status": ev.from_status.value, "to_status": ev.to_status.value,
                 "note": ev.note, "department": ev.department, "at": ev.at, "detail": dict(ev.detail)}
    else:
        department = dept
        values.update(department=dept, deadline=desk.deadline(start, matter))
        event = {"action": "submit", "from_status": "new", "to_status": "new", "note": "置信度不足，转人工派单",
                 "department": None, "at": now, "detail": {"suggestions": values["suggestions"]}}
    values["org_code"] = _org_for(desk, department, community)
    return values, {**event, "actor_id": None, "actor_name": "system"}


def _apply_route(desk: ResidentDesk, r: ResidentReport, routed: Any, now: datetime) -> None:
    """Store a routing decision on a report object (see :func:`_route_values`)."""
    values, event = _route_values(desk, r.status, r.created_at, r.community, routed, now)
    for k, v in values.items():
        setattr(r, k, v)
    if event is not None:
        r.events.append(ReportEvent(**event))


def route_pending(session: Session, desk: ResidentDesk, *, limit: int = 500, now: datetime | None = None) -> int:
    """Route up to ``limit`` stored-but-unrouted reports in one classifier batch; returns how many (commits).

    The batch is claimed first with one conditional UPDATE (``route_method`` pending → a token of this call), so
    two routers (the web process and the worker) never route the same report twice. It runs beside the public
    endpoint in the web process, so it is written for a short hold of the database's write lock and of the
    interpreter: the claim is its own transaction, the classifier runs outside any transaction, and the decisions
    are written with one executemany UPDATE and one multi-row INSERT of history rows (Core, no ORM unit of work).
    """
    rt = cast(Table, ResidentReport.__table__)
    et = cast(Table, ReportEvent.__table__)
    token = "r" + secrets.token_hex(7)
    rows: list[Any] = []
    while not rows:
        ids = list(session.scalars(select(rt.c.id).where(rt.c.route_method == PENDING).order_by(rt.c.id)
                                   .limit(limit)))
        if not ids:
            return 0
        session.execute(update(rt).where(rt.c.id.in_(ids), rt.c.route_method == PENDING)
                        .values(route_method=token))
        rows = list(session.execute(select(rt.c.id, rt.c.text, rt.c.kind, rt.c.status, rt.c.created_at,
                                           rt.c.community_id).where(rt.c.route_method == token)
                                    .order_by(rt.c.id)))
        session.commit()
        # empty: another router claimed these first; look again
    try:
        cids = {r.community_id for r in rows if r.community_id is not None}
        communities = {c.id: c for c in session.execute(
            select(Community.id, Community.code, Community.station_code).where(Community.id.in_(cids)))} \
            if cids else {}
        comm = [communities.get(r.community_id) for r in rows]
        routed = route_reports(desk.router, [r.text for r in rows], [r.kind for r in rows],
                               [c.code if c is not None else "" for c in comm], rules=desk.rules)
        now = now or datetime.now(UTC)
        changes: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for r, c, decision in zip(rows, comm, routed.to_dict("records"), strict=True):
            values, event = _route_values(desk, r.status, r.created_at, c, decision, now)
            changes.append({"v_" + k: v for k, v in values.items()} | {"v_updated_at": now, "r_id": r.id})
            if event is not None:
                events.append(event | {"report_id": r.id})
        for cols in {tuple(sorted(v)) for v in changes}:  # one executemany per set of columns (at most three)
            group = [v for v in changes if tuple(sorted(v)) == cols]
            session.execute(update(rt).where(rt.c.id == bindparam("r_id"), rt.c.route_method == token)
                            .values({k[2:]: bindparam(k) for k in cols if k.startswith("v_")}), group)
        if events:
            session.execute(insert(et), events)
        session.commit()
    except BaseException:
        session.rollback()  # give the batch back: the next call routes it
        session.execute(update(rt).where(rt.c.route_method == token).values(route_method=PENDING))
        session.commit()
        raise
    return len(rows)


class RoutingPump:
    """A background thread of the web process that routes stored reports in batches (:func:`route_pending`).

    :meth:`kick` after a deferred submission wakes it; it waits ``window_s`` so concurrent submissions join the
    same batch, then routes what is pending — one batch per window (more only while batches come back full): the
    reports that arrive while it routes wait for the next window instead of being routed in a trail of small
    batches, each paying the classifier's and the transactions' fixed cost beside the endpoint. Reports it never
    reaches (the process stopped) are routed by the worker (:func:`anju.worker.runner.run_worker` calls
    :func:`route_pending` on every turn).
    """

    def __init__(self, factory: sessionmaker[Session], desk: ResidentDesk, *, window_s: float = 1.0,
                 batch: int = 500) -> None:
        import threading

        self.factory, self.desk, self.window_s, self.batch = factory, desk, window_s, batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.routed = 0
        self._thread = threading.Thread(target=self._run, name="resident-routing", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """A report is waiting: route it soon."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import logging

        log = logging.getLogger("anju.resident")
        while not self._stop.is_set():
            self._wake.wait(timeout=5.0)
            self._wake.clear()
            self._stop.wait(self.window_s)
            try:
                with self.factory() as s:
                    while True:  # one batch per window; more only while there is a backlog (full batches)
                        t0 = time.perf_counter()
                        n = route_pending(s, self.desk, limit=self.batch)
                        if n > 0:
                            TRACE.add("r", t0, time.perf_counter(), n)
                            self.routed += n
                        if n < self.batch:
                            break
            except Exception:  # a failed batch stays claimed by its token; the next kick or the worker retries
                log.exception("routing resident reports failed")


# ------------------------------------------------------------------------------------------------ scope
def report_filter(user: User) -> ColumnElement[bool]:
    """Reports a user may see: district-wide roles all; a department (or the mediation team, dispatcher…) its
    organisation's queue; area roles the reports of their communities."""
    try:
        role = Role(user.role)
    except ValueError:
        return false()
    if not user.active or role is Role.PUBLIC:
        return false()
    if is_district_wide(user):
        return true()
    org_code = user.organisation.code if user.organisation is not None else None
    if role is Role.DEPARTMENT:  # its queue, without what a moderator still holds or has hidden
        return and_(ResidentReport.org_code == org_code,
                    ResidentReport.status.not_in([O.Status.MODERATION.value, O.Status.HIDDEN.value])) \
            if org_code else false()
    visible = select(Community.id).where(community_filter(user))
    return ResidentReport.community_id.in_(visible)


def can_handle(user: User, report: ResidentReport) -> bool:
    """Whether the user may act on the order: its queue's organisation, or a district-wide dispatcher role."""
    if not user.active:
        return False
    if user.role in (Role.ADMIN.value, Role.ANALYST.value):
        return True
    org_code = user.organisation.code if user.organisation is not None else None
    return org_code is not None and org_code == report.org_code and user.role in (
        Role.DEPARTMENT.value, Role.STATION.value, Role.COMMUNITY_POLICE.value, Role.STREET_OFFICE.value)


def get_report(session: Session, user: User, report_id: int) -> ResidentReport:
    """The report if the user may see it (a missing and an out-of-scope report give the same error)."""
    r = session.scalars(select(ResidentReport).where(ResidentReport.id == report_id, report_filter(user))).first()
    if r is None:
        raise AccessDeniedError(f"report {report_id} does not exist or is outside your data scope")
    return r


def show_phone(session: Session, user: User, report: ResidentReport, *, ip: str | None = None) -> str | None:
    """The reporter's phone in clear for the handler (audited); masked for everyone else."""
    if report.phone is None:
        return None
    if not can_handle(user, report):
        return report.phone_masked
    record(session, actor=user, action="report.view_phone", target_type="resident_report", target_id=report.id,
           ip=ip)
    return report.phone


# ------------------------------------------------------------------------------------------------ actions
def _state(r: ResidentReport, dispatcher: str) -> O.OrderState:
    """The machine's view of a stored order (an order with the dispatcher has no department yet)."""
    dept = None if r.status == O.Status.NEW.value or r.department == dispatcher else r.department
    return O.OrderState(O.Status(r.status), dept, r.deadline,
                        O.Resolution(r.resolution) if r.resolution else None, r.reopened, r.escalated,
                        r.extensions, None, r.satisfied)


def act(session: Session, desk: ResidentDesk, report: ResidentReport, action: str, *, actor: User | None,
        note: str, department: str | None = None, resolution: str | None = None, extend_days: int | None = None,
        satisfied: bool | None = None, ip: str | None = None, now: datetime | None = None,
        check_permission: bool = True) -> ResidentReport:
    """Apply a work-order action (see :mod:`anju.resident.orders`); stores the event and audits staff actions."""
    if check_permission and actor is not None and not can_handle(actor, report):
        raise AccessDeniedError("only the organisation holding this order (or a dispatcher) may act on it")
    now = now or datetime.now(UTC)
    note = clean_text(note, max_chars=1000, field="说明")
    act_ = O.Action(action)
    new_deadline = None
    if act_ in (O.Action.DISPATCH, O.Action.REASSIGN):
        if department not in desk.rules.departments():
            raise AnjuError(f"unknown department {department!r}; expected one of {sorted(desk.rules.departments())}")
        new_deadline = desk.deadline(now, report.matter)
    elif act_ is O.Action.EXTEND:
        if not extend_days or extend_days < 1:
            raise AnjuError("an extension needs the number of working days (≥ 1)")
        base = (report.deadline or now).astimezone(desk.tz)
        day = desk.calendar.add_working_days(base.date(), extend_days)
        new_deadline = datetime.combine(day, base.time(), tzinfo=desk.tz).astimezone(UTC)  # type: ignore[arg-type]
    elif act_ is O.Action.REOPEN or act_ is O.Action.APPROVE:
        new_deadline = desk.deadline(now, report.matter)
    state, ev = O.apply(_state(report, desk.rules.routing.dispatcher), act_, note=note, at=now, department=department, resolution=resolution,
                        new_deadline=new_deadline, satisfied=satisfied,
                        duplicate_of=str(report.duplicate_of_id) if report.duplicate_of_id else None)
    if act_ is O.Action.APPROVE and state.status is O.Status.DISPATCHED:
        state = O.OrderState(state.status, state.department, new_deadline)
    report.status = state.status.value
    if state.department is not None:
        report.department = state.department
        if act_ in (O.Action.DISPATCH, O.Action.REASSIGN, O.Action.APPROVE):
            report.org_code = _org_for(desk, state.department, report.community)
    elif act_ is O.Action.RETURN:
        report.department = desk.rules.routing.dispatcher
        report.org_code = desk.rules.departments()[desk.rules.routing.dispatcher].org
    report.deadline = state.deadline
    report.resolution = state.resolution.value if state.resolution else None
    report.reopened, report.escalated, report.extensions = state.reopened, state.escalated, state.extensions
    report.satisfied = state.satisfied
    if act_ is O.Action.SIGN and report.signed_at is None:
        report.signed_at = now
    if act_ is O.Action.CLOSE:
        report.closed_at = now
    if act_ is O.Action.REOPEN:
        report.closed_at = None
    if (report.department == desk.rules.mediation.department and act_ in (O.Action.DISPATCH, O.Action.REASSIGN)):
        report.sitting_date = next_sitting(now.astimezone(desk.tz), desk.rules.mediation.weekdays, desk.calendar)
    report.updated_at = now
    _event(report, ev, actor)
    if actor is not None:
        record(session, actor=actor, action=f"report.{act_.value}", target_type="resident_report",
               target_id=report.id, detail={"from": ev.from_status.value, "to": ev.to_status.value,
                                            **{k: v for k, v in ev.detail.items() if k != "satisfied"}}, ip=ip)
    return report


def report_by_receipt(session: Session, receipt: str) -> ResidentReport | None:
    """The report with this receipt code (what the resident holds)."""
    return session.scalars(select(ResidentReport).where(ResidentReport.receipt == receipt.strip().upper())).first()


def confirm_by_resident(session: Session, desk: ResidentDesk, report: ResidentReport, *, satisfied: bool,
                        note: str = "", now: datetime | None = None) -> ResidentReport:
    """The resident's verdict after closure (回访); not satisfied reopens the order (重办) to the same body."""
    now = now or datetime.now(UTC)
    text = note.strip() or ("居民确认：满意" if satisfied else "居民确认：不满意")
    act(session, desk, report, "visit", actor=None, note=text, satisfied=satisfied, now=now,
        check_permission=False)
    if not satisfied:
        act(session, desk, report, "reopen", actor=None, note="居民不满意，重办", now=now, check_permission=False)
        report.satisfied = False
    return report


def sweep_overdue(session: Session, desk: ResidentDesk, *, now: datetime | None = None) -> dict[str, int]:
    """催办 the open orders past their deadline (the working day after), escalate those still open
    ``report_after_working_days`` later; each order gets each step once. Returns the counts."""
    now = now or datetime.now(UTC)
    esc = desk.rules.escalation
    open_states = [s.value for s in O.OPEN]
    rows = session.scalars(select(ResidentReport).where(ResidentReport.status.in_(open_states),
                                                        ResidentReport.deadline < now)).all()
    today = now.astimezone(desk.tz).date()
    urged = escalated = 0
    for r in rows:
        assert r.deadline is not None
        late = int(desk.calendar.working_days_between(r.deadline.astimezone(desk.tz).date(), today))  # type: ignore[arg-type]
        done = {e.action for e in r.events if e.at >= r.deadline}
        if late >= esc.notice_after_working_days and "urge" not in done:
            act(session, desk, r, "urge", actor=None, note=f"超期 {late} 个工作日，发《催办通知书》", now=now,
                check_permission=False)
            urged += 1
        if late >= esc.report_after_working_days and not r.escalated:
            act(session, desk, r, "escalate", actor=None, note=f"超期 {late} 个工作日，通报并上报督办", now=now,
                check_permission=False)
            escalated += 1
    return {"urged": urged, "escalated": escalated}


# ------------------------------------------------------------------------------------------------ partners
def new_partner(session: Session, name: str, *, actor: User | None) -> tuple[Open311Partner, str]:
    """Register a partner system; returns it and its API key (shown once, stored as SHA-256)."""
    key = secrets.token_urlsafe(32)
    p = Open311Partner(name=name, key_hash=hashlib.sha256(key.encode()).hexdigest(), active=True)
    session.add(p)
    session.flush()
    record(session, actor=actor, action="open311.partner_create", target_type="open311_partner", target_id=p.id)
    return p, key


def partner_by_key(session: Session, key: str | None) -> Open311Partner | None:
    """The active partner holding ``key``, else None."""
    if not key:
        return None
    h = hashlib.sha256(key.encode()).hexdigest()
    return session.scalars(select(Open311Partner).where(Open311Partner.key_hash == h,
                                                        Open311Partner.active.is_(True))).first()


# ------------------------------------------------------------------------------------------------ safe houses
def nearest_safe_houses(session: Session, lon: float, lat: float, n: int = 3) -> list[tuple[SafeHouse, float]]:
    """The ``n`` nearest active safe houses with their straight-line distance in metres."""
    import numpy as np

    rows = session.scalars(select(SafeHouse).where(SafeHouse.status == "active")).all()
    if not rows:
        return []
    lo = np.radians([s.lon for s in rows])
    la = np.radians([s.lat for s in rows])
    p_lo, p_la = np.radians(lon), np.radians(lat)
    a = np.sin((la - p_la) / 2) ** 2 + np.cos(p_la) * np.cos(la) * np.sin((lo - p_lo) / 2) ** 2
    d = 2 * 6_371_000 * np.arcsin(np.sqrt(a))
    order = np.argsort(d)[:n]
    return [(rows[int(i)], float(d[int(i)])) for i in order]


def queue_counts(session: Session, user: User) -> dict[str, int]:
    """Orders per status that the user may see."""
    rows = session.execute(select(ResidentReport.status, func.count()).where(report_filter(user))
                           .group_by(ResidentReport.status)).all()
    return {str(s): int(c) for s, c in rows}


def ensure_orgs(session: Session, rules: ResidentRules) -> int:
    """Create the organisations the rules' queues name and the database lacks (kind ``department``)."""
    have = set(session.scalars(select(Organisation.code)))
    n = 0
    for d in rules.department:
        if d.org and d.org not in have:
            session.add(Organisation(code=d.org, name=d.zh, kind="department"))
            n += 1
    session.flush()
    return n

