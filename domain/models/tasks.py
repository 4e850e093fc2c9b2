"""Task handoff between 条 and 块 (交办, 吹哨报到) and its supervision (督办).

Indexes follow the questions asked at scale (a city holds millions of tasks,
almost all of them closed): open work is found through partial indexes on the
open states, history through (street, assigned_at) ranges, so a page's cost
follows what is open or in the chosen period, not the whole history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.models.base import Base, UTCDateTime, utcnow
from domain.models.org import Unit

# States in which a task still runs on the clock (kept in step with domain.tasks.machine).
OPEN_STATES_SQL = (
    "state IN ('assigned','signed_for','return_requested','in_progress',"
    "'extension_requested','reported')"
)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_street_assigned", "street_id", "assigned_at"),
        Index("ix_tasks_updated", "updated_at", "id"),
        # The assigner's worklist: what waits for its review or decision.
        Index("ix_tasks_assigner_state", "assigner_unit_id", "state"),
        Index(
            "ix_tasks_open_deadline",
            "deadline",
            sqlite_where=text(OPEN_STATES_SQL),
            postgresql_where=text(OPEN_STATES_SQL),
        ),
        Index(
            "ix_tasks_open_street",
            "street_id",
            "state",
            sqlite_where=text(OPEN_STATES_SQL),
            postgresql_where=text(OPEN_STATES_SQL),
        ),
        # The daily archive job looks for tasks closed long enough ago.
        Index(
            "ix_tasks_closed_out",
            "closed_at",
            sqlite_where=text("state = 'closed_out'"),
            postgresql_where=text("state = 'closed_out'"),
        ),
        # An external work order is created once, however often the caller retries.
        UniqueConstraint("api_token_id", "external_id", name="uq_tasks_external"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    source: Mapped[str] = mapped_column(String(20))
    whistle_kind: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    # The unit that hands the task out and reviews it: the street office, or a department
    # handing work down to a community.
    assigner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), unique=True)
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    external_id: Mapped[str | None] = mapped_column(String(80))
    admission_item_id: Mapped[int | None] = mapped_column(ForeignKey("admission_items.id"))
    # Sent to a community but matching no admitted matter (准入外): flagged, refusable,
    # and left out of that community's scoring.
    outside_admission: Mapped[bool] = mapped_column(Boolean, default=False)

    state: Mapped[str] = mapped_column(String(24), default="drafted")
    limit_value: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(16))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Report-in (报到) / acceptance due: minutes for a whistle, the street's hours otherwise.
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    original_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(24))
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    # Set when a return is insisted on and disputed again: the district decides.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The highest supervision colour reached on the current deadline (None, blue, yellow, red).
    notice_level: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    assigner_unit: Mapped[Unit] = relationship(foreign_keys=[assigner_unit_id], lazy="raise")
    assignees: Mapped[list[TaskAssignee]] = relationship(
        back_populates="task", lazy="raise", order_by="TaskAssignee.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def ref(self) -> str:
        year = (self.assigned_at or self.created_at).year
        return f"{year}-{self.id:06d}"


class TaskAssignee(Base):
    """A handling unit: the lead (主办) or an assisting unit (协办), each with its own
    acceptance and report."""

    __tablename__ = "task_assignees"
    __table_args__ = (
        UniqueConstraint("task_id", "unit_id", name="uq_task_assignees_unit"),
        # A unit's board: its open tasks, then its recent done ones.
        Index("ix_task_assignees_unit_open", "unit_id", "open", "task_id"),
        Index("ix_task_assignees_unit_done", "unit_id", "done_at"),
        # Period figures join a month of tasks to their handling units: on PostgreSQL this
        # covering index makes that an index-only lookup per task instead of a scan of
        # every assignee ever (which grows with the whole history).
        Index(
            "ix_task_assignees_task_cover",
            "task_id",
            postgresql_include=["unit_id", "role", "state", "accepted_at", "return_reason"],
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # True while the task runs and this unit still handles it (mirrors the task's state).
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    # The assigner insisted after a return request: a second request is a dispute.
    insisted: Mapped[bool] = mapped_column(Boolean, default=False)
    return_reason: Mapped[str | None] = mapped_column(String(24))
    return_text: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="assignees", lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


class TaskReport(Base):
    """A progress report, or the final report (办结反馈) that closes the work."""

    __tablename__ = "task_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    handled_on: Mapped[date | None] = mapped_column(Date)
    contacted: Mapped[str] = mapped_column(String(200), default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    done_by: Mapped[date | None] = mapped_column(Date)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExtensionRequest(Base):
    __tablename__ = "task_extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    current_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    grounds: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(20), default="ext_requested")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskEvent(Base):
    """The task's timeline: every transition, report, notice and comment. Append-only
    (the database refuses UPDATE and DELETE, as for the audit log)."""

    __tablename__ = "task_events"
    __table_args__ = (Index("ix_task_events_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(50), default="系统")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(30), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SupervisionNotice(Base):
    """A supervision notice (督办单) issued by the clock. The unique key makes every job
    idempotent: one notice per task, level and deadline, however often the job runs."""

    __tablename__ = "supervision_notices"
    __table_args__ = (
        UniqueConstraint("task_id", "level", "deadline", name="uq_supervision_notice"),
        Index("ix_supervision_notices_street_at", "street_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    level: Mapped[str] = mapped_column(String(16))
    # The deadline this notice was about: an approved extension starts a fresh cycle.
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(String(500), default="")


class DigestRecord(Base):
    """A daily digest sent to a unit; the unique key keeps a re-run from sending twice."""

    __tablename__ = "task_digests"
    __table_args__ = (UniqueConstraint("unit_id", "day", name="uq_task_digests_unit_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    day: Mapped[date] = mapped_column(Date)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdmissionItem(Base):
    """A matter admitted into communities' work (社区事务准入目录), per street.

    A department applies; the street reviews (admitted / denied); either may withdraw it.
    """

    __tablename__ = "admission_items"
    __table_args__ = (Index("ix_admission_items_street_state", "street_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50), default="")
    basis: Mapped[str] = mapped_column(String(500), default="")  # 政策依据
    description: Mapped[str] = mapped_column(Text, default="")
    applicant_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default="applied")
    review_note: Mapped[str] = mapped_column(String(500), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    applicant_unit: Mapped[Unit | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class CalendarYear(Base):
    """A year of the working-day calendar. Without a row, a year falls back to Monday–Friday
    (and pages say so)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(20))  # "chinesecalendar" or "admin"
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarDay(Base):
    """An exception to Monday–Friday: a holiday on a weekday, or a make-up workday (调休)
    on a weekend."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(50), default="")
