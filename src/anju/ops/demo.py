"""Operational records of the demo district (闵安区): organisations, one user per role, communities with dated
profiles that explain the planted hot spots, and a few notices and tasks.

Everything derives from the demo geography of the seed (:func:`anju.demo.geography.district_for`), so the same seed
gives the same records. The community profiles carry the generator's own attributes (rental and floating share,
property-fee collection, cameras and faulty cameras, guards, owners' committee): the planted theft hot communities
show high rental and floating shares, low fee collection and many broken cameras, which is why they are hot.
Seeding is idempotent: a database that already holds the demo bureau is left as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.config import Settings
from anju.ops import audit
from anju.ops.models import (
    Community,
    CommunityGrid,
    CommunityProfile,
    Notice,
    Organisation,
    Task,
    TaskReply,
    User,
    UserScope,
)
from anju.ops.passwords import hash_password
from anju.ops.roles import ROLE_LABELS, Role

__all__ = ["DemoAccount", "DemoSeedResult", "demo_password", "demo_seed_of", "seed_demo"]

PROPERTY_COMPANIES = ("闵安物业有限公司", "春申物业服务有限公司", "锦华物业管理有限公司", "莲华物业有限公司",
                      "恒安物业服务有限公司", "众诚物业管理有限公司")
DEPARTMENTS = (("DEPT-HOUSING", "区房屋管理局"), ("DEPT-URBAN", "区城市管理行政执法局"),
               ("DEPT-MARKET", "区市场监督管理局"), ("DEPT-FIRE", "区消防救援支队"))


@dataclass(frozen=True)
class DemoAccount:
    """A demo login: username, password (printed for the demo only), role and what it sees."""

    username: str
    password: str
    role: str
    label: str
    scope: str


@dataclass
class DemoSeedResult:
    """What :func:`seed_demo` did; ``created`` is False when the records were already there."""

    seed: int
    created: bool
    organisations: int = 0
    communities: int = 0
    profiles: int = 0
    users: int = 0
    notices: int = 0
    tasks: int = 0
    accounts: list[DemoAccount] = field(default_factory=list)


def _registry_persons(session: Session, settings: Settings) -> int:
    """The demo registry's heads of household (names and ID numbers) into the ops database, when the demo's
    households file is there: the registry import keeps them out of the duty store."""
    from anju.demo.build import default_out_dir

    path = default_out_dir(settings) / "registry_households.csv"
    if not path.exists():
        return 0
    import pandas as pd

    from anju.duty.persons import store_persons

    hh = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "户主姓名" not in hh.columns:
        return 0
    return store_persons(session, hh.rename(columns={"户主姓名": "name", "身份证号": "id_number"}))


def demo_password(seed: int, role: str) -> str:
    """The demo password of ``role``'s account: deterministic for the seed, never used outside the demo."""
    tag = hashlib.sha256(f"anju-demo:{seed}:{role}".encode()).hexdigest()[:8]
    return f"Demo-{role}-{tag}"


def _demo_params(settings: Settings) -> dict[str, Any]:
    from anju.demo.build import default_out_dir
    from anju.demo.generate import read_manifest

    manifest = read_manifest(default_out_dir(settings))
    params = manifest.get("params") if manifest else None
    return params if isinstance(params, dict) else {}


def demo_seed_of(settings: Settings, default: int = 42) -> int:
    """The seed of the demo built into the data directory (``<data_dir>/demo/demo.json``), else ``default``."""
    seed = _demo_params(settings).get("seed")
    return int(seed) if seed is not None else default


def _at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def _community_police_districts(layers: dict[str, Any]) -> list[str | None]:
    comm, pd = layers["community"], layers["police_district"]
    pts = shapely.point_on_surface(comm.geoms)
    out: list[str | None] = [None] * len(comm)
    for pid, geom in zip(pd.ids, pd.geoms, strict=True):
        for i in np.flatnonzero(shapely.contains(geom, pts)):
            out[int(i)] = pid
    return out


