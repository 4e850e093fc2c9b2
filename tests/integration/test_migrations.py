"""Migrations: idempotent upgrade in place, and a schema that matches the models."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.engine import Connection

from adapters.db import make_engine, make_session_factory
from adapters.migrate import alembic_config, upgrade
from domain.models import Base, Organization, Unit, User
from gongjian.demo import UNITS, USERS, seed_demo


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def schema_diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            orgs = await conn.scalar(select(func.count(Organization.id)))
            units = await conn.scalar(select(func.count(Unit.id)))
            users = await conn.scalar(select(func.count(User.id)))
    finally:
        await engine.dispose()
    return int(orgs or 0), int(units or 0), int(users or 0)


async def run_sync(url: str, fn: Any) -> Any:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    """What `alembic revision --autogenerate` would find: nothing."""
    assert await run_sync(db_url, schema_diff) == []
    assert await run_sync(db_url, current_revision) == head_revision(db_url)


async def test_the_comparison_would_see_a_difference(db_url: str) -> None:
    """Guard against a comparison that silently compares nothing."""
    empty = MetaData()

    def diff_against_empty(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, empty))

    diff = await run_sync(db_url, diff_against_empty)
    removed = {d[1].name for d in diff if d[0] == "remove_table"}
    assert removed == {t.name for t in Base.metadata.sorted_tables}


async def test_upgrade_fresh_then_seed_then_upgrade_again_keeps_the_data(
    fresh_db_url: str,
) -> None:
    # upgrade() runs its own event loop (alembic's env.py): keep it off this one.
    await asyncio.to_thread(upgrade, fresh_db_url)
    assert await run_sync(fresh_db_url, current_revision) == head_revision(fresh_db_url)
    assert {t.name for t in Base.metadata.sorted_tables} <= await run_sync(
        fresh_db_url, table_names
    )

    engine = make_engine(fresh_db_url)
    try:
        assert await seed_demo(make_session_factory(engine))
    finally:
        await engine.dispose()
    seeded = await counts(fresh_db_url)
    assert seeded == (2 + 2 + 6, len(UNITS) + 6, len(USERS))

    await asyncio.to_thread(upgrade, fresh_db_url)
    await asyncio.to_thread(upgrade, fresh_db_url)
    assert await counts(fresh_db_url) == seeded
    assert await run_sync(fresh_db_url, current_revision) == head_revision(fresh_db_url)
    assert await run_sync(fresh_db_url, schema_diff) == []

    # Seeding a second time is refused and changes nothing.
    engine = make_engine(fresh_db_url)
    try:
        assert not await seed_demo(make_session_factory(engine))
    finally:
        await engine.dispose()
    assert await counts(fresh_db_url) == seeded


async def test_data_seeded_under_the_first_revision_survives_every_later_one(
    fresh_db_url: str,
) -> None:
    """An installation from the first release upgrades in place, its data intact.

    The demo is seeded through today's models: should a later revision add a
    column to a seeded table, seed this old schema with plain SQL instead.
    """
    cfg = alembic_config(fresh_db_url)
    [first] = ScriptDirectory.from_config(cfg).get_bases()
    await asyncio.to_thread(command.upgrade, cfg, first)
    assert await run_sync(fresh_db_url, current_revision) == first

    engine = make_engine(fresh_db_url)
    try:
        assert await seed_demo(make_session_factory(engine))
    finally:
        await engine.dispose()
    seeded = await counts(fresh_db_url)

    await asyncio.to_thread(upgrade, fresh_db_url)
    assert await run_sync(fresh_db_url, current_revision) == head_revision(fresh_db_url)
    assert await counts(fresh_db_url) == seeded
    assert await run_sync(fresh_db_url, schema_diff) == []


async def test_downgrade_to_base_and_back(fresh_db_url: str) -> None:
    cfg = alembic_config(fresh_db_url)
    await asyncio.to_thread(upgrade, fresh_db_url)
    await asyncio.to_thread(command.downgrade, cfg, "base")
    remaining = await run_sync(fresh_db_url, table_names)
    assert remaining <= {"alembic_version"}
    await asyncio.to_thread(upgrade, fresh_db_url)
    assert await run_sync(fresh_db_url, schema_diff) == []
