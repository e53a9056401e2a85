"""Roles and what each may do.

A role grants :class:`Permission` s; *where* a user may use them is their data scope (:mod:`anju.ops.scope`).
Roles whose scope is the whole district are listed in :data:`DISTRICT_WIDE`; every other role sees only the
areas of its scope rows (deny by default). ``public`` is the visitor with no login (resident pages only).
"""

from __future__ import annotations

from enum import StrEnum

from anju.errors import AccessDeniedError

__all__ = ["DISTRICT_WIDE", "PERMISSIONS", "ROLE_LABELS", "Permission", "Role", "has_permission", "require"]


class Role(StrEnum):
    """The platform's roles (stored by value in ``users.role``)."""

    ADMIN = "admin"
    LEADER = "leader"
    ANALYST = "analyst"
    STATION = "station"
    COMMUNITY_POLICE = "community_police"
    STREET_OFFICE = "street_office"
    EVALUATOR = "evaluator"
    PROPERTY_MANAGER = "property_manager"
    GRID_WORKER = "grid_worker"
    DEPARTMENT = "department"
    PUBLIC = "public"


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("系统管理员", "administrator"),
    Role.LEADER: ("分局领导", "bureau leader"),
    Role.ANALYST: ("情报中心分析员", "intelligence analyst"),
    Role.STATION: ("派出所", "police station"),
    Role.COMMUNITY_POLICE: ("社区民警", "community police officer"),
    Role.STREET_OFFICE: ("街镇", "street office"),
    Role.EVALUATOR: ("综治办考核", "evaluator (综治办)"),
    Role.PROPERTY_MANAGER: ("物业公司", "property manager"),
    Role.GRID_WORKER: ("网格员", "grid worker"),
    Role.DEPARTMENT: ("职能部门", "functional department"),
    Role.PUBLIC: ("公众", "public"),
}
"""(Chinese, English) name of each role."""


class Permission(StrEnum):
    """Things a role may do; scope decides where."""

    READ_ANALYTICS = "read_analytics"  # overview, rankings, index, hot spots (scoped)
    READ_RELEASES = "read_releases"  # the published Safety Index releases
    READ_COMMUNITIES = "read_communities"  # community records and profiles (scoped)
    READ_PERSONAL = "read_personal"  # personal data: callers, addresses, user contact details
    WRITE_PROFILES = "write_profiles"  # add a dated community profile row
    WRITE_NOTICES = "write_notices"  # publish a notice to an area in scope
    ASSIGN_TASKS = "assign_tasks"  # create a task for an organisation
    REPLY_TASKS = "reply_tasks"  # reply to / progress a task one can see
    RUN_IMPORTS = "run_imports"  # upload 110 exports and ops records
    BUILD_RELEASES = "build_releases"  # build a new release (background job)
    TRAIN_MODELS = "train_models"  # retrain the text classifier
    ASSESS = "assess"  # assessment (综治考核)
    MANAGE_USERS = "manage_users"  # users, roles, scopes, sessions
    READ_AUDIT = "read_audit"  # the audit log


P = Permission
_READ = {P.READ_ANALYTICS, P.READ_RELEASES, P.READ_COMMUNITIES}
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.LEADER: frozenset(_READ | {P.READ_PERSONAL}),
    Role.ANALYST: frozenset(_READ | {P.READ_PERSONAL, P.WRITE_PROFILES, P.WRITE_NOTICES, P.ASSIGN_TASKS,
                                     P.REPLY_TASKS, P.RUN_IMPORTS, P.BUILD_RELEASES, P.TRAIN_MODELS}),
    Role.STATION: frozenset(_READ | {P.READ_PERSONAL, P.WRITE_PROFILES, P.WRITE_NOTICES, P.ASSIGN_TASKS,
                                     P.REPLY_TASKS}),
    Role.COMMUNITY_POLICE: frozenset(_READ | {P.READ_PERSONAL, P.WRITE_PROFILES, P.ASSIGN_TASKS, P.REPLY_TASKS}),
    Role.STREET_OFFICE: frozenset(_READ | {P.WRITE_PROFILES, P.WRITE_NOTICES, P.ASSIGN_TASKS, P.REPLY_TASKS}),
    Role.EVALUATOR: frozenset(_READ | {P.ASSESS, P.REPLY_TASKS}),
    Role.PROPERTY_MANAGER: frozenset(_READ | {P.WRITE_PROFILES, P.REPLY_TASKS}),
    Role.GRID_WORKER: frozenset(_READ | {P.WRITE_PROFILES, P.REPLY_TASKS}),
    Role.DEPARTMENT: frozenset({P.READ_RELEASES, P.REPLY_TASKS}),
    Role.PUBLIC: frozenset(),
}
"""What each role may do. Personal data is for police roles, leaders and administrators only."""

DISTRICT_WIDE: frozenset[Role] = frozenset({Role.ADMIN, Role.LEADER, Role.ANALYST, Role.EVALUATOR})
"""Roles that see the whole district whatever their scope rows say."""


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccessDeniedError(f"unknown role {role!r}; expected one of {[r.value for r in Role]}") from None


def has_permission(role: str | Role, permission: Permission) -> bool:
    """Whether ``role`` grants ``permission`` (an unknown role grants nothing)."""
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def require(role: str | Role, permission: Permission) -> None:
    """Raise :class:`~anju.errors.AccessDeniedError` unless ``role`` grants ``permission``."""
    r = _role(role)
    if permission not in PERMISSIONS[r]:
        raise AccessDeniedError(f"role {r.value!r} may not {permission.value}")
