"""QR door plates (一标三实 standard addresses): one row per plate, keyed by an unguessable code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.community import Community

__all__ = ["DoorPlate"]


class DoorPlate(Base):
    """A plate on a door: standard address (community, building, unit, door), location and plate code.

    A revoked plate keeps its row (reports made from it still point here) but its code no longer opens the public
    page; a new plate for the same door gets a new code.
    """

    __tablename__ = "door_plate"
    __table_args__ = (UniqueConstraint("community_id", "building", "unit", "door", "active_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), index=True)
    building: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(40), default="")
    door: Mapped[str] = mapped_column(String(40), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # "active" while active, "r<id>" once revoked: one active plate per door, any number of revoked ones
    active_key: Mapped[str] = mapped_column(String(32), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    community: Mapped[Community] = relationship()

    def __repr__(self) -> str:
        return f"DoorPlate({self.code!r}, {self.building!r}, {self.unit!r}, {self.door!r})"
