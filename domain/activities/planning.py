"""Planning activities: create (with its dates materialised), announce, edit.

Every service takes `now` (for tests); every change writes an audit entry and publishes
`activity.changed` on the street's topic. Cancelling and single-date exceptions are in
`plan_dates`; the conflict checks in `conflicts`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from domain.activities.access import can_create_in, is_street_staff, resolve
from domain.activities.conflicts import (
    Taken,
    find_clashes,
    host_names,
    load_booked,
    venue_key,
)
from domain.activities.forms import ActivityInput, parse_activity_form
from domain.activities.recurrence import RecurrenceError, expand, local_date
from domain.conference.access import acting_unit_ids, users_acting_for
from domain.enums import (
    ActivityKind,
    ActivityState,
    BookingState,
    ListingState,
    OccurrenceState,
    OrgLevel,
    ResourceKind,
    Role,
)
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization, RoleGrant, Unit, User
from domain.models.activities import Activity, ActivityHost, ActivityOccurrence
from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.topics import street_topic
from domain.uow import UnitOfWork

CLASH_FIELD = "confirm_conflicts"


class Placement(Protocol):
    """Where an activity happens and who hosts it: what a clash is judged on."""

    @property
    def venue(self) -> str: ...
    @property
    def resource_id(self) -> int | None: ...
    @property
    def booking_id(self) -> int | None: ...
    @property
    def host_unit_ids(self) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class ActivityPlacement:
    """The placement of a saved activity (for moving one of its dates)."""

    venue: str
    resource_id: int | None
    booking_id: int | None
    host_unit_ids: tuple[int, ...]

    @classmethod
    def of(cls, activity: Activity) -> ActivityPlacement:
        return cls(
            activity.venue,
            activity.resource_id,
            activity.booking_id,
            tuple(h.unit_id for h in activity.hosts),
        )


class ClashWarning(ValidationFailed):
    """The plan double-books a venue or a host unit: saved only once the user confirms."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(
            {CLASH_FIELD: "存在时间冲突。确认无误请勾选“仍然保存”后再提交。"},
            "存在场地或主办单位的时间冲突，请查看下方提示。",
        )
        self.warnings = warnings


def publish(uow: UnitOfWork, activity: Activity) -> None:
    uow.publish(street_topic(activity.street_id), "activity.changed", activity_id=activity.id)


async def load_activity(uow: UnitOfWork, activity_id: int) -> Activity:
    activity = await uow.session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(selectinload(Activity.hosts).joinedload(ActivityHost.unit))
    )
    if activity is None:
        raise NotFound("活动不存在或尚未发布。")
    return activity


async def load_occurrence(
    uow: UnitOfWork, occurrence_id: int, activity_id: int | None = None
) -> ActivityOccurrence:
    occ = await uow.session.get(ActivityOccurrence, occurrence_id)
    if occ is None or (activity_id is not None and occ.activity_id != activity_id):
        raise NotFound("活动日期不存在。")
    return occ


def host_ids(activity: Activity) -> frozenset[int]:
    return frozenset(h.unit_id for h in activity.hosts)


def check_version(activity: Activity | ActivityOccurrence, version: int | None) -> None:
    if version is not None and version != activity.version:
        raise Conflict()


def version_of(raw: Mapping[str, str]) -> int | None:
    text = raw.get("version", "").strip()
    return int(text) if text.isdecimal() and len(text) <= 9 else None


async def require_organiser(uow: UnitOfWork, actor: Actor, activity: Activity) -> None:
    access = await resolve(uow, actor, activity, host_ids(activity))
    if not access.can_read:
        raise NotFound("活动不存在或尚未发布。")
    access.require_organiser()


# --- checking a plan ---------------------------------------------------------------------


async def allowed_host_units(uow: UnitOfWork, actor: Actor, street_id: int) -> list[Unit]:
    """Units the actor may name as hosts: any active unit for street staff, else its own."""
    query = select(Unit).where(Unit.street_id == street_id, Unit.active).order_by(Unit.name)
    if not is_street_staff(actor, street_id):
        query = query.where(Unit.id.in_(await acting_unit_ids(uow, actor)))
    return list(await uow.session.scalars(query))


