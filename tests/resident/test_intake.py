"""Group commit of public submissions (:mod:`anju.ops.resident_intake`) and the Open311 POST that uses it, on SQLite
and PostgreSQL: acknowledged only after commit, duplicates within a batch and against stored rows, moderation,
unknown plates refused alone, hostile text stored as written, rate limits and bad input answered without errors."""

from __future__ import annotations

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
