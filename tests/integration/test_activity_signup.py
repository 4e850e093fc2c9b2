"""Signing up for a date: seats, waitlist, approval, cancellation and promotion, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.activities import signup as svc
from domain.enums import ActivityState, SignupRule
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Notification
from domain.models.activities import ActivityOccurrence, Signup
from tests.activity_factory import make_activity, make_members, now_utc, occurrence, signups, states
from tests.integration.conftest import World


async def _sign(world: World, actor, occ_id: int, **kw):  # type: ignore[no-untyped-def]
    async with world.uow(actor) as uow:
        row = await svc.sign_up(uow, actor, occ_id, **kw)
        await uow.commit()
    return row


async def test_open_signup_confirms_until_full_then_waitlists_fifo(world: World) -> None:
    made = await make_activity(world.factory, starts=now_utc() + timedelta(days=3), capacity=2)
    a, b, c, d = await make_members(world.factory, 4)
    for m in (a, b, c, d):
        await _sign(world, m, made.occ)
    rows = await signups(world.factory, made.occ)
    assert [r.state for r in rows] == [
        "signup_confirmed",
        "signup_confirmed",
        "signup_waitlisted",
        "signup_waitlisted",
    ]
    assert (await occurrence(world.factory, made.occ)).taken == 2
    async with world.uow(d) as uow:
        assert await svc.waitlist_position(uow, rows[3]) == 2

    # The first confirmed cancels: the earliest waitlisted (c) gets the seat and is told.
    async with world.uow(a) as uow:
        await svc.cancel_signup(uow, a, rows[0].id, rows[0].version)
        await uow.commit()
    rows = await signups(world.factory, made.occ)
    assert [r.state for r in rows] == [
        "signup_cancelled",
        "signup_confirmed",
        "signup_confirmed",
        "signup_waitlisted",
    ]
    assert (await occurrence(world.factory, made.occ)).taken == 2
    titles = [n.title for n in await _notes(world, c.user_id)]
    assert any("候补成功" in t for t in titles)
    # A waitlisted one cancelling frees no seat.
    async with world.uow(d) as uow:
        await svc.cancel_signup(uow, d, rows[3].id)
        await uow.commit()
    assert (await occurrence(world.factory, made.occ)).taken == 2


async def _notes(world: World, user_id: int) -> list[Notification]:
    async with world.factory() as s:
        return list(await s.scalars(select(Notification).where(Notification.user_id == user_id)))


async def test_full_without_waitlist_is_refused(world: World) -> None:
    made = await make_activity(
        world.factory, starts=now_utc() + timedelta(days=3), capacity=1, waitlist=False
    )
    a, b = await make_members(world.factory, 2)
    await _sign(world, a, made.occ)
    with pytest.raises(Conflict, match="名额已满"):
        await _sign(world, b, made.occ)
    assert states(await signups(world.factory, made.occ)) == {"signup_confirmed": 1}


async def test_signing_up_twice_is_refused_kindly(world: World) -> None:
    made = await make_activity(world.factory, starts=now_utc() + timedelta(days=3))
    member = await world.actor("member")
    await _sign(world, member, made.occ)
    with pytest.raises(Conflict, match="您已报名该活动"):
        await _sign(world, member, made.occ)
    assert (await occurrence(world.factory, made.occ)).taken == 1


async def test_refusals_not_announced_started_cancelled(world: World) -> None:
    member = await world.actor("member")
    planned = await make_activity(
        world.factory, starts=now_utc() + timedelta(days=3), state=ActivityState.PLANNED
    )
    # A planned activity is not even visible to a member.
    with pytest.raises(NotFound):
        await _sign(world, member, planned.occ)
    cancelled = await make_activity(
        world.factory, starts=now_utc() + timedelta(days=3), state=ActivityState.CANCELLED
    )
    with pytest.raises(Conflict, match="尚未发布或已取消"):
        await _sign(world, member, cancelled.occ)
    started = await make_activity(world.factory, starts=now_utc() - timedelta(minutes=5))
    with pytest.raises(Conflict, match="报名已截止"):
        await _sign(world, member, started.occ)
    one_date_off = await make_activity(world.factory, starts=now_utc() + timedelta(days=3))
    async with world.factory() as s:
        occ = await s.get(ActivityOccurrence, one_date_off.occ)
        assert occ is not None
        occ.state = "occ_cancelled"
        await s.commit()
    with pytest.raises(Conflict, match="该场次已取消"):
        await _sign(world, member, one_date_off.occ)
    # Someone from another street cannot see it at all.
    other = await world.actor("secretary2")
    open_one = await make_activity(world.factory, starts=now_utc() + timedelta(days=3))
    with pytest.raises(NotFound):
        await _sign(world, other, open_one.occ)
    with pytest.raises(ValidationFailed):
        await _sign(world, member, open_one.occ, note="长" * 301)


async def test_approval_rule_pending_then_approve_or_decline(world: World) -> None:
    made = await make_activity(
        world.factory,
        starts=now_utc() + timedelta(days=3),
        capacity=1,
        rule=SignupRule.APPROVAL,
    )
    a, b, c = await make_members(world.factory, 3)
    for m in (a, b, c):
        row = await _sign(world, m, made.occ)
        assert row.state == "signup_pending"
    assert (await occurrence(world.factory, made.occ)).taken == 0
    # The hospital's liaison (a host) was told of the pending sign-ups.
    liaison = await world.actor("liaison")
    assert any("待审核" in n.title for n in await _notes(world, liaison.user_id))
    rows = await signups(world.factory, made.occ)
    # A member may not approve.
    with pytest.raises(PermissionDenied):
        async with world.uow(b) as uow:
            await svc.approve(uow, b, rows[0].id)
    async with world.uow(liaison) as uow:
        first = await svc.approve(uow, liaison, rows[0].id, rows[0].version)
        second = await svc.approve(uow, liaison, rows[1].id, rows[1].version)
        await uow.commit()
    assert (first.state, second.state) == ("signup_confirmed", "signup_waitlisted")
    assert any("已满" in n.title for n in await _notes(world, liaison.user_id))
    with pytest.raises(ValidationFailed):
        async with world.uow(liaison) as uow:
            await svc.decline(uow, liaison, rows[2].id, "  ")
    async with world.uow(liaison) as uow:
        await svc.decline(uow, liaison, rows[2].id, "名额有限，请参加下次活动")
        await uow.commit()
    assert any("未通过" in n.title for n in await _notes(world, c.user_id))
    with pytest.raises(Conflict, match="已处理"):
        async with world.uow(liaison) as uow:
            await svc.approve(uow, liaison, rows[2].id)
    assert (await occurrence(world.factory, made.occ)).taken == 1


async def test_cancel_rules(world: World) -> None:
    made = await make_activity(world.factory, starts=now_utc() + timedelta(days=3))
    a, b = await make_members(world.factory, 2)
    row = await _sign(world, a, made.occ)
    with pytest.raises(PermissionDenied):
        async with world.uow(b) as uow:
            await svc.cancel_signup(uow, b, row.id)
    with pytest.raises(Conflict, match="已开始"):
        async with world.uow(a) as uow:
            await svc.cancel_signup(uow, a, row.id, now=now_utc() + timedelta(days=4))
    async with world.uow(a) as uow:
        await svc.cancel_signup(uow, a, row.id)
        await uow.commit()
    with pytest.raises(Conflict):
        async with world.uow(a) as uow:
            await svc.cancel_signup(uow, a, row.id)
    # Signing up again after cancelling is allowed (the old row is no longer live).
    again = await _sign(world, a, made.occ)
    assert again.state == "signup_confirmed"
    async with world.factory() as s:
        live = await s.scalars(
            select(Signup).where(Signup.user_id == a.user_id, Signup.state == "signup_confirmed")
        )
        assert len(list(live)) == 1


async def test_promote_waitlist_after_capacity_raised(world: World) -> None:
    made = await make_activity(world.factory, starts=now_utc() + timedelta(days=3), capacity=1)
    members = await make_members(world.factory, 4)
    for m in members:
        await _sign(world, m, made.occ)
    async with world.factory() as s:
        from domain.models.activities import Activity

        act = await s.get(Activity, made.activity_id)
        assert act is not None
        act.capacity = 3
        await s.commit()
    async with world.uow() as uow:
        promoted = await svc.promote_waitlist(uow, made.occ)
        await uow.commit()
    assert [p.user_id for p in promoted] == [members[1].user_id, members[2].user_id]
    assert (await occurrence(world.factory, made.occ)).taken == 3
