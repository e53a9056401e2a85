"""The supervision register on the ops database (SQLite and PostgreSQL): open, review, measures, close, audit,
report, scope; and the set evaluation on the demo district."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from docx import Document
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.analytics_synth import lake_frame
from anju.errors import AccessDeniedError
from anju.ops import audit
from anju.ops.models import AuditEvent, Community, CommunityProfile, Organisation, User, UserScope
from anju.supervision import service as svc
from anju.supervision.access import assessment_view, case_dict, visible_case, visible_cases
from anju.supervision.report import write_case_report
from shipped import TAX

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _incidents() -> ibis.Table:
    """C1: 40 thefts in Jan–Nov 2024 (half at night, all at 4 addresses), 12 in Jan–Nov 2025; C2…C6: 10 and 9."""
    rows = []
    rng = np.random.default_rng(5)
    for cid, n24, n25 in [("C1", 40, 12), ("C2", 10, 9), ("C3", 10, 9), ("C4", 10, 9), ("C5", 10, 9),
                          ("C6", 10, 9)]:
        for year, n in ((2024, n24), (2025, n25)):
            days = rng.integers(0, 330, n)
            for i, d in enumerate(days):
                hour = 22 if (cid == "C1" and i % 2 == 0) else 14
                rows.append({"reported_at": pd.Timestamp(year, 1, 1) + pd.Timedelta(days=int(d), hours=hour),
                             "category": "theft.burglary" if i % 3 else "theft.nonmotor", "community_id": cid,
                             "address": f"{cid}-{i % 4 if cid == 'C1' else i}号"})
    return ibis.memtable(lake_frame(rows))


def _world(s: Session) -> dict[str, Any]:
    bureau = Organisation(code="B", name="分局", kind="bureau")
    pm = Organisation(code="PM", name="物业甲", kind="property_company")
    s.add_all([bureau, pm])
    s.flush()
    coms = {}
    for i, code in enumerate(["C1", "C2", "C3", "C4", "C5", "C6"]):
        c = Community(code=code, name=f"小区{code}", street_code="S1" if i < 3 else "S2", station_code="PS1",
                      property_company_id=pm.id if code in ("C1", "C2") else None)
        s.add(c)
        s.flush()
        coms[code] = c
        s.add(CommunityProfile(community_id=c.id, effective_date=dt.date(2023, 1, 1), households=1000,
                               floating_share=0.8 if code == "C1" else 0.3, rental_rate=0.5, fee_collection_rate=0.6,
                               guards=4, cameras=100, cameras_faulty=60 if code == "C1" else 10))
    users = {}
    for name, role, org, scope in [("ana", "analyst", bureau, None), ("pm", "property_manager", pm, None),
                                   ("cp", "community_police", bureau, ("community", "C4"))]:
        u = User(username=name, display_name=name, password_hash="x", role=role, organisation_id=org.id)
        s.add(u)
        s.flush()
        if scope:
            s.add(UserScope(user_id=u.id, area_level=scope[0], area_code=scope[1]))
        users[name] = u
    s.flush()
    return {"c": coms, "u": users}


def test_case_lifecycle_with_audit_and_report(ops_session: Session, tmp_path: Path) -> None:
    s = ops_session
    w = _world(s)
    t = _incidents()
    from anju.config import load_settings

    settings = load_settings(data_dir=tmp_path / "d", quiet=True)
    ana = w["u"]["ana"]
    case = svc.open_case(s, t, actor=ana, community_code="C1", official="王局长", opened_on=dt.date(2025, 1, 1),
                         base_period="2024", goal_change=-0.3, community_police="李警官", rank=1, source="candidate")
    s.commit()
    prof = {f["key"]: f for f in case.snapshots[0].profile["factors"]}
    assert prof["floating_share"]["value"] == 0.8 and prof["floating_share"]["median"] == 0.3
    assert prof["camera_fault_rate"]["value"] == 0.6 and prof["camera_fault_rate"]["ratio"] == 6.0
    assert prof["night_share"]["value"] == 0.5 and prof["repeat_share"]["value"] == 1.0
    assert prof["rate_households"]["value"] == 40.0
    with pytest.raises(svc.SupervisionError, match="already has an open case"):
        svc.open_case(s, t, actor=ana, community_code="C1", official="x", opened_on=dt.date(2025, 2, 1),
                      base_period="2024")
    with pytest.raises(svc.SupervisionError, match="not in the operations database"):
        svc.open_case(s, t, actor=ana, community_code="C9", official="x", opened_on=dt.date(2025, 2, 1),
                      base_period="2024")
    snap = svc.review_case(s, t, case.id, actor=ana, as_of=dt.date(2025, 12, 1), taxonomy=TAX)
    p = snap.progress
    assert (p["count"], p["count_prev"]) == (12, 40)
    assert p["change"] == pytest.approx(-0.7) and p["goal_met"] and p["direction"] == "down" and p["p_value"] < 0.01
    assert p["rank"] == 1 and not p["left_top_n"] and case.status == "reviewing"
    ev = tmp_path / "photo.png"
    ev.write_bytes(PNG)
    m = svc.add_measure(s, settings, case.id, actor=ana, on_date=dt.date(2025, 2, 3), category="技防",
                        what="新增探头20个", who="物业", cost_yuan=60000, evidence=ev)
    assert m.category == "technical" and m.evidence_type == "image/png" and m.evidence_size == len(PNG)
    assert (Path(settings.data_dir) / "supervision" / "evidence" / m.evidence_sha256).read_bytes() == PNG
    bad = tmp_path / "x.txt"
    bad.write_text("<script>alert(1)</script>")
    with pytest.raises(svc.SupervisionError, match="not a PNG"):
        svc.add_measure(s, settings, case.id, actor=ana, on_date=dt.date(2025, 2, 3), category="visit", what="x",
                        evidence=bad)
    with pytest.raises(svc.SupervisionError, match="unknown measure category"):
        svc.add_measure(s, settings, case.id, actor=ana, on_date=dt.date(2025, 2, 3), category="spy", what="x")
    with pytest.raises(svc.SupervisionError, match="needs the id"):
        svc.close_case(s, case.id, actor=ana, outcome="merged", on=dt.date(2025, 12, 31))
    svc.close_case(s, case.id, actor=ana, outcome="met", on=dt.date(2025, 12, 31))
    s.commit()
    with pytest.raises(svc.SupervisionError, match="only open cases"):
        svc.review_case(s, t, case.id, actor=ana, as_of=dt.date(2025, 12, 20), taxonomy=TAX)
    actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions == ["supervision.open", "supervision.review", "supervision.measure", "supervision.close"]
    assert audit.verify(s).ok
    out = write_case_report(case, tmp_path / "case.docx", issued=dt.date(2026, 1, 5))
    doc = Document(str(out))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for tb in doc.tables for r in tb.rows for c in r.cells)
    assert "小区C1挂牌督导个案报告" in text and "王局长" in text and "已销号（达标）" in text
    assert "新增探头20个" in cells and "技防" in cells and "-70.0%" in cells and "流动人口占比" in cells


def test_scope_of_cases_and_assessment_rows(ops_session: Session) -> None:
    s = ops_session
    w = _world(s)
    t = _incidents()
    for code in ("C1", "C4", "C5"):
        svc.open_case(s, t, actor=None, community_code=code, official="王局长", opened_on=dt.date(2025, 1, 1),
                      base_period="2024", community_police="李警官")
    s.commit()
    u = w["u"]
    assert [c.community.code for c in visible_cases(s, u["ana"])] == ["C1", "C4", "C5"]
    assert [c.community.code for c in visible_cases(s, u["pm"])] == ["C1"]
    assert [c.community.code for c in visible_cases(s, u["cp"])] == ["C4"]
    c5 = next(c for c in visible_cases(s, u["ana"]) if c.community.code == "C5")
    with pytest.raises(AccessDeniedError):
        visible_case(s, u["pm"], c5.id)  # by id, outside scope
    mine = visible_case(s, u["pm"], visible_cases(s, u["pm"])[0].id)
    assert case_dict(mine, u["pm"])["official"] is None and case_dict(mine, u["ana"])["official"] == "王局长"
    scores = pd.DataFrame({"area_id": ["C1", "C2", "C3", "C4"], "score": [90, 80, 70, 60],
                           "resident_ref": ["R1", "R2", "R3", "R4"]})
    pm_view = assessment_view(s, u["pm"], scores)
    assert pm_view["area_id"].tolist() == ["C1", "C2"] and "resident_ref" not in pm_view.columns
    assert assessment_view(s, u["ana"], scores)["resident_ref"].tolist() == ["R1", "R2", "R3", "R4"]
    assert s.scalar(select(func.count()).select_from(AuditEvent)) == 3


def test_set_evaluation_on_the_demo_separates_regression_from_the_effect(demo: dict[str, Any]) -> None:
    """Two years (2024–2025): the listed set's raw drop is larger than the fall expected without intervention,
    which is itself a fall (regression to the mean and the district trend); WDD finds the local fall."""
    from anju.lake import connect

    truth = demo["truth"]
    listed = truth["supervised"]["community_ids"]
    settings = demo["settings"]
    with connect(settings) as lk:
        comm = lk.areas("community").to_pandas()
        r = svc.evaluate_set(lk.incidents(), listed, "2024", "2025", areas=comm,
                             geoms=svc.community_geoms(settings), taxonomy=TAX)
    eb = r["eb"]
    assert r["history_periods"] == []  # the lake starts in 2024
    assert eb["expected_change"] < -0.05 and r["raw_change"] < eb["expected_change"] - 0.1
    assert eb["lo"] < eb["effect"] < eb["hi"] and 1 + r["raw_change"] < eb["effect"]
    assert r["listed_total"]["yoy_change"] < -0.3
    w = r["wdd"]
    assert w["local"] < 0 and not set(w["ring_ids"]) & set(listed)


def _demo_profiles(seed: int) -> pd.DataFrame:
    """The communities' profile facts as the ops seed writes them (``anju.ops.demo``)."""
    from anju.demo.geography import district_for

    c = district_for(seed).communities
    a = c.attrs
    return pd.DataFrame({"area_id": c.ids, "floating_share": a["floating_share"], "rental_rate": a["rental_rate"],
                         "fee_collection_rate": a["fee_collection_rate"],
                         "camera_fault_rate": a["cameras_broken"] / np.maximum(a["cameras"], 1),
                         "has_owners_committee": a["has_owners_committee"].astype(float)})


