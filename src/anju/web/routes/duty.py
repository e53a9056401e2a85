"""Duty pages and API: the daily briefing of the stations in scope (with adjustments, audited), the 四率 KPIs and the
registry worklist of the viewer's communities (view and check outcomes audited).

Numbers come from :mod:`anju.duty.service` (the same functions ``anju briefing`` and ``anju kpi`` call); scope comes
from :mod:`anju.ops.scope`, writes go through :mod:`anju.duty.adjust` (scope, reason, audit).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from anju.duty import adjust
from anju.errors import AccessDeniedError, DataNotFoundError
from anju.ops import audit
from anju.ops.scope import visible_area_codes
from anju.web.deps import DbSession, Viewer, ViewerDep, client_ip, require
from anju.web.pages import render

router = APIRouter(tags=["duty"])
Reader = Annotated[Viewer, Depends(require("read_analytics"))]
_KPI_CACHE: dict[tuple[str, str, str], pd.DataFrame] = {}


class AdjustmentIn(BaseModel):
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    station_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    target: str = Field(max_length=128)
    value: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=2000)


class CheckIn(BaseModel):
    household_id: str = Field(max_length=64)
    community_id: str = Field(max_length=64)
    flag: str = Field(max_length=32)
    outcome: str = Field(max_length=16)
    note: str = Field("", max_length=2000)


def _settings(request: Request) -> Any:
    return request.app.state.anju.settings


def _stations(session: Session, viewer: Viewer) -> frozenset[str] | None:
    return visible_area_codes(session, viewer.user, "station")


def _latest_day(request: Request) -> str | None:
    from anju.duty.service import duty_dir

    root = duty_dir(_settings(request)) / "briefings"
    days = sorted(p.name for p in root.iterdir() if (p / "briefing.json").exists()) if root.exists() else []
    return days[-1] if days else None


def briefing_view(request: Request, session: Session, viewer: Viewer, day: str | None) -> dict[str, Any]:
    """The stored briefing cut to the viewer's stations, with the day's adjustments and the plan actually used."""
    from anju.duty.service import read_briefing

    d = day or _latest_day(request)
    if d is None:
        raise DataNotFoundError("no briefing has been built yet; run `anju briefing --date YYYY-MM-DD`.")
    data = read_briefing(_settings(request), d)
    st = _stations(session, viewer)

    def mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return rows if st is None else [r for r in rows if r.get("station_id") in st]

    adj = adjust.day_adjustments(session, d, st)
    plan = pd.DataFrame(mine(data["plan"]))
    if len(plan):
        plan["shift_start"] = pd.to_datetime(plan["shift_start"])
        plan["shift_end"] = pd.to_datetime(plan["shift_end"])
        used = adjust.apply_adjustments(plan, adj)
    else:
        used = plan
    return {
        "day": data["day"], "stations": mine(data["stations"]), "alerts": mine(data["alerts"]),
        "three_highs": {s: v for s, v in data["three_highs"].items() if st is None or s in st},
        "plan_used": json.loads(used.to_json(orient="records", date_format="iso", force_ascii=False)) if len(used)
        else [],
        "adjustments": json.loads(adj.to_json(orient="records", date_format="iso", force_ascii=False)),
    }


@router.get("/duty", include_in_schema=False)
def duty_page(request: Request, session: DbSession, viewer: Reader, day: str | None = None) -> Response:
    try:
        view = briefing_view(request, session, viewer, day)
    except DataNotFoundError as exc:
        view = {"missing": str(exc)}
    return render(request, "duty.html", {"b": view, "can_adjust": viewer.user.role in adjust.ADJUSTERS,
                                         "kinds": ("level", "units", "drop_box", "add_box")})


@router.get("/api/v1/duty/briefing")
def briefing_api(request: Request, session: DbSession, viewer: Reader, day: str | None = None) -> dict[str, Any]:
    """The daily briefing of the stations in the viewer's scope (levels, alerts, 三高, plan actually used)."""
    return briefing_view(request, session, viewer, day)


def _adjust(request: Request, session: Session, viewer: Viewer, body: AdjustmentIn) -> Any:
    a = adjust.add_adjustment(session, viewer.user, day=body.day, station_code=body.station_id, kind=body.kind,
                              target=body.target, value=body.value, reason=body.reason, ip=client_ip(request))
    session.commit()
    return a


@router.post("/api/v1/duty/adjustments", status_code=201)
def adjustment_api(request: Request, session: DbSession, viewer: ViewerDep, body: AdjustmentIn) -> dict[str, Any]:
    """Adjust a station's briefing (level, units, drop or add a hot box) with a reason; audited."""
    a = _adjust(request, session, viewer, body)
    return {"id": a.id, "day": str(a.day), "station_id": a.station_code, "kind": a.kind, "target": a.target}


