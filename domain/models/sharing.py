"""Resource sharing (三张清单): needs posted by communities or the street, resources offered
by stationed units, and the booking of venues and equipment by time slot.

`search_text` holds the searchable words of a listing, lower-cased, so that a Chinese
substring search (活动室 finds 党员活动室) is one LIKE on one column on both databases.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.models.base import Base, UTCDateTime, utcnow
from domain.models.org import Organization, Unit

LIVE_BOOKING_SQL = "state IN ('booking_requested','booking_approved')"


class Need(Base):
    """需求清单: what a community (or the street) needs."""

    __tablename__ = "needs"
    __table_args__ = (Index("ix_needs_street_state", "street_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    # The unit that posted it: a community's residents' committee, or the street office.
    poster_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    beneficiaries: Mapped[str] = mapped_column(String(200), default="")
    beneficiary_count: Mapped[int] = mapped_column(Integer, default=0)
    wanted_from: Mapped[date | None] = mapped_column(Date)
    wanted_to: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[str] = mapped_column(String(200), default="")  # separated by "，" or ","
    search_text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="pending_vetting")
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    vetted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    poster_unit: Mapped[Unit] = relationship(lazy="raise")
    community: Mapped[Organization | None] = relationship(foreign_keys=[community_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Resource(Base):
    """资源清单: what a stationed unit offers — a venue, equipment, volunteers, expertise,
    funds or a service — with its availability and conditions."""

    __tablename__ = "resources"
    __table_args__ = (Index("ix_resources_street_state", "street_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30), default="")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[str] = mapped_column(String(300), default="")  # e.g. 工作日 9:00–17:00
    conditions: Mapped[str] = mapped_column(String(500), default="")  # 使用条件
    # Venue
    capacity: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(200), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    facilities: Mapped[str] = mapped_column(String(300), default="")
    # Volunteers / expertise
    volunteer_count: Mapped[int | None] = mapped_column(Integer)
    skills: Mapped[str] = mapped_column(String(300), default="")
    # Funds, in yuan
    amount: Mapped[int | None] = mapped_column(Integer)
    # Venues and equipment may be booked by time slot.
    bookable: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[str] = mapped_column(String(200), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="pending_vetting")
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    vetted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class ResourceSlot(Base):
    """A bookable time slot of a venue or piece of equipment, published by its owner."""

    __tablename__ = "resource_slots"
    __table_args__ = (Index("uq_resource_slots_start", "resource_id", "starts_at", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(Base):
    """A request to use a slot. The database holds at most one live booking (requested or
    approved) per slot, so concurrent requests cannot double-book it."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_live_slot",
            "slot_id",
            unique=True,
            sqlite_where=text(LIVE_BOOKING_SQL),
            postgresql_where=text(LIVE_BOOKING_SQL),
        ),
        Index("ix_bookings_resource_state", "resource_id", "state"),
        Index("ix_bookings_requester", "requester_unit_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("resource_slots.id"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    requester_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(300))
    attendees: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), default="booking_requested")
    decline_reason: Mapped[str] = mapped_column(String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    slot: Mapped[ResourceSlot] = relationship(lazy="raise")
    requester_unit: Mapped[Unit] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Claim(Base):
    """双向认领: a unit claims a need, or a community requests a resource; the owner of the
    need or resource accepts or declines with a reason."""

    __tablename__ = "claims"
    __table_args__ = (
        # One open claim per claimant and listing: asking twice is refused by the database.
        Index(
            "uq_claims_pending_need",
            "need_id",
            "claimant_unit_id",
            unique=True,
            sqlite_where=text("state = 'claim_pending' AND need_id IS NOT NULL"),
            postgresql_where=text("state = 'claim_pending' AND need_id IS NOT NULL"),
        ),
        Index(
            "uq_claims_pending_resource",
            "resource_id",
            "claimant_unit_id",
            unique=True,
            sqlite_where=text("state = 'claim_pending' AND resource_id IS NOT NULL"),
            postgresql_where=text("state = 'claim_pending' AND resource_id IS NOT NULL"),
        ),
        Index("ix_claims_owner_state", "owner_unit_id", "state"),
        Index("ix_claims_claimant", "claimant_unit_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    direction: Mapped[str] = mapped_column(String(20))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"))
    claimant_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # Who decides: the unit that posted the need, or the unit that offers the resource.
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    message: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[str] = mapped_column(String(20), default="claim_pending")
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Project(Base):
    """共建项目: what an accepted claim becomes — parties, commitments, dates, an agreement
    (共建协议), progress, completion, and the rating by the party that raised the need."""

    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_street_year", "street_id", "year", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(Integer)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), unique=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The party that raised the need (rates the project) and the party that provides.
    requester_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    state: Mapped[str] = mapped_column(String(24), default="project_agreed")
    starts_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    agreement_no: Mapped[str] = mapped_column(String(60), default="")  # 共建协议编号
    agreement_terms: Mapped[str] = mapped_column(Text, default="")  # 双方承诺
    agreement_signed_on: Mapped[date | None] = mapped_column(Date)
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(24))
    rating_note: Mapped[str] = mapped_column(String(1000), default="")
    carried_to_year: Mapped[int | None] = mapped_column(Integer)
    carry_reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    requester_unit: Mapped[Unit] = relationship(foreign_keys=[requester_unit_id], lazy="raise")
    provider_unit: Mapped[Unit] = relationship(foreign_keys=[provider_unit_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class ProjectUpdate(Base):
    """A progress note on a project (append-only by use)."""

    __tablename__ = "project_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(50), default="")
    percent: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
