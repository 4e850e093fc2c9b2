"""Booking venues and equipment by time slot.

The owner unit's liaison publishes slots (Beijing time, stored as UTC); another unit asks
for one; the owner approves or declines. The database holds at most one live booking per
slot (the partial unique index `uq_bookings_live_slot`), so of many concurrent requests for
the same slot exactly one is stored and the rest are told the slot is taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from domain.conference.access import acting_unit_ids, acting_units, users_acting_for
from domain.enums import BookingState, ListingState, ResourceKind, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Unit
from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.permissions import Actor, can_view_directory, can_view_street
from domain.services.notifications import notify
from domain.topics import unit_topic
from domain.uow import UnitOfWork

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_RANGE_DAYS = 92
MAX_SLOTS_PER_PUBLISH = 1500
MIN_SLOT_MINUTES = 15
CONFLICT_MESSAGE = "该时段已有预约申请或已被预约，请选择其他时段。"
LIVE_STATES = (BookingState.REQUESTED.value, BookingState.APPROVED.value)
BOOKABLE_KINDS = (ResourceKind.VENUE.value, ResourceKind.EQUIPMENT.value)
STREET_STAFF = (Role.STREET_SECRETARY, Role.SUPERVISOR)
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
MY_LIMIT = 100


# --- who acts for what -------------------------------------------------------------------


def _is_street_staff(actor: Actor, resource: Resource) -> bool:
    return actor.is_admin or resource.street_id in actor.streets_with(*STREET_STAFF)


def _can_read(actor: Actor, resource: Resource) -> bool:
    return can_view_directory(actor) and can_view_street(actor, resource.street_id)


async def _resource(uow: UnitOfWork, resource_id: int) -> Resource:
    resource = await uow.session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("资源不存在。")
    return resource


def _require_bookable(resource: Resource) -> None:
    if resource.kind not in BOOKABLE_KINDS or not resource.bookable:
        raise ValidationFailed({}, "该资源不接受按时段预约。")
    if resource.state != ListingState.LISTED.value:
        raise Conflict("该资源目前未上架，不能预约。")


async def _require_owner(uow: UnitOfWork, actor: Actor, resource: Resource) -> None:
    if resource.unit_id not in await acting_unit_ids(uow, actor):
        raise PermissionDenied("只有提供该资源的单位可以执行此操作。")


def _check_version(booking: Booking, version: int | None) -> None:
    if version is not None and version != booking.version:
        raise Conflict()


def beijing(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)


# --- publishing slots --------------------------------------------------------------------


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _parse_time(text: str) -> time | None:
    text = text.strip()
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class SlotPlan:
    first: date
    last: date
    weekdays: frozenset[int]  # 0 = Monday
    start: time
    end: time
    minutes: int


def parse_slot_form(raw: Mapping[str, str]) -> SlotPlan:
    errors: dict[str, str] = {}
    first = _parse_date(raw.get("date_from", ""))
    last = _parse_date(raw.get("date_to", ""))
    if first is None:
        errors["date_from"] = "请填写开始日期（如 2026-12-01）。"
    if last is None:
        errors["date_to"] = "请填写结束日期（如 2026-12-31）。"
    if first and last:
        if last < first:
            errors["date_to"] = "结束日期不能早于开始日期。"
        elif (last - first).days + 1 > MAX_RANGE_DAYS:
            errors["date_to"] = f"一次最多发布 {MAX_RANGE_DAYS} 天的时段。"
    weekdays: set[int] = set()
    for part in raw.get("weekdays", "").replace("，", ",").split(","):
        part = part.strip()
        if part.isdecimal() and len(part) == 1 and 0 <= int(part) <= 6:
            weekdays.add(int(part))
    if not weekdays:
        errors["weekdays"] = "请至少选择一天（周一至周日）。"
    start = _parse_time(raw.get("start_time", ""))
    end = _parse_time(raw.get("end_time", ""))
    if start is None:
        errors["start_time"] = "请填写每日开始时间（如 09:00）。"
    if end is None:
        errors["end_time"] = "请填写每日结束时间（如 17:00）。"
    if start and end and end <= start:
        errors["end_time"] = "结束时间须晚于开始时间。"
    minutes_text = raw.get("slot_minutes", "").strip()
    minutes = int(minutes_text) if minutes_text.isdecimal() and len(minutes_text) <= 4 else 0
    if not MIN_SLOT_MINUTES <= minutes <= 24 * 60:
        errors["slot_minutes"] = f"每个时段的时长为 {MIN_SLOT_MINUTES}–1440 分钟。"
    elif start and end and "end_time" not in errors:
        span = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if minutes > span:
            errors["slot_minutes"] = "时段时长超过了每日开放时间。"
    if errors:
        raise ValidationFailed(errors)
    assert first and last and start and end
    return SlotPlan(first, last, frozenset(weekdays), start, end, minutes)


def plan_slots(plan: SlotPlan) -> list[tuple[datetime, datetime]]:
    """Start and end (UTC) of every slot the plan describes; a slot ends by the day's end."""
    out: list[tuple[datetime, datetime]] = []
    step = timedelta(minutes=plan.minutes)
    day = plan.first
    while day <= plan.last:
        if day.weekday() in plan.weekdays:
            start = datetime.combine(day, plan.start, BEIJING)
            close = datetime.combine(day, plan.end, BEIJING)
            while start + step <= close:
                out.append((start.astimezone(UTC), (start + step).astimezone(UTC)))
                start += step
        day += timedelta(days=1)
    return out


