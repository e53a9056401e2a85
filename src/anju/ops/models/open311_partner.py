"""Partner systems of the Open311 API: a name and the SHA-256 of their API key (the key itself is shown once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from anju.ops.models.base import Base, UTCDateTime, utcnow

__all__ = ["Open311Partner"]


class Open311Partner(Base):
    """A city system allowed higher limits and status updates through ``api_key``."""

    __tablename__ = "open311_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