def test_net_effect_recovers_the_planted_effect_on_the_demo(demo_district: Any) -> None:
    """The demo plants transient theft shocks and one-off 2024 spikes (regression to the mean) and a true −25 % in
    the supervised communities from January 2025; 2023 is history. The raw drop is far larger than −25 %; the net
    effect's interval contains the planted 0.75 and excludes the raw ratio; so does the comparison group's."""
    from anju.lake import connect

    d = demo_district(years=3)
    truth = d.truth
    sup = truth["supervised"]
    listed, planted = sup["community_ids"], sup["true_effect"]
    assert planted == 0.75 and sup["listed_on_a_spike"]
    with connect(d.settings) as lk:
        cands = svc.candidates(lk.incidents(), "2024", n=10, taxonomy=TAX)
        r = svc.evaluate_set(lk.incidents(), listed, "2024", "2025", areas=lk.areas("community").to_pandas(),
                             taxonomy=TAX, profiles=_demo_profiles(42))
    # the cases are opened on what the candidate ranking lists (as a user would): the planted set
    assert len(set(cands["area_id"]) & set(listed)) >= 9
    raw = 1 + r["raw_change"]
    assert r["history_periods"] == ["2023"] and len(r["covariates"]) == 5
    assert raw < planted - 0.15  # the raw drop overstates the effect …
    eb, did = r["eb"], r["did"]
    assert eb["lo"] < planted < eb["hi"] and raw < eb["lo"]  # … the net effect finds it
    assert did["lo"] < planted < did["hi"] and raw < did["lo"]
    assert eb["expected_change"] < -0.15  # expected without intervention: a fall by itself


