"""Supervision board (挂牌督导): the cases in the viewer's scope, a case page, the case report; JSON twins.

Cases are read through :mod:`anju.supervision.access` (SQL scope filter; by id outside scope = 403); officers' names
only for roles that may read personal data, and viewing them is audited. Writes (open from the candidate list or by
hand, review, measure or visit with an evidence file, close) are forms and API calls that only translate into
:mod:`anju.supervision.service`, which audits them; the role must assign tasks and the community must be in scope."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AnjuError
from anju.ops import audit
from anju.ops.models import Community, SupervisionCase
from anju.ops.scope import community_filter
from anju.supervision.access import case_dict, require_supervise, visible_case, visible_cases
from anju.supervision.report import STATUS_ZH, write_case_report
from anju.supervision.service import CATEGORY_ZH, EVIDENCE_MAX_BYTES, SupervisionError
from anju.web.deps import DbSession, Viewer, ViewerDep, app_state, client_ip
from anju.web.pages import render

router = APIRouter(tags=["supervision"])
_PERIOD = re.compile(r"^\d{4}(H[12]|Q[1-4]|-(0[1-9]|1[0-2]))?$")
OUTCOMES = {"met": ("达标销号", "goal met"), "not_met": ("未达标结案", "goal not met"),
            "merged": ("合并", "merged into another case")}


def _latest(case: Any) -> dict[str, Any] | None:
    return next((s.progress for s in reversed(case.snapshots) if s.progress), None)


def _row(case: Any, viewer: Any) -> dict[str, Any]:
    d = case_dict(case, viewer.user)
    d["status_zh"] = STATUS_ZH.get(case.status, case.status)
    d["progress"] = _latest(case)
    return d


def _audit_personal(session: Any, viewer: Any, request: Request, target: str | None) -> None:
    if viewer.can("read_personal"):
        audit.record(session, actor=viewer.user, action="supervision.view", target_type="supervision_case",
                     target_id=target, ip=client_ip(request))
        session.commit()


def _can_supervise(viewer: Viewer) -> bool:
    return viewer.can("assign_tasks")


def _candidates(request: Request, viewer: Viewer, base: str | None, n: int) -> tuple[str, list[dict[str, Any]]]:
    lake = app_state(request).lake
    base = base if base and _PERIOD.match(base) else lake.default_base_period()
    rows = lake.candidates(base, n)
    if viewer.communities is not None:
        rows = [r for r in rows if r["area_id"] in viewer.communities]
    return base, rows


@router.get("/supervision", include_in_schema=False)
def board_page(request: Request, session: DbSession, viewer: ViewerDep, base: str | None = None,
               n: int = 10) -> Response:
    rows = [_row(c, viewer) for c in visible_cases(session, viewer.user)]
    _audit_personal(session, viewer, request, None)
    ctx: dict[str, Any] = {"cases": rows, "can_write": _can_supervise(viewer), "candidates": [], "base": base,
                           "n": n, "today": dt.date.today().isoformat()}
    if ctx["can_write"]:
        from anju.web.lake_view import NoData

        with contextlib.suppress(NoData):
            ctx["base"], ctx["candidates"] = _candidates(request, viewer, base, max(1, min(n, 50)))
        listed = {r["community"] for r in rows if r["status"] in ("open", "reviewing")}
        for c in ctx["candidates"]:
            c["listed"] = c["area_id"] in listed
    ctx["evaluation"] = _set_evaluation(request, session, viewer)
    return render(request, "supervision.html", ctx)


def _set_evaluation(request: Request, session: Session, viewer: Viewer,
                    cases: list[SupervisionCase] | None = None) -> dict[str, Any] | None:
    """Raw change, change expected without intervention and net effect of the viewer's listed set (the same call
    as ``anju supervise evaluate``); ``None`` when the lake cannot evaluate it yet."""
    from anju.supervision.service import evaluate_inputs, set_inputs
    from anju.web.lake_view import NoData

    cases = cases if cases is not None else [c for c in visible_cases(session, viewer.user)
                                             if c.status != "merged"]
    inputs = set_inputs(session, cases)
    if inputs is None:
        return None
    lake = app_state(request).lake

    def build() -> dict[str, Any] | None:
        return lake.with_lake(  # type: ignore[no-any-return]
            lambda incidents, dep, lk: evaluate_inputs(incidents, inputs, taxonomy=dep.taxonomy,
                                                       areas=lk.areas("community").to_pandas()))

    try:  # cached per data change and per listed set (and the profiles it uses): a board view costs no lake query
        return lake.memo(f"evaluation:{inputs.digest()}", build)  # type: ignore[no-any-return]
    except (NoData, AnjuError):
        return None


# ---------------------------------------------------------------------------------------------- writes
class CaseIn(BaseModel):
    """Opening a case: from the candidate list (give ``rank``) or by hand."""

    community_code: str = Field(min_length=1, max_length=64)
    official: str = Field(min_length=1, max_length=100)
    base_period: str = Field(pattern=_PERIOD.pattern)
    goal_change: float = Field(-0.3, gt=-1, lt=0)
    opened_on: dt.date | None = None
    community_police: str | None = Field(None, max_length=100)
    rank: int | None = Field(None, ge=1, le=1000)
    note: str = Field("", max_length=2000)


class ReviewIn(BaseModel):
    as_of: dt.date | None = None


class CloseIn(BaseModel):
    outcome: str = Field(pattern="^(met|not_met|merged)$")
    on: dt.date | None = None
    merged_into: int | None = None


def _writer(viewer: Viewer) -> None:
    require_supervise(viewer.user)


def open_case_web(request: Request, session: Session, viewer: Viewer, body: CaseIn) -> SupervisionCase:
    """Open a case for a community in the viewer's scope (its risk profile is computed from the lake now)."""
    from anju.supervision.service import open_case

    _writer(viewer)
    ok = session.scalar(select(Community.id).where(Community.code == body.community_code,
                                                   community_filter(viewer.user)))
    if ok is None:
        from anju.errors import AccessDeniedError

        raise AccessDeniedError(f"community {body.community_code!r} does not exist or is outside your scope")

    if body.rank is not None:  # "from the candidate list" must be true: the rank is checked, not taken on trust
        listed = app_state(request).lake.candidates(body.base_period, max(10, body.rank))
        if not any(r["rank"] == body.rank and r["area_id"] == body.community_code for r in listed):
            raise SupervisionError(f"{body.community_code} is not number {body.rank} of the candidate list of "
                                   f"{body.base_period}; open it by hand (without a rank) instead")

    def run(incidents: Any, dep: Any, lake: Any) -> SupervisionCase:
        return open_case(session, incidents, actor=viewer.user, community_code=body.community_code,
                         official=body.official, opened_on=body.opened_on or dt.date.today(),
                         base_period=body.base_period, goal_change=body.goal_change,
                         community_police=(body.community_police or "").strip() or None,
                         source="candidate" if body.rank else "manual", rank=body.rank, note=body.note,
                         night=dep.night)

    case = app_state(request).lake.with_lake(run)
    session.commit()
    return case  # type: ignore[no-any-return]


