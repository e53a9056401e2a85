"""Outcomes of registry checks (实有人口核查): a community police officer's finding on a flagged household."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.user import User

__all__ = ["CHECK_OUTCOMES", "RegistryCheck"]

CHECK_OUTCOMES = ("confirmed", "corrected", "false_alarm", "unreachable")
"""``confirmed``: the flag is right (e.g. a group rental, reported on); ``corrected``: the registry was updated on
the spot; ``false_alarm``: the flag was wrong (feeds the false-positive rate); ``unreachable``: nobody at home."""


class RegistryCheck(Base):
    """One check of one flagged household (rows are only added; the latest per household and flag counts)."""

    __tablename__ = "registry_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    community_code: Mapped[str] = mapped_column(String(64), index=True)
    flag: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    checked_by: Mapped[User | None] = relationship()