def seed_demo(session: Session, settings: Settings, *, seed: int | None = None,
              end_year: int | None = None) -> DemoSeedResult:
    """Write the demo district's operational records (idempotent; the caller commits).

    ``seed`` and ``end_year`` (the demo's last full year, which dates the current profiles) default to those of the
    demo built into the data directory (``demo/demo.json``), else 42 and last year.
    """
    from anju.demo.geography import district_for
    from anju.demo.names import BUREAU, DISTRICT_CODE
    from anju.demo.truth import default_end_year

    seed = demo_seed_of(settings) if seed is None else seed
    if end_year is None:
        built = _demo_params(settings).get("end_year")
        end_year = int(built) if built is not None else default_end_year()
    end = end_year
    res = DemoSeedResult(seed=seed, created=False)
    res.accounts = _accounts(seed)
    bureau_code = f"{DISTRICT_CODE}-BUREAU"
    if session.scalars(select(Organisation).where(Organisation.code == bureau_code)).first() is not None:
        return res
    res.created = True
    d = district_for(seed)
    layers = d.layers
    comm = layers["community"]
    rng = np.random.default_rng([seed, 60])

    def org(code: str, name: str, kind: str, parent: Organisation | None, level: str | None,
            area: str | None) -> Organisation:
        o = Organisation(code=code, name=name, kind=kind, parent=parent, area_level=level, area_code=area)
        session.add(o)
        res.organisations += 1
        return o

    bureau = org(bureau_code, BUREAU, "bureau", None, "district", layers["district"].ids[0])
    stations = {sid: org(sid, unit, "station", bureau, "station", sid)
                for sid, unit in zip(layers["station"].ids, layers["station"].attrs["unit"], strict=True)}
    for pid, name, parent in zip(layers["police_district"].ids, layers["police_district"].names,
                                 layers["police_district"].parent_ids, strict=True):
        org(pid, name, "police_district", stations[str(parent)], "police_district", pid)
    streets = {sid: org(f"SO-{sid}", f"{name}办事处" if name.endswith("街道") else f"{name}人民政府", "street_office",
                        None, "street", sid)
               for sid, name in zip(layers["street"].ids, layers["street"].names, strict=True)}
    companies = [org(f"PM-{i + 1:02d}", name, "property_company", None, None, None)
                 for i, name in enumerate(PROPERTY_COMPANIES)]
    depts = {code: org(code, name, "department", None, None, None) for code, name in DEPARTMENTS}
    session.flush()

    # communities, their grids and 居委会; property companies manage the non-village estates (villages have none)
    pds = _community_police_districts(layers)
    grids_of: dict[str, list[str]] = {}
    for gid, parent in zip(layers["grid"].ids, layers["grid"].parent_ids, strict=True):
        grids_of.setdefault(str(parent), []).append(gid)
    station_ids = layers["station"].ids
    communities: list[Community] = []
    company_pick = rng.integers(0, len(companies), len(comm))
    for i, (cid, name, street) in enumerate(zip(comm.ids, comm.names, comm.parent_ids, strict=True)):
        kind = str(comm.attrs["kind"][i])
        c = Community(code=cid, name=name, street_code=street, station_code=station_ids[int(d.comm_station[i])],
                      police_district_code=pds[i], address=str(comm.attrs["address"][i]),
                      property_company_id=None if kind == "村居" else companies[int(company_pick[i])].id)
        c.grids = [CommunityGrid(grid_code=g) for g in grids_of.get(cid, [])]
        session.add(c)
        org(f"NC-{cid}", f"{name}居委会", "neighbourhood_committee", streets[str(street)], "community", cid)
        communities.append(c)
    session.flush()
    res.communities = len(communities)

    hot = [int(i) for i in d.hot]
    users = _users(session, seed, d, communities, hot, bureau, stations, streets, depts)
    res.users = len(users)
    res.profiles = _profiles(session, comm, communities, hot, end, rng, users[Role.COMMUNITY_POLICE])
    res.notices, res.tasks = _notices_and_tasks(session, communities, hot, end, users, stations, depts)
    _registry_persons(session, settings)
    session.flush()
    audit.record(session, actor=None, action="demo.seed", target_type="database", target_id=None,
                 detail={"seed": seed, "organisations": res.organisations, "communities": res.communities,
                         "profiles": res.profiles, "users": res.users})
    return res


