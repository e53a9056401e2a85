"""Data scope: which records a user may see, enforced in the query layer.

Every helper adds a SQL condition to a SQLAlchemy select, built from the user's scope rows with bound parameters and
subqueries (never string-built SQL). A user of a :data:`~anju.ops.roles.DISTRICT_WIDE` role, or with a ``district``
scope row, sees everything; any other user sees only the communities their scope rows reach (none without rows):

=================  ==============================================================
scope row level    communities it reaches
=================  ==============================================================
``station``        those with that ``station_code``
``police_district`` those with that ``police_district_code``
``street``         those with that ``street_code``
``community``      that community
``grid``           the community that holds that grid
(property company) a ``property_manager`` also reaches the communities its
                   organisation manages
=================  ==============================================================

A ``department`` user sees no community; it sees the tasks routed to its organisation. Lake-derived tables (counts,
rankings, the index) are filtered with :func:`allowed_community_codes`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError
from anju.ops.models import Community, CommunityGrid, CommunityProfile, Notice, Task, User, UserScope
from anju.ops.roles import DISTRICT_WIDE, Role

__all__ = [
    "allowed_community_codes",
    "community_filter",
    "get_scoped",
    "is_district_wide",
    "notice_filter",
    "require_area_in_scope",
    "scope_communities",
    "scope_notices",
    "scope_profiles",
    "scope_tasks",
    "task_filter",
    "visible_area_codes",
]

S = TypeVar("S", bound=Select[Any])

_LEVEL_COLUMN = {
    "station": Community.station_code,
    "police_district": Community.police_district_code,
    "street": Community.street_code,
    "community": Community.code,
}


def _role(user: User) -> Role | None:
    try:
        return Role(user.role)
    except ValueError:
        return None


def _scope_codes(user: User, level: str) -> Select[Any]:
    return select(UserScope.area_code).where(UserScope.user_id == user.id, UserScope.area_level == level)


def is_district_wide(user: User) -> bool:
    """Whether the user sees the whole district (role, or a ``district`` scope row). Inactive users see nothing."""
    if not user.active:
        return False
    role = _role(user)
    if role in DISTRICT_WIDE:
        return True
    if role in (None, Role.PUBLIC, Role.DEPARTMENT):
        return False
    return any(s.area_level == "district" for s in user.scopes)


def community_filter(user: User) -> ColumnElement[bool]:
    """The SQL condition on :class:`Community` columns that keeps the communities ``user`` may see."""
    if not user.active or _role(user) in (None, Role.PUBLIC, Role.DEPARTMENT):
        return false()
    if is_district_wide(user):
        return true()
    parts: list[ColumnElement[bool]] = [col.in_(_scope_codes(user, level)) for level, col in _LEVEL_COLUMN.items()]
    parts.append(Community.id.in_(
        select(CommunityGrid.community_id).where(CommunityGrid.grid_code.in_(_scope_codes(user, "grid")))))
    if _role(user) is Role.PROPERTY_MANAGER and user.organisation_id is not None:
        parts.append(Community.property_company_id == user.organisation_id)
    return or_(*parts)


def _visible_community_ids(user: User) -> Select[Any]:
    return select(Community.id).where(community_filter(user))


def scope_communities(stmt: S, user: User) -> S:
    """``stmt`` (selecting from :class:`Community`) restricted to the user's communities."""
    return stmt.where(community_filter(user))


def scope_profiles(stmt: S, user: User) -> S:
    """``stmt`` (selecting from :class:`CommunityProfile`) restricted to profiles of the user's communities."""
    if is_district_wide(user):
        return stmt
    return stmt.where(CommunityProfile.community_id.in_(_visible_community_ids(user)))


def notice_filter(user: User) -> ColumnElement[bool]:
    """Notices the user may read: district-wide ones, their organisation's, their own, and those addressed to an
    area that holds one of their communities."""
    if not user.active or _role(user) in (None, Role.PUBLIC):
        return false()
    if is_district_wide(user):
        return true()
    parts: list[ColumnElement[bool]] = [Notice.area_level == "district", Notice.author_id == user.id]
    if user.organisation_id is not None:
        parts.append(Notice.organisation_id == user.organisation_id)
    visible = community_filter(user)
    for level, col in _LEVEL_COLUMN.items():
        parts.append(and_(Notice.area_level == level, Notice.area_code.in_(select(col).where(visible))))
    parts.append(and_(Notice.area_level == "grid", Notice.area_code.in_(
        select(CommunityGrid.grid_code).join(Community, Community.id == CommunityGrid.community_id).where(visible))))
    return or_(*parts)


