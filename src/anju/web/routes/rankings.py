"""Rankings (排行榜) from the release: a page listing every ranking, tables with paging/sort/filter, Excel export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from anju.release.model import Table
from anju.web.deps import Viewer, app_state, require
from anju.web.i18n import request_lang
from anju.web.lake_view import NoData
from anju.web.pages import render
from anju.web.schemas import ColumnOut, TableOut
from anju.web.tables import Col, TableQuery, page_rows, table_query, xlsx_bytes

router = APIRouter(tags=["rankings"])
Reader = Annotated[Viewer, Depends(require("read_analytics"))]
TQ = Annotated[TableQuery, Depends(table_query)]


def _cols(t: Table) -> list[Col]:
    return [Col(c.key, c.zh, c.en or c.zh, search=c.kind in ("text", "id"), kind=c.kind) for c in t.columns]


@router.get("/rankings", include_in_schema=False)
def rankings_page(request: Request, viewer: Reader, tq: TQ, key: str | None = None) -> Response:
    lang = request_lang(request, viewer.user.lang)
    lake = app_state(request).lake
    try:
        tables = lake.ranking_tables(lang)
    except NoData:
        return render(request, "rankings.html", {"tables": [], "current": None})
    current = next((t for t in tables if t.key == key), tables[0] if tables else None)
    page = None
    if current is not None:
        _, rows = lake.ranking(current.key, lang, viewer.communities)
        page = page_rows(rows, _cols(current), tq)
    return render(request, "rankings.html", {"tables": tables, "current": current, "page": page,
                                             "cols": _cols(current) if current else []})


@router.get("/api/v1/rankings")
def rankings_api(request: Request, viewer: Reader, lang: str = "zh") -> dict[str, object]:
    """The rankings of the release: keys and titles."""
    tables = app_state(request).lake.ranking_tables(lang)
    return {"data": [{"key": t.key, "title": t.title(lang)} for t in tables], "count": len(tables)}


@router.get("/api/v1/rankings/{key}", response_model=TableOut)
def ranking_api(request: Request, viewer: Reader, key: str, tq: TQ, lang: str = "zh") -> TableOut:
    """One ranking's rows within the viewer's scope (paged, sorted, filtered)."""
    t, rows = app_state(request).lake.ranking(key, lang, viewer.communities)
    page = page_rows(rows, _cols(t), tq)
    return TableOut(key=t.key, title=t.title(lang), columns=[ColumnOut(key=c.key, label=c.label(lang), kind=c.kind)
                                                             for c in t.columns], data=page.rows, count=page.count)


@router.get("/rankings/{key}.xlsx")
def ranking_xlsx(request: Request, viewer: Reader, key: str, tq: TQ) -> Response:
    """The ranking (filtered and sorted as on screen, every page) as an Excel file."""
    lang = request_lang(request, viewer.user.lang)
    t, rows = app_state(request).lake.ranking(key, lang, viewer.communities)
    page = page_rows(rows, _cols(t), tq, paged=False)
    body = xlsx_bytes(t.title(lang), _cols(t), page.rows, lang)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{key}.xlsx"'})
