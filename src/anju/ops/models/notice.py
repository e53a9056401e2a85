"""Notices (通知通告): a text published to an area (the whole district, a station, a street or a community)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.organisation import Organisation
from anju.ops.models.user import User

__all__ = ["Notice"]


class Notice(Base):
    """A notice; ``area_level``/``area_code`` say who it is for (``district`` with no code: everyone)."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    area_level: Mapped[str] = mapped_column(String(32), default="district")
    area_code: Mapped[str | None] = mapped_column(String(64), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    author: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
