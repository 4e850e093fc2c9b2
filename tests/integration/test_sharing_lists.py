"""The needs and resources lists (三张清单): post, vet, reject with a reason, edit and
re-submit, withdraw, who may do each, and Chinese substring search — on both databases."""

from __future__ import annotations

from sqlalchemy import select

from domain.enums import ListingState, ResourceKind
from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.models import Event, Notification, User
from domain.models.sharing import Need, Resource
from domain.sharing import listings as svc
from domain.topics import street_topic
from tests.integration.conftest import World

XINHUA, CHANGAN = "新华街道", "长安街道"
HOSPITAL = "和平区人民医院"
COMMITTEE = "文化里社区居委会"


def venue(**overrides: str) -> dict[str, str]:
    values = {
        "title": "党员活动室",
        "category": "活动场地",
        "description": "医院门诊楼三层，可开展讲座与组织生活会。",
        "availability": "工作日 9:00–17:00",
        "capacity": "60",
        "address": "和平路 12 号",
        "opening_hours": "工作日 9:00–17:00",
        "facilities": "投影仪，音响",
        "tags": "党建，讲座",
    }
    values.update(overrides)
    return values


def need(**overrides: str) -> dict[str, str]:
    values = {
        "title": "老年人健康讲座",
        "category": "为老服务",
        "description": "为社区 60 岁以上老人开展慢病防治讲座。",
        "beneficiaries": "社区老年居民",
        "beneficiary_count": "80",
        "wanted_from": "2026-12-01",
        "wanted_to": "2026-12-31",
        "tags": "健康，老人",
    }
    values.update(overrides)
    return values


async def post_venue(world: World, **raw: str) -> Resource:
    actor = await world.actor("liaison")
    async with world.uow(actor) as uow:
        item = await svc.post_resource(
            uow, actor, await world.org_id(XINHUA), ResourceKind.VENUE, venue(**raw)
        )
        await uow.commit()
    return item


async def post_need(world: World, **raw: str) -> Need:
    actor = await world.actor("community")
    async with world.uow(actor) as uow:
        item = await svc.post_need(uow, actor, await world.org_id(XINHUA), need(**raw))
        await uow.commit()
    return item


async def vet(world: World, which: svc.Which, item_id: int, approve: bool, reason: str = ""):  # type: ignore[no-untyped-def]
    actor = await world.actor("secretary")
    async with world.uow(actor) as uow:
        item = await svc.get_item(uow, actor, which, item_id)
        done = await svc.vet(uow, actor, which, item_id, item.item.version, approve, reason)
        await uow.commit()
    return done


