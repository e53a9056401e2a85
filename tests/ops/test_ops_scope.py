"""Data scope per role: lists, by-id reads, filters and writes outside the scope are refused (both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError
from anju.ops import records
from anju.ops.models import Community, CommunityProfile, Notice, Task
from anju.ops.scope import (
    allowed_community_codes,
    get_scoped,
    scope_communities,
    scope_notices,
    scope_profiles,
    scope_tasks,
    visible_area_codes,
)

from .conftest import ALL, EXPECTED, World


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_visible_communities_per_role(ops_session: Session, world: World, name: str) -> None:
    user = world.users[name]
    expected = EXPECTED[name]
    listed = set(ops_session.scalars(scope_communities(select(Community.code), user)))
    assert listed == (ALL if expected is None else expected)
    assert allowed_community_codes(ops_session, user) == expected
    outside = ALL - (ALL if expected is None else expected)
    for code in sorted(outside):  # by id
        with pytest.raises(AccessDeniedError):
            get_scoped(ops_session, user, Community, world.c(code).id)
        # by filter: asking for an outside code explicitly still returns nothing
        q = scope_communities(select(Community).where(Community.code == code), user)
        assert ops_session.scalars(q).first() is None
    for code in sorted(ALL - outside):
        assert get_scoped(ops_session, user, Community, world.c(code).id).code == code


def test_inactive_user_sees_nothing(ops_session: Session, world: World) -> None:
    u = world.users["admin"]
    u.active = False
    assert ops_session.scalars(scope_communities(select(Community), u)).first() is None
    u.active = True


def test_profiles_scoped_and_writes_refused_outside(ops_session: Session, world: World) -> None:
    admin, cp = world.users["admin"], world.users["community_police"]
    for code in ALL:
        records.add_profile(ops_session, admin, world.c(code).id, date(2025, 1, 1), {"households": 100})
    rows = ops_session.scalars(scope_profiles(select(CommunityProfile), cp)).all()
    assert {r.community_id for r in rows} == {world.c("C4").id}
    other = ops_session.scalars(select(CommunityProfile).where(CommunityProfile.community_id == world.c("C1").id)
                                ).first()
    assert other is not None
    with pytest.raises(AccessDeniedError):
        get_scoped(ops_session, cp, CommunityProfile, other.id)
    with pytest.raises(AccessDeniedError):
        records.add_profile(ops_session, cp, world.c("C1").id, date(2025, 6, 1), {"households": 1})
    records.add_profile(ops_session, cp, world.c("C4").id, date(2025, 6, 1), {"households": 1})
    with pytest.raises(AccessDeniedError):  # leader: read only
        records.add_profile(ops_session, world.users["leader"], world.c("C4").id, date(2025, 6, 1), {})


def test_notices_scoped(ops_session: Session, world: World) -> None:
    analyst, station = world.users["analyst"], world.users["station"]
    n_all = records.publish_notice(ops_session, analyst, title="全区", body="x")
    n_s3 = records.publish_notice(ops_session, analyst, title="S3", body="x", area_level="street", area_code="S3")
    n_ps1 = records.publish_notice(ops_session, station, title="PS1", body="x", area_level="station",
                                   area_code="PS1")
    so = world.users["street_office"]
    seen = set(ops_session.scalars(scope_notices(select(Notice.id), so)))
    assert seen == {n_all.id, n_s3.id}
    seen_gw = set(ops_session.scalars(scope_notices(select(Notice.id), world.users["grid_worker"])))
    assert seen_gw == {n_all.id, n_ps1.id}
    with pytest.raises(AccessDeniedError):
        get_scoped(ops_session, so, Notice, n_ps1.id)
    # writes: a station may not address the district, another station, or a street it only partly covers
    with pytest.raises(AccessDeniedError):
        records.publish_notice(ops_session, station, title="t", body="b")
    with pytest.raises(AccessDeniedError):
        records.publish_notice(ops_session, station, title="t", body="b", area_level="station", area_code="PS2")
    records.publish_notice(ops_session, station, title="t", body="b", area_level="street", area_code="S1")
    with pytest.raises(AccessDeniedError):  # no write permission at all
        records.publish_notice(ops_session, world.users["property_manager"], title="t", body="b",
                               area_level="community", area_code="C1")


def test_tasks_scoped(ops_session: Session, world: World) -> None:
    analyst, station, dept = world.users["analyst"], world.users["station"], world.users["department"]
    t_c1 = records.assign_task(ops_session, analyst, title="C1", body="", assignee_org_id=world.orgs["PS1"].id,
                               community_id=world.c("C1").id)
    t_dept = records.assign_task(ops_session, station, title="群租", body="", community_id=world.c("C2").id,
                                 assignee_org_id=world.orgs["DEPT-H"].id)
    t_c5 = records.assign_task(ops_session, analyst, title="C5", body="", assignee_org_id=world.orgs["SO-S3"].id,
                               community_id=world.c("C5").id)
    assert set(ops_session.scalars(scope_tasks(select(Task.id), dept))) == {t_dept.id}
    assert set(ops_session.scalars(scope_tasks(select(Task.id), station))) == {t_c1.id, t_dept.id}
    with pytest.raises(AccessDeniedError):
        get_scoped(ops_session, dept, Task, t_c1.id)
    with pytest.raises(AccessDeniedError):  # reply to a task outside scope
        records.reply_task(ops_session, station, t_c5.id, body="hi")
    with pytest.raises(AccessDeniedError):  # assign about a community outside scope
        records.assign_task(ops_session, station, title="x", body="", assignee_org_id=world.orgs["PS2"].id,
                            community_id=world.c("C5").id)
    r = records.reply_task(ops_session, dept, t_dept.id, body="已核查", status_to="done")
    assert r.task.status == "done"
    # the grid worker sees the C2 task (its community) but may not change its status
    with pytest.raises(AccessDeniedError):
        records.reply_task(ops_session, world.users["grid_worker"], t_dept.id, body="x", status_to="open")
    records.reply_task(ops_session, world.users["grid_worker"], t_dept.id, body="补充情况")


def test_visible_area_codes(ops_session: Session, world: World) -> None:
    assert visible_area_codes(ops_session, world.users["station"], "street") == {"S1", "S2"}
    assert visible_area_codes(ops_session, world.users["grid_worker"], "grid") == {"C2-1", "C2-2"}
    assert visible_area_codes(ops_session, world.users["leader"], "station") is None