async def publish_slots(
    uow: UnitOfWork, actor: Actor, resource_id: int, raw: Mapping[str, str]
) -> int:
    """Add the slots a form describes (those already there are kept). Returns how many."""
    resource = await _resource(uow, resource_id)
    await _require_owner(uow, actor, resource)
    _require_bookable(resource)
    plan = parse_slot_form(raw)
    now = utcnow()
    wanted = [(s, e) for s, e in plan_slots(plan) if s > now]
    if not wanted:
        raise ValidationFailed({"date_from": "所选日期和时间内没有可发布的未来时段。"})
    if len(wanted) > MAX_SLOTS_PER_PUBLISH:
        raise ValidationFailed(
            {"slot_minutes": f"一次最多发布 {MAX_SLOTS_PER_PUBLISH} 个时段，请缩短日期范围。"}
        )
    existing = set(
        await uow.session.scalars(
            select(ResourceSlot.starts_at).where(
                ResourceSlot.resource_id == resource.id,
                ResourceSlot.starts_at >= wanted[0][0],
                ResourceSlot.starts_at <= wanted[-1][0],
            )
        )
    )
    added = 0
    for start, end in wanted:
        if start not in existing:
            uow.session.add(ResourceSlot(resource_id=resource.id, starts_at=start, ends_at=end))
            added += 1
    uow.audit(
        "booking.publish_slots",
        "resource",
        resource.id,
        f"{resource.title}：发布 {added} 个时段（{plan.first}–{plan.last}）",
    )
    _publish(uow, resource)
    return added


async def remove_slot(uow: UnitOfWork, actor: Actor, slot_id: int) -> None:
    slot = await uow.session.get(ResourceSlot, slot_id)
    if slot is None:
        raise NotFound("时段不存在。")
    resource = await _resource(uow, slot.resource_id)
    await _require_owner(uow, actor, resource)
    live = await uow.session.scalar(
        select(Booking.id).where(Booking.slot_id == slot.id, Booking.state.in_(LIVE_STATES))
    )
    if live is not None:
        raise Conflict("该时段已有预约，不能删除。请先处理预约。")
    used = await uow.session.scalar(select(Booking.id).where(Booking.slot_id == slot.id))
    if used is not None:
        # Declined or cancelled bookings keep their history: the slot stays.
        raise Conflict("该时段有历史预约记录，不能删除。")
    await uow.session.delete(slot)
    uow.audit("booking.remove_slot", "resource", resource.id, f"删除时段 {slot.starts_at}")
    _publish(uow, resource)


# --- requests and decisions --------------------------------------------------------------


