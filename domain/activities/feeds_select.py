"""What a calendar feed holds, read with one query per kind whatever the number of events.

- A person's dates: the dates they signed up for (pending, confirmed, waitlisted).
- Series: announced (or cancelled) activities hosted by the feed's units, whole.
- Conference sessions of conferences the feed's units sit in, once the notice is out.
- Approved bookings the feed's units requested or whose resource they own.

Planned activities never appear. The window runs from 90 days back to 400 days ahead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from domain.activities.access import require_read, resolve
from domain.conference.access import acting_unit_ids
from domain.enums import ActivityState, BookingState, SignupState
from domain.errors import NotFound
from domain.models import (
    Conference,
    ConferenceMember,
    MeetingSession,
    RoleGrant,
    Unit,
    User,
)
from domain.models.activities import (
    Activity,
    ActivityHost,
    ActivityOccurrence,
    CalendarFeed,
    Signup,
)
from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.permissions import Actor
from domain.services.auth import actor_from_user
from domain.uow import UnitOfWork

DAYS_BACK = 90
DAYS_AHEAD = 400
SHOWN_STATES = (ActivityState.ANNOUNCED.value, ActivityState.CANCELLED.value)
LIVE_SIGNUPS = (
    SignupState.PENDING.value,
    SignupState.CONFIRMED.value,
    SignupState.WAITLISTED.value,
)


@dataclass(frozen=True)
class SeriesItem:
    """An activity as a whole: a one-off or a recurring series with all its date rows."""

    activity: Activity
    hosts: list[str]
    occurrences: list[ActivityOccurrence]


@dataclass(frozen=True)
class DateItem:
    """One date a person signed up for."""

    activity: Activity
    occurrence: ActivityOccurrence
    hosts: list[str]
    signup_state: str


@dataclass(frozen=True)
class SessionItem:
    session: MeetingSession
    conference_name: str


@dataclass(frozen=True)
class BookingItem:
    booking: Booking
    slot: ResourceSlot
    resource_title: str
    resource_address: str
    requester_name: str


@dataclass
class FeedContent:
    name: str  # X-WR-CALNAME
    series: list[SeriesItem] = field(default_factory=list)
    dates: list[DateItem] = field(default_factory=list)
    sessions: list[SessionItem] = field(default_factory=list)
    bookings: list[BookingItem] = field(default_factory=list)


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or utcnow()
    return now - timedelta(days=DAYS_BACK), now + timedelta(days=DAYS_AHEAD)


async def _host_names(uow: UnitOfWork, activity_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = set(activity_ids)
    names: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return names
    rows = await uow.session.execute(
        select(ActivityHost.activity_id, Unit.name)
        .join(Unit, Unit.id == ActivityHost.unit_id)
        .where(ActivityHost.activity_id.in_(ids))
        .order_by(ActivityHost.activity_id, ActivityHost.position, Unit.name)
    )
    for activity_id, name in rows:
        names[activity_id].append(name)
    return names


async def _series(
    uow: UnitOfWork, unit_ids: frozenset[int], start: datetime, end: datetime
) -> tuple[list[Activity], dict[int, list[ActivityOccurrence]]]:
    """Activities hosted by these units with a date in the window, and all their dates."""
    if not unit_ids:
        return [], {}
    in_window = select(ActivityOccurrence.activity_id).where(
        or_(
            ActivityOccurrence.starts_at.between(start, end),
            ActivityOccurrence.original_starts_at.between(start, end),
        )
    )
    hosted = select(ActivityHost.activity_id).where(ActivityHost.unit_id.in_(unit_ids))
    activities = list(
        await uow.session.scalars(
            select(Activity)
            .where(
                Activity.id.in_(hosted),
                Activity.id.in_(in_window),
                Activity.state.in_(SHOWN_STATES),
            )
            .order_by(Activity.starts_at, Activity.id)
        )
    )
    return activities, await occurrences_of(uow, [a.id for a in activities])


async def occurrences_of(
    uow: UnitOfWork, activity_ids: list[int]
) -> dict[int, list[ActivityOccurrence]]:
    by_activity: dict[int, list[ActivityOccurrence]] = defaultdict(list)
    if not activity_ids:
        return by_activity
    rows = await uow.session.scalars(
        select(ActivityOccurrence)
        .where(ActivityOccurrence.activity_id.in_(activity_ids))
        .order_by(ActivityOccurrence.original_starts_at, ActivityOccurrence.id)
    )
    for occ in rows:
        by_activity[occ.activity_id].append(occ)
    return by_activity


async def _signed_dates(
    uow: UnitOfWork, user_id: int, start: datetime, end: datetime
) -> list[tuple[Signup, ActivityOccurrence, Activity]]:
    rows = await uow.session.execute(
        select(Signup, ActivityOccurrence, Activity)
        .join(ActivityOccurrence, ActivityOccurrence.id == Signup.occurrence_id)
        .join(Activity, Activity.id == ActivityOccurrence.activity_id)
        .where(
            Signup.user_id == user_id,
            Signup.state.in_(LIVE_SIGNUPS),
            Activity.state.in_(SHOWN_STATES),
            ActivityOccurrence.starts_at.between(start, end),
        )
        .order_by(ActivityOccurrence.starts_at, ActivityOccurrence.id)
    )
    return [(s, o, a) for s, o, a in rows]


async def _sessions(
    uow: UnitOfWork, unit_ids: frozenset[int], start: datetime, end: datetime
) -> list[SessionItem]:
    if not unit_ids:
        return []
    member_of = select(ConferenceMember.conference_id).where(
        ConferenceMember.unit_id.in_(unit_ids), ConferenceMember.active
    )
    rows = await uow.session.execute(
        select(MeetingSession, Conference.name)
        .join(Conference, Conference.id == MeetingSession.conference_id)
        .where(
            MeetingSession.conference_id.in_(member_of),
            MeetingSession.notice_sent_at.is_not(None),
            MeetingSession.starts_at.between(start, end),
        )
        .order_by(MeetingSession.starts_at, MeetingSession.id)
    )
    return [SessionItem(session, name) for session, name in rows]


async def _bookings(
    uow: UnitOfWork, unit_ids: frozenset[int], start: datetime, end: datetime
) -> list[BookingItem]:
    if not unit_ids:
        return []
    rows = await uow.session.execute(
        select(Booking, ResourceSlot, Resource.title, Resource.address, Unit.name)
        .join(ResourceSlot, ResourceSlot.id == Booking.slot_id)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Unit, Unit.id == Booking.requester_unit_id)
        .where(
            Booking.state == BookingState.APPROVED.value,
            or_(Booking.requester_unit_id.in_(unit_ids), Resource.unit_id.in_(unit_ids)),
            ResourceSlot.starts_at.between(start, end),
        )
        .order_by(ResourceSlot.starts_at, Booking.id)
    )
    return [BookingItem(b, slot, title, address, who) for b, slot, title, address, who in rows]


async def collect(
    uow: UnitOfWork,
    name: str,
    unit_ids: frozenset[int],
    user_id: int | None,
    now: datetime | None = None,
) -> FeedContent:
    start, end = window(now)
    activities, occurrences = await _series(uow, unit_ids, start, end)
    signed = await _signed_dates(uow, user_id, start, end) if user_id is not None else []
    in_series = {a.id for a in activities}
    # A date of a series already in the feed is not repeated as a single event.
    signed = [row for row in signed if row[2].id not in in_series]
    hosts = await _host_names(uow, in_series | {a.id for _, _, a in signed})
    content = FeedContent(name)
    content.series = [SeriesItem(a, hosts[a.id], occurrences[a.id]) for a in activities]
    content.dates = [DateItem(a, o, hosts[a.id], s.state) for s, o, a in signed]
    content.sessions = await _sessions(uow, unit_ids, start, end)
    content.bookings = await _bookings(uow, unit_ids, start, end)
    return content


async def feed_content(
    uow: UnitOfWork, feed: CalendarFeed, now: datetime | None = None
) -> FeedContent:
    """What a feed holds right now. A personal feed follows the units its user acts for
    today (a liaison who hands over stops seeing the unit's calendar)."""
    if feed.unit_id is not None:
        unit = await uow.session.get(Unit, feed.unit_id)
        assert unit is not None
        return await collect(uow, f"{unit.name}·共建日历", frozenset({unit.id}), None, now)
    user = await uow.session.scalar(
        select(User)
        .where(User.id == feed.user_id)
        .options(
            selectinload(User.grants).options(
                selectinload(RoleGrant.organization), selectinload(RoleGrant.unit)
            )
        )
    )
    if user is None or not user.active:
        return FeedContent("共建日历")
    actor = await actor_from_user(uow, user)  # the Actor a login would resolve to
    units = await acting_unit_ids(uow, actor)
    return await collect(uow, f"{user.display_name}的共建日历", units, user.id, now)


async def _readable(uow: UnitOfWork, actor: Actor, activity: Activity) -> list[str]:
    """Host names of an activity the actor may read (NotFound otherwise)."""
    rows = (
        await uow.session.execute(
            select(ActivityHost.unit_id, Unit.name)
            .join(Unit, Unit.id == ActivityHost.unit_id)
            .where(ActivityHost.activity_id == activity.id)
            .order_by(ActivityHost.position, Unit.name)
        )
    ).all()
    require_read(await resolve(uow, actor, activity, frozenset(r[0] for r in rows)))
    return [r[1] for r in rows]


async def activity_download(uow: UnitOfWork, actor: Actor, activity_id: int) -> SeriesItem:
    """A whole activity (all its dates) for a single .ics download."""
    activity = await uow.session.get(Activity, activity_id)
    if activity is None:
        raise NotFound("活动不存在或尚未发布。")
    hosts = await _readable(uow, actor, activity)
    occurrences = await occurrences_of(uow, [activity.id])
    return SeriesItem(activity, hosts, occurrences[activity.id])


async def occurrence_download(uow: UnitOfWork, actor: Actor, occurrence_id: int) -> DateItem:
    """One date of an activity for a single .ics download."""
    occ = await uow.session.get(ActivityOccurrence, occurrence_id)
    activity = await uow.session.get(Activity, occ.activity_id) if occ else None
    if occ is None or activity is None:
        raise NotFound("活动不存在或尚未发布。")
    hosts = await _readable(uow, actor, activity)
    return DateItem(activity, occ, hosts, "")
