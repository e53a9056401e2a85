"""The use case: assess one month — the numbers behind the bulletin, the workbook, the CLI and the web page.

:func:`assess_month` reads the lake (preventable cases, areas) and the stored inputs, computes each input per
community with the pure analytics (:mod:`anju.analytics.patrol`, :mod:`~anju.analytics.cameras`,
:mod:`~anju.analytics.survey`), scores the month with the rubric version in force
(:mod:`anju.analytics.rubric`, :mod:`anju.analytics.assessment`), compares with the previous month and, at a
quarter's end, draws the 表彰 list. Every surface renders the returned :class:`MonthAssessment`; none recomputes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from anju.analytics.assessment import commendations, key_lists, month_cases, movement, score_month
from anju.analytics.cameras import camera_status
from anju.analytics.patrol import patrol_compliance
from anju.analytics.periods import Period
from anju.analytics.rubric import Rubric, load_rubrics, rubric_for
from anju.analytics.survey import district_rate, survey_rates
from anju.assess.inputs import KINDS, stored
from anju.config import Settings
from anju.errors import AnjuError

__all__ = ["MonthAssessment", "assess_month", "load_tables", "month_inputs", "parse_month"]


@dataclass
class MonthAssessment:
    """Everything the bulletin and the workbook show for a month."""

    month: Period
    rubric: Rubric
    scores: pd.DataFrame  # one row per community: inputs, points, score, rank, title, movement
    patrol: pd.DataFrame
    cameras: pd.DataFrame
    survey: pd.DataFrame
    survey_streets: pd.DataFrame
    survey_district: dict[str, dict[str, float]]
    keys: dict[str, pd.DataFrame]
    commendations: pd.DataFrame | None
    totals: dict[str, Any] = field(default_factory=dict)
    inputs_present: dict[str, bool] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return f"{self.month.start:%Y-%m}"


def parse_month(text: str) -> Period:
    """``YYYY-MM`` → the month's :class:`Period`, with a clear error otherwise."""
    try:
        y, m = (int(x) for x in str(text).strip().split("-"))
        return Period.month(y, m)
    except (ValueError, AnjuError):
        raise AnjuError(f"the month must be written YYYY-MM (e.g. 2025-11); got {text!r}") from None


def _month_slice(df: pd.DataFrame | None, col: str, p: Period) -> pd.DataFrame | None:
    if df is None:
        return None
    return df[df[col].astype(str) == f"{p.start:%Y-%m}"]


def load_tables(settings: Settings) -> dict[str, pd.DataFrame | None]:
    """Every stored input table (read once per assessment)."""
    return {k: stored(settings, k) for k in KINDS}


def month_inputs(tables: dict[str, pd.DataFrame | None], p: Period, communities: pd.DataFrame, cases: pd.DataFrame
                 ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, bool]]:
    """The assessment input table of month ``p`` (one row per community) and the detail tables behind it."""
    ids = communities["area_id"].astype(str)
    base = cases.copy()
    base["area_id"] = base["area_id"].astype(str)
    base["street_id"] = base["area_id"].map(dict(zip(ids, communities["parent_id"].astype(str), strict=True)))
    hh = communities.set_index(communities["area_id"].astype(str))["households"].astype(float)
    detail: dict[str, pd.DataFrame] = {}
    present: dict[str, bool] = {}

    regs = _month_slice(tables["registrations"], "month", p)
    present["registrations"] = regs is not None and len(regs) > 0
    if present["registrations"]:
        assert regs is not None
        g = regs.groupby("community_id")[["registered_households", "stale_households"]].sum()
        base["collection_rate"] = (g["registered_households"].reindex(base["area_id"]).to_numpy()
                                   / hh.reindex(base["area_id"]).to_numpy()).clip(0, 1)
        base["stale_share"] = (g["stale_households"] / g["registered_households"].clip(lower=1)).reindex(
            base["area_id"]).to_numpy()
    else:
        base["collection_rate"] = np.nan
        base["stale_share"] = np.nan

    plans, scans = tables["patrol_plan"], tables["patrol_scans"]
    first, last = p.start, p.end - dt.timedelta(days=1)
    if plans is not None and scans is not None:
        lo, hi = pd.Timestamp(first), pd.Timestamp(p.end) + pd.Timedelta(hours=12)
        s = scans[(scans["scanned_at"] >= lo) & (scans["scanned_at"] < hi)]
        present["patrol"] = len(s) > 0
    else:
        present["patrol"] = False
    if present["patrol"]:
        assert plans is not None
        pc = patrol_compliance(s, plans, first, last)
        detail["patrol"] = pc
        pcx = pc.set_index("community_id")
        for c in ("patrol_compliance", "night_compliance", "fast_scan_share"):
            base[c] = pcx[c].reindex(base["area_id"]).to_numpy()
    else:
        detail["patrol"] = pd.DataFrame()
        for c in ("patrol_compliance", "night_compliance", "fast_scan_share"):
            base[c] = np.nan

    inv, faults = tables["cameras"], tables["camera_faults"]
    present["cameras"] = inv is not None and len(inv) > 0
    if present["cameras"]:
        assert inv is not None
        f = faults if faults is not None else pd.DataFrame({"camera_id": [], "reported_at": [], "repaired_at": []})
        cs = camera_status(inv, f, p)
        detail["cameras"] = cs
        csx = cs.set_index("community_id")
        for c in ("camera_uptime", "camera_fault_rate"):
            base[c] = csx[c].reindex(base["area_id"]).to_numpy()
    else:
        detail["cameras"] = pd.DataFrame()
        base["camera_uptime"] = base["camera_fault_rate"] = np.nan

    ans = _month_slice(tables["survey_answers"], "month", p)
    present["survey"] = ans is not None and len(ans) > 0
    if present["survey"]:
        assert ans is not None
        sr = survey_rates(ans)
        detail["survey"] = sr
        srx = sr.set_index("community_id")
        for c in ("satisfaction_rate", "feel_safe_rate"):
            base[c] = srx[c].reindex(base["area_id"]).to_numpy()
        a2 = ans.assign(street_id=ans["community_id"].astype(str).map(dict(zip(base["area_id"], base["street_id"],
                                                                                strict=True))))
        detail["survey_streets"] = survey_rates(a2, by="street_id")
        detail["survey_district"] = pd.DataFrame({q: district_rate(sr, hh, q) for q in ("satisfied", "feel_safe")})
    else:
        detail["survey"] = detail["survey_streets"] = pd.DataFrame()
        base["satisfaction_rate"] = base["feel_safe_rate"] = np.nan
    return base, detail, present


