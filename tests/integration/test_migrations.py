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


FIRST_RELEASE_ROWS = [
    # Plain SQL in the first revision's schema: today's models may have moved on.
    "INSERT INTO organizations (id, name, level, parent_id, code, created_at, version)"
    " VALUES (1, '滨江市', 'city', NULL, NULL, '2026-01-01 00:00:00+00:00', 1),"
    " (2, '和平区', 'district', 1, NULL, '2026-01-01 00:00:00+00:00', 1),"
    " (3, '新华街道', 'street', 2, NULL, '2026-01-01 00:00:00+00:00', 1)",
    "INSERT INTO units (id, name, kind, unit_type, street_id, community_id, address,"
    " contact_name, contact_phone, party_members, active, retired_at, retired_reason,"
    " created_at, version) VALUES"
    " (1, '和平区人民医院', 'stationed', 'public_institution', 3, NULL, '', '', '', 236,"
    " true, NULL, '', '2026-01-01 00:00:00+00:00', 1),"
    " (2, '和平区人民医院', 'stationed', 'public_institution', 3, NULL, '', '', '', 1,"
    " true, NULL, '', '2026-01-02 00:00:00+00:00', 1)",
    "INSERT INTO users (id, username, display_name, phone, password_hash, active, created_at,"
    " password_changed_at, version) VALUES (1, 'admin', '管理员', '', 'x', true,"
    " '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 1)",
    "INSERT INTO audit_entries (at, actor_id, actor_name, action, object_type, object_id,"
    " summary, ip) VALUES ('2026-01-01 00:00:00+00:00', 1, 'admin', 'demo', 'system', '',"
    " '', '')",
]


async def test_data_from_the_first_release_survives_every_later_revision(
    fresh_db_url: str,
) -> None:
    """An installation from the first release upgrades in place, its data intact.

    Two units that share a name (possible before the unique index, through a race)
    both survive: the later one is renamed rather than the upgrade failing.
    """
    cfg = alembic_config(fresh_db_url)
    [first] = ScriptDirectory.from_config(cfg).get_bases()
    await asyncio.to_thread(command.upgrade, cfg, first)
    assert await run_sync(fresh_db_url, current_revision) == first

    def seed(conn: Connection) -> None:
        for statement in FIRST_RELEASE_ROWS:
            conn.exec_driver_sql(statement)

    engine = make_engine(fresh_db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(seed)
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                for table in ("organizations", "units", "users"):
                    await conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"
                    )
    finally:
        await engine.dispose()
    seeded = await counts(fresh_db_url)

    await asyncio.to_thread(upgrade, fresh_db_url)
    assert await run_sync(fresh_db_url, current_revision) == head_revision(fresh_db_url)
    assert await counts(fresh_db_url) == seeded == (3, 2, 1)
    assert await run_sync(fresh_db_url, schema_diff) == []

    def names(conn: Connection) -> list[tuple[int, str, int]]:
        rows = conn.exec_driver_sql("SELECT id, name, party_members FROM units ORDER BY id")
        return [tuple(r) for r in rows]  # type: ignore[misc]

    assert await run_sync(fresh_db_url, names) == [
        (1, "和平区人民医院", 236),
        (2, "和平区人民医院（重复2）", 1),
    ]


async def test_downgrade_to_base_and_back(fresh_db_url: str) -> None:
    cfg = alembic_config(fresh_db_url)
    await asyncio.to_thread(upgrade, fresh_db_url)
    await asyncio.to_thread(command.downgrade, cfg, "base")
    remaining = await run_sync(fresh_db_url, table_names)
    assert remaining <= {"alembic_version"}
    await asyncio.to_thread(upgrade, fresh_db_url)
    assert await run_sync(fresh_db_url, schema_diff) == []