async def notifications(world: World, username: str) -> list[str]:
    async with world.factory() as s:
        user_id = await s.scalar(select(User.id).where(User.username == username))
        return list(
            await s.scalars(
                select(Notification.title)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


async def search(world: World, username: str, which: svc.Which, **f: object) -> list[str]:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        page = await svc.list_items(
            uow,
            actor,
            await world.org_id(XINHUA),
            which,
            svc.ListFilters(**f),  # type: ignore[arg-type]
        )
    return [i.title for i in page.items]


async def test_post_vet_and_list_a_venue(world: World) -> None:
    resource = await post_venue(world)
    assert resource.state == ListingState.PENDING
    assert "党员活动室" in resource.search_text and "投影仪" in resource.search_text
    assert any("待审核资源" in t for t in await notifications(world, "secretary"))
    assert any("待审核资源" in t for t in await notifications(world, "supervisor"))
    # Not yet listed: the community does not see it, the street and the poster do.
    assert await search(world, "community", "resource") == []
    assert await search(world, "secretary", "resource", state="pending_vetting") == ["党员活动室"]
    assert await search(world, "liaison", "resource", state="pending_vetting") == ["党员活动室"]

    await vet(world, "resource", resource.id, approve=True)
    assert await search(world, "community", "resource") == ["党员活动室"]
    assert any("资源已上架" in t for t in await notifications(world, "liaison"))
    async with world.factory() as s:
        topics = list(await s.scalars(select(Event.topic).where(Event.kind == "sharing.changed")))
    assert street_topic(await world.org_id(XINHUA)) in topics


async def test_rejected_with_a_reason_the_poster_sees_then_resubmitted(world: World) -> None:
    posted = await post_need(world)
    actor = await world.actor("secretary")
    async with world.uow(actor) as uow:
        try:
            await svc.vet(uow, actor, "need", posted.id, posted.version, approve=False)
        except ValidationFailed as exc:
            assert "原因" in exc.fields["reason"]
        else:
            raise AssertionError("a rejection without a reason was accepted")
    await vet(world, "need", posted.id, approve=False, reason="请写明讲座的具体场次。")

    poster = await world.actor("community")
    async with world.uow(poster) as uow:
        page = await svc.get_item(uow, poster, "need", posted.id)
    assert page.item.state == ListingState.REJECTED
    assert page.item.reject_reason == "请写明讲座的具体场次。"
    assert page.can_edit and not page.can_vet
    assert any("未通过审核" in t for t in await notifications(world, "community"))

    async with world.uow(poster) as uow:
        edited = await svc.edit(
            uow,
            poster,
            "need",
            posted.id,
            need(title="老年人健康讲座（共 3 场）", version=str(page.item.version)),
        )
        await uow.commit()
    assert edited.state == ListingState.PENDING and edited.reject_reason == ""
    assert "共 3 场" in edited.search_text


async def test_who_may_post_vet_and_withdraw(world: World) -> None:
    street = await world.org_id(XINHUA)
    # A community cannot offer a stationed unit's resource; a liaison cannot post a need.
    community = await world.actor("community")
    async with world.uow(community) as uow:
        try:
            await svc.post_resource(uow, community, street, ResourceKind.VENUE, venue())
        except PermissionDenied:
            pass
        else:
            raise AssertionError("community posted a resource")
    resource = await post_venue(world)
    for username in ("liaison", "community", "secretary2", "district"):
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            try:
                await svc.vet(uow, actor, "resource", resource.id, resource.version, True)
            except PermissionDenied:
                continue
        raise AssertionError(f"{username} vetted")
    # Another unit's liaison cannot withdraw it; its own liaison can.
    other = await world.actor("liaison2")
    async with world.uow(other) as uow:
        try:
            await svc.withdraw(uow, other, "resource", resource.id, resource.version)
        except PermissionDenied:
            pass
        else:
            raise AssertionError("another unit withdrew it")
    owner = await world.actor("liaison")
    async with world.uow(owner) as uow:
        done = await svc.withdraw(uow, owner, "resource", resource.id, resource.version)
        await uow.commit()
    assert done.state == ListingState.WITHDRAWN


async def test_stale_version_is_refused(world: World) -> None:
    resource = await post_venue(world)
    stale = resource.version
    await vet(world, "resource", resource.id, approve=True)
    owner = await world.actor("liaison")
    async with world.uow(owner) as uow:
        try:
            await svc.withdraw(uow, owner, "resource", resource.id, stale)
        except Conflict:
            pass
        else:
            raise AssertionError("a stale version was accepted")


async def test_kind_specific_validation(world: World) -> None:
    actor = await world.actor("liaison")
    street = await world.org_id(XINHUA)
    async with world.uow(actor) as uow:
        try:
            await svc.post_resource(
                uow, actor, street, ResourceKind.VENUE, venue(capacity="", address="")
            )
        except ValidationFailed as exc:
            assert set(exc.fields) == {"capacity", "address"}
        else:
            raise AssertionError("a venue without capacity was accepted")
        try:
            await svc.post_resource(
                uow,
                actor,
                street,
                ResourceKind.VOLUNTEERS,
                venue(title="医疗志愿服务队", category="志愿服务", volunteer_count="abc"),
            )
        except ValidationFailed as exc:
            assert set(exc.fields) == {"volunteer_count", "skills"}
        else:
            raise AssertionError("volunteers without a count were accepted")
        team = await svc.post_resource(
            uow,
            actor,
            street,
            ResourceKind.VOLUNTEERS,
            venue(title="医疗志愿服务队", category="志愿服务", volunteer_count="12", skills="急救"),
        )
    # Fields of another kind are not kept.
    assert team.capacity is None and team.address == "" and team.volunteer_count == 12


async def test_chinese_substring_multi_word_and_filters(world: World) -> None:
    for raw in (
        venue(),
        venue(title="多功能会议室", description="可容纳 100 人", tags="会议"),
        venue(title="100%_场地", description="特殊字符", tags=""),
    ):
        await vet(world, "resource", (await post_venue(world, **raw)).id, approve=True)
    await vet(world, "need", (await post_need(world)).id, approve=True)

    assert await search(world, "community", "resource", q="活动室") == ["党员活动室"]
    assert await search(world, "community", "resource", q="活动室 投影仪") == ["党员活动室"]
    assert await search(world, "community", "resource", q="活动室 会议") == []
    assert await search(world, "community", "resource", q="%") == ["100%_场地"]
    assert await search(world, "community", "resource", q="_") == ["100%_场地"]
    assert len(await search(world, "community", "resource", kind="venue")) == 3
    assert await search(world, "community", "resource", kind="funds") == []
    assert await search(world, "community", "resource", tag="会议") == ["多功能会议室"]
    hospital = (await world.unit(HOSPITAL)).id
    assert len(await search(world, "community", "resource", unit_id=hospital)) == 3
    assert await search(world, "community", "need", q="讲座", category="为老服务") == [
        "老年人健康讲座"
    ]
    assert await search(world, "community", "need", category="环境整治") == []
    community = await world.org_id("文化里社区")
    assert await search(world, "community", "need", community_id=community) == ["老年人健康讲座"]

    # Another street sees none of it.
    actor = await world.actor("secretary2")
    async with world.uow(actor) as uow:
        try:
            await svc.list_items(uow, actor, await world.org_id(XINHUA), "need", svc.ListFilters())
        except PermissionDenied:
            pass
        else:
            raise AssertionError("another street's secretary read the list")
