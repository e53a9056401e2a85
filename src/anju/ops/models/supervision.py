"""Supervision of listed communities (挂牌督导): cases, their dated risk profiles, and the measures/visits log.

A :class:`SupervisionCase` is a problem in the register (SARA's scanning → assessment): a community, who supervises
it, the goal (e.g. −30 % theft 同比) and its status ``open → reviewing → closed_met | closed_not_met | merged``.
:class:`SupervisionSnapshot` rows freeze the risk profile at opening and at each review (append-only JSON, so
"why this community" stays readable as it was then). :class:`SupervisionMeasure` logs measures (人防/物防/技防/
管理/打击) and visits, with an optional evidence file stored outside the database by its SHA-256.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.community import Community

__all__ = ["CASE_STATUSES", "MEASURE_CATEGORIES", "SupervisionCase", "SupervisionMeasure", "SupervisionSnapshot"]

CASE_STATUSES = ("open", "reviewing", "closed_met", "closed_not_met", "merged")
"""督导中 → 评估中 → 已销号（达标）/ 未达标结案 / 已合并."""
MEASURE_CATEGORIES = ("people", "physical", "technical", "management", "enforcement", "visit")
"""人防 / 物防 / 技防 / 管理 / 打击 measures, and 走访 visits."""


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class SupervisionCase(Base):
    """One listed community under supervision."""

    __tablename__ = "supervision_case"
    __table_args__ = (CheckConstraint(f"status IN ({_in(CASE_STATUSES)})", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="RESTRICT"), index=True)
    official: Mapped[str] = mapped_column(String(100))  # 督导领导
    station_code: Mapped[str | None] = mapped_column(String(64), index=True)
    community_police: Mapped[str | None] = mapped_column(String(100))  # 责任社区民警
    opened_on: Mapped[date] = mapped_column(Date)
    base_period: Mapped[str] = mapped_column(String(32))  # the period the listing was drawn from, e.g. "2024"
    families: Mapped[str] = mapped_column(String(200), default="theft")  # what the goal counts (comma-separated)
    goal_change: Mapped[float] = mapped_column(Float, default=-0.3)  # e.g. −0.30 = a 30 % fall 同比
    source: Mapped[str] = mapped_column(String(16), default="candidate")  # candidate | manual
    rank_at_opening: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_case.id", ondelete="SET NULL"))
    closed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    community: Mapped[Community] = relationship()
    snapshots: Mapped[list[SupervisionSnapshot]] = relationship(
        back_populates="case", order_by="SupervisionSnapshot.as_of, SupervisionSnapshot.id")
    measures: Mapped[list[SupervisionMeasure]] = relationship(
        back_populates="case", order_by="SupervisionMeasure.on_date, SupervisionMeasure.id")


class SupervisionSnapshot(Base):
    """The risk profile and progress of a case at opening or at a review, frozen as JSON (append-only)."""

    __tablename__ = "supervision_snapshot"
    __table_args__ = (CheckConstraint("kind IN ('opening', 'review')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[SupervisionCase] = relationship(back_populates="snapshots")


class SupervisionMeasure(Base):
    """A measure taken or a visit made, with who, cost and an optional evidence file."""

    __tablename__ = "supervision_measure"
    __table_args__ = (CheckConstraint(f"category IN ({_in(MEASURE_CATEGORIES)})", name="category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_case.id", ondelete="CASCADE"), index=True)
    on_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(16))
    what: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200), default="")
    cost_yuan: Mapped[float | None] = mapped_column(Float)
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(64))
    evidence_size: Mapped[int | None] = mapped_column(Integer)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[SupervisionCase] = relationship(back_populates="measures")
