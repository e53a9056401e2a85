"""Adjustments and registry checks on both ops databases (SQLite and a throwaway PostgreSQL cluster)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from anju.duty.adjust import add_adjustment, apply_adjustments, day_adjustments, record_check
from anju.errors import AccessDeniedError, ConfigError


@pytest.fixture
def session(ops_url: str, duty_demo: dict[str, Any]) -> Any:
    from anju.ops.db import make_engine, session_factory
    from anju.ops.demo import seed_demo

    engine = make_engine(ops_url)
    with session_factory(engine)() as s:
        seed_demo(s, duty_demo["settings"], seed=42, end_year=2025)
        s.commit()
        yield s
    engine.dispose()


def _user(session: Any, role: str) -> Any:
    from anju.ops.models import User

    return session.scalars(select(User).where(User.role == role)).first()


def test_adjustments_scoped_reasoned_audited(session: Any, ops_url: str, duty_demo: dict[str, Any]) -> None:
    from anju.ops import audit

    st = _user(session, "station")
    with pytest.raises(ConfigError, match="reason"):
        add_adjustment(session, st, day="2025-12-31", station_code="PS03", kind="drop_box", target="b", value={},
                       reason="  ")
    with pytest.raises(AccessDeniedError):
        add_adjustment(session, st, day="2025-12-31", station_code="PS01", kind="drop_box", target="b", value={},
                       reason="施工")
    with pytest.raises(AccessDeniedError):
        add_adjustment(session, _user(session, "analyst"), day="2025-12-31", station_code="PS03", kind="level",
                       target="PS03-01", value={"level": 2}, reason="r")
    add_adjustment(session, st, day="2025-12-31", station_code="PS03", kind="drop_box", target="B1", value={},
                   reason="道路施工")
    add_adjustment(session, st, day="2025-12-31", station_code="PS03", kind="add_box", target="NEW",
                   value={"x": 1.0, "y": 2.0, "planned_minutes": 30, "shift": "night"}, reason="群众反映")
    session.commit()
    adj = day_adjustments(session, "2025-12-31")
    assert list(adj["kind"]) == ["drop_box", "add_box"] and list(adj["author"]) == ["station", "station"]
    assert day_adjustments(session, "2025-12-31", frozenset({"PS01"})).empty
    assert audit.verify(session).ok
    plan = pd.DataFrame({"plan_id": ["p1", "p2"], "station_id": "PS03", "shift": "night",
                         "shift_start": pd.Timestamp("2025-12-31"), "shift_end": pd.Timestamp("2025-12-31 08:00"),
                         "unit": "u", "box_id": ["B1", "B2"], "x": 0.0, "y": 0.0, "radius_m": 100.0,
                         "planned_minutes": 20.0, "planned_visits": 2})
    used = apply_adjustments(plan, adj)
    assert list(used["box_id"]) == ["B2", "NEW"] and used["planned_minutes"].tolist() == [20.0, 30.0]
    from anju.duty.service import stored_adjustments

    settings = duty_demo["settings"].model_copy(update={"database_url": ops_url})
    stored = stored_adjustments(settings, "2025-12-01", "2026-01-01")
    assert stored is not None and list(stored["target"]) == ["B1", "NEW"]
    assert stored_adjustments(duty_demo["settings"], "2025-12-01", "2026-01-01") is None  # no ops database there


def test_registry_check_scope(session: Any) -> None:
    from anju.ops.models import AuditEvent
    from anju.ops.scope import allowed_community_codes

    cp = _user(session, "community_police")
    mine = sorted(allowed_community_codes(session, cp) or [])
    assert mine
    record_check(session, cp, household_id="H1", community_code=mine[0], flag="zombie", outcome="false_alarm")
    with pytest.raises(AccessDeniedError):
        record_check(session, cp, household_id="H2", community_code="310190001001" if mine[0] != "310190001001"
                     else "310190012002", flag="zombie", outcome="confirmed")
    with pytest.raises(ConfigError):
        record_check(session, cp, household_id="H1", community_code=mine[0], flag="zombie", outcome="maybe")
    session.commit()
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "registry.check")).first() is not None