def scope_notices(stmt: S, user: User) -> S:
    """``stmt`` (selecting from :class:`Notice`) restricted to the notices the user may read."""
    return stmt.where(notice_filter(user))


def task_filter(user: User) -> ColumnElement[bool]:
    """Tasks the user may see: assigned to their organisation or to them, created by them, or about one of their
    communities."""
    if not user.active or _role(user) in (None, Role.PUBLIC):
        return false()
    if is_district_wide(user):
        return true()
    parts: list[ColumnElement[bool]] = [Task.assignee_user_id == user.id, Task.created_by == user.id]
    if user.organisation_id is not None:
        parts.append(Task.assignee_org_id == user.organisation_id)
    if _role(user) is not Role.DEPARTMENT:
        parts.append(Task.community_id.in_(_visible_community_ids(user)))
    return or_(*parts)


def scope_tasks(stmt: S, user: User) -> S:
    """``stmt`` (selecting from :class:`Task`) restricted to the tasks the user may see."""
    return stmt.where(task_filter(user))


_FILTERS = {Community: community_filter, Notice: notice_filter, Task: task_filter}


def get_scoped(session: Session, user: User, model: type[Any], ident: int) -> Any:
    """The ``model`` row with id ``ident`` if the user may see it, else :class:`~anju.errors.AccessDeniedError`.

    A row outside the scope and a missing row give the same error, so ids cannot be probed.
    Supports :class:`Community`, :class:`CommunityProfile`, :class:`Notice` and :class:`Task`.
    """
    if model is CommunityProfile:
        stmt = scope_profiles(select(CommunityProfile).where(CommunityProfile.id == ident), user)
    elif model in _FILTERS:
        stmt = select(model).where(model.id == ident, _FILTERS[model](user))
    else:
        raise TypeError(f"get_scoped does not know how to scope {model.__name__}")
    row = session.scalars(stmt).first()
    if row is None:
        raise AccessDeniedError(f"{model.__name__} {ident} does not exist or is outside your data scope")
    return row


def allowed_community_codes(session: Session, user: User) -> frozenset[str] | None:
    """Codes of the communities the user may see, for filtering lake-derived tables; None = the whole district."""
    if is_district_wide(user):
        return None
    return frozenset(session.scalars(select(Community.code).where(community_filter(user))))


def visible_area_codes(session: Session, user: User, level: str) -> frozenset[str] | None:
    """Codes of the areas of ``level`` (station, police_district, street, community, grid) that hold at least one of
    the user's communities; None = all (district-wide user)."""
    if is_district_wide(user):
        return None
    stmt: Select[Any]
    if level == "grid":
        stmt = (select(CommunityGrid.grid_code).join(Community, Community.id == CommunityGrid.community_id)
                .where(community_filter(user)))
    elif level in _LEVEL_COLUMN:
        col = _LEVEL_COLUMN[level]
        stmt = select(col).where(community_filter(user), col.is_not(None)).distinct()
    else:
        raise ValueError(f"unknown area level {level!r}; expected one of {[*_LEVEL_COLUMN, 'grid']}")
    return frozenset(session.scalars(stmt))


def require_area_in_scope(session: Session, user: User, level: str, code: str | None) -> None:
    """Refuse (:class:`~anju.errors.AccessDeniedError`) an area the user may not address as a whole: a notice to the
    whole district from a station, to a street of which some communities are outside the user's scope, or to an
    area that holds no known community (whoever asks)."""
    wide = is_district_wide(user)
    if level == "district" or code is None:
        if wide:
            return
        raise AccessDeniedError("only district-wide roles may address the whole district")
    if level == "grid":
        in_area: ColumnElement[bool] = Community.id.in_(
            select(CommunityGrid.community_id).where(CommunityGrid.grid_code == code))
    elif level in _LEVEL_COLUMN:
        in_area = _LEVEL_COLUMN[level] == code
    else:
        raise AccessDeniedError(f"unknown area level {level!r}")
    total = session.scalar(select(func.count()).select_from(Community).where(in_area)) or 0
    if total == 0:
        raise AccessDeniedError(f"{level} {code!r} holds no known community")
    if wide:
        return
    outside = session.scalar(select(func.count()).select_from(Community)
                             .where(in_area, ~community_filter(user))) or 0
    if outside:
        raise AccessDeniedError(f"{level} {code!r} is outside your data scope")
