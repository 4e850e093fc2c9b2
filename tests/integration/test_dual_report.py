"""双报到: unit report-in slips, member registrations, service posts and claims, the review."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from domain.dual_report import members, posts, review, units
from domain.dual_report.common import this_year
from domain.enums import PostClaimState, RegistrationState, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Notification, RoleGrant, User
from domain.models.activities import PointEntry
from domain.models.dual_report import (
    MemberRegistration,
    PostClaim,
    ServicePost,
    UnitRegistration,
)
from domain.uow import UnitOfWork
from tests.integration.conftest import World

R = RegistrationState
HOSPITAL = "和平区人民医院"
WENHUA, CHUNHUI = "文化里社区", "春晖社区"


def slip_form(community_id: int, **over: str) -> dict[str, str]:
    form = {
        "community_id": str(community_id),
        "year": str(this_year()),
        "contact_name": "李红梅",
        "contact_phone": "010-68120011",
        "party_members": "236",
        "commitments": "每月义诊一次，开放健康讲堂",
        "service_wishes": "参与社区健康服务",
    }
    form.update(over)
    return form


def member_form(
    community_id: int, employer_unit_id: int | None = None, **over: str
) -> dict[str, str]:
    form = {
        "community_id": str(community_id),
        "employer_unit_id": str(employer_unit_id or ""),
        "employer_name": "" if employer_unit_id else "某某律师事务所",
        "residence": "文化里小区 3 号楼",
        "phone": "13800000000",
        "skills": "法律咨询",
    }
    form.update(over)
    return form


async def add_member(world: World, username: str, community: str = WENHUA) -> int:
    """A party member of a community (a user with a PARTY_MEMBER grant)."""
    org = await world.org_id(community)
    async with world.factory() as s:
        user = User(username=username, display_name=f"党员{username}", password_hash="x")
        s.add(user)
        await s.flush()
        s.add(RoleGrant(user_id=user.id, role=Role.PARTY_MEMBER.value, organization_id=org))
        await s.commit()
        return user.id


async def make_post(world: World, community: str = WENHUA, capacity: int = 0) -> int:
    actor = await world.actor("community" if community == WENHUA else "admin")
    org = await world.org_id(community)
    async with world.uow(actor) as uow:
        post = await posts.create_post(
            uow,
            actor,
            org,
            {"name": "平安巡逻岗", "description": "夜间巡逻", "capacity": str(capacity)},
        )
        await uow.commit()
        return post.id


async def register(
    world: World,
    username: str,
    post_ids: list[int] | None = None,
    confirm: bool = True,
    **over: str,
) -> int:
    actor = await world.actor(username)
    hospital = await world.unit(HOSPITAL)
    org = await world.org_id(WENHUA)
    async with world.uow(actor) as uow:
        reg = await members.submit(
            uow, actor, member_form(org, hospital.id, **over), [str(p) for p in post_ids or []]
        )
        await uow.commit()
        reg_id = reg.id
    if confirm:
        secretary = await world.actor("community")
        async with world.uow(secretary) as uow:
            await members.confirm(uow, secretary, reg_id, None)
            await uow.commit()
    return reg_id


async def get(world: World, model: type, pk: int):  # type: ignore[no-untyped-def]
    async with world.factory() as s:
        return await s.get(model, pk)


# --- unit report-in ----------------------------------------------------------------------


async def test_slip_submitted_confirmed_and_notified(world: World) -> None:
    liaison = await world.actor("liaison")
    hospital = await world.unit(HOSPITAL)
    assert hospital.community_id is not None
    async with world.uow(liaison) as uow:
        slip = await units.submit(uow, liaison, hospital.id, slip_form(hospital.community_id))
        await uow.commit()
    community = await world.user("community")
    notes = await world.count(Notification, Notification.user_id == community.id)
    assert notes == 1
    secretary = await world.actor("community")
    async with world.uow(secretary) as uow:
        await units.confirm(uow, secretary, slip.id, slip.version)
        await uow.commit()
    stored = await get(world, UnitRegistration, slip.id)
    assert stored.state == R.CONFIRMED.value and stored.decided_by_id == secretary.user_id
    liaison_user = await world.user("liaison")
    assert await world.count(Notification, Notification.user_id == liaison_user.id) == 1
    assert await world.audit("dual_report.unit_confirm", slip.id)


async def test_second_live_slip_refused_in_chinese(world: World) -> None:
    liaison = await world.actor("liaison")
    hospital = await world.unit(HOSPITAL)
    assert hospital.community_id is not None
    async with world.uow(liaison) as uow:
        await units.submit(uow, liaison, hospital.id, slip_form(hospital.community_id))
        await uow.commit()
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(liaison) as uow:
            await units.submit(uow, liaison, hospital.id, slip_form(hospital.community_id))
            await uow.commit()
    assert "不能重复提交" in exc.value.fields["community_id"]
    assert await world.count(UnitRegistration) == 1


async def test_slip_validation_and_permissions(world: World) -> None:
    liaison = await world.actor("liaison")
    hospital = await world.unit(HOSPITAL)
    assert hospital.community_id is not None
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(liaison) as uow:
            await units.submit(
                uow, liaison, hospital.id,
                slip_form(hospital.community_id, contact_name="", contact_phone="abc",
                          commitments="", year="1999"),
            )  # fmt: skip
    assert set(exc.value.fields) == {"contact_name", "contact_phone", "commitments", "year"}
    # Another street's community is refused.
    other = await world.org_id("西苑社区")
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(liaison) as uow:
            await units.submit(uow, liaison, hospital.id, slip_form(other))
    assert "所在街道" in exc.value.fields["community_id"]
    # A liaison of another unit, or a party member, may not submit for the hospital.
    for name in ("liaison2", "member", "secretary2"):
        actor = await world.actor(name)
        with pytest.raises(PermissionDenied):
            async with world.uow(actor) as uow:
                await units.submit(uow, actor, hospital.id, slip_form(hospital.community_id))
    # Street staff may submit on the unit's behalf, for another community of the street.
    secretary = await world.actor("secretary")
    chunhui = await world.org_id(CHUNHUI)
    async with world.uow(secretary) as uow:
        slip = await units.submit(uow, secretary, hospital.id, slip_form(chunhui))
        await uow.commit()
    assert slip.community_id == chunhui
    # Only 春晖社区's secretary may decide it: 文化里社区's may not.
    community = await world.actor("community")
    with pytest.raises(PermissionDenied):
        async with world.uow(community) as uow:
            await units.confirm(uow, community, slip.id, None)


async def test_returned_slip_corrected_and_resubmitted_then_withdrawn(world: World) -> None:
    liaison = await world.actor("liaison")
    secretary = await world.actor("community")
    hospital = await world.unit(HOSPITAL)
    assert hospital.community_id is not None
    async with world.uow(liaison) as uow:
        slip = await units.submit(uow, liaison, hospital.id, slip_form(hospital.community_id))
        await uow.commit()
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(secretary) as uow:
            await units.return_slip(uow, secretary, slip.id, None, " ")
    assert exc.value.fields["reason"] == "请填写退回原因。"
    async with world.uow(secretary) as uow:
        await units.return_slip(uow, secretary, slip.id, 1, "请补充可提供的资源清单")
        await uow.commit()
    stored = await get(world, UnitRegistration, slip.id)
    assert stored.state == R.RETURNED.value and stored.return_reason == "请补充可提供的资源清单"
    # A stale form (version 1) is refused; nothing changes.
    with pytest.raises(Conflict):
        async with world.uow(secretary) as uow:
            await units.confirm(uow, secretary, slip.id, 1)
    async with world.uow(liaison) as uow:
        await units.resubmit(
            uow, liaison, slip.id, stored.version, slip_form(0, commitments="义诊、健康讲座、场地")
        )
        await uow.commit()
    stored = await get(world, UnitRegistration, slip.id)
    assert stored.state == R.SUBMITTED.value and stored.return_reason == ""
    assert stored.commitments == "义诊、健康讲座、场地"
    async with world.uow(liaison) as uow:
        await units.withdraw(uow, liaison, slip.id, stored.version)
        await uow.commit()
    assert (await get(world, UnitRegistration, slip.id)).state == R.ENDED.value
    # Withdrawn: a new slip may be submitted for the same year.
    async with world.uow(liaison) as uow:
        await units.submit(uow, liaison, hospital.id, slip_form(hospital.community_id))
        await uow.commit()
    assert await world.count(UnitRegistration) == 2


# --- member registration -----------------------------------------------------------------


async def test_member_registers_with_posts_and_is_confirmed(world: World) -> None:
    post_id = await make_post(world, capacity=5)
    reg_id = await register(world, "member", [post_id], confirm=False)
    reg = await get(world, MemberRegistration, reg_id)
    hospital = await world.unit(HOSPITAL)
    assert reg.state == R.SUBMITTED.value and reg.employer_unit_id == hospital.id
    assert reg.street_id == await world.org_id("新华街道")
    assert (await get(world, ServicePost, post_id)).taken == 1
    community = await world.user("community")
    assert await world.count(Notification, Notification.user_id == community.id) == 1
    secretary = await world.actor("community")
    async with world.uow(secretary) as uow:
        await members.confirm(uow, secretary, reg_id, reg.version)
        await uow.commit()
    assert (await get(world, MemberRegistration, reg_id)).state == R.CONFIRMED.value
    # A second live registration is refused.
    member = await world.actor("member")
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(member) as uow:
            await members.submit(uow, member, member_form(await world.org_id(WENHUA)), [])
            await uow.commit()
    assert "不能重复报到" in exc.value.message


async def test_member_form_rules(world: World) -> None:
    member = await world.actor("member")
    org = await world.org_id(WENHUA)
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(member) as uow:
            await members.submit(
                uow, member, member_form(org, employer_name="", residence="", phone="x"), []
            )
    assert set(exc.value.fields) == {"employer_unit_id", "residence", "phone"}
    # A community of a street the member cannot see.
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(member) as uow:
            await members.submit(uow, member, member_form(await world.org_id("西苑社区")), [])
    assert "所在街道" in exc.value.fields["community_id"]
    # An employer outside the district list; a post of another community.
    other_post = await make_post(world, CHUNHUI)
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(member) as uow:
            await members.submit(uow, member, member_form(org), [str(other_post)])
    assert "post_ids" in exc.value.fields
    # Not a party member: a liaison cannot register.
    liaison = await world.actor("liaison")
    with pytest.raises(PermissionDenied):
        async with world.uow(liaison) as uow:
            await members.submit(uow, liaison, member_form(org), [])


async def test_returned_registration_resubmitted_then_ended_frees_posts(world: World) -> None:
    post_a = await make_post(world, capacity=2)
    post_b = await make_post(world)
    reg_id = await register(world, "member", [post_a], confirm=False)
    secretary = await world.actor("community")
    async with world.uow(secretary) as uow:
        await members.return_registration(uow, secretary, reg_id, None, "请填写楼栋号")
        await uow.commit()
    member = await world.actor("member")
    member_user = await world.user("member")
    assert await world.count(Notification, Notification.user_id == member_user.id) == 1
    reg = await get(world, MemberRegistration, reg_id)
    assert reg.state == R.RETURNED.value
    org = await world.org_id(WENHUA)
    async with world.uow(member) as uow:
        await members.resubmit(
            uow, member, reg_id, reg.version, member_form(org, residence="文化里 5 号楼 2 单元"),
            [str(post_b)],
        )  # fmt: skip
        await uow.commit()
    reg = await get(world, MemberRegistration, reg_id)
    assert reg.state == R.SUBMITTED.value and reg.residence == "文化里 5 号楼 2 单元"
    assert (await get(world, ServicePost, post_a)).taken == 0
    assert (await get(world, ServicePost, post_b)).taken == 1
    # Someone else cannot end it; the member can.
    other = await world.actor("community")
    with pytest.raises(NotFound):
        async with world.uow(other) as uow:
            await members.end(uow, other, reg_id, None)
    async with world.uow(member) as uow:
        await members.end(uow, member, reg_id, reg.version)
        await uow.commit()
    assert (await get(world, MemberRegistration, reg_id)).state == R.ENDED.value
    assert (await get(world, ServicePost, post_b)).taken == 0
    assert not await world.count(PostClaim, PostClaim.state == PostClaimState.CLAIMED.value)


# --- service posts -----------------------------------------------------------------------


async def test_posts_managed_only_by_the_community_secretary(world: World) -> None:
    org = await world.org_id(WENHUA)
    for name in ("member", "liaison", "secretary"):
        actor = await world.actor(name)
        with pytest.raises(PermissionDenied):
            async with world.uow(actor) as uow:
                await posts.create_post(uow, actor, org, {"name": "岗位", "capacity": "0"})
    secretary = await world.actor("community")
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(secretary) as uow:
            await posts.create_post(uow, secretary, org, {"name": "", "capacity": "-1"})
    assert set(exc.value.fields) == {"name", "capacity"}
    post_id = await make_post(world, capacity=3)
    async with world.uow(secretary) as uow:
        post = await posts.update_post(
            uow, secretary, post_id, 1, {"name": "政策宣讲岗", "description": "", "capacity": "4"}
        )
        await uow.commit()
    assert post.name == "政策宣讲岗"
    with pytest.raises(Conflict):
        async with world.uow(secretary) as uow:
            await posts.update_post(uow, secretary, post_id, 1, {"name": "x", "capacity": "1"})


async def test_claim_capacity_release_and_deactivate(world: World) -> None:
    post_id = await make_post(world, capacity=1)
    await register(world, "member")
    await add_member(world, "m2")
    await register(world, "m2")
    member, m2 = await world.actor("member"), await world.actor("m2")
    async with world.uow(member) as uow:
        await posts.claim(uow, member, post_id)
        await uow.commit()
    with pytest.raises(Conflict) as exc:
        async with world.uow(member) as uow:
            await posts.claim(uow, member, post_id)
    assert "名额已满" in exc.value.message or "已认领" in exc.value.message
    with pytest.raises(Conflict) as exc:
        async with world.uow(m2) as uow:
            await posts.claim(uow, m2, post_id)
    assert "名额已满" in exc.value.message
    async with world.uow(member) as uow:
        await posts.release(uow, member, post_id)
        await uow.commit()
    async with world.uow(m2) as uow:
        await posts.claim(uow, m2, post_id)
        await uow.commit()
    assert (await get(world, ServicePost, post_id)).taken == 1
    # An unconfirmed member cannot claim.
    await add_member(world, "m3")
    await register(world, "m3", confirm=False)
    m3 = await world.actor("m3")
    with pytest.raises(PermissionDenied):
        async with world.uow(m3) as uow:
            await posts.claim(uow, m3, post_id)
    secretary = await world.actor("community")
    post = await get(world, ServicePost, post_id)
    async with world.uow(secretary) as uow:
        await posts.set_active(uow, secretary, post_id, post.version, False)
        await uow.commit()
    post = await get(world, ServicePost, post_id)
    assert not post.active and post.taken == 0
    with pytest.raises(Conflict):
        async with world.uow(member) as uow:
            await posts.claim(uow, member, post_id)


async def test_ten_concurrent_claims_on_three_places(world: World, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is what PostgreSQL is for")
    post_id = await make_post(world, capacity=3)
    actors = []
    for i in range(10):
        await add_member(world, f"c{i}")
        await register(world, f"c{i}")
        actors.append(await world.actor(f"c{i}"))

    async def attempt(i: int) -> str:
        try:
            async with UnitOfWork(world.factory, actors[i]) as uow:
                await posts.claim(uow, actors[i], post_id)
                await uow.commit()
        except Conflict as exc:
            return exc.message
        return "ok"

    results = await asyncio.gather(*(attempt(i) for i in range(10)))
    assert results.count("ok") == 3
    assert all("名额已满" in r for r in results if r != "ok")
    assert (await get(world, ServicePost, post_id)).taken == 3
    live = PostClaim.state == PostClaimState.CLAIMED.value
    assert await world.count(PostClaim, PostClaim.post_id == post_id, live) == 3


async def test_service_recorded_as_points(world: World) -> None:
    post_id = await make_post(world)
    await register(world, "member", [post_id])
    member = await world.user("member")
    secretary = await world.actor("community")
    today = units.this_year()
    assert today
    from domain.dual_report.common import beijing_today

    day = beijing_today().isoformat()
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(secretary) as uow:
            await posts.record_service(
                uow, secretary, post_id, {"user_id": str(member.id), "day": "x", "hours": "0.3"}
            )
    assert set(exc.value.fields) == {"day", "hours"}
    async with world.uow(secretary) as uow:
        await posts.record_service(
            uow, secretary, post_id,
            {"user_id": str(member.id), "day": day, "hours": "2.5", "note": "夜间巡逻"},
        )  # fmt: skip
        await uow.commit()
    async with world.factory() as s:
        entry = await s.scalar(select(PointEntry).where(PointEntry.user_id == member.id))
    assert entry is not None
    hospital = await world.unit(HOSPITAL)
    assert (entry.source, entry.minutes, entry.points) == (
        "point_post",
        150,
        3,
    )  # 2.5 × 1, rounded up
    assert entry.employer_unit_id == hospital.id
    assert entry.community_id == await world.org_id(WENHUA)
    # Someone who does not hold the post gets nothing recorded.
    liaison = await world.user("liaison")
    with pytest.raises(ValidationFailed):
        async with world.uow(secretary) as uow:
            await posts.record_service(
                uow, secretary, post_id, {"user_id": str(liaison.id), "day": day, "hours": "1"}
            )
    # A member still awaiting confirmation holds the post but gets no service recorded.
    pending = await add_member(world, "m2")
    await register(world, "m2", [post_id], confirm=False)
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(secretary) as uow:
            await posts.record_service(
                uow, secretary, post_id, {"user_id": str(pending), "day": day, "hours": "1"}
            )
    assert "尚未在本社区确认报到" in exc.value.fields["user_id"]


# --- review ------------------------------------------------------------------------------


async def test_review_counts_and_access(world: World) -> None:
    liaison = await world.actor("liaison")
    hospital = await world.unit(HOSPITAL)
    assert hospital.community_id is not None
    async with world.uow(liaison) as uow:
        slip = await units.submit(uow, liaison, hospital.id, slip_form(hospital.community_id))
        await uow.commit()
    secretary = await world.actor("community")
    async with world.uow(secretary) as uow:
        await units.confirm(uow, secretary, slip.id, None)
        await uow.commit()
    post_id = await make_post(world)
    await register(world, "member", [post_id])
    year = this_year()
    for name in ("community", "secretary", "district"):
        actor = await world.actor(name)
        async with world.uow(actor) as uow:
            r = await review.community_review(uow, actor, hospital.community_id, year)
        assert r.reported == 1 and r.stationed == 3  # 3 stationed units in 文化里社区
        assert r.members == {R.CONFIRMED.value: 1}
        assert r.posts[0][1] == ["赵明"]
    for name in ("member", "liaison", "secretary2"):
        actor = await world.actor(name)
        with pytest.raises(NotFound):
            async with world.uow(actor) as uow:
                await review.community_review(uow, actor, hospital.community_id, year)


async def test_demo_data(world: World) -> None:
    from gongjian.demo_dual_report import seed_demo_dual_report

    await seed_demo_dual_report(world.factory)
    states = {}
    async with world.factory() as s:
        rows = await s.execute(
            select(User.username, MemberRegistration.state).join(
                MemberRegistration, MemberRegistration.user_id == User.id
            )
        )
        states = dict(rows.all())
    assert states == {
        "member": R.CONFIRMED.value, "member2": R.SUBMITTED.value, "member3": R.RETURNED.value,
        "member4": R.CONFIRMED.value, "member5": R.CONFIRMED.value,
    }  # fmt: skip
    assert await world.count(UnitRegistration, UnitRegistration.state == R.CONFIRMED.value) == 1
    assert await world.count(UnitRegistration, UnitRegistration.state == R.SUBMITTED.value) == 1
    assert await world.count(PointEntry, PointEntry.source == "point_post") == 4
    member = await world.actor("member2")
    assert member.has(Role.PARTY_MEMBER)