@router.post("/duty/adjustments", include_in_schema=False)
def adjustment_form(request: Request, session: DbSession, viewer: ViewerDep,
                    day: Annotated[str, Form(max_length=10)], station_id: Annotated[str, Form(max_length=64)],
                    kind: Annotated[str, Form(max_length=16)], target: Annotated[str, Form(max_length=128)],
                    reason: Annotated[str, Form(max_length=2000)], value: Annotated[str, Form(max_length=2000)] = "{}"
                    ) -> Response:
    try:
        val = json.loads(value or "{}")
    except json.JSONDecodeError:
        val = {"note": value}
    _adjust(request, session, viewer, AdjustmentIn(day=day, station_id=station_id, kind=kind, target=target,
                                                   value=val if isinstance(val, dict) else {"value": val},
                                                   reason=reason))
    return RedirectResponse(f"/duty?day={day}", status_code=303)


def kpi_view(request: Request, session: Session, viewer: Viewer, month: str) -> list[dict[str, Any]]:
    """The month's KPIs of the stations in scope (the district row only for district-wide roles)."""
    from anju.duty.kpi import DISTRICT, compute_kpis, load_kpis
    from anju.duty.service import _manifest_digest, duty_dir, kpi_tables, month_bounds

    s = _settings(request)
    stamp = _manifest_digest(s) + "|" + ",".join(sorted(p.name for p in duty_dir(s).glob("*/*.parquet")))
    key = (str(s.data_dir), month, stamp)
    if key not in _KPI_CACHE:
        lo, hi = month_bounds(month)
        adj = adjust.day_adjustments(session, lo, until=hi - pd.Timedelta(days=1))
        from anju.deployment import load_deployment

        _KPI_CACHE[key] = compute_kpis(load_kpis(), kpi_tables(load_deployment(s), month, adj), month, lang=s.lang)
    k = _KPI_CACHE[key]
    st = _stations(session, viewer)
    if st is not None:
        k = k[k["station_id"].isin(st) & (k["station_id"] != DISTRICT)]
    return json.loads(k.to_json(orient="records", force_ascii=False))  # type: ignore[no-any-return]


TREND_MONTHS = 6
"""Months shown in the KPI trend (the chosen month and the five before it)."""


def kpi_trend_view(request: Request, session: Session, viewer: Viewer, month: str
                   ) -> tuple[list[str], list[dict[str, Any]]]:
    """Each KPI of the stations in scope over the :data:`TREND_MONTHS` months up to ``month``.

    Every month's figures come from :func:`kpi_view` (the same computation and cache as the month's table), so a
    value in the trend is the value the month's page shows. Rows carry ``values`` (month → value or None) and
    ``points``, an SVG polyline of the series scaled to a 100 × 24 box (no script needed to draw it).
    """
    months = [str(pd.Period(month, freq="M") - i) for i in range(TREND_MONTHS - 1, -1, -1)]
    series: dict[tuple[str, str], dict[str, Any]] = {}
    for m in months:
        for r in kpi_view(request, session, viewer, m):
            row = series.setdefault((r["station_id"], r["kpi"]), {
                "station_id": r["station_id"], "kpi": r["kpi"], "name": r["name"], "unit": r["unit"], "values": {}})
            row["values"][m] = r["value"]
    for row in series.values():
        known = [(i, v) for i, m in enumerate(months) if (v := row["values"].get(m)) is not None]
        lo = min((v for _, v in known), default=0.0)
        span = (max((v for _, v in known), default=0.0) - lo) or 1.0
        step = 100 / (len(months) - 1)
        row["points"] = " ".join(f"{i * step:.1f},{22 - 20 * (v - lo) / span:.1f}" for i, v in known)
    return months, list(series.values())


