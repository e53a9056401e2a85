"""Excel imports: every row accounted (created/updated/unchanged/rejected with row and reason), idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anju.errors import OpsError
from anju.ops import audit
from anju.ops.imports import import_records
from anju.ops.models import Community, CommunityProfile, Organisation, User
from anju.ops.passwords import verify_password


def xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数据")
    for j, h in enumerate(header):
        ws.write(0, j, h)
    for i, r in enumerate(rows, start=1):
        for j, v in enumerate(r):
            if v is not None:
                ws.write(i, j, v)
    wb.close()
    return path


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_organisations_every_row_accounted_and_idempotent(ops_session: Session, tmp_path: Path) -> None:
    f = xlsx(tmp_path / "orgs.xlsx", ["编码", "名称", "类型", "上级编码"], [
        ["B", "闵安公安分局", "分局", None],
        ["PS1", "莘安派出所", "派出所", "B"],
        ["PS2", "莲华派出所", "station", "B"],
        ["X", "某俱乐部", "俱乐部", None],            # row 5: unknown kind
        ["PS1", "重复", "派出所", "B"],                # row 6: duplicate code
        ["PS3", "古梅派出所", "派出所", "NOPE"],       # row 7: unknown parent
        [None, "无编码", "派出所", None],              # row 8: empty code
        ["PM", "<script>alert(1)</script>物业", "物业公司", None],  # stored as given, escaped on output
    ])
    rep = import_records(ops_session, f, "organisations")
    ops_session.commit()
    assert rep.rows == 8 and rep.accounted
    assert (rep.created, rep.updated, rep.unchanged) == (4, 0, 0)
    assert [r for r, _ in rep.rejected] == [5, 6, 7, 8]
    reasons = dict(rep.rejected)
    assert "kind" in reasons[5] and "duplicate" in reasons[6] and "NOPE" in reasons[7] and "empty" in reasons[8]
    ps1 = ops_session.scalars(select(Organisation).where(Organisation.code == "PS1")).one()
    assert ps1.kind == "station" and ps1.parent is not None and ps1.parent.code == "B"
    pm = ops_session.scalars(select(Organisation).where(Organisation.code == "PM")).one()
    assert pm.name == "<script>alert(1)</script>物业"  # stored verbatim (bound parameter); escaping is on output
    n = _count(ops_session, Organisation)
    again = import_records(ops_session, f, "organisations")
    ops_session.commit()
    assert (again.created, again.updated, again.unchanged, len(again.rejected)) == (0, 0, 4, 4)
    assert _count(ops_session, Organisation) == n
    assert audit.verify(ops_session).ok and audit.verify(ops_session).rows == 2


def test_communities_profiles_users(ops_session: Session, tmp_path: Path) -> None:
    import_records(ops_session, xlsx(tmp_path / "o.xlsx", ["code", "name", "kind"],
                                     [["PS1", "派出所", "station"], ["PM1", "物业", "property_company"]]),
                   "organisations")
    comm = xlsx(tmp_path / "c.xlsx", ["小区编码", "小区名称", "街镇编码", "派出所编码", "网格编码", "物业公司编码"], [
        ["C1", "莲花新村", "S1", "PS1", "C1-1、C1-2", "PM1"],
        ["C2", "春申景城", "S1", "PS1", "C2-1", None],
        ["C3", "重网格", "S1", "PS1", "C1-1", None],   # row 4: grid taken by C1
        ["C4", "错物业", "S1", "PS1", None, "PS1"],     # row 5: not a property company
    ])
    rep = import_records(ops_session, comm, "communities")
    assert (rep.created, [r for r, _ in rep.rejected]) == (2, [4, 5])
    c1 = ops_session.scalars(select(Community).where(Community.code == "C1")).one()
    assert c1.grid_codes == ["C1-1", "C1-2"]

    prof = xlsx(tmp_path / "p.xlsx", ["小区编码", "生效日期", "户数", "出租率", "故障探头数", "探头数", "业委会"], [
        ["C1", "2025-01-01", 800, "85%", 30, 50, "否"],
        ["C1", "2025-07-01", 820, 0.9, 35, 50, "否"],
        ["C9", "2025-01-01", 1, 0.1, 0, 1, "是"],      # row 4: unknown community
        ["C2", "2025-13-01", 1, 0.1, 0, 1, "是"],      # row 5: bad date
        ["C2", "2025-01-01", 1, 1.5, 0, 1, "是"],      # row 6: share > 1
        ["C2", "2025-01-01", 1, 0.1, 5, 1, "是"],      # row 7: faulty > cameras
        ["C2", "2025-01-01", 1, 0.1, 0, 1, "也许"],    # row 8: not yes/no
    ])
    rep = import_records(ops_session, prof, "profiles")
    assert rep.accounted and rep.created == 2 and [r for r, _ in rep.rejected] == [4, 5, 6, 7, 8]
    p = ops_session.scalars(select(CommunityProfile).order_by(CommunityProfile.id)).first()
    assert p is not None and p.rental_rate == pytest.approx(0.85) and p.has_owners_committee is False
    again = import_records(ops_session, prof, "profiles")
    assert (again.created, again.unchanged) == (0, 2)
    assert _count(ops_session, CommunityProfile) == 2

    users = xlsx(tmp_path / "u.xlsx", ["用户名", "姓名", "角色", "单位编码", "数据范围", "初始密码"], [
        ["zhang", "张警官", "community_police", "PS1", "community:C1;community:C2", "a-long-password-1"],
        ["li", "李", "station", "PS1", "station:PS1", None],
        ["wang", "王", "superuser", None, None, None],     # row 4: unknown role
        ["zhao", "赵", "station", None, "planet:X", None],  # row 5: bad scope level
        ["qian", "钱", "station", None, None, "short"],     # row 6: weak password
    ])
    rep = import_records(ops_session, users, "users")
    ops_session.commit()
    assert rep.created == 2 and [r for r, _ in rep.rejected] == [4, 5, 6]
    zhang = ops_session.scalars(select(User).where(User.username == "zhang")).one()
    assert sorted((s.area_level, s.area_code) for s in zhang.scopes) == [("community", "C1"), ("community", "C2")]
    assert verify_password("a-long-password-1", zhang.password_hash)[0]
    assert set(rep.new_passwords) == {"li"}
    li = ops_session.scalars(select(User).where(User.username == "li")).one()
    assert verify_password(rep.new_passwords["li"], li.password_hash)[0]
    assert rep.new_passwords["li"] not in str(rep.summary())  # passwords never in the report or the audit log
    # a changed row is an update, not a duplicate
    users2 = xlsx(tmp_path / "u2.xlsx", ["用户名", "姓名", "角色", "单位编码", "数据范围"],
                  [["zhang", "张警官", "community_police", "PS1", "community:C1"]])
    rep2 = import_records(ops_session, users2, "users")
    assert rep2.updated == 1
    assert [s.area_code for s in zhang.scopes] == ["C1"]


def test_bad_files_refused_whole(ops_session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(OpsError, match="not a readable Excel workbook"):
        import_records(ops_session, bad, "organisations")
    nocol = xlsx(tmp_path / "n.xlsx", ["名称"], [["x"]])
    with pytest.raises(OpsError, match="required column"):
        import_records(ops_session, nocol, "organisations")
    with pytest.raises(OpsError, match="unknown import kind"):
        import_records(ops_session, nocol, "cameras")
    assert _count(ops_session, Organisation) == 0


def test_an_import_rolled_back_leaves_nothing(ops_session: Session, tmp_path: Path) -> None:
    """All rows of an import are one transaction on both databases: a rollback before the commit (an interrupted
    request or process) undoes every row. On SQLite the per-row savepoints used to commit on release."""
    f = xlsx(tmp_path / "orgs.xlsx", ["编码", "名称", "类型", "上级编码"],
             [["B", "闵安公安分局", "分局", None], ["PS1", "莘安派出所", "派出所", "B"]])
    before = _count(ops_session, Organisation)
    rep = import_records(ops_session, f, "organisations")
    assert rep.created == 2 and _count(ops_session, Organisation) == before + 2
    ops_session.rollback()
    assert _count(ops_session, Organisation) == before
    import_records(ops_session, f, "organisations")
    ops_session.commit()
    assert _count(ops_session, Organisation) == before + 2
