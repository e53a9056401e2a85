"""Safe-house siting page (安全屋选址) for district analysts: pick the number of new sites and the walking radius, see
the chosen candidates, the coverage gained per added site and the uncovered hot spots on our own boundary map (no
online tiles), and export the plan as CSV.

The numbers come from :func:`anju.demo.resident.plan_demo_sites` → :func:`anju.resident.siting.plan_sites` (MCLP,
PySAL spopt with CBC), the same call as ``anju resident plan-sites``.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select

from anju.ops.models import SafeHouse
from anju.web.deps import DbSession, Viewer, app_state, require
from anju.web.pages import render

__all__ = ["router"]

router = APIRouter(tags=["resident"])
Planner = Annotated[Viewer, Depends(require("run_imports"))]
K = Annotated[int, Query(ge=1, le=20)]
RADIUS = Annotated[float, Query(ge=50, le=2000)]
YEAR = Annotated[int | None, Query(ge=2000, le=2100)]


def _plan(request: Request, session: Any, k: int, radius: float, year: int | None) -> tuple[Any, dict[str, Any]]:
    from anju.demo.resident import plan_demo_sites
    from anju.demo.truth import default_end_year

    plan = plan_demo_sites(session, app_state(request).settings, year=year or default_end_year(), k=k,
                           radius_m=radius)
    houses = {h.code: h for h in session.scalars(select(SafeHouse).where(
        SafeHouse.status.in_(["active", "candidate"])))}
    return plan, houses


def _added(plan: Any) -> list[dict[str, Any]]:
    """The chosen sites in the order they enter the plan (p), with the coverage gained at that step."""
    seen: list[str] = []
    out = []
    for row in plan.curve.itertuples():
        for site in row.sites:
            if site not in seen:
                seen.append(site)
                out.append({"site": site, "p": int(row.p), "gain": float(row.gain), "covered": float(row.covered),
                            "share": float(row.share)})
    return [a for a in out if a["site"] in plan.selected]


@router.get("/resident/siting", include_in_schema=False)
def siting_page(request: Request, session: DbSession, viewer: Planner, k: K = 3, radius: RADIUS = 300.0,
                year: YEAR = None, run: int = 0) -> Response:
    from anju.resident.svgmap import svg_map
    from anju.web.routes.resident_public import _community_polygons

    ctx: dict[str, Any] = {"k": k, "radius": radius, "year": year or "", "plan": None, "error": None}
    if run:
        try:
            plan, houses = _plan(request, session, k, radius, year)
        except Exception as exc:  # no lake, no night calls, k too large: a clear message on the page
            from anju.errors import AnjuError

            if not isinstance(exc, AnjuError):
                raise
            ctx["error"] = str(exc)
        else:
            chosen = set(plan.selected)
            pts = [(h.lon, h.lat, f"{h.name}（现有）" if h.status == "active" else h.name,
                    "house" if h.status == "active" else ("chosen" if c in chosen else "candidate"))
                   for c, h in sorted(houses.items())]
            pts += [(float(u.lon), float(u.lat), f"未覆盖热点 {float(u.calls):.0f} 起", "hot")
                    for u in plan.uncovered.itertuples()]
            ctx.update(plan=plan, added=_added(plan), houses=houses, curve=plan.curve.to_dict("records"),
                       uncovered=plan.uncovered.to_dict("records"),
                       # built by us from numbers and escaped labels (anju.resident.svgmap)
                       svg=Markup(svg_map(_community_polygons(request), pts, width=720)))
    return render(request, "resident_siting.html", ctx)


@router.get("/resident/siting.csv", include_in_schema=False)
def siting_csv(request: Request, session: DbSession, viewer: Planner, k: K = 3, radius: RADIUS = 300.0,
               year: YEAR = None) -> Response:
    plan, houses = _plan(request, session, k, radius, year)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["site_id", "name", "address", "lon", "lat", "added_at_p", "gain_calls", "covered_calls",
                "covered_share", "radius_m"])
    for a in _added(plan):
        h = houses.get(a["site"])
        w.writerow([a["site"], h.name if h else "", h.address if h else "", h.lon if h else "", h.lat if h else "",
                    a["p"], f"{a['gain']:.0f}", f"{a['covered']:.0f}", f"{a['share']:.4f}", f"{radius:g}"])
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="safe-house-sites-k{k}.csv"'})
