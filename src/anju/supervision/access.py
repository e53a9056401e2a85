"""Who sees which supervision cases and which rows of a month's assessment — through the ops scope helpers.

Cases are filtered in SQL by the community scope (:func:`anju.ops.scope.community_filter`); assessment tables,
which come from the lake and the input store, are filtered by :func:`anju.ops.scope.allowed_community_codes`. Roles
without the personal-data permission never receive per-respondent survey rows (pseudonymous as they are) or the
names of supervising officers and community police; writing cases and building bulletins needs its permission.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError
from anju.ops.models import Community, SupervisionCase, User
from anju.ops.roles import Permission, has_permission
from anju.ops.scope import allowed_community_codes, community_filter

__all__ = ["assessment_view", "case_dict", "require_assess", "require_supervise", "visible_case", "visible_cases"]

PERSONAL_CASE_FIELDS = ("official", "community_police")


def visible_cases(session: Session, user: User) -> list[SupervisionCase]:
    """The cases of the communities ``user`` may see (SQL filter, never post-filtered in Python)."""
    stmt = (select(SupervisionCase).join(Community, Community.id == SupervisionCase.community_id)
            .where(community_filter(user)).order_by(SupervisionCase.id))
    return list(session.scalars(stmt))


def visible_case(session: Session, user: User, case_id: int) -> SupervisionCase:
    """One case by id, refused (as not found) when outside the user's scope."""
    stmt = (select(SupervisionCase).join(Community, Community.id == SupervisionCase.community_id)
            .where(SupervisionCase.id == case_id, community_filter(user)))
    case = session.scalars(stmt).first()
    if case is None:
        raise AccessDeniedError(f"supervision case #{case_id} does not exist or is outside your scope")
    return case


def case_dict(case: SupervisionCase, user: User) -> dict[str, Any]:
    """A case as shown to ``user``: officers' names only for roles that may read personal data."""
    d = {"id": case.id, "community": case.community.code, "name": case.community.name, "status": case.status,
         "opened_on": case.opened_on.isoformat(), "goal_change": case.goal_change, "base_period": case.base_period,
         "official": case.official, "community_police": case.community_police}
    if not has_permission(user.role, Permission.READ_PERSONAL):
        for f in PERSONAL_CASE_FIELDS:
            d[f] = None
    return d


def require_supervise(user: User) -> None:
    """Opening, reviewing and closing cases is for roles that assign tasks (police, analysts, administrators)."""
    if not has_permission(user.role, Permission.ASSIGN_TASKS):
        raise AccessDeniedError(f"role {user.role!r} may not open or change supervision cases")


def require_assess(user: User) -> None:
    """Building a bulletin is for the evaluator role (and administrators)."""
    if not has_permission(user.role, Permission.ASSESS):
        raise AccessDeniedError(f"role {user.role!r} may not build the assessment bulletin")


def assessment_view(session: Session, user: User, table: pd.DataFrame, *, key: str = "area_id",
                    personal_columns: tuple[str, ...] = ("resident_ref",)) -> pd.DataFrame:
    """Rows of a lake-/input-derived assessment table the user may see, without personal columns for roles that
    may not read personal data."""
    allowed = allowed_community_codes(session, user)
    out = table if allowed is None else table[table[key].astype(str).isin(allowed)]
    if not has_permission(user.role, Permission.READ_PERSONAL):
        out = out.drop(columns=[c for c in personal_columns if c in out.columns])
    return out.reset_index(drop=True)
