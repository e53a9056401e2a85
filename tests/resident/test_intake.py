"""Group commit of public submissions (:mod:`anju.ops.resident_intake`) and the Open311 POST that uses it, on SQLite
and PostgreSQL: acknowledged only after commit, duplicates within a batch and against stored rows, moderation,
unknown plates refused alone, hostile text stored as written, rate limits and bad input answered without errors."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anju.config import load_settings
from anju.ops.db import make_engine, session_factory
from anju.ops.models import Community, DoorPlate, ReportEvent, ResidentReport
from anju.ops.resident import PENDING, ResidentDesk, ensure_orgs, register_plates, submit_report
from anju.ops.resident_intake import PlateGone, SubmissionWriter, prepare_submission
from anju.resident.calendar import load_calendar
from anju.resident.corpus import synthetic_reports
from anju.resident.plates import PlateRow
from anju.resident.routing import train_router
from anju.resident.rules import load_resident_rules
from anju.web.app import create_app


@pytest.fixture(scope="module")
def router():
    t, y = synthetic_reports(120, seed=0)
    return train_router(t, y)


@pytest.fixture
def db(ops_url, router):
    engine = make_engine(ops_url)
    desk = ResidentDesk(load_resident_rules(), load_calendar(), router, b"s", defer_routing=True)
    with session_factory(engine)() as s:
        ensure_orgs(s, desk.rules)
        s.add(Community(code="C1", name="莲花新村", street_code="S1", station_code="PS1"))
        s.flush()
        plates = register_plates(s, [PlateRow("C1", "3号", "2", "301", 121.40, 31.10),
                                     PlateRow("C1", "5号", "1", "102", 121.41, 31.11)], actor=None)
        codes = [p.code for p in plates]
        s.commit()
    yield {"url": ops_url, "engine": engine, "desk": desk, "plates": codes}
    engine.dispose()


def _rows(engine) -> dict[str, ResidentReport]:
    with session_factory(engine)() as s:
        return {r.receipt: r for r in s.scalars(select(ResidentReport))}


def _events(engine, receipt: str) -> list[str]:
    with session_factory(engine)() as s:
        return list(s.scalars(select(ReportEvent.action).join(ResidentReport)
                              .where(ResidentReport.receipt == receipt).order_by(ReportEvent.id)))


def test_one_batch_stores_all_with_duplicates_moderation_and_unknown_plates(db):
    desk, engine, (p1, p2) = db["desk"], db["engine"], db["plates"]
    with session_factory(engine)() as s:  # a report already stored on plate 1
        old = submit_report(s, desk, kind="dispute", text="楼上装修噪音太大每天晚上十点以后还在施工",
                            plate=s.scalars(select(DoorPlate).where(DoorPlate.code == p1)).one())
        s.commit()
        old_id, old_receipt = old.id, old.receipt
    subs = [
        prepare_submission(desk, kind="dispute", text="楼上装修噪音太大，每天晚上十点以后还在施工！", plate_code=p1),
        prepare_submission(desk, kind="dispute", text="小区门口流动摊贩占道经营很久了", plate_code=p2),
        prepare_submission(desk, kind="dispute", text="小区门口流动摊贩占道经营很久了！！", plate_code=p2),
        prepare_submission(desk, kind="dispute", text="<script>alert(1)</script>加微信 abc12345", phone="139-1234-5678"),
        prepare_submission(desk, kind="dispute", text="门口路灯坏了", plate_code="ZZZZZZZZZZZZ"),
        prepare_submission(desk, kind="dispute", text="和邻居因为漏水吵架想请社区调解"),
    ]
    assert all(x is not None for x in subs)
    w = SubmissionWriter(engine, duplicate_hours=24, duplicate_similarity=0.6)
    try:
        w.write_batch(subs)  # type: ignore[arg-type]
    finally:
        w.stop()
    bad = subs[4]
    assert isinstance(bad.future.exception(), PlateGone)  # type: ignore[union-attr]
    receipts = [x.future.result() for i, x in enumerate(subs) if i != 4]  # type: ignore[union-attr]
    rows = _rows(engine)
    assert set(receipts) <= set(rows) and len(rows) == 1 + 5  # acknowledged = committed, the bad one absent
    dup_db, first, dup_batch, hostile, plain = (rows[r] for r in receipts)
    assert dup_db.status == "duplicate" and dup_db.duplicate_of_id == old_id
    assert _events(engine, dup_db.receipt) == ["mark_duplicate"] and old_receipt
    assert first.status == "new" and first.route_method == PENDING and first.address == "莲花新村 5号 1 102"
    assert dup_batch.status == "duplicate" and dup_batch.duplicate_of_id == first.id
    assert hostile.status == "moderation" and hostile.text == "<script>alert(1)</script>加微信 abc12345"
    assert hostile.phone == "13912345678" and hostile.phone_masked != hostile.phone
    assert _events(engine, hostile.receipt) == ["hold"]
    assert plain.status == "new" and _events(engine, plain.receipt) == ["submit"]
    assert first.created_at > datetime.now(UTC) - timedelta(minutes=5)  # the SLA clock starts at submission


def test_urgent_text_is_not_deferred(db):
    assert prepare_submission(db["desk"], kind="dispute", text="楼下有人持刀打架") is None
    assert prepare_submission(db["desk"], kind="urgent", text="家里有人") is None


def test_the_thread_acknowledges_after_commit_and_batches(db):
    engine = db["engine"]
    w = SubmissionWriter(engine, duplicate_hours=24, duplicate_similarity=0.6)
    try:
        subs = [prepare_submission(db["desk"], kind="dispute", text=f"第{i}号楼电梯坏了 {i * 7919}")
                for i in range(60)]
        futs = [w.submit(x) for x in subs]  # type: ignore[arg-type]
        got = [f.result(timeout=30) for f in futs]
    finally:
        w.stop()
    assert set(got) <= set(_rows(engine)) and len(set(got)) == 60
    assert w.written == 60 and w.batches < 60  # what queued during a commit went into the next batch


@pytest.fixture
def site(db):
    settings = load_settings(data_dir=db["url"].split("///")[-1] + "-data" if db["url"].startswith("sqlite")
                             else "/tmp/anju-intake-test-data")
    app = create_app(settings, database_url=db["url"])
    app.state.resident_desk = db["desk"]
    client = TestClient(app, base_url="http://127.0.0.1")
    yield {**db, "client": client, "app": app}
    client.close()
    for name in ("resident_writer", "resident_pump"):
        obj = getattr(app.state, name, None)
        if obj is not None:
            obj.stop()


def test_open311_post_stores_first_and_routes_in_a_batch(site):
    c, engine = site["client"], site["engine"]
    r = c.post("/open311/v2/requests.json", data={"service_code": "dispute", "description": "电梯坏了物业不修",
                                                  "attribute[plate]": site["plates"][0]})
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    assert rid in _rows(engine)  # in the database when the 201 arrives
    deadline = time.monotonic() + 20
    while _rows(engine)[rid].deadline is None and time.monotonic() < deadline:
        time.sleep(0.2)  # the routing pump claims, classifies and stores the batch
    routed = _rows(engine)[rid]
    assert routed.route_method in ("model", "review") and routed.deadline is not None
    got = c.get(f"/open311/v2/requests/{rid}.json").json()[0]
    assert got["status"] == "open" and got["expected_datetime"].endswith("+08:00")


def test_open311_post_refuses_bad_input_and_the_excess(site):
    c = site["client"]
    post = c.post
    assert post("/open311/v2/requests.json", data={"service_code": "dispute"}).status_code == 400
    assert post("/open311/v2/requests.json", data={"service_code": "dispute", "description": "x",
                                                   "lat": "91"}).status_code == 400
    assert post("/open311/v2/requests.json", data={"service_code": "dispute", "description": "x" * 3000}
                ).status_code == 400
    assert post("/open311/v2/requests.json", content=b"description=" + b"x" * 300_000,
                headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    assert post("/open311/v2/requests.json", data={"service_code": "dispute", "description": "路灯坏了",
                                                   "attribute[plate]": "ZZZZZZZZZZZZ"}).status_code == 400
    got = [post("/open311/v2/requests.json", data={"service_code": "dispute",
                                                   "description": f"噪音扰民第{i}次 {i * 31}"}).status_code
           for i in range(5)]
    assert got == [201, 201, 201, 429, 429]  # five a minute per client: the long text and the bad plate counted
    assert len(_rows(site["engine"])) == 3


def test_plate_page_stores_through_the_writer_and_shows_the_text_escaped(site):
    import re

    c, code = site["client"], site["plates"][1]
    page = c.get(f"/p/{code}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    hostile = "<img src=x onerror=alert(1)>楼道里堆满杂物"
    r = c.post(f"/p/{code}", data={"kind": "dispute", "text": hostile, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    receipt = r.headers["location"].split("/r/")[1].split("?")[0]
    stored = _rows(site["engine"])[receipt]
    assert stored.text == hostile and stored.status == "moderation" and stored.source == "plate"
    shown = c.get(r.headers["location"]).text
    assert "<img src=x" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert site["app"].state.resident_writer.written == 1


# ------------------------------------------------------------------------------------------------ routing batch
def test_the_routing_batch_stores_what_routing_in_the_request_stores(db):
    """``route_pending`` writes with Core (executemany UPDATE + one INSERT): every column and history row it sets
    equals what the ORM path (routing inside ``submit_report``) sets for the same report — police to the
    community's station, mediation with its sitting, the unsure to the dispatcher, held and duplicate reports."""
    from anju.ops.resident import URGENT_WORDS, route_pending

    desk, engine, (p1, p2) = db["desk"], db["engine"], db["plates"]
    texts, _ = synthetic_reports(8, seed=21)
    texts = [t for t in texts if not URGENT_WORDS.search(t)][:40]
    texts += ["加微信 abc12345 领红包 www.x.cn", "那个东西又出问题了", "和邻居因为漏水吵架想请社区调解"]
    now = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)  # a Tuesday morning in Shanghai: today's mediation sitting
    immediate = ResidentDesk(desk.rules, desk.calendar, desk.router, b"s", defer_routing=False)
    pairs: list[tuple[int, int]] = []
    with session_factory(engine)() as s:
        plates = {p.code: p for p in s.scalars(select(DoorPlate))}
        c1 = s.scalars(select(Community).where(Community.code == "C1")).one()
        for t in texts:  # no plate: no duplicate detection between the two copies
            a = submit_report(s, immediate, kind="dispute", text=t, community=c1, now=now)
            b = submit_report(s, desk, kind="dispute", text=t, community=c1, now=now)
            s.flush()
            pairs.append((a.id, b.id))
        dup = "小区门口流动摊贩占道经营很久了"  # a duplicate on each plate: one routed at once, one in the batch
        for x in (dup, dup + "！！"):
            a = submit_report(s, immediate, kind="dispute", text=x, plate=plates[p1], now=now)
            b = submit_report(s, desk, kind="dispute", text=x, plate=plates[p2], now=now)
            s.flush()
        pairs.append((a.id, b.id))
        s.commit()
        n_pending = len(texts) + 2
        assert route_pending(s, desk, now=now) == n_pending and route_pending(s, desk, now=now) == 0
    cols = ("matter", "department", "org_code", "confidence", "route_method", "suggestions", "status", "deadline",
            "sitting_date")
    with session_factory(engine)() as s:
        reports = {r.id: r for r in s.scalars(select(ResidentReport))}
        seen = set()
        for a_id, b_id in pairs:
            a, b = reports[a_id], reports[b_id]
            assert [getattr(a, c) for c in cols] == [getattr(b, c) for c in cols], a.text
            hist = [[(e.action, e.from_status, e.to_status, re.sub(r"[0-9A-Z]{12}$", "<receipt>", e.note),
                      e.department, e.actor_name, e.detail) for e in r.events] for r in (a, b)]
            if hist[1] and hist[1][0][3] == "已受理，等待分派":  # stored first: received, then routed
                hist[1] = hist[1][1:]
            assert hist[0] == hist[1], a.text
            seen |= {b.status, b.org_code, b.department}
    # the cases that take different branches were all exercised
    assert {"dispatched", "moderation", "duplicate", "new", "PS1", "dispatch", "mediation"} <= seen


