"""Quarterly feedback to employer units (在职党员表现反馈): for each member registered with a
unit, what they did in the quarter where they live, and the ledger lines behind it.

Hours and points come from the ledger lines whose employer snapshot is the unit, so what a
unit was sent does not change when a member later moves or changes jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import aliased

from domain.activities.access import STREET_STAFF
from domain.conference.access import users_acting_for
from domain.dual_report.common import BEIJING, is_street_staff, quarter_of
from domain.enums import AttendanceMark, RegistrationState, Role
from domain.errors import NotFound
from domain.labels import label
from domain.models import Organization, Unit, User
from domain.models.activities import (
    Activity,
    ActivityOccurrence,
    MakeupRecord,
    PointEntry,
    Signup,
)
from domain.models.dual_report import FeedbackDispatch, MemberRegistration, ServicePost
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.uow import UnitOfWork

ANNOUNCE_DAYS = 7  # the job announces during the first week of a quarter
QUARTERS_LISTED = 8
MARKS = (AttendanceMark.ATTENDED.value, AttendanceMark.NO_SHOW.value)
COMMUNITY = aliased(Organization, name="community")


@dataclass
class MemberSummary:
    user_id: int
    name: str
    community: str
    attended: int = 0
    no_shows: int = 0
    minutes: int = 0
    points: int = 0
    open_makeups: int = 0

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class DetailLine:
    day: date
    name: str
    source: str
    what: str
    community: str
    minutes: int
    points: int
    note: str

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Feedback:
    unit: Unit
    year: int
    quarter: int
    members: list[MemberSummary]
    lines: list[DetailLine]


def quarter_days(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    last = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1) - timedelta(1)
    return first, last


def previous_quarter(day: date) -> tuple[int, int]:
    q = quarter_of(day)
    return (day.year, q - 1) if q > 1 else (day.year - 1, 4)


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)


async def unit_for_feedback(uow: UnitOfWork, actor: Actor, unit_id: int) -> Unit:
    """The unit, if the actor is its liaison or staff of its street."""
    unit = await uow.session.get(Unit, unit_id)
    mine = actor.unit_ids_with(Role.UNIT_LIAISON, Role.DEPT_LIAISON)
    if unit is None or not (unit.id in mine or is_street_staff(actor, unit.street_id)):
        raise NotFound("单位不存在，或不在您可查看的范围内。")
    return unit


def recent_quarters(today: date, n: int = QUARTERS_LISTED) -> list[tuple[int, int]]:
    year, q = today.year, quarter_of(today)
    out = []
    for _ in range(n):
        out.append((year, q))
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return out


async def feedback(uow: UnitOfWork, unit: Unit, year: int, quarter: int) -> Feedback:
    first, last = quarter_days(year, quarter)
    s = uow.session
    # Members: registered with this employer now, or with a ledger line for it this quarter.
    regs = (
        await s.execute(
            select(User.id, User.display_name, COMMUNITY.name)
            .join(MemberRegistration, MemberRegistration.user_id == User.id)
            .join(COMMUNITY, COMMUNITY.id == MemberRegistration.community_id)
            .where(
                MemberRegistration.employer_unit_id == unit.id,
                MemberRegistration.state == RegistrationState.CONFIRMED.value,
            )
        )
    ).all()
    members = {uid: MemberSummary(uid, name, cname) for uid, name, cname in regs}
    entries = await _quarter_lines(uow, unit.id, first, last)
    for entry, name, _what, cname in entries:
        m = members.setdefault(entry.user_id, MemberSummary(entry.user_id, name, cname or ""))
        m.minutes += entry.minutes
        m.points += entry.points
    if members:
        marks = await s.execute(
            select(Signup.user_id, Signup.attendance, func.count(Signup.id))
            .join(ActivityOccurrence, ActivityOccurrence.id == Signup.occurrence_id)
            .where(
                Signup.user_id.in_(members),
                Signup.attendance.in_(
                    [AttendanceMark.ATTENDED.value, AttendanceMark.NO_SHOW.value]
                ),
                ActivityOccurrence.starts_at >= _utc(first),
                ActivityOccurrence.starts_at < _utc(last + timedelta(days=1)),
            )
            .group_by(Signup.user_id, Signup.attendance)
        )
        for uid, mark, n in marks:
            if mark == AttendanceMark.ATTENDED.value:
                members[uid].attended = n
            else:
                members[uid].no_shows = n
        makeups = await s.execute(
            select(MakeupRecord.user_id, func.count(MakeupRecord.id))
            .where(
                MakeupRecord.user_id.in_(members),
                MakeupRecord.made_up_at.is_(None),
                MakeupRecord.missed_on <= last,
            )
            .group_by(MakeupRecord.user_id)
        )
        for uid, n in makeups:
            members[uid].open_makeups = n
    lines = [
        DetailLine(e.occurred_on, name, label_source(e.source), what or "", cname or "",
                   e.minutes, e.points, e.note)
        for e, name, what, cname in reversed(entries)
    ]  # fmt: skip
    ordered = sorted(members.values(), key=lambda m: (-m.points, m.name))
    return Feedback(unit, year, quarter, ordered, lines)


def label_source(source: str) -> str:
    return label(source)


async def _quarter_lines(
    uow: UnitOfWork, unit_id: int, first: date, last: date
) -> list[tuple[PointEntry, str, str | None, str | None]]:
    rows = await uow.session.execute(
        select(
            PointEntry,
            User.display_name,
            func.coalesce(Activity.title, ServicePost.name),
            COMMUNITY.name,
        )
        .join(User, User.id == PointEntry.user_id)
        .outerjoin(ActivityOccurrence, ActivityOccurrence.id == PointEntry.occurrence_id)
        .outerjoin(Activity, Activity.id == ActivityOccurrence.activity_id)
        .outerjoin(ServicePost, ServicePost.id == PointEntry.post_id)
        .outerjoin(COMMUNITY, COMMUNITY.id == PointEntry.community_id)
        .where(
            PointEntry.employer_unit_id == unit_id,
            PointEntry.occurred_on >= first,
            PointEntry.occurred_on <= last,
        )
        .order_by(PointEntry.occurred_on.desc(), PointEntry.id.desc())
    )
    return [(e, n, w, cn) for e, n, w, cn in rows]


async def dispatched(uow: UnitOfWork, unit_id: int) -> set[tuple[int, int]]:
    rows = await uow.session.execute(
        select(FeedbackDispatch.year, FeedbackDispatch.quarter).where(
            FeedbackDispatch.unit_id == unit_id
        )
    )
    return {(y, q) for y, q in rows}


def _insert_ignoring_duplicates(uow: UnitOfWork, table: Table) -> Any:
    if uow.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


async def announce_quarterly_feedback(uow: UnitOfWork, now: datetime) -> int:
    """In the first week of a quarter, tell each employer unit with registered members that
    last quarter's feedback is ready. Idempotent: a unit is told once per quarter."""
    today = now.astimezone(BEIJING).date()
    if today.month % 3 != 1 or today.day > ANNOUNCE_DAYS:
        return 0
    year, quarter = previous_quarter(today)
    counts = (
        await uow.session.execute(
            select(MemberRegistration.employer_unit_id, func.count(MemberRegistration.id))
            .join(Unit, Unit.id == MemberRegistration.employer_unit_id)
            .where(
                MemberRegistration.state == RegistrationState.CONFIRMED.value,
                Unit.active,
            )
            .group_by(MemberRegistration.employer_unit_id)
            .order_by(MemberRegistration.employer_unit_id)
        )
    ).all()
    sent = 0
    table = FeedbackDispatch.__table__
    assert isinstance(table, Table)
    for unit_id, members in counts:
        if unit_id is None:
            continue
        stmt = _insert_ignoring_duplicates(uow, table)
        result = await uow.session.execute(
            stmt.values(unit_id=unit_id, year=year, quarter=quarter, members=members, sent_at=now)
        )
        if getattr(result, "rowcount", 0) != 1:
            continue
        sent += 1
        notify(
            uow,
            await users_acting_for(uow, [unit_id]),
            "dual_report",
            f"{year} 年第 {quarter} 季度在职党员报到情况反馈已生成",
            f"贵单位共有 {members} 名党员到社区报到，可下载反馈表。",
            f"/points/feedback/{unit_id}",
        )
    return sent


async def feedback_units(uow: UnitOfWork, actor: Actor) -> list[Unit]:
    """Units whose feedback this actor may read: their own as liaison; as street staff, the
    street's units that members named as their employer."""
    mine = actor.unit_ids_with(Role.UNIT_LIAISON, Role.DEPT_LIAISON)
    streets = None if actor.is_admin else actor.streets_with(*STREET_STAFF)
    employers = select(MemberRegistration.employer_unit_id).where(
        MemberRegistration.state == RegistrationState.CONFIRMED.value
    )
    staff_clause = Unit.id.in_(employers) & Unit.street_id.in_(streets or [0])
    if streets is None:
        staff_clause = Unit.id.in_(employers) & Unit.active
    return list(
        await uow.session.scalars(
            select(Unit).where(Unit.id.in_(mine) | staff_clause).order_by(Unit.name)
        )
    )