async def check_places(
    uow: UnitOfWork, street_id: int, data: ActivityInput, errors: dict[str, str]
) -> Resource | None:
    s = uow.session
    if data.community_id is not None:
        community = await s.get(Organization, data.community_id)
        if (
            community is None
            or community.level != OrgLevel.COMMUNITY
            or community.parent_id != street_id
        ):
            errors["community_id"] = "请选择本街道的社区。"
    resource: Resource | None = None
    if data.resource_id is not None:
        resource = await s.get(Resource, data.resource_id)
        if (
            resource is None
            or resource.street_id != street_id
            or resource.kind != ResourceKind.VENUE
            or resource.state != ListingState.LISTED
        ):
            errors["resource_id"] = "请选择本街道资源清单中已上架的场地。"
            resource = None
    if data.booking_id is not None and resource is not None:
        row = (
            await s.execute(
                select(Booking, ResourceSlot)
                .join(ResourceSlot, ResourceSlot.id == Booking.slot_id)
                .where(Booking.id == data.booking_id)
            )
        ).first()
        if row is None or row[0].resource_id != resource.id:
            errors["booking_id"] = "所选预约不属于该场地。"
        else:
            booking, slot = row
            if booking.state != BookingState.APPROVED:
                errors["booking_id"] = "只能使用已批准的预约。"
            elif booking.requester_unit_id not in data.host_unit_ids:
                errors["booking_id"] = "只能使用主办单位的预约。"
            elif data.recurrence:
                errors["booking_id"] = "预约时段只适用于单次活动。"
            elif not (slot.starts_at <= data.starts_at and data.ends_at <= slot.ends_at):
                errors["booking_id"] = "活动时间须在预约时段之内。"
    return resource


async def check_hosts(
    uow: UnitOfWork,
    actor: Actor,
    street_id: int,
    data: ActivityInput,
    errors: dict[str, str],
    keep: frozenset[int] = frozenset(),
) -> None:
    """Hosts must be active units of the street the actor may name (`keep`: already there)."""
    allowed = {u.id for u in await allowed_host_units(uow, actor, street_id)}
    if not data.host_unit_ids:
        errors["lead_unit_id"] = "请选择牵头主办单位。"
    elif any(u not in allowed and u not in keep for u in data.host_unit_ids):
        errors["lead_unit_id"] = "只能选择您所代表的单位作为主办单位。"


def plan_dates(
    data: ActivityInput, now: datetime, errors: dict[str, str]
) -> list[tuple[datetime, datetime]]:
    try:
        dates = expand(data.recurrence, data.starts_at, data.ends_at, data.recurrence_until)
    except RecurrenceError as exc:
        errors["recurrence_until" if data.recurrence_until else "repeat"] = str(exc)
        return []
    if dates[0][0] <= now:
        errors["date"] = "活动开始时间已过，请选择将来的时间。"
    return dates


async def clashes_for(
    uow: UnitOfWork,
    street_id: int,
    dates: Sequence[tuple[datetime, datetime]],
    data: Placement,
    exclude_activity_id: int | None = None,
) -> list[str]:
    """Warnings for a planned set of dates (three queries whatever their number)."""
    if not dates:
        return []
    booked = await load_booked(uow, street_id, dates[0][0], dates[-1][1])
    others = [
        t for t in booked.taken() if t.activity_id is None or t.activity_id != exclude_activity_id
    ]
    names = host_names(booked.occurrences)
    mine = [
        Taken(
            key=f"new:{i}",
            label="",
            starts_at=start,
            ends_at=end,
            venue=venue_key(data.venue),
            resource_id=data.resource_id,
            host_unit_ids=frozenset(data.host_unit_ids),
            booking_id=data.booking_id,
        )
        for i, (start, end) in enumerate(dates)
    ]
    found = find_clashes(mine, others, names)
    out: list[str] = []
    for i, (start, _end) in enumerate(dates):
        for reason in found.get(f"new:{i}", []):
            out.append(f"{local_date(start):%Y-%m-%d}：{reason}")
    return out


