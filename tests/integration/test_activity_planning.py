"""Planning activities against both databases: dates materialised, who may create and see,
announce, edit rules, cancellation and single-date exceptions with notices, conflicts."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.activities import plan_dates, plan_edit, planning
from domain.activities.plan_read import activity_page
from domain.activities.recurrence import BEIJING, local_date
from domain.enums import ActivityState, OccurrenceState, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Conference, Event, MeetingSession, Notification, RoleGrant, User
from domain.models.activities import Activity, ActivityOccurrence, Signup
from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.topics import street_topic
from tests.integration.conftest import World

HOSPITAL = "和平区人民医院"
COMMITTEE = "文化里社区居委会"


def next_weekday(weekday: int, weeks: int = 1) -> date:
    today = local_date(utcnow())
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


async def raw(world: World, **over: Any) -> dict[str, str]:
    values = {
        "kind": "joint_activity",
        "title": "共建健康讲座",
        "lead_unit_id": str((await world.unit(HOSPITAL)).id),
        "venue": "医院礼堂",
        "date": next_weekday(2).isoformat(),
        "start_time": "15:00",
        "end_time": "17:00",
        "capacity": "30",
        "signup_rule": "signup_open",
        "waitlist": "1",
        "repeat": "none",
    }
    values.update(over)
    return values


async def create(world: World, username: str = "liaison", **over: Any) -> Activity:
    actor = await world.actor(username)
    street = await world.org_id("新华街道")
    async with world.uow(actor) as uow:
        activity = await planning.create_activity(uow, actor, street, await raw(world, **over))
        await uow.commit()
    return activity


async def dates_of(world: World, activity_id: int) -> list[ActivityOccurrence]:
    async with world.factory() as s:
        return list(
            await s.scalars(
                select(ActivityOccurrence)
                .where(ActivityOccurrence.activity_id == activity_id)
                .order_by(ActivityOccurrence.starts_at)
            )
        )


async def notes_of(world: World, username: str) -> list[Notification]:
    user = await world.user(username)
    async with world.factory() as s:
        return list(
            await s.scalars(
                select(Notification)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            )
        )


async def sign_up(world: World, occurrence_id: int, username: str) -> None:
    user = await world.user(username)
    async with world.factory() as s:
        s.add(Signup(occurrence_id=occurrence_id, user_id=user.id, state="signup_confirmed"))
        occ = await s.get(ActivityOccurrence, occurrence_id)
        assert occ is not None
        occ.taken += 1
        await s.commit()


async def test_create_materialises_every_date(world: World) -> None:
    until = next_weekday(2) + timedelta(days=28)
    activity = await create(
        world, repeat="weekly", repeat_weekdays="2", recurrence_until=until.isoformat()
    )
    assert activity.state == ActivityState.PLANNED
    assert activity.recurrence == "FREQ=WEEKLY;BYDAY=WE"
    assert activity.recurrence_until == until
    dates = await dates_of(world, activity.id)
    assert [local_date(o.starts_at) for o in dates] == [
        next_weekday(2) + timedelta(days=7 * i) for i in range(5)
    ]
    assert all(o.starts_at.astimezone(BEIJING).hour == 15 for o in dates)
    assert all(o.original_starts_at == o.starts_at for o in dates)
    assert all(o.street_id == activity.street_id for o in dates)
    assert len({o.checkin_token for o in dates}) == 5
    assert all(len(o.checkin_token) >= 32 for o in dates)
    assert dates[0].starts_at == activity.starts_at
    (entry,) = await world.audit("activity.create", activity.id)
    assert "5 个日期" in entry.summary
    assert await world.count(
        Event, Event.topic == street_topic(activity.street_id), Event.kind == "activity.changed"
    )


async def test_who_may_create_and_for_which_units(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await create(world, "member")
    # A liaison hosts only for its own unit; street staff may name any unit of the street.
    committee = str((await world.unit(COMMITTEE)).id)
    with pytest.raises(ValidationFailed) as refused:
        await create(world, "liaison", lead_unit_id=committee)
    assert refused.value.fields["lead_unit_id"] == "只能选择您所代表的单位作为主办单位。"
    with pytest.raises(ValidationFailed):
        await create(world, "liaison", co_unit_ids=committee)
    activity = await create(world, "secretary", lead_unit_id=committee)
    assert activity.id
    # Another street's liaison cannot plan in 新华街道 at all.
    with pytest.raises(PermissionDenied):
        await create(world, "liaison3")


async def test_planned_is_hidden_from_members_then_announced(world: World) -> None:
    committee = (await world.unit(COMMITTEE)).id
    community = await world.org_id("文化里社区")
    activity = await create(
        world,
        "community",
        kind="themed_day",
        title="主题党日",
        lead_unit_id=str(committee),
        community_id=str(community),
    )
    member = await world.actor("member")
    async with world.uow(member) as uow:
        with pytest.raises(NotFound):
            await activity_page(uow, member, activity.id)

    community_actor = await world.actor("community")
    async with world.uow(community_actor) as uow:
        await planning.announce(uow, community_actor, activity.id, activity.version)
        await uow.commit()
    async with world.uow(member) as uow:
        page = await activity_page(uow, member, activity.id)
    assert page.activity.state == ActivityState.ANNOUNCED
    assert not page.access.is_organiser
    # The community's party members and the host's people are told, once each.
    titles = [n.title for n in await notes_of(world, "member")]
    assert titles == ["活动发布：主题党日"]
    assert [n.title for n in await notes_of(world, "community")] == ["活动发布：主题党日"]
    assert await notes_of(world, "liaison") == []
    async with world.uow(community_actor) as uow:
        with pytest.raises(Conflict):
            await planning.announce(uow, community_actor, activity.id, None)


async def test_edit_rules(world: World) -> None:
    until = next_weekday(2) + timedelta(days=14)
    activity = await create(
        world, repeat="weekly", repeat_weekdays="2", recurrence_until=until.isoformat()
    )
    liaison = await world.actor("liaison")
    base = await raw(
        world, repeat="weekly", repeat_weekdays="2", recurrence_until=until.isoformat()
    )

    async def edit(version: int, **over: str) -> Activity:
        async with world.uow(liaison) as uow:
            result = await plan_edit.edit_activity(
                uow, liaison, activity.id, {**base, "version": str(version), **over}
            )
            await uow.commit()
        return result

    # Retimed while nobody signed up: the dates are made anew (Thursdays now).
    edited = await edit(activity.version, repeat_weekdays="3", title="改名")
    assert edited.title == "改名"
    dates = await dates_of(world, activity.id)
    assert {local_date(o.starts_at).weekday() for o in dates} == {3}
    # A stale form is refused and nothing is overwritten.
    with pytest.raises(Conflict):
        await edit(activity.version, title="旧表单")

    await sign_up(world, dates[0].id, "member")
    await sign_up(world, dates[0].id, "secretary")
    base["date"] = local_date(dates[0].starts_at).isoformat()  # the form shows the first date
    with pytest.raises(ValidationFailed) as refused:
        await edit(edited.version, repeat_weekdays="3", start_time="09:00", end_time="10:00")
    assert "单个日期" in refused.value.fields["date"]
    with pytest.raises(ValidationFailed) as low:
        await edit(edited.version, repeat_weekdays="3", capacity="1")
    assert "2 人" in low.value.fields["capacity"]
    # Descriptive fields and capacity still change.
    again = await edit(edited.version, repeat_weekdays="3", capacity="2", title="再改名")
    assert (again.capacity, again.title) == (2, "再改名")
    assert [o.id for o in await dates_of(world, activity.id)] == [o.id for o in dates]


async def test_raising_capacity_promotes_the_waitlist(world: World) -> None:
    if importlib.util.find_spec("domain.activities.signup") is None:
        pytest.skip("sign-up service not built yet")
    activity = await create(world, capacity="1")
    (occ,) = await dates_of(world, activity.id)
    await sign_up(world, occ.id, "member")
    secretary = await world.user("secretary")
    async with world.factory() as s:
        s.add(Signup(occurrence_id=occ.id, user_id=secretary.id, state="signup_waitlisted"))
        await s.commit()
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        await plan_edit.edit_activity(
            uow, liaison, activity.id, {**await raw(world), "capacity": "2", "version": "1"}
        )
        await uow.commit()
    async with world.factory() as s:
        states = set(await s.scalars(select(Signup.state).where(Signup.occurrence_id == occ.id)))
    assert states == {"signup_confirmed"}


async def test_cancel_activity_tells_everyone_signed_up(world: World) -> None:
    until = next_weekday(2) + timedelta(days=7)
    activity = await create(
        world, repeat="weekly", repeat_weekdays="2", recurrence_until=until.isoformat()
    )
    first, second = await dates_of(world, activity.id)
    await sign_up(world, first.id, "member")
    await sign_up(world, second.id, "member")
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        with pytest.raises(ValidationFailed):
            await plan_dates.cancel_activity(uow, liaison, activity.id, None, " ")
    async with world.uow(liaison) as uow:
        await plan_dates.cancel_activity(uow, liaison, activity.id, None, "暴雨预警")
        await uow.commit()
    notes = await notes_of(world, "member")
    assert [(n.title, n.body) for n in notes] == [("活动取消：共建健康讲座", "原因：暴雨预警")]
    dates = await dates_of(world, activity.id)
    assert {o.state for o in dates} == {OccurrenceState.CANCELLED}
    assert {o.cancel_reason for o in dates} == {"暴雨预警"}
    # Another organiser cannot act on it; the member cannot either.
    member = await world.actor("member")
    async with world.uow(member) as uow:
        with pytest.raises(PermissionDenied):
            await plan_dates.cancel_activity(uow, member, activity.id, None, "x")


async def test_single_date_exceptions(world: World) -> None:
    until = next_weekday(2) + timedelta(days=14)
    activity = await create(
        world, repeat="weekly", repeat_weekdays="2", recurrence_until=until.isoformat()
    )
    first, second, _third = await dates_of(world, activity.id)
    await sign_up(world, first.id, "member")
    await sign_up(world, second.id, "member")
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        await plan_dates.cancel_date(uow, liaison, first.id, None, "场地检修")
        await uow.commit()
    new_day = local_date(second.starts_at) + timedelta(days=1)
    async with world.uow(liaison) as uow:
        with pytest.raises(ValidationFailed) as bad:
            await plan_dates.move_date(
                uow, liaison, second.id, None, {"date": new_day.isoformat(), "reason": ""}
            )
        assert set(bad.value.fields) == {"start_time", "end_time", "reason"}
    async with world.uow(liaison) as uow:
        await plan_dates.move_date(
            uow,
            liaison,
            second.id,
            None,
            {"date": new_day.isoformat(), "start_time": "09:30", "end_time": "11:00",
             "reason": "与区里会议冲突"},
        )  # fmt: skip
        await uow.commit()
    a, b, c = await dates_of(world, activity.id)
    assert (a.state, a.cancel_reason) == (OccurrenceState.CANCELLED, "场地检修")
    assert local_date(b.starts_at) == new_day and b.original_starts_at == second.starts_at
    assert b.starts_at.astimezone(BEIJING).strftime("%H:%M") == "09:30"
    assert b.note == "与区里会议冲突"
    assert c.state == OccurrenceState.SCHEDULED
    titles = [n.title for n in await notes_of(world, "member")]
    assert titles[0].startswith("活动日期取消：共建健康讲座")
    assert titles[1] == "活动时间调整：共建健康讲座"
    async with world.uow(liaison) as uow:
        with pytest.raises(Conflict):
            await plan_dates.cancel_date(uow, liaison, a.id, None, "again")
    assert len(await world.audit("activity.move_date", activity.id)) == 1


async def test_conflicts_with_sessions_bookings_and_hosts(world: World) -> None:
    street = await world.org_id("新华街道")
    hospital = await world.unit(HOSPITAL)
    day = next_weekday(2)
    start = datetime.combine(day, datetime.min.time(), BEIJING).replace(hour=15)
    secretary = await world.user("secretary")
    async with world.factory() as s:
        conference = await s.scalar(select(Conference).where(Conference.organization_id == street))
        assert conference is not None
        s.add(
            MeetingSession(
                conference_id=conference.id, year=day.year, title="第四季度联席会议",
                starts_at=start, ends_at=start + timedelta(hours=2), place="街道 三楼会议室",
                signin_secret="x", created_by_id=secretary.id,
            )
        )  # fmt: skip
        hall = Resource(street_id=street, unit_id=hospital.id, kind="venue", title="医院大厅",
                        bookable=True, state="listed")  # fmt: skip
        s.add(hall)
        await s.flush()
        slot = ResourceSlot(
            resource_id=hall.id, starts_at=start, ends_at=start + timedelta(hours=2)
        )
        s.add(slot)
        await s.flush()
        committee = await world.unit(COMMITTEE)
        s.add(Booking(slot_id=slot.id, resource_id=hall.id, requester_unit_id=committee.id,
                      purpose="讲座", attendees=20, state="booking_approved"))  # fmt: skip
        await s.commit()
        hall_id = hall.id

    with pytest.raises(planning.ClashWarning) as warned:
        await create(world, "secretary", venue="街道三楼会议室")
    assert any("联席会议「第四季度联席会议」" in w for w in warned.value.warnings)
    with pytest.raises(planning.ClashWarning) as warned:
        await create(world, "secretary", venue="", resource_id=str(hall_id))
    assert any("「医院大厅」的预约" in w for w in warned.value.warnings)
    first = await create(world, "secretary", venue="别处", start_time="18:00", end_time="19:00")
    with pytest.raises(planning.ClashWarning) as warned:
        await create(world, "liaison", venue="又一处", start_time="18:30", end_time="20:00")
    assert any("和平区人民医院同时段另有活动" in w for w in warned.value.warnings)
    # Confirmed, it is saved, and the activity page shows the clash on that date.
    second = await create(world, "liaison", venue="又一处", start_time="18:30",
                          end_time="20:00", confirm_conflicts="1")  # fmt: skip
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        page = await activity_page(uow, liaison, second.id)
    assert page.clash_count == 1
    assert "共建健康讲座" in page.dates[0].clashes[0]
    assert first.id != second.id


async def test_party_member_grants_only_of_that_community_are_told(world: World) -> None:
    # A second party member of another community is not told of 文化里社区's party day.
    other = await world.org_id("长安街道")
    async with world.factory() as s:
        user = User(username="member2", display_name="钱二", password_hash="x")
        s.add(user)
        await s.flush()
        s.add(RoleGrant(user_id=user.id, role=Role.PARTY_MEMBER.value, organization_id=other))
        await s.commit()
    community = await world.org_id("文化里社区")
    activity = await create(
        world, "community", kind="themed_day", title="主题党日",
        lead_unit_id=str((await world.unit(COMMITTEE)).id), community_id=str(community),
    )  # fmt: skip
    actor = await world.actor("community")
    async with world.uow(actor) as uow:
        await planning.announce(uow, actor, activity.id, None)
        await uow.commit()
    assert await notes_of(world, "member2") == []
    assert len(await notes_of(world, "member")) == 1


async def test_demo_activities(world: World) -> None:
    from gongjian.demo_activities import seed_demo_activities

    await seed_demo_activities(world.factory)
    async with world.factory() as s:
        activities = {a.title: a for a in await s.scalars(select(Activity))}
    assert len(activities) == 4
    assert {a.state for a in activities.values()} == {ActivityState.ANNOUNCED}
    party = activities["文化里社区主题党日"]
    assert party.recurrence == "FREQ=MONTHLY;BYDAY=1FR" and party.capacity == 30
    dates = await dates_of(world, party.id)
    assert len(dates) == 12
    assert all(o.original_starts_at.astimezone(BEIJING).weekday() == 4 for o in dates)
    assert sum(o.state == OccurrenceState.CANCELLED for o in dates) == 1
    assert sum(o.starts_at != o.original_starts_at for o in dates) == 1
    assert activities["为独居老人上门送餐"].capacity == 3
    assert activities["为独居老人上门送餐"].service_minutes == 120
    assert activities["医社共建健康讲座：冬季心脑血管疾病预防"].signup_rule == "signup_approval"
    (past,) = await dates_of(world, activities["楼道环境清洁志愿服务"].id)
    assert past.ends_at < utcnow()


async def test_a_new_venue_is_told_to_those_signed_up(world: World) -> None:
    activity = await create(world)
    (only,) = await dates_of(world, activity.id)
    await sign_up(world, only.id, "member")
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        await plan_edit.edit_activity(
            uow,
            liaison,
            activity.id,
            await raw(world, venue="门诊楼五楼党员活动室", version=str(activity.version)),
        )
        await uow.commit()
    notes = await notes_of(world, "member")
    assert [(n.title, n.body) for n in notes] == [
        ("活动地点变更：共建健康讲座", "地点由「医院礼堂」改为「门诊楼五楼党员活动室」。")
    ]
    # A change that keeps the place tells nobody again.
    async with world.factory() as s:
        current = await s.get(Activity, activity.id)
        assert current is not None
        version = current.version
    async with world.uow(liaison) as uow:
        await plan_edit.edit_activity(
            uow,
            liaison,
            activity.id,
            await raw(
                world,
                venue="门诊楼五楼党员活动室",
                title="共建健康讲座（二）",
                version=str(version),
            ),
        )
        await uow.commit()
    assert len(await notes_of(world, "member")) == 1


async def test_moving_a_date_onto_a_clash_asks_for_confirmation(world: World) -> None:
    """Moving one date into another activity of the same host warns first, like creating."""
    await create(world, venue="医院礼堂", start_time="09:00", end_time="10:00")
    later = await create(world, venue="门诊楼", start_time="15:00", end_time="16:00")
    (occ,) = await dates_of(world, later.id)
    liaison = await world.actor("liaison")
    move = {"date": next_weekday(2).isoformat(), "start_time": "09:30", "end_time": "10:30",
            "reason": "专家时间调整"}  # fmt: skip
    async with world.uow(liaison) as uow:
        with pytest.raises(planning.ClashWarning) as warned:
            await plan_dates.move_date(uow, liaison, occ.id, occ.version, move)
    assert any("和平区人民医院同时段另有活动" in w for w in warned.value.warnings)
    (unchanged,) = await dates_of(world, later.id)
    assert unchanged.starts_at == occ.starts_at
    async with world.uow(liaison) as uow:
        await plan_dates.move_date(
            uow, liaison, occ.id, occ.version, {**move, "confirm_conflicts": "1"}
        )
        await uow.commit()
    (moved,) = await dates_of(world, later.id)
    assert moved.starts_at.astimezone(BEIJING).hour == 9
