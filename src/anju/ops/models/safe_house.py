"""Safe houses (安全屋): 24-hour refuges near night-life streets, and candidate sites for new ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.community import Community

__all__ = ["SAFE_HOUSE_STATUSES", "SafeHouse"]

SAFE_HOUSE_STATUSES = ("active", "suspended", "closed", "candidate")
_ST = ", ".join(f"'{s}'" for s in SAFE_HOUSE_STATUSES)


class SafeHouse(Base):
    """A safe house or a candidate site: where, who runs it, staffing, contact, equipment, hours, status."""

    __tablename__ = "safe_house"
    __table_args__ = (CheckConstraint(f"status IN ({_ST})", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="SET NULL"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    operator: Mapped[str] = mapped_column(String(200), default="")
    staffed_24h: Mapped[bool] = mapped_column(default=True)
    contact: Mapped[str] = mapped_column(String(64), default="")
    equipment: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(String(100), default="24小时")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    community: Mapped[Community | None] = relationship()