def assess_month(settings: Settings, month: str | Period, *, lake: Any = None,
                 rubrics: list[Rubric] | None = None) -> MonthAssessment:
    """Assess ``month`` (``YYYY-MM``) for the deployment in ``settings``."""
    from anju.deployment import load_deployment
    from anju.services.lake import open_lake

    dep = load_deployment(settings)
    taxonomy = dep.taxonomy
    p = parse_month(month) if isinstance(month, str) else month
    own = lake is None
    lk = open_lake(dep) if own else lake
    try:
        t = lk.incidents()
        comm = lk.areas("community").to_pandas()
        streets = lk.areas("street").to_pandas()
        rubrics = rubrics if rubrics is not None else load_rubrics(settings.data_dir)
        rubric = rubric_for(p.start, rubrics)
        tables = load_tables(settings)
        cache: dict[Period, tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, bool]]] = {}

        def scored(q: Period) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, bool]]:
            if q not in cache:
                cases = month_cases(t, q, areas=comm, taxonomy=taxonomy)
                inputs, detail, present = month_inputs(tables, q, comm, cases)
                cache[q] = (score_month(inputs, rubric_for(q.start, rubrics)), detail, present)
            return cache[q]

        scores, detail, present = scored(p)
        prev_p = p.previous()
        prev_scores, _, prev_present = scored(prev_p)
        scores = movement(scores, prev_scores if any(prev_present.values()) else None)
        keys = key_lists(t, p, rubric, communities=comm, streets=streets, taxonomy=taxonomy)
        comm_list = None
        if p.start.month % 3 == 0:
            q_months = [Period.month(p.start.year, m) for m in range(p.start.month - 2, p.start.month + 1)]
            frames = [scored(q)[0] for q in q_months]
            if all(any(scored(q)[2].values()) for q in q_months):
                comm_list = commendations(frames, rubric)
    finally:
        if own:
            lk.close()
    street_names = dict(zip(streets["area_id"].astype(str), streets["name"], strict=True))
    scores["street_name"] = scores["street_id"].map(street_names)
    ss = detail.get("survey_streets", pd.DataFrame())
    if len(ss):
        ss["name"] = ss["street_id"].map(street_names)
    sd = detail.get("survey_district")
    totals = {
        "communities": len(scores),
        "preventable": int(scores["preventable"].sum()),
        "preventable_prev": int(scores["preventable_prev"].sum()),
        "zero_case": int((scores["title"] == "zero_case").sum()),
        "control": int((scores["title"] == "control").sum()),
        "mean_score": float(scores["score"].mean()),
    }
    pp = totals["preventable_prev"]
    totals["preventable_change"] = (totals["preventable"] - pp) / pp if pp else float("nan")
    return MonthAssessment(
        month=p, rubric=rubric, scores=scores, patrol=detail["patrol"], cameras=detail["cameras"],
        survey=detail["survey"], survey_streets=ss,
        survey_district={c: {k: float(v) for k, v in sd[c].items()} for c in sd.columns} if sd is not None else {},
        keys=keys, commendations=comm_list, totals=totals, inputs_present=present)
