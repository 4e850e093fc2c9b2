"""The joint calendar of a street: month grid, week and agenda.

Entries are activity dates (scheduled and cancelled), the street conference's sessions and
approved venue bookings of the street's resources. Everything in the window is read with a
constant number of queries (see `conflicts.load_booked`); filters and clash badges are
worked out in memory, so a clash with an entry that is filtered out still shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from domain.activities.access import can_create_in, organises
from domain.activities.conflicts import (
    Taken,
    booking_taken,
    find_clashes,
    host_names,
    load_booked,
    occurrence_taken,
    session_taken,
)
from domain.activities.recurrence import BEIJING, SHORT_NAMES, beijing, local_date
from domain.conference.access import acting_unit_ids
from domain.enums import ActivityKind, ActivityState, OccurrenceState, OrgLevel
from domain.errors import NotFound
from domain.models import Organization, Unit
from domain.models.base import utcnow
from domain.permissions import Actor, can_view_directory, can_view_street
from domain.uow import UnitOfWork

VIEWS = ("month", "week", "agenda")
AGENDA_DAYS = 30
SESSION_KIND = "session"
BOOKING_KIND = "booking"
KIND_CHOICES = (
    (ActivityKind.THEMED_DAY.value, "主题党日"),
    (ActivityKind.JOINT.value, "联合活动"),
    (ActivityKind.VOLUNTEER.value, "志愿服务"),
    (SESSION_KIND, "联席会议"),
    (BOOKING_KIND, "场地预约"),
)


@dataclass
class Entry:
    key: str
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    link: str
    venue: str = ""
    cancelled: bool = False
    planned: bool = False
    unit_ids: frozenset[int] = frozenset()
    community_id: int | None = None
    clashes: list[str] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return beijing(self.starts_at)

    @property
    def end(self) -> datetime:
        return beijing(self.ends_at)

    @property
    def day(self) -> date:
        return self.start.date()


@dataclass
class Day:
    day: date
    entries: list[Entry]
    in_month: bool = True
    today: bool = False

    @property
    def weekday(self) -> str:
        return SHORT_NAMES[self.day.weekday()]


@dataclass(frozen=True)
class Filters:
    unit: int = 0
    kind: str = ""
    community: int = 0

    def query(self) -> str:
        parts = []
        if self.unit:
            parts.append(f"unit={self.unit}")
        if self.kind:
            parts.append(f"kind={self.kind}")
        if self.community:
            parts.append(f"community={self.community}")
        return "&".join(parts)


@dataclass
class CalendarPage:
    street: Organization
    streets: list[Organization]
    view: str
    anchor: date
    first: date
    last: date  # inclusive
    today: date
    days: list[Day]
    filters: Filters
    units: list[Unit]
    communities: list[Organization]
    can_create: bool

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def entry_count(self) -> int:
        return sum(len(d.entries) for d in self.days)

    @property
    def title(self) -> str:
        if self.view == "month":
            return f"{self.anchor:%Y年%m月}"
        return f"{self.first:%Y年%m月%d日} – {self.last:%m月%d日}"

    @property
    def prev(self) -> date:
        if self.view == "month":
            return (self.anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
        return self.anchor - timedelta(days=7 if self.view == "week" else AGENDA_DAYS)

    @property
    def next(self) -> date:
        if self.view == "month":
            return (self.anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
        return self.anchor + timedelta(days=7 if self.view == "week" else AGENDA_DAYS)

    def url(self, *, view: str | None = None, day: date | None = None) -> str:
        base = f"/activities?street={self.street.id}&view={view or self.view}"
        base += f"&date={(day or self.anchor).isoformat()}"
        extra = self.filters.query()
        return f"{base}&{extra}" if extra else base


def window(view: str, anchor: date) -> tuple[date, date, date]:
    """(anchor, first, last) of a view; month and week grids run Monday to Sunday."""
    if view == "month":
        anchor = anchor.replace(day=1)
        first = anchor - timedelta(days=anchor.weekday())
        month_end = (anchor.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        last = month_end + timedelta(days=6 - month_end.weekday())
        return anchor, first, last
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first, first + timedelta(days=6)
    return anchor, anchor, anchor + timedelta(days=AGENDA_DAYS - 1)


async def visible_streets(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    query = select(Organization).where(Organization.level == OrgLevel.STREET)
    if not actor.is_admin:
        query = query.where(Organization.id.in_(actor.visible_street_ids))
    return list(await uow.session.scalars(query.order_by(Organization.id)))


def _keep(entry: Entry, filters: Filters) -> bool:
    if filters.kind and entry.kind != filters.kind:
        return False
    if filters.unit and filters.unit not in entry.unit_ids:
        return False
    return not (filters.community and entry.community_id != filters.community)


async def calendar(
    uow: UnitOfWork,
    actor: Actor,
    *,
    street_id: int | None = None,
    view: str = "month",
    anchor: date | None = None,
    filters: Filters | None = None,
    now: datetime | None = None,
) -> CalendarPage:
    now = now or utcnow()
    filters = filters or Filters()
    view = view if view in VIEWS else "month"
    today = local_date(now)
    streets = await visible_streets(uow, actor)
    if not streets:
        raise NotFound("您没有可查看的街道。")
    street = next((s for s in streets if s.id == street_id), None) if street_id else streets[0]
    if street is None or not can_view_street(actor, street.id):
        raise NotFound("街道不存在，或不在您可查看的范围内。")
    anchor, first, last = window(view, anchor or today)
    start = datetime.combine(first, time(0), BEIJING).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), BEIJING).astimezone(UTC)
    acting = await acting_unit_ids(uow, actor)
    booked = await load_booked(uow, street.id, start, end, all_states=True)
    staffish = can_view_directory(actor)

    entries: list[Entry] = []
    taken: list[Taken] = []
    for occ in booked.occurrences:
        activity = occ.activity
        hosts = frozenset(h.unit_id for h in activity.hosts)
        if activity.state == ActivityState.PLANNED and not organises(
            actor, activity, hosts, acting
        ):
            continue
        cancelled = (
            occ.state == OccurrenceState.CANCELLED or activity.state == ActivityState.CANCELLED
        )
        entry = Entry(
            key=f"occ:{occ.id}",
            kind=activity.kind,
            title=activity.title,
            starts_at=occ.starts_at,
            ends_at=occ.ends_at,
            link=f"/activities/o/{occ.id}",
            venue=activity.venue,
            cancelled=cancelled,
            planned=activity.state == ActivityState.PLANNED,
            unit_ids=hosts,
            community_id=activity.community_id,
        )
        entries.append(entry)
        if not cancelled:
            taken.append(occurrence_taken(occ, activity))
    # Sessions and bookings are for people who act for an organisation (as their pages are).
    if staffish:
        for b, slot, resource in booked.bookings:
            entries.append(
                Entry(
                    key=f"booking:{b.id}",
                    kind=BOOKING_KIND,
                    title=f"{resource.title}（预约）",
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    link=f"/resources/{resource.id}/schedule?week={local_date(slot.starts_at)}",
                    venue=resource.address,
                    unit_ids=frozenset({b.requester_unit_id, resource.unit_id}),
                )
            )
            taken.append(booking_taken(b, slot, resource.title))
        for session in booked.sessions:
            entries.append(
                Entry(
                    key=f"session:{session.id}",
                    kind=SESSION_KIND,
                    title=session.title,
                    starts_at=session.starts_at,
                    ends_at=session.ends_at,
                    link=f"/sessions/{session.id}",
                    venue=session.place,
                )
            )
            taken.append(session_taken(session))
    found = find_clashes(taken, taken, host_names(booked.occurrences))
    by_day: dict[date, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: (e.starts_at, e.key)):
        entry.clashes = found.get(entry.key, [])
        if _keep(entry, filters):
            by_day.setdefault(entry.day, []).append(entry)
    days = []
    cursor = first
    while cursor <= last:
        in_month = view != "month" or cursor.month == anchor.month
        days.append(Day(cursor, by_day.get(cursor, []), in_month, cursor == today))
        cursor += timedelta(days=1)
    units = list(
        await uow.session.scalars(
            select(Unit).where(Unit.street_id == street.id, Unit.active).order_by(Unit.name)
        )
    )
    communities = list(
        await uow.session.scalars(
            select(Organization)
            .where(Organization.parent_id == street.id, Organization.level == OrgLevel.COMMUNITY)
            .order_by(Organization.id)
        )
    )
    return CalendarPage(
        street=street,
        streets=streets,
        view=view,
        anchor=anchor,
        first=first,
        last=last,
        today=today,
        days=days,
        filters=filters,
        units=units,
        communities=communities,
        can_create=can_create_in(actor, street.id, acting),
    )
