"""iCalendar documents (RFC 5545) of the activity calendar, with the `icalendar` package.

Times are written in Beijing time (TZID=Asia/Shanghai) with a VTIMEZONE. A recurring
activity is one VEVENT with the activity's RRULE and UNTIL (the last Beijing day, 23:59:59,
as UTC); the occurrence rows are the truth, so the rule is checked against them: a date the
rule gives without a live row is an EXDATE, a moved date an override VEVENT with the same
UID and a RECURRENCE-ID, and a row the rule does not give a VEVENT of its own.

Every value comes from the rows (DTSTAMP too), so the same data gives the same bytes and
an ETag over them changes only when something a subscriber sees changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from icalendar import Calendar, Event, vRecur

from domain.activities.feeds_select import (
    BookingItem,
    DateItem,
    FeedContent,
    SeriesItem,
    SessionItem,
)
from domain.conference.invitation import session_uid
from domain.enums import ActivityState, OccurrenceState, SessionMode, SignupState
from domain.labels import label
from domain.models.activities import Activity, ActivityOccurrence

BEIJING = ZoneInfo("Asia/Shanghai")
PRODID = "-//Gongjian//Activity Calendar//ZH-CN"
SIGNUP_PREFIX = {SignupState.WAITLISTED.value: "（候补）", SignupState.PENDING.value: "（待审核）"}


def _bj(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)


def _wall(moment: datetime) -> datetime:
    """Naive Beijing wall-clock time (what the RRULE is expanded in)."""
    return _bj(moment).replace(tzinfo=None)


def until_utc(last_day: date) -> datetime:
    return datetime.combine(last_day, time(23, 59, 59), BEIJING).astimezone(UTC)


def rule_dates(activity: Activity) -> list[datetime]:
    """The naive Beijing starts the series' rule gives, DTSTART first (RFC 5545 counts it)."""
    first = _wall(activity.starts_at)
    if not activity.recurrence or activity.recurrence_until is None:
        return [first]
    last = datetime.combine(activity.recurrence_until, time(23, 59, 59))
    rule = rrulestr(f"{activity.recurrence};UNTIL={last:%Y%m%dT%H%M%S}", dtstart=first)
    dates: set[datetime] = {first, *rule}
    return sorted(dates)


def new_calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    return cal


def finish(cal: Calendar, moments: Iterable[datetime]) -> bytes:
    """Add the VTIMEZONE (covering the events' years) and serialise."""
    years = [_bj(m).year for m in moments] or [datetime.now(BEIJING).year]
    cal.add_missing_timezones(
        first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1)
    )
    return bytes(cal.to_ical())


def _activity_text(activity: Activity, hosts: list[str], url: str, note: str = "") -> str:
    lines = []
    if hosts:
        lines.append("主办单位：" + "、".join(hosts))
    lines.append("报名方式：" + label(activity.signup_rule))
    if activity.capacity:
        lines.append(f"名额：{activity.capacity} 人")
    if activity.state == ActivityState.CANCELLED and activity.cancel_reason:
        lines.append("取消原因：" + activity.cancel_reason)
    if note:
        lines.append(note)
    if activity.description:
        lines.append("")
        lines.append(activity.description[:1000])
    lines.append("")
    lines.append("活动页面：" + url)
    return "\n".join(lines)


def _summary(activity: Activity) -> str:
    return f"【{label(activity.kind)}】{activity.title}"


def _event(uid: str, stamp: datetime, start: datetime, end: datetime, sequence: int) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", _bj(start))
    event.add("dtend", _bj(end))
    event.add("sequence", sequence)
    return event


def _occurrence_event(
    activity: Activity,
    occ: ActivityOccurrence,
    hosts: list[str],
    origin: str,
    prefix: str = "",
    tentative: bool = False,
) -> Event:
    """One date as an event of its own (a sign-up, a single download, a stray row)."""
    url = f"{origin}/activities/o/{occ.id}"
    event = _event(
        f"occurrence-{occ.id}@gongjian",
        activity.updated_at,
        occ.starts_at,
        occ.ends_at,
        activity.version + occ.version - 1,
    )
    cancelled = activity.state == ActivityState.CANCELLED or occ.state == OccurrenceState.CANCELLED
    reason = occ.cancel_reason if occ.state == OccurrenceState.CANCELLED else ""
    note = "；".join(x for x in (occ.note, f"本次取消：{reason}" if reason else "") if x)
    event.add("summary", prefix + _summary(activity))
    event.add("location", activity.venue)
    event.add("description", _activity_text(activity, hosts, url, note))
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if tentative else "CONFIRMED")
    return event