def _publish(uow: UnitOfWork, resource: Resource, *units: int) -> None:
    for unit_id in sorted({resource.unit_id, *units}):
        uow.publish(unit_topic(unit_id), "booking.changed", resource_id=resource.id)


def _slot_text(slot: ResourceSlot) -> str:
    start, end = beijing(slot.starts_at), beijing(slot.ends_at)
    return f"{start:%Y-%m-%d} {WEEKDAY_NAMES[start.weekday()]} {start:%H:%M}–{end:%H:%M}"


async def request_booking(
    uow: UnitOfWork, actor: Actor, slot_id: int, raw: Mapping[str, str]
) -> Booking:
    slot = await uow.session.get(ResourceSlot, slot_id)
    if slot is None:
        raise NotFound("时段不存在。")
    resource = await _resource(uow, slot.resource_id)
    if not _can_read(actor, resource):
        raise NotFound("资源不存在，或不在您可查看的范围内。")
    _require_bookable(resource)
    units = await acting_unit_ids(uow, actor)
    if not units:
        raise PermissionDenied("只有驻区单位联络员或社区书记可以代表单位预约。")
    unit_text = raw.get("unit_id", "").strip()
    if unit_text:
        unit_id = int(unit_text) if unit_text.isdecimal() and len(unit_text) <= 9 else 0
        if unit_id not in units:
            raise PermissionDenied("您只能代表本单位预约。")
    elif len(units) == 1:
        unit_id = next(iter(units))
    else:
        raise ValidationFailed({"unit_id": "请选择代表哪个单位预约。"})
    if unit_id == resource.unit_id:
        raise ValidationFailed({}, "这是本单位提供的资源，无需预约。")
    if slot.starts_at <= utcnow():
        raise ValidationFailed({}, "该时段已开始或已过去，不能预约。")
    errors: dict[str, str] = {}
    purpose = raw.get("purpose", "").strip()
    if not purpose:
        errors["purpose"] = "请填写用途（如：社区党员学习活动）。"
    elif len(purpose) > 300:
        errors["purpose"] = "用途不超过 300 字。"
    attendees_text = raw.get("attendees", "").strip()
    attendees = int(attendees_text) if attendees_text.isdecimal() and len(attendees_text) < 7 else 0
    if attendees < 1:
        errors["attendees"] = "请填写预计人数（正整数）。"
    elif resource.capacity and attendees > resource.capacity:
        errors["attendees"] = f"预计人数超过了场地容量（{resource.capacity} 人）。"
    if errors:
        raise ValidationFailed(errors)
    taken = await uow.session.scalar(
        select(Booking.id).where(Booking.slot_id == slot.id, Booking.state.in_(LIVE_STATES))
    )
    if taken is not None:
        raise Conflict(CONFLICT_MESSAGE)
    booking = Booking(
        slot_id=slot.id,
        resource_id=resource.id,
        requester_unit_id=unit_id,
        requested_by_id=actor.user_id,
        purpose=purpose,
        attendees=attendees,
        state=BookingState.REQUESTED.value,
    )
    uow.session.add(booking)
    try:
        # Someone may have asked between the check and now: the partial unique index
        # decides (on PostgreSQL this waits for their transaction, then refuses).
        await uow.session.flush()
    except IntegrityError:
        raise Conflict(CONFLICT_MESSAGE) from None
    requester = await uow.session.get(Unit, unit_id)
    name = requester.name if requester else ""
    when = _slot_text(slot)
    uow.audit("booking.request", "booking", booking.id, f"{resource.title} {when} {name}")
    notify(
        uow,
        await users_acting_for(uow, [resource.unit_id]),
        "booking",
        f"预约申请：{resource.title} {when}",
        f"{name}：{purpose}（{attendees} 人）",
        link="/bookings",
    )
    _publish(uow, resource, unit_id)
    return booking


async def _booking(uow: UnitOfWork, booking_id: int) -> tuple[Booking, Resource, ResourceSlot]:
    booking = await uow.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("预约不存在。")
    resource = await _resource(uow, booking.resource_id)
    slot = await uow.session.get(ResourceSlot, booking.slot_id)
    assert slot is not None
    return booking, resource, slot


