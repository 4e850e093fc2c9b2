"""Double bookings: warnings (never errors) when a venue or a host unit is taken twice.

A venue is taken when the same shared resource, or the same venue text (stripped, case-
and space-insensitive), is used by another scheduled activity date, an approved booking of
that resource, or a conference session (its `place`) at an overlapping time. A host unit is
taken when it already hosts another overlapping scheduled date.

`find_clashes` is pure; `load_taken` reads what is booked in a window with one query per
kind (dates, bookings, sessions), however many dates are checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from domain.activities.recurrence import beijing
from domain.enums import ActivityState, BookingState, OccurrenceState
from domain.models import Conference, MeetingSession
from domain.models.activities import Activity, ActivityHost, ActivityOccurrence
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.uow import UnitOfWork


def venue_key(text: str) -> str:
    """Venue text compared loosely: no spaces (of any width), case-folded."""
    return "".join(text.split()).casefold()


@dataclass(frozen=True)
class Taken:
    """Something that occupies a venue and/or host units for a time."""

    key: str  # "occ:12", "booking:3", "session:5", "new:0"
    label: str  # how a warning names it
    starts_at: datetime
    ends_at: datetime
    venue: str = ""  # normalised (venue_key)
    resource_id: int | None = None
    host_unit_ids: frozenset[int] = field(default_factory=frozenset)
    activity_id: int | None = None
    # An occurrence: its activity's booking; a booking entry: the booking itself.
    booking_id: int | None = None


def _when(item: Taken) -> str:
    s, e = beijing(item.starts_at), beijing(item.ends_at)
    return f"{s:%m-%d %H:%M}–{e:%H:%M}"


def reasons(mine: Taken, other: Taken, unit_names: Mapping[int, str]) -> list[str]:
    """Why `other` clashes with `mine` (empty when it does not)."""
    if mine.key == other.key:
        return []
    if mine.activity_id is not None and mine.activity_id == other.activity_id:
        return []
    if not (mine.starts_at < other.ends_at and other.starts_at < mine.ends_at):
        return []
    out: list[str] = []
    own_booking = mine.booking_id is not None and mine.booking_id == other.booking_id
    same_resource = mine.resource_id is not None and mine.resource_id == other.resource_id
    same_text = bool(mine.venue) and mine.venue == other.venue
    if (same_resource or same_text) and not own_booking:
        out.append(f"场地冲突：{other.label}（{_when(other)}）")
    for unit_id in sorted(mine.host_unit_ids & other.host_unit_ids):
        name = unit_names.get(unit_id, "主办单位")
        out.append(f"{name}同时段另有活动：{other.label}（{_when(other)}）")
    return out


def find_clashes(
    mine: Iterable[Taken], others: Iterable[Taken], unit_names: Mapping[int, str]
) -> dict[str, list[str]]:
    """For each of `mine` that clashes with any of `others`: its key → the reasons."""
    pool = sorted(others, key=lambda t: t.starts_at)
    out: dict[str, list[str]] = {}
    for item in mine:
        found: list[str] = []
        for other in pool:
            if other.starts_at >= item.ends_at:
                break
            for reason in reasons(item, other, unit_names):
                if reason not in found:
                    found.append(reason)
        if found:
            out[item.key] = found
    return out


def occurrence_taken(occ: ActivityOccurrence, activity: Activity) -> Taken:
    return Taken(
        key=f"occ:{occ.id}",
        label=f"「{activity.title}」",
        starts_at=occ.starts_at,
        ends_at=occ.ends_at,
        venue=venue_key(activity.venue),
        resource_id=activity.resource_id,
        host_unit_ids=frozenset(h.unit_id for h in activity.hosts),
        activity_id=activity.id,
        booking_id=activity.booking_id,
    )


def booking_taken(booking: Booking, slot: ResourceSlot, title: str) -> Taken:
    return Taken(
        key=f"booking:{booking.id}",
        label=f"「{title}」的预约",
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        resource_id=booking.resource_id,
        booking_id=booking.id,
    )


def session_taken(session: MeetingSession) -> Taken:
    return Taken(
        key=f"session:{session.id}",
        label=f"联席会议「{session.title}」",
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        venue=venue_key(session.place),
    )


@dataclass
class Booked:
    """What a street has booked in a window, as loaded for the calendar and the checks."""

    occurrences: list[ActivityOccurrence]  # with .activity and its hosts loaded
    bookings: list[tuple[Booking, ResourceSlot, Resource]]
    sessions: list[MeetingSession]

    def taken(self, *, scheduled_only: bool = True) -> list[Taken]:
        out = [
            occurrence_taken(o, o.activity)
            for o in self.occurrences
            if not scheduled_only
            or (
                o.state == OccurrenceState.SCHEDULED and o.activity.state != ActivityState.CANCELLED
            )
        ]
        out += [booking_taken(b, slot, r.title) for b, slot, r in self.bookings]
        out += [session_taken(s) for s in self.sessions]
        return out


async def load_booked(
    uow: UnitOfWork,
    street_id: int,
    start: datetime,
    end: datetime,
    *,
    all_states: bool = False,
) -> Booked:
    """Activity dates, approved bookings and conference sessions of a street overlapping
    [start, end): three queries (four with the dates' host units)."""
    s = uow.session
    occ_query = (
        select(ActivityOccurrence)
        .join(Activity, Activity.id == ActivityOccurrence.activity_id)
        .where(
            ActivityOccurrence.street_id == street_id,
            ActivityOccurrence.starts_at < end,
            ActivityOccurrence.ends_at > start,
        )
        .options(
            joinedload(ActivityOccurrence.activity)
            .selectinload(Activity.hosts)
            .joinedload(ActivityHost.unit),
        )
        .order_by(ActivityOccurrence.starts_at, ActivityOccurrence.id)
    )
    if not all_states:
        occ_query = occ_query.where(
            ActivityOccurrence.state == OccurrenceState.SCHEDULED.value,
            Activity.state != ActivityState.CANCELLED.value,
        )
    occurrences = list((await s.scalars(occ_query)).unique())
    rows = await s.execute(
        select(Booking, ResourceSlot, Resource)
        .join(ResourceSlot, ResourceSlot.id == Booking.slot_id)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Resource.street_id == street_id,
            Booking.state == BookingState.APPROVED.value,
            ResourceSlot.starts_at < end,
            ResourceSlot.ends_at > start,
        )
        .order_by(ResourceSlot.starts_at, Booking.id)
    )
    bookings = [(b, slot, r) for b, slot, r in rows]
    sessions = list(
        await s.scalars(
            select(MeetingSession)
            .join(Conference, Conference.id == MeetingSession.conference_id)
            .where(
                Conference.organization_id == street_id,
                MeetingSession.starts_at < end,
                MeetingSession.ends_at > start,
            )
            .order_by(MeetingSession.starts_at)
        )
    )
    return Booked(occurrences, bookings, sessions)


def host_names(occurrences: Iterable[ActivityOccurrence]) -> dict[int, str]:
    return {h.unit_id: h.unit.name for o in occurrences for h in o.activity.hosts}
