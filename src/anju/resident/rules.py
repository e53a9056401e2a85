"""Resident-service configuration: report kinds, matters, departments, routes, time limits, mediation, anti-abuse.

The rules are data (``anju/resident/data/resident.toml``, overridable per deployment with
``<data_dir>/resident/resident.toml``), validated with pydantic; a broken file is refused with a message naming the
file, the key and what was expected. Cross-references (a route naming an unknown department, a matter without a
route…) are checked here too, so a deployment finds its mistakes at load time, not when a resident reports.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from anju.config import read_toml, validate_config
from anju.errors import ConfigError

__all__ = [
    "AbuseRules",
    "Department",
    "Kind",
    "Matter",
    "MediationRules",
    "ResidentRules",
    "Route",
    "load_resident_rules",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(_Strict):
    """What the resident chooses on the public page (an Open311 service)."""

    code: str
    zh: str
    en: str
    urgent: bool = False
    matter: str = ""  # fixed matter, or "" when the text classifier decides


class Matter(_Strict):
    """A routing category the classifier predicts."""

    code: str
    zh: str
    en: str
    sla: str


class Department(_Strict):
    """A body that receives work orders."""

    code: str
    zh: str
    en: str
    kind: Literal["police", "department", "mediation", "dispatcher"]
    org: str = ""  # organisation code of its queue; "" for police = the community's station


class Route(_Strict):
    """matter × area → department (first match wins)."""

    matter: str
    area: str = "*"
    department: str


class Sla(_Strict):
    working_days: int = Field(ge=0, le=60)


class Escalation(_Strict):
    notice_after_working_days: int = Field(1, ge=0)
    report_after_working_days: int = Field(5, ge=0)


class Routing(_Strict):
    threshold: float = Field(0.6, ge=0, le=1)
    dispatcher: str


class MediationRules(_Strict):
    department: str
    weekdays: list[int] = Field(min_length=1)
    outcomes: list[str] = Field(min_length=1)


class AbuseRules(_Strict):
    max_text_chars: int = Field(2000, ge=10)
    per_plate_per_hour: int = Field(6, ge=1)
    per_client_per_minute: int = Field(5, ge=1)
    duplicate_hours: float = Field(24, gt=0)
    duplicate_similarity: float = Field(0.6, gt=0, le=1)
    photo_max_bytes: int = Field(5_000_000, ge=1000)
    photo_max_side: int = Field(1600, ge=64)


class ResidentRules(_Strict):
    """The validated resident-service rules of a deployment."""

    meta: dict[str, object] = {}
    routing: Routing
    kind: list[Kind] = Field(min_length=1)
    matter: list[Matter] = Field(min_length=1)
    sla: dict[str, Sla]
    escalation: Escalation
    department: list[Department] = Field(min_length=1)
    route: list[Route] = Field(min_length=1)
    mediation: MediationRules
    abuse: AbuseRules

    def kinds(self) -> dict[str, Kind]:
        return {k.code: k for k in self.kind}

    def matters(self) -> dict[str, Matter]:
        return {m.code: m for m in self.matter}

    def departments(self) -> dict[str, Department]:
        return {d.code: d for d in self.department}

    def sla_days(self, matter: str) -> int:
        """Working days allowed for a matter (0 = the same day)."""
        return self.sla[self.matters()[matter].sla].working_days

    def route_for(self, matter: str, area_code: str) -> str:
        """The department code for a matter in an area: the first route whose area is ``*`` or a prefix of
        ``area_code``; the dispatcher when no route matches."""
        for r in self.route:
            if r.matter == matter and (r.area == "*" or area_code.startswith(r.area)):
                return r.department
        return self.routing.dispatcher


def _check_refs(rules: ResidentRules, path: object) -> None:
    depts, matters = rules.departments(), rules.matters()
    for name, items in (("kind", rules.kind), ("matter", rules.matter), ("department", rules.department)):
        codes = [i.code for i in items]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise ConfigError(f"codes must be unique; {sorted(dup)} appear more than once", path=path, key=name)
    if rules.routing.dispatcher not in depts or depts[rules.routing.dispatcher].kind != "dispatcher":
        raise ConfigError(f"must name a department of kind 'dispatcher'; got {rules.routing.dispatcher!r}",
                          path=path, key="routing.dispatcher")
    for i, k in enumerate(rules.kind):
        if k.matter and k.matter not in matters:
            raise ConfigError(f"unknown matter {k.matter!r}; expected one of {sorted(matters)}", path=path,
                              key=f"kind.{i}.matter")
    for i, m in enumerate(rules.matter):
        if m.sla not in rules.sla:
            raise ConfigError(f"unknown time-limit class {m.sla!r}; expected one of {sorted(rules.sla)}",
                              path=path, key=f"matter.{i}.sla")
    for i, r in enumerate(rules.route):
        if r.matter not in matters:
            raise ConfigError(f"unknown matter {r.matter!r}; expected one of {sorted(matters)}", path=path,
                              key=f"route.{i}.matter")
        if r.department not in depts:
            raise ConfigError(f"unknown department {r.department!r}; expected one of {sorted(depts)}", path=path,
                              key=f"route.{i}.department")
    unrouted = sorted(set(matters) - {r.matter for r in rules.route})
    if unrouted:
        raise ConfigError(f"matters {unrouted} have no route; add a [[route]] with area = \"*\" for each",
                          path=path, key="route")
    if rules.mediation.department not in depts:
        raise ConfigError(f"unknown department {rules.mediation.department!r}", path=path,
                          key="mediation.department")
    bad = [d for d in rules.mediation.weekdays if not 1 <= d <= 7]
    if bad:
        raise ConfigError(f"weekdays are ISO numbers 1 (Monday) … 7 (Sunday); got {bad}", path=path,
                          key="mediation.weekdays")


def load_resident_rules(data_dir: str | Path | None = None, *, path: str | Path | None = None) -> ResidentRules:
    """``path``, else ``<data_dir>/resident/resident.toml`` if present, else the shipped rules."""
    p: Path
    if path is not None:
        p = Path(path)
    elif data_dir is not None and (Path(data_dir) / "resident" / "resident.toml").exists():
        p = Path(data_dir) / "resident" / "resident.toml"
    else:
        p = Path(str(resources.files("anju.resident") / "data" / "resident.toml"))
    if not p.exists():
        raise ConfigError("file not found", path=p)
    rules = validate_config(ResidentRules, read_toml(p), path=p)
    _check_refs(rules, p)
    return rules
