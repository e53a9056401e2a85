"""Communities: the list (index, grade, calls), the community page (profile history, calls by month, rankings and
index with intervals) and new profile rows. Every code is checked against the viewer's scope first."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from anju.errors import DataNotFoundError
from anju.ops import records
from anju.ops.models import Community, CommunityProfile, profile_history
from anju.web.deps import DbSession, Forbidden, Viewer, app_state, client_ip, require
from anju.web.i18n import request_lang
from anju.web.lake_view import NoData
from anju.web.pages import render
from anju.web.schemas import CommunityOut, ProfileIn, ProfileOut
from anju.web.tables import Col, TableQuery, page_rows, table_query, xlsx_bytes

router = APIRouter(tags=["communities"])
Reader = Annotated[Viewer, Depends(require("read_communities"))]
Writer = Annotated[Viewer, Depends(require("write_profiles"))]
TQ = Annotated[TableQuery, Depends(table_query)]

LIST_COLS = (
    Col("rank", "名次", "Rank", kind="rank"), Col("area_id", "编号", "Code", search=True, kind="id"),
    Col("name", "名称", "Name", search=True), Col("street", "街镇", "Street", search=True),
    Col("index", "平安指数", "Safety index", kind="index"), Col("grade", "等级", "Grade", search=True),
    Col("count", "本期警情", "Calls", kind="count"),
)


def check_scope(viewer: Viewer, code: str) -> None:
    """Refuse a community outside the viewer's scope (403), whatever route asked for it."""
    if viewer.communities is not None and code not in viewer.communities:
        raise Forbidden(f"community {code!r} is outside your scope")


def _rows(request: Request, viewer: Viewer, lang: str) -> list[dict[str, Any]]:
    try:
        return app_state(request).lake.index_rows(lang, viewer.communities)
    except NoData:
        return []


@router.get("/communities", include_in_schema=False)
def communities_page(request: Request, viewer: Reader, tq: TQ) -> Response:
    lang = request_lang(request, viewer.user.lang)
    page = page_rows(_rows(request, viewer, lang), LIST_COLS, tq)
    return render(request, "communities.html", {"page": page, "cols": LIST_COLS})


@router.get("/communities.xlsx", include_in_schema=False)
def communities_xlsx(request: Request, viewer: Reader, tq: TQ) -> Response:
    lang = request_lang(request, viewer.user.lang)
    page = page_rows(_rows(request, viewer, lang), LIST_COLS, tq, paged=False)
    return Response(xlsx_bytes("communities", LIST_COLS, page.rows, lang),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="communities.xlsx"'})


@router.get("/api/v1/communities")
def communities_api(request: Request, viewer: Reader, tq: TQ, lang: str = "zh") -> dict[str, Any]:
    """Communities in the viewer's scope with the release's index (paged, sorted, filtered)."""
    page = page_rows(_rows(request, viewer, lang), LIST_COLS, tq)
    return {"data": page.rows, "count": page.count}


def community_data(request: Request, session: Any, viewer: Viewer, code: str, lang: str) -> CommunityOut:
    check_scope(viewer, code)
    lake = app_state(request).lake
    comm = session.scalars(select(Community).where(Community.code == code)).first()
    try:
        nums = lake.community(code, lang)
    except NoData:
        nums = None
    except DataNotFoundError:
        if comm is None:
            raise
        nums = None
    if comm is None and nums is None:
        raise DataNotFoundError(f"no community {code!r}")
    profiles = profile_history(session, comm.id) if comm is not None else []
    idx = nums.index_row if nums is not None else None
    return CommunityOut(
        code=code, name=(comm.name if comm is not None else nums.name if nums is not None else code),
        street_code=comm.street_code if comm is not None else None,
        station_code=comm.station_code if comm is not None else None,
        index=idx.get("index") if idx else None, rank=idx.get("rank") if idx else None,
        grade=idx.get("grade") if idx else None, count=idx.get("count") if idx else None,
        profile=profiles[-1].facts() if profiles else None,
        rankings=nums.rankings if nums is not None else [], monthly=nums.monthly if nums is not None else [],
        profiles=[ProfileOut.model_validate(p) for p in profiles],
    )


@router.get("/communities/{code}", include_in_schema=False)
def community_page(request: Request, session: DbSession, viewer: Reader, code: str) -> Response:
    lang = request_lang(request, viewer.user.lang)
    data = community_data(request, session, viewer, code, lang)
    from anju.duty.service import guard_rounds

    guards = guard_rounds(app_state(request).settings, code)  # scope checked by community_data
    return render(request, "community.html", {"c": data, "can_write": viewer.can("write_profiles"),
                                              "today": date.today().isoformat(), "guards": guards})


@router.get("/api/v1/communities/{code}", response_model=CommunityOut)
def community_api(request: Request, session: DbSession, viewer: Reader, code: str, lang: str = "zh") -> CommunityOut:
    """One community: profile history, calls by month, its rankings and its safety index."""
    return community_data(request, session, viewer, code, "en" if lang == "en" else "zh")


def add_profile(request: Request, session: Any, viewer: Viewer, code: str, body: ProfileIn) -> CommunityProfile:
    """Append a profile row through :func:`anju.ops.records.add_profile` (permission, scope and audit)."""
    check_scope(viewer, code)
    comm = session.scalars(select(Community).where(Community.code == code)).first()
    if comm is None:
        raise DataNotFoundError(f"no community {code!r} in the operations database")
    facts = body.model_dump(exclude={"effective_date", "note"})
    row = records.add_profile(session, viewer.user, comm.id, body.effective_date, facts, note=body.note,
                              source="web", ip=client_ip(request))
    session.commit()
    return row


@router.post("/api/v1/communities/{code}/profiles", response_model=ProfileOut, status_code=201)
def profile_api(request: Request, session: DbSession, viewer: Writer, code: str, body: ProfileIn) -> ProfileOut:
    """Record a new dated profile row (the history keeps every earlier row)."""
    return ProfileOut.model_validate(add_profile(request, session, viewer, code, body))


def _num(v: str | None, kind: type) -> Any:
    v = (v or "").strip()
    if v == "":
        return None
    return kind(v)


@router.post("/communities/{code}/profiles", include_in_schema=False)
def profile_form(request: Request, session: DbSession, viewer: Writer, code: str,
                 effective_date: Annotated[date, Form()], households: Annotated[str, Form()] = "",
                 residents: Annotated[str, Form()] = "", floating_share: Annotated[str, Form()] = "",
                 rental_rate: Annotated[str, Form()] = "", fee_collection_rate: Annotated[str, Form()] = "",
                 guards: Annotated[str, Form()] = "", cameras: Annotated[str, Form()] = "",
                 cameras_faulty: Annotated[str, Form()] = "", has_owners_committee: Annotated[str, Form()] = "",
                 note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        body = ProfileIn(effective_date=effective_date, households=_num(households, int),
                         residents=_num(residents, int), floating_share=_num(floating_share, float),
                         rental_rate=_num(rental_rate, float), fee_collection_rate=_num(fee_collection_rate, float),
                         guards=_num(guards, int), cameras=_num(cameras, int),
                         cameras_faulty=_num(cameras_faulty, int),
                         has_owners_committee={"yes": True, "no": False}.get(has_owners_committee),
                         note=note or None)
    except ValueError as exc:
        from anju.errors import AnjuError

        raise AnjuError(f"profile not saved: {exc}") from exc
    add_profile(request, session, viewer, code, body)
    return RedirectResponse(f"/communities/{code}", status_code=303)
