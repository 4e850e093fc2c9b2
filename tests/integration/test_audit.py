"""The audit log: append-only in the database itself, and searchable by admins."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from domain.errors import PermissionDenied
from domain.models import AuditEntry
from domain.services.audit_log import AuditFilter, object_types, search_audit
from tests.integration.conftest import World


async def one_entry(world: World) -> AuditEntry:
    async with world.factory() as s:
        entry = await s.scalar(select(AuditEntry).order_by(AuditEntry.id).limit(1))
    assert entry is not None
    return entry


async def test_database_refuses_update_of_audit_rows(world: World) -> None:
    entry = await one_entry(world)
    async with world.factory() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(
                update(AuditEntry).where(AuditEntry.id == entry.id).values(summary="改写")
            )
        await s.rollback()
    assert (await one_entry(world)).summary == entry.summary


async def test_database_refuses_delete_of_audit_rows(world: World) -> None:
    entry = await one_entry(world)
    count = await world.count(AuditEntry)
    async with world.factory() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(delete(AuditEntry).where(AuditEntry.id == entry.id))
        await s.rollback()
    async with world.factory() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(text("DELETE FROM audit_entries"))
        await s.rollback()
    assert await world.count(AuditEntry) == count


async def test_orm_changes_to_an_entry_fail_on_flush(world: World) -> None:
    entry = await one_entry(world)
    async with world.factory() as s:
        loaded = await s.get(AuditEntry, entry.id)
        assert loaded is not None
        loaded.actor_name = "someone-else"
        with pytest.raises(DBAPIError, match="append-only"):
            await s.commit()
    assert (await one_entry(world)).actor_name == entry.actor_name


async def test_entries_can_still_be_appended(world: World) -> None:
    before = await world.count(AuditEntry)
    async with world.uow() as uow:
        uow.audit("test.append", "thing", 1, "x" * 400, {"a": 1}, {"a": 2})
        await uow.commit()
    [entry] = await world.audit("test.append")
    assert await world.count(AuditEntry) == before + 1
    assert len(entry.summary) == 300  # cut to the column
    assert (entry.before, entry.after) == ({"a": 1}, {"a": 2})
    assert entry.actor_name == "system" and entry.actor_id is None
    assert entry.at.tzinfo is not None


async def add_entries(world: World, *entries: AuditEntry) -> None:
    async with world.factory() as s:
        s.add_all(entries)
        await s.commit()


async def search(world: World, flt: AuditFilter, **kw: int) -> tuple[list[AuditEntry], int]:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        return await search_audit(uow, admin, flt, **kw)


async def test_search_filters_and_pages(world: World) -> None:
    await add_entries(
        world,
        *[
            AuditEntry(
                actor_name="secretary",
                action=f"unit.{verb}",
                object_type="unit",
                object_id=str(i),
            )
            for i, verb in enumerate(["create", "update", "update", "retire"], start=1)
        ],
        AuditEntry(actor_name="admin", action="unit_x.create", object_type="weird", object_id="1"),
    )
    rows, total = await search(world, AuditFilter(actor=" secretary "))
    assert total == 4
    assert [r.object_id for r in rows] == ["4", "3", "2", "1"]  # newest first

    rows, total = await search(world, AuditFilter(action="unit.update"))
    assert (total, {r.object_id for r in rows}) == (2, {"2", "3"})
    rows, total = await search(world, AuditFilter(action="unit."))
    assert total == 4  # a prefix; '_' or '.' are not wildcards
    rows, total = await search(world, AuditFilter(action="unit_"))
    assert [r.object_type for r in rows] == ["weird"]
    rows, total = await search(world, AuditFilter(object_type="unit", object_id="3"))
    assert [r.action for r in rows] == ["unit.update"]

    page, total = await search(world, AuditFilter(actor="secretary"), limit=2, offset=2)
    assert total == 4
    assert [r.object_id for r in page] == ["2", "1"]


async def test_search_by_beijing_calendar_day(world: World) -> None:
    # 17:30 UTC on 1 March is 01:30 on 2 March in Beijing.
    await add_entries(
        world,
        AuditEntry(action="day.late", object_type="t", at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC)),
        AuditEntry(
            action="day.early", object_type="t", at=datetime(2026, 3, 1, 15, 59, tzinfo=UTC)
        ),
    )
    flt = AuditFilter(action="day.", date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
    rows, _ = await search(world, flt)
    assert [r.action for r in rows] == ["day.late"]
    flt = AuditFilter(action="day.", date_from=date(2026, 3, 1), date_to=date(2026, 3, 1))
    rows, _ = await search(world, flt)
    assert [r.action for r in rows] == ["day.early"]
    rows, total = await search(world, AuditFilter(action="day.", date_to=date(2026, 2, 28)))
    assert (rows, total) == ([], 0)


@pytest.mark.parametrize("username", ["secretary", "district"])
async def test_only_admins_read_the_log(world: World, username: str) -> None:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        with pytest.raises(PermissionDenied):
            await search_audit(uow, actor, AuditFilter())


async def test_object_types_are_distinct_and_sorted(world: World) -> None:
    await add_entries(
        world,
        AuditEntry(action="a", object_type="unit"),
        AuditEntry(action="b", object_type="unit"),
        AuditEntry(action="c", object_type="api_token"),
    )
    async with world.uow() as uow:
        assert await object_types(uow) == ["api_token", "system", "unit"]
