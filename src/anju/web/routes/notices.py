"""Notices (通知通告): list and read those in the viewer's scope, publish one to an area the viewer covers.

Reads go through :func:`anju.ops.scope.scope_notices` / ``get_scoped`` and writes through
:func:`anju.ops.records.publish_notice` (permission, scope, audit), so the page and the API obey one rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.ops import records
from anju.ops.models import Notice
from anju.ops.scope import get_scoped, scope_notices
from anju.web.deps import DbSession, Viewer, ViewerDep, client_ip, require
from anju.web.pages import render
from anju.web.schemas import NoticeIn, NoticeOut
from anju.web.tables import Col, TableQuery, page_select, table_query, xlsx_bytes

router = APIRouter(tags=["notices"])
Publisher = Annotated[Viewer, Depends(require("write_notices"))]
TQ = Annotated[TableQuery, Depends(table_query)]

COLS = (Col("id", "编号", "Id"), Col("title", "标题", "Title", search=True),
        Col("area_level", "范围", "Area level"), Col("area_code", "区域编码", "Area code"),
        Col("published_at", "发布时间", "Published"))
_SORT = {"id": Notice.id, "title": Notice.title, "published_at": Notice.published_at, "area_level": Notice.area_level}


def _list(session: Session, viewer: Viewer, tq: TableQuery, *, paged: bool = True) -> tuple[list[Notice], int]:
    stmt = scope_notices(select(Notice), viewer.user)
    return page_select(session, stmt, _SORT, [Notice.title, Notice.body], tq,
                       default_order=[Notice.published_at.desc(), Notice.id.desc()], paged=paged)


@router.get("/notices", include_in_schema=False)
def notices_page(request: Request, session: DbSession, viewer: ViewerDep, tq: TQ) -> Response:
    from anju.web.tables import Page

    rows, total = _list(session, viewer, tq)
    return render(request, "notices.html", {"notices": rows, "page": Page([], total, tq), "cols": COLS,
                                            "can_write": viewer.can("write_notices")})


@router.get("/notices.xlsx", include_in_schema=False)
def notices_xlsx(request: Request, session: DbSession, viewer: ViewerDep, tq: TQ) -> Response:
    from anju.web.i18n import request_lang

    rows, _ = _list(session, viewer, tq, paged=False)
    data: list[dict[str, Any]] = [NoticeOut.model_validate(n).model_dump() for n in rows]
    for d in data:
        d["published_at"] = d["published_at"].strftime("%Y-%m-%d %H:%M")
    return Response(xlsx_bytes("notices", COLS, data, request_lang(request, viewer.user.lang)),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="notices.xlsx"'})


@router.get("/notices/{notice_id}", include_in_schema=False)
def notice_page(request: Request, session: DbSession, viewer: ViewerDep, notice_id: int) -> Response:
    return render(request, "notice.html", {"n": get_scoped(session, viewer.user, Notice, notice_id)})


@router.post("/notices", include_in_schema=False)
def notice_form(request: Request, session: DbSession, viewer: Publisher,
                title: Annotated[str, Form(max_length=200)], body: Annotated[str, Form(max_length=20_000)] = "",
                area_level: Annotated[str, Form(max_length=32)] = "district",
                area_code: Annotated[str, Form(max_length=64)] = "") -> Response:
    n = records.publish_notice(session, viewer.user, title=title, body=body, area_level=area_level,
                               area_code=area_code.strip() or None, ip=client_ip(request))
    session.commit()
    return RedirectResponse(f"/notices/{n.id}", status_code=303)


@router.get("/api/v1/notices")
def notices_api(session: DbSession, viewer: ViewerDep, tq: TQ) -> dict[str, Any]:
    """Notices the viewer may read (paged, sorted, filtered by ``q`` in title and text)."""
    rows, total = _list(session, viewer, tq)
    return {"data": [NoticeOut.model_validate(n).model_dump(mode="json") for n in rows], "count": total}


@router.get("/api/v1/notices/{notice_id}", response_model=NoticeOut)
def notice_api(session: DbSession, viewer: ViewerDep, notice_id: int) -> NoticeOut:
    return NoticeOut.model_validate(get_scoped(session, viewer.user, Notice, notice_id))


@router.post("/api/v1/notices", response_model=NoticeOut, status_code=201)
def notice_create_api(request: Request, session: DbSession, viewer: Publisher, body: NoticeIn) -> NoticeOut:
    """Publish a notice to an area the viewer covers entirely (the whole district needs a district-wide role)."""
    n = records.publish_notice(session, viewer.user, title=body.title, body=body.body, area_level=body.area_level,
                               area_code=body.area_code, ip=client_ip(request))
    session.commit()
    return NoticeOut.model_validate(n)
