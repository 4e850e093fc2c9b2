"""Matching suggestions against a real database: order, only listed items of the same
street, free slots counted in one query, and a query count that does not grow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from domain.errors import PermissionDenied
from domain.models import Unit
from domain.models.base import utcnow
from domain.models.sharing import Need, Resource, ResourceSlot
from domain.sharing import matching
from tests.integration.conftest import World

HOSPITAL = "和平区人民医院"
COMMITTEE = "文化里社区居委会"
CHANGAN = "长安街道"


async def add(world: World, *items: Any) -> list[int]:
    async with world.uow() as uow:
        uow.session.add_all(items)
        await uow.flush()
        ids = [i.id for i in items]
        await uow.commit()
    return ids


async def lecture_need(world: World, state: str = "listed") -> int:
    committee = await world.unit(COMMITTEE)
    today = utcnow().date()
    need = Need(
        street_id=committee.street_id,
        community_id=committee.community_id,
        poster_unit_id=committee.id,
        category="为老服务",
        title="社区老年人健康讲座需要场地",
        description="每月一次老年人健康知识讲座，需要有投影的多功能厅。",
        tags="健康，为老",
        wanted_from=today,
        wanted_to=today + timedelta(days=20),
        state=state,
    )
    return (await add(world, need))[0]


def resource(unit: Unit, title: str, **over: Any) -> Resource:
    values: dict[str, Any] = {
        "street_id": unit.street_id,
        "unit_id": unit.id,
        "kind": "venue",
        "category": "活动场地",
        "title": title,
        "description": "可容纳80人，配投影，适合健康讲座。",
        "tags": "健康",
        "bookable": True,
        "state": "listed",
    }
    values.update(over)
    return Resource(**values)


@contextmanager
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


async def suggest(world: World, username: str, need_id: int) -> list[str]:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        found = await matching.suggest_resources(uow, actor, need_id)
    return [s.item.title for s in found.items]


async def test_suggestions_rank_the_obvious_match_first(world: World) -> None:
    hospital = await world.unit(HOSPITAL)
    need_id = await lecture_need(world)
    hall, funds, legal = await add(
        world,
        resource(hospital, "医院多功能厅"),
        resource(
            hospital,
            "年度共建资金",
            kind="funds",
            category="资金支持",
            description="帮扶困难群众。",
            tags="帮扶",
            bookable=False,
        ),
        resource(
            hospital, "律所接待室", category="法律服务", description="法律咨询。", tags="法律"
        ),
    )
    titles = await suggest(world, "community", need_id)
    assert titles.index("医院多功能厅") < titles.index("律所接待室")
    assert "年度共建资金" not in titles
    actor = await world.actor("community")
    async with world.uow(actor) as uow:
        found = await matching.suggest_resources(uow, actor, need_id)
    first = next(s for s in found.items if s.item.id == hall)
    assert first.match.reasons[:2] == ("类别相符", "标签：健康")
    assert first.unit_name == HOSPITAL and first.link == f"/resources/{hall}"
    assert {funds, legal} & {s.item.id for s in found.items} == {legal}


async def test_free_slots_in_the_window_add_a_reason(world: World) -> None:
    hospital = await world.unit(HOSPITAL)
    need_id = await lecture_need(world)
    (hall,) = await add(world, resource(hospital, "医院多功能厅"))
    soon = utcnow() + timedelta(days=2)
    late = utcnow() + timedelta(days=60)
    await add(
        world,
        ResourceSlot(resource_id=hall, starts_at=soon, ends_at=soon + timedelta(hours=2)),
        ResourceSlot(resource_id=hall, starts_at=late, ends_at=late + timedelta(hours=2)),
    )
    actor = await world.actor("community")
    async with world.uow(actor) as uow:
        found = await matching.suggest_resources(uow, actor, need_id)
    match = next(s.match for s in found.items if s.item.id == hall)
    assert "时间可用（1 个空闲时段）" in match.reasons
    # The other way round: the hall's page suggests the need, with the same reason.
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        needs = await matching.suggest_needs(uow, liaison, hall)
    back = next(s for s in needs.items if s.item.id == need_id)
    assert "时间可用（1 个空闲时段）" in back.match.reasons
    assert back.unit_name == COMMITTEE


async def test_unlisted_and_other_streets_are_never_suggested(world: World) -> None:
    hospital = await world.unit(HOSPITAL)
    need_id = await lecture_need(world)
    async with world.factory() as s:
        changan = await world.org_id(CHANGAN)
        elsewhere = await s.scalar(select(Unit).where(Unit.street_id == changan).limit(1))
    assert elsewhere is not None
    await add(
        world,
        resource(hospital, "待审核礼堂", state="pending_vetting"),
        resource(hospital, "已下架礼堂", state="unlisted"),
        resource(hospital, "已用完礼堂", state="fulfilled"),
        resource(elsewhere, "长安多功能厅"),
        resource(hospital, "医院多功能厅"),
    )
    titles = await suggest(world, "community", need_id)
    assert "医院多功能厅" in titles
    assert not {"待审核礼堂", "已下架礼堂", "已用完礼堂", "长安多功能厅"} & set(titles)
    # A need not yet listed gets no suggestions; another street's reader gets none at all.
    pending = await lecture_need(world, state="pending_vetting")
    assert await suggest(world, "community", pending) == []
    with pytest.raises(PermissionDenied):
        await suggest(world, "secretary2", need_id)


async def test_query_count_does_not_grow_with_candidates(world: World) -> None:
    hospital = await world.unit(HOSPITAL)
    need_id = await lecture_need(world)
    await add(world, resource(hospital, "多功能厅1"))
    actor = await world.actor("community")
    with statements(world) as few:
        async with world.uow(actor) as uow:
            await matching.suggest_resources(uow, actor, need_id)
    many = [resource(hospital, f"多功能厅{i}") for i in range(2, 40)]
    ids = await add(world, *many)
    start = utcnow() + timedelta(days=1)
    await add(
        world,
        *(
            ResourceSlot(resource_id=rid, starts_at=start, ends_at=start + timedelta(hours=1))
            for rid in ids
        ),
    )
    with statements(world) as more:
        async with world.uow(actor) as uow:
            found = await matching.suggest_resources(uow, actor, need_id, limit=5)
    assert len(found.items) == 5
    assert len(more) == len(few) <= 5
    liaison = await world.actor("liaison")
    with statements(world) as back:
        async with world.uow(liaison) as uow:
            await matching.suggest_needs(uow, liaison, ids[0])
    assert len(back) <= 5
