"""One router per resource; :data:`ROUTERS` is the order ``create_app`` includes them in."""

from __future__ import annotations

from fastapi import APIRouter

from anju.web.routes import (
    assessment,
    assessment_inputs,
    audit_log,
    auth,
    communities,
    duty,
    health,
    imports,
    jobs,
    notices,
    overview,
    rankings,
    record_imports,
    releases,
    resident_orders,
    resident_public,
    resident_siting,
    supervision,
    tasks,
    users,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    m.router for m in (health, auth, overview, rankings, communities, releases, imports, jobs, notices, tasks,
                       users, audit_log, supervision, assessment, duty,
                       resident_public, resident_orders, record_imports, assessment_inputs,
                       resident_siting)
)
