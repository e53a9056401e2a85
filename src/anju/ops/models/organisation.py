"""Organisations: the bureau, its stations and police districts, street offices, 居委会, property companies and
functional departments, as a tree (``parent``), each optionally tied to an area (level + code of an area layer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow

__all__ = ["ORG_KINDS", "Organisation"]

ORG_KINDS = ("bureau", "station", "police_district", "street_office", "neighbourhood_committee",
             "property_company", "department")
"""The kinds of organisation (分局, 派出所, 警务区, 街镇, 居委会, 物业公司, 职能部门)."""

_KIND_SQL = ", ".join(f"'{k}'" for k in ORG_KINDS)


class Organisation(Base):
    """One organisation; ``code`` is its stable key (imports match on it)."""

    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint(f"kind IN ({_KIND_SQL})", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    area_level: Mapped[str | None] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"Organisation({self.code!r}, {self.kind!r}, {self.name!r})"
