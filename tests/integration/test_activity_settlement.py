"""Settlement: attendance, points by the street's rule, idempotence, make-ups, the summary."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from domain.activities import checkin, makeup, settlement, signup
from domain.enums import ActivityKind
from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.models import StreetSetting
from domain.models.activities import MakeupRecord, PointEntry
from domain.permissions import Actor
from tests.activity_factory import Made, make_activity, make_members, now_utc, occurrence, signups
from tests.integration.conftest import World


async def _attend(world: World, made: Made, start: datetime, present: list[Actor],
                  absent: list[Actor]) -> None:  # fmt: skip
    for m in present + absent:
        async with world.uow(m) as uow:
            await signup.sign_up(uow, m, made.occ, now=start - timedelta(days=1))
            await uow.commit()
    token = (await occurrence(world.factory, made.occ)).checkin_token
    for m in present:
        async with world.uow(m) as uow:
            await checkin.checkin_by_token(uow, m, token, start + timedelta(minutes=5))
            await uow.commit()


async def _settle(world: World, actor: Actor, occ_id: int, now: datetime | None = None):  # type: ignore[no-untyped-def]
    async with world.uow(actor) as uow:
        result = await settlement.settle(uow, actor, occ_id, now=now)
        await uow.commit()
    return result


async def _points(world: World, occ_id: int) -> list[PointEntry]:
    async with world.factory() as s:
        return list(
            await s.scalars(
                select(PointEntry).where(PointEntry.occurrence_id == occ_id).order_by(PointEntry.id)
            )
        )


async def test_settlement_posts_points_once_and_marks_no_shows(world: World) -> None:
    start = now_utc() - timedelta(hours=3)
    made = await make_activity(world.factory, starts=start, minutes=90)
    there, away = await make_members(world.factory, 2)
    await _attend(world, made, start, [there], [away])
    liaison = await world.actor("liaison")
    with pytest.raises(PermissionDenied):
        await _settle(world, there, made.occ)
    with pytest.raises(Conflict, match="结束后才能结算"):
        await _settle(world, liaison, made.occ, now=start + timedelta(minutes=30))
    result = await _settle(world, liaison, made.occ)
    assert result.attended == [there.user_id] and result.no_show == [away.user_id]
    rows = {r.user_id: r for r in await signups(world.factory, made.occ)}
    assert rows[there.user_id].attendance == "attended"
    assert rows[away.user_id].attendance == "no_show"
    (entry,) = await _points(world, made.occ)
    # Street default: 2 points per attendance; service time = the date's 90 minutes.
    assert (entry.user_id, entry.points, entry.minutes, entry.source) == (
        there.user_id,
        2,
        90,
        "point_activity",
    )
    assert entry.community_id == made.community_id  # from the party-member grant
    occ = await occurrence(world.factory, made.occ)
    assert occ.state == "occ_settled" and occ.settled_at is not None
    # Twice: refused, and no second line.
    with pytest.raises(Conflict, match="已结算"):
        await _settle(world, liaison, made.occ)
    assert len(await _points(world, made.occ)) == 1
    # Check-in is closed once settled.
    with pytest.raises(Conflict):
        async with world.uow(liaison) as uow:
            await checkin.organiser_checkin(uow, liaison, rows[away.user_id].id)


async def test_volunteer_points_follow_the_street_settings(world: World) -> None:
    start = now_utc() - timedelta(hours=5)
    made = await make_activity(
        world.factory,
        starts=start,
        minutes=180,
        kind=ActivityKind.VOLUNTEER,
        title="社区志愿服务",
    )
    async with world.factory() as s:
        s.add(StreetSetting(street_id=made.street_id, key="activity_points", value="3"))
        s.add(StreetSetting(street_id=made.street_id, key="service_hour_points", value="2"))
        await s.commit()
    (m,) = await make_members(world.factory, 1)
    await _attend(world, made, start, [m], [])
    await _settle(world, await world.actor("secretary"), made.occ)
    (entry,) = await _points(world, made.occ)
    assert (entry.points, entry.minutes) == (3 + 2 * 3, 180)

    fixed = await make_activity(
        world.factory, starts=start, kind=ActivityKind.VOLUNTEER, points=5, service_minutes=60
    )
    await _attend(world, fixed, start, [m], [])
    await _settle(world, await world.actor("secretary"), fixed.occ)
    (entry,) = await _points(world, fixed.occ)
    assert (entry.points, entry.minutes) == (5 + 2, 60)


async def test_cancelled_date_cannot_be_settled(world: World) -> None:
    made = await make_activity(world.factory, starts=now_utc() - timedelta(hours=3))
    async with world.factory() as s:
        from domain.models.activities import ActivityOccurrence

        occ = await s.get(ActivityOccurrence, made.occ)
        assert occ is not None
        occ.state = "occ_cancelled"
        await s.commit()
    with pytest.raises(Conflict, match="已取消"):
        await _settle(world, await world.actor("secretary"), made.occ)


async def test_themed_day_makeups_open_and_close(world: World) -> None:
    first = now_utc() - timedelta(days=30)
    day1 = await make_activity(
        world.factory, starts=first, kind=ActivityKind.THEMED_DAY, title="主题党日"
    )
    there, away = await make_members(world.factory, 2)
    community = await world.actor("community")
    await _attend(world, day1, first, [there], [away])
    result = await _settle(world, community, day1.occ)
    async with world.uow() as uow:
        assert day1.community_id is not None
        expected = await makeup.expected_members(uow, day1.community_id)
    assert result.makeups_opened == len(expected - {there.user_id})
    async with world.factory() as s:
        open_for = set(
            await s.scalars(select(MakeupRecord.user_id).where(MakeupRecord.made_up_at.is_(None)))
        )
    assert away.user_id in open_for and there.user_id not in open_for

    # `away` attends the next themed day of the community: made up at its settlement.
    second = now_utc() - timedelta(hours=4)
    day2 = await make_activity(
        world.factory, starts=second, kind=ActivityKind.THEMED_DAY, title="主题党日"
    )
    await _attend(world, day2, second, [away], [])
    result2 = await _settle(world, community, day2.occ)
    assert result2.makeups_closed == 1
    async with world.factory() as s:
        rec = await s.scalar(
            select(MakeupRecord).where(
                MakeupRecord.user_id == away.user_id, MakeupRecord.occurrence_id == day1.occ
            )
        )
        assert rec is not None and rec.made_up_occurrence_id == day2.occ

    # The community secretary closes one by hand, with a note; a member may not.
    async with world.uow(community) as uow:
        listing = await makeup.list_makeups(uow, community)
    target = next(r.record for r in listing.open if r.record.user_id == there.user_id)
    member = await world.actor("member")
    with pytest.raises(PermissionDenied):
        async with world.uow(member) as uow:
            await makeup.close_by_hand(uow, member, target.id, "已补课")
    with pytest.raises(ValidationFailed):
        async with world.uow(community) as uow:
            await makeup.close_by_hand(uow, community, target.id, " ")
    async with world.uow(community) as uow:
        await makeup.close_by_hand(uow, community, target.id, "11月20日随支部补学")
        await uow.commit()
    async with world.uow(community) as uow:
        listing = await makeup.list_makeups(uow, community)
    assert any(r.record.id == target.id for r in listing.closed)


async def test_summary_after_the_end(world: World) -> None:
    start = now_utc() + timedelta(hours=1)
    made = await make_activity(world.factory, starts=start)
    liaison = await world.actor("liaison")
    with pytest.raises(Conflict, match="活动结束后"):
        async with world.uow(liaison) as uow:
            await settlement.save_summary(uow, liaison, made.occ, "小结")
    async with world.uow(liaison) as uow:
        await settlement.save_summary(
            uow, liaison, made.occ, "活动顺利举办。", now=start + timedelta(hours=3)
        )
        await uow.commit()
    assert (await occurrence(world.factory, made.occ)).summary == "活动顺利举办。"


async def test_demo_attendance_credits_the_demo_member(world: World) -> None:
    from gongjian.demo_attendance import seed_demo_attendance

    await seed_demo_attendance(world.factory)  # no demo activities: nothing happens
    last_week = now_utc() - timedelta(days=7)
    past = await make_activity(
        world.factory, starts=last_week, kind=ActivityKind.THEMED_DAY, title="主题党日"
    )
    coming = await make_activity(world.factory, starts=now_utc() + timedelta(days=3))
    await seed_demo_attendance(world.factory)
    member = await world.user("member")
    (entry,) = await _points(world, past.occ)
    assert entry.user_id == member.id and entry.points == 2
    assert (await occurrence(world.factory, past.occ)).state == "occ_settled"
    assert member.id in {r.user_id for r in await signups(world.factory, coming.occ)}
