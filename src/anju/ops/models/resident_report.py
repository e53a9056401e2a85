"""Resident reports and their work orders (one row per report), with the append-only history of each order."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.community import Community
from anju.ops.models.plate import DoorPlate

__all__ = ["ReportEvent", "ResidentReport"]


class ResidentReport(Base):
    """A report from a plate, the Open311 API or a partner system, and the work order it became.

    ``status``/``resolution`` follow :mod:`anju.resident.orders`; ``department`` is a department code of the
    resident rules and ``org_code`` the organisation whose queue holds the order (the station for police matters).
    The phone number is kept for the handler (shown masked everywhere else, views audited); ``client_key`` is an
    HMAC of the client address, never the address itself.
    """

    __tablename__ = "resident_report"
    __table_args__ = (
        Index("ix_resident_report_plate_created", "plate_id", "created_at"),
        Index("ix_resident_report_queue", "org_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="plate")  # plate | open311 | partner | staff
    plate_id: Mapped[int | None] = mapped_column(ForeignKey("door_plate.id", ondelete="SET NULL"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="SET NULL"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    client_key: Mapped[str | None] = mapped_column(String(64))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("open311_partner.id", ondelete="SET NULL"))
    # routing
    matter: Mapped[str] = mapped_column(String(32), default="")
    department: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    route_method: Mapped[str] = mapped_column(String(16), default="", index=True)  # the routing batch finds "pending"
    suggestions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    moderation: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # the order
    status: Mapped[str] = mapped_column(String(16), index=True)
    resolution: Mapped[str | None] = mapped_column(String(24))
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("resident_report.id", ondelete="SET NULL"))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    # mediation referral
    sitting_date: Mapped[date | None] = mapped_column(Date)
    mediation_outcome: Mapped[str | None] = mapped_column(String(24))

    plate: Mapped[DoorPlate | None] = relationship()
    community: Mapped[Community | None] = relationship()
    events: Mapped[list[ReportEvent]] = relationship(back_populates="report", order_by="ReportEvent.id",
                                                     cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"ResidentReport({self.receipt!r}, {self.status!r}, {self.department!r})"


class ReportEvent(Base):
    """One status change or action on an order, with its note (never updated)."""

    __tablename__ = "report_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("resident_report.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="system")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    report: Mapped[ResidentReport] = relationship(back_populates="events")