def review_case_web(request: Request, session: Session, viewer: Viewer, case_id: int, body: ReviewIn) -> Any:
    """Review a case: the risk profile recomputed on ``as_of`` and the progress towards the goal."""
    from anju.supervision.service import review_case

    _writer(viewer)
    visible_case(session, viewer.user, case_id)
    snap = app_state(request).lake.with_lake(
        lambda inc, dep, lake: review_case(session, inc, case_id, actor=viewer.user,
                                           as_of=body.as_of or dt.date.today(), taxonomy=dep.taxonomy,
                                           night=dep.night))
    session.commit()
    return snap


async def _save_evidence(request: Request, upload: UploadFile) -> Path:
    """Stream an evidence upload to a private temporary folder, refusing it past the size limit (the service then
    checks the type by content and stores it by hash)."""
    name = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff_.\-]", "_", Path(upload.filename or "evidence").name)[:100] or "evidence"
    folder = Path(app_state(request).settings.data_dir) / "uploads" / f"evidence-{secrets.token_hex(8)}"
    folder.mkdir(parents=True)
    dest, size = folder / name, 0
    try:
        with dest.open("wb") as fh:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > EVIDENCE_MAX_BYTES:
                    raise SupervisionError(f"the evidence file is larger than {EVIDENCE_MAX_BYTES >> 20} MiB")
                fh.write(chunk)
        if size == 0:
            raise SupervisionError("the evidence file is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return dest


async def add_measure_web(request: Request, session: Session, viewer: Viewer, case_id: int, *, category: str,
                          what: str, who: str, cost: str, on: str, evidence: UploadFile | None) -> Any:
    """Log a measure or visit; the evidence file (optional) is size- and type-checked and stored by hash."""
    from anju.supervision.service import add_measure

    _writer(viewer)
    case = visible_case(session, viewer.user, case_id)
    if case.status not in ("open", "reviewing"):
        raise SupervisionError(f"case #{case_id} is closed; measures go on open cases")
    try:
        cost_yuan = float(cost) if cost.strip() else None
    except ValueError:
        raise SupervisionError(f"the cost must be a number of yuan; got {cost!r}") from None
    on_date = _date(on)
    path = await _save_evidence(request, evidence) if evidence is not None and evidence.filename else None
    try:
        m = add_measure(session, app_state(request).settings, case_id, actor=viewer.user, on_date=on_date,
                        category=category, what=what, who=who, cost_yuan=cost_yuan, evidence=path)
        session.commit()
    finally:
        if path is not None:
            shutil.rmtree(path.parent, ignore_errors=True)
    return m


def close_case_web(request: Request, session: Session, viewer: Viewer, case_id: int, body: CloseIn) -> Any:
    from anju.supervision.service import close_case

    _writer(viewer)
    visible_case(session, viewer.user, case_id)
    if body.merged_into is not None:
        visible_case(session, viewer.user, body.merged_into)
    case = close_case(session, case_id, actor=viewer.user, outcome=body.outcome, on=body.on or dt.date.today(),
                      merged_into=body.merged_into)
    session.commit()
    return case


def _date(text: str) -> dt.date:
    if not text.strip():
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise SupervisionError(f"the date must be YYYY-MM-DD; got {text!r}") from None


@router.post("/supervision", include_in_schema=False)
def open_form(request: Request, session: DbSession, viewer: ViewerDep,
              community_code: Annotated[str, Form(max_length=64)], official: Annotated[str, Form(max_length=100)],
              base_period: Annotated[str, Form(max_length=16)], goal_pct: Annotated[str, Form(max_length=10)] = "-30",
              opened_on: Annotated[str, Form(max_length=10)] = "",
              community_police: Annotated[str, Form(max_length=100)] = "",
              rank: Annotated[str, Form(max_length=6)] = "", note: Annotated[str, Form(max_length=2000)] = ""
              ) -> Response:
    try:
        goal = float(goal_pct) / 100
    except ValueError:
        goal = float("nan")
    if not -1 < goal < 0:
        raise SupervisionError(f"the goal is a fall between 0 and -100 %, e.g. -30; got {goal_pct!r}")
    if not _PERIOD.match(base_period.strip()):
        raise SupervisionError(f"the base period must look like 2024, 2024H2, 2024Q3 or 2024-05; got {base_period!r}")
    if not community_code.strip() or not official.strip():
        raise SupervisionError("a case needs its community and its supervising official (督导领导)")
    body = CaseIn(community_code=community_code.strip(), official=official.strip(), base_period=base_period.strip(),
                  goal_change=goal, opened_on=_date(opened_on), community_police=community_police, note=note,
                  rank=int(rank) if rank.strip().isdigit() and 1 <= int(rank) <= 1000 else None)
    case = open_case_web(request, session, viewer, body)
    return RedirectResponse(f"/supervision/{case.id}", status_code=303)


@router.post("/supervision/{case_id}/review", include_in_schema=False)
def review_form(request: Request, session: DbSession, viewer: ViewerDep, case_id: int,
                as_of: Annotated[str, Form(max_length=10)] = "") -> Response:
    review_case_web(request, session, viewer, case_id, ReviewIn(as_of=_date(as_of)))
    return RedirectResponse(f"/supervision/{case_id}", status_code=303)


@router.post("/supervision/{case_id}/measures", include_in_schema=False)
async def measure_form(request: Request, session: DbSession, viewer: ViewerDep, case_id: int,
                       category: Annotated[str, Form(max_length=16)], what: Annotated[str, Form(max_length=2000)],
                       who: Annotated[str, Form(max_length=100)] = "", cost: Annotated[str, Form(max_length=20)] = "",
                       on: Annotated[str, Form(max_length=10)] = "",
                       evidence: Annotated[UploadFile | None, File()] = None) -> Response:
    await add_measure_web(request, session, viewer, case_id, category=category, what=what, who=who, cost=cost,
                          on=on, evidence=evidence)
    return RedirectResponse(f"/supervision/{case_id}#measures", status_code=303)


@router.post("/supervision/{case_id}/close", include_in_schema=False)
def close_form(request: Request, session: DbSession, viewer: ViewerDep, case_id: int,
               outcome: Annotated[str, Form(max_length=10)], on: Annotated[str, Form(max_length=10)] = "",
               merged_into: Annotated[str, Form(max_length=10)] = "") -> Response:
    if outcome not in OUTCOMES:
        raise SupervisionError(f"outcome must be one of {list(OUTCOMES)}; got {outcome!r}")
    body = CloseIn(outcome=outcome, on=_date(on),
                   merged_into=int(merged_into) if merged_into.strip().isdigit() else None)
    close_case_web(request, session, viewer, case_id, body)
    return RedirectResponse(f"/supervision/{case_id}", status_code=303)


@router.get("/api/v1/supervision/candidates")
def candidates_api(request: Request, viewer: ViewerDep, base: str | None = None, n: int = 10) -> dict[str, Any]:
    """The candidate list: top-``n`` communities by theft in ``base`` (default last year), within the scope."""
    _writer(viewer)
    b, rows = _candidates(request, viewer, base, max(1, min(n, 50)))
    return {"base_period": b, "data": rows, "count": len(rows)}


@router.post("/api/v1/supervision/cases", status_code=201)
def open_api(request: Request, session: DbSession, viewer: ViewerDep, body: CaseIn) -> dict[str, Any]:
    """Open a case (risk profile frozen at opening); audited."""
    return _row(open_case_web(request, session, viewer, body), viewer)


@router.post("/api/v1/supervision/cases/{case_id}/reviews", status_code=201)
def review_api(request: Request, session: DbSession, viewer: ViewerDep, case_id: int,
               body: ReviewIn) -> dict[str, Any]:
    """Review a case: a new risk profile and the progress towards the goal; audited."""
    snap = review_case_web(request, session, viewer, case_id, body)
    return {"as_of": snap.as_of.isoformat(), "profile": snap.profile, "progress": snap.progress}


@router.post("/api/v1/supervision/cases/{case_id}/measures", status_code=201)
async def measure_api(request: Request, session: DbSession, viewer: ViewerDep, case_id: int,
                      category: Annotated[str, Form(max_length=16)], what: Annotated[str, Form(max_length=2000)],
                      who: Annotated[str, Form(max_length=100)] = "", cost: Annotated[str, Form(max_length=20)] = "",
                      on: Annotated[str, Form(max_length=10)] = "",
                      evidence: Annotated[UploadFile | None, File()] = None) -> dict[str, Any]:
    """Log a measure (人防/物防/技防/管理/打击) or visit (走访), multipart with an optional evidence file (PNG,
    JPEG, PDF or Office; ≤ 10 MiB); audited."""
    m = await add_measure_web(request, session, viewer, case_id, category=category, what=what, who=who, cost=cost,
                              on=on, evidence=evidence)
    return {"id": m.id, "on_date": m.on_date.isoformat(), "category": m.category, "what": m.what,
            "evidence": m.evidence_name, "evidence_sha256": m.evidence_sha256}


@router.post("/api/v1/supervision/cases/{case_id}/close")
def close_api(request: Request, session: DbSession, viewer: ViewerDep, case_id: int, body: CloseIn) -> dict[str, Any]:
    """Close a case: goal met (销号), not met, or merged into another case; audited."""
    return _row(close_case_web(request, session, viewer, case_id, body), viewer)


@router.get("/supervision/{case_id}", include_in_schema=False)
def case_page(request: Request, session: DbSession, viewer: ViewerDep, case_id: int) -> Response:
    case = visible_case(session, viewer.user, case_id)
    _audit_personal(session, viewer, request, str(case_id))
    return render(request, "supervision_case.html", {
        "c": _row(case, viewer), "case": case, "can_write": _can_supervise(viewer), "outcomes": OUTCOMES,
        "categories": list(CATEGORY_ZH.items()), "cat_label": {en: zh for zh, en in CATEGORY_ZH.items()},
        "today": dt.date.today().isoformat()})


@router.get("/supervision/{case_id}/report.docx", include_in_schema=False)
def case_report(request: Request, session: DbSession, viewer: ViewerDep, case_id: int) -> Response:
    case = visible_case(session, viewer.user, case_id)
    if not viewer.can("read_personal"):
        from anju.web.deps import Forbidden

        raise Forbidden("the case report names officers; your role may not read personal data")
    with tempfile.TemporaryDirectory() as d:
        peers = [c for c in visible_cases(session, viewer.user)
                 if c.base_period == case.base_period and c.status != "merged"]
        evaluation = _set_evaluation(request, session, viewer, peers or [case])
        data = write_case_report(case, Path(d) / "case.docx", evaluation=evaluation).read_bytes()
    audit.record(session, actor=viewer.user, action="supervision.export", target_type="supervision_case",
                 target_id=str(case_id), ip=client_ip(request))
    session.commit()
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f'attachment; filename="case-{case_id}.docx"'})


@router.get("/api/v1/supervision/cases")
def cases_api(request: Request, session: DbSession, viewer: ViewerDep) -> dict[str, Any]:
    """Supervision cases in the viewer's scope with their latest progress."""
    rows = [_row(c, viewer) for c in visible_cases(session, viewer.user)]
    _audit_personal(session, viewer, request, None)
    return {"data": rows, "count": len(rows)}


@router.get("/api/v1/supervision/cases/{case_id}")
def case_api(request: Request, session: DbSession, viewer: ViewerDep, case_id: int) -> dict[str, Any]:
    """One case with its snapshots (risk profile at opening and each review) and measures."""
    case = visible_case(session, viewer.user, case_id)
    d = _row(case, viewer)
    d["snapshots"] = [{"kind": s.kind, "as_of": s.as_of.isoformat(), "profile": s.profile, "progress": s.progress}
                      for s in case.snapshots]
    d["measures"] = [{"on_date": m.on_date.isoformat(), "category": m.category, "what": m.what,
                      "who": m.who if viewer.can("read_personal") else None, "cost_yuan": m.cost_yuan,
                      "evidence": m.evidence_name} for m in case.measures]
    _audit_personal(session, viewer, request, str(case_id))
    return d
