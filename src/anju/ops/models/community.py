"""Communities (小区/社区), the entity every part shares, and their dated profiles.

A community is keyed by the code of its polygon in the lake's ``community`` area layer, so lake-derived tables
(counts, rankings, the safety index) join on ``Community.code``. Its profile is append-only: every change is a new
:class:`CommunityProfile` row with the date it holds from (``effective_date``), its author and when it was recorded,
so the profile at any past date can be read back (:func:`profile_as_of`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.organisation import Organisation

__all__ = ["PROFILE_FIELDS", "Community", "CommunityGrid", "CommunityProfile", "profile_as_of", "profile_history"]


class Community(Base):
    """A community: its area code, name, and the codes of the street, station, police district and grids it is in."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    street_code: Mapped[str | None] = mapped_column(String(64), index=True)
    station_code: Mapped[str | None] = mapped_column(String(64), index=True)
    police_district_code: Mapped[str | None] = mapped_column(String(64), index=True)
    property_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    property_company: Mapped[Organisation | None] = relationship()
    grids: Mapped[list[CommunityGrid]] = relationship(back_populates="community", cascade="all, delete-orphan",
                                                      order_by="CommunityGrid.grid_code")

    @property
    def grid_codes(self) -> list[str]:
        """Codes of the grids (网格) inside this community."""
        return [g.grid_code for g in self.grids]

    def __repr__(self) -> str:
        return f"Community({self.code!r}, {self.name!r})"


class CommunityGrid(Base):
    """A grid (网格) of a community; a grid belongs to exactly one community."""

    __tablename__ = "community_grid"

    grid_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), index=True)

    community: Mapped[Community] = relationship(back_populates="grids")


PROFILE_FIELDS = ("households", "residents", "floating_share", "rental_rate", "fee_collection_rate", "guards",
                  "cameras", "cameras_faulty", "has_owners_committee")
"""The facts a profile row holds (each may be unknown: None)."""


class CommunityProfile(Base):
    """One dated, append-only statement of a community's facts (户数, 人口, 流动人口占比, 出租率, 物业费收缴率, 保安,
    探头, 故障探头, 业委会). Rows are never updated: a correction is a new row."""

    __tablename__ = "community_profile"
    __table_args__ = (Index("ix_community_profile_asof", "community_id", "effective_date", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    effective_date: Mapped[date] = mapped_column(Date)
    households: Mapped[int | None] = mapped_column(Integer)
    residents: Mapped[int | None] = mapped_column(Integer)
    floating_share: Mapped[float | None] = mapped_column(Float)
    rental_rate: Mapped[float | None] = mapped_column(Float)
    fee_collection_rate: Mapped[float | None] = mapped_column(Float)
    guards: Mapped[int | None] = mapped_column(Integer)
    cameras: Mapped[int | None] = mapped_column(Integer)
    cameras_faulty: Mapped[int | None] = mapped_column(Integer)
    has_owners_committee: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="manual")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    community: Mapped[Community] = relationship()

    def facts(self) -> dict[str, object]:
        """The profile's facts as a dict (the :data:`PROFILE_FIELDS`)."""
        return {f: getattr(self, f) for f in PROFILE_FIELDS}


def profile_as_of(session: Session, community_id: int, when: date,
                  known_at: datetime | None = None) -> CommunityProfile | None:
    """The community's profile in force on ``when``: the row with the latest ``effective_date`` ≤ ``when``
    (among rows with the same date, the last recorded). With ``known_at``, only rows recorded by then count, which
    reads back what the platform showed at that moment. None when no row applies."""
    stmt = (select(CommunityProfile)
            .where(CommunityProfile.community_id == community_id, CommunityProfile.effective_date <= when)
            .order_by(CommunityProfile.effective_date.desc(), CommunityProfile.recorded_at.desc(),
                      CommunityProfile.id.desc())
            .limit(1))
    if known_at is not None:
        stmt = stmt.where(CommunityProfile.recorded_at <= known_at)
    return session.scalars(stmt).first()


def profile_history(session: Session, community_id: int) -> list[CommunityProfile]:
    """Every profile row of a community, oldest first (the change history the community page shows)."""
    stmt = (select(CommunityProfile).where(CommunityProfile.community_id == community_id)
            .order_by(CommunityProfile.effective_date, CommunityProfile.recorded_at, CommunityProfile.id))
    return list(session.scalars(stmt))
