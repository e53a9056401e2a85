"""Monthly assessment from the web: input entry and upload by the responsible roles within their scope, and the
monthly bulletin built as a worker job and downloadable from the assessment page."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.assess.inputs import stored
from anju.config import Settings, load_settings
from anju.ops.models import AuditEvent, User
from anju.ops.scope import allowed_community_codes

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def data_copy(web_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the demo data directory (these tests add input rows and archive a bulletin)."""
    d = tmp_path_factory.mktemp("assess-web") / "data"
    shutil.copytree(web_demo, d, ignore=shutil.ignore_patterns("cache", "releases", "demo", "uploads"))
    return load_settings(data_dir=d, quiet=True)


def _scope(client, role: str) -> frozenset[str]:
    with Session(client.app.state.anju.engine) as s:
        got = allowed_community_codes(s, s.scalar(select(User).where(User.username == role)))
    assert got
    return got


def test_grid_worker_enters_registrations_in_scope_only(make_client, data_copy) -> None:
    c = make_client(settings=data_copy).login_as("grid_worker")
    inside = sorted(_scope(c, "grid_worker"))[0]
    everyone = set(stored(data_copy, "registrations")["community_id"].astype(str))
    outside = sorted(everyone - _scope(c, "grid_worker"))[0]
    page = c.get("/assessment/inputs")
    assert page.status_code == 200 and 'id="input-registrations"' in page.text
    assert 'id="input-survey_answers"' not in page.text  # not this role's input
    del c.headers["X-CSRF-Token"]  # a browser form
    row = {"csrf_token": c.csrf, "month": "2031-01", "community_id": inside, "building": "9号楼", "households": "40",
           "registered_households": "38", "stale_households": "2"}
    r = c.post("/assessment/inputs/registrations/entry", data=row)
    assert r.status_code == 200 and 'data-loaded="1"' in r.text, r.text[-2000:]
    again = c.post("/assessment/inputs/registrations/entry", data=row)
    assert 'data-unchanged="1"' in again.text and 'data-loaded="0"' in again.text
    bad = c.post("/assessment/inputs/registrations/entry", data=row | {"community_id": outside})
    assert 'data-rejected="1"' in bad.text and "outside your data scope" in bad.text
    assert c.post("/assessment/inputs/registrations/entry", data={k: v for k, v in row.items()
                                                                   if k != "csrf_token"}).status_code == 403
    c.headers["X-CSRF-Token"] = c.csrf
    csv = ("月份,小区编码,楼号,户数,已采集户数,逾期未核实户数,联系电话\n"
           f"2031-01,{inside},10号楼,30,31,0,13800000000\n2031-01,{outside},1号楼,30,20,1,13800000001\n"
           f"2031-01,{inside},11号楼,30,29,1,13800000002\n").encode()
    rep = c.post("/api/v1/assessment/inputs/registrations", files={"file": ("采集.csv", csv, "text/csv")}).json()
    assert rep["rows"] == 3 and rep["loaded"] == 1 and [x["row"] for x in rep["rejected"]] == [2, 3]
    assert rep["dropped_columns"] == ["联系电话"]  # personal columns are never stored
    reg = stored(data_copy, "registrations")
    assert not reg.astype(str).apply(lambda s: s.str.contains("13800000")).any().any()
    assert make_client(settings=data_copy).login_as("property_manager").post(
        "/api/v1/assessment/inputs/registrations", files={"file": ("x.csv", csv)}).status_code == 403
    with Session(c.app.state.anju.engine) as s:
        n = len(s.scalars(select(AuditEvent).where(AuditEvent.action == "assessment.input.registrations")).all())
    assert n == 4


def test_bulletin_is_built_by_a_worker_job_and_downloadable(make_client, data_copy, release_json) -> None:
    from anju.ops.db import session_factory
    from anju.worker.runner import run_job

    period = release_json["meta"]["period"]  # e.g. 2025H2
    month = f"{period[:4]}-{'12' if period.endswith('H2') else '06'}"
    ev = make_client(settings=data_copy).login_as("evaluator")
    assert make_client(settings=data_copy).login_as("station").post(
        "/api/v1/assessment/bulletins", params={"month": month}).status_code == 403
    assert ev.post("/api/v1/assessment/bulletins", params={"month": "2025-13"}).status_code == 400
    r = ev.post("/api/v1/assessment/bulletins", params={"month": month})
    assert r.status_code == 202, r.text
    jid = r.json()["id"]
    assert 'id="bulletin-build"' in ev.get("/assessment").text
    assert run_job(data_copy, session_factory(ev.app.state.anju.engine), jid) == "done", \
        ev.get(f"/api/v1/jobs/{jid}").json()
    job = ev.get(f"/jobs/{jid}").text
    assert f'/assessment/{month}/docx' in job
    assert month in ev.get("/assessment").text
    doc = ev.get(f"/assessment/{month}/docx")
    assert doc.status_code == 200 and doc.content[:2] == b"PK"
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    assert "通报" in text
