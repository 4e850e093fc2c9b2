from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, UTCDateTime, utcnow


class StreetSetting(Base):
    """One overridden local rule of a street; absent keys take the default in `street_settings`."""

    __tablename__ = "street_settings"

    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
