"""The demo district's resident services: door plates, a year of reports through the real paths, mediation
sittings, safe houses and candidate sites, and the covering plan for new ones.

Planted (and found by ``tests/resident/test_demo.py``; listed in docs/demo-district.md):

* **A market street** (老街): the community holding the most of the KTV-street zone points gets
  :data:`MARKET_SHARE` of its reports as trade disputes (elsewhere :data:`BASE_MIX`), so the market office's queue and
  the per-community statistics show it.
* **A slow department**: the city-management squad (城管, department ``city``) signs after ~30 h and closes after
  ~16 days (others: ~3 h and ~4 days), so its SLA compliance is the lowest and its satisfaction lower.
* **Mediation**: family/neighbour disputes go to the 5+ team and are booked on its Tuesday/Friday sittings; outcomes
  are recorded for the past sittings (settled 65 %, partly 15 %, not settled 12 %, referred 8 %).
* **Safe houses**: 4 active ones along the bar street, and 30 candidate sites on main-road points near the zone;
  :func:`plan_demo_sites` chooses 3 new ones from the lake's night calls with the MCLP.

Every report goes through :func:`anju.ops.resident.submit_report` and every step through
:func:`anju.ops.resident.act` (actor None: the system), with times in the chosen year. Deterministic for the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anju.config import Settings
from anju.ops.models import Community, DoorPlate, ResidentReport, SafeHouse
from anju.ops.resident import ResidentDesk, act, confirm_by_resident, ensure_orgs, submit_report
from anju.resident.corpus import MATTER_PHRASES, synthetic_reports
from anju.resident.plates import PlateRow

__all__ = ["BASE_MIX", "MARKET_SHARE", "ResidentDemo", "market_street_community", "plan_demo_sites",
           "seed_resident_demo"]

BASE_MIX = {"police": 0.10, "lost": 0.05, "market": 0.10, "property": 0.27, "street_order": 0.20,
            "mediation": 0.18, "consult": 0.10}
MARKET_SHARE = 0.55
SIGN_HOURS = {"city": 30.0}  # median hours to sign; others 3 h
CLOSE_DAYS = {"city": 16.0}  # median days to close; others 4 (consultations 1.2)
OUTCOMES = (("settled", 0.65), ("partly_settled", 0.15), ("not_settled", 0.12), ("referred", 0.08))


@dataclass
class ResidentDemo:
    """What :func:`seed_resident_demo` wrote."""

    plates: int = 0
    reports: int = 0
    safe_houses: int = 0
    candidates: int = 0
    market_community: str = ""
    created: bool = False
    by_status: dict[str, int] = field(default_factory=dict)


def market_street_community(seed: int) -> str:
    """The community code planted as the market street (most KTV-street zone points)."""
    from anju.demo.geography import district_for

    d = district_for(seed)
    ktv = d.zp_comm[d.zp_feature == 1]
    return str(d.communities.ids[int(np.bincount(ktv).argmax())])


def _texts_by_matter(seed: int) -> dict[str, list[str]]:
    texts, labels = synthetic_reports(60, seed=seed + 1000)
    out: dict[str, list[str]] = {m: [] for m in MATTER_PHRASES}
    for t, lab in zip(texts, labels, strict=True):
        out[lab].append(t)
    return out


def _kind_for(matter: str) -> str:
    return "urgent" if matter == "police" else "lost" if matter == "lost" else "dispute"


def seed_resident_demo(session: Session, settings: Settings, desk: ResidentDesk, *, seed: int = 42,
                       year: int = 2025, n_reports: int = 1200) -> ResidentDemo:
    """Write plates, reports, safe houses and candidate sites for the demo district (idempotent: does nothing when
    plates exist). Needs the ops demo records (``anju ops seed-demo``) for communities and organisations."""
    from anju.demo.geography import district_for, metric_to_wgs84

    res = ResidentDemo(market_community=market_street_community(seed))
    if session.scalar(select(func.count()).select_from(DoorPlate)):
        return res
    comms = {c.code: c for c in session.scalars(select(Community))}
    if not comms:
        from anju.errors import AnjuError

        raise AnjuError("no communities in the ops database: run `anju ops seed-demo` first")
    res.created = True
    ensure_orgs(session, desk.rules)
    d = district_for(seed)
    rng = np.random.default_rng([seed, 170])
    ids = d.communities.ids
    # plates: two units per building, one door each (the plate sits at the unit door)
    lon, lat = metric_to_wgs84(d.b_x, d.b_y)
    rows = []
    for i in range(len(d.b_x)):
        code = str(ids[int(d.b_comm[i])])
        if code not in comms:
            continue
        for unit in ("1", "2"):
            rows.append(PlateRow(code, f"{int(d.b_no[i])}号", unit, "", float(lon[i]), float(lat[i])))
    from anju.resident.plates import new_plate_code

    plates = [DoorPlate(code=new_plate_code(), community_id=comms[r.community_code].id, building=r.building,
                        unit=r.unit, door=r.door, lon=r.lon, lat=r.lat, active=True, active_key="active")
              for r in rows]
    session.add_all(plates)
    session.flush()
    res.plates = len(plates)
    # reports over the year
    by_comm: dict[int, list[DoorPlate]] = {}
    for p in plates:
        by_comm.setdefault(p.community_id, []).append(p)
    market_id = comms[res.market_community].id
    texts = _texts_by_matter(seed)
    matters = list(BASE_MIX)
    base_p = np.array([BASE_MIX[m] for m in matters])
    mk_p = base_p * (1 - MARKET_SHARE) / (1 - BASE_MIX["market"])
    mk_p[matters.index("market")] = MARKET_SHARE
    comm_ids = np.array(sorted(by_comm))
    weights = np.ones(len(comm_ids))
    weights[comm_ids == market_id] = 12.0  # the old street is busy
    weights /= weights.sum()
    start = datetime(year, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    end_of_year = datetime(year + 1, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    at = np.sort(rng.uniform(0, (end_of_year - start).total_seconds() - 60 * 86400, n_reports))
    for k in range(n_reports):
        cid = int(rng.choice(comm_ids, p=weights))
        probs = mk_p if cid == market_id else base_p
        matter = matters[int(rng.choice(len(matters), p=probs))]
        plate = by_comm[cid][int(rng.integers(len(by_comm[cid])))]
        pool = texts[matter]
        text = pool[int(rng.integers(len(pool)))]
        t0 = start + timedelta(seconds=float(at[k]))
        phone = f"13{int(rng.integers(0, 10))}{int(rng.integers(10**7, 10**8))}" if rng.random() < 0.6 else None
        r = submit_report(session, desk, kind=_kind_for(matter), text=text, phone=phone, plate=plate,
                          client_ip=f"10.{k % 250}.{k // 250 % 250}.1", source="plate", now=t0)
        if r.status == "new":  # unsure: the dispatcher follows the top suggestion
            top = r.suggestions[0]["department"] if r.suggestions else "service"
            act(session, desk, r, "dispatch", actor=None, note="人工派单", department=top,
                now=t0 + timedelta(minutes=20), check_permission=False)
        if r.status != "dispatched":
            continue
        _handle(session, desk, r, t0, rng)
        res.reports += 1
    # safe houses: along the bar street, and candidate sites on road points near the zone
    zlon, zlat = metric_to_wgs84(d.zp_x, d.zp_y)
    bar = np.flatnonzero(d.zp_feature == 0)
    pick = bar[np.linspace(0, len(bar) - 1, 4).astype(int)]
    names = ["便利店（24h）", "药房（24h）", "加油站便利店", "警务站"]
    for j, i in enumerate(pick):
        session.add(SafeHouse(code=f"SH{j + 1:02d}", name=f"{d.zone_names[0]}{names[j]}安全屋",
                              community_id=comms[str(ids[int(d.zp_comm[i])])].id, address=d.zone_names[0],
                              lon=float(zlon[i]), lat=float(zlat[i]), operator=names[j], staffed_24h=True,
                              contact="110 / 962110", equipment="报警电话、急救箱、充电宝、饮用水",
                              opening_hours="24小时", status="active"))
    rlon, rlat = metric_to_wgs84(d.rp_x, d.rp_y)
    zx, zy = d.zp_x.mean(), d.zp_y.mean()
    dist = np.hypot(d.rp_x - zx, d.rp_y - zy)
    near = np.flatnonzero(dist < 2500)
    cand = rng.choice(near, size=min(30, len(near)), replace=False) if len(near) else np.array([], dtype=int)
    for j, i in enumerate(sorted(cand.tolist())):
        code = str(ids[int(d.rp_comm[i])])
        session.add(SafeHouse(code=f"CS{j + 1:02d}", name=f"{d.road_names[int(d.rp_road[i])]}{int(d.rp_no[i])}号",
                              community_id=comms[code].id if code in comms else None,
                              address=f"{d.road_names[int(d.rp_road[i])]}{int(d.rp_no[i])}号",
                              lon=float(rlon[i]), lat=float(rlat[i]), staffed_24h=False, status="candidate"))
    session.flush()
    res.safe_houses = 4
    res.candidates = len(cand)
    res.by_status = {str(s): int(n) for s, n in session.execute(
        select(ResidentReport.status, func.count()).group_by(ResidentReport.status))}
    return res


def _handle(session: Session, desk: ResidentDesk, r: ResidentReport, t0: datetime, rng: np.random.Generator
            ) -> None:
    dept = r.department
    sign_h = float(rng.lognormal(np.log(SIGN_HOURS.get(dept, 3.0)), 0.5))
    quick = desk.rules.matters()[r.matter or "consult"].sla == "consultation"  # 3 working days
    close_d = float(rng.lognormal(np.log(CLOSE_DAYS.get(dept, 1.2 if quick else 4.0)), 0.5))
    if r.matter in ("police", "lost"):  # same-day matters: signed in minutes, closed within hours
        sign_h = float(rng.lognormal(np.log(0.3), 0.5))
        close_d = (sign_h + float(rng.lognormal(np.log(3.0), 0.5))) / 24
    ts = t0 + timedelta(hours=sign_h)
    act(session, desk, r, "sign", actor=None, note="签收", now=ts, check_permission=False)
    act(session, desk, r, "start", actor=None, note="开始处理", now=ts + timedelta(minutes=30),
        check_permission=False)
    tc = t0 + timedelta(days=close_d)
    if dept == desk.rules.mediation.department and r.sitting_date is not None:
        tc = datetime.combine(r.sitting_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
        tc = max(tc, ts + timedelta(hours=1))
        u = rng.random()
        acc = 0.0
        for name, p in OUTCOMES:
            acc += p
            if u <= acc:
                r.mediation_outcome = name
                break
    res = "fixed" if rng.random() < (0.70 if dept == "city" else 0.85) else "not_fixed"
    if r.mediation_outcome in ("not_settled", "referred"):
        res = "not_fixed"
    act(session, desk, r, "close", actor=None, note="办结", resolution=res, now=tc, check_permission=False)
    if rng.random() < 0.7:  # the resident rates
        p_ok = (0.55 if dept == "city" else 0.85) if res == "fixed" else 0.25
        ok = bool(rng.random() < p_ok)
        confirm_by_resident(session, desk, r, satisfied=ok, now=tc + timedelta(days=1))
        if not ok:  # 重办: handled again, then closed
            act(session, desk, r, "sign", actor=None, note="重办签收", now=tc + timedelta(days=1, hours=2),
                check_permission=False)
            redo = timedelta(hours=3) if r.matter in ("police", "lost") else timedelta(days=8 if dept == "city"
                                                                                       else 2)
            act(session, desk, r, "close", actor=None, note="重办办结", resolution="fixed",
                now=tc + timedelta(days=1, hours=2) + redo, check_permission=False)


def plan_demo_sites(session: Session, settings: Settings, *, year: int, k: int = 3, radius_m: float = 300.0
                    ) -> Any:
    """The covering plan for ``k`` new safe houses among the candidate sites, from the lake's night calls of
    ``year`` (existing safe houses kept)."""
    import pandas as pd

    from anju.lake.connection import connect
    from anju.resident.siting import night_demand, plan_sites

    lake = connect(settings)
    df = lake.duckdb.execute(
        "SELECT lon, lat, hour(reported_at) AS h FROM incidents WHERE year = ? AND lon IS NOT NULL "
        "AND (hour(reported_at) >= 21 OR hour(reported_at) < 3)", [year]).df()
    demand = night_demand(df["lon"].to_numpy(), df["lat"].to_numpy(), df["h"].to_numpy(), cell_m=100)
    demand = demand[demand["calls"] >= 3]  # hot cells: the covering problem stays small
    houses = session.scalars(select(SafeHouse).where(SafeHouse.status.in_(["active", "candidate"]))).all()
    cand = pd.DataFrame({"site_id": [h.code for h in houses], "lon": [h.lon for h in houses],
                         "lat": [h.lat for h in houses]})
    existing = [h.code for h in houses if h.status == "active"]
    return plan_sites(demand, cand, k=k, radius_m=radius_m, existing=existing)


