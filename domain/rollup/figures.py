"""Figures per street for the roll-up (四级联动): one row per street, in one pass.

Every query is grouped by street over `street_id IN (...)`, so a page costs the same
number of statements for 2 streets or 20. Task figures use the shapes of
`domain.tasks.stats`: open tasks through the partial indexes on open states, period
figures through the (street_id, assigned_at) index — never the whole history.

Coverage comes from `domain.coverage.figures.coverage_by_street` when it is there. Unit
scores are not part of this row: scoring every unit of 20 streets is too costly for a
district page, so they appear on the street and community levels only (`drill.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, func, literal, select

from domain.conference.archive import HELD
from domain.enums import (
    AttendanceMark,
    ListingState,
    MemberRole,
    OccurrenceState,
    ProjectState,
    RegistrationState,
    UnitKind,
)
from domain.models import Task
from domain.models.activities import ActivityOccurrence, PointEntry, Signup
from domain.models.conference import Attendance, Conference, ConferenceMember, MeetingSession
from domain.models.dual_report import MemberRegistration, UnitRegistration
from domain.models.org import Unit
from domain.models.sharing import Need, Project, Resource
from domain.tasks.stats import FINISHED_VALUES, OPEN_VALUES
from domain.tasks.stats_scope import Period
from domain.tasks.supervision_rules import SUPERVISED_VALUES
from domain.uow import UnitOfWork

HELD_VALUES = [s.value for s in HELD]
DONE_PROJECTS = [ProjectState.COMPLETED.value, ProjectState.RATED.value]
ON_LIST = [ListingState.LISTED.value, ListingState.FULFILLED.value]
NEED_COUNTED = [
    ListingState.LISTED.value,
    ListingState.FULFILLED.value,
    ListingState.WITHDRAWN.value,
]
CONFIRMED = RegistrationState.CONFIRMED.value


SUMMED = (
    *("assigned", "closed", "closed_on_time", "open", "overdue"),
    *("sessions", "seats", "present", "needs", "resources", "projects_done"),
    *("dates_held", "attendances", "minutes", "stationed", "units_confirmed", "members"),
)
COVERAGE = ("organisations", "org_covered", "work_covered", "gaps")


def count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def ratio(part: int, whole: int) -> float | None:
    return min(part / whole, 1.0) if whole else None


@dataclass
class Row:
    """One line of a roll-up table: a street, a district (sums) or the totals."""

    org_id: int
    name: str
    # tasks
    assigned: int = 0
    closed: int = 0
    closed_on_time: int = 0
    open: int = 0
    overdue: int = 0
    # conference
    sessions: int = 0
    seats: int = 0  # sessions × member units expected
    present: int = 0
    # resources
    needs: int = 0
    resources: int = 0
    projects_done: int = 0
    # activities
    dates_held: int = 0
    attendances: int = 0
    minutes: int = 0
    # 双报到
    stationed: int = 0
    units_confirmed: int = 0
    members: int = 0
    # coverage (None when the coverage figures are not available)
    organisations: int | None = None
    org_covered: int | None = None
    work_covered: int | None = None
    gaps: int | None = None
    # average unit score (street and community levels only)
    score: float | None = None
    links: dict[str, str] = field(default_factory=dict)

    def add(self, other: Row) -> None:
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in COVERAGE:
            theirs = getattr(other, name)
            if theirs is not None:
                setattr(self, name, (getattr(self, name) or 0) + theirs)

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.closed_on_time, self.closed)

    @property
    def attendance_rate(self) -> float | None:
        return ratio(self.present, self.seats)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def dual_rate(self) -> float | None:
        return ratio(self.units_confirmed, self.stationed)

    @property
    def org_rate(self) -> float | None:
        if self.organisations is None or self.org_covered is None:
            return None
        return ratio(self.org_covered, self.organisations)

    @property
    def work_rate(self) -> float | None:
        if self.organisations is None or self.work_covered is None:
            return None
        return ratio(self.work_covered, self.organisations)


def _inc(rows: dict[int, Row], key: int | None, name: str, value: Any) -> None:
    if key in rows and value is not None:
        row = rows[key]
        setattr(row, name, getattr(row, name) + int(value))


async def _tasks(uow: UnitOfWork, rows: dict[int, Row], period: Period, now: datetime) -> None:
    s, ids = uow.session, list(rows)
    open_rows = await s.execute(
        select(
            Task.street_id,
            func.count(Task.id),
            count_if(Task.state.in_(SUPERVISED_VALUES) & (Task.deadline < now)),
        )
        .where(Task.street_id.in_(ids), Task.state.in_(OPEN_VALUES))
        .group_by(Task.street_id)
    )
    for street_id, n, late in open_rows:
        _inc(rows, street_id, "open", n)
        _inc(rows, street_id, "overdue", late)
    # The shape (and index) of the supervision dashboard's period figures, narrowed to the
    # three counts shown here: fewer aggregates per row at a year's worth of tasks.
    finished = Task.state.in_(FINISHED_VALUES)
    period_rows = await s.execute(
        select(
            Task.street_id,
            func.count(Task.id),
            count_if(finished),
            count_if(finished & (Task.reported_at <= Task.deadline)),
        )
        .where(
            Task.street_id.in_(ids),
            Task.assigned_at >= period.start,
            Task.assigned_at < period.end,
        )
        .group_by(Task.street_id)
    )
    for street_id, n, closed, on_time in period_rows:
        _inc(rows, street_id, "assigned", n)
        _inc(rows, street_id, "closed", closed)
        _inc(rows, street_id, "closed_on_time", on_time)


async def _conference(uow: UnitOfWork, rows: dict[int, Row], period: Period) -> None:
    s, ids = uow.session, list(rows)
    member = (ConferenceMember.active.is_(True)) & (
        ConferenceMember.role != MemberRole.OBSERVER.value
    )
    held = (
        select(Conference.organization_id.label("org"), MeetingSession.id.label("sid"))
        .join(MeetingSession, MeetingSession.conference_id == Conference.id)
        .where(
            Conference.organization_id.in_(ids),
            MeetingSession.state.in_(HELD_VALUES),
            MeetingSession.starts_at >= period.start,
            MeetingSession.starts_at < period.end,
        )
        .subquery()
    )
    members = (
        select(Conference.organization_id.label("org"), func.count(ConferenceMember.id).label("n"))
        .join(ConferenceMember, ConferenceMember.conference_id == Conference.id)
        .where(Conference.organization_id.in_(ids), member)
        .group_by(Conference.organization_id)
        .subquery()
    )
    present = (
        select(held.c.org, func.count(Attendance.id).label("n"))
        .join(Attendance, Attendance.session_id == held.c.sid)
        .join(MeetingSession, MeetingSession.id == held.c.sid)
        .join(
            ConferenceMember,
            and_(
                ConferenceMember.conference_id == MeetingSession.conference_id,
                ConferenceMember.unit_id == Attendance.unit_id,
            ),
        )
        .where(Attendance.signed_in_at.is_not(None), member)
        .group_by(held.c.org)
        .subquery()
    )
    sessions = select(held.c.org, func.count(held.c.sid).label("n")).group_by(held.c.org).subquery()
    result = await s.execute(
        select(sessions.c.org, sessions.c.n, members.c.n, present.c.n)
        .outerjoin(members, members.c.org == sessions.c.org)
        .outerjoin(present, present.c.org == sessions.c.org)
    )
    for org, n_sessions, n_members, n_present in result:
        _inc(rows, org, "sessions", n_sessions)
        _inc(rows, org, "seats", int(n_sessions) * int(n_members or 0))
        _inc(rows, org, "present", n_present or 0)


async def _sharing(uow: UnitOfWork, rows: dict[int, Row], period: Period) -> None:
    s, ids = uow.session, list(rows)
    first, last = period.first, period.last
    needs = (
        select(Need.street_id.label("sid"), func.count(Need.id).label("n"))
        .where(
            Need.street_id.in_(ids),
            Need.state.in_(NEED_COUNTED),
            Need.created_at >= period.start,
            Need.created_at < period.end,
        )
        .group_by(Need.street_id)
    )
    resources = (
        select(Resource.street_id, func.count(Resource.id))
        .where(Resource.street_id.in_(ids), Resource.state.in_(ON_LIST))
        .group_by(Resource.street_id)
    )
    projects = (
        select(Project.street_id, func.count(Project.id))
        .where(
            Project.street_id.in_(ids),
            Project.year.in_(list(range(first.year - 1, last.year + 1))),
            Project.state.in_(DONE_PROJECTS),
            Project.completed_on >= first,
            Project.completed_on <= last,
        )
        .group_by(Project.street_id)
    )
    union = needs.add_columns(literal(1, Integer).label("k")).union_all(
        resources.add_columns(literal(2, Integer)),
        projects.add_columns(literal(3, Integer)),
    )
    names = {1: "needs", 2: "resources", 3: "projects_done"}
    for sid, n, k in await s.execute(union):
        _inc(rows, sid, names[int(k)], n)


async def _activities(uow: UnitOfWork, rows: dict[int, Row], period: Period) -> None:
    s, ids = uow.session, list(rows)
    occ = ActivityOccurrence
    attended = (
        select(Signup.occurrence_id.label("oid"), func.count(Signup.id).label("n"))
        .where(Signup.attendance == AttendanceMark.ATTENDED.value)
        .group_by(Signup.occurrence_id)
        .subquery()
    )
    result = await s.execute(
        select(occ.street_id, func.count(occ.id), func.coalesce(func.sum(attended.c.n), 0))
        .outerjoin(attended, attended.c.oid == occ.id)
        .where(
            occ.street_id.in_(ids),
            occ.state == OccurrenceState.SETTLED.value,
            occ.starts_at >= period.start,
            occ.starts_at < period.end,
        )
        .group_by(occ.street_id)
    )
    for sid, n, people in result:
        _inc(rows, sid, "dates_held", n)
        _inc(rows, sid, "attendances", people)
    minutes = await s.execute(
        select(PointEntry.street_id, func.coalesce(func.sum(PointEntry.minutes), 0))
        .where(
            PointEntry.street_id.in_(ids),
            PointEntry.occurred_on >= period.first,
            PointEntry.occurred_on <= period.last,
        )
        .group_by(PointEntry.street_id)
    )
    for sid, n in minutes:
        _inc(rows, sid, "minutes", n)


async def _dual_report(uow: UnitOfWork, rows: dict[int, Row], year: int) -> None:
    s, ids = uow.session, list(rows)
    confirmed = (
        select(UnitRegistration.unit_id.label("uid"))
        .where(
            UnitRegistration.street_id.in_(ids),
            UnitRegistration.year == year,
            UnitRegistration.state == CONFIRMED,
        )
        .distinct()
        .subquery()
    )
    units = await s.execute(
        select(Unit.street_id, func.count(Unit.id), func.count(confirmed.c.uid))
        .outerjoin(confirmed, confirmed.c.uid == Unit.id)
        .where(Unit.street_id.in_(ids), Unit.active, Unit.kind == UnitKind.STATIONED.value)
        .group_by(Unit.street_id)
    )
    for sid, n, done in units:
        _inc(rows, sid, "stationed", n)
        _inc(rows, sid, "units_confirmed", done)
    members = await s.execute(
        select(MemberRegistration.street_id, func.count(MemberRegistration.id))
        .where(MemberRegistration.street_id.in_(ids), MemberRegistration.state == CONFIRMED)
        .group_by(MemberRegistration.street_id)
    )
    for sid, n in members:
        _inc(rows, sid, "members", n)


async def _coverage(uow: UnitOfWork, rows: dict[int, Row]) -> bool:
    """Coverage columns from helper E's figures; False (columns left out) until they exist."""
    try:
        from domain.coverage.figures import coverage_by_street
    except ImportError:
        return False
    found: dict[int, Any] = await coverage_by_street(uow, list(rows))
    for sid, row in rows.items():
        fig = found.get(sid)
        row.organisations = int(getattr(fig, "organisations", 0) or 0)
        row.org_covered = int(getattr(fig, "org_covered", 0) or 0)
        row.work_covered = int(getattr(fig, "work_covered", 0) or 0)
        row.gaps = int(getattr(fig, "gaps", 0) or 0)
    return True


@dataclass
class StreetTable:
    rows: list[Row]
    period: Period
    has_coverage: bool

    def total(self, name: str = "合计") -> Row:
        out = Row(0, name)
        for row in self.rows:
            out.add(row)
        if not self.has_coverage:
            for key in COVERAGE:
                setattr(out, key, None)
        return out


async def street_rows(
    uow: UnitOfWork,
    streets: Sequence[tuple[int, str]],
    period: Period,
    now: datetime,
) -> StreetTable:
    """One row per street (id, name) over the period; a bounded number of statements."""
    rows = {sid: Row(sid, name) for sid, name in streets}
    has_coverage = False
    if rows:
        await _tasks(uow, rows, period, now)
        await _conference(uow, rows, period)
        await _sharing(uow, rows, period)
        await _activities(uow, rows, period)
        await _dual_report(uow, rows, period.last.year)
        has_coverage = await _coverage(uow, rows)
    return StreetTable(list(rows.values()), period, has_coverage)
