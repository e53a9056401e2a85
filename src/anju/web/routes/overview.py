"""The overview page (district map, trend, headline cards, problem communities) and its JSON twin.

Every number comes from the cached release (:mod:`anju.web.lake_view`), so it equals the published release. A
viewer with a limited scope sees the map and tables of their communities only; the district-wide headline cards and
trend are shown to whole-district roles.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from anju.release.style import SAFETY
from anju.web.deps import Viewer, ViewerDep, app_state, require
from anju.web.lake_view import NoData
from anju.web.pages import render
from anju.web.schemas import OverviewOut

router = APIRouter(tags=["overview"])
Reader = Annotated[Viewer, Depends(require("read_analytics"))]


def overview_data(request: Request, viewer: Viewer, lang: str) -> OverviewOut:
    lake = app_state(request).lake
    rel = lake.release(lang)
    allowed = viewer.communities
    whole = allowed is None
    return OverviewOut(
        district=rel.meta.district, period=rel.meta.period, period_label=rel.meta.period_label(lang),
        compare_label=rel.meta.compare_label(lang), whole_district=whole,
        headline=lake.headline(lang) if whole else [], trend=lake.trend(lang) if whole else [],
        index=lake.index_rows(lang, allowed), problems=lake.problem_communities(lang, allowed),
    )


@router.get("/", include_in_schema=False)
def overview_page(request: Request, viewer: ViewerDep) -> Response:
    """The home page; roles without analytics (functional departments) land on their tasks instead."""
    from fastapi.responses import RedirectResponse

    from anju.web.i18n import request_lang

    if not viewer.can("read_analytics"):
        return RedirectResponse("/tasks", status_code=303)
    lang = request_lang(request, viewer.user.lang)
    try:
        data: dict[str, Any] | None = overview_data(request, viewer, lang).model_dump()
    except NoData:
        data = None
    return render(request, "overview.html", {"data": data, "palette": SAFETY})


@router.get("/api/v1/overview", response_model=OverviewOut)
def overview_api(request: Request, viewer: Reader, lang: str = "zh") -> OverviewOut:
    """The overview's numbers (the release's headline, trend, community index and problem communities)."""
    return overview_data(request, viewer, "en" if lang == "en" else "zh")


@router.get("/api/v1/geo/communities.geojson")
def communities_geojson(request: Request, viewer: Reader) -> Response:
    """The community boundary layer (our own GeoJSON; ECharts registers it as the map), limited to the scope."""
    import json

    body = app_state(request).lake.geojson()
    if viewer.communities is not None:
        fc = json.loads(body)
        fc["features"] = [f for f in fc["features"] if str(f.get("id")) in viewer.communities]
        body = json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, media_type="application/geo+json", headers={"Cache-Control": "private, max-age=300"})
