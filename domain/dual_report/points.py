"""A member's points ledger (服务时长与积分) and corrections to it.

Lines come from activity settlement (point_activity), service on a post (point_post) and
corrections (point_adjust, with a reason, possibly negative). Lines are never edited.

Who may read a member's ledger: the member; the secretary of the member's community; the
street's staff; the liaisons of the member's employer unit. Everyone else is told it does
not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import aliased

from domain.dual_report.common import (
    LIVE_STATES,
    beijing_today,
    is_community_secretary,
    is_street_staff,
    publish_change,
    quarter_of,
)
from domain.enums import OrgLevel, PointSource, Role
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization, RoleGrant, User
from domain.models.activities import Activity, ActivityOccurrence, PointEntry
from domain.models.dual_report import MemberRegistration, ServicePost
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.uow import UnitOfWork

MAX_ADJUST = 1000


@dataclass(frozen=True)
class LedgerLine:
    entry: PointEntry
    what: str  # the activity's title or the post's name
    community_name: str

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.entry.minutes) / 60).quantize(Decimal("0.1"))


@dataclass
class Totals:
    minutes: int = 0
    points: int = 0

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))


@dataclass
class Ledger:
    user: User
    lines: list[LedgerLine]
    year: int
    this_year: Totals = field(default_factory=Totals)
    all_time: Totals = field(default_factory=Totals)
    quarters: dict[int, Totals] = field(default_factory=dict)  # this year's, 1–4
    registration: MemberRegistration | None = None
    can_adjust: bool = False
    street_id: int | None = None


@dataclass(frozen=True)
class MemberPlace:
    """Where a member belongs, for access checks and snapshots."""

    registration: MemberRegistration | None
    community_ids: frozenset[int]
    street_ids: frozenset[int]


async def member_place(uow: UnitOfWork, user_id: int) -> MemberPlace:
    reg = await uow.session.scalar(
        select(MemberRegistration).where(
            MemberRegistration.user_id == user_id, MemberRegistration.state.in_(LIVE_STATES)
        )
    )
    rows = (
        await uow.session.execute(
            select(Organization.id, Organization.parent_id)
            .join(RoleGrant, RoleGrant.organization_id == Organization.id)
            .where(
                RoleGrant.user_id == user_id,
                RoleGrant.role == Role.PARTY_MEMBER.value,
                Organization.level == OrgLevel.COMMUNITY.value,
            )
        )
    ).all()
    communities = {c for c, _ in rows}
    streets = {s for _, s in rows if s is not None}
    if reg is not None:
        communities.add(reg.community_id)
        streets.add(reg.street_id)
    return MemberPlace(reg, frozenset(communities), frozenset(streets))


def can_read(actor: Actor, user_id: int, place: MemberPlace) -> bool:
    if actor.user_id == user_id or actor.is_admin:
        return True
    if any(is_community_secretary(actor, c) for c in place.community_ids):
        return True
    if any(is_street_staff(actor, s) for s in place.street_ids):
        return True
    reg = place.registration
    return (
        reg is not None
        and reg.employer_unit_id is not None
        and reg.employer_unit_id in actor.unit_ids_with(Role.UNIT_LIAISON, Role.DEPT_LIAISON)
    )


def can_adjust(actor: Actor, place: MemberPlace) -> bool:
    reg = place.registration
    if reg is None:
        return False
    return is_community_secretary(actor, reg.community_id) or is_street_staff(actor, reg.street_id)


async def ledger(uow: UnitOfWork, actor: Actor, user_id: int) -> Ledger:
    user = await uow.session.get(User, user_id)
    place = await member_place(uow, user_id)
    if user is None or not can_read(actor, user_id, place):
        raise NotFound("该党员的积分台账不存在，或不在您可查看的范围内。")
    community = aliased(Organization, name="community")
    rows = await uow.session.execute(
        select(PointEntry, Activity.title, ServicePost.name, community.name)
        .outerjoin(ActivityOccurrence, ActivityOccurrence.id == PointEntry.occurrence_id)
        .outerjoin(Activity, Activity.id == ActivityOccurrence.activity_id)
        .outerjoin(ServicePost, ServicePost.id == PointEntry.post_id)
        .outerjoin(community, community.id == PointEntry.community_id)
        .where(PointEntry.user_id == user_id)
        .order_by(PointEntry.occurred_on.desc(), PointEntry.id.desc())
    )
    year = beijing_today().year
    out = Ledger(user=user, lines=[], year=year, registration=place.registration)
    out.quarters = defaultdict(Totals)
    for entry, title, post_name, community_name in rows:
        out.lines.append(LedgerLine(entry, title or post_name or "", community_name or ""))
        out.all_time.minutes += entry.minutes
        out.all_time.points += entry.points
        if entry.occurred_on.year == year:
            out.this_year.minutes += entry.minutes
            out.this_year.points += entry.points
            q = out.quarters[quarter_of(entry.occurred_on)]
            q.minutes += entry.minutes
            q.points += entry.points
    out.quarters = {q: out.quarters.get(q, Totals()) for q in (1, 2, 3, 4)}
    out.can_adjust = can_adjust(actor, place)
    out.street_id = place.registration.street_id if place.registration else None
    if out.street_id is None and place.street_ids:
        out.street_id = min(place.street_ids)
    return out


def parse_adjust(raw: Mapping[str, str]) -> tuple[int, int, str]:
    errors: dict[str, str] = {}
    text = raw.get("points", "").strip()
    digits = text.removeprefix("-").removeprefix("+")
    points = int(text) if digits.isdecimal() and len(digits) <= 5 else 0
    if not points or abs(points) > MAX_ADJUST:
        errors["points"] = f"调整积分须为非零整数（-{MAX_ADJUST} 至 {MAX_ADJUST}），扣减填负数。"
    minutes = 0
    hours_text = raw.get("hours", "").strip()
    if hours_text:
        try:
            hours = Decimal(hours_text)
        except InvalidOperation:
            hours = Decimal("nan")
        if not hours.is_finite() or abs(hours) > 100 or (hours * 2) % 1:
            errors["hours"] = "调整时长须在 -100 至 100 小时之间，按半小时计。"
        else:
            minutes = int(hours * 60)
    reason = raw.get("reason", "").strip()
    if not reason:
        errors["reason"] = "请填写调整原因。"
    elif len(reason) > 300:
        errors["reason"] = "调整原因不超过 300 个字。"
    if errors:
        raise ValidationFailed(errors)
    return points, minutes, reason


async def adjust(
    uow: UnitOfWork, actor: Actor, user_id: int, raw: Mapping[str, str], today: date | None = None
) -> PointEntry:
    """A correction line (point_adjust) by the community secretary or street staff."""
    place = await member_place(uow, user_id)
    if not can_read(actor, user_id, place):
        raise NotFound("该党员的积分台账不存在，或不在您可查看的范围内。")
    if not can_adjust(actor, place):
        raise PermissionDenied("只有党员报到社区的书记或街道工作人员可以调整积分。")
    points, minutes, reason = parse_adjust(raw)
    reg = place.registration
    assert reg is not None
    entry = PointEntry(
        user_id=user_id,
        street_id=reg.street_id,
        community_id=reg.community_id,
        employer_unit_id=reg.employer_unit_id,
        source=PointSource.ADJUST.value,
        occurred_on=today or beijing_today(),
        minutes=minutes,
        points=points,
        note=reason,
        posted_by_id=actor.user_id,
    )
    uow.session.add(entry)
    await uow.flush()
    uow.audit("points.adjust", "point_entry", entry.id, f"{points:+d} 分：{reason}")
    notify(uow, [user_id], "points", f"积分调整 {points:+d} 分", reason, "/points/me")
    publish_change(uow, reg.street_id, [user_id], kind="points.changed")
    return entry