def test_the_routing_batch_finds_pending_reports_through_an_index(db):
    """The claim query runs every second beside the endpoint: it must not scan the table (migration 0006)."""
    if not db["url"].startswith("sqlite"):
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    with db["engine"].connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM resident_report WHERE route_method = ? ORDER BY id LIMIT 500",
            ("pending",)))
    assert "ix_resident_report_route_method" in plan and "SCAN resident_report" not in plan, plan


# ------------------------------------------------------------------------------------------------ trace
def test_the_trace_records_where_a_submission_waited(db, tmp_path):
    """Each stored submission carries its monotonic timings (queued ≤ batch start ≤ lock ≤ commit start ≤ committed);
    a Trace writes them as tab-separated lines of its process's file."""
    from anju.ops.resident_trace import Trace

    w = SubmissionWriter(db["engine"], duplicate_hours=24, duplicate_similarity=0.6)
    try:
        subs = [prepare_submission(db["desk"], kind="dispute", text=f"路灯坏了第{i}盏") for i in range(5)]
        for x in subs:
            w.submit(x).result(timeout=30)  # type: ignore[union-attr]
    finally:
        w.stop()
    for x in subs:
        assert x is not None and len(x.times) == 6 and x.times == sorted(x.times) and x.batch_size >= 1
    tr = Trace(str(tmp_path))
    tr.add("s", *subs[0].times, 7)  # type: ignore[union-attr]
    tr.add("r", 1.0, 2.5, 30)
    tr.flush()
    lines = next(tmp_path.glob("intake-*.tsv")).read_text().splitlines()
    assert [ln.split("\t")[0] for ln in lines] == ["s", "r"] and lines[1] == "r\t1.000000\t2.500000\t30"
    assert len(lines[0].split("\t")) == 8
    off = Trace(None)
    off.add("s", 1.0)
    off.flush()
    assert not off.enabled and off._lines == []


def test_a_serving_process_freezes_its_start_up_heap(tmp_path):
    """``app_from_env`` (each ``anju serve --workers`` process) moves the start-up heap out of the collector's reach,
    so a full collection walks only what came after; a test process (``create_app``) is left alone."""
    import gc
    import os
    import subprocess
    import sys

    from anju.web.heap import frozen

    code = ("import gc; from anju.web.app import app_from_env; app_from_env(); "
            "print(gc.get_freeze_count(), len(gc.get_objects()))")
    env = {**os.environ, "ANJU_DATA_DIR": str(tmp_path), "ANJU_DATABASE_URL": f"sqlite:///{tmp_path / 'ops.db'}"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    n_frozen, n_left = (int(x) for x in out.stdout.split()[-2:])
    assert n_frozen > 100_000 and n_left < n_frozen // 10, out.stdout
    assert not frozen() and gc.get_freeze_count() == 0  # this (test) process never froze
