"""双报到: stationed units report in to the community they stand in, and in-service party
members register with the community where they live and take up its service posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.models.base import Base, UTCDateTime, utcnow
from domain.models.identity import User
from domain.models.org import Organization, Unit

LIVE_REGISTRATION_SQL = "state IN ('reg_submitted','reg_confirmed')"


class UnitRegistration(Base):
    """A unit's report-in slip (报到单) to a community for a year; the community confirms it
    or returns it with a reason."""

    __tablename__ = "unit_registrations"
    __table_args__ = (
        Index(
            "uq_unit_registrations_live",
            "unit_id",
            "community_id",
            "year",
            unique=True,
            sqlite_where=text(LIVE_REGISTRATION_SQL),
            postgresql_where=text(LIVE_REGISTRATION_SQL),
        ),
        Index("ix_unit_registrations_community", "community_id", "year", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(30))
    party_members: Mapped[int] = mapped_column(Integer, default=0)
    # What the unit commits to (resources, services) and what it would like to do.
    commitments: Mapped[str] = mapped_column(Text, default="")
    service_wishes: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="reg_submitted")
    return_reason: Mapped[str] = mapped_column(String(300), default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship(lazy="raise")
    community: Mapped[Organization] = relationship(foreign_keys=[community_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class MemberRegistration(Base):
    """An in-service party member registered with the community where they live."""

    __tablename__ = "member_registrations"
    __table_args__ = (
        # A member is registered with one residence community at a time.
        Index(
            "uq_member_registrations_live",
            "user_id",
            unique=True,
            sqlite_where=text(LIVE_REGISTRATION_SQL),
            postgresql_where=text(LIVE_REGISTRATION_SQL),
        ),
        Index("ix_member_registrations_community", "community_id", "state"),
        Index("ix_member_registrations_employer", "employer_unit_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The employer, when it is a unit on the platform; otherwise its name as written.
    employer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    employer_name: Mapped[str] = mapped_column(String(120), default="")
    residence: Mapped[str] = mapped_column(String(200), default="")  # 小区、楼栋
    phone: Mapped[str] = mapped_column(String(30), default="")
    skills: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(20), default="reg_submitted")
    return_reason: Mapped[str] = mapped_column(String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    community: Mapped[Organization] = relationship(foreign_keys=[community_id], lazy="raise")
    employer_unit: Mapped[Unit | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class ServicePost(Base):
    """A community's service post (服务岗位: 政策宣讲、平安巡逻…) that members take up."""

    __tablename__ = "service_posts"
    __table_args__ = (
        Index("ix_service_posts_community", "community_id", "active"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=0)  # 0: no limit
    # Members holding the post; changed only by a conditional UPDATE, like activity seats.
    taken: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PostClaim(Base):
    """A member holding a service post (认岗)."""

    __tablename__ = "post_claims"
    __table_args__ = (
        Index(
            "uq_post_claims_live",
            "post_id",
            "user_id",
            unique=True,
            sqlite_where=text("state = 'post_claimed'"),
            postgresql_where=text("state = 'post_claimed'"),
        ),
        Index("ix_post_claims_user", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("service_posts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("member_registrations.id"))
    state: Mapped[str] = mapped_column(String(20), default="post_claimed")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[ServicePost] = relationship(lazy="raise")


class FeedbackDispatch(Base):
    """The quarterly feedback to an employer unit was announced: the key keeps a re-run of
    the job from notifying twice."""

    __tablename__ = "feedback_dispatches"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    members: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
