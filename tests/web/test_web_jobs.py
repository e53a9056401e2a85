"""Uploads and background jobs: an upload is checked before anything is queued; an import and a release build run
in a real worker process (never in the web process) and the job page reports their progress and results."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from anju.config import load_settings
from anju.web.lake_view import LakeView
from anju.web.security import WebConfig


def _wait(client, job_id: int, timeout: float = 600) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_bad_uploads_are_refused_and_leave_nothing(make_client, web_settings) -> None:
    c = make_client(config=WebConfig(max_upload_mb=1)).login_as("analyst")
    uploads = Path(web_settings.data_dir) / "uploads"
    before = set(uploads.rglob("*")) if uploads.exists() else set()
    cases = [("calls.exe", b"MZ\x90\x00", "not accepted"), ("calls.xlsx", b"not a zip file", "not an Excel"),
             ("calls.parquet", b"nope", "PAR1"), ("calls.csv", b"a,b\n\x00\x01\x02", "binary"),
             ("calls.csv", b"", "empty"), ("calls.csv", b"x" * (1_200_000), "larger than 1 MiB")]
    for name, content, message in cases:
        r = c.post("/api/v1/imports", files={"file": (name, content)}, data={"profile": "cn110"})
        assert r.status_code == 400 and message in r.json()["error"], (name, r.text)
    r = c.post("/api/v1/imports", files={"file": ("calls.csv", b"a,b\n1,2\n")}, data={"profile": "../../x"})
    assert r.status_code in (400, 422)
    after = set(uploads.rglob("*")) if uploads.exists() else set()
    assert {p for p in after - before if p.is_file()} == set()
    c2 = make_client().login_as("community_police")
    assert c2.post("/api/v1/imports", files={"file": ("c.csv", b"a\n1\n")}).status_code == 403
    assert c2.post("/api/v1/releases").status_code == 403


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_import_and_release_run_in_a_worker_process(web_demo, web_db, tmp_path, make_client) -> None:
    from anju.worker.runner import spawn_worker

    data = tmp_path / "data"  # a copy: this test adds rows to the lake
    shutil.copytree(web_demo, data, ignore=shutil.ignore_patterns("cache", "releases"))
    (data / "worker").mkdir(exist_ok=True)  # no scheduled briefings in this test: it times imports and releases
    (data / "worker" / "schedule.toml").write_text('[[job]]\nkind = "briefing"\nenabled = false\n', encoding="utf-8")
    settings = load_settings(data_dir=data, quiet=True)
    c = make_client(settings=settings).login_as("analyst")
    lines = (data / "demo" / "calls.csv").read_bytes().split(b"\n")
    rows = [b"T" + ln[2:] if ln.startswith(b'"J') else ln for ln in lines[1:301]]  # new incident ids
    export = b"\n".join([lines[0], *rows]) + b"\n"
    before = LakeView(settings, persist=False)
    key_before = before.data_key()
    worker = spawn_worker(settings, url=web_db)
    try:
        r = c.post("/api/v1/imports", files={"file": ("110导出.csv", export, "text/csv")}, data={"profile": "cn110"})
        assert r.status_code == 202, r.text
        job = _wait(c, r.json()["id"])
        assert job["status"] == "done", job
        rep = job["result"]
        assert rep["rows_read"] == 300 and rep["rows_loaded"] + rep["rows_quarantined"] == 300
        assert rep["rows_loaded"] > 250
        assert before.data_key() != key_before  # the lake changed: the overview will be rebuilt once
        page = c.get(f"/jobs/{job['id']}")
        assert page.status_code == 200 and 'data-status="done"' in page.text
        r = c.post("/api/v1/releases", params={"formats": "json,html"})
        assert r.status_code == 202
        job = _wait(c, r.json()["id"])
        assert job["status"] == "done", job
        assert set(job["result"]["files"]) == {"index.html", "release.json"}
        listed = c.get("/api/v1/releases").json()
        assert listed["count"] == 1 and set(listed["data"][0]["files"]) == {"index.html", "release.json"}
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert c.app.state.anju.lake.builds <= 1  # the web process assembled at most the overview, never a release file