def new_occurrences(
    activity: Activity, dates: Sequence[tuple[datetime, datetime]]
) -> list[ActivityOccurrence]:
    return [
        ActivityOccurrence(
            activity_id=activity.id,
            street_id=activity.street_id,
            starts_at=start,
            ends_at=end,
            original_starts_at=start,
            state=OccurrenceState.SCHEDULED.value,
            checkin_token=secrets.token_urlsafe(24),
        )
        for start, end in dates
    ]


def apply_input(activity: Activity, data: ActivityInput, resource: Resource | None) -> None:
    activity.kind = data.kind.value
    activity.title = data.title
    activity.description = data.description
    activity.community_id = data.community_id
    activity.venue = data.venue or (resource.title if resource else "")
    activity.resource_id = data.resource_id
    activity.booking_id = data.booking_id
    activity.capacity = data.capacity
    activity.signup_rule = data.signup_rule.value
    activity.waitlist = data.waitlist
    activity.service_minutes = data.service_minutes
    activity.points = data.points


# --- create ------------------------------------------------------------------------------


async def create_activity(
    uow: UnitOfWork,
    actor: Actor,
    street_id: int,
    raw: Mapping[str, str],
    now: datetime | None = None,
) -> Activity:
    """A new activity (筹备中) with every date materialised."""
    now = now or utcnow()
    acting = await acting_unit_ids(uow, actor)
    if not can_create_in(actor, street_id, acting):
        raise PermissionDenied("只有街道工作人员、单位联络员或社区书记可以发起活动。")
    data = parse_activity_form(raw)
    errors: dict[str, str] = {}
    await check_hosts(uow, actor, street_id, data, errors)
    resource = await check_places(uow, street_id, data, errors)
    dates = plan_dates(data, now, errors)
    if errors:
        raise ValidationFailed(errors)
    if not data.confirm_conflicts:
        warnings = await clashes_for(uow, street_id, dates, data)
        if warnings:
            raise ClashWarning(warnings)
    activity = Activity(
        street_id=street_id,
        starts_at=dates[0][0],
        ends_at=dates[0][1],
        recurrence=data.recurrence,
        recurrence_until=data.recurrence_until,
        state=ActivityState.PLANNED.value,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    apply_input(activity, data, resource)
    activity.hosts = [
        ActivityHost(unit_id=unit_id, position=i) for i, unit_id in enumerate(data.host_unit_ids)
    ]
    uow.session.add(activity)
    await uow.flush()
    uow.session.add_all(new_occurrences(activity, dates))
    await uow.flush()
    uow.audit(
        "activity.create", "activity", activity.id, f"{activity.title}（{len(dates)} 个日期）"
    )
    publish(uow, activity)
    return activity


# --- announce ----------------------------------------------------------------------------


async def party_members_of(uow: UnitOfWork, community_id: int) -> set[int]:
    return set(
        await uow.session.scalars(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                RoleGrant.role == Role.PARTY_MEMBER.value,
                RoleGrant.organization_id == community_id,
                User.active,
            )
        )
    )


async def announce(
    uow: UnitOfWork,
    actor: Actor,
    activity_id: int,
    version: int | None,
    now: datetime | None = None,
) -> Activity:
    """筹备中 → 已发布: hosts' people are told; for a themed party day, the community's
    party members too (one notification each)."""
    now = now or utcnow()
    activity = await load_activity(uow, activity_id)
    await require_organiser(uow, actor, activity)
    check_version(activity, version)
    if activity.state != ActivityState.PLANNED:
        raise Conflict("该活动已发布或已取消。")
    activity.state = ActivityState.ANNOUNCED.value
    activity.updated_at = now
    users = await users_acting_for(uow, host_ids(activity))
    if activity.kind == ActivityKind.THEMED_DAY and activity.community_id is not None:
        users |= await party_members_of(uow, activity.community_id)
    notify(
        uow,
        users,
        "activity",
        f"活动发布：{activity.title}",
        f"地点：{activity.venue}",
        link=f"/activities/{activity.id}",
    )
    uow.audit("activity.announce", "activity", activity.id, activity.title)
    publish(uow, activity)
    await uow.flush()
    return activity
