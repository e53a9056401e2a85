"""Scoped, audited writes of operational records: community profiles, notices, tasks and task replies.

Each function checks the role's permission and the user's data scope, writes, and appends an audit event in the same
transaction (the caller commits). A refusal raises :class:`~anju.errors.AccessDeniedError` and writes nothing; bad
values raise :class:`~anju.errors.OpsError`. The web routers call these, so every surface enforces the same rules.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError, OpsError
from anju.ops import audit
from anju.ops.models import (
    PROFILE_FIELDS,
    SCOPE_LEVELS,
    TASK_STATUSES,
    Community,
    CommunityProfile,
    Notice,
    Organisation,
    Task,
    TaskReply,
    User,
)
from anju.ops.roles import Permission, require
from anju.ops.scope import get_scoped, is_district_wide, require_area_in_scope

__all__ = ["add_profile", "assign_task", "check_profile_facts", "publish_notice", "reply_task"]

_SHARES = ("floating_share", "rental_rate", "fee_collection_rate")
_COUNTS = ("households", "residents", "guards", "cameras", "cameras_faulty")
MAX_TITLE = 200
MAX_BODY = 20_000


def check_profile_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """Validate profile facts: known fields only, shares in [0, 1], counts ≥ 0, faulty cameras ≤ cameras.

    Returns the cleaned dict; raises :class:`~anju.errors.OpsError` naming the field, the value and the rule.
    """
    unknown = set(facts) - set(PROFILE_FIELDS)
    if unknown:
        raise OpsError(f"unknown profile field(s) {sorted(unknown)}; expected some of {list(PROFILE_FIELDS)}")
    out: dict[str, Any] = {}
    for k, v in facts.items():
        if v is None:
            out[k] = None
        elif k in _SHARES:
            x = float(v)
            if not 0.0 <= x <= 1.0:
                raise OpsError(f"{k} must be a share between 0 and 1; got {v!r}")
            out[k] = x
        elif k in _COUNTS:
            if isinstance(v, bool) or float(v) != int(float(v)) or int(float(v)) < 0:
                raise OpsError(f"{k} must be a whole number ≥ 0; got {v!r}")
            out[k] = int(float(v))
        else:  # has_owners_committee
            if not isinstance(v, bool):
                raise OpsError(f"{k} must be true or false; got {v!r}")
            out[k] = v
    cams, faulty = out.get("cameras"), out.get("cameras_faulty")
    if cams is not None and faulty is not None and faulty > cams:
        raise OpsError(f"cameras_faulty ({faulty}) cannot exceed cameras ({cams})")
    return out


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise OpsError(f"{field} is empty")
    if len(value) > limit:
        raise OpsError(f"{field} is too long: {len(value)} characters; at most {limit}")
    return value


def add_profile(session: Session, user: User, community_id: int, effective_date: date, facts: dict[str, Any], *,
                note: str | None = None, source: str = "manual", ip: str | None = None) -> CommunityProfile:
    """Append a dated profile row to a community in the user's scope (earlier rows stay as they were)."""
    require(user.role, Permission.WRITE_PROFILES)
    community = get_scoped(session, user, Community, community_id)
    row = CommunityProfile(community_id=community.id, effective_date=effective_date, note=note, source=source,
                           author_id=user.id, **check_profile_facts(facts))
    session.add(row)
    session.flush()
    audit.record(session, actor=user, action="profile.add", target_type="community", target_id=community.code,
                 detail={"profile_id": row.id, "effective_date": effective_date.isoformat(), **facts}, ip=ip)
    return row


def publish_notice(session: Session, user: User, *, title: str, body: str, area_level: str = "district",
                   area_code: str | None = None, ip: str | None = None) -> Notice:
    """Publish a notice to an area the user covers entirely (the whole district needs a district-wide role).

    The text is stored as given (escaping is the renderer's job), within length limits.
    """
    require(user.role, Permission.WRITE_NOTICES)
    if area_level not in SCOPE_LEVELS:
        raise OpsError(f"area_level must be one of {list(SCOPE_LEVELS)}; got {area_level!r}")
    require_area_in_scope(session, user, area_level, area_code)
    notice = Notice(title=_text(title, "title", MAX_TITLE), body=_text(body, "body", MAX_BODY, required=False),
                    area_level=area_level, area_code=None if area_level == "district" else area_code,
                    author_id=user.id, organisation_id=user.organisation_id)
    session.add(notice)
    session.flush()
    audit.record(session, actor=user, action="notice.publish", target_type="notice", target_id=notice.id,
                 detail={"title": notice.title, "area_level": area_level, "area_code": area_code}, ip=ip)
    return notice


def assign_task(session: Session, user: User, *, title: str, body: str, assignee_org_id: int,
                assignee_user_id: int | None = None, community_id: int | None = None, due_date: date | None = None,
                ip: str | None = None) -> Task:
    """Assign a task to an organisation (optionally one of its users), about a community in the user's scope.

    Users without a district-wide scope must name a community they cover.
    """
    require(user.role, Permission.ASSIGN_TASKS)
    if community_id is not None:
        get_scoped(session, user, Community, community_id)
    elif not is_district_wide(user):
        raise AccessDeniedError("a task from a scoped user must name a community in their scope")
    org = session.get(Organisation, assignee_org_id)
    if org is None:
        raise OpsError(f"assignee organisation {assignee_org_id} does not exist")
    if assignee_user_id is not None:
        assignee = session.get(User, assignee_user_id)
        if assignee is None or assignee.organisation_id != org.id:
            raise OpsError(f"user {assignee_user_id} is not a member of organisation {org.code}")
    task = Task(title=_text(title, "title", MAX_TITLE), body=_text(body, "body", MAX_BODY, required=False),
                community_id=community_id, assignee_org_id=org.id, assignee_user_id=assignee_user_id,
                created_by=user.id, due_date=due_date, status="open")
    session.add(task)
    session.flush()
    audit.record(session, actor=user, action="task.assign", target_type="task", target_id=task.id,
                 detail={"title": task.title, "assignee_org": org.code, "assignee_user_id": assignee_user_id,
                         "community_id": community_id, "due_date": due_date.isoformat() if due_date else None},
                 ip=ip)
    return task


def reply_task(session: Session, user: User, task_id: int, *, body: str, status_to: str | None = None,
               ip: str | None = None) -> TaskReply:
    """Reply to a task the user can see; the assignee (org or user) or the creator may also change its status."""
    require(user.role, Permission.REPLY_TASKS)
    task: Task = get_scoped(session, user, Task, task_id)
    if status_to is not None:
        if status_to not in TASK_STATUSES:
            raise OpsError(f"status must be one of {list(TASK_STATUSES)}; got {status_to!r}")
        involved = (task.created_by == user.id or task.assignee_user_id == user.id
                    or (user.organisation_id is not None and task.assignee_org_id == user.organisation_id)
                    or is_district_wide(user))
        if not involved:
            raise AccessDeniedError("only the assignee or the creator may change a task's status")
    reply = TaskReply(task_id=task.id, author_id=user.id, body=_text(body, "reply", MAX_BODY), status_to=status_to)
    session.add(reply)
    if status_to is not None:
        task.status = status_to
    session.flush()
    audit.record(session, actor=user, action="task.reply", target_type="task", target_id=task.id,
                 detail={"reply_id": reply.id, "status_to": status_to}, ip=ip)
    return reply


def community_by_code(session: Session, code: str) -> Community | None:
    """The community with area code ``code`` (unscoped; for imports and the CLI)."""
    return session.scalars(select(Community).where(Community.code == code)).first()
