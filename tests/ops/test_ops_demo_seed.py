"""The demo district's ops records: deterministic, idempotent, scoped users, profiles that explain the hot spots."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anju.config import load_settings
from anju.demo.geography import district_for
from anju.ops.demo import demo_password, seed_demo
from anju.ops.models import Community, CommunityProfile, Organisation, Task, User, profile_as_of
from anju.ops.passwords import verify_password
from anju.ops.roles import Role
from anju.ops.scope import allowed_community_codes, scope_tasks

SEED, END = 42, 2025


def _snapshot(session: Session) -> list[tuple[object, ...]]:
    orgs = session.execute(select(Organisation.code, Organisation.kind, Organisation.name).order_by(Organisation.code))
    profs = session.execute(select(Community.code, CommunityProfile.effective_date, CommunityProfile.rental_rate,
                                   CommunityProfile.cameras_faulty)
                            .join(Community, Community.id == CommunityProfile.community_id)
                            .order_by(Community.code, CommunityProfile.effective_date))
    return [tuple(r) for r in orgs] + [tuple(r) for r in profs]


def test_seed_demo(ops_session: Session, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "d")
    res = seed_demo(ops_session, settings, seed=SEED, end_year=END)
    ops_session.commit()
    d = district_for(SEED)
    comm = d.layers["community"]
    assert res.created and res.communities == len(comm) == 120
    assert set(ops_session.scalars(select(Community.code))) == set(comm.ids)
    assert ops_session.scalar(select(func.count()).select_from(Organisation)
                              .where(Organisation.kind == "station")) == len(d.layers["station"])
    # one user per role (public has no login), each can log in with its printed demo password
    users = {u.role: u for u in ops_session.scalars(select(User))}
    assert set(users) == {r.value for r in Role} - {"public"}
    for a in res.accounts:
        assert a.password == demo_password(SEED, a.role)
        assert verify_password(a.password, users[a.role].password_hash)[0]

    # profiles carry the generator's attributes and explain the planted hot communities
    hot = {comm.ids[int(i)] for i in d.hot}
    cur = {c.code: profile_as_of(ops_session, c.id, date(END, 12, 31)) for c in ops_session.scalars(select(Community))}
    i0 = comm.ids.index(sorted(hot)[0])
    assert cur[comm.ids[i0]].households == int(comm.attrs["households"][i0])  # type: ignore[union-attr]
    rental_med = median(p.rental_rate for p in cur.values())  # type: ignore[union-attr,type-var]
    fee_med = median(p.fee_collection_rate for p in cur.values())  # type: ignore[union-attr,type-var]
    broken_med = median(p.cameras_faulty / p.cameras for p in cur.values())  # type: ignore[union-attr,operator]
    for code in hot:
        p = cur[code]
        assert p is not None
        assert p.rental_rate > rental_med and p.floating_share > 0.8  # type: ignore[operator]
        assert p.fee_collection_rate < fee_med  # type: ignore[operator]
        assert p.cameras_faulty / p.cameras > broken_med  # type: ignore[operator]
        assert p.has_owners_committee is False
        before = profile_as_of(ops_session, p.community_id, date(END - 2, 6, 30))
        assert before is not None and before.rental_rate < p.rental_rate  # it went downhill: kept with its date

    # every scoped demo user sees something, and the hot community where it should
    h = sorted(hot)[0]
    for role in ("station", "community_police", "street_office", "property_manager", "grid_worker"):
        codes = allowed_community_codes(ops_session, users[role])
        assert codes, role
        assert h in codes or role != "community_police"
    assert allowed_community_codes(ops_session, users["leader"]) is None
    assert ops_session.scalars(scope_tasks(select(Task), users["department"])).all()

    # idempotent: a second run changes nothing
    before = _snapshot(ops_session)
    again = seed_demo(ops_session, settings, seed=SEED, end_year=END)
    ops_session.commit()
    assert not again.created and _snapshot(ops_session) == before


def test_seed_demo_is_deterministic(tmp_path: Path) -> None:
    from anju.ops.db import make_engine, session_factory, upgrade_to_head

    snaps = []
    for k in range(2):
        url = f"sqlite:///{tmp_path / f'{k}.sqlite3'}"
        upgrade_to_head(url)
        engine = make_engine(url)
        with session_factory(engine)() as s:
            seed_demo(s, load_settings(data_dir=tmp_path / f"d{k}"), seed=SEED, end_year=END)
            s.commit()
            snaps.append(_snapshot(s))
        engine.dispose()
    assert snaps[0] == snaps[1]


def test_seed_and_year_follow_the_built_demo(tmp_path: Path) -> None:
    import json

    from anju.ops.demo import demo_seed_of

    settings = load_settings(data_dir=tmp_path / "d")
    assert demo_seed_of(settings) == 42
    (tmp_path / "d" / "demo").mkdir(parents=True)
    (tmp_path / "d" / "demo" / "demo.json").write_text(json.dumps({"params": {"seed": 7, "end_year": 2024}}),
                                                       encoding="utf-8")
    assert demo_seed_of(settings) == 7
