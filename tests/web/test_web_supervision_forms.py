"""Supervision cases written through the web (挂牌督导): open from the candidate list or by hand, review with the risk
profile recomputed, log a measure with an evidence file (size/type limits), close — role and scope checked, audited,
hostile text escaped."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.ops.models import AuditEvent, Community, SupervisionCase, User
from anju.ops.scope import allowed_community_codes

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def png_bytes() -> bytes:
    """A valid 1×1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _actions(client) -> list[str]:
    with Session(client.app.state.anju.engine) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "supervision_case")
                              .order_by(AuditEvent.seq)))


def _scope(client, role: str) -> tuple[frozenset[str], list[str]]:
    with Session(client.app.state.anju.engine) as s:
        user = s.scalar(select(User).where(User.username == role))
        allowed = allowed_community_codes(s, user)
        every = list(s.scalars(select(Community.code).order_by(Community.code)))
    assert allowed is not None
    return allowed, every


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_analyst_opens_from_the_candidate_list_reviews_and_closes(client) -> None:
    client.login_as("analyst")
    cand = client.get("/api/v1/supervision/candidates", params={"n": 5}).json()
    assert cand["count"] == 5 and [r["rank"] for r in cand["data"]] == [1, 2, 3, 4, 5]
    top = cand["data"][0]
    page = client.get("/supervision").text
    assert f'data-area="{top["area_id"]}"' in page and 'name="csrf_token"' in page
    r = client.post("/api/v1/supervision/cases", json={"community_code": top["area_id"], "official": "王局",
                                                         "base_period": cand["base_period"], "rank": 1,
                                                         "opened_on": "2025-01-01", "goal_change": -0.3})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    second = cand["data"][1]["area_id"]  # a rank that is not the community's is refused
    assert client.post("/api/v1/supervision/cases", json={"community_code": second, "official": "x", "rank": 1,
                                                            "base_period": cand["base_period"]}).status_code == 400
    # a second open case for the same community is refused
    assert client.post("/api/v1/supervision/cases", json={"community_code": top["area_id"], "official": "x",
                                                            "base_period": cand["base_period"]}).status_code == 400
    rv = client.post(f"/api/v1/supervision/cases/{cid}/reviews", json={"as_of": "2025-07-01"})
    assert rv.status_code == 201, rv.text
    assert rv.json()["profile"]["factors"] and rv.json()["progress"]["change"] is not None
    with Session(client.app.state.anju.engine) as s:
        case = s.get(SupervisionCase, cid)
        assert case.source == "candidate" and case.rank_at_opening == 1 and case.status == "reviewing"
        assert [x.kind for x in case.snapshots] == ["opening", "review"]
    assert client.post(f"/api/v1/supervision/cases/{cid}/close", json={"outcome": "met"}).json()["status"] == \
        "closed_met"
    assert client.post(f"/api/v1/supervision/cases/{cid}/close", json={"outcome": "met"}).status_code == 400
    assert _actions(client)[-3:] == ["supervision.open", "supervision.review", "supervision.close"]


def test_station_opens_by_hand_and_logs_a_measure_with_evidence(client) -> None:
    allowed, every = _scope(client, "station")
    inside, outside = sorted(allowed)[0], next(c for c in every if c not in allowed)
    client.login_as("station")
    form = {"csrf_token": client.csrf, "community_code": outside, "official": "李所", "base_period": "2024",
            "goal_pct": "-30", "opened_on": "2025-01-01"}
    del client.headers["X-CSRF-Token"]  # a browser form: the token travels in the form only
    assert client.post("/supervision", data=form, follow_redirects=False).status_code == 403
    r = client.post("/supervision", data=form | {"community_code": inside}, follow_redirects=False)
    assert r.status_code == 303, r.text
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    url = f"/supervision/{cid}/measures"
    ok = client.post(url, data={"csrf_token": client.csrf, "category": "技防", "what": "加装探头" + HOSTILE,
                                "who": "张警官", "cost": "12000", "on": "2025-02-01"},
                     files={"evidence": ("现场.png", png_bytes(), "image/png")}, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    fake = client.post(url, data={"csrf_token": client.csrf, "category": "物防", "what": "x"},
                       files={"evidence": ("fake.png", b"#!/bin/sh\necho pwned\n", "image/png")})
    assert fake.status_code == 400
    big = client.post(url, data={"csrf_token": client.csrf, "category": "物防", "what": "x"},
                      files={"evidence": ("big.pdf", io.BytesIO(b"%PDF-" + b"0" * (10 << 20)), "application/pdf")})
    assert big.status_code == 400
    assert client.post(url, data={"category": "物防", "what": "no token"}).status_code == 403
    with Session(client.app.state.anju.engine) as s:
        case = s.get(SupervisionCase, cid)
        assert case.source == "manual" and len(case.measures) == 1  # the refused ones left nothing
        m = case.measures[0]
        assert m.category == "technical" and m.evidence_type == "image/png" and m.what.endswith(HOSTILE)
        stored = client.app.state.anju.settings.data_dir / "supervision" / "evidence" / m.evidence_sha256
        assert stored.read_bytes() == png_bytes()
    html = client.get(f"/supervision/{cid}").text
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert "supervision.measure" in _actions(client)
    assert not list((client.app.state.anju.settings.data_dir / "uploads").glob("evidence-*"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_roles_without_the_right_cannot_write_cases(make_client) -> None:
    analyst = make_client().login_as("analyst")
    code = analyst.get("/api/v1/supervision/candidates", params={"n": 1}).json()["data"][0]["area_id"]
    cid = analyst.post("/api/v1/supervision/cases", json={"community_code": code, "official": "王局",
                                                           "base_period": "2024"}).json()["id"]
    for role in ("property_manager", "evaluator", "leader"):
        c = make_client().login_as(role)
        assert c.post("/api/v1/supervision/cases", json={"community_code": code, "official": "x",
                                                          "base_period": "2024"}).status_code == 403, role
        assert c.post(f"/api/v1/supervision/cases/{cid}/close", json={"outcome": "met"}).status_code == 403, role
        assert c.post(f"/api/v1/supervision/cases/{cid}/measures",
                      data={"category": "人防", "what": "x"}).status_code == 403, role
