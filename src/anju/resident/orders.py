"""The work-order life cycle (12345 conventions, FixMyStreet state types), as a pure state machine.

States::

    moderation ─approve─► new ─dispatch─► dispatched ─sign─► signed ─start─► in_progress ─close─► closed
         │                 ▲                 │  ▲                                            │
         └─hide─► hidden   └──── return ─────┘  └──────────── reassign / reopen (重办) ───────┘

* **moderation** (待审核): held by the anti-abuse checks; a moderator approves or hides it.
* **new** (待派单): waiting for the human dispatcher (low confidence, or returned by a department).
* **dispatched** (已派单) → **signed** (已签收) → **in_progress** (处理中) → **closed** (办结) with a resolution:
  ``fixed``, ``not_fixed`` or ``not_responsible`` — so "closed, not fixed" exists.
* **duplicate**: closed as a duplicate of another order.
* ``return`` (退回) sends an order back to the dispatcher and ``reassign`` (改派) to another department, both with a
  reason; ``extend`` asks for more time and is only allowed before the deadline; ``urge`` (催办) and ``escalate``
  (to the supervisor) are allowed on any open order and keep its state; ``visit`` (回访) records the resident's or the
  caller's verdict after closure, and an unsatisfied verdict ``reopen``s the order (重办) to the same department with a
  new time limit.

Every action needs a note. :func:`apply` returns the new state and the event to store; it never mutates its input.
The state *type* (:func:`state_type`) is what reports count: open / closed-fixed / closed-not-fixed /
closed-not-responsible / duplicate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum

from anju.errors import AnjuError

__all__ = [
    "ACTIONS",
    "Action",
    "Event",
    "OrderState",
    "Resolution",
    "Status",
    "TransitionError",
    "apply",
    "state_type",
]


class TransitionError(AnjuError, ValueError):
    """An action that is not allowed in the order's current state (or lacks its note / reason)."""


class Status(StrEnum):
    MODERATION = "moderation"
    HIDDEN = "hidden"
    NEW = "new"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    DUPLICATE = "duplicate"


class Resolution(StrEnum):
    FIXED = "fixed"
    NOT_FIXED = "not_fixed"
    NOT_RESPONSIBLE = "not_responsible"


STATUS_ZH = {
    Status.MODERATION: "待审核", Status.HIDDEN: "已屏蔽", Status.NEW: "待派单", Status.DISPATCHED: "已派单",
    Status.SIGNED: "已签收", Status.IN_PROGRESS: "处理中", Status.CLOSED: "已办结", Status.DUPLICATE: "重复件",
}
RESOLUTION_ZH = {Resolution.FIXED: "已解决", Resolution.NOT_FIXED: "未解决",
                 Resolution.NOT_RESPONSIBLE: "非本单位职责"}

OPEN = frozenset({Status.NEW, Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS})


class Action(StrEnum):
    APPROVE = "approve"
    HIDE = "hide"
    DISPATCH = "dispatch"
    SIGN = "sign"
    START = "start"
    RETURN = "return"
    REASSIGN = "reassign"
    EXTEND = "extend"
    URGE = "urge"
    ESCALATE = "escalate"
    CLOSE = "close"
    MARK_DUPLICATE = "mark_duplicate"
    VISIT = "visit"
    REOPEN = "reopen"


ACTION_ZH = {
    Action.APPROVE: "审核通过", Action.HIDE: "屏蔽", Action.DISPATCH: "派单", Action.SIGN: "签收",
    Action.START: "开始处理", Action.RETURN: "退回", Action.REASSIGN: "改派", Action.EXTEND: "延期",
    Action.URGE: "催办", Action.ESCALATE: "上报督办", Action.CLOSE: "办结", Action.MARK_DUPLICATE: "标记重复",
    Action.VISIT: "回访", Action.REOPEN: "重办",
}

# which states each action may start from
ACTIONS: dict[Action, frozenset[Status]] = {
    Action.APPROVE: frozenset({Status.MODERATION}),
    Action.HIDE: frozenset({Status.MODERATION, *OPEN}),
    Action.DISPATCH: frozenset({Status.NEW}),
    Action.SIGN: frozenset({Status.DISPATCHED}),
    Action.START: frozenset({Status.SIGNED}),
    Action.RETURN: frozenset({Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS}),
    Action.REASSIGN: frozenset({Status.NEW, Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS}),
    Action.EXTEND: frozenset({Status.SIGNED, Status.IN_PROGRESS}),
    Action.URGE: OPEN,
    Action.ESCALATE: OPEN,
    Action.CLOSE: frozenset({Status.SIGNED, Status.IN_PROGRESS}),
    Action.MARK_DUPLICATE: frozenset({Status.MODERATION, *OPEN}),
    Action.VISIT: frozenset({Status.CLOSED}),
    Action.REOPEN: frozenset({Status.CLOSED}),
}


@dataclass(frozen=True)
class OrderState:
    """What the state machine needs to know about an order."""

    status: Status
    department: str | None
    deadline: dt.datetime | None
    resolution: Resolution | None = None
    reopened: int = 0
    escalated: bool = False
    extensions: int = 0
    duplicate_of: str | None = None
    satisfied: bool | None = None


