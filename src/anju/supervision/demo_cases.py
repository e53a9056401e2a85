"""The demo district's supervision register: the ten listed communities opened as cases, with measures and a review.

A leader lists the worst communities in January from last year's candidate list (``anju supervise candidates``), the
stations log what they did, and a mid-year review checks progress. The demo plants exactly such a set (the top ten by
theft in the base year, supervised from January of the last year, ``truth.json`` → ``supervised``); seeding the same
cases through the register's own use cases (:mod:`anju.supervision.service`) makes the board, the case reports and the
net-effect evaluation show the planted supervision as soon as the demo is served.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anju.config import Settings
from anju.ops.models import SupervisionCase
from anju.supervision import service as svc

__all__ = ["DemoCasesResult", "seed_demo_cases"]

# (category, what was done, who did it): plausible measures of a theft-focused supervision, two per case
_MEASURES = (
    ("physical", "非机动车棚加装智能门禁与充电桩", "物业公司"),
    ("technical", "出入口和车棚新增高清探头 6 路，接入派出所视频平台", "社区民警"),
    ("people", "组织平安志愿者夜间巡逻，21:00–02:00 每晚两班", "居委会"),
    ("management", "出租房屋和快递驿站逐户排查登记", "社区民警"),
    ("enforcement", "针对盗窃电动车团伙开展蹲守，抓获 2 人", "派出所刑侦队"),
    ("visit", "督导领导走访居委会与物业，召开联席会议", "督导领导"),
)
_OFFICIALS = ("分局副局长 周建国", "分局副局长 陈立新", "分局政委 王海峰")


@dataclass
class DemoCasesResult:
    """What :func:`seed_demo_cases` did: ``opened`` is 0 when the register already had cases or no demo is built."""

    opened: int = 0
    measures: int = 0
    reviews: int = 0
    base_period: str | None = None
    skipped: str | None = None


def _truth(settings: Settings) -> dict[str, Any] | None:
    demo = settings.data_dir / "demo"
    meta = demo / "demo.json"
    if not meta.exists():
        return None
    name = json.loads(meta.read_text(encoding="utf-8")).get("truth", "truth.json")
    path = demo / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def seed_demo_cases(session: Session, settings: Settings, incidents: Any, *, deployment: Any,
                    areas: Any = None) -> DemoCasesResult:
    """Open the demo's supervised communities as cases (idempotent; the caller commits).

    The cases are the planted set (``truth.json``), ranked by the candidate list of the demo's base year — the same
    call as the board's 候选 list. Each gets two measures in February–March and a review on 30 June of
    the supervision year; the cases stay open, so the board evaluates the listed set over the supervision year.
    """
    res = DemoCasesResult()
    if session.scalar(select(func.count()).select_from(SupervisionCase)):
        res.skipped = "register not empty"
        return res
    truth = _truth(settings)
    sup = (truth or {}).get("supervised", {})
    if not truth or not sup.get("community_ids") or "start" not in sup:
        res.skipped = "no demo with a supervised set in this data directory"
        return res
    base = str(truth["periods"]["supervision_base"])
    year, month = (int(x) for x in str(sup["start"]).split("-"))
    opened_on = dt.date(year, month, 1)
    listed = [str(c) for c in sup["community_ids"]]
    cands = svc.candidates(incidents, base, n=len(listed), taxonomy=deployment.taxonomy, areas=areas)
    rank = {str(r["area_id"]): int(r["rank_base"]) for _, r in cands.iterrows()}
    res.base_period = base
    # the planted set, in candidate-list order; a listed community that noise pushed off the realised top N (small
    # demo scales) is opened by hand, as a leader does with a community known to be bad beyond its count
    listed.sort(key=lambda c: (rank.get(c, len(listed) + 1), c))
    for i, code in enumerate(listed):
        case = svc.open_case(session, incidents, actor=None, community_code=code,
                             official=_OFFICIALS[i % len(_OFFICIALS)], opened_on=opened_on, base_period=base,
                             goal_change=-0.3, source="candidate" if code in rank else "manual",
                             rank=rank.get(code), note="演示：依据上年盗窃警情排名列管", night=deployment.night)
        res.opened += 1
        for k in range(2):
            cat, what, who = _MEASURES[(2 * i + k) % len(_MEASURES)]
            svc.add_measure(session, settings, case.id, actor=None, on_date=dt.date(year, 2 + k, 10 + i),
                            category=cat, what=what, who=who)
            res.measures += 1
        svc.review_case(session, incidents, case.id, actor=None, as_of=dt.date(year, 6, 30),
                        taxonomy=deployment.taxonomy, night=deployment.night)
        res.reviews += 1
    return res
