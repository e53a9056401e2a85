"""Station adjustments of a briefing and registry-check outcomes in the ops database: scoped, reasoned, audited.

A station leader may adjust only a station in scope (:func:`anju.ops.scope.require_area_in_scope`); a community police
officer may record checks only for communities in scope. Every write is one audited row (:func:`anju.ops.audit.record`
in the same transaction). :func:`apply_adjustments` turns the briefing's plan into the plan actually used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError, ConfigError
from anju.ops import audit
from anju.ops.models import ADJUSTMENT_KINDS, CHECK_OUTCOMES, DutyAdjustment, RegistryCheck, User
from anju.ops.roles import Role
from anju.ops.scope import allowed_community_codes, require_area_in_scope

__all__ = ["ADJUSTERS", "CHECKERS", "add_adjustment", "apply_adjustments", "day_adjustments", "record_check"]

#: Roles that may adjust a briefing (within their scope).
ADJUSTERS = frozenset({Role.ADMIN, Role.LEADER, Role.STATION})
#: Roles that may record registry checks (within their scope).
CHECKERS = frozenset({Role.ADMIN, Role.STATION, Role.COMMUNITY_POLICE})


def add_adjustment(session: Session, user: User, *, day: Any, station_code: str, kind: str, target: str,
                   value: dict[str, Any] | None, reason: str, ip: str | None = None) -> DutyAdjustment:
    """Record one adjustment (with its reason) of ``day``'s briefing for a station in the user's scope."""
    if user.role not in ADJUSTERS:
        raise AccessDeniedError("only station, leader and admin accounts may adjust a briefing")
    if kind not in ADJUSTMENT_KINDS:
        raise ConfigError(f"kind must be one of {ADJUSTMENT_KINDS}. Got {kind!r}.", key="kind")
    if not reason or not reason.strip():
        raise ConfigError("an adjustment needs a reason (调整理由).", key="reason")
    if not target or not target.strip():
        raise ConfigError("an adjustment needs a target (unit, shift or box id).", key="target")
    require_area_in_scope(session, user, "station", station_code)
    val = dict(value or {})
    if kind == "add_box":
        missing = [k for k in ("x", "y", "planned_minutes", "shift") if k not in val]
        if missing:
            raise ConfigError(f"add_box needs value keys {missing}.", key="value")
    day_d = pd.Timestamp(day).date()
    adj = DutyAdjustment(day=day_d, station_code=station_code, kind=kind, target=target.strip(), value=val,
                         reason=reason.strip(), author_id=user.id)
    session.add(adj)
    session.flush()
    audit.record(session, actor=user, action="duty.adjust", target_type="duty_adjustment", target_id=adj.id,
                 detail={"day": str(day_d), "station": station_code, "kind": kind, "target": adj.target,
                         "value": val, "reason": adj.reason}, ip=ip)
    return adj


def day_adjustments(session: Session, day: Any, stations: frozenset[str] | None = None, *,
                    until: Any = None) -> pd.DataFrame:
    """The adjustments of ``day`` (or of the days ``day`` … ``until`` inclusive), oldest first, optionally only for
    some stations."""
    lo = pd.Timestamp(day).date()
    hi = pd.Timestamp(until).date() if until is not None else lo
    stmt = (select(DutyAdjustment).where(DutyAdjustment.day >= lo, DutyAdjustment.day <= hi)
            .order_by(DutyAdjustment.id))
    if stations is not None:
        stmt = stmt.where(DutyAdjustment.station_code.in_(sorted(stations)))
    rows = [{"id": a.id, "day": a.day, "station_id": a.station_code, "kind": a.kind, "target": a.target,
             "value": a.value, "reason": a.reason, "author": a.author.username if a.author else None,
             "created_at": a.created_at} for a in session.scalars(stmt)]
    return pd.DataFrame(rows, columns=["id", "day", "station_id", "kind", "target", "value", "reason", "author",
                                       "created_at"])


def apply_adjustments(plan: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """The plan actually used: ``drop_box`` removes a box, ``add_box`` adds one (in the order recorded).

    Level and unit adjustments are kept as the record of the decision; they do not move boxes by themselves.
    """
    out = plan.copy()
    if adjustments is None or adjustments.empty:
        return out
    for a in adjustments.itertuples():
        if a.kind == "drop_box":
            out = out[~((out["box_id"] == a.target) & (out["station_id"] == a.station_id))]
        elif a.kind == "add_box":
            v = dict(a.value)
            day = pd.Timestamp(a.day)
            same = out[(out["station_id"] == a.station_id) & (out["shift"] == v["shift"])]
            if same.empty:
                continue  # no shift window to attach it to
            start, end = same["shift_start"].iloc[0], same["shift_end"].iloc[0]
            row = {"plan_id": f"{day:%Y%m%d}-{a.target}", "station_id": a.station_id, "shift": v["shift"],
                   "shift_start": start, "shift_end": end, "unit": v.get("unit", same["unit"].iloc[0]),
                   "box_id": a.target, "x": float(v["x"]), "y": float(v["y"]),
                   "radius_m": float(v.get("radius_m", 100.0)), "planned_minutes": float(v["planned_minutes"]),
                   "planned_visits": int(v.get("planned_visits", 1))}
            out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
    return out.reset_index(drop=True)


def record_check(session: Session, user: User, *, household_id: str, community_code: str, flag: str, outcome: str,
                 note: str = "", ip: str | None = None) -> RegistryCheck:
    """Record the outcome of one registry check for a household in the user's communities."""
    if user.role not in CHECKERS:
        raise AccessDeniedError("only community police, station and admin accounts record registry checks")
    if outcome not in CHECK_OUTCOMES:
        raise ConfigError(f"outcome must be one of {CHECK_OUTCOMES}. Got {outcome!r}.", key="outcome")
    allowed = allowed_community_codes(session, user)
    if allowed is not None and community_code not in allowed:
        raise AccessDeniedError("this household is outside your communities")
    chk = RegistryCheck(household_id=household_id, community_code=community_code, flag=flag, outcome=outcome,
                        note=note.strip(), checked_by_id=user.id, checked_at=dt.datetime.now(dt.UTC))
    session.add(chk)
    session.flush()
    audit.record(session, actor=user, action="registry.check", target_type="registry_check", target_id=chk.id,
                 detail={"household": household_id, "community": community_code, "flag": flag, "outcome": outcome},
                 ip=ip)
    return chk
