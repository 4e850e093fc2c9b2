from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.enums import OrgLevel, UnitKind, UnitType
from domain.models.base import Base, UTCDateTime, utcnow


class Organization(Base):
    """A node of the four-level tree: city → district → street → community."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    parent: Mapped[Organization | None] = relationship(remote_side="Organization.id", lazy="raise")

    __mapper_args__ = {"version_id_col": version}

    @property
    def org_level(self) -> OrgLevel:
        return OrgLevel(self.level)


class Unit(Base):
    """A member unit: stationed unit, department (条), community, street office.

    Units are retired, never deleted: tasks, minutes and scores refer to them for years.
    """

    __tablename__ = "units"
    __table_args__ = (
        Index("ix_units_street_active", "street_id", "active"),
        # Two people registering the same name at once: the database decides.
        Index("uq_units_street_name", "street_id", "name", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    unit_type: Mapped[str] = mapped_column(String(30))
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    party_members: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    street: Mapped[Organization] = relationship(foreign_keys=[street_id], lazy="raise")
    community: Mapped[Organization | None] = relationship(foreign_keys=[community_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}

    @property
    def unit_kind(self) -> UnitKind:
        return UnitKind(self.kind)

    @property
    def type_(self) -> UnitType:
        return UnitType(self.unit_type)
