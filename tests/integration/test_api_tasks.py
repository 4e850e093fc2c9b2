"""12345 work orders through the domain service behind the JSON API (SQLite and PostgreSQL):
idempotency, validation, immediate assignment, and the change feed's keyset paging."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from domain.enums import TaskState
from domain.errors import ValidationFailed
from domain.models import ApiToken, Notification, Task, TaskAssignee, TaskEvent, Unit
from domain.services import api_tokens
from domain.tasks import external
from domain.tasks import external_read as feed
from domain.tasks.external_read import task_to_json, tasks_to_json
from tests.integration.conftest import World

OFFICE = "新华街道办事处"
LEAD = "区城管执法局新华街道执法队"
ASSIST = "区市场监督管理局新华市场监管所"
HOSPITAL = "和平区人民医院"
OTHER_STREET_UNIT = "滨江日报社"  # in 长安街道


async def token(world: World, name: str = "12345热线") -> ApiToken:
    async with world.uow() as uow:
        issued = await api_tokens.create_token(uow, name)
        await uow.commit()
    return issued.token


def order(external_id: str = "GD-0001", **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "title": "文化里 6 号楼下水道堵塞",
        "description": "居民反映下水道返味，已持续三天。",
        "location": "文化里 6 号楼",
        "street": "新华街道",
        **extra,
    }


async def create(world: World, tok: ApiToken, payload: dict[str, Any]) -> tuple[Task, bool]:
    async with world.uow() as uow:
        task, created = await external.create_from_work_order(uow, tok, payload)
        await uow.commit()
    return task, created


async def tasks(world: World) -> list[Task]:
    async with world.factory() as s:
        return list(await s.scalars(select(Task).order_by(Task.id)))


async def events(world: World, task_id: int) -> list[TaskEvent]:
    async with world.factory() as s:
        return list(
            await s.scalars(
                select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
            )
        )


async def test_order_without_lead_waits_as_a_draft_for_the_street(world: World) -> None:
    tok = await token(world)
    task, created = await create(
        world,
        tok,
        order(
            called_at="2026-11-27T08:30:00+08:00", caller_name="王女士", caller_phone="13800000000"
        ),
    )
    assert created
    assert task.state == TaskState.DRAFTED
    assert task.source == "hotline"
    assert task.external_id == "GD-0001" and task.api_token_id == tok.id
    assert task.street_id == await world.org_id("新华街道")
    assert task.assigner_unit_id == (await world.unit(OFFICE)).id
    assert task.assigned_at is None and task.deadline is None
    # The street's default time limit for 12345 work orders (3 working days).
    assert (task.limit_value, task.limit_unit) == (3, "working_days")
    assert task.description.startswith(
        "居民反映下水道返味，已持续三天。\n\n【12345 工单】编号：GD-0001"
    )
    assert "来电时间：2026-11-27 08:30" in task.description
    assert "来电人：王女士　联系电话：13800000000" in task.description
    assert task.assignees == []

    [created_event] = await events(world, task.id)
    assert (created_event.action, created_event.to_state) == ("create", "drafted")
    assert created_event.actor_name == "系统" and created_event.actor_id is None
    assert "接口令牌 12345热线" in created_event.text
    [entry] = await world.audit("task.create", task.id)
    assert entry.actor_name == "system" and entry.actor_id is None
    assert "12345热线" in entry.summary and "GD-0001" in entry.summary
    assert "待街道派单" in entry.summary


async def test_same_external_id_returns_the_first_task_even_with_other_content(
    world: World,
) -> None:
    tok = await token(world)
    first, created = await create(world, tok, order())
    assert created
    again, created_again = await create(world, tok, order(title="完全不同的标题", street=99999))
    assert not created_again
    assert again.id == first.id and again.title == first.title
    # Whitespace around the external id does not make another order.
    spaced, created_spaced = await create(world, tok, order("  GD-0001 "))
    assert (spaced.id, created_spaced) == (first.id, False)
    assert len(await tasks(world)) == 1
    assert len(await events(world, first.id)) == 1
    assert len(await world.audit("task.create")) == 1

    # Another client's order numbers are its own.
    other = await token(world, "网格系统")
    theirs, created_theirs = await create(world, other, order())
    assert created_theirs and theirs.id != first.id
    assert len(await tasks(world)) == 2


async def test_order_with_lead_is_assigned_at_once(world: World) -> None:
    tok = await token(world)
    lead, assist = await world.unit(LEAD), await world.unit(ASSIST)
    before = datetime.now(UTC)
    task, created = await create(
        world,
        tok,
        order(
            lead_unit_id=lead.id,
            assisting_unit_ids=[assist.id, lead.id, assist.id],
            limit={"value": 48, "unit": "hours"},
            address="文化里 6 号楼",
            location=None,
        ),
    )
    assert created
    assert task.state == TaskState.ASSIGNED
    assert task.location == "文化里 6 号楼"
    assert task.assigned_at is not None and task.assigned_at >= before
    assert task.deadline == task.assigned_at + timedelta(hours=48)
    assert task.accept_due_at is not None and task.assigned_at < task.accept_due_at
    assert not task.outside_admission
    async with world.factory() as s:
        rows = list(
            await s.scalars(
                select(TaskAssignee)
                .where(TaskAssignee.task_id == task.id)
                .order_by(TaskAssignee.id)
            )
        )
    # The lead named among the assisting units handles it once, as lead.
    assert [(r.unit_id, r.role, r.state, r.open) for r in rows] == [
        (lead.id, "lead", "pending", True),
        (assist.id, "assist", "pending", True),
    ]
    assert [(e.action, e.to_state) for e in await events(world, task.id)] == [
        ("create", "drafted"),
        ("assign", "assigned"),
    ]
    # The lead unit's liaison (demo user `dept`) is told.
    dept = await world.user("dept")
    async with world.factory() as s:
        told = list(await s.scalars(select(Notification).where(Notification.user_id == dept.id)))
    assert any(n.link == f"/tasks/{task.id}" and task.title in n.title for n in told)
    [entry] = await world.audit("task.create", task.id)
    assert "并交办" in entry.summary

    async with world.uow() as uow:
        loaded = await feed.get_task(uow, task.id)
        body = await task_to_json(uow, loaded, timeline=True)
    assert body["state"] == "assigned" and body["state_label"] == "已交办"
    assert body["source_label"] == "12345工单"
    assert body["street"] == {"id": task.street_id, "name": "新华街道"}
    assert body["assigner"]["name"] == OFFICE
    assert body["lead"]["unit"] == {"id": lead.id, "name": LEAD}
    assert body["lead"]["state_label"] == "待签收"
    assert [a["unit"]["name"] for a in body["assisting"]] == [ASSIST]
    assert body["limit"] == {"value": 48, "unit": "hours", "label": "48小时"}
    assert [e["action"] for e in body["timeline"]] == ["create", "assign"]
    assert body["timeline"][0]["actor"] == "系统"


async def test_a_community_handling_an_order_is_flagged_outside_admission(world: World) -> None:
    tok = await token(world)
    async with world.factory() as s:
        community = await s.scalar(select(Unit).where(Unit.kind == "community", Unit.active))
    assert community is not None
    street = community.street_id
    task, _ = await create(world, tok, order(street=street, lead_unit_id=community.id))
    assert task.outside_admission and task.state == TaskState.ASSIGNED


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"external_id", "title", "street"}),
        (order(external_id="x" * 81), {"external_id"}),
        (order(external_id=7), {"external_id"}),
        (order(title="   "), {"title"}),
        (order(title="t" * 201), {"title"}),
        (order(title="坏\x00字符"), {"title"}),
        (order(description=["不是文本"]), {"description"}),
        (order(street=True), {"street"}),
        (order(street=0), {"street"}),
        (order(street=2**31), {"street"}),
        (order(lead_unit_id="12"), {"lead_unit_id"}),
        (order(lead_unit_id=1.5), {"lead_unit_id"}),
        (order(assisting_unit_ids=[1]), {"assisting_unit_ids"}),
        (order(lead_unit_id=1, assisting_unit_ids="1,2"), {"assisting_unit_ids"}),
        (order(lead_unit_id=1, assisting_unit_ids=list(range(1, 23))), {"assisting_unit_ids"}),
        (order(limit=5), {"limit"}),
        (order(limit={"value": 5, "unit": "days"}), {"limit.unit"}),
        (order(limit={"value": 91}), {"limit.value"}),
        (order(limit={"value": 10**40, "unit": "minutes"}), {"limit.value"}),
        (order(limit={"value": True}), {"limit.value"}),
        (order(called_at="昨天"), {"called_at"}),
        (order(called_at="2026-13-01T00:00:00"), {"called_at"}),
        (order(caller_phone="1" * 31), {"caller_phone"}),
        (order(address="另一处"), {"address"}),
        (order(lead="执法队", priority=1), {"lead", "priority"}),
    ],
)
async def test_invalid_orders_name_every_wrong_field(
    world: World, payload: dict[str, Any], fields: set[str]
) -> None:
    tok = await token(world)
    async with world.uow() as uow:
        with pytest.raises(ValidationFailed) as caught:
            await external.create_from_work_order(uow, tok, payload)
    assert set(caught.value.fields) == fields
    assert all(caught.value.fields.values())
    assert await world.count(Task) == 0


async def test_street_and_units_are_checked_against_the_database(world: World) -> None:
    tok = await token(world)
    office = await world.unit(OFFICE)
    elsewhere = await world.unit(OTHER_STREET_UNIT)
    hospital = await world.unit(HOSPITAL)
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        (order(street="不存在街道"), {"street": "没有这个名称的街道（须为街道全称）。"}),
        (order(street=999999), {"street": "编号为 999999 的街道不存在。"}),
        (
            order(street=await world.org_id("和平区")),
            {"street": f"编号为 {await world.org_id('和平区')} 的街道不存在。"},
        ),
        (
            order(lead_unit_id=office.id),
            {"lead_unit_id": "主办单位须为该街道在册的部门、驻区单位或社区。"},
        ),
        (
            order(lead_unit_id=elsewhere.id),
            {"lead_unit_id": "主办单位须为该街道在册的部门、驻区单位或社区。"},
        ),
        (
            order(lead_unit_id=hospital.id, assisting_unit_ids=[elsewhere.id]),
            {"assisting_unit_ids": "协办单位须为该街道在册的部门、驻区单位或社区。"},
        ),
    ]
    for payload, fields in cases:
        async with world.uow() as uow:
            with pytest.raises(ValidationFailed) as caught:
                await external.create_from_work_order(uow, tok, payload)
        assert caught.value.fields == fields, payload

    # A retired unit no longer takes work.
    async with world.factory() as s:
        await s.execute(update(Unit).where(Unit.id == hospital.id).values(active=False))
        await s.commit()
    async with world.uow() as uow:
        with pytest.raises(ValidationFailed) as caught:
            await external.create_from_work_order(uow, tok, order(lead_unit_id=hospital.id))
    assert set(caught.value.fields) == {"lead_unit_id"}
    assert await world.count(Task) == 0
    assert await world.count(TaskEvent) == 0


async def test_a_retry_after_the_lead_retired_still_returns_the_task(world: World) -> None:
    tok = await token(world)
    hospital = await world.unit(HOSPITAL)
    first, _ = await create(world, tok, order(lead_unit_id=hospital.id))
    async with world.factory() as s:
        await s.execute(update(Unit).where(Unit.id == hospital.id).values(active=False))
        await s.commit()
    again, created = await create(world, tok, order(lead_unit_id=hospital.id))
    assert (again.id, created) == (first.id, False)


async def test_a_twin_insert_that_lost_the_race_returns_the_winner(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up missed (the twin had not committed yet); the insert then finds the key
    taken and the existing task comes back, with nothing written twice."""
    tok = await token(world)
    first, _ = await create(world, tok, order())
    real = external.find_existing
    calls: list[str] = []

    async def miss_once(uow: Any, token_id: int, external_id: str) -> Task | None:
        calls.append(external_id)
        return None if len(calls) == 1 else await real(uow, token_id, external_id)

    monkeypatch.setattr(external, "find_existing", miss_once)
    again, created = await create(world, tok, order(title="重复"))
    assert len(calls) == 2
    assert (again.id, created) == (first.id, False)
    assert len(await tasks(world)) == 1
    assert len(await events(world, first.id)) == 1
    assert len(await world.audit("task.create")) == 1


