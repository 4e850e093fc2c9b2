"""The joint conference (党建联席会议): members, topic call, sessions, the meeting room, minutes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.models.base import Base, UTCDateTime, utcnow
from domain.models.identity import User
from domain.models.org import Organization, Unit


class Conference(Base):
    """One per street (or district): convened by its secretary."""

    __tablename__ = "conferences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    convener_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    organization: Mapped[Organization] = relationship(lazy="raise")
    convener: Mapped[User | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class ConferenceMember(Base):
    """A unit sitting in the conference, with its duties (职责); observers (列席) read only."""

    __tablename__ = "conference_members"
    __table_args__ = (UniqueConstraint("conference_id", "unit_id", name="uq_conference_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(20), default="member")
    duties: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="raise")


class SecretariatMember(Base):
    """Staff of the secretariat (秘书处): the convener delegates running sessions to them."""

    __tablename__ = "conference_secretariat"
    __table_args__ = (UniqueConstraint("conference_id", "user_id", name="uq_secretariat_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(lazy="raise")


class Rotation(Base):
    """The yearly rotating organising unit (轮值单位)."""

    __tablename__ = "conference_rotations"
    __table_args__ = (UniqueConstraint("conference_id", "year", name="uq_rotation_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"))
    year: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    unit: Mapped[Unit] = relationship(lazy="raise")


class SpecialCommittee(Base):
    """An optional special committee (专委会) of some member units."""

    __tablename__ = "special_committees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    remit: Mapped[str] = mapped_column(String(500), default="")
    unit_ids: Mapped[str] = mapped_column(String(500), default="")  # comma-separated unit ids


class TopicProposal(Base):
    """A topic proposed in the topic call (议题征集); the secretariat decides on it."""

    __tablename__ = "topic_proposals"
    __table_args__ = (Index("ix_topics_conference_status", "conference_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("conference_sessions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    background: Mapped[str] = mapped_column(Text, default="")
    suggestion: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    reason: Mapped[str] = mapped_column(String(500), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("topic_proposals.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship(lazy="raise")
    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class MeetingSession(Base):
    """One session (会议) of a conference: regular (例会) or ad hoc."""

    __tablename__ = "conference_sessions"
    __table_args__ = (Index("ix_sessions_conference_start", "conference_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)  # 第N次, given when minutes are issued
    kind: Mapped[str] = mapped_column(String(20), default="regular")
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[str] = mapped_column(String(20), default="in_person")
    state: Mapped[str] = mapped_column(String(30), default="planned")
    current_item_id: Mapped[int | None] = mapped_column(Integer)
    signin_secret: Mapped[str] = mapped_column(String(64))
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    conference: Mapped[Conference] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __table_args__ = (Index("ix_agenda_session_position", "session_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conference_sessions.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="normal")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic_proposals.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Material(Base):
    """A file attached to a session or an agenda item (会议材料), kept in the database."""

    __tablename__ = "session_materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conference_sessions.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attendance(Base):
    """A member unit's reply to the notice and its sign-in (签到)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "unit_id", name="uq_attendance_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conference_sessions.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    reply: Mapped[str] = mapped_column(String(20), default="none")
    reply_reason: Mapped[str] = mapped_column(String(300), default="")
    delegate_name: Mapped[str] = mapped_column(String(50), default="")
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signin_method: Mapped[str] = mapped_column(String(10), default="")  # qr | manual

    unit: Mapped[Unit] = relationship(lazy="raise")


class SpeakerRequest(Base):
    __tablename__ = "speaker_requests"
    __table_args__ = (Index("ix_speakers_item_state", "item_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class Vote(Base):
    """A vote on a motion: one ballot per member unit."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    motion: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)
    votes_abstain: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Ballot(Base):
    __tablename__ = "ballots"
    # One ballot per unit, enforced by the database: two browsers at once cannot both count.
    __table_args__ = (UniqueConstraint("vote_id", "unit_id", name="uq_ballot_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    choice: Mapped[str] = mapped_column(String(10))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    """A decided item (议定事项): lead unit, assisting units, deadline, and its follow-up."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conference_sessions.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"))
    title: Mapped[str] = mapped_column(String(300))
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    assisting_unit_ids: Mapped[str] = mapped_column(String(500), default="")  # comma-separated
    deadline: Mapped[date] = mapped_column(Date)
    # Until the task capability takes it over, a decision carries its own follow-up.
    follow_state: Mapped[str] = mapped_column(String(20), default="assigned")
    progress_note: Mapped[str] = mapped_column(String(1000), default="")
    progress_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    lead_unit: Mapped[Unit] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Minutes(Base):
    """The minutes (会议纪要) of a session; immutable once issued."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conference_sessions.id"), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    number_label: Mapped[str] = mapped_column(String(40), default="")
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class MinutesSignature(Base):
    """A member unit's co-signature (会签) on the minutes."""

    __tablename__ = "minutes_signatures"
    __table_args__ = (UniqueConstraint("minutes_id", "unit_id", name="uq_signature_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(String(300), default="")