def test_profile_night_share_follows_the_deployment_window() -> None:
    """C1's night calls are at 22:00: inside the default 21:00–03:00 window, outside a 23:00–05:00 one."""
    from anju.analytics.window import NightWindow
    from anju.supervision.profile import lake_figures

    t = _incidents()
    default, _ = lake_figures(t, dt.date(2024, 12, 1))
    late, _ = lake_figures(t, dt.date(2024, 12, 1), night=NightWindow.parse("23:00-05:00"))
    day, _ = lake_figures(t, dt.date(2024, 12, 1), night=NightWindow.parse("13:00-15:00"))  # not crossing midnight
    c1 = lambda df: float(df.set_index("community_id").loc["C1", "night_share"])  # noqa: E731
    assert c1(default) == 0.5 and c1(late) == 0.0 and c1(day) == 0.5


def test_demo_cases_are_the_planted_set_and_evaluate_to_the_planted_effect(ops_session: Session,
                                                                         demo_district: Any,
                                                                         tmp_path: Path) -> None:
    """`anju ops seed-demo` opens the demo's supervised communities as cases (ranked by the candidate list, two
    measures and a review each, all audited); evaluating those cases finds the planted −25 %; a second run changes
    nothing; a data directory without a demo is skipped with a reason."""
    from anju.config import load_settings
    from anju.deployment import load_deployment
    from anju.lake import connect
    from anju.ops.demo import seed_demo
    from anju.ops.models import SupervisionCase, SupervisionMeasure, SupervisionSnapshot
    from anju.supervision.demo_cases import seed_demo_cases

    d = demo_district(years=3)
    sup = d.truth["supervised"]
    s = ops_session
    seed_demo(s, d.settings, seed=42, end_year=2025)
    dep = load_deployment(d.settings)
    with connect(d.settings) as lk:
        t, areas = lk.incidents(), lk.areas("community").to_pandas()
        res = seed_demo_cases(s, d.settings, t, deployment=dep, areas=areas)
        s.flush()
        cases = list(s.scalars(select(SupervisionCase).order_by(SupervisionCase.id)))
        assert res.opened == len(cases) == 10 and res.base_period == "2024"
        assert sorted(c.community.code for c in cases) == sorted(sup["community_ids"])
        assert {c.status for c in cases} == {"reviewing"} and {c.opened_on for c in cases} == {dt.date(2025, 1, 1)}
        ranks = [c.rank_at_opening for c in cases if c.rank_at_opening is not None]
        assert len(ranks) >= 9 and ranks == sorted(ranks)  # listed in candidate order
        assert s.scalar(select(func.count()).select_from(SupervisionMeasure)) == 20
        assert s.scalar(select(func.count()).select_from(SupervisionSnapshot)) >= 10
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("supervision.%"))))
        assert actions.count("supervision.open") == 10
        ev = svc.evaluate_cases(s, t, cases, taxonomy=dep.taxonomy, areas=areas)
        assert ev is not None and ev["listed"] == 10 and ev["period"] == "2025"
        planted = sup["true_effect"] - 1
        assert ev["net_lo"] < planted < ev["net_hi"] and ev["raw_change"] < ev["net_lo"]
        again = seed_demo_cases(s, d.settings, t, deployment=dep, areas=areas)
        assert again.opened == 0 and again.skipped == "register not empty"
    s.rollback()
    with connect(d.settings) as lk:
        none = seed_demo_cases(s, load_settings(data_dir=tmp_path), lk.incidents(), deployment=dep)
    assert none.opened == 0 and none.skipped and "demo" in none.skipped


