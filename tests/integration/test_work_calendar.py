"""The working-day calendar in the database: the seed migration, loading, admin edits, sync.

Runs on SQLite and PostgreSQL. The shared PostgreSQL fixture empties every table
between tests (the seeded calendar too), so tests that need the package's years put
them back with `sync_package_years`, which is what `gongjian calendar-sync` runs.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import select

from adapters.db import make_engine, make_session_factory
from adapters.migrate import alembic_config, upgrade
from domain.enums import LimitUnit
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import CalendarDay, CalendarYear
from domain.tasks import workcal
from domain.tasks.calendar_seed import package_exceptions, package_years
from domain.uow import UnitOfWork
from tests.integration.conftest import World

GOOD_2027 = {
    "holidays": (
        "2027-01-01 元旦\n"
        "2027-02-06~2027-02-12 春节\n"
        "2027-04-05 清明节\n"
        "2027-05-03~2027-05-05 劳动节\n"
        "2027-06-09 端午节\n"
        "2027-09-15 中秋节\n"
        "2027-10-01~2027-10-07 国庆节"
    ),
    "workdays": "2027-02-13 春节调休上班\n2027-10-09 国庆节调休上班",
    "note": "国办发明电〔2026〕测试号",
}


async def stored(factory: object, year: int) -> list[tuple[str, bool, str]]:
    async with UnitOfWork(factory) as uow:  # type: ignore[arg-type]
        rows = await uow.session.execute(
            select(CalendarDay.day, CalendarDay.workday, CalendarDay.name)
            .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(CalendarDay.day)
        )
        return [(d.isoformat(), w, n) for d, w, n in rows]


async def year_row(world: World, year: int) -> CalendarYear | None:
    async with world.factory() as s:
        return await s.get(CalendarYear, year)


@pytest.fixture
async def cal_world(world: World) -> World:
    """The demo database with the package's years held, as after the migration."""
    async with world.uow() as uow:
        await workcal.sync_package_years(uow)
        await uow.commit()
    return world


async def test_the_migration_seeds_every_year_the_package_knows(fresh_db_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_db_url)
    engine = make_engine(fresh_db_url)
    factory = make_session_factory(engine)
    try:
        async with factory() as s:
            years = {y.year: y for y in await s.scalars(select(CalendarYear))}
        assert sorted(years) == package_years() == list(range(2004, 2027))
        assert {y.source for y in years.values()} == {"chinesecalendar"}
        assert years[2026].note == "由 chinesecalendar 1.11.0 导入"
        assert years[2026].updated_by_id is None
        assert years[2026].updated_at.tzinfo is not None

        days_2026 = await stored(factory, 2026)
        assert len(days_2026) == 25
        assert ("2026-02-14", True, "春节调休上班") in days_2026
        assert ("2026-02-16", False, "春节") in days_2026
        assert ("2026-10-10", True, "国庆节调休上班") in days_2026
        assert not any(d == "2026-02-15" for d, _, _ in days_2026)  # Sunday, not stored
        # The migration's frozen copy agrees with domain/tasks/calendar_seed.py everywhere.
        for year in (2004, 2015, 2020, 2026):
            assert await stored(factory, year) == [
                (s.day.isoformat(), s.workday, s.name) for s in package_exceptions(year)
            ]
        async with UnitOfWork(factory) as uow:
            assert await workcal.sync_package_years(uow) == []  # nothing missing

        # Downgrading removes the seed (and upgrading puts it back).
        await asyncio.to_thread(command.downgrade, alembic_config(fresh_db_url), "808a95c02b07")
        async with factory() as s:
            assert list(await s.scalars(select(CalendarYear.year))) == []
            assert list(await s.scalars(select(CalendarDay.day))) == []
        await asyncio.to_thread(upgrade, fresh_db_url)
        assert len(await stored(factory, 2026)) == 25
    finally:
        await engine.dispose()


