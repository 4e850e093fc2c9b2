"""Read models for planning: the activity page (with its dates and clashes) and the form's
choices (host units, communities, venues, bookings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from domain.activities.access import ActivityAccess, require_read, resolve
from domain.activities.conflicts import find_clashes, host_names, load_booked, occurrence_taken
from domain.activities.planning import allowed_host_units, host_ids, load_activity
from domain.activities.recurrence import RecurrenceError, date_words, describe
from domain.enums import ActivityState, BookingState, ListingState, OccurrenceState, OrgLevel
from domain.errors import NotFound
from domain.models import Organization, Unit
from domain.models.activities import Activity, ActivityOccurrence
from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.permissions import Actor
from domain.uow import UnitOfWork


@dataclass
class DateRow:
    occurrence: ActivityOccurrence
    words: str
    past: bool
    clashes: list[str] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return self.occurrence.starts_at != self.occurrence.original_starts_at

    @property
    def original_words(self) -> str:
        o = self.occurrence
        return date_words(o.original_starts_at, o.original_starts_at + (o.ends_at - o.starts_at))


@dataclass
class ActivityPage:
    activity: Activity
    access: ActivityAccess
    hosts: list[Unit]
    community: Organization | None
    resource: Resource | None
    booking_words: str
    rule_text: str
    dates: list[DateRow]

    @property
    def clash_count(self) -> int:
        return sum(1 for d in self.dates if d.clashes)

    @property
    def upcoming(self) -> list[DateRow]:
        return [d for d in self.dates if not d.past]


def rule_words(activity: Activity) -> str:
    if not activity.recurrence:
        return "单次活动"
    try:
        text = describe(activity.recurrence)
    except RecurrenceError:
        return activity.recurrence
    until = activity.recurrence_until
    return f"{text}，至 {until:%Y年%m月%d日}" if until else text


async def activity_page(
    uow: UnitOfWork, actor: Actor, activity_id: int, now: datetime | None = None
) -> ActivityPage:
    now = now or utcnow()
    activity = await load_activity(uow, activity_id)
    access = await resolve(uow, actor, activity, host_ids(activity))
    require_read(access)
    s = uow.session
    community = await s.get(Organization, activity.community_id) if activity.community_id else None
    resource = await s.get(Resource, activity.resource_id) if activity.resource_id else None
    booking_words = ""
    if activity.booking_id:
        slot = await s.scalar(
            select(ResourceSlot)
            .join(Booking, Booking.slot_id == ResourceSlot.id)
            .where(Booking.id == activity.booking_id)
        )
        if slot is not None:
            booking_words = date_words(slot.starts_at, slot.ends_at)
    occurrences = list(
        await s.scalars(
            select(ActivityOccurrence)
            .where(ActivityOccurrence.activity_id == activity.id)
            .order_by(ActivityOccurrence.starts_at, ActivityOccurrence.id)
        )
    )
    rows = [DateRow(o, date_words(o.starts_at, o.ends_at), o.ends_at <= now) for o in occurrences]
    live = [
        r.occurrence
        for r in rows
        if not r.past
        and r.occurrence.state == OccurrenceState.SCHEDULED
        and activity.state != ActivityState.CANCELLED
    ]
    if live:
        booked = await load_booked(uow, activity.street_id, live[0].starts_at, live[-1].ends_at)
        names = host_names(booked.occurrences) | {h.unit_id: h.unit.name for h in activity.hosts}
        found = find_clashes([occurrence_taken(o, activity) for o in live], booked.taken(), names)
        for r in rows:
            r.clashes = found.get(f"occ:{r.occurrence.id}", [])
    return ActivityPage(
        activity=activity,
        access=access,
        hosts=[h.unit for h in activity.hosts],
        community=community,
        resource=resource,
        booking_words=booking_words,
        rule_text=rule_words(activity),
        dates=rows,
    )


@dataclass
class BookingChoice:
    id: int
    resource_id: int
    text: str


@dataclass
class FormChoices:
    street: Organization
    units: list[Unit]
    communities: list[Organization]
    venues: list[Resource]
    bookings: list[BookingChoice]


async def form_choices(
    uow: UnitOfWork, actor: Actor, street_id: int, now: datetime | None = None
) -> FormChoices:
    now = now or utcnow()
    s = uow.session
    street = await s.get(Organization, street_id)
    if street is None or street.level != OrgLevel.STREET:
        raise NotFound("街道不存在。")
    units = await allowed_host_units(uow, actor, street_id)
    communities = list(
        await s.scalars(
            select(Organization)
            .where(Organization.parent_id == street_id, Organization.level == OrgLevel.COMMUNITY)
            .order_by(Organization.id)
        )
    )
    venues = list(
        await s.scalars(
            select(Resource)
            .where(
                Resource.street_id == street_id,
                Resource.kind == "venue",
                Resource.state == ListingState.LISTED.value,
            )
            .order_by(Resource.title)
        )
    )
    bookings: list[BookingChoice] = []
    unit_ids = [u.id for u in units]
    if unit_ids:
        rows = await s.execute(
            select(Booking, ResourceSlot, Resource.title)
            .join(ResourceSlot, ResourceSlot.id == Booking.slot_id)
            .join(Resource, Resource.id == Booking.resource_id)
            .where(
                Resource.street_id == street_id,
                Booking.requester_unit_id.in_(unit_ids),
                Booking.state == BookingState.APPROVED.value,
                ResourceSlot.starts_at > now,
            )
            .order_by(ResourceSlot.starts_at)
            .limit(100)
        )
        bookings = [
            BookingChoice(
                b.id, b.resource_id, f"{title} {date_words(slot.starts_at, slot.ends_at)}"
            )
            for b, slot, title in rows
        ]
    return FormChoices(street, units, communities, venues, bookings)