def test_set_inputs_digest_follows_the_cases_and_the_profiles(ops_session: Session, tmp_path: Path) -> None:
    """The board caches the set evaluation under :meth:`SetInputs.digest`: the key changes with the listed set and
    with the profiles the prior uses, and not with a measure logged (which the evaluation does not read)."""
    s = ops_session
    _world(s)
    t = _incidents()
    a = svc.open_case(s, t, actor=None, community_code="C1", official="王局长", opened_on=dt.date(2025, 1, 1),
                      base_period="2024")
    k1 = svc.set_inputs(s, [a])
    assert k1 is not None and k1.codes == ("C1",) and k1.period == "2025"
    from anju.config import load_settings

    svc.add_measure(s, load_settings(data_dir=tmp_path), a.id, actor=None, on_date=dt.date(2025, 2, 1),
                    category="people", what="巡逻")
    assert svc.set_inputs(s, [a]).digest() == k1.digest()  # type: ignore[union-attr]
    b = svc.open_case(s, t, actor=None, community_code="C2", official="王局长", opened_on=dt.date(2025, 1, 1),
                      base_period="2024")
    k2 = svc.set_inputs(s, [a, b])
    assert k2 is not None and k2.digest() != k1.digest()
    c1 = s.scalars(select(Community).where(Community.code == "C1")).one()
    s.add(CommunityProfile(community_id=c1.id, effective_date=dt.date(2024, 6, 1), households=1200,
                           floating_share=0.1, rental_rate=0.2, fee_collection_rate=0.9, guards=8, cameras=100,
                           cameras_faulty=0))
    s.flush()
    assert svc.set_inputs(s, [a, b]).digest() != k2.digest()  # type: ignore[union-attr]
    assert svc.set_inputs(s, []) is None