async def _decide(
    uow: UnitOfWork,
    actor: Actor,
    booking_id: int,
    version: int | None,
    approve: bool,
    reason: str = "",
) -> Booking:
    booking, resource, slot = await _booking(uow, booking_id)
    await _require_owner(uow, actor, resource)
    _check_version(booking, version)
    if booking.state != BookingState.REQUESTED.value:
        raise Conflict("该预约已处理或已取消，请刷新后查看。")
    reason = reason.strip()
    if not approve:
        if not reason:
            raise ValidationFailed({"reason": "谢绝预约时请说明原因。"})
        if len(reason) > 300:
            raise ValidationFailed({"reason": "原因不超过 300 字。"})
    elif slot.starts_at <= utcnow():
        raise Conflict("该时段已过，不能再批准。")
    booking.state = (BookingState.APPROVED if approve else BookingState.DECLINED).value
    booking.decline_reason = reason
    booking.decided_by_id = actor.user_id
    booking.decided_at = utcnow()
    when = _slot_text(slot)
    verb = "已批准" if approve else "已谢绝"
    uow.audit(
        "booking.approve" if approve else "booking.decline",
        "booking",
        booking.id,
        f"{resource.title} {when} {reason}".strip(),
    )
    notify(
        uow,
        await users_acting_for(uow, [booking.requester_unit_id]),
        "booking",
        f"预约{verb}：{resource.title} {when}",
        reason,
        link="/bookings",
    )
    _publish(uow, resource, booking.requester_unit_id)
    await uow.flush()
    return booking


async def approve_booking(
    uow: UnitOfWork, actor: Actor, booking_id: int, version: int | None
) -> Booking:
    return await _decide(uow, actor, booking_id, version, approve=True)


async def decline_booking(
    uow: UnitOfWork, actor: Actor, booking_id: int, version: int | None, reason: str
) -> Booking:
    return await _decide(uow, actor, booking_id, version, approve=False, reason=reason)


async def cancel_booking(
    uow: UnitOfWork, actor: Actor, booking_id: int, version: int | None
) -> Booking:
    """The requesting unit withdraws its request (or approved booking); the slot is free."""
    booking, resource, slot = await _booking(uow, booking_id)
    if booking.requester_unit_id not in await acting_unit_ids(uow, actor):
        raise PermissionDenied("只有申请单位可以取消预约。")
    _check_version(booking, version)
    if booking.state not in LIVE_STATES:
        raise Conflict("该预约已谢绝或已取消。")
    if slot.starts_at <= utcnow():
        raise Conflict("该时段已开始或已过去，不能取消。")
    booking.state = BookingState.CANCELLED.value
    uow.audit("booking.cancel", "booking", booking.id, f"{resource.title} {_slot_text(slot)}")
    notify(
        uow,
        await users_acting_for(uow, [resource.unit_id]),
        "booking",
        f"预约已取消：{resource.title} {_slot_text(slot)}",
        link=f"/resources/{resource.id}/schedule",
    )
    _publish(uow, resource, booking.requester_unit_id)
    await uow.flush()
    return booking


# --- read models -------------------------------------------------------------------------


@dataclass
class SlotView:
    slot: ResourceSlot
    booking: Booking | None
    # Who booked, when this viewer may know it (owner, street, the booker itself).
    booker: str
    mine: bool
    past: bool

    @property
    def starts(self) -> datetime:
        return beijing(self.slot.starts_at)

    @property
    def ends(self) -> datetime:
        return beijing(self.slot.ends_at)

    @property
    def free(self) -> bool:
        return self.booking is None and not self.past


@dataclass
class DayColumn:
    day: date
    slots: list[SlotView] = field(default_factory=list)

    @property
    def weekday(self) -> str:
        return WEEKDAY_NAMES[self.day.weekday()]