def _accounts(seed: int) -> list[DemoAccount]:
    scopes = {Role.ADMIN: "全区 / whole district", Role.LEADER: "全区（只读）/ whole district, read only",
              Role.ANALYST: "全区 / whole district", Role.STATION: "本所辖区 / its station's area",
              Role.COMMUNITY_POLICE: "所包社区 / its communities", Role.STREET_OFFICE: "本街镇 / its street",
              Role.EVALUATOR: "全区考核 / district assessment",
              Role.PROPERTY_MANAGER: "所管小区（无个人信息）/ managed estates, no personal data",
              Role.GRID_WORKER: "所属网格 / its grids", Role.DEPARTMENT: "交办给本部门的工单 / tasks routed to it"}
    return [DemoAccount(username=r.value, password=demo_password(seed, r.value), role=r.value,
                        label=ROLE_LABELS[r][0], scope=scopes[r]) for r in Role if r is not Role.PUBLIC]


def _users(session: Session, seed: int, d: Any, communities: list[Community], hot: list[int],
           bureau: Organisation, stations: dict[str, Organisation], streets: dict[str, Organisation],
           depts: dict[str, Organisation]) -> dict[Role, User]:
    """One user per role, scoped around the first planted hot community so every demo login has something to do."""
    h = communities[hot[0]]
    same_pd = [c for c in communities if c.police_district_code == h.police_district_code]
    org_of = {Role.ADMIN: bureau, Role.LEADER: bureau, Role.ANALYST: bureau, Role.EVALUATOR: bureau,
              Role.STATION: stations[str(h.station_code)], Role.COMMUNITY_POLICE: stations[str(h.station_code)],
              Role.STREET_OFFICE: streets[str(h.street_code)],
              Role.PROPERTY_MANAGER: session.get(Organisation, h.property_company_id) if h.property_company_id
              else None,
              Role.GRID_WORKER: session.scalars(select(Organisation).where(Organisation.code == f"NC-{h.code}")
                                                ).one(),
              Role.DEPARTMENT: depts["DEPT-HOUSING"]}
    scope_rows: dict[Role, list[tuple[str, str]]] = {
        Role.STATION: [("station", str(h.station_code))],
        Role.COMMUNITY_POLICE: [("community", c.code) for c in same_pd],
        Role.STREET_OFFICE: [("street", str(h.street_code))],
        Role.GRID_WORKER: [("grid", g) for g in h.grid_codes[:2]],
    }
    names = {Role.ADMIN: "系统管理员", Role.LEADER: "王局长", Role.ANALYST: "李分析", Role.STATION: "张所长",
             Role.COMMUNITY_POLICE: "陈警官", Role.STREET_OFFICE: "赵主任", Role.EVALUATOR: "刘考核",
             Role.PROPERTY_MANAGER: "孙经理", Role.GRID_WORKER: "周网格", Role.DEPARTMENT: "吴科长"}
    out: dict[Role, User] = {}
    for role, display in names.items():
        o = org_of[role]
        u = User(username=role.value, display_name=display, password_hash=hash_password(demo_password(seed, role)),
                 role=role.value, organisation_id=o.id if o is not None else None, active=True, lang="zh")
        u.scopes = [UserScope(area_level=lv, area_code=code) for lv, code in scope_rows.get(role, [])]
        session.add(u)
        out[role] = u
    session.flush()
    return out


