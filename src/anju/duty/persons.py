"""Registered persons of the registry households (实有人口) in the ops database: stored at import, masked in lists,
shown in clear to the registry checkers one household at a time, every clear view audited.

Names and ID numbers come with the registry households file (optional columns ``name``/``姓名``/``户主姓名`` and
``id_number``/``身份证号``/``公民身份号码``). :func:`anju.duty.imports.import_file` takes them out of the rows it keeps
(the duty store under ``<data_dir>/duty`` holds counts only, like the lake and releases), and :func:`store_persons`
writes them here with their masked forms, computed once with the project's masking rules
(:func:`anju.ingest.pii.mask_name` 王** / 欧阳*; :func:`anju.text.mask.mask_one` for the ID, 4301**********118X).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from anju.duty.adjust import CHECKERS
from anju.errors import AccessDeniedError
from anju.ops.audit import record
from anju.ops.models import ResidentPerson, User
from anju.ops.scope import allowed_community_codes

__all__ = ["PERSON_COLUMNS", "mask_persons", "masked_persons", "reveal_persons", "store_persons", "with_masked_names"]

PERSON_COLUMNS = {"name": ("name", "姓名", "户主姓名"), "id_number": ("id_number", "身份证号", "公民身份号码")}
"""Optional columns of the households file holding personal data (never written to the duty store)."""


def mask_persons(names: list[str], ids: list[str]) -> tuple[list[str], list[str]]:
    """Masked forms of names and ID numbers (the same rules as ingest's and the text masker's)."""
    from anju.ingest.pii import name_forms
    from anju.text.mask import mask_pii

    _, masked = name_forms(pa.array(names, pa.string()))
    return [m or "" for m in masked.to_pylist()], mask_pii(ids)


def store_persons(session: Session, persons: pd.DataFrame, *, actor: User | None = None) -> int:
    """Replace the persons of the households in ``persons`` (household_id, community_id, name, id_number);
    returns how many rows were stored. Audited as one ``registry.persons_import`` event (counts only)."""
    p = persons.dropna(subset=["household_id"]).copy()
    p["name"] = p["name"].fillna("").astype(str).str.strip()
    p["id_number"] = p["id_number"].fillna("").astype(str).str.strip().str.upper()
    p = p[(p["name"] != "") | (p["id_number"] != "")]
    hids = sorted(set(p["household_id"].astype(str)))
    for i in range(0, len(hids), 500):
        session.execute(delete(ResidentPerson).where(ResidentPerson.household_id.in_(hids[i:i + 500])))
    names, ids = mask_persons(p["name"].tolist(), p["id_number"].tolist())
    session.add_all([ResidentPerson(household_id=str(h), community_code=str(c), name=n, id_number=i,
                                    name_masked=mn, id_masked=mi)
                     for h, c, n, i, mn, mi in zip(p["household_id"], p["community_id"], p["name"], p["id_number"],
                                                   names, ids, strict=True)])
    record(session, actor=actor, action="registry.persons_import", target_type="resident_person",
           detail={"households": len(hids), "persons": len(p)})
    session.flush()
    return len(p)


def masked_persons(session: Session, household_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """``household_id → [(masked name, masked ID), …]`` for a worklist (no clear values leave the database)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for i in range(0, len(household_ids), 500):
        rows = session.execute(select(ResidentPerson.household_id, ResidentPerson.name_masked,
                                      ResidentPerson.id_masked)
                               .where(ResidentPerson.household_id.in_(household_ids[i:i + 500]))
                               .order_by(ResidentPerson.id)).all()
        for h, n, d in rows:
            out.setdefault(h, []).append((n, d))
    return out


def reveal_persons(session: Session, user: User, household_id: str, *, ip: str | None = None
                   ) -> list[tuple[str, str]]:
    """The clear names and ID numbers of one household, for a registry checker of its community (audited).

    Community police, station and admin accounts only, and only for households of communities in their scope; a
    household outside the scope and an unknown one give the same error.
    """
    if user.role not in CHECKERS:
        raise AccessDeniedError("only community police, station and admin accounts see residents' names in clear")
    rows = session.scalars(select(ResidentPerson).where(ResidentPerson.household_id == household_id)
                           .order_by(ResidentPerson.id)).all()
    allowed = allowed_community_codes(session, user)
    if not rows or (allowed is not None and rows[0].community_code not in allowed):
        raise AccessDeniedError(f"household {household_id} does not exist or is outside your data scope")
    record(session, actor=user, action="registry.view_person", target_type="household", target_id=household_id,
           detail={"persons": len(rows), "community": rows[0].community_code}, ip=ip)
    return [(r.name, r.id_number) for r in rows]


def with_masked_names(session: Session | None, worklist: pd.DataFrame) -> pd.DataFrame:
    """The worklist with ``name_masked`` and ``id_masked`` columns (several persons joined with 、; empty when the
    ops database holds none, or ``session`` is None)."""
    w = worklist.copy()
    found = masked_persons(session, sorted(set(w["household_id"].astype(str)))) if session is not None else {}
    w["name_masked"] = [("、".join(n for n, _ in found.get(h, []))) for h in w["household_id"].astype(str)]
    w["id_masked"] = [("、".join(d for _, d in found.get(h, []))) for h in w["household_id"].astype(str)]
    return w
