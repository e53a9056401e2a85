"""The demo district's resident services: what docs/demo-district.md says is planted is found in the records."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from anju.config import load_settings
from anju.demo.resident import MARKET_SHARE, market_street_community, seed_resident_demo
from anju.ops.demo import seed_demo
from anju.ops.models import Community, DoorPlate, ResidentReport, SafeHouse
from anju.ops.resident import ResidentDesk
from anju.resident.calendar import load_calendar
from anju.resident.corpus import synthetic_reports
from anju.resident.metrics import department_performance
from anju.resident.routing import train_router
from anju.resident.rules import load_resident_rules


@pytest.fixture(scope="module")
def router():
    t, y = synthetic_reports(120, seed=0)
    return train_router(t, y)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_resident_records(ops_session, tmp_path, router):
    s = ops_session
    settings = load_settings(data_dir=tmp_path / "data")
    seed_demo(s, settings, seed=42, end_year=2025)
    s.commit()
    desk = ResidentDesk(load_resident_rules(), load_calendar(), router, b"demo")
    res = seed_resident_demo(s, settings, desk, seed=42, year=2025, n_reports=400)
    s.commit()
    assert res.created and res.plates == s.scalar(select(func.count()).select_from(DoorPlate)) > 1000
    assert seed_resident_demo(s, settings, desk, seed=42, year=2025).created is False  # idempotent
    rows = s.execute(select(ResidentReport.department, ResidentReport.matter, ResidentReport.created_at,
                            ResidentReport.signed_at, ResidentReport.closed_at, ResidentReport.deadline,
                            ResidentReport.reopened, ResidentReport.satisfied, Community.code,
                            ResidentReport.sitting_date, ResidentReport.mediation_outcome)
                     .join(Community, ResidentReport.community_id == Community.id)).all()
    df = pd.DataFrame(rows, columns=["department", "matter", "created_at", "signed_at", "closed_at", "deadline",
                                     "reopened", "satisfied", "community", "sitting_date", "outcome"])
    assert len(df) >= 400 * 0.9
    # the market street: most of its reports are trade disputes, far above the rest of the district
    mk = market_street_community(42)
    assert res.market_community == mk
    share_mk = (df[df.community == mk].matter == "market").mean()
    share_rest = (df[df.community != mk].matter == "market").mean()
    assert share_mk > 0.4 and share_rest < 0.2 and share_mk > 3 * share_rest, (share_mk, share_rest, MARKET_SHARE)
    # the slow department: the city squad has the lowest SLA compliance and the longest time to sign
    perf = department_performance(df, now=pd.Timestamp("2026-06-01", tz="UTC")).set_index("department")
    big = perf[perf.orders >= 20]
    assert big.sla_rate.idxmin() == "city" and big.median_hours_to_sign.idxmax() == "city"
    # mediation: sittings on Tuesdays and Fridays, outcomes recorded
    med = df[df.department == "mediation"]
    assert len(med) > 30 and set(pd.to_datetime(med.sitting_date).dt.day_of_week + 1) <= {2, 5}
    assert med.outcome.notna().mean() > 0.9 and (med.outcome == "settled").mean() > 0.45
    # reopened orders exist (dissatisfied residents), and safe houses / candidates are in place
    assert (df.reopened > 0).sum() > 10
    kinds = dict(s.execute(select(SafeHouse.status, func.count()).group_by(SafeHouse.status)).all())
    assert kinds == {"active": 4, "candidate": 30}