async def test_load_calendar(cal_world: World) -> None:
    async with cal_world.uow() as uow:
        cal = await workcal.load_calendar(uow)
    assert set(range(2004, 2027)) <= cal.official_years
    assert 2027 not in cal.official_years
    assert cal.is_workday(date(2026, 2, 14)) and not cal.is_workday(date(2026, 2, 16))
    assert not cal.is_workday(date(2015, 9, 3))  # the one-off 70th anniversary holiday
    assert cal.add_working_days(date(2026, 2, 12), 5) == date(2026, 2, 26)
    deadline = cal.deadline(datetime(2026, 12, 28, 1, tzinfo=UTC), 5, LimitUnit.WORKING_DAYS)
    assert workcal.calendar_warning(cal, deadline) == (
        "2027年尚未录入国务院公布的节假日安排，期限暂按周一至周五工作日计算。"
    )


async def test_admin_enters_2027_and_it_becomes_official(cal_world: World) -> None:
    world = cal_world
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        overview = await workcal.calendar_overview(uow, admin, today=date(2026, 11, 29))
    assert overview.missing == [2027]
    assert "2027年尚未录入" in (overview.warning or "")
    assert overview.years[0].year == 2026 and overview.years[0].from_package
    assert (overview.years[0].holidays, overview.years[0].workdays) == (19, 6)

    async with world.uow(admin) as uow:
        await workcal.save_year(uow, admin, 2027, GOOD_2027)
        await uow.commit()

    days = await stored(world.factory, 2027)
    assert ("2027-01-01", False, "元旦") in days
    assert ("2027-02-13", True, "春节调休上班") in days
    # Sat 6 and Sun 7 Feb are inside the Spring Festival range but not stored.
    assert [d for d, _, n in days if n == "春节"] == [f"2027-02-{d:02}" for d in range(8, 13)]
    assert len(days) == 1 + 5 + 1 + 3 + 1 + 1 + 5 + 2
    row = await year_row(world, 2027)
    assert row is not None and row.source == "admin" and row.note == GOOD_2027["note"]
    assert row.updated_by_id == admin.user_id

    async with world.uow(admin) as uow:
        cal = await workcal.load_calendar(uow)
        overview = await workcal.calendar_overview(uow, admin, today=date(2026, 11, 29))
        detail = await workcal.year_detail(uow, admin, 2027)
    assert 2027 in cal.official_years
    assert not cal.is_workday(date(2027, 1, 1)) and cal.is_workday(date(2027, 2, 13))
    # The December deadline from above now skips New Year's Day: Tue 29 (1), Wed 30 (2),
    # Thu 31 (3), Mon 4 Jan (4), Tue 5 Jan (5).
    assert cal.add_working_days(date(2026, 12, 28), 5) == date(2027, 1, 5)
    assert workcal.calendar_warning(cal, datetime(2027, 1, 5, tzinfo=UTC)) is None
    assert overview.missing == [] and overview.warning is None
    assert overview.years[0].year == 2027 and overview.years[0].updated_by == "平台管理员"
    # The edit form shows the stored arrangement, a holiday across a weekend as one range.
    assert "2027-02-08~2027-02-12 春节" in detail.form["holidays"]
    assert "2027-10-01~2027-10-07 国庆节" in detail.form["holidays"]
    assert detail.form["workdays"] == "2027-02-13 春节调休上班\n2027-10-09 国庆节调休上班"

    [entry] = await world.audit("calendar.save_year", 2027)
    assert entry.actor_name == "admin"
    assert entry.before is not None and entry.before["source"] is None
    assert entry.after is not None and entry.after["source"] == "admin"

    # Saving again replaces the year's rows (saving the form as shown changes nothing).
    async with world.uow(admin) as uow:
        await workcal.save_year(uow, admin, 2027, detail.form)
        await uow.commit()
    assert await stored(world.factory, 2027) == days
    async with world.uow(admin) as uow:
        await workcal.save_year(uow, admin, 2027, {"holidays": "2027-01-01 元旦"})
        await uow.commit()
    assert await stored(world.factory, 2027) == [("2027-01-01", False, "元旦")]
    assert (await stored(world.factory, 2026))[0] == ("2026-01-01", False, "元旦")  # untouched


