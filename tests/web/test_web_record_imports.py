"""Excel imports of organisations, communities, profiles and users from the web: template, dry run that shows every
row (written nothing), commit, the same file twice changes nothing, limits, permissions; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anju.ops.imports import COLUMNS
from anju.ops.models import AuditEvent, Organisation, User


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _count(client, model) -> int:
    with Session(client.app.state.anju.engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_organisations_dry_run_then_commit_then_again_unchanged(client) -> None:
    client.login_as("analyst")
    tpl = client.get("/imports/records/organisations/template.xlsx")
    assert tpl.status_code == 200
    header = [c.value for c in load_workbook(io.BytesIO(tpl.content)).active[1]]
    assert header == [COLUMNS["organisations"][c][0] for c in COLUMNS["organisations"]]
    book = _xlsx([header,
                  ["ORG-T1", "测试派出所<script>", "派出所", None, None, None],
                  ["ORG-T2", "测试物业", "物业公司", None, None, None],
                  ["ORG-T3", "无类型单位", "外星机构", None, None, None],
                  ["ORG-T1", "重复", "派出所", None, None, None]])
    before = _count(client, Organisation)
    del client.headers["X-CSRF-Token"]  # a browser form
    r = client.post("/imports/records/organisations", data={"csrf_token": client.csrf},
                    files={"file": ("单位.xlsx", book)})
    assert r.status_code == 200, r.text
    html = r.text
    assert _count(client, Organisation) == before  # the dry run wrote nothing
    outcomes = re.findall(r'data-outcome="(\w+)"', html)
    assert outcomes == ["created", "created", "rejected", "rejected"]  # every row shown, in sheet order
    assert "duplicate" in html and "<script>" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    token = re.search(r'name="token" value="([0-9a-f]{16})"', html).group(1)
    done = client.post("/imports/records/organisations/commit", data={"csrf_token": client.csrf, "token": token})
    assert done.status_code == 200 and 'data-created="2"' in done.text
    assert _count(client, Organisation) == before + 2
    # the token is spent; the same file again changes nothing
    assert client.post("/imports/records/organisations/commit",
                       data={"csrf_token": client.csrf, "token": token}).status_code == 404
    client.headers["X-CSRF-Token"] = client.csrf
    again = client.post("/api/v1/imports/records/organisations", params={"dry_run": "false"},
                        files={"file": ("单位.xlsx", book)}).json()
    assert (again["created"], again["updated"], again["unchanged"], len(again["rejected"])) == (0, 0, 2, 2)
    assert _count(client, Organisation) == before + 2
    with Session(client.app.state.anju.engine) as s:
        acts = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("import.organisations%"))
                              .order_by(AuditEvent.seq)))
    assert acts == ["import.organisations.preview", "import.organisations", "import.organisations"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_users_import_is_for_admins_and_shows_initial_passwords_once(make_client) -> None:
    analyst = make_client().login_as("analyst")
    book = _xlsx([["用户名", "姓名", "角色", "单位编码", "数据范围"], ["new.grid", "新网格员", "grid_worker", None, None],
                  ["bad.role", "坏角色", "superuser", None, None]])
    assert analyst.post("/api/v1/imports/records/users", files={"file": ("u.xlsx", book)}).status_code == 403
    assert analyst.get("/imports/records/users/template.xlsx").status_code == 403
    admin = make_client().login_as("admin")
    rep = admin.post("/api/v1/imports/records/users", params={"dry_run": "false"},
                     files={"file": ("u.xlsx", book)}).json()
    assert rep["created"] == 1 and rep["rejected"][0]["row"] == 3 and "superuser" in rep["rejected"][0]["reason"]
    assert set(rep["new_passwords"]) == {"new.grid"}
    with Session(admin.app.state.anju.engine) as s:
        u = s.scalar(select(User).where(User.username == "new.grid"))
        assert u is not None and rep["new_passwords"]["new.grid"] not in u.password_hash
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "import.users")).all()[-1]
        assert rep["new_passwords"]["new.grid"] not in str(ev.detail)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_record_uploads_are_limited(make_client) -> None:
    from anju.web.security import WebConfig

    c = make_client(config=WebConfig(max_upload_mb=1)).login_as("analyst")
    for name, content, status in [("x.csv", b"a,b\n", 400), ("x.xlsx", b"not a zip", 400),
                                  ("x.xlsx", b"PK\x03\x04" + b"0" * (1 << 21), 400),
                                  ("x.xlsx", _xlsx([["名字"], ["x"]]), 400)]:  # no required column
        r = c.post("/api/v1/imports/records/communities", files={"file": (name, content)})
        assert r.status_code == status, (name, r.text)
    assert c.post("/api/v1/imports/records/nonsense", files={"file": ("x.xlsx", b"PK")}).status_code == 404
