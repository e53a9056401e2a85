"""Users of the platform and their data scopes (the areas each may see)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.organisation import Organisation

__all__ = ["SCOPE_LEVELS", "User", "UserScope"]

SCOPE_LEVELS = ("district", "station", "police_district", "street", "community", "grid")
"""Area levels a scope row may name (the area layers of the lake)."""


class User(Base):
    """A login. The password is only ever stored as an argon2 hash (:mod:`anju.ops.passwords`)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"),
                                                        index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation | None] = relationship()
    scopes: Mapped[list[UserScope]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                   order_by="UserScope.id")

    def __repr__(self) -> str:
        return f"User({self.username!r}, role={self.role!r})"


class UserScope(Base):
    """One area a user may see: ``area_level`` (one of :data:`SCOPE_LEVELS`) and the area's code."""

    __tablename__ = "user_scope"
    __table_args__ = (UniqueConstraint("user_id", "area_level", "area_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    area_level: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="scopes")
