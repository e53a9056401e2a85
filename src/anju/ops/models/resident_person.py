"""Registered persons of a household (实有人口): name and resident-ID number, for community police checks.

Only here, in the ops database: never in the lake, a release or the duty store. Lists show the masked forms
(``name_masked``, ``id_masked``, computed at import with the project's one masking rules); the clear values are
shown only to the roles that check the registry, one household at a time, and every such view is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from anju.ops.models.base import Base, UTCDateTime, utcnow

__all__ = ["ResidentPerson"]


class ResidentPerson(Base):
    """One registered person of one household (replaced as a whole when the household is re-imported)."""

    __tablename__ = "resident_person"
    __table_args__ = (Index("ix_resident_person_household", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64))
    community_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(32))
    name_masked: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