@router.get("/duty/kpi", include_in_schema=False)
def kpi_page(request: Request, session: DbSession, viewer: Reader,
             month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")] = "") -> Response:
    m = month or (pd.Timestamp.now() - pd.offsets.MonthBegin(1)).strftime("%Y-%m")
    rows = kpi_view(request, session, viewer, m)
    months, trend = kpi_trend_view(request, session, viewer, m)
    return render(request, "duty_kpi.html", {"month": m, "rows": rows, "months": months, "trend": trend})


@router.get("/duty/kpi.xlsx", include_in_schema=False)
def kpi_xlsx(request: Request, session: DbSession, viewer: Reader,
             month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> Response:
    import io

    rows = pd.DataFrame(kpi_view(request, session, viewer, month))
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        rows.to_excel(xw, sheet_name="四率", index=False)
    return Response(buf.getvalue(),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="kpi-{month}.xlsx"'})


@router.get("/api/v1/duty/kpi")
def kpi_api(request: Request, session: DbSession, viewer: Reader,
            month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> dict[str, Any]:
    """四率 and 见警率 per station for a month (the stations in the viewer's scope)."""
    rows = kpi_view(request, session, viewer, month)
    return {"data": rows, "count": len(rows)}


@router.get("/api/v1/duty/kpi/trend")
def kpi_trend_api(request: Request, session: DbSession, viewer: Reader,
                  month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> dict[str, Any]:
    """Each KPI per station over the six months up to ``month`` (the stations in the viewer's scope)."""
    months, trend = kpi_trend_view(request, session, viewer, month)
    return {"months": months, "data": [{k: v for k, v in r.items() if k != "points"} for r in trend],
            "count": len(trend)}


def registry_view(request: Request, session: Session, viewer: Viewer, as_of: str) -> list[dict[str, Any]]:
    """The registry worklist of the viewer's communities; every view is audited."""
    from anju.duty.service import registry_worklist

    if viewer.user.role not in adjust.CHECKERS:
        raise AccessDeniedError("the registry worklist is for community police, stations and admins")
    w = registry_worklist(_settings(request), as_of)
    if viewer.communities is not None:
        w = w[w["community_id"].isin(viewer.communities)]
    from anju.duty.persons import with_masked_names

    w = with_masked_names(session, w)  # masked only: the clear values are one audited request per household
    audit.record(session, actor=viewer.user, action="registry.view", target_type="registry_worklist",
                 target_id=as_of, detail={"rows": len(w)}, ip=client_ip(request))
    session.commit()
    cols = ["household_id", "address_code", "community_id", "flag", "label", "evidence", "registered",
            "name_masked", "id_masked"]
    return json.loads(w[cols].to_json(orient="records", force_ascii=False))  # type: ignore[no-any-return]


@router.get("/duty/registry", include_in_schema=False)
def registry_page(request: Request, session: DbSession, viewer: ViewerDep,
                  as_of: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = "") -> Response:
    d = as_of or pd.Timestamp.now().strftime("%Y-%m-%d")
    return render(request, "duty_registry.html", {"as_of": d, "rows": registry_view(request, session, viewer, d),
                                                  "outcomes": ("confirmed", "corrected", "false_alarm",
                                                               "unreachable")})


@router.post("/duty/registry/person", include_in_schema=False)
def person_page(request: Request, session: DbSession, viewer: ViewerDep,
                household_id: Annotated[str, Form(max_length=64)],
                as_of: Annotated[str, Form(max_length=10)] = "") -> Response:
    """The clear names and ID numbers of one household, for a registry checker of its community (audited)."""
    from anju.duty.persons import reveal_persons

    persons = reveal_persons(session, viewer.user, household_id, ip=client_ip(request))
    session.commit()
    resp = render(request, "duty_person.html", {"household_id": household_id, "persons": persons, "as_of": as_of})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@router.get("/api/v1/duty/registry")
def registry_api(request: Request, session: DbSession, viewer: ViewerDep,
                 as_of: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")]) -> dict[str, Any]:
    """Registry worklist (stale, zombie, undeclared occupancy, suspected group rental) of the viewer's communities."""
    rows = registry_view(request, session, viewer, as_of)
    return {"data": rows, "count": len(rows)}


@router.post("/api/v1/duty/registry/checks", status_code=201)
def check_api(request: Request, session: DbSession, viewer: ViewerDep, body: CheckIn) -> dict[str, Any]:
    """Record the outcome of a registry check (audited)."""
    c = adjust.record_check(session, viewer.user, household_id=body.household_id, community_code=body.community_id,
                            flag=body.flag, outcome=body.outcome, note=body.note, ip=client_ip(request))
    session.commit()
    return {"id": c.id, "household_id": c.household_id, "outcome": c.outcome}


@router.post("/duty/registry/checks", include_in_schema=False)
def check_form(request: Request, session: DbSession, viewer: ViewerDep,
               household_id: Annotated[str, Form(max_length=64)], community_id: Annotated[str, Form(max_length=64)],
               flag: Annotated[str, Form(max_length=32)], outcome: Annotated[str, Form(max_length=16)],
               as_of: Annotated[str, Form(max_length=10)], note: Annotated[str, Form(max_length=2000)] = ""
               ) -> Response:
    adjust.record_check(session, viewer.user, household_id=household_id, community_code=community_id, flag=flag,
                        outcome=outcome, note=note, ip=client_ip(request))
    session.commit()
    return RedirectResponse(f"/duty/registry?as_of={as_of}", status_code=303)
