"""Releases: the archive of built releases, their files (HTML, PDF, XLSX, JSON), and building a new one as a job.

A release's ``index.html`` inlines its own scripts; it is served in a CSP *sandbox* (an opaque origin), so those
scripts run but can read nothing of the platform (no cookies, no DOM, no API calls with the session)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from anju.errors import AnjuError, DataNotFoundError
from anju.ops import audit
from anju.web.deps import DbSession, Viewer, app_state, client_ip, require
from anju.web.pages import render
from anju.web.routes.jobs import queue_job
from anju.web.schemas import JobOut, ReleaseOut

router = APIRouter(tags=["releases"])
Reader = Annotated[Viewer, Depends(require("read_releases"))]
Builder = Annotated[Viewer, Depends(require("build_releases"))]

FILES = {"index.html": "text/html; charset=utf-8", "report.pdf": "application/pdf",
         "tables.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "release.json": "application/json"}
_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-]{0,63}$")
_PERIOD = re.compile(r"^(latest|\d{4}(H[12]|Q[1-4]|-\d{2})?)$")
SANDBOX_CSP = ("sandbox allow-scripts allow-popups; default-src 'none'; script-src 'unsafe-inline'; "
               "style-src 'unsafe-inline'; img-src data: blob:; font-src data:")


def list_releases(root: Path) -> list[ReleaseOut]:
    """Folders under ``<data_dir>/releases`` that hold at least one release file, newest first."""
    out: list[ReleaseOut] = []
    if not root.is_dir():
        return out
    for d in root.iterdir():
        if not d.is_dir() or not _NAME.match(d.name):
            continue
        files = [f for f in FILES if (d / f).is_file()]
        if files:
            mtime = max((d / f).stat().st_mtime for f in files)
            out.append(ReleaseOut(name=d.name, period=d.name.split("-")[0], files=files,
                                  modified=dt.datetime.fromtimestamp(mtime, dt.UTC)))
    return sorted(out, key=lambda r: r.modified, reverse=True)


@router.get("/releases", include_in_schema=False)
def releases_page(request: Request, viewer: Reader) -> Response:
    rels = list_releases(app_state(request).settings.paths.releases)
    return render(request, "releases.html", {"releases": rels, "can_build": viewer.can("build_releases")})


@router.get("/api/v1/releases")
def releases_api(request: Request, viewer: Reader) -> dict[str, object]:
    """The archive of built releases."""
    rels = list_releases(app_state(request).settings.paths.releases)
    return {"data": [r.model_dump(mode="json") for r in rels], "count": len(rels)}


@router.get("/releases/{name}/{filename}")
def release_file(request: Request, session: DbSession, viewer: Reader, name: str, filename: str) -> Response:
    """One file of a release; only the four release files of a listed folder can be read (no path tricks)."""
    if not _NAME.match(name) or filename not in FILES:
        raise DataNotFoundError(f"no release file {name}/{filename}")
    root = app_state(request).settings.paths.releases.resolve()
    path = (root / name / filename).resolve()
    if path.parent.parent != root or not path.is_file():
        raise DataNotFoundError(f"no release file {name}/{filename}")
    if filename != "index.html":
        audit.record(session, actor=viewer.user, action="release.export", target_type="release", target_id=name,
                     detail={"file": filename}, ip=client_ip(request))
        session.commit()
    headers = {"Content-Security-Policy": SANDBOX_CSP} if filename == "index.html" else {}
    disp = "inline" if filename in ("index.html", "report.pdf", "release.json") else "attachment"
    headers["Content-Disposition"] = f'{disp}; filename="{filename}"'
    return FileResponse(path, media_type=FILES[filename], headers=headers)


def _release_params(period: str, lang: str, formats: str | None = None) -> dict[str, Any]:
    period = period.strip() or "latest"
    if not _PERIOD.match(period):
        raise AnjuError(f"period {period!r} is not understood; use latest, 2025H2, 2025Q3 or 2025-07")
    if lang not in ("zh", "en"):
        raise AnjuError(f"language must be zh or en; got {lang!r}")
    params: dict[str, Any] = {"period": period, "lang": lang}
    if formats:
        from anju.release.renderers import check_formats

        params["formats"] = check_formats([f.strip() for f in formats.split(",") if f.strip()])
    return params


@router.post("/releases", include_in_schema=False)
def build_release_form(request: Request, session: DbSession, viewer: Builder,
                       period: Annotated[str, Form(max_length=16)] = "latest",
                       lang: Annotated[str, Form(max_length=2)] = "zh") -> Response:
    job = queue_job(request, session, viewer, "release", _release_params(period, lang))
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/api/v1/releases", response_model=JobOut, status_code=202)
def build_release_api(request: Request, session: DbSession, viewer: Builder, period: str = "latest",
                      lang: str = "zh", formats: str | None = None) -> JobOut:
    """Queue a release build (a background job; poll ``/api/v1/jobs/{id}``); ``formats`` e.g. ``json,html``."""
    params = _release_params(period, lang, formats)
    return JobOut.model_validate(queue_job(request, session, viewer, "release", params))
