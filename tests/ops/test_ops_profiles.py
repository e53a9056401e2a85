"""Community profiles are dated and append-only: any past profile can be read back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from anju.errors import OpsError
from anju.ops import records
from anju.ops.models import CommunityProfile, profile_as_of, profile_history

from .conftest import World


def test_profile_as_of(ops_session: Session, world: World) -> None:
    admin, c = world.users["admin"], world.c("C1")
    records.add_profile(ops_session, admin, c.id, date(2024, 1, 1), {"rental_rate": 0.3, "cameras": 10})
    p2 = records.add_profile(ops_session, admin, c.id, date(2025, 1, 1), {"rental_rate": 0.5, "cameras": 12,
                                                                          "cameras_faulty": 6})
    ops_session.commit()
    assert profile_as_of(ops_session, c.id, date(2023, 12, 31)) is None
    p = profile_as_of(ops_session, c.id, date(2024, 6, 1))
    assert p is not None and p.rental_rate == 0.3 and p.cameras == 10
    p = profile_as_of(ops_session, c.id, date(2025, 3, 1))
    assert p is not None and p.id == p2.id and p.cameras_faulty == 6
    assert [h.rental_rate for h in profile_history(ops_session, c.id)] == [0.3, 0.5]
    # a correction for 2024 recorded later wins for 2024, but the earlier view can still be read back
    before = datetime.now(UTC)
    fix = records.add_profile(ops_session, admin, c.id, date(2024, 1, 1), {"rental_rate": 0.35})
    ops_session.commit()
    now_view = profile_as_of(ops_session, c.id, date(2024, 6, 1))
    assert now_view is not None and now_view.id == fix.id
    then_view = profile_as_of(ops_session, c.id, date(2024, 6, 1), known_at=before)
    assert then_view is not None and then_view.rental_rate == 0.3
    assert ops_session.query(CommunityProfile).count() == 3  # nothing overwritten


@pytest.mark.parametrize("facts, msg", [
    ({"rental_rate": 1.2}, "between 0 and 1"),
    ({"households": -1}, "whole number"),
    ({"cameras": 3, "cameras_faulty": 4}, "cannot exceed"),
    ({"colour": "red"}, "unknown profile field"),
    ({"has_owners_committee": "maybe"}, "true or false"),
])
def test_bad_facts_refused(ops_session: Session, world: World, facts: dict[str, object], msg: str) -> None:
    with pytest.raises(OpsError, match=msg):
        records.add_profile(ops_session, world.users["admin"], world.c("C1").id, date(2025, 1, 1), facts)
