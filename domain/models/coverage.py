"""新兴领域党建覆盖: the carriers where emerging-sector organisations gather (business towers,
parks and their zones, market districts, internet clusters), the enterprises and social
organisations inside them with how their party members are organised, and monthly
snapshots of the coverage figures so their history can be shown.

Organisation coverage (组织覆盖): the organisation's members belong to a party organisation
of some kind (own, joint, delegated, association, industry chain). Work coverage (工作覆盖):
organisation-covered, or at least a party-building instructor (党建指导员) works with it. An
organisation with neither is a gap (党建真空).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.models.base import Base, UTCDateTime, utcnow
from domain.models.org import Unit


class Carrier(Base):
    """A business tower, park (or a zone of one), market district or internet cluster."""

    __tablename__ = "carriers"
    __table_args__ = (Index("ix_carriers_street", "street_id", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # A park's zone (片区) points at its park.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("carriers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The tower's or park's joint party committee, a unit that can sit in the conference.
    joint_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    joint_unit: Mapped[Unit | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class EmergingOrg(Base):
    """An enterprise or social organisation of the emerging sectors, in a street (and
    usually a carrier), with its party members and how they are organised."""

    __tablename__ = "emerging_orgs"
    __table_args__ = (
        Index("ix_emerging_orgs_street_mode", "street_id", "active", "coverage_mode"),
        Index("ix_emerging_orgs_carrier", "carrier_id"),
        # The unified social credit code identifies an organisation across imports.
        Index("uq_emerging_orgs_street_code", "street_id", "credit_code", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carriers.id"))
    category: Mapped[str] = mapped_column(String(20), default="org_enterprise")
    name: Mapped[str] = mapped_column(String(160))
    credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    industry: Mapped[str] = mapped_column(String(60), default="")
    employees: Mapped[int] = mapped_column(Integer, default=0)
    party_members: Mapped[int] = mapped_column(Integer, default=0)
    coverage_mode: Mapped[str] = mapped_column(String(20), default="cov_none")
    party_org_name: Mapped[str] = mapped_column(String(160), default="")
    # The unit whose party organisation covers it (own, joint committee, delegated…).
    covering_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    instructor_name: Mapped[str] = mapped_column(String(50), default="")  # 党建指导员
    instructor_phone: Mapped[str] = mapped_column(String(30), default="")
    # The task handed out to close this gap (the task handoff flow), if any.
    gap_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual | import
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    carrier: Mapped[Carrier | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class CoverageSnapshot(Base):
    """The coverage figures of a street (scope "street") or one carrier ("carrier:{id}") at
    the start of a month, so history survives later edits. Taken by a monthly job."""

    __tablename__ = "coverage_snapshots"
    __table_args__ = (
        Index("uq_coverage_snapshots_key", "street_id", "scope", "month", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    scope: Mapped[str] = mapped_column(String(30))
    month: Mapped[date] = mapped_column(Date)
    organisations: Mapped[int] = mapped_column(Integer, default=0)
    with_members: Mapped[int] = mapped_column(Integer, default=0)
    party_members: Mapped[int] = mapped_column(Integer, default=0)
    org_covered: Mapped[int] = mapped_column(Integer, default=0)
    work_covered: Mapped[int] = mapped_column(Integer, default=0)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
