"""Calendar feeds against the database: tokens, who sees what, and a bounded query count.

Activities, dates and sign-ups are inserted directly, following the recurrence contract
(occurrence rows are the truth; the RRULE and UNTIL give the same dates).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import event, select

from adapters import ical
from domain.activities import feeds as svc
from domain.activities import feeds_select
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import Conference, MeetingSession, Organization
from domain.models.activities import (
    Activity,
    ActivityHost,
    ActivityOccurrence,
    CalendarFeed,
    Signup,
)
from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from tests.integration.conftest import World
from tests.unit.test_ical import BJ, expand, scheduled

HOSPITAL = "和平区人民医院"
POLICE = "新华派出所"
ORIGIN = "http://gj.test"


def first_friday(year: int, month: int) -> date:
    day = date(year, month, 1)
    while day.weekday() != 4:
        day += timedelta(days=1)
    return day


async def add_activity(
    world: World,
    host: str,
    *,
    title: str = "七一主题党日",
    state: str = "activity_announced",
    months: int = 0,
    days_ahead: int = 20,
) -> tuple[int, list[int]]:
    """A one-off (months=0) or a first-Friday series over `months` months, with its rows."""
    unit = await world.unit(host)
    today = utcnow().astimezone(BJ).date()
    if months:
        month0 = today.replace(day=1) + timedelta(days=32)
        days = []
        for n in range(months):
            m = (month0.month - 1 + n) % 12 + 1
            y = month0.year + (month0.month - 1 + n) // 12
            days.append(first_friday(y, m))
    else:
        days = [today + timedelta(days=days_ahead)]
    starts = [datetime(d.year, d.month, d.day, 14, 0, tzinfo=BJ) for d in days]
    async with world.uow() as uow:
        a = Activity(
            street_id=unit.street_id,
            kind="themed_day",
            title=title,
            venue="党群服务中心",
            starts_at=starts[0],
            ends_at=starts[0] + timedelta(hours=2),
            recurrence="FREQ=MONTHLY;BYDAY=1FR" if months else "",
            recurrence_until=days[-1] if months else None,
            state=state,
        )
        uow.session.add(a)
        await uow.flush()
        uow.session.add(ActivityHost(activity_id=a.id, unit_id=unit.id, position=0))
        occs = [
            ActivityOccurrence(
                activity_id=a.id,
                street_id=unit.street_id,
                starts_at=s,
                ends_at=s + timedelta(hours=2),
                original_starts_at=s,
                checkin_token=secrets.token_urlsafe(24),
            )
            for s in starts
        ]
        uow.session.add_all(occs)
        await uow.flush()
        ids = [o.id for o in occs]
        await uow.commit()
    return a.id, ids


async def sign_up(world: World, username: str, occurrence_id: int, state: str) -> None:
    user = await world.user(username)
    async with world.uow() as uow:
        uow.session.add(Signup(occurrence_id=occurrence_id, user_id=user.id, state=state))
        await uow.commit()


async def render(world: World, feed_id: int) -> Calendar:
    async with world.uow() as uow:
        feed = await uow.session.get(CalendarFeed, feed_id)
        assert feed is not None
        content = await feeds_select.feed_content(uow, feed)
    body = ical.feed_document(content, ORIGIN)
    cal = Calendar.from_ical(body)
    assert cal.to_ical() == body
    return cal


def uids(cal: Calendar) -> set[str]:
    return {str(e["UID"]) for e in cal.walk("VEVENT")}


async def make_feed(world: World, username: str, unit: str | None = None) -> svc.IssuedFeed:
    actor = await world.actor(username)
    unit_id = (await world.unit(unit)).id if unit else None
    async with world.uow(actor) as uow:
        issued = await svc.create_feed(uow, actor, unit_id)
        await uow.commit()
    return issued


async def test_tokens_hash_only_audit_and_revoke(world: World) -> None:
    issued = await make_feed(world, "liaison")
    assert len(issued.token) >= 43
    async with world.factory() as s:
        stored = await s.get(CalendarFeed, issued.feed.id)
    assert stored is not None
    assert stored.token_hash != issued.token and issued.token not in stored.token_hash
    assert stored.prefix == issued.token[:8]
    assert [e.object_id for e in await world.audit("calendar_feed.create")] == [str(issued.feed.id)]
    async with world.uow() as uow:
        assert (await svc.feed_by_token(uow, issued.token)) is not None
        assert (await svc.feed_by_token(uow, issued.token[:-1] + "x")) is None
        assert (await svc.feed_by_token(uow, "../../etc")) is None

    # Another person can neither see nor revoke it.
    other = await world.actor("member")
    with pytest.raises(NotFound):
        async with world.uow(other) as uow:
            await svc.revoke_feed(uow, other, issued.feed.id)
    owner = await world.actor("liaison")
    async with world.uow(owner) as uow:
        page = await svc.feed_page(uow, owner)
        assert [r.feed.id for r in page.rows] == [issued.feed.id]
        renewed = await svc.regenerate_feed(uow, owner, issued.feed.id)
        await uow.commit()
    async with world.uow() as uow:
        assert (await svc.feed_by_token(uow, issued.token)) is None  # revoked
        assert (await svc.feed_by_token(uow, renewed.token)) is not None
    assert len(await world.audit("calendar_feed.revoke")) == 1


async def test_unit_feeds_only_for_units_one_manages(world: World) -> None:
    member = await world.actor("member")
    police = await world.unit(POLICE)
    with pytest.raises(ValidationFailed):
        async with world.uow(member) as uow:
            await svc.create_feed(uow, member, police.id)
    with pytest.raises(ValidationFailed):
        await make_feed(world, "liaison", POLICE)  # acts for the hospital only
    # Street staff manage any unit feed of their street; the liaison of the unit may revoke it.
    issued = await make_feed(world, "secretary", POLICE)
    liaison2 = await world.actor("liaison2")  # 长安街道
    with pytest.raises(PermissionDenied):
        async with world.uow(liaison2) as uow:
            await svc.revoke_feed(uow, liaison2, issued.feed.id)
    hospital_feed = await make_feed(world, "secretary", HOSPITAL)
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        await svc.revoke_feed(uow, liaison, hospital_feed.feed.id)
        await uow.commit()
    # At most five live feeds per calendar.
    for _ in range(4):
        await make_feed(world, "secretary", POLICE)
    with pytest.raises(ValidationFailed):
        await make_feed(world, "secretary", POLICE)


async def test_who_sees_what(world: World) -> None:
    series_id, series_rows = await add_activity(world, HOSPITAL, months=6)
    planned_id, _ = await add_activity(
        world, HOSPITAL, title="筹备中的活动", state="activity_planned"
    )
    cancelled_id, _ = await add_activity(
        world, HOSPITAL, title="取消的活动", state="activity_cancelled"
    )
    police_id, police_rows = await add_activity(world, POLICE, title="平安社区志愿服务")
    old_id, _ = await add_activity(world, POLICE, title="半年前的活动", days_ahead=-120)
    await sign_up(world, "member", police_rows[0], "signup_waitlisted")
    await sign_up(world, "member", series_rows[1], "signup_confirmed")

    # Move one date of the series and cancel another.
    async with world.uow() as uow:
        rows = {
            o.id: o
            for o in await uow.session.scalars(
                select(ActivityOccurrence).where(ActivityOccurrence.activity_id == series_id)
            )
        }
        moved = rows[series_rows[2]]
        moved.starts_at += timedelta(days=1, hours=-4)
        moved.ends_at += timedelta(days=1, hours=-4)
        rows[series_rows[4]].state = "occ_cancelled"
        await uow.commit()

    liaison_feed = await make_feed(world, "liaison")
    cal = await render(world, liaison_feed.feed.id)
    seen = uids(cal)
    assert f"activity-{series_id}@gongjian" in seen
    assert f"activity-{cancelled_id}@gongjian" in seen
    assert f"activity-{planned_id}@gongjian" not in seen
    assert f"activity-{police_id}@gongjian" not in seen
    cancelled = next(
        e for e in cal.walk("VEVENT") if str(e["UID"]).endswith(f"-{cancelled_id}@gongjian")
    )
    assert str(cancelled["STATUS"]) == "CANCELLED"
    async with world.factory() as s:
        occ_rows = list(
            await s.scalars(
                select(ActivityOccurrence).where(ActivityOccurrence.activity_id == series_id)
            )
        )
    assert expand(cal)[f"activity-{series_id}@gongjian"] == scheduled(occ_rows)
    assert len(scheduled(occ_rows)) == 5

    # The member's own feed: their dates, the waitlisted one marked; nothing of the units.
    member_feed = await make_feed(world, "member")
    mcal = await render(world, member_feed.feed.id)
    by_uid = {str(e["UID"]): e for e in mcal.walk("VEVENT")}
    assert set(by_uid) == {
        f"occurrence-{police_rows[0]}@gongjian",
        f"occurrence-{series_rows[1]}@gongjian",
    }
    assert str(by_uid[f"occurrence-{police_rows[0]}@gongjian"]["SUMMARY"]).startswith("（候补）")
    assert str(by_uid[f"occurrence-{series_rows[1]}@gongjian"]["STATUS"]) == "CONFIRMED"
    assert str(mcal["X-WR-CALNAME"]) == "赵明的共建日历"

    # A unit feed made by street staff holds that unit's activities only.
    police_feed = await make_feed(world, "secretary", POLICE)
    pcal = await render(world, police_feed.feed.id)
    assert uids(pcal) == {f"activity-{police_id}@gongjian"}  # the old one is out of the window
    assert old_id
    assert str(pcal["X-WR-CALNAME"]) == f"{POLICE}·共建日历"


async def add_session(world: World, notified: bool, days: int) -> int:
    street = await world.org_id("新华街道")
    secretary = await world.user("secretary")
    start = utcnow() + timedelta(days=days)
    async with world.uow() as uow:
        conference = await uow.session.scalar(
            select(Conference).where(Conference.organization_id == street)
        )
        assert conference is not None
        session = MeetingSession(
            conference_id=conference.id,
            year=start.year,
            title="第二季度联席会议" if notified else "尚未通知的会议",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place="街道三楼会议室",
            signin_secret=secrets.token_urlsafe(16),
            notice_sent_at=utcnow() if notified else None,
            created_by_id=secretary.id,
        )
        uow.session.add(session)
        await uow.flush()
        await uow.commit()
        return session.id


async def add_booking(world: World, requester: str, state: str, days: int) -> int:
    owner = await world.unit(POLICE)
    req = await world.unit(requester)
    start = utcnow().replace(microsecond=0) + timedelta(days=days)
    async with world.uow() as uow:
        resource = Resource(
            street_id=owner.street_id,
            unit_id=owner.id,
            kind="venue",
            title="派出所会议室",
            bookable=True,
            state="listed",
        )
        uow.session.add(resource)
        await uow.flush()
        slot = ResourceSlot(
            resource_id=resource.id, starts_at=start, ends_at=start + timedelta(hours=2)
        )
        uow.session.add(slot)
        await uow.flush()
        booking = Booking(
            slot_id=slot.id,
            resource_id=resource.id,
            requester_unit_id=req.id,
            purpose="党员学习",
            state=state,
        )
        uow.session.add(booking)
        await uow.flush()
        await uow.commit()
        return booking.id


@contextlib.contextmanager
def statements(world: World) -> Iterator[list[str]]:
    engine = world.factory.kw["bind"].sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_sessions_bookings_and_a_bounded_number_of_queries(world: World) -> None:
    session_id = await add_session(world, notified=True, days=10)
    hidden_session = await add_session(world, notified=False, days=12)
    approved = await add_booking(world, HOSPITAL, "booking_approved", 5)
    requested = await add_booking(world, HOSPITAL, "booking_requested", 6)
    await add_activity(world, HOSPITAL, months=3)
    feed = await make_feed(world, "liaison")

    with statements(world) as few:
        cal = await render(world, feed.feed.id)
    seen = uids(cal)
    assert f"booking-{approved}@gongjian" in seen
    assert f"booking-{requested}@gongjian" not in seen
    sessions = [e for e in cal.walk("VEVENT") if str(e["UID"]).startswith("session-")]
    assert [str(e["UID"]).split("-")[1] for e in sessions] == [str(session_id)]
    assert hidden_session != session_id
    assert str(sessions[0]["SUMMARY"]) == "【联席会议】第二季度联席会议"
    assert sessions[0]["DTSTART"].params["TZID"] == "Asia/Shanghai"

    # Many more events of every kind: the same number of statements.
    for n in range(4):
        await add_activity(world, HOSPITAL, months=4, title=f"系列{n}")
        await add_activity(world, HOSPITAL, title=f"单次{n}", days_ahead=30 + n)
        await add_session(world, notified=True, days=20 + n)
        await add_booking(world, HOSPITAL, "booking_approved", 7 + n)
    with statements(world) as many:
        cal = await render(world, feed.feed.id)
    assert len(uids(cal)) > len(seen) + 10
    assert len(many) == len(few)
    assert len(many) <= 15


async def test_a_community_secretary_acts_for_the_committee(world: World) -> None:
    committee = await world.unit("文化里社区居委会")
    community = await world.org_id("文化里社区")
    assert committee.community_id == community
    activity_id, _ = await add_activity(world, "文化里社区居委会", title="社区议事会")
    feed = await make_feed(world, "community")
    assert f"activity-{activity_id}@gongjian" in uids(await render(world, feed.feed.id))
    async with world.factory() as s:
        assert (await s.get(Organization, community)) is not None
