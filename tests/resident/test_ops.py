"""Resident services on the real ops database (SQLite and PostgreSQL): plates, submission, routing to queues,
the work-order cycle with its trail and audit, duplicates, moderation, reopen on dissatisfaction, overdue sweep,
queue scope, phone visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from anju.errors import AccessDeniedError
from anju.ops import audit
from anju.ops.models import AuditEvent, Community, Organisation, ReportEvent, ResidentReport, SafeHouse, User
from anju.ops.resident import (
    ResidentDesk,
    act,
    can_handle,
    confirm_by_resident,
    ensure_orgs,
    get_report,
    nearest_safe_houses,
    new_partner,
    partner_by_key,
    plate_by_code,
    register_plates,
    report_by_receipt,
    report_filter,
    revoke_plate,
    show_phone,
    submit_report,
    sweep_overdue,
)
from anju.resident.abuse import InputError
from anju.resident.calendar import load_calendar
from anju.resident.corpus import synthetic_reports
from anju.resident.plates import PlateRow
from anju.resident.routing import train_router
from anju.resident.rules import load_resident_rules

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.fixture(scope="module")
def router():
    t, y = synthetic_reports(120, seed=0)
    return train_router(t, y)


@pytest.fixture
def desk(router):
    return ResidentDesk(load_resident_rules(), load_calendar(), router, b"test-secret")


@pytest.fixture
def world(ops_session, desk):
    s = ops_session
    for code, kind in (("PS1", "station"), ("PS2", "station"), ("BUREAU", "bureau")):
        s.add(Organisation(code=code, name=code, kind=kind))
    ensure_orgs(s, desk.rules)
    s.flush()
    orgs = {o.code: o for o in s.scalars(select(Organisation))}
    s.add_all([Community(code="C1", name="莲花新村", street_code="S1", station_code="PS1"),
               Community(code="C2", name="春申景城", street_code="S2", station_code="PS2")])
    users = {}
    for name, role, org in (("analyst", "analyst", "BUREAU"), ("market", "department", "DEPT-MARKET"),
                            ("housing", "department", "DEPT-HOUSING"), ("ps1", "station", "PS1"),
                            ("ps2", "station", "PS2")):
        u = User(username=name, display_name=name, password_hash="x", role=role, organisation=orgs[org],
                 active=True)
        s.add(u)
        users[name] = u
    users["ps1"].scopes = []
    s.flush()
    from anju.ops.models import UserScope

    s.add(UserScope(user_id=users["ps1"].id, area_level="station", area_code="PS1"))
    s.add(UserScope(user_id=users["ps2"].id, area_level="station", area_code="PS2"))
    plates = register_plates(s, [PlateRow("C1", "3号", "2", "301", 121.40, 31.10),
                                 PlateRow("C2", "8号", "1", "101", 121.41, 31.11)], actor=users["analyst"])
    s.commit()
    return {"s": s, "users": users, "plates": plates}


def test_plates_unguessable_and_revocable(world):
    s, p = world["s"], world["plates"][0]
    assert plate_by_code(s, p.code) is p and plate_by_code(s, "0" * 16) is None
    revoke_plate(s, p, actor=world["users"]["analyst"])
    s.commit()
    assert plate_by_code(s, p.code) is None
    # the same door may get a new plate after revocation
    again = register_plates(s, [PlateRow("C1", "3号", "2", "301")], actor=None)[0]
    s.commit()
    assert again.code != p.code and plate_by_code(s, again.code) is again


def test_submit_routes_to_the_right_queue_and_full_cycle(world, desk):
    s, users, plate = world["s"], world["users"], world["plates"][0]
    r = submit_report(s, desk, kind="dispute", text="老街店铺卖假货，商家不给退款", phone="138 0013 8000",
                      plate=plate, client_ip="10.0.0.1", now=T0)
    s.commit()
    assert (r.status, r.department, r.org_code, r.matter) == ("dispatched", "market", "DEPT-MARKET", "market")
    assert r.phone == "13800138000" and r.phone_masked == "138****8000" and r.client_key and "10.0.0.1" not in \
        r.client_key
    assert r.address.startswith("莲花新村 3号") and r.deadline is not None
    # complaint: 13 working days from Monday 2026-12-07 → Thursday 2026-12-24, end of day Shanghai time
    assert r.deadline == datetime(2026, 12, 24, 15, 59, 59, tzinfo=UTC)
    # the market office sees and handles it; housing and the other station do not see it
    assert get_report(s, users["market"], r.id) is r
    with pytest.raises(AccessDeniedError):
        get_report(s, users["housing"], r.id)
    with pytest.raises(AccessDeniedError):
        get_report(s, users["ps2"], r.id)
    assert get_report(s, users["ps1"], r.id) is r and not can_handle(users["ps1"], r)
    with pytest.raises(AccessDeniedError):
        act(s, desk, r, "sign", actor=users["housing"], note="x")
    assert show_phone(s, users["ps1"], r) == "138****8000"
    assert show_phone(s, users["market"], r) == "13800138000"
    act(s, desk, r, "sign", actor=users["market"], note="已签收", now=T0 + timedelta(hours=1))
    act(s, desk, r, "start", actor=users["market"], note="约谈商户", now=T0 + timedelta(hours=2))
    act(s, desk, r, "close", actor=users["market"], note="商户退款", resolution="fixed", now=T0 + timedelta(days=1))
    s.commit()
    assert (r.status, r.resolution, r.signed_at, r.closed_at) == ("closed", "fixed", T0 + timedelta(hours=1),
                                                                  T0 + timedelta(days=1))
    # the resident is not satisfied: 回访 then 重办, back in the market office's queue with a new deadline
    got = report_by_receipt(s, r.receipt.lower())
    confirm_by_resident(s, desk, got, satisfied=False, now=T0 + timedelta(days=2))
    s.commit()
    assert (r.status, r.reopened, r.resolution, r.org_code, r.satisfied) == ("dispatched", 1, None, "DEPT-MARKET",
                                                                             False)
    actions = [e.action for e in r.events]
    assert actions == ["dispatch", "sign", "start", "close", "visit", "reopen"]
    assert all(e.note for e in r.events)
    # staff actions and the phone view are in the audit chain, which verifies
    acts = set(s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "resident_report")))
    assert {"report.sign", "report.start", "report.close", "report.view_phone"} <= acts
    assert audit.verify(s).ok


def test_police_matter_goes_to_the_communitys_station(world, desk):
    s = world["s"]
    r = submit_report(s, desk, kind="urgent", text="楼道里有人打架", plate=world["plates"][1], now=T0)
    assert (r.department, r.org_code, r.deadline) == ("station", "PS2", datetime(2026, 12, 7, 15, 59, 59,
                                                                                   tzinfo=UTC))


def test_unsure_goes_to_dispatcher_with_suggestions(world, desk):
    s, users = world["s"], world["users"]
    r = submit_report(s, desk, kind="dispute", text="嗯嗯", plate=world["plates"][0], now=T0)
    s.commit()
    assert (r.status, r.department, r.org_code) == ("new", "dispatch", "DISPATCH") and len(r.suggestions) == 3
    act(s, desk, r, "dispatch", actor=users["analyst"], note="人工派单：城管", department="city", now=T0)
    assert (r.status, r.org_code) == ("dispatched", "DEPT-URBAN")
    with pytest.raises(AccessDeniedError):  # a department cannot dispatch
        act(s, desk, r, "return", actor=users["market"], note="x")


def test_mediation_referral_books_next_sitting(world, desk):
    s = world["s"]
    r = submit_report(s, desk, kind="dispute", text="和楼上邻居因为漏水吵架，想请社区调解", plate=world["plates"][0],
                      now=T0 + timedelta(hours=6))  # Monday 16:00 → Tuesday's sitting
    assert r.department == "mediation" and str(r.sitting_date) == "2026-12-08"
    assert r.org_code == "MEDIATION-5PLUS"


def test_duplicates_and_moderation(world, desk):
    s = world["s"]
    p = world["plates"][0]
    a = submit_report(s, desk, kind="dispute", text="楼道灯坏了一个月，物业不修", plate=p, now=T0)
    b = submit_report(s, desk, kind="dispute", text="楼道灯坏了一个月了，物业也不修！", plate=p,
                      now=T0 + timedelta(hours=3))
    c = submit_report(s, desk, kind="dispute", text="楼道灯坏了一个月了，物业也不修！", plate=p,
                      now=T0 + timedelta(hours=30))  # outside the 24 h window
    s.commit()
    assert b.status == "duplicate" and b.duplicate_of_id == a.id and c.status != "duplicate"
    m = submit_report(s, desk, kind="dispute", text="<script>alert(1)</script>加微信 abc123456 领红包", plate=p,
                      now=T0)
    s.commit()
    assert m.status == "moderation" and "markup" in m.moderation
    assert m.text == "<script>alert(1)</script>加微信 abc123456 领红包"  # stored as written, shown escaped
    act(s, desk, m, "hide", actor=world["users"]["analyst"], note="广告，屏蔽")
    assert m.status == "hidden"


def test_bad_input_stores_nothing(world, desk):
    s = world["s"]
    before = s.scalar(select(ResidentReport.id).order_by(ResidentReport.id.desc()).limit(1))
    for kw in ({"text": ""}, {"text": "好" * 5000}, {"text": "x", "phone": "12"}, {"text": "x", "kind": "spam"},
               {"text": "x", "photo": b"not an image"}):
        args = {"kind": "dispute", **kw}
        with pytest.raises(InputError):
            submit_report(s, desk, plate=world["plates"][0], now=T0, **args)
    s.rollback()
    assert s.scalar(select(ResidentReport.id).order_by(ResidentReport.id.desc()).limit(1)) == before


def test_overdue_sweep_urges_then_escalates_once(world, desk):
    s = world["s"]
    r = submit_report(s, desk, kind="urgent", text="有人打架", plate=world["plates"][0], now=T0)
    s.commit()
    res1 = sweep_overdue(s, desk, now=T0 + timedelta(days=1, hours=1))  # Tuesday: 1 working day late
    res2 = sweep_overdue(s, desk, now=T0 + timedelta(days=1, hours=2))
    assert res1 == {"urged": 1, "escalated": 0} and res2 == {"urged": 0, "escalated": 0}
    res3 = sweep_overdue(s, desk, now=T0 + timedelta(days=7))  # next Monday: 5 working days late
    s.commit()
    assert res3 == {"urged": 0, "escalated": 1} and r.escalated
    ev = s.scalars(select(ReportEvent).where(ReportEvent.report_id == r.id, ReportEvent.action == "urge")).one()
    assert ev.detail["overdue"] is True


def test_report_filter_by_role(world, desk):
    s, users = world["s"], world["users"]
    submit_report(s, desk, kind="dispute", text="商家缺斤短两", plate=world["plates"][0], now=T0)
    submit_report(s, desk, kind="dispute", text="电梯坏了物业不修", plate=world["plates"][1], now=T0)
    s.commit()

    def seen(u: str) -> set[str]:
        return set(s.scalars(select(ResidentReport.org_code).where(report_filter(users[u]))))

    assert seen("analyst") == {"DEPT-MARKET", "DEPT-HOUSING"}
    assert seen("market") == {"DEPT-MARKET"} and seen("housing") == {"DEPT-HOUSING"}
    assert seen("ps1") == {"DEPT-MARKET"}  # community C1 is PS1's
    assert seen("ps2") == {"DEPT-HOUSING"}


def test_partner_keys_and_safe_houses(world):
    s = world["s"]
    p, key = new_partner(s, "12345热线", actor=None)
    s.commit()
    assert partner_by_key(s, key) is p and partner_by_key(s, key + "x") is None and p.key_hash != key
    s.add_all([SafeHouse(code="SH1", name="便利店A", lon=121.400, lat=31.100, status="active"),
               SafeHouse(code="SH2", name="便利店B", lon=121.420, lat=31.100, status="active"),
               SafeHouse(code="SH3", name="已关闭", lon=121.4001, lat=31.1001, status="closed")])
    s.commit()
    near = nearest_safe_houses(s, 121.401, 31.100, n=2)
    assert [h.code for h, _ in near] == ["SH1", "SH2"] and 90 < near[0][1] < 100


def test_moderation_hold_then_approve_goes_to_its_route(world, desk):
    s, users = world["s"], world["users"]
    m = submit_report(s, desk, kind="dispute", text="商家卖假货 详情见 www.example.com", plate=world["plates"][0],
                      now=T0)
    s.commit()
    assert m.status == "moderation" and m.events[-1].action == "hold"
    assert m.id not in set(s.scalars(select(ResidentReport.id).where(report_filter(users["market"]))))
    act(s, desk, m, "approve", actor=users["analyst"], note="内容属实，放行", now=T0)
    s.commit()
    assert (m.status, m.org_code) == ("dispatched", "DEPT-MARKET") and m.deadline is not None
    u = submit_report(s, desk, kind="dispute", text="嗯嗯 www.example.com", plate=world["plates"][0], now=T0)
    act(s, desk, u, "approve", actor=users["analyst"], note="放行，人工派单", now=T0)
    assert u.status == "new"  # unsure: approved to the dispatcher, not dispatched to "dispatch"


# ------------------------------------------------------------------------------------------------ store first
def test_deferred_routing_keeps_every_guarantee(world, desk):
    """The public endpoints store first (no classifier in the POST) and route in batches: the batch gives the same
    department, the SLA runs from the submission time, urgent reports are routed at once, duplicates and
    moderation are decided at submission, and two routers never route the same report twice."""
    from anju.ops.resident import PENDING, route_pending

    s, plate = world["s"], world["plates"][0]
    desk.defer_routing = True
    r = submit_report(s, desk, kind="dispute", text="老街店铺卖假货，商家不给退款", plate=plate, now=T0)
    s.commit()
    assert (r.status, r.route_method, r.department, r.deadline) == ("new", PENDING, "dispatch", None)
    assert r.receipt and [e.action for e in r.events] == ["submit"]
    dup = submit_report(s, desk, kind="dispute", text="老街店铺卖假货，商家不给退款！", plate=plate, now=T0)
    held = submit_report(s, desk, kind="dispute", text="加微信 abc12345 领红包 www.x.cn", plate=world["plates"][1],
                         now=T0)
    urgent_word = submit_report(s, desk, kind="dispute", text="楼下有人持刀打架，快来", now=T0)
    urgent_kind = submit_report(s, desk, kind="urgent", text="邻居家传来呼救声", now=T0)
    s.commit()
    assert dup.status == "duplicate" and dup.duplicate_of_id == r.id
    assert held.status == "moderation" and held.route_method == PENDING
    assert urgent_word.route_method != PENDING and urgent_word.matter == "police"  # routed in the POST
    assert urgent_kind.route_method == "kind" and urgent_kind.status == "dispatched"
    # the batch runs three hours later; the SLA still starts at the submission
    assert route_pending(s, desk, now=T0 + timedelta(hours=3)) == 3
    assert route_pending(s, desk, now=T0 + timedelta(hours=3)) == 0
    s.refresh(r)
    assert (r.status, r.department, r.org_code, r.matter) == ("dispatched", "market", "DEPT-MARKET", "market")
    assert r.deadline == datetime(2026, 12, 24, 15, 59, 59, tzinfo=UTC)  # same as the immediate routing above
    assert [e.action for e in r.events] == ["submit", "dispatch"]
    s.refresh(held)
    assert held.status == "moderation" and held.route_method != PENDING
    s.refresh(dup)
    assert dup.status == "duplicate"


def test_two_routers_never_route_a_report_twice(world, desk, ops_engine):
    import threading

    from anju.ops.db import session_factory
    from anju.ops.resident import URGENT_WORDS, route_pending

    s = world["s"]
    desk.defer_routing = True
    texts, _ = synthetic_reports(60, seed=3)
    texts = [t for t in texts if not URGENT_WORDS.search(t)][:30]
    assert len(texts) == 30
    for i, t in enumerate(texts):
        submit_report(s, desk, kind="dispute", text=f"{t} {i}", now=T0)
    s.commit()
    factory = session_factory(ops_engine)
    counts: list[int] = []

    def run() -> None:
        with factory() as s2:
            n = 0
            while (k := route_pending(s2, desk, limit=7)) > 0:
                n += k
            counts.append(n)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 30
    s.expire_all()
    events = s.execute(select(ReportEvent.report_id, ReportEvent.action)).all()
    per_report: dict[int, int] = {}
    for rid, action in events:
        if action in ("dispatch", "submit"):
            per_report[rid] = per_report.get(rid, 0) + 1
    assert all(v == 2 for v in per_report.values()) and len(per_report) == 30  # submit + one routing each
