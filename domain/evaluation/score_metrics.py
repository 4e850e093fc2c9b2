"""The figures behind a street's scorecards: a fixed handful of grouped queries for every
unit of the street at once (never one query per unit), so a ranking page costs the same
with five units as with fifty.

The records pages (score_records.py) reuse the row loaders here with a unit filter, so a
figure and the records shown behind it are counted by the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select, union_all

from domain.conference.minutes_draft import attendance_status
from domain.enums import (
    AttendanceStatus,
    ClaimState,
    ListingState,
    OccurrenceState,
    PointSource,
    ProjectState,
    RegistrationState,
    SessionState,
    TopicStatus,
)
from domain.evaluation.scoring import BEIJING, ScorePeriod
from domain.models import (
    ActivityHost,
    ActivityOccurrence,
    Attendance,
    Claim,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
    MemberRegistration,
    PointEntry,
    Project,
    Resource,
    Task,
    TopicProposal,
    UnitRegistration,
)
from domain.tasks.machine import FINISHED_STATES
from domain.uow import UnitOfWork

# A session counts once it has been held (opened); planned or cancelled ones do not.
HELD_STATES = (
    SessionState.IN_SESSION.value,
    SessionState.MINUTES_DRAFT.value,
    SessionState.CO_SIGNING.value,
    SessionState.ISSUED.value,
    SessionState.ARCHIVED.value,
)
COUNTED_TOPICS = (TopicStatus.ACCEPTED.value, TopicStatus.MERGED.value)
OFFERED_STATES = (ListingState.LISTED.value, ListingState.FULFILLED.value)
DONE_PROJECTS = (ProjectState.COMPLETED.value, ProjectState.RATED.value)
FINISHED_VALUES = tuple(s.value for s in FINISHED_STATES)
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.DELEGATE)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def local_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


@dataclass
class RawFigures:
    """What was counted for one unit in the period."""

    expected: int = 0
    attended: int = 0
    on_leave: int = 0
    absent: int = 0
    topics_counted: int = 0
    topics_rejected: int = 0
    decisions_due: int = 0
    decisions_on_time: int = 0
    decisions_late: int = 0
    resources_offered: int = 0
    claims_made: int = 0
    claims_accepted: int = 0
    projects_completed: int = 0
    hosted: int = 0
    joined: int = 0
    slip_confirmed: bool = False
    members: int = 0
    minutes: int = 0
    task_counts: dict[str, tuple[int, int]] = field(default_factory=dict)


# ---- conference ---------------------------------------------------------------------------


async def conference_id(uow: UnitOfWork, street_id: int) -> int | None:
    return await uow.session.scalar(
        select(Conference.id).where(Conference.organization_id == street_id)
    )


@dataclass(frozen=True)
class AttendanceLine:
    session_id: int
    title: str
    starts_at: datetime
    unit_id: int
    status: AttendanceStatus
    note: str


async def attendance_lines(
    uow: UnitOfWork, conf_id: int, period: ScorePeriod, unit_ids: Sequence[int] | None = None
) -> list[AttendanceLine]:
    """Every (held session, member unit) pair of the period with how the unit took part.

    As in the minutes (domain/conference/minutes_draft.load_facts): every active member is
    expected, and a unit that replied or signed in counts even if it has left since.
    Three queries, whatever the number of units."""
    s = uow.session
    sessions = list(
        await s.execute(
            select(MeetingSession.id, MeetingSession.title, MeetingSession.starts_at)
            .where(
                MeetingSession.conference_id == conf_id,
                MeetingSession.state.in_(HELD_STATES),
                MeetingSession.starts_at >= period.start,
                MeetingSession.starts_at < period.end,
            )
            .order_by(MeetingSession.starts_at, MeetingSession.id)
        )
    )
    if not sessions:
        return []
    member_stmt = select(ConferenceMember).where(ConferenceMember.conference_id == conf_id)
    att_stmt = select(Attendance).where(Attendance.session_id.in_([r.id for r in sessions]))
    if unit_ids is not None:
        member_stmt = member_stmt.where(ConferenceMember.unit_id.in_(list(unit_ids)))
        att_stmt = att_stmt.where(Attendance.unit_id.in_(list(unit_ids)))
    members = {m.unit_id: m for m in await s.scalars(member_stmt)}
    rows = {(a.session_id, a.unit_id): a for a in await s.scalars(att_stmt)}
    out = []
    for sess in sessions:
        for unit_id, member in members.items():
            row = rows.get((sess.id, unit_id))
            if row is None and not member.active:
                continue
            status = attendance_status(member.role, row)
            if status is None:
                continue
            note = ""
            if row is not None and status == AttendanceStatus.LEAVE:
                note = row.reply_reason.strip()
            elif row is not None and status == AttendanceStatus.DELEGATE:
                note = row.delegate_name.strip()
            out.append(AttendanceLine(sess.id, sess.title, sess.starts_at, unit_id, status, note))
    return out


@dataclass(frozen=True)
class DecisionLine:
    id: int
    title: str
    lead_unit_id: int
    deadline: date
    session_id: int
    session_title: str
    task_id: int | None
    task_state: str | None
    completed_on: date | None

    @property
    def on_time(self) -> bool:
        return self.completed_on is not None and self.completed_on <= self.deadline

    @property
    def late(self) -> bool:
        return self.completed_on is not None and self.completed_on > self.deadline


async def decision_lines(
    uow: UnitOfWork, conf_id: int, period: ScorePeriod, unit_ids: Sequence[int] | None = None
) -> list[DecisionLine]:
    """Decisions due in the period with their completion date: the final report of the
    decision's task once the task is finished (reviewed or later), or, for a decision
    followed up without a task, the day it was marked done."""
    d, t = Decision, Task
    stmt = (
        select(
            d.id,
            d.title,
            d.lead_unit_id,
            d.deadline,
            d.follow_state,
            d.progress_updated_at,
            d.session_id,
            MeetingSession.title.label("session_title"),
            t.id.label("task_id"),
            t.state.label("task_state"),
            t.reported_at,
        )
        .join(MeetingSession, MeetingSession.id == d.session_id)
        .outerjoin(t, t.decision_id == d.id)
        .where(
            MeetingSession.conference_id == conf_id,
            d.deadline >= period.first,
            d.deadline < period.next_first,
        )
        .order_by(d.deadline, d.id)
    )
    if unit_ids is not None:
        stmt = stmt.where(d.lead_unit_id.in_(list(unit_ids)))
    out = []
    for r in await uow.session.execute(stmt):
        completed: date | None = None
        if r.task_id is not None:
            if r.task_state in FINISHED_VALUES and r.reported_at is not None:
                completed = local_day(r.reported_at)
        elif r.follow_state == "done" and r.progress_updated_at is not None:
            completed = local_day(r.progress_updated_at)
        out.append(
            DecisionLine(
                r.id,
                r.title,
                r.lead_unit_id,
                r.deadline,
                r.session_id,
                r.session_title,
                r.task_id,
                r.task_state,
                completed,
            )
        )
    return out


# ---- the grouped figures ------------------------------------------------------------------


async def load_figures(
    uow: UnitOfWork, street_id: int, unit_ids: Sequence[int], period: ScorePeriod
) -> dict[int, RawFigures]:
    """Raw figures of every unit given (all of one street), in a bounded number of queries."""
    figs = {uid: RawFigures() for uid in unit_ids}
    if not figs:
        return figs
    ids = list(figs)
    s = uow.session
    conf = await conference_id(uow, street_id)
    if conf is not None:
        for line in await attendance_lines(uow, conf, period, ids):
            f = figs[line.unit_id]
            if line.status == AttendanceStatus.OBSERVER:
                continue
            f.expected += 1
            if line.status in ATTENDED:
                f.attended += 1
            elif line.status == AttendanceStatus.LEAVE:
                f.on_leave += 1
            else:
                f.absent += 1
        topic_rows = await s.execute(
            select(
                TopicProposal.unit_id,
                _count(TopicProposal.status.in_(COUNTED_TOPICS)),
                _count(TopicProposal.status == TopicStatus.REJECTED.value),
            )
            .where(
                TopicProposal.conference_id == conf,
                TopicProposal.unit_id.in_(ids),
                TopicProposal.created_at >= period.start,
                TopicProposal.created_at < period.end,
            )
            .group_by(TopicProposal.unit_id)
        )
        for unit_id, counted, rejected in topic_rows:
            figs[unit_id].topics_counted = int(counted)
            figs[unit_id].topics_rejected = int(rejected)
        for dl in await decision_lines(uow, conf, period, ids):
            f = figs[dl.lead_unit_id]
            f.decisions_due += 1
            f.decisions_on_time += int(dl.on_time)
            f.decisions_late += int(dl.late)

    for unit_id, n in await s.execute(
        select(Resource.unit_id, func.count(Resource.id))
        .where(
            Resource.street_id == street_id,
            Resource.unit_id.in_(ids),
            Resource.state.in_(OFFERED_STATES),
            func.coalesce(Resource.vetted_at, Resource.created_at) >= period.start,
            func.coalesce(Resource.vetted_at, Resource.created_at) < period.end,
        )
        .group_by(Resource.unit_id)
    ):
        figs[unit_id].resources_offered = int(n)

    accepted_in_period = (
        Claim.street_id == street_id,
        Claim.state == ClaimState.ACCEPTED.value,
        Claim.decided_at >= period.start,
        Claim.decided_at < period.end,
    )
    claims = union_all(
        select(Claim.claimant_unit_id.label("unit_id"), literal("made").label("side")).where(
            *accepted_in_period, Claim.claimant_unit_id.in_(ids)
        ),
        select(Claim.owner_unit_id.label("unit_id"), literal("owner").label("side")).where(
            *accepted_in_period, Claim.owner_unit_id.in_(ids)
        ),
    ).subquery()
    for unit_id, side, n in await s.execute(
        select(claims.c.unit_id, claims.c.side, func.count()).group_by(
            claims.c.unit_id, claims.c.side
        )
    ):
        if side == "made":
            figs[unit_id].claims_made = int(n)
        else:
            figs[unit_id].claims_accepted = int(n)

    done = (
        Project.street_id == street_id,
        Project.state.in_(DONE_PROJECTS),
        Project.completed_on >= period.first,
        Project.completed_on < period.next_first,
    )
    parties = union_all(
        select(Project.id.label("pid"), Project.provider_unit_id.label("unit_id")).where(*done),
        select(Project.id.label("pid"), Project.requester_unit_id.label("unit_id")).where(*done),
    ).subquery()
    for unit_id, n in await s.execute(
        select(parties.c.unit_id, func.count(func.distinct(parties.c.pid)))
        .where(parties.c.unit_id.in_(ids))
        .group_by(parties.c.unit_id)
    ):
        figs[unit_id].projects_completed = int(n)

    for unit_id, n in await s.execute(
        select(ActivityHost.unit_id, func.count(ActivityOccurrence.id))
        .join(ActivityOccurrence, ActivityOccurrence.activity_id == ActivityHost.activity_id)
        .where(
            ActivityHost.unit_id.in_(ids),
            ActivityOccurrence.state == OccurrenceState.SETTLED.value,
            ActivityOccurrence.starts_at >= period.start,
            ActivityOccurrence.starts_at < period.end,
        )
        .group_by(ActivityHost.unit_id)
    ):
        figs[unit_id].hosted = int(n)

    for unit_id, joined, minutes in await s.execute(
        select(
            PointEntry.employer_unit_id,
            _count(PointEntry.source == PointSource.ACTIVITY.value),
            func.coalesce(func.sum(PointEntry.minutes), 0),
        )
        .where(
            PointEntry.employer_unit_id.in_(ids),
            PointEntry.occurred_on >= period.first,
            PointEntry.occurred_on < period.next_first,
        )
        .group_by(PointEntry.employer_unit_id)
    ):
        if unit_id is not None:
            figs[unit_id].joined = int(joined)
            figs[unit_id].minutes = max(0, int(minutes))

    for (unit_id,) in await s.execute(
        select(UnitRegistration.unit_id)
        .where(
            UnitRegistration.unit_id.in_(ids),
            UnitRegistration.year == period.year,
            UnitRegistration.state == RegistrationState.CONFIRMED.value,
        )
        .distinct()
    ):
        figs[unit_id].slip_confirmed = True

    for unit_id, n in await s.execute(
        select(MemberRegistration.employer_unit_id, func.count(MemberRegistration.id))
        .where(
            MemberRegistration.employer_unit_id.in_(ids),
            MemberRegistration.state == RegistrationState.CONFIRMED.value,
        )
        .group_by(MemberRegistration.employer_unit_id)
    ):
        if unit_id is not None:
            figs[unit_id].members = int(n)
    return figs
