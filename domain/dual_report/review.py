"""A community's yearly review of 双报到 (年度双报到工作回顾).

A fixed number of grouped queries whatever the number of units, members, activities and
ledger lines: nothing is loaded per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from domain.dual_report.common import BEIJING, is_community_secretary, is_street_staff
from domain.dual_report.posts import CLAIMED
from domain.enums import (
    AttendanceMark,
    OccurrenceState,
    OrgLevel,
    RegistrationState,
    UnitKind,
)
from domain.errors import NotFound
from domain.models import Organization, Unit, User
from domain.models.activities import (
    Activity,
    ActivityOccurrence,
    MakeupRecord,
    PointEntry,
    Signup,
)
from domain.models.dual_report import (
    MemberRegistration,
    PostClaim,
    ServicePost,
    UnitRegistration,
)
from domain.permissions import Actor
from domain.uow import UnitOfWork

R = RegistrationState
TOP = 10


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class UnitRow:
    unit_id: int
    name: str
    stationed: bool
    state: str  # the year's slip state, "" when none


@dataclass(frozen=True)
class OccurrenceRow:
    occurrence_id: int
    title: str
    kind: str
    starts_at: datetime
    state: str
    attended: int
    no_shows: int


@dataclass
class Month:
    month: int
    minutes: int = 0
    points: int = 0
    activities: int = 0

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)


@dataclass
class Review:
    community: Organization
    street: Organization
    year: int
    units: list[UnitRow] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=dict)  # registration state → count
    posts: list[tuple[ServicePost, list[str]]] = field(default_factory=list)
    occurrences: list[OccurrenceRow] = field(default_factory=list)
    minutes: int = 0
    points: int = 0
    top: list[tuple[int, str, int, int]] = field(default_factory=list)  # id, name, min, pts
    makeups_open: int = 0
    makeups_closed: int = 0
    months: list[Month] = field(default_factory=list)

    @property
    def stationed(self) -> int:
        return sum(1 for u in self.units if u.stationed)

    @property
    def reported(self) -> int:
        return sum(1 for u in self.units if u.state == R.CONFIRMED.value)

    @property
    def reported_stationed(self) -> int:
        return sum(1 for u in self.units if u.stationed and u.state == R.CONFIRMED.value)

    @property
    def rate(self) -> float | None:
        return self.reported_stationed / self.stationed if self.stationed else None

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)

    @property
    def settled(self) -> list[OccurrenceRow]:
        return [o for o in self.occurrences if o.state == OccurrenceState.SETTLED.value]

    @property
    def max_month_minutes(self) -> int:
        return max((m.minutes for m in self.months), default=0)


def can_read(actor: Actor, community: Organization, street: Organization) -> bool:
    return (
        is_community_secretary(actor, community.id)
        or is_street_staff(actor, street.id)
        or street.id in actor.district_street_ids
    )


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)


async def community_review(uow: UnitOfWork, actor: Actor, community_id: int, year: int) -> Review:
    s = uow.session
    street_org = aliased(Organization, name="street")
    found = (
        await s.execute(
            select(Organization, street_org)
            .join(street_org, street_org.id == Organization.parent_id)
            .where(Organization.id == community_id, Organization.level == OrgLevel.COMMUNITY.value)
        )
    ).first()
    if found is None or not can_read(actor, found[0], found[1]):
        raise NotFound("社区不存在，或不在您可查看的范围内。")
    org, street = found
    out = Review(community=org, street=street, year=year)
    first, after = date(year, 1, 1), date(year + 1, 1, 1)

    # Units: stationed here, and any that reported in to this community this year.
    slips = {
        unit_id: state
        for unit_id, state in (
            await s.execute(
                select(UnitRegistration.unit_id, UnitRegistration.state)
                .where(UnitRegistration.community_id == org.id, UnitRegistration.year == year)
                .order_by(UnitRegistration.id)
            )
        )
        if state != R.ENDED.value
    }
    units = await s.execute(
        select(Unit.id, Unit.name, Unit.community_id, Unit.kind).where(
            Unit.active
            & (
                ((Unit.community_id == org.id) & (Unit.kind == UnitKind.STATIONED.value))
                | Unit.id.in_(list(slips) or [0])
            )
        ).order_by(Unit.name)
    )  # fmt: skip
    for uid, name, cid, kind in units:
        here = cid == org.id and kind == UnitKind.STATIONED.value
        out.units.append(UnitRow(uid, name, here, slips.get(uid, "")))

    out.members = {
        state: n
        for state, n in (
            await s.execute(
                select(MemberRegistration.state, func.count(MemberRegistration.id))
                .where(MemberRegistration.community_id == org.id)
                .group_by(MemberRegistration.state)
            )
        )
    }

    posts = list(
        await s.scalars(
            select(ServicePost)
            .where(ServicePost.community_id == org.id)
            .order_by(ServicePost.active.desc(), ServicePost.id)
        )
    )
    holders: dict[int, list[str]] = {p.id: [] for p in posts}
    claims = await s.execute(
        select(PostClaim.post_id, User.display_name)
        .join(User, User.id == PostClaim.user_id)
        .join(ServicePost, ServicePost.id == PostClaim.post_id)
        .where(ServicePost.community_id == org.id, PostClaim.state == CLAIMED)
        .order_by(PostClaim.claimed_at)
    )
    for post_id, name in claims:
        holders.setdefault(post_id, []).append(name)
    out.posts = [(p, holders[p.id]) for p in posts]

    attended = func.sum(case((Signup.attendance == AttendanceMark.ATTENDED.value, 1), else_=0))
    missed = func.sum(case((Signup.attendance == AttendanceMark.NO_SHOW.value, 1), else_=0))
    marks = (
        select(
            Signup.occurrence_id.label("occ"),
            attended.label("attended"),
            missed.label("missed"),
        )
        .group_by(Signup.occurrence_id)
        .subquery()
    )
    occurrences = await s.execute(
        select(
            ActivityOccurrence.id,
            Activity.title,
            Activity.kind,
            ActivityOccurrence.starts_at,
            ActivityOccurrence.state,
            marks.c.attended,
            marks.c.missed,
        )
        .join(Activity, Activity.id == ActivityOccurrence.activity_id)
        .outerjoin(marks, marks.c.occ == ActivityOccurrence.id)
        .where(
            Activity.community_id == org.id,
            ActivityOccurrence.starts_at >= _utc(first),
            ActivityOccurrence.starts_at < _utc(after),
            ActivityOccurrence.state != OccurrenceState.CANCELLED.value,
        )
        .order_by(ActivityOccurrence.starts_at)
    )
    out.months = [Month(m) for m in range(1, 13)]
    for oid, title, kind, starts, state, n_att, n_miss in occurrences:
        out.occurrences.append(
            OccurrenceRow(oid, title, kind, starts, state, int(n_att or 0), int(n_miss or 0))
        )
        out.months[starts.astimezone(BEIJING).month - 1].activities += 1

    in_year = (
        PointEntry.community_id == org.id,
        PointEntry.occurred_on >= first,
        PointEntry.occurred_on < after,
    )
    days = await s.execute(
        select(PointEntry.occurred_on, func.sum(PointEntry.minutes), func.sum(PointEntry.points))
        .where(*in_year)
        .group_by(PointEntry.occurred_on)
    )
    for day, minutes, points in days:
        month = out.months[day.month - 1]
        month.minutes += int(minutes or 0)
        month.points += int(points or 0)
    out.minutes = sum(m.minutes for m in out.months)
    out.points = sum(m.points for m in out.months)

    total_points = func.sum(PointEntry.points)
    top = await s.execute(
        select(User.id, User.display_name, func.sum(PointEntry.minutes), total_points)
        .join(User, User.id == PointEntry.user_id)
        .where(*in_year)
        .group_by(User.id, User.display_name)
        .order_by(total_points.desc(), User.id)
        .limit(TOP)
    )
    out.top = [(uid, name, int(m or 0), int(p or 0)) for uid, name, m, p in top]

    open_count = func.sum(case((MakeupRecord.made_up_at.is_(None), 1), else_=0))
    makeups = (
        await s.execute(
            select(open_count, func.count(MakeupRecord.id)).where(
                MakeupRecord.community_id == org.id,
                MakeupRecord.missed_on >= first,
                MakeupRecord.missed_on < after,
            )
        )
    ).one()
    out.makeups_open = int(makeups[0] or 0)
    out.makeups_closed = int(makeups[1] or 0) - out.makeups_open
    return out
