"""Venue booking: slots in Beijing time, request, approve/decline/cancel, no double booking."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.enums import BookingState
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Notification
from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.sharing import booking as svc
from domain.uow import UnitOfWork
from tests.integration.conftest import World

OWNER_UNIT = "和平区人民医院"


def next_monday() -> date:
    today = utcnow().astimezone(svc.BEIJING).date()
    return svc.monday_of(today) + timedelta(days=7)


async def make_venue(world: World, capacity: int | None = 30) -> int:
    unit = await world.unit(OWNER_UNIT)
    async with world.uow() as uow:
        resource = Resource(
            street_id=unit.street_id,
            unit_id=unit.id,
            kind="venue",
            title="党员活动室",
            capacity=capacity,
            bookable=True,
            state="listed",
        )
        uow.session.add(resource)
        await uow.flush()
        await uow.commit()
        return resource.id


def week_form(monday: date, **over: str) -> dict[str, str]:
    form = {
        "date_from": monday.isoformat(),
        "date_to": (monday + timedelta(days=6)).isoformat(),
        "weekdays": "0,1,2,3,4",
        "start_time": "09:00",
        "end_time": "17:00",
        "slot_minutes": "120",
    }
    form.update(over)
    return form


async def publish_week(world: World, resource_id: int) -> list[ResourceSlot]:
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        added = await svc.publish_slots(uow, liaison, resource_id, week_form(next_monday()))
        await uow.commit()
    assert added == 20  # 5 weekdays × 4 two-hour slots
    async with world.factory() as s:
        return list(
            await s.scalars(
                select(ResourceSlot)
                .where(ResourceSlot.resource_id == resource_id)
                .order_by(ResourceSlot.starts_at)
            )
        )


def booking_form(**over: str) -> dict[str, str]:
    return {"purpose": "社区党员学习活动", "attendees": "20", **over}


async def request(world: World, username: str, slot_id: int, **over: str) -> Booking:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        booking = await svc.request_booking(uow, actor, slot_id, booking_form(**over))
        await uow.commit()
    return booking


async def test_publish_slots_in_beijing_time(world: World) -> None:
    rid = await make_venue(world)
    slots = await publish_week(world, rid)
    monday = next_monday()
    first = slots[0]
    # 09:00 Beijing is 01:00 UTC.
    assert first.starts_at == datetime.combine(monday, datetime.min.time(), UTC) + timedelta(
        hours=1
    )
    assert first.ends_at - first.starts_at == timedelta(hours=2)
    assert svc.beijing(slots[-1].ends_at).hour == 17
    assert {svc.beijing(s.starts_at).weekday() for s in slots} == {0, 1, 2, 3, 4}
    # Publishing again keeps what is there; a wider range adds only the new ones.
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        again = await svc.publish_slots(
            uow, liaison, rid, week_form(monday, weekdays="0,1,2,3,4,5")
        )
        await uow.commit()
    assert again == 4
    # Bad input: every field named, in Chinese.
    async with world.uow(liaison) as uow:
        with pytest.raises(ValidationFailed) as err:
            await svc.publish_slots(
                uow,
                liaison,
                rid,
                week_form(
                    monday,
                    date_to=(monday + timedelta(days=100)).isoformat(),
                    weekdays="",
                    end_time="08:00",
                ),
            )
    assert set(err.value.fields) == {"date_to", "weekdays", "end_time"}
    # Only the owner unit publishes.
    other = await world.actor("liaison2")
    async with world.uow(other) as uow:
        with pytest.raises(PermissionDenied):
            await svc.publish_slots(uow, other, rid, week_form(monday))


async def test_request_approve_decline_cancel(world: World) -> None:
    rid = await make_venue(world)
    slots = await publish_week(world, rid)
    booking = await request(world, "community", slots[0].id)
    assert booking.state == BookingState.REQUESTED
    owner_users = await world.count(
        Notification,
        Notification.user_id == (await world.user("liaison")).id,
        Notification.kind == "booking",
    )
    assert owner_users == 1

    # A second live request for the same slot is refused with the Chinese message.
    with pytest.raises(Conflict) as err:
        await request(world, "liaison2", slots[0].id)
    assert err.value.message == svc.CONFLICT_MESSAGE

    liaison = await world.actor("liaison")
    # The requester cannot approve; a stale version is refused.
    community = await world.actor("community")
    async with world.uow(community) as uow:
        with pytest.raises(PermissionDenied):
            await svc.approve_booking(uow, community, booking.id, booking.version)
    async with world.uow(liaison) as uow:
        with pytest.raises(Conflict):
            await svc.approve_booking(uow, liaison, booking.id, booking.version + 1)
    async with world.uow(liaison) as uow:
        approved = await svc.approve_booking(uow, liaison, booking.id, booking.version)
        await uow.commit()
    assert approved.state == BookingState.APPROVED
    assert await world.count(
        Notification,
        Notification.user_id == community.user_id,
        Notification.title.like("预约已批准%"),
    )
    # Approving twice (an old page) is a conflict, not a second approval.
    async with world.uow(liaison) as uow:
        with pytest.raises(Conflict):
            await svc.approve_booking(uow, liaison, booking.id, None)

    # Decline needs a reason.
    other = await request(world, "liaison2", slots[1].id)
    async with world.uow(liaison) as uow:
        with pytest.raises(ValidationFailed) as verr:
            await svc.decline_booking(uow, liaison, other.id, other.version, "  ")
    assert "reason" in verr.value.fields
    async with world.uow(liaison) as uow:
        declined = await svc.decline_booking(uow, liaison, other.id, other.version, "当日设备检修")
        await uow.commit()
    assert declined.state == BookingState.DECLINED
    assert declined.decline_reason == "当日设备检修"
    # A declined slot is free again.
    again = await request(world, "community", slots[1].id)

    # Only the requester cancels; cancelling frees the slot for someone else.
    async with world.uow(liaison) as uow:
        with pytest.raises(PermissionDenied):
            await svc.cancel_booking(uow, liaison, approved.id, approved.version)
    async with world.uow(community) as uow:
        await svc.cancel_booking(uow, community, approved.id, approved.version)
        await uow.commit()
    taken = await request(world, "liaison2", slots[0].id)
    assert taken.state == BookingState.REQUESTED

    # The week view: the owner sees who booked; a third party sees only 已预约.
    async with world.uow(liaison) as uow:
        schedule = await svc.resource_schedule(uow, liaison, rid, next_monday())
    assert schedule.is_owner
    monday = schedule.days[0].slots
    assert monday[0].booker == "环球金融中心楼宇联合党委"
    assert monday[1].booker == "文化里社区居委会"
    assert monday[2].free
    liaison2 = await world.actor("liaison2")
    async with world.uow(liaison2) as uow:
        seen = await svc.resource_schedule(uow, liaison2, rid, next_monday())
    assert seen.days[0].slots[0].mine and seen.days[0].slots[0].booker
    assert seen.days[0].slots[1].booking is not None and seen.days[0].slots[1].booker == ""
    secretary = await world.actor("secretary")
    async with world.uow(secretary) as uow:
        street = await svc.resource_schedule(uow, secretary, rid, next_monday())
    assert street.days[0].slots[1].booker == "文化里社区居委会"
    outsider = await world.actor("secretary2")
    async with world.uow(outsider) as uow:
        with pytest.raises(NotFound):
            await svc.resource_schedule(uow, outsider, rid, next_monday())

    # My bookings and the owner's waiting list.
    async with world.uow(community) as uow:
        mine = await svc.my_bookings(uow, community)
    assert {r.booking.id for r in mine.mine} == {approved.id, again.id}
    async with world.uow(liaison) as uow:
        owner_view = await svc.my_bookings(uow, liaison)
    assert {r.booking.id for r in owner_view.waiting} == {again.id, taken.id}


async def test_capacity_past_slot_and_permissions(world: World) -> None:
    rid = await make_venue(world, capacity=10)
    slots = await publish_week(world, rid)
    with pytest.raises(ValidationFailed) as err:
        await request(world, "community", slots[0].id, attendees="11")
    assert "容量" in err.value.fields["attendees"]
    with pytest.raises(ValidationFailed) as err:
        await request(world, "community", slots[0].id, purpose="", attendees="5")
    assert "purpose" in err.value.fields
    # The owner does not book its own venue; a secretary with no unit cannot book.
    with pytest.raises(ValidationFailed):
        await request(world, "liaison", slots[0].id)
    with pytest.raises(PermissionDenied):
        await request(world, "secretary", slots[0].id)
    with pytest.raises(NotFound):
        await request(world, "secretary2", slots[0].id)
    # A slot in the past is refused.
    async with world.uow() as uow:
        past = ResourceSlot(
            resource_id=rid,
            starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() - timedelta(days=1) + timedelta(hours=2),
        )
        uow.session.add(past)
        await uow.flush()
        await uow.commit()
        past_id = past.id
    with pytest.raises(ValidationFailed) as err:
        await request(world, "community", past_id)
    assert "已过去" in err.value.message
    # A slot with a live booking cannot be removed; a free one can.
    await request(world, "community", slots[0].id, attendees="8")
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        with pytest.raises(Conflict):
            await svc.remove_slot(uow, liaison, slots[0].id)
    async with world.uow(liaison) as uow:
        await svc.remove_slot(uow, liaison, slots[2].id)
        await uow.commit()
    assert not await world.count(ResourceSlot, ResourceSlot.id == slots[2].id)


async def test_fifty_concurrent_requests_one_wins(world: World, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is what PostgreSQL is for")
    rid = await make_venue(world)
    slots = await publish_week(world, rid)
    slot_id = slots[3].id
    actors = [await world.actor(name) for name in ("community", "liaison2")]

    async def attempt(i: int) -> str:
        actor = actors[i % 2]
        try:
            async with UnitOfWork(world.factory, actor) as uow:
                await svc.request_booking(uow, actor, slot_id, booking_form(purpose=f"活动 {i}"))
                await uow.commit()
        except Conflict as exc:
            return exc.message
        return "ok"

    results = await asyncio.gather(*(attempt(i) for i in range(50)))
    assert results.count("ok") == 1
    assert results.count(svc.CONFLICT_MESSAGE) == 49
    assert (
        await world.count(Booking, Booking.slot_id == slot_id, Booking.state.in_(svc.LIVE_STATES))
        == 1
    )
