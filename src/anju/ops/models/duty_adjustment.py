"""Station adjustments of the daily briefing (勤务调整): a level raised or lowered, a hot box dropped or added, with
the reason. Rows are only ever added (each is audited); the plan actually used is the briefing's plan with the day's
adjustments applied (:func:`anju.duty.adjust.apply_adjustments`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.user import User

__all__ = ["ADJUSTMENT_KINDS", "DutyAdjustment"]

ADJUSTMENT_KINDS = ("level", "units", "drop_box", "add_box")
"""``level``: a community/police-district level (target = unit id, value = {"level": n}); ``units``: patrol units
of a shift (target = shift, value = {"units": n}); ``drop_box``: remove a planned hot box (target = box_id);
``add_box``: add one (target = new box_id, value = {"x", "y", "radius_m", "planned_minutes", "planned_visits",
"shift", "unit"})."""


class DutyAdjustment(Base):
    """One adjustment of one day's briefing for one station."""

    __tablename__ = "duty_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    station_code: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(128))
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()