def _profiles(session: Session, comm: Any, communities: list[Community], hot: list[int], end: int,
              rng: np.random.Generator, author: User) -> int:
    """Two dated rows per community: the start of the demo's first year, and mid last year (now). Planted hot
    communities deteriorate between the two (more renters and floating residents, fewer fees, broken cameras)."""
    a = comm.attrs
    first, current = date(end - 2, 1, 1), date(end, 7, 1)
    hot_set = set(hot)
    n = 0
    for i, c in enumerate(communities):
        now = {
            "households": int(a["households"][i]), "residents": int(a["population"][i]),
            "floating_share": float(a["floating_share"][i]), "rental_rate": float(a["rental_rate"][i]),
            "fee_collection_rate": float(a["fee_collection_rate"][i]), "guards": int(a["guards"][i]),
            "cameras": int(a["cameras"][i]), "cameras_faulty": int(a["cameras_broken"][i]),
            "has_owners_committee": bool(a["has_owners_committee"][i]),
        }
        then = dict(now)
        if i in hot_set:  # the estate went downhill: the earlier profile was healthier
            then["floating_share"] = round(now["floating_share"] * 0.7, 3)
            then["rental_rate"] = round(now["rental_rate"] * 0.7, 3)
            then["fee_collection_rate"] = round(min(0.95, now["fee_collection_rate"] + 0.25), 3)
            then["cameras_faulty"] = int(now["cameras_faulty"] * 0.4)
            then["guards"] = now["guards"] + 2
        else:  # small drift
            then["floating_share"] = round(float(np.clip(now["floating_share"] + rng.normal(0, 0.02), 0, 1)), 3)
            then["cameras_faulty"] = int(max(0, min(now["cameras"], now["cameras_faulty"] + rng.integers(-3, 4))))
        for eff, facts, note in ((first, then, "年度摸排 / annual survey"),
                                 (current, now, "年中复核 / mid-year review")):
            session.add(CommunityProfile(community_id=c.id, effective_date=eff, source="demo", author_id=author.id,
                                         note=note, recorded_at=_at(eff) + timedelta(days=3), **facts))
            n += 1
    return n


def _notices_and_tasks(session: Session, communities: list[Community], hot: list[int], end: int,
                       users: dict[Role, User], stations: dict[str, Organisation],
                       depts: dict[str, Organisation]) -> tuple[int, int]:
    h = communities[hot[0]]
    analyst, station = users[Role.ANALYST], users[Role.STATION]
    notices = [
        Notice(title=f"{end}年下半年平安指数已发布", body="各单位请登录平台查看本辖区排名与问题小区清单，并于两周内反馈整改措施。",
               area_level="district", author_id=analyst.id, organisation_id=analyst.organisation_id,
               published_at=_at(date(end + 1, 1, 10))),
        Notice(title="关于开展出租房屋专项排查的通知", body=f"请{h.name}等出租率较高的小区配合社区民警开展出租房屋排查。",
               area_level="station", area_code=h.station_code, author_id=station.id,
               organisation_id=station.organisation_id, published_at=_at(date(end + 1, 1, 15))),
        Notice(title="防范盗窃温馨提示", body="夜间请锁好非机动车，发现可疑人员请拨打110。", area_level="street",
               area_code=h.street_code, author_id=users[Role.STREET_OFFICE].id,
               organisation_id=users[Role.STREET_OFFICE].organisation_id, published_at=_at(date(end + 1, 1, 16))),
    ]
    session.add_all(notices)
    due = date(end + 1, 2, 28)
    tasks = [
        Task(title=f"{h.name}盗窃高发整治", body="盗窃警情连续两个季度居全区前列，请制定整治方案并每周反馈。",
             community_id=h.id, assignee_org_id=stations[str(h.station_code)].id, created_by=analyst.id,
             due_date=due, status="in_progress", created_at=_at(date(end + 1, 1, 12))),
        Task(title=f"{h.name}故障探头修复", body="小区内故障探头比例过高，请物业公司限期修复并上报修复清单。",
             community_id=h.id, assignee_org_id=h.property_company_id or depts["DEPT-HOUSING"].id,
             created_by=station.id, due_date=due, status="open", created_at=_at(date(end + 1, 1, 16))),
        Task(title="群租房联合整治", body=f"{h.name}发现疑似群租房，请房管部门联合核查。", community_id=h.id,
             assignee_org_id=depts["DEPT-HOUSING"].id, created_by=station.id, due_date=due, status="open",
             created_at=_at(date(end + 1, 1, 18))),
    ]
    session.add_all(tasks)
    session.flush()
    session.add(TaskReply(task_id=tasks[0].id, author_id=station.id, status_to="in_progress",
                          body="已成立专班，增派夜间巡逻并排查出租房屋。", created_at=_at(date(end + 1, 1, 14))))
    for t in tasks:
        t.updated_at = t.created_at
    return len(notices), len(tasks)