async def test_concurrent_twins_make_one_task(world: World, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    tok = await token(world)
    lead = await world.unit(LEAD)
    for round_ in range(5):
        external_id = f"RACE-{round_}"
        results = await asyncio.gather(
            *(create(world, tok, order(external_id, lead_unit_id=lead.id)) for _ in range(3))
        )
        assert len({t.id for t, _ in results}) == 1
        assert sorted(c for _, c in results) == [False, False, True]
    all_tasks = await tasks(world)
    assert len(all_tasks) == 5
    for t in all_tasks:
        assert [e.action for e in await events(world, t.id)] == ["create", "assign"]
    assert len(await world.audit("task.create")) == 5


async def test_change_feed_pages_return_each_task_once(world: World) -> None:
    tok = await token(world)
    made = [(await create(world, tok, order(f"FEED-{i}")))[0] for i in range(8)]
    base = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    # Times with ties across page boundaries: the id breaks them.
    stamps = [0, 1, 1, 1, 1, 2, 3, 3]
    async with world.factory() as s:
        for task, minutes in zip(made, stamps, strict=True):
            await s.execute(
                update(Task)
                .where(Task.id == task.id)
                .values(updated_at=base + timedelta(minutes=minutes, microseconds=7))
            )
        await s.commit()

    async def read_all(since: datetime | None, limit: int) -> list[list[int]]:
        pages: list[list[int]] = []
        after = None
        while True:
            async with world.uow() as uow:
                page = await feed.list_tasks_since(uow, since, after, limit)
            pages.append([t.id for t in page.tasks])
            if page.next is None:
                return pages
            # The cursor survives the trip through its text form.
            after = feed.decode_cursor(feed.encode_cursor(page.next))
            assert len(pages) < 20

    ids = [t.id for t in made]
    pages = await read_all(None, 3)
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [i for p in pages for i in p] == ids

    for limit in (1, 2, 4, 7, 8, 200):
        flat = [i for p in await read_all(None, limit) for i in p]
        assert flat == ids, limit

    # Since a moment: that moment included, older changes left out.
    later = [i for p in await read_all(base + timedelta(minutes=1, microseconds=7), 2) for i in p]
    assert later == ids[1:]
    assert await read_all(base + timedelta(hours=1), 5) == [[]]

    # A task changing between pages comes again at the end, and nothing is skipped.
    async with world.uow() as uow:
        first = await feed.list_tasks_since(uow, None, None, 3)
    assert first.next is not None
    async with world.factory() as s:
        await s.execute(
            update(Task).where(Task.id == ids[0]).values(updated_at=base + timedelta(hours=2))
        )
        await s.commit()
    async with world.uow() as uow:
        rest = await feed.list_tasks_since(uow, None, first.next, 200)
    assert [t.id for t in rest.tasks] == [*ids[3:], ids[0]]

    async with world.uow() as uow:
        page = await feed.list_tasks_since(uow, None, None, 200)
        items = await tasks_to_json(uow, page.tasks)
    assert [i["id"] for i in items] == [*ids[1:], ids[0]]
    assert all(i["street"]["name"] == "新华街道" for i in items)


@pytest.mark.parametrize(
    "cursor",
    ["", "abc", "!!!", "MTIz", "LTEuMg", "MS4w", "OTk5OTk5OTk5OTk5OTk5OTk5LjE", "é" * 3],
)
def test_bad_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        feed.decode_cursor(cursor)
    assert set(caught.value.fields) == {"cursor"}


def test_cursor_round_trip_keeps_microseconds() -> None:
    at = datetime(2026, 11, 29, 8, 0, 0, 123456, tzinfo=UTC)
    position = feed.decode_cursor(feed.encode_cursor(feed.Position(at, 42)))
    assert position == feed.Position(at, 42)


async def test_unknown_task_is_not_found(world: World) -> None:
    from domain.errors import NotFound

    async with world.uow() as uow:
        for task_id in (1, 0, -3, 2**40):
            with pytest.raises(NotFound):
                await feed.get_task(uow, task_id)
