"""The supervision register's use cases: candidates, open, review, log a measure, close, evaluate the set.

Each write goes through the caller's session and is recorded in the audit chain (:func:`anju.ops.audit.record`) in
the same transaction; the caller commits. Evidence files are checked (size, type by magic bytes) and stored under
``<data_dir>/supervision/evidence/<sha256>`` — never inside the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.analytics.counts import counts_many
from anju.analytics.displacement import buffer_ring, wdd
from anju.analytics.periods import Period
from anju.analytics.supervision import supervision as candidates_table
from anju.analytics.supervision_effect import net_effect
from anju.analytics.window import NightWindow
from anju.config import Settings
from anju.errors import AnjuError
from anju.ops import audit
from anju.ops.models import (
    CASE_STATUSES,
    MEASURE_CATEGORIES,
    Community,
    SupervisionCase,
    SupervisionMeasure,
    SupervisionSnapshot,
    User,
)
from anju.supervision.profile import progress, risk_profile
from anju.taxonomy import Taxonomy

__all__ = [
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_TYPES",
    "SetInputs",
    "SupervisionError",
    "add_measure",
    "candidates",
    "close_case",
    "community_geoms",
    "evaluate_cases",
    "evaluate_inputs",
    "evaluate_set",
    "evaluation_summary",
    "open_case",
    "review_case",
    "set_inputs",
]

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"%PDF-": "application/pdf",
                  b"PK\x03\x04": "application/vnd.openxmlformats-officedocument"}
CATEGORY_ZH = {"人防": "people", "物防": "physical", "技防": "technical", "管理": "management", "打击": "enforcement",
               "走访": "visit"}


class SupervisionError(AnjuError, ValueError):
    """A supervision action is not possible (unknown community, wrong status, bad evidence file…)."""


def candidates(incidents: ibis.Table, base_period: str, *, taxonomy: Taxonomy, n: int = 10,
               families: Sequence[str] = ("theft",), areas: Any = None) -> pd.DataFrame:
    """The top-``n`` communities by count in ``base_period`` (the candidate list for opening cases)."""
    return candidates_table(incidents, base_period, base_period, n=n, families=tuple(families), areas=areas,
                            taxonomy=taxonomy)


def _community(session: Session, code: str) -> Community:
    c = session.scalars(select(Community).where(Community.code == code)).first()
    if c is None:
        raise SupervisionError(f"community {code!r} is not in the operations database; load the communities first "
                               "(`anju ops seed-demo` or `anju ops import communities FILE`)")
    return c


def open_case(session: Session, incidents: ibis.Table, *, actor: User | None, community_code: str, official: str,
              opened_on: dt.date, base_period: str, goal_change: float = -0.3,
              families: Sequence[str] = ("theft",), station_code: str | None = None,
              community_police: str | None = None, source: str = "manual", rank: int | None = None,
              note: str = "", night: NightWindow | None = None) -> SupervisionCase:
    """Open a case and freeze the opening risk profile (night share in ``night``, the deployment's window)."""
    if not -1 < goal_change < 0:
        raise SupervisionError(f"the goal is a fall, e.g. -0.3 for −30 % 同比; got {goal_change}")
    if not official.strip():
        raise SupervisionError("a case needs its supervising official (督导领导)")
    com = _community(session, community_code)
    open_ = session.scalars(select(SupervisionCase).where(
        SupervisionCase.community_id == com.id, SupervisionCase.status.in_(("open", "reviewing")))).first()
    if open_ is not None:
        raise SupervisionError(f"{com.name} ({com.code}) already has an open case (#{open_.id})")
    case = SupervisionCase(community_id=com.id, official=official.strip(), opened_on=opened_on,
                           base_period=base_period, goal_change=goal_change, families=",".join(families),
                           station_code=station_code or com.station_code, community_police=community_police,
                           source=source, rank_at_opening=rank, note=note,
                           created_by=actor.id if actor is not None else None)
    session.add(case)
    session.flush()
    prof = risk_profile(session, incidents, com, opened_on, families=families, night=night)
    case.snapshots.append(SupervisionSnapshot(kind="opening", as_of=opened_on, profile=prof, progress=None,
                                              author_id=case.created_by))
    audit.record(session, actor=actor, action="supervision.open", target_type="supervision_case", target_id=case.id,
                 detail={"community": com.code, "official": case.official, "goal_change": goal_change,
                         "base_period": base_period})
    session.flush()
    return case


def _case(session: Session, case_id: int) -> SupervisionCase:
    case = session.get(SupervisionCase, case_id)
    if case is None:
        raise SupervisionError(f"no supervision case #{case_id}")
    return case


def review_case(session: Session, incidents: ibis.Table, case_id: int, *, actor: User | None, as_of: dt.date,
                taxonomy: Taxonomy, n: int = 10, night: NightWindow | None = None) -> SupervisionSnapshot:
    """Review a case on ``as_of``: a new risk profile and the progress towards the goal; status → reviewing."""
    case = _case(session, case_id)
    if case.status not in ("open", "reviewing"):
        raise SupervisionError(f"case #{case.id} is {case.status}; only open cases are reviewed")
    fam = case.families.split(",")
    prof = risk_profile(session, incidents, case.community, as_of, families=fam, night=night)
    try:
        prog = progress(incidents, case.community.code, case.opened_on, as_of, families=fam,
                        goal_change=case.goal_change, taxonomy=taxonomy, n=n)
    except ValueError as exc:
        raise SupervisionError(str(exc)) from None
    snap = SupervisionSnapshot(kind="review", as_of=as_of, profile=prof, progress=prog,
                               author_id=actor.id if actor is not None else None)
    case.snapshots.append(snap)
    case.status = "reviewing"
    audit.record(session, actor=actor, action="supervision.review", target_type="supervision_case",
                 target_id=case.id, detail={"as_of": as_of.isoformat(), "change": prog["change"],
                                            "goal_met": prog["goal_met"]})
    session.flush()
    return snap


def _evidence(settings: Settings, path: Path) -> tuple[str, str, int, str]:
    size = path.stat().st_size
    if size > EVIDENCE_MAX_BYTES:
        raise SupervisionError(f"evidence {path.name} is {size / 1e6:.1f} MB; the limit is "
                               f"{EVIDENCE_MAX_BYTES / 1e6:.0f} MB")
    data = path.read_bytes()
    kind = next((t for magic, t in EVIDENCE_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise SupervisionError(f"evidence {path.name} is not a PNG, JPEG, PDF or Office file (checked by content)")
    digest = hashlib.sha256(data).hexdigest()
    d = Path(settings.data_dir) / "supervision" / "evidence"
    d.mkdir(parents=True, exist_ok=True)
    target = d / digest
    if not target.exists():
        tmp = d / f".{digest}.tmp"
        tmp.write_bytes(data)
        tmp.replace(target)
    return path.name[:200], kind, size, digest


def add_measure(session: Session, settings: Settings, case_id: int, *, actor: User | None, on_date: dt.date,
                category: str, what: str, who: str = "", cost_yuan: float | None = None,
                evidence: Path | None = None) -> SupervisionMeasure:
    """Log a measure (人防/物防/技防/管理/打击) or a visit (走访), with an optional evidence file."""
    case = _case(session, case_id)
    cat = CATEGORY_ZH.get(category, category)
    if cat not in MEASURE_CATEGORIES:
        raise SupervisionError(f"unknown measure category {category!r}; expected one of "
                               f"{', '.join(CATEGORY_ZH)} ({', '.join(MEASURE_CATEGORIES)})")
    if not what.strip():
        raise SupervisionError("a measure needs a description of what was done")
    if cost_yuan is not None and cost_yuan < 0:
        raise SupervisionError(f"the cost cannot be negative; got {cost_yuan}")
    ev = _evidence(settings, evidence) if evidence is not None else (None, None, None, None)
    m = SupervisionMeasure(on_date=on_date, category=cat, what=what.strip(), who=who.strip(),
                           cost_yuan=cost_yuan, evidence_name=ev[0], evidence_type=ev[1], evidence_size=ev[2],
                           evidence_sha256=ev[3], author_id=actor.id if actor is not None else None)
    case.measures.append(m)
    session.flush()
    audit.record(session, actor=actor, action="supervision.measure", target_type="supervision_case",
                 target_id=case.id, detail={"measure": m.id, "category": cat, "evidence": ev[3]})
    return m


def close_case(session: Session, case_id: int, *, actor: User | None, outcome: str, on: dt.date,
               merged_into: int | None = None) -> SupervisionCase:
    """Close a case: ``met`` (销号), ``not_met`` or ``merged`` (into another case)."""
    case = _case(session, case_id)
    status = {"met": "closed_met", "not_met": "closed_not_met", "merged": "merged"}.get(outcome)
    if status is None:
        raise SupervisionError(f"outcome must be met, not_met or merged; got {outcome!r}")
    if case.status not in ("open", "reviewing"):
        raise SupervisionError(f"case #{case.id} is already {case.status}")
    if status == "merged":
        if merged_into is None or merged_into == case.id:
            raise SupervisionError("a merged case needs the id of the other case it is merged into")
        _case(session, merged_into)
    assert status in CASE_STATUSES
    case.status, case.closed_on, case.merged_into_id = status, on, merged_into
    audit.record(session, actor=actor, action="supervision.close", target_type="supervision_case",
                 target_id=case.id, detail={"outcome": outcome, "merged_into": merged_into})
    session.flush()
    return case


PROFILE_COVARIATES = ("floating_share", "rental_rate", "fee_collection_rate", "camera_fault_rate",
                      "has_owners_committee")
"""Profile facts that predict a community's theft level: the empirical-Bayes prior of "similar communities"."""


def evaluate_set(incidents: ibis.Table, listed: Sequence[str], base_period: str, period: str, *,
                 taxonomy: Taxonomy, families: Sequence[str] = ("theft",), areas: pd.DataFrame | None = None,
                 geoms: tuple[Sequence[str], Sequence[Any]] | None = None, ring_m: float = 400,
                 comparison_k: int | None = None, profiles: pd.DataFrame | None = None,
                 history_years: int = 2) -> dict[str, Any]:
    """The listed set's change and its effect net of regression to the mean (:func:`net_effect`), and the WDD of
    the set against the comparison group with buffer rings of ``ring_m`` metres (``geoms`` = community ids and
    metric polygons) — pre = the same months a year before ``period``.

    Up to ``history_years`` full years before a yearly base period that hold data sharpen each community's
    persistent level; ``profiles`` (``area_id`` or ``code`` and the :data:`PROFILE_COVARIATES`, e.g. from
    :func:`anju.supervision.profile.district_profiles`) give the empirical-Bayes prior of similar communities."""
    b, p = Period.parse(base_period), Period.parse(period)
    prev = p.same_period_last_year()
    hist: list[Period] = []
    if b.code.isdigit():
        hist = [Period.parse(str(int(b.code) - i)) for i in range(history_years, 0, -1)]
    fr = counts_many(incidents, [b, p, prev, *hist], level="community", by=None, families=list(families),
                     areas=areas, taxonomy=taxonomy)
    c_b, c_p, c_prev, *c_hist = (f[f["area_id"].notna()].set_index("area_id")["count"] for f in fr)
    ids = sorted(set(c_b.index) | set(c_p.index))
    panel = pd.DataFrame({"area_id": ids, "count_pre": c_b.reindex(ids).fillna(0).to_numpy(),
                          "count_post": c_p.reindex(ids).fillna(0).to_numpy()})
    history: list[tuple[str, float]] = []
    for per, ch in zip(hist, c_hist, strict=True):
        if ch.sum() > 0:  # a year the lake covers
            panel[f"count_{per.code}"] = ch.reindex(ids).fillna(0).to_numpy()
            history.append((f"count_{per.code}", per.days / b.days))
    if areas is not None and "households" in areas.columns:
        panel["exposure"] = areas.set_index("area_id")["households"].reindex(ids).astype(float).to_numpy() / 1000
    covs: list[str] = []
    if profiles is not None and len(profiles):
        prof = profiles.rename(columns={"code": "area_id"}).set_index("area_id")
        for c in PROFILE_COVARIATES:
            if c in prof.columns:
                v = pd.to_numeric(prof[c], errors="coerce").reindex(ids).astype(float)
                if v.notna().mean() > 0.9 and v.std() > 0:
                    panel[c] = v.fillna(v.median()).to_numpy()
                    covs.append(c)
    res = net_effect(panel, listed, length_ratio=p.days / b.days, comparison_k=comparison_k, history=history,
                     covariates=covs)
    comp = res["did"]["comparison_ids"]
    out: dict[str, Any] = {"base_period": b.code, "period": p.code, "comparison_period": prev.code, **res,
                           "history_periods": [h.removeprefix("count_") for h, _ in history], "covariates": covs}
    if geoms is not None:
        gid, gg = geoms
        ring_t = buffer_ring(gid, gg, listed, distance=ring_m, exclude=comp)
        ring_c = buffer_ring(gid, gg, comp, distance=ring_m, exclude=set(listed) | set(ring_t))

        def tot(s: pd.Series, x: Sequence[str]) -> float:
            return float(s.reindex(list(x)).fillna(0).sum())

        out["wdd"] = wdd((tot(c_prev, listed), tot(c_p, listed)), (tot(c_prev, comp), tot(c_p, comp)),
                         (tot(c_prev, ring_t), tot(c_p, ring_t)), (tot(c_prev, ring_c), tot(c_p, ring_c)))
        out["wdd"].update(ring_ids=ring_t, ring_control_ids=ring_c, ring_m=ring_m)
    lt = panel[panel["area_id"].isin(list(listed))]
    out["listed_total"] = {"pre": int(lt["count_pre"].sum()), "post": int(lt["count_post"].sum()),
                           "prev_same_months": int(c_prev.reindex(list(listed)).fillna(0).sum())}
    yoy = out["listed_total"]
    out["listed_total"]["yoy_change"] = (yoy["post"] - yoy["prev_same_months"]) / yoy["prev_same_months"] \
        if yoy["prev_same_months"] else float("nan")
    out["per_area"] = res["per_area"].assign(count_prev_same_months=c_prev.reindex(
        res["per_area"]["area_id"]).fillna(0).to_numpy().astype(np.int64))
    return out


def evaluation_summary(r: dict[str, Any]) -> dict[str, Any]:
    """The three figures every surface shows (raw change, expected change without intervention, net effect with
    its interval) and the comparison group's, from :func:`evaluate_set`; plain floats, JSON-able."""
    eb, did = r["eb"], r["did"]
    per = {str(row["area_id"]): {"count_pre": int(row["count_pre"]), "count_post": int(row["count_post"]),
                                 "expected": float(row["expected"])} for _, row in r["per_area"].iterrows()}
    return {"base_period": r["base_period"], "period": r["period"], "listed": len(per),
            "raw_change": float(r["raw_change"]), "expected_change": float(eb["expected_change"]),
            "net_change": float(eb["net_change"]), "net_lo": float(eb["lo"] - 1), "net_hi": float(eb["hi"] - 1),
            "did_change": float(did["effect"] - 1), "did_lo": float(did["lo"] - 1), "did_hi": float(did["hi"] - 1),
            "comparison": len(did["comparison_ids"]), "trend": float(r["trend"]),
            "history_periods": list(r.get("history_periods", [])), "covariates": list(r.get("covariates", [])),
            "per_area": per}


@dataclass(frozen=True)
class SetInputs:
    """What the evaluation of a listed set depends on in the ops database: its base period, the evaluated period,
    the listed communities, the families counted and the profiles in force (the prior's covariates).
    :meth:`digest` keys a cache of the evaluation together with the lake's own version."""

    base_period: str
    period: str
    codes: tuple[str, ...]
    families: tuple[str, ...]
    profiles: pd.DataFrame | None

    def digest(self) -> str:
        h = hashlib.sha256(json.dumps([self.base_period, self.period, self.codes, self.families]).encode())
        if self.profiles is not None:
            h.update(pd.util.hash_pandas_object(self.profiles, index=False).to_numpy().tobytes())
        return h.hexdigest()[:32]


def set_inputs(session: Session, cases: Sequence[SupervisionCase], *, period: str | None = None) -> SetInputs | None:
    """The :class:`SetInputs` of ``cases``: their most common base period, evaluated over the year after it unless
    ``period`` is given; ``None`` when there is nothing to evaluate (no case, a non-yearly base and no period)."""
    from anju.supervision.profile import district_profiles

    if not cases:
        return None
    bases = pd.Series([c.base_period for c in cases]).value_counts()
    base = str(bases.index[0])
    if period is None:
        if not base.isdigit():
            return None
        period = str(int(base) + 1)
    codes = tuple(sorted({c.community.code for c in cases if c.base_period == base}))
    profiles = district_profiles(session, Period.parse(period).start)
    return SetInputs(base, period, codes, tuple(cases[0].families.split(",")),
                     profiles if len(profiles) else None)


def evaluate_inputs(incidents: ibis.Table, inputs: SetInputs, *, taxonomy: Taxonomy,
                    areas: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """:func:`evaluation_summary` of a listed set described by ``inputs``; ``None`` when the lake cannot evaluate it
    yet (no data for the period, too few communities)."""
    from anju.analytics._common import AnalyticsError

    try:
        r = evaluate_set(incidents, inputs.codes, inputs.base_period, inputs.period, taxonomy=taxonomy, areas=areas,
                         profiles=inputs.profiles, families=inputs.families)
        if not np.isfinite(r["eb"]["effect"]) or r["listed_total"]["post"] == 0:
            return None
        return evaluation_summary(r)
    except (AnalyticsError, AnjuError, ValueError, ZeroDivisionError):
        return None


def evaluate_cases(session: Session, incidents: ibis.Table, cases: Sequence[SupervisionCase], *,
                   taxonomy: Taxonomy, areas: pd.DataFrame | None = None, period: str | None = None
                   ) -> dict[str, Any] | None:
    """:func:`evaluation_summary` of the listed set of ``cases`` (their most common base period; evaluated over the
    year after it unless ``period`` is given), with the ops profiles as the prior's covariates. ``None`` when the
    lake cannot evaluate it yet (no data for the period, too few communities)."""
    inputs = set_inputs(session, cases, period=period)
    return None if inputs is None else evaluate_inputs(incidents, inputs, taxonomy=taxonomy, areas=areas)


def community_geoms(settings: Settings) -> tuple[list[str], list[Any]]:
    """Community ids and polygons in the deployment's metric CRS (for buffer rings)."""
    import pyarrow.parquet as pq
    import shapely
    from pyproj import Transformer

    from anju.geo.areas import read_meta

    p = settings.paths.areas / "community.parquet"
    if not p.exists():
        raise SupervisionError("the community layer is not loaded; load it with `anju areas load` or `anju demo`")
    t = pq.read_table(p, columns=["area_id", "geometry"]).to_pandas()
    crs = read_meta(settings.paths.areas).get("metric_crs")
    if not crs:
        raise SupervisionError("the deployment's metric CRS is unknown (areas/_meta.json); reload the areas")
    tr = Transformer.from_crs("EPSG:4326", str(crs), always_xy=True)
    geoms = shapely.from_wkb(t["geometry"].to_numpy())
    metric = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return t["area_id"].astype(str).tolist(), list(metric)
