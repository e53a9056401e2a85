"""Excel imports of operational records (organisations, communities, profiles, users), every row accounted.

Each data row of the sheet ends up in exactly one bucket: ``created`` (a new record), ``updated`` (an existing record
whose values changed), ``unchanged`` (already there exactly so: importing the same file twice changes nothing) or
``rejected`` (with its sheet row number and the reason). A file that cannot be read, or lacks a required column, is
refused as a whole and writes nothing. Headers may be English field names or the Chinese labels in :data:`COLUMNS`.

Profiles are append-only: a profile row identical to a stored one (same community, date and facts) is unchanged,
anything else is appended as a new dated row.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import OpsError
from anju.ops import audit
from anju.ops.db import begin_write
from anju.ops.models import (
    ORG_KINDS,
    PROFILE_FIELDS,
    SCOPE_LEVELS,
    Community,
    CommunityGrid,
    CommunityProfile,
    Organisation,
    User,
    UserScope,
)
from anju.ops.passwords import check_password_rule, hash_password
from anju.ops.records import check_profile_facts
from anju.ops.roles import Role

__all__ = ["COLUMNS", "IMPORT_KINDS", "ImportReport", "import_records"]

COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "organisations": {"code": ("编码", "单位编码"), "name": ("名称", "单位名称"), "kind": ("类型", "单位类型"),
                      "parent_code": ("上级编码",), "area_level": ("区域层级",), "area_code": ("区域编码",)},
    "communities": {"code": ("小区编码", "社区编码"), "name": ("小区名称", "社区名称"), "street_code": ("街镇编码",),
                    "station_code": ("派出所编码",), "police_district_code": ("警务区编码",),
                    "grid_codes": ("网格编码",), "property_company_code": ("物业公司编码",), "address": ("地址",)},
    "profiles": {"community_code": ("小区编码", "社区编码"), "effective_date": ("生效日期", "日期"),
                 "households": ("户数",), "residents": ("人口", "人口数"), "floating_share": ("流动人口占比",),
                 "rental_rate": ("出租率",), "fee_collection_rate": ("物业费收缴率",), "guards": ("保安数", "保安"),
                 "cameras": ("探头数", "探头"), "cameras_faulty": ("故障探头数", "故障探头"),
                 "has_owners_committee": ("业委会",), "note": ("备注",)},
    "users": {"username": ("用户名", "账号"), "display_name": ("姓名",), "role": ("角色",),
              "organisation_code": ("单位编码",), "scopes": ("数据范围",), "password": ("初始密码",)},
}
"""Accepted headers per kind: the English field name or any of its Chinese labels."""

REQUIRED = {"organisations": ("code", "name", "kind"), "communities": ("code", "name"),
            "profiles": ("community_code", "effective_date"), "users": ("username", "display_name", "role")}
IMPORT_KINDS = tuple(COLUMNS)

ORG_KIND_ZH = {"分局": "bureau", "公安分局": "bureau", "派出所": "station", "警务区": "police_district",
               "街镇": "street_office", "街道": "street_office", "镇": "street_office",
               "居委会": "neighbourhood_committee", "村委会": "neighbourhood_committee",
               "物业公司": "property_company", "物业": "property_company", "职能部门": "department"}
_TRUE = {"1", "true", "yes", "y", "是", "有", "√"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×"}


class _Reject(Exception):
    """A row-level problem: the row is rejected with this reason."""


@dataclass
class ImportReport:
    """Every data row of the sheet, accounted: created + updated + unchanged + rejected == rows."""

    kind: str
    file: str
    sha256: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)
    """Every row as (sheet row, key such as the code or user name, outcome or the rejection reason)."""
    new_passwords: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def accounted(self) -> bool:
        """Whether every row is in exactly one bucket."""
        return self.created + self.updated + self.unchanged + len(self.rejected) == self.rows

    def summary(self) -> dict[str, Any]:
        """The counts and rejections (no passwords) as a JSON-able dict."""
        return {"kind": self.kind, "file": self.file, "sha256": self.sha256, "rows": self.rows,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": [{"row": r, "reason": m} for r, m in self.rejected]}


def _cell(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    s = str(v).strip()
    return s or None


def _read_sheet(path: Path, kind: str, sheet: str | int | None) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]]]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise OpsError(f"{path.name}: not a readable Excel workbook ({exc}); save it as .xlsx and retry") from exc
    try:
        ws = wb.get_sheet_by_name(sheet) if isinstance(sheet, str) else wb.get_sheet_by_index(sheet or 0)
    except Exception as exc:
        raise OpsError(f"{path.name}: sheet {sheet!r} not found; sheets: {wb.sheet_names}") from exc
    rows = ws.to_python(skip_empty_area=False)
    if not rows:
        raise OpsError(f"{path.name}: the sheet is empty")
    aliases = {alias: name for name, labels in COLUMNS[kind].items() for alias in (name, *labels)}
    header = [aliases.get((_cell(h) or "").strip(), "") for h in rows[0]]
    missing = [c for c in REQUIRED[kind] if c not in header]
    if missing:
        raise OpsError(f"{path.name}: required column(s) {missing} missing for a {kind} import; expected headers "
                       f"like {[COLUMNS[kind][c][0] for c in missing]} (or {missing})")

    def gen() -> Iterator[tuple[int, dict[str, str | None]]]:
        for i, r in enumerate(rows[1:], start=2):
            rec = {h: _cell(v) for h, v in zip(header, r, strict=False) if h}
            if any(v is not None for v in rec.values()):
                yield i, rec

    return header, gen()


def _req(rec: dict[str, str | None], key: str) -> str:
    v = rec.get(key)
    if not v:
        raise _Reject(f"{key} is empty")
    return v


def _date(v: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(v.replace("/", "-").split(" ")[0])
    except ValueError:
        raise _Reject(f"effective_date {v!r} is not a date (YYYY-MM-DD)") from None


def _number(key: str, v: str | None) -> float | None:
    if v is None:
        return None
    s = v.strip().rstrip("%")
    try:
        x = float(s)
    except ValueError:
        raise _Reject(f"{key} {v!r} is not a number") from None
    return x / 100 if v.strip().endswith("%") else x


def _bool(key: str, v: str | None) -> bool | None:
    if v is None:
        return None
    s = v.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise _Reject(f"{key} {v!r} is not yes/no (是/否)")


def _org_by_code(session: Session, code: str | None, what: str) -> Organisation | None:
    if not code:
        return None
    o = session.scalars(select(Organisation).where(Organisation.code == code)).first()
    if o is None:
        raise _Reject(f"{what} {code!r} does not exist (import organisations first)")
    return o


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return changed


def _organisation(session: Session, rec: dict[str, str | None], rep: ImportReport) -> str:
    code, name = _req(rec, "code"), _req(rec, "name")
    kind_raw = _req(rec, "kind")
    kind = ORG_KIND_ZH.get(kind_raw, kind_raw)
    if kind not in ORG_KINDS:
        raise _Reject(f"kind {kind_raw!r} unknown; expected one of {list(ORG_KINDS)} or {list(ORG_KIND_ZH)}")
    parent = _org_by_code(session, rec.get("parent_code"), "parent_code")
    level = rec.get("area_level")
    if level is not None and level not in SCOPE_LEVELS:
        raise _Reject(f"area_level {level!r} unknown; expected one of {list(SCOPE_LEVELS)}")
    values = {"name": name, "kind": kind, "parent_id": parent.id if parent else None, "area_level": level,
              "area_code": rec.get("area_code")}
    o = session.scalars(select(Organisation).where(Organisation.code == code)).first()
    if o is None:
        session.add(Organisation(code=code, **values))
        return "created"
    return "updated" if _apply(o, values) else "unchanged"


def _community(session: Session, rec: dict[str, str | None], rep: ImportReport) -> str:
    code, name = _req(rec, "code"), _req(rec, "name")
    pm = _org_by_code(session, rec.get("property_company_code"), "property_company_code")
    if pm is not None and pm.kind != "property_company":
        raise _Reject(f"property_company_code {pm.code!r} is a {pm.kind}, not a property company")
    grids = sorted({g for g in re.split(r"[,，、;；\s]+", rec.get("grid_codes") or "") if g})
    values = {"name": name, "street_code": rec.get("street_code"), "station_code": rec.get("station_code"),
              "police_district_code": rec.get("police_district_code"), "address": rec.get("address"),
              "property_company_id": pm.id if pm else None}
    c = session.scalars(select(Community).where(Community.code == code)).first()
    taken = session.scalars(select(CommunityGrid).where(CommunityGrid.grid_code.in_(grids))).all() if grids else []
    for g in taken:
        if c is None or g.community_id != c.id:
            raise _Reject(f"grid {g.grid_code!r} already belongs to another community")
    if c is None:
        c = Community(code=code, **values)
        c.grids = [CommunityGrid(grid_code=g) for g in grids]
        session.add(c)
        return "created"
    changed = _apply(c, values)
    if grids and sorted(c.grid_codes) != grids:
        have = {g.grid_code: g for g in c.grids}
        for code_, row in have.items():
            if code_ not in grids:
                c.grids.remove(row)
        c.grids.extend(CommunityGrid(grid_code=g) for g in grids if g not in have)
        changed = True
    return "updated" if changed else "unchanged"


def _profile(session: Session, rec: dict[str, str | None], rep: ImportReport) -> str:
    code = _req(rec, "community_code")
    c = session.scalars(select(Community).where(Community.code == code)).first()
    if c is None:
        raise _Reject(f"community_code {code!r} does not exist (import communities first)")
    eff = _date(_req(rec, "effective_date"))
    raw: dict[str, Any] = {}
    for f in PROFILE_FIELDS:
        if f in rec:
            raw[f] = _bool(f, rec[f]) if f == "has_owners_committee" else _number(f, rec[f])
    try:
        facts = check_profile_facts(raw)
    except OpsError as exc:
        raise _Reject(str(exc)) from None
    note = rec.get("note")
    same = session.scalars(select(CommunityProfile).where(CommunityProfile.community_id == c.id,
                                                          CommunityProfile.effective_date == eff)).all()
    full = {f: facts.get(f) for f in PROFILE_FIELDS}
    if any(p.facts() == full and p.note == note for p in same):
        return "unchanged"
    session.add(CommunityProfile(community_id=c.id, effective_date=eff, note=note, source=f"import:{rep.file}",
                                 **full))
    return "created"


def _scopes(text: str | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for part in re.split(r"[;；,，\s]+", text or ""):
        if not part:
            continue
        level, sep, code = part.partition(":")
        if not sep or level not in SCOPE_LEVELS or not code:
            raise _Reject(f"scope {part!r} must be level:code with level one of {list(SCOPE_LEVELS)}")
        out.append((level, code))
    return sorted(set(out))


def _user(session: Session, rec: dict[str, str | None], rep: ImportReport) -> str:
    username, display = _req(rec, "username"), _req(rec, "display_name")
    role = _req(rec, "role")
    if role not in {r.value for r in Role} - {Role.PUBLIC.value}:
        raise _Reject(f"role {role!r} unknown; expected one of {[r.value for r in Role if r is not Role.PUBLIC]}")
    org = _org_by_code(session, rec.get("organisation_code"), "organisation_code")
    scopes = _scopes(rec.get("scopes"))
    u = session.scalars(select(User).where(User.username == username)).first()
    values = {"display_name": display, "role": role, "organisation_id": org.id if org else None}
    if u is None:
        password = rec.get("password") or secrets.token_urlsafe(12)
        try:
            check_password_rule(password, username=username)
        except OpsError as exc:
            raise _Reject(str(exc)) from None
        u = User(username=username, password_hash=hash_password(password), **values)
        u.scopes = [UserScope(area_level=lv, area_code=cd) for lv, cd in scopes]
        session.add(u)
        if not rec.get("password"):
            rep.new_passwords[username] = password
        return "created"
    changed = _apply(u, values)
    have = {(s.area_level, s.area_code): s for s in u.scopes}
    if set(have) != set(scopes):  # change only the difference (unique rows: no delete-then-insert of the same)
        for key, row in have.items():
            if key not in scopes:
                u.scopes.remove(row)
        u.scopes.extend(UserScope(area_level=lv, area_code=cd) for lv, cd in scopes if (lv, cd) not in have)
        changed = True
    return "updated" if changed else "unchanged"


_KEY = {"organisations": "code", "communities": "code", "profiles": None, "users": "username"}
_HANDLERS: dict[str, Callable[[Session, dict[str, str | None], ImportReport], str]] = {
    "organisations": _organisation, "communities": _community, "profiles": _profile, "users": _user}


def _row_key(kind: str, rec: dict[str, str | None]) -> str:
    if kind == "profiles":
        return f"{rec.get('community_code') or ''} {rec.get('effective_date') or ''}".strip()
    return rec.get(_KEY[kind] or "") or ""


def import_records(session: Session, path: str | Path, kind: str, *, actor: User | None = None,
                   sheet: str | int | None = None, ip: str | None = None) -> ImportReport:
    """Import one sheet of ``kind`` records (see :data:`IMPORT_KINDS`); the caller commits.

    Rows are processed in order, each in its own savepoint, so a rejected row leaves no trace and earlier rows can
    be referred to by later ones (a parent organisation above its children). All rows are in one transaction, so a
    rollback (or a crash) before the caller's commit leaves nothing. The import is audited.
    """
    if kind not in _HANDLERS:
        raise OpsError(f"unknown import kind {kind!r}; expected one of {list(IMPORT_KINDS)}")
    p = Path(path)
    if not p.is_file():
        raise OpsError(f"{p}: no such file")
    rep = ImportReport(kind=kind, file=p.name, sha256=hashlib.sha256(p.read_bytes()).hexdigest())
    _header, rows = _read_sheet(p, kind, sheet)
    seen: dict[str, int] = {}
    handler, key = _HANDLERS[kind], _KEY[kind]
    begin_write(session)  # the rows' savepoints nest in one transaction: the caller's commit or rollback is whole
    for row_no, rec in rows:
        rep.rows += 1
        try:
            if key is not None:
                k = rec.get(key)
                if k and k in seen:
                    raise _Reject(f"duplicate {key} {k!r} (first on row {seen[k]})")
                if k:
                    seen[k] = row_no
            with session.begin_nested():
                outcome = handler(session, rec, rep)
                session.flush()
        except _Reject as exc:
            rep.rejected.append((row_no, str(exc)))
            rep.outcomes.append((row_no, _row_key(kind, rec), f"rejected: {exc}"))
            continue
        except Exception as exc:  # a database-level refusal: the savepoint rolled the row back
            reason = f"database refused the row: {type(exc).__name__}: {exc}"[:300]
            rep.rejected.append((row_no, reason))
            rep.outcomes.append((row_no, _row_key(kind, rec), f"rejected: {reason}"))
            continue
        setattr(rep, outcome, getattr(rep, outcome) + 1)
        rep.outcomes.append((row_no, _row_key(kind, rec), outcome))
    if not rep.accounted:  # pragma: no cover - guards the bookkeeping itself
        raise OpsError(f"import bookkeeping error: {rep.summary()}")
    audit.record(session, actor=actor, action=f"import.{kind}", target_type="import", target_id=rep.sha256[:16],
                 detail={k: v for k, v in rep.summary().items() if k != "rejected"}
                 | {"rejected": len(rep.rejected)}, ip=ip)
    return rep
