"""A small world for scope tests: 2 stations, 3 streets, 6 communities with grids, property companies, users."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from anju.ops.models import Community, CommunityGrid, Organisation, User, UserScope
from anju.ops.roles import Role

# community code -> (street, station, police district, property company index or None)
COMMUNITIES = {
    "C1": ("S1", "PS1", "PS1-01", 0),
    "C2": ("S1", "PS1", "PS1-01", 1),
    "C3": ("S2", "PS1", "PS1-02", 0),
    "C4": ("S2", "PS2", "PS2-01", None),
    "C5": ("S3", "PS2", "PS2-01", 1),
    "C6": ("S3", "PS2", "PS2-02", 1),
}


@dataclass
class World:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    communities: dict[str, Community] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def c(self, code: str) -> Community:
        return self.communities[code]


# role -> (organisation code, scope rows); the expected visible communities are in EXPECTED
USERS: dict[str, tuple[str, str | None, list[tuple[str, str]]]] = {
    "admin": ("admin", "BUREAU", []),
    "leader": ("leader", "BUREAU", []),
    "analyst": ("analyst", "BUREAU", []),
    "evaluator": ("evaluator", "BUREAU", []),
    "station": ("station", "PS1", [("station", "PS1")]),
    "community_police": ("community_police", "PS2", [("community", "C4")]),
    "street_office": ("street_office", "SO-S3", [("street", "S3")]),
    "property_manager": ("property_manager", "PM-0", []),
    "grid_worker": ("grid_worker", "NC-C2", [("grid", "C2-2")]),
    "department": ("department", "DEPT-H", [("street", "S1")]),  # scope rows do not widen a department
    "pd_police": ("community_police", "PS1", [("police_district", "PS1-02")]),
    "nobody": ("station", "PS2", []),  # a scoped role without rows sees nothing
}
ALL = frozenset(COMMUNITIES)
EXPECTED: dict[str, frozenset[str] | None] = {
    "admin": None, "leader": None, "analyst": None, "evaluator": None,
    "station": frozenset({"C1", "C2", "C3"}),
    "community_police": frozenset({"C4"}),
    "street_office": frozenset({"C5", "C6"}),
    "property_manager": frozenset({"C1", "C3"}),
    "grid_worker": frozenset({"C2"}),
    "department": frozenset(),
    "pd_police": frozenset({"C3"}),
    "nobody": frozenset(),
}


def build_world(session: Session) -> World:
    w = World()

    def org(code: str, kind: str, name: str | None = None) -> Organisation:
        o = Organisation(code=code, name=name or code, kind=kind)
        session.add(o)
        w.orgs[code] = o
        return o

    org("BUREAU", "bureau")
    for s in ("PS1", "PS2"):
        org(s, "station")
    for s in ("S1", "S2", "S3"):
        org(f"SO-{s}", "street_office")
    pms = [org("PM-0", "property_company"), org("PM-1", "property_company")]
    org("DEPT-H", "department")
    for code in COMMUNITIES:
        org(f"NC-{code}", "neighbourhood_committee")
    session.flush()
    for code, (street, station, pd, pm) in COMMUNITIES.items():
        c = Community(code=code, name=f"{code}小区", street_code=street, station_code=station,
                      police_district_code=pd, property_company_id=None if pm is None else pms[pm].id)
        c.grids = [CommunityGrid(grid_code=f"{code}-{k}") for k in (1, 2)]
        session.add(c)
        w.communities[code] = c
    for name, (role, org_code, scopes) in USERS.items():
        u = User(username=name, display_name=name, password_hash="-", role=Role(role).value,
                 organisation_id=w.orgs[org_code].id if org_code else None)
        u.scopes = [UserScope(area_level=lv, area_code=cd) for lv, cd in scopes]
        session.add(u)
        w.users[name] = u
    session.flush()
    return w


@pytest.fixture
def world(ops_session: Session) -> World:
    w = build_world(ops_session)
    ops_session.commit()
    return w
