"""Check-in by QR code and by the organiser: the window, walk-ins, refusals, new tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.activities import checkin, signup
from domain.enums import SignupRule
from domain.errors import Conflict, NotFound, PermissionDenied
from tests.activity_factory import make_activity, make_members, now_utc, occurrence, signups
from tests.integration.conftest import World


async def _scan(world: World, actor, token: str, now=None):  # type: ignore[no-untyped-def]
    async with world.uow(actor) as uow:
        row = await checkin.checkin_by_token(uow, actor, token, now)
        await uow.commit()
    return row


async def test_qr_checkin_window_and_states(world: World) -> None:
    start = now_utc() + timedelta(hours=2)
    made = await make_activity(world.factory, starts=start, capacity=2)
    a, b, c = await make_members(world.factory, 3)
    for m in (a, b, c):
        async with world.uow(m) as uow:
            await signup.sign_up(uow, m, made.occ)
            await uow.commit()
    token = (await occurrence(world.factory, made.occ)).checkin_token
    # Too early: the default opens 30 minutes before the start.
    with pytest.raises(Conflict, match="签到尚未开始"):
        await _scan(world, a, token, start - timedelta(minutes=31))
    row = await _scan(world, a, token, start - timedelta(minutes=29))
    assert row.checked_in_at is not None and row.checkin_method == "checkin_qr"
    async with world.uow(a) as uow:
        view = await checkin.checkin_view(uow, a, token, start)
    assert view.already and "已签到" in view.reason
    with pytest.raises(Conflict, match="已签到"):
        await _scan(world, a, token, start)
    # c is waitlisted (capacity 2): told why.
    with pytest.raises(Conflict, match="候补"):
        await _scan(world, c, token, start)
    # After the end: closed.
    with pytest.raises(Conflict, match="已结束"):
        await _scan(world, b, token, start + timedelta(hours=3))


async def test_walk_in_takes_a_free_seat_or_is_refused(world: World) -> None:
    start = now_utc() + timedelta(minutes=10)
    made = await make_activity(world.factory, starts=start, capacity=1)
    walk_in, late = await make_members(world.factory, 2)
    token = (await occurrence(world.factory, made.occ)).checkin_token
    row = await _scan(world, walk_in, token)
    assert row.state == "signup_confirmed" and row.checked_in_at is not None
    assert (await occurrence(world.factory, made.occ)).taken == 1
    with pytest.raises(Conflict, match="名额已满"):
        await _scan(world, late, token)
    assert len(await signups(world.factory, made.occ)) == 1

    approval = await make_activity(world.factory, starts=start, rule=SignupRule.APPROVAL)
    token2 = (await occurrence(world.factory, approval.occ)).checkin_token
    with pytest.raises(Conflict, match="需报名审核"):
        await _scan(world, walk_in, token2)
    async with world.uow(late) as uow:
        await signup.sign_up(uow, late, approval.occ, now=start - timedelta(minutes=20))
        await uow.commit()
    with pytest.raises(Conflict, match="尚待组织方审核"):
        await _scan(world, late, token2)


async def test_regenerated_token_replaces_the_old_one(world: World) -> None:
    made = await make_activity(world.factory, starts=now_utc() + timedelta(minutes=10))
    old = (await occurrence(world.factory, made.occ)).checkin_token
    member = await world.actor("member")
    with pytest.raises(PermissionDenied):
        async with world.uow(member) as uow:
            await checkin.regenerate_token(uow, member, made.occ)
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        occ = await checkin.regenerate_token(uow, liaison, made.occ)
        new = occ.checkin_token
        await uow.commit()
    assert new != old
    with pytest.raises(NotFound, match="签到码无效"):
        await _scan(world, member, old)
    assert (await _scan(world, member, new)).checked_in_at is not None


async def test_organiser_checkin_and_undo(world: World) -> None:
    start = now_utc() + timedelta(minutes=20)
    made = await make_activity(world.factory, starts=start)
    (m,) = await make_members(world.factory, 1)
    async with world.uow(m) as uow:
        row = await signup.sign_up(uow, m, made.occ)
        await uow.commit()
    community = await world.actor("community")  # the activity's community secretary
    async with world.uow(m) as uow:
        with pytest.raises(PermissionDenied):
            await checkin.organiser_checkin(uow, m, row.id)
    async with world.uow(community) as uow:
        with pytest.raises(Conflict, match="尚未开始"):
            await checkin.organiser_checkin(uow, community, row.id, now=start - timedelta(hours=1))
    async with world.uow(community) as uow:
        done = await checkin.organiser_checkin(uow, community, row.id)
        assert done.checkin_method == "checkin_organiser"
        await uow.commit()
    async with world.uow(community) as uow:
        undone = await checkin.organiser_checkin(uow, community, row.id, undo=True)
        assert undone.checked_in_at is None
        await uow.commit()
    rows = await signups(world.factory, made.occ)
    assert rows[0].checked_in_at is None