async def test_bad_input_names_the_line_and_stores_nothing(cal_world: World) -> None:
    world = cal_world
    admin = await world.actor("admin")
    bad = {
        **GOOD_2027,
        "holidays": GOOD_2027["holidays"] + "\n2027-02-30 春节",
        "workdays": "2027-02-15 春节调休上班",
    }
    with pytest.raises(ValidationFailed) as caught:
        async with world.uow(admin) as uow:
            await workcal.save_year(uow, admin, 2027, bad)
            await uow.commit()
    assert caught.value.fields == {
        "holidays": "第 8 行「2027-02-30 春节」：日期不存在。",
        "workdays": "第 1 行「2027-02-15 春节调休上班」："
        "2027-02-15 是星期一，调休上班日应是星期六或星期日。",
    }
    assert await stored(world.factory, 2027) == []
    assert await year_row(world, 2027) is None
    assert await world.audit("calendar.save_year") == []

    # A held year keeps its rows when a correction is refused.
    before = await stored(world.factory, 2026)
    with pytest.raises(ValidationFailed):
        async with world.uow(admin) as uow:
            await workcal.save_year(uow, admin, 2026, {"holidays": "2027-01-01 元旦"})
            await uow.commit()
    assert await stored(world.factory, 2026) == before
    assert (await year_row(world, 2026)).source == "chinesecalendar"  # type: ignore[union-attr]

    with pytest.raises(NotFound):
        async with world.uow(admin) as uow:
            await workcal.save_year(uow, admin, 1999, GOOD_2027)


async def test_only_admins_read_or_change_the_calendar(cal_world: World) -> None:
    world = cal_world
    for username in ("secretary", "supervisor", "district"):
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            with pytest.raises(PermissionDenied):
                await workcal.calendar_overview(uow, actor)
            with pytest.raises(PermissionDenied):
                await workcal.year_detail(uow, actor, 2026)
            with pytest.raises(PermissionDenied):
                await workcal.save_year(uow, actor, 2027, GOOD_2027)
            with pytest.raises(PermissionDenied):
                await workcal.delete_year(uow, actor, 2026)
    assert await year_row(world, 2027) is None
    assert await year_row(world, 2026) is not None


async def test_delete_falls_back_and_sync_never_overwrites_an_admin_year(
    cal_world: World,
) -> None:
    world = cal_world
    admin = await world.actor("admin")
    # An admin corrects 2026 by hand and drops 2025.
    async with world.uow(admin) as uow:
        await workcal.save_year(uow, admin, 2026, {"holidays": "2026-01-01 元旦"})
        await workcal.delete_year(uow, admin, 2025)
        await uow.commit()
    async with world.uow(admin) as uow:
        cal = await workcal.load_calendar(uow)
    assert 2025 not in cal.official_years
    assert cal.missing_years(date(2025, 10, 1)) == [2025]
    assert cal.is_workday(date(2025, 10, 1))  # Monday–Friday fallback
    assert await stored(world.factory, 2025) == []
    [entry] = await world.audit("calendar.delete_year", 2025)
    assert entry.before is not None and entry.before["source"] == "chinesecalendar"

    async with world.uow() as uow:
        added = await workcal.sync_package_years(uow)
        await uow.commit()
    assert added == [2025]
    assert await stored(world.factory, 2026) == [("2026-01-01", False, "元旦")]
    assert (await year_row(world, 2026)).source == "admin"  # type: ignore[union-attr]
    assert await stored(world.factory, 2025) == [
        (s.day.isoformat(), s.workday, s.name) for s in package_exceptions(2025)
    ]
    [sync] = await world.audit("calendar.sync", 2025)
    assert sync.actor_name == "system" and sync.after == {"years": [2025]}

    async with world.uow() as uow:
        assert await workcal.sync_package_years(uow) == []

    with pytest.raises(NotFound):
        async with world.uow(admin) as uow:
            await workcal.delete_year(uow, admin, 2030)