@dataclass
class Schedule:
    resource: Resource
    owner: Unit
    week_start: date
    days: list[DayColumn]
    is_owner: bool
    sees_bookers: bool
    units: list[Unit]  # units the viewer may book for (not the owner)

    @property
    def prev_week(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.week_start + timedelta(days=7)

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def resource_schedule(
    uow: UnitOfWork, actor: Actor, resource_id: int, week_start: date | None = None
) -> Schedule:
    resource = await _resource(uow, resource_id)
    mine = await acting_unit_ids(uow, actor)
    is_owner = resource.unit_id in mine
    staff = _is_street_staff(actor, resource)
    if not (is_owner or staff or (_can_read(actor, resource) and resource.state == "listed")):
        raise NotFound("资源不存在，或不在您可查看的范围内。")
    owner = await uow.session.get(Unit, resource.unit_id)
    assert owner is not None
    monday = monday_of(week_start or utcnow().astimezone(BEIJING).date())
    start = datetime.combine(monday, time(0), BEIJING).astimezone(UTC)
    end = start + timedelta(days=7)
    slots = list(
        await uow.session.scalars(
            select(ResourceSlot)
            .where(
                ResourceSlot.resource_id == resource.id,
                ResourceSlot.starts_at >= start,
                ResourceSlot.starts_at < end,
            )
            .order_by(ResourceSlot.starts_at)
        )
    )
    bookings: dict[int, Booking] = {}
    if slots:
        rows = await uow.session.scalars(
            select(Booking)
            .where(Booking.slot_id.in_([s.id for s in slots]), Booking.state.in_(LIVE_STATES))
            .options(selectinload(Booking.requester_unit))
        )
        bookings = {b.slot_id: b for b in rows}
    now = utcnow()
    days = [DayColumn(monday + timedelta(days=i)) for i in range(7)]
    sees = is_owner or staff
    for slot in slots:
        booking = bookings.get(slot.id)
        own = booking is not None and booking.requester_unit_id in mine
        booker = booking.requester_unit.name if booking and (sees or own) else ""
        view = SlotView(slot, booking, booker, own, slot.starts_at <= now)
        days[(beijing(slot.starts_at).date() - monday).days].slots.append(view)
    units = [] if not mine else await acting_units(uow, actor)
    return Schedule(
        resource=resource,
        owner=owner,
        week_start=monday,
        days=days,
        is_owner=is_owner,
        sees_bookers=sees,
        units=[u for u in units if u.id != resource.unit_id],
    )


@dataclass
class BookingRow:
    booking: Booking
    resource_title: str
    owner_name: str

    @property
    def when(self) -> str:
        return _slot_text(self.booking.slot)

    @property
    def day(self) -> date:
        """The slot's day in Beijing (links to the schedule week holding it)."""
        return beijing(self.booking.slot.starts_at).date()


@dataclass
class MyBookings:
    mine: list[BookingRow]
    waiting: list[BookingRow]  # requests to the actor's units, to approve or decline
    decided: list[BookingRow]  # recent decisions on the actor's units' resources


async def _rows(uow: UnitOfWork, *where: object, limit: int = MY_LIMIT) -> list[BookingRow]:
    owner = Unit.__table__.alias("owner")
    rows = await uow.session.execute(
        select(Booking, Resource.title, owner.c.name)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(owner, owner.c.id == Resource.unit_id)
        .where(*where)  # type: ignore[arg-type]
        .options(selectinload(Booking.slot), selectinload(Booking.requester_unit))
        .order_by(Booking.id.desc())
        .limit(limit)
    )
    return [BookingRow(b, title, name) for b, title, name in rows]


async def my_bookings(uow: UnitOfWork, actor: Actor) -> MyBookings:
    units = await acting_unit_ids(uow, actor)
    if not units:
        return MyBookings([], [], [])
    mine = await _rows(uow, Booking.requester_unit_id.in_(units))
    waiting = await _rows(
        uow, Resource.unit_id.in_(units), Booking.state == BookingState.REQUESTED.value
    )
    decided = await _rows(
        uow, Resource.unit_id.in_(units), Booking.state != BookingState.REQUESTED.value, limit=30
    )
    return MyBookings(mine, waiting, decided)