def series_events(item: SeriesItem, origin: str) -> list[Event]:
    """The VEVENTs of one activity: the master (with RRULE/EXDATE) and its overrides."""
    activity, rows = item.activity, item.occurrences
    url = f"{origin}/activities/{activity.id}"
    cancelled = activity.state == ActivityState.CANCELLED
    status = "CANCELLED" if cancelled else "CONFIRMED"
    uid = f"activity-{activity.id}@gongjian"
    if not activity.recurrence:
        occ = rows[0] if rows else None
        start, end = (occ.starts_at, occ.ends_at) if occ else (activity.starts_at, activity.ends_at)
        version = activity.version + (occ.version - 1 if occ else 0)
        event = _event(uid, activity.updated_at, start, end, version)
        if occ is not None and occ.state == OccurrenceState.CANCELLED:
            status = "CANCELLED"
        note = occ.note if occ else ""
        event.add("summary", _summary(activity))
        event.add("location", activity.venue)
        event.add("description", _activity_text(activity, item.hosts, url, note))
        event.add("url", url)
        event.add("status", status)
        return [event]

    assert activity.recurrence_until is not None
    duration = activity.ends_at - activity.starts_at
    master = _event(
        uid, activity.updated_at, activity.starts_at, activity.ends_at, activity.version
    )
    recur = vRecur.from_ical(activity.recurrence)
    recur["UNTIL"] = until_utc(activity.recurrence_until)
    master.add("rrule", recur)
    master.add("summary", _summary(activity))
    master.add("location", activity.venue)
    master.add("description", _activity_text(activity, item.hosts, url))
    master.add("url", url)
    master.add("status", status)

    by_original = {_wall(o.original_starts_at): o for o in rows}
    exdates: list[datetime] = []
    extra: list[Event] = []
    for wall in rule_dates(activity):
        occ = by_original.pop(wall, None)
        if occ is None or occ.state == OccurrenceState.CANCELLED:
            exdates.append(wall.replace(tzinfo=BEIJING))
            continue
        if occ.starts_at == occ.original_starts_at and occ.ends_at - occ.starts_at == duration:
            continue
        override = _event(
            uid, activity.updated_at, occ.starts_at, occ.ends_at, activity.version + occ.version - 1
        )
        override.add("recurrence-id", _bj(occ.original_starts_at))
        override.add("summary", _summary(activity))
        override.add("location", activity.venue)
        o_url = f"{origin}/activities/o/{occ.id}"
        override.add("description", _activity_text(activity, item.hosts, o_url, occ.note))
        override.add("url", o_url)
        override.add("status", status)
        extra.append(override)
    if exdates:
        master.add("exdate", exdates)
    # Rows the rule does not give (the rule was changed under them): shown on their own.
    for occ in by_original.values():
        extra.append(_occurrence_event(activity, occ, item.hosts, origin))
    return [master, *extra]


def session_event(item: SessionItem, origin: str) -> Event:
    s = item.session
    url = f"{origin}/sessions/{s.id}"
    event = _event(
        session_uid(s), s.notice_sent_at or s.created_at, s.starts_at, s.ends_at, s.version
    )
    event.add("summary", f"【联席会议】{s.title}")
    event.add("location", s.place or label(SessionMode(s.mode)))
    event.add("description", f"{item.conference_name}\n{label(s.kind)}，{label(s.mode)}\n\n{url}")
    event.add("url", url)
    event.add("status", "CONFIRMED")
    return event


def booking_event(item: BookingItem, origin: str) -> Event:
    b = item.booking
    url = f"{origin}/resources/{b.resource_id}/schedule"
    event = _event(
        f"booking-{b.id}@gongjian",
        b.decided_at or b.created_at,
        item.slot.starts_at,
        item.slot.ends_at,
        b.version,
    )
    event.add("summary", f"【场地预约】{item.resource_title}")
    event.add("location", item.resource_address or item.resource_title)
    text = f"用途：{b.purpose}\n预约单位：{item.requester_name}"
    if b.attendees:
        text += f"\n人数：{b.attendees} 人"
    event.add("description", f"{text}\n\n{url}")
    event.add("url", url)
    event.add("status", "CONFIRMED")
    return event


def date_event(item: DateItem, origin: str) -> Event:
    prefix = SIGNUP_PREFIX.get(item.signup_state, "")
    return _occurrence_event(
        item.activity, item.occurrence, item.hosts, origin, prefix, tentative=bool(prefix)
    )


def feed_document(content: FeedContent, origin: str) -> bytes:
    cal = new_calendar(content.name)
    moments: list[datetime] = []
    for series in content.series:
        for event in series_events(series, origin):
            cal.add_component(event)
        moments += [series.activity.starts_at, *(o.starts_at for o in series.occurrences)]
    for item in content.dates:
        cal.add_component(date_event(item, origin))
        moments.append(item.occurrence.starts_at)
    for session in content.sessions:
        cal.add_component(session_event(session, origin))
        moments.append(session.session.starts_at)
    for booking in content.bookings:
        cal.add_component(booking_event(booking, origin))
        moments.append(booking.slot.starts_at)
    return finish(cal, moments)


def series_document(item: SeriesItem, origin: str) -> bytes:
    cal = new_calendar(item.activity.title)
    for event in series_events(item, origin):
        cal.add_component(event)
    moments = [item.activity.starts_at, *(o.starts_at for o in item.occurrences)]
    return finish(cal, moments)


def occurrence_document(
    activity: Activity, occ: ActivityOccurrence, hosts: list[str], origin: str
) -> bytes:
    cal = new_calendar(activity.title)
    cal.add_component(_occurrence_event(activity, occ, hosts, origin))
    return finish(cal, [occ.starts_at])


def beijing_day(moment: datetime) -> str:
    return f"{_bj(moment):%Y%m%d}"
