"""The joint activity calendar (活动共联): activities, their dates, sign-ups, check-in, the
points ledger, themed-party-day make-ups, reminders and calendar subscription feeds.

An `Activity` is a one-off activity or a recurring series (an RRULE in Beijing wall-clock
time). Every date of it is an `ActivityOccurrence` row, materialised when the activity is
saved, because each date has its own sign-ups, seats, check-in code and settlement; a
single date can be cancelled or moved (an exception) without touching the others.

Seats: `ActivityOccurrence.taken` counts confirmed sign-ups and is only ever changed by a
conditional UPDATE (`taken < capacity`), so concurrent sign-ups can never overfill a date.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.models.base import Base, UTCDateTime, utcnow
from domain.models.identity import User
from domain.models.org import Organization, Unit

LIVE_SIGNUP_SQL = "state IN ('signup_pending','signup_confirmed','signup_waitlisted')"


class Activity(Base):
    """主题党日 / 联合活动 / 志愿服务: one activity or a recurring series of them."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_street_state", "street_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The community it is held in / for (its members are expected at a themed party day).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200), default="")
    # A venue from the resource list, optionally through an approved booking of it.
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    # The first date; recurring dates follow `recurrence` (an RRULE body, no DTSTART).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recurrence: Mapped[str] = mapped_column(String(200), default="")
    recurrence_until: Mapped[date | None] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer, default=0)  # 0: no limit
    signup_rule: Mapped[str] = mapped_column(String(20), default="signup_open")
    waitlist: Mapped[bool] = mapped_column(Boolean, default=True)
    # Service time credited per attendance (minutes) and a points override (None: settings).
    service_minutes: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24), default="activity_planned")
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    street: Mapped[Organization] = relationship(foreign_keys=[street_id], lazy="raise")
    community: Mapped[Organization | None] = relationship(foreign_keys=[community_id], lazy="raise")
    hosts: Mapped[list[ActivityHost]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ActivityHost.position"
    )

    __mapper_args__ = {"version_id_col": version}


class ActivityHost(Base):
    """A host unit of an activity; position 0 is the lead organiser."""

    __tablename__ = "activity_hosts"
    __table_args__ = (Index("ix_activity_hosts_unit", "unit_id"),)

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    unit: Mapped[Unit] = relationship(lazy="raise")


class ActivityOccurrence(Base):
    """One date of an activity, with its own seats, sign-ups, check-in code and settlement."""

    __tablename__ = "activity_occurrences"
    __table_args__ = (
        # The calendar reads a street's dates in a time window.
        Index("ix_occurrences_street_start", "street_id", "starts_at"),
        Index("uq_occurrences_activity_original", "activity_id", "original_starts_at", unique=True),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The date the rule gave it (iCalendar RECURRENCE-ID); differs from starts_at once moved.
    original_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="occ_scheduled")
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(String(300), default="")  # why this date differs
    taken: Mapped[int] = mapped_column(Integer, default=0)  # confirmed sign-ups
    checkin_token: Mapped[str] = mapped_column(String(64), unique=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(Text, default="")  # 活动小结
    version: Mapped[int] = mapped_column(Integer, default=1)

    activity: Mapped[Activity] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Signup(Base):
    """A person's sign-up for one date: pending approval, confirmed, waitlisted, declined or
    cancelled; check-in and, at settlement, attended or no-show."""

    __tablename__ = "activity_signups"
    __table_args__ = (
        # One live sign-up per person and date: signing up twice is refused by the database.
        Index(
            "uq_signups_live",
            "occurrence_id",
            "user_id",
            unique=True,
            sqlite_where=text(LIVE_SIGNUP_SQL),
            postgresql_where=text(LIVE_SIGNUP_SQL),
        ),
        Index("ix_signups_occurrence_state", "occurrence_id", "state", "id"),
        Index("ix_signups_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("activity_occurrences.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="signup_confirmed")
    note: Mapped[str] = mapped_column(String(300), default="")
    decline_reason: Mapped[str] = mapped_column(String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_method: Mapped[str] = mapped_column(String(20), default="")
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attendance: Mapped[str] = mapped_column(String(12), default="")  # set at settlement
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    occurrence: Mapped[ActivityOccurrence] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class PointEntry(Base):
    """One line of a member's points ledger (服务时长与积分). Corrections are new lines, never
    edits, so the ledger a unit was sent last quarter still adds up."""

    __tablename__ = "point_entries"
    __table_args__ = (
        Index("ix_points_user_day", "user_id", "occurred_on"),
        Index("ix_points_employer_day", "employer_unit_id", "occurred_on"),
        Index("ix_points_community_day", "community_id", "occurred_on"),
        # Street figures (the roll-up, reviews) sum a street's service time by period.
        Index("ix_points_street_day", "street_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # Snapshots at posting: the community registered with and the employer unit, so the
    # quarterly report to an employer does not change when the member moves later.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    employer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    source: Mapped[str] = mapped_column(String(20))
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("activity_occurrences.id"))
    # Settlement posts at most one line per sign-up: a second run inserts nothing.
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("activity_signups.id"), unique=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("service_posts.id"))
    occurred_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer, default=0)  # service time
    points: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(300), default="")
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MakeupRecord(Base):
    """A member expected at a themed party day who did not attend: open until made up."""

    __tablename__ = "makeup_records"
    __table_args__ = (
        Index("uq_makeups_user_occurrence", "user_id", "occurrence_id", unique=True),
        Index("ix_makeups_community_open", "community_id", "made_up_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("activity_occurrences.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    missed_on: Mapped[date] = mapped_column(Date)
    made_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Made up by attending a later themed party day, or recorded by the community with a note.
    made_up_occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("activity_occurrences.id"))
    made_up_note: Mapped[str] = mapped_column(String(300), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class ActivityReminder(Base):
    """A reminder sent (24 h or 1 h before): the key makes the job idempotent."""

    __tablename__ = "activity_reminders"

    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("activity_occurrences.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "24h" | "1h"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(Base):
    """A secret, revocable iCalendar subscription URL for a user or a unit. Only the token's
    hash is kept; the URL is shown once when it is made."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (unit_id IS NULL)", name="feed_for_user_or_unit"),
        Index("ix_calendar_feeds_user", "user_id"),
        Index("ix_calendar_feeds_unit", "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
