"""The supervision board and the bulletin archive over HTTP: scope by role, personal fields, audit, escaping."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.ops.models import AuditEvent, User
from anju.ops.scope import allowed_community_codes
from anju.supervision import service as svc


def _open_cases(engine: Any, settings: Any) -> tuple[str, str]:
    """Open one case inside the property manager's estates and one outside; return their community codes."""
    from anju.lake import connect

    with Session(engine) as s, connect(settings) as lk:
        pm = s.scalars(select(User).where(User.role == "property_manager")).one()
        mine = sorted(allowed_community_codes(s, pm) or [])
        assert mine, "the demo property manager manages at least one community"
        every = sorted(lk.areas("community").to_pandas()["area_id"])
        other = next(c for c in every if c not in mine)
        t = lk.incidents()
        for code in (mine[0], other):
            case = svc.open_case(s, t, actor=None, community_code=code, official="王局长",
                                 opened_on=dt.date(2025, 1, 1), base_period="2024", community_police="李警官")
            svc.add_measure(s, settings, case.id, actor=None, on_date=dt.date(2025, 2, 1), category="management",
                            what="<script>alert('x')</script>整改")
        s.commit()
    return mine[0], other


def test_board_scope_personal_fields_and_audit(make_client: Any, engine_of: Any, web_settings: Any,
                                               lake_view: Any) -> None:
    c = make_client()
    mine, other = _open_cases(engine_of(c), web_settings)
    pm = c.login_as("property_manager")
    rows = pm.get("/api/v1/supervision/cases").json()["data"]
    assert [r["community"] for r in rows] == [mine]
    assert rows[0]["official"] is None and rows[0]["community_police"] is None
    other_id = 2
    assert pm.get(f"/api/v1/supervision/cases/{other_id}").status_code == 403
    assert pm.get(f"/supervision/{other_id}").status_code == 403
    assert pm.get(f"/supervision/{rows[0]['id']}/report.docx").status_code == 403
    page = pm.get(f"/supervision/{rows[0]['id']}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert pm.get("/assessment").status_code == 403

    a = make_client().login_as("analyst")
    rows = a.get("/api/v1/supervision/cases").json()["data"]
    assert sorted(r["community"] for r in rows) == sorted([mine, other]) and rows[0]["official"] == "王局长"
    r = a.get(f"/supervision/{other_id}/report.docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    # the board and the case report show the raw change, the change expected without intervention and the net
    # effect with its interval (the same evaluate_set as `anju supervise evaluate`)
    import io

    from docx import Document

    board = a.get("/supervision").text
    assert all(f'id="{k}"' in board for k in ("ev-raw", "ev-expected", "ev-net", "ev-did"))
    # the set evaluation is computed once per listed set and data version, not per view
    evals = lambda: sorted(k[1] for k in lake_view._cache if k[1].startswith("evaluation:"))  # noqa: E731
    seen = evals()
    assert len(seen) >= 1
    assert a.get("/supervision").text == board and evals() == seen
    assert "无干预预期变化" in board and "净效果" in board and "95% 区间" in board
    doc = Document(io.BytesIO(r.content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert {"原始变化", "无干预预期变化", "净效果"} <= set(cells)
    assert any(c.startswith("95%区间") for c in cells)
    with Session(engine_of(c)) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("supervision.%"))))
    assert "supervision.export" in actions and "supervision.view" in actions and "supervision.open" in actions


def test_bulletin_archive_for_district_roles(make_client: Any, web_settings: Any, tmp_path: Any) -> None:
    from anju.assess.archive import build_bulletin

    files = build_bulletin(web_settings, "2025-12", issued=dt.date(2026, 1, 5))
    ev = make_client().login_as("evaluator")
    listed = ev.get("/api/v1/assessment/bulletins").json()["data"]
    assert any(b["month"] == "2025-12" for b in listed)
    assert ev.get("/assessment").status_code == 200
    r = ev.get("/assessment/2025-12/docx")
    assert r.status_code == 200 and r.content == files.docx.read_bytes()
    assert ev.get("/assessment/2025-13/docx").status_code == 403
    assert ev.get("/assessment/2024-01/xlsx").status_code == 404