@dataclass(frozen=True)
class Event:
    """One row of an order's history: what happened, by whom, with the note."""

    action: Action
    from_status: Status
    to_status: Status
    note: str
    at: dt.datetime
    department: str | None = None
    detail: dict[str, object] = field(default_factory=dict)


def state_type(status: Status | str, resolution: Resolution | str | None) -> str:
    """``open`` / ``closed-fixed`` / ``closed-not-fixed`` / ``closed-not-responsible`` / ``duplicate`` /
    ``hidden`` / ``moderation``."""
    s = Status(status)
    if s in OPEN:
        return "open"
    if s is Status.CLOSED:
        return "closed-" + Resolution(resolution or Resolution.FIXED).value.replace("_", "-")
    return s.value


def apply(state: OrderState, action: Action | str, *, note: str, at: dt.datetime, department: str | None = None,
          resolution: Resolution | str | None = None, new_deadline: dt.datetime | None = None,
          satisfied: bool | None = None, duplicate_of: str | None = None) -> tuple[OrderState, Event]:
    """Apply ``action`` to ``state``; returns the new state and the event, or raises :class:`TransitionError`.

    ``department`` is required by ``dispatch`` and ``reassign``; ``resolution`` by ``close``; ``new_deadline`` by
    ``dispatch``, ``reassign``, ``extend`` and ``reopen`` (the caller computes it from the calendar);
    ``satisfied`` by ``visit``; ``duplicate_of`` by ``mark_duplicate``.
    """
    act = Action(action)
    note = (note or "").strip()
    if not note:
        raise TransitionError(f"{act.value} ({ACTION_ZH[act]}): every status change needs a note")
    if state.status not in ACTIONS[act]:
        allowed = ", ".join(sorted(s.value for s in ACTIONS[act]))
        raise TransitionError(f"{act.value} ({ACTION_ZH[act]}) is not allowed on an order that is "
                              f"{state.status.value} ({STATUS_ZH[state.status]}); allowed from: {allowed}")
    detail: dict[str, object] = {}
    new = state
    s = state.status
    if act is Action.APPROVE:
        new = replace(state, status=Status.DISPATCHED if state.department else Status.NEW)
    elif act is Action.HIDE:
        new = replace(state, status=Status.HIDDEN)
    elif act in (Action.DISPATCH, Action.REASSIGN):
        if not department:
            raise TransitionError(f"{act.value} needs the department to send the order to")
        if act is Action.REASSIGN and department == state.department:
            raise TransitionError("reassign (改派) must name another department than the current one")
        if new_deadline is None:
            raise TransitionError(f"{act.value} needs the new deadline")
        detail = {"from_department": state.department, "to_department": department}
        new = replace(state, status=Status.DISPATCHED, department=department, deadline=new_deadline)
    elif act is Action.SIGN:
        new = replace(state, status=Status.SIGNED)
    elif act is Action.START:
        new = replace(state, status=Status.IN_PROGRESS)
    elif act is Action.RETURN:
        detail = {"from_department": state.department}
        new = replace(state, status=Status.NEW, department=None)
    elif act is Action.EXTEND:
        if state.deadline is None or at > state.deadline:
            raise TransitionError("an extension (延期) must be requested before the deadline; this order is "
                                  "already overdue — ask for 催办 / escalate instead")
        if new_deadline is None or new_deadline <= state.deadline:
            raise TransitionError("extend needs a new deadline later than the current one")
        detail = {"old_deadline": state.deadline.isoformat(), "new_deadline": new_deadline.isoformat()}
        new = replace(state, deadline=new_deadline, extensions=state.extensions + 1)
    elif act is Action.URGE:
        overdue = state.deadline is not None and at > state.deadline
        detail = {"overdue": overdue}
    elif act is Action.ESCALATE:
        new = replace(state, escalated=True)
    elif act is Action.CLOSE:
        if resolution is None:
            raise TransitionError("close (办结) needs a resolution: fixed, not_fixed or not_responsible")
        res = Resolution(resolution)
        detail = {"resolution": res.value}
        new = replace(state, status=Status.CLOSED, resolution=res)
    elif act is Action.MARK_DUPLICATE:
        if not duplicate_of:
            raise TransitionError("mark_duplicate needs the receipt of the original order")
        new = replace(state, status=Status.DUPLICATE, duplicate_of=duplicate_of)
    elif act is Action.VISIT:
        if satisfied is None:
            raise TransitionError("visit (回访) needs the verdict: satisfied or not")
        detail = {"satisfied": satisfied}
        new = replace(state, satisfied=satisfied)
    elif act is Action.REOPEN:
        if new_deadline is None:
            raise TransitionError("reopen (重办) needs the new deadline")
        new = replace(state, status=Status.DISPATCHED, resolution=None, deadline=new_deadline,
                      reopened=state.reopened + 1, satisfied=None)
        detail = {"to_department": state.department}
    event = Event(act, s, new.status, note, at, new.department, detail)
    return new, event
