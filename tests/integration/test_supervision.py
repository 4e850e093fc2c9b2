"""Supervision (督办) against SQLite and PostgreSQL: the clock's notices, digests, archiving
and the dashboard's figures, on tasks the demo users create and handle.

`now` is handed to the jobs to move time forward; where a service stamps the real time
(accepting, reporting), the task's clock is moved instead.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from domain.enums import NoticeLevel, TaskSource, TaskState
from domain.models import (
    AuditEntry,
    DigestRecord,
    Notification,
    SupervisionNotice,
    Task,
    TaskEvent,
    User,
)
from domain.models.base import utcnow
from domain.tasks import handling, returns, review, stats
from domain.tasks.calendar import BEIJING, local_date
from domain.tasks.stats import Period, PeriodKind, StatsFilter
from domain.tasks.supervision import archive_closed, run_supervision, send_digests, unit_users
from domain.tasks.supervision_rules import deadline_day
from domain.tasks.workcal import load_calendar
from tests.integration.conftest import World
from tests.supervision_data import COMMUNITY, DEPT, MARKET, STREET, TaskMaker

L = NoticeLevel


@pytest.fixture
def maker(world: World) -> TaskMaker:
    return TaskMaker(world.factory)


async def task_row(world: World, task_id: int) -> Task:
    async with world.factory() as s:
        task = await s.get(Task, task_id)
    assert task is not None
    return task


async def notices(world: World, task_id: int) -> list[tuple[str, datetime]]:
    async with world.factory() as s:
        rows = await s.execute(
            select(SupervisionNotice.level, SupervisionNotice.deadline)
            .where(SupervisionNotice.task_id == task_id)
            .order_by(SupervisionNotice.id)
        )
        return [(level, deadline) for level, deadline in rows]


async def titles(world: World, username: str, link: str | None = None) -> list[str]:
    async with world.factory() as s:
        stmt = (
            select(Notification.title)
            .join(User, User.id == Notification.user_id)
            .where(User.username == username)
        )
        if link is not None:
            stmt = stmt.where(Notification.link == link)
        return list(await s.scalars(stmt.order_by(Notification.id)))


async def run(world: World, now: datetime) -> list[tuple[int, NoticeLevel]]:
    async with world.uow() as uow:
        result = await run_supervision(uow, now)
        await uow.commit()
    return result.issued


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BEIJING)


async def test_notices_come_once_each_as_the_clock_runs(world: World, maker: TaskMaker) -> None:
    tid = await maker.create(DEPT, "新华路 12 号楼道堆物清理", days=5)
    task = await task_row(world, tid)
    assert task.assigned_at and task.deadline and task.accept_due_at
    async with world.uow() as uow:
        cal = await load_calendar(uow)
    version = task.version
    link = f"/tasks/{tid}"

    # Not accepted within the street's 24 hours: yellow, and only once.
    late_accept = task.accept_due_at + timedelta(minutes=5)
    assert await run(world, late_accept) == [(tid, L.YELLOW)]
    assert await run(world, late_accept) == []
    assert (await task_row(world, tid)).notice_level == "yellow"

    await maker.accept("dept", tid, DEPT)
    await maker.progress("dept", tid, DEPT, 10)
    # Five hours before the deadline: blue (the yellow stands for this deadline already).
    near = task.deadline - timedelta(hours=5)
    assert await run(world, near) == [(tid, L.BLUE)]
    assert (await task_row(world, tid)).notice_level == "yellow"  # the higher colour stays

    # Overdue: red at once; the reminder on the first working day after the deadline's day
    # (at once too, when the day after the deadline's is a working day).
    last = deadline_day(task.deadline)
    reminder_day = cal.add_working_days(last, 1)
    at_once = reminder_day == last + timedelta(days=1)
    assert await run(world, task.deadline + timedelta(minutes=1)) == (
        [(tid, L.RED), (tid, L.REMINDER)] if at_once else [(tid, L.RED)]
    )
    assert await run(world, at(reminder_day, 9)) == ([] if at_once else [(tid, L.REMINDER)])
    bulletin_day = cal.add_working_days(last, 3)
    assert await run(world, at(bulletin_day, 8) - timedelta(hours=9)) == []  # the day before
    assert await run(world, at(bulletin_day, 9)) == [(tid, L.BULLETIN), (tid, L.ESCALATION)]
    assert await run(world, at(bulletin_day, 10)) == []

    assert [level for level, _ in await notices(world, tid)] == [
        "yellow",
        "blue",
        "red",
        "reminder",
        "bulletin",
        "escalation",
    ]
    after = await task_row(world, tid)
    assert after.notice_level == "red"
    # The clock never bumped the task's version: a user's page stays current.
    assert after.version == version + 2  # accept and the first progress report
    async with world.factory() as s:
        events = list(
            await s.scalars(
                select(TaskEvent.action).where(TaskEvent.task_id == tid, TaskEvent.kind == "notice")
            )
        )
    assert sorted(events) == sorted(["yellow", "blue", "red", "reminder", "bulletin", "escalation"])

    # The handling unit heard of each, the street (assigner) of the serious ones, the
    # district of the escalation.
    dept = await titles(world, "dept", link)
    assert any(t.startswith("黄色督办") for t in dept)
    assert any(t.startswith("蓝色督办") for t in dept)
    assert any(t.startswith("提级督办") for t in dept)
    street = await titles(world, "supervisor", link)
    assert any(t.startswith("红色督办") or t.startswith("催办") for t in street)
    assert any(t.startswith("提级督办") for t in street)
    assert not any(t.startswith("蓝色督办") for t in street)
    assert [t for t in await titles(world, "district", link) if t.startswith("提级督办")]
    assert not await titles(world, "liaison", link)


async def test_an_approved_extension_starts_a_fresh_cycle(world: World, maker: TaskMaker) -> None:
    tid = await maker.create(DEPT, "春晖路路灯维修", days=5)
    await maker.accept("dept", tid, DEPT)
    await maker.progress("dept", tid, DEPT, 80)
    first = await task_row(world, tid)
    assert first.deadline is not None
    near = first.deadline - timedelta(hours=5)
    assert await run(world, near) == [(tid, L.BLUE)]

    until = deadline_day(first.deadline) + timedelta(days=14)
    raw = {"until": until.isoformat(), "grounds": "需等待供电部门配合停电施工。"}
    await maker.do("dept", handling.request_extension, tid, await maker.unit(DEPT), None, raw)
    await maker.do("secretary", handling.decide_extension, tid, None, True, "同意。")
    moved = await task_row(world, tid)
    assert moved.deadline is not None and moved.deadline > first.deadline
    assert moved.notice_level is None

    # The same moment is no longer near the (new) deadline.
    assert await run(world, near) == []
    assert await run(world, moved.deadline - timedelta(hours=5)) == [(tid, L.BLUE)]
    assert await notices(world, tid) == [("blue", first.deadline), ("blue", moved.deadline)]
    assert (await task_row(world, tid)).notice_level == "blue"


async def test_runs_at_the_same_time_send_nothing_twice(
    world: World, maker: TaskMaker, db_url: str
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite lets one writer at a time: the second run would wait, not race")
    ids = [await maker.create(DEPT, f"并发督办 {i}", days=1) for i in range(3)]
    task = await task_row(world, ids[0])
    assert task.deadline is not None
    late = task.deadline + timedelta(hours=1)
    first, second = await asyncio.gather(run(world, late), run(world, late))
    both = first + second
    assert len(both) == len(set(both))  # no notice announced by both runs
    assert {(tid, L.RED) for tid in ids} <= set(both)
    for tid in ids:
        levels = [level for level, _ in await notices(world, tid)]
        assert len(levels) == len(set(levels))
        assert len(await titles(world, "dept", f"/tasks/{tid}")) == 1 + 1  # assigned + notice


async def test_notices_reach_who_speaks_for_each_unit(world: World, maker: TaskMaker) -> None:
    office = await maker.unit("新华街道办事处")
    community = await maker.unit(COMMUNITY)
    dept = await maker.unit(DEPT)
    market = await maker.unit(MARKET)
    async with world.uow() as uow:
        users = await unit_users(uow, [office, community, dept, market])
    ids = {u.id: u.username for u in [await world.user(n) for n in ("secretary", "supervisor")]}
    assert {ids.get(u) for u in users[office]} == {"secretary", "supervisor"}
    assert users[community] == {(await world.user("community")).id}
    assert users[dept] == {(await world.user("dept")).id}
    assert market not in users  # no demo liaison


async def test_daily_digest_once_per_unit_and_day(world: World, maker: TaskMaker) -> None:
    waiting = await maker.create(DEPT, "东湖小区违建核查", days=5)
    extended = await maker.create(DEPT, "文化里路面坑洼修补", days=5)
    await maker.accept("dept", extended, DEPT)
    raw = {
        "until": (local_date(utcnow()) + timedelta(days=30)).isoformat(),
        "grounds": "需协调施工单位。",
    }
    await maker.do("dept", handling.request_extension, extended, await maker.unit(DEPT), None, raw)
    now = utcnow()
    today = local_date(now)
    async with world.uow() as uow:
        sent = await send_digests(uow, today, now)
        await uow.commit()
    assert sent == 2  # the enforcement team, and the street office (an extension to decide)
    dept = [t for t in await titles(world, "dept", "/tasks") if t.startswith("今日待办")]
    assert dept == ["今日待办（区城管执法局新华街道执法队）：共 1 件"]
    async with world.factory() as s:
        body = await s.scalar(
            select(Notification.body)
            .join(User, User.id == Notification.user_id)
            .where(User.username == "dept", Notification.title.startswith("今日待办"))
        )
    assert body is not None and "待签收 1 件" in body and "2 个工作日内到期" not in body
    street = [t for t in await titles(world, "secretary", "/tasks") if t.startswith("今日待办")]
    assert street == ["今日待办（新华街道办事处）：共 1 件"]

    async with world.uow() as uow:
        assert await send_digests(uow, today, now) == 0
        await uow.commit()
    assert await world.count(DigestRecord) == 2
    async with world.uow() as uow:
        assert await send_digests(uow, today + timedelta(days=1), now) == 2
        await uow.commit()
    assert len([t for t in await titles(world, "dept", "/tasks") if "今日待办" in t]) == 2
    del waiting


async def test_closed_tasks_are_archived_by_the_system_after_30_days(
    world: World, maker: TaskMaker
) -> None:
    tid = await maker.create(DEPT, "新华路垃圾桶更换", days=3)
    await maker.finish("dept", tid, DEPT, "satisfied")
    await maker.do("secretary", review.close, tid, None)
    now = utcnow()
    async with world.uow() as uow:
        assert await archive_closed(uow, now) == 0  # closed just now
    async with world.uow() as uow:
        assert await archive_closed(uow, now + timedelta(days=31)) == 1
        await uow.commit()
    task = await task_row(world, tid)
    assert task.state == TaskState.ARCHIVED.value and task.archived_at is not None
    async with world.factory() as s:
        last = await s.scalar(
            select(TaskEvent).where(TaskEvent.task_id == tid).order_by(TaskEvent.id.desc())
        )
        audited = await s.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "task.archive_closed")
        )
    assert last is not None
    assert (last.action, last.to_state, last.actor_name) == ("archive", "archived", "系统")
    assert audited == 1
    async with world.uow() as uow:
        assert await archive_closed(uow, now + timedelta(days=31)) == 0


# ---- the dashboard's figures ----------------------------------------------------------


async def six_tasks(world: World, m: TaskMaker) -> dict[str, int]:
    """T1 finished on time and satisfied; T2 overdue in progress; T3 not accepted in time;
    T4 a community's refusal of a task outside the admission catalogue; T5 sent back once,
    then finished, basically satisfied; T6 returned by the team and reassigned."""
    t: dict[str, int] = {}
    t["T1"] = await m.create(DEPT, "T1 占道经营整治", days=5)
    await m.finish("dept", t["T1"], DEPT, "satisfied")
    t["T2"] = await m.create(DEPT, "T2 违建拆除", days=5)
    await m.accept("dept", t["T2"], DEPT)
    await m.progress("dept", t["T2"], DEPT, 30)
    await m.set(t["T2"], deadline=utcnow() - timedelta(days=15))
    t["T3"] = await m.create(MARKET, "T3 食品安全检查", days=5)
    await m.set(t["T3"], accept_due_at=utcnow() - timedelta(hours=1))
    t["T4"] = await m.create(COMMUNITY, "T4 代收水电费", days=5)
    await m.do(
        "community",
        handling.request_return,
        t["T4"],
        await m.unit(COMMUNITY),
        None,
        {"reason": "outside_admission", "text": "不属于社区准入事项。"},
    )
    t["T5"] = await m.create(DEPT, "T5 噪音扰民", days=5)
    await m.accept("dept", t["T5"], DEPT)
    await m.report("dept", t["T5"], DEPT)
    await m.review(t["T5"], False, "现场仍有噪音，请重办。")
    await m.report("dept", t["T5"], DEPT)
    await m.review(t["T5"], True)
    await m.rate(t["T5"], "basically_satisfied")
    t["T6"] = await m.create(DEPT, "T6 河道保洁", days=5)
    raw = {"reason": "wrong_area", "text": "河道属水务部门。"}
    await m.do("dept", handling.request_return, t["T6"], await m.unit(DEPT), None, raw)
    raw = {"lead_unit_id": str(await m.unit(MARKET)), "note": "改由市场监管所办理。"}
    await m.do("secretary", returns.reassign, t["T6"], None, raw)
    await m.supervise()
    return t


def around_today(now: datetime) -> StatsFilter:
    today = local_date(now)
    return StatsFilter(Period(PeriodKind.CUSTOM, today - timedelta(days=1), today))


async def test_figures_equal_the_hand_counted_ones(world: World, maker: TaskMaker) -> None:
    t = await six_tasks(world, maker)
    secretary = await world.actor("secretary")
    now = utcnow()
    async with world.uow(secretary) as uow:
        scope = await stats.street_scope(uow, secretary, await world.org_id(STREET))
        fig = await stats.figures(uow, scope, around_today(now), now)

    assert fig.open_by_state == {"assigned": 2, "in_progress": 1, "return_requested": 1}
    assert fig.period_by_state == {**fig.open_by_state, "rated": 2}
    assert fig.colours == {"red": 1, "yellow": 1, "none": 2}
    assert fig.overdue_total == 1 and [x.id for x in fig.overdue] == [t["T2"]]
    assert fig.overdue[0].late_days >= 3 and fig.overdue[0].lead_name == DEPT
    assert [x.id for x in fig.board["red"]] == [t["T2"]]
    assert [x.id for x in fig.board["yellow"]] == [t["T3"]]

    totals = fig.totals
    # Accepted: T1, T2, T5 (on time); T3's time to accept has run out. T4 and T6 still have
    # time to accept (T6's new lead got a fresh window).
    assert (totals.handled, totals.accept_base, totals.accepted_on_time) == (6, 4, 3)
    assert (totals.lead, totals.returned) == (6, 1)  # T6 (a refusal is no return)
    assert (totals.review_base, totals.reworked) == (2, 1)  # T1, T5; T5 sent back
    assert (totals.finished, totals.finished_on_time) == (2, 2)
    assert (totals.rated, totals.satisfied) == (2, 2)

    units = {u.name: u for u in fig.units}
    assert set(units) == {DEPT, MARKET}  # the community is not scored on T4
    team = units[DEPT]
    r = team.rates
    assert (r.handled, r.accept_base, r.accepted_on_time) == (3, 3, 3)  # T1, T2, T5
    assert (r.lead, r.returned) == (4, 1)  # T6, though released, counts as its return
    assert (r.review_base, r.reworked, r.finished, r.finished_on_time) == (2, 1, 2, 2)
    assert (r.rated, r.satisfied, team.open_overdue) == (2, 2, 1)
    assert r.on_time_acceptance == 1 and r.return_rate == 0.25 and r.rework_rate == 0.5
    # 20·1 + 35·1 + 25·1 + 10·0.75 + 10·0.5 = 92.5
    assert r.score == pytest.approx(92.5)
    market = units[MARKET].rates
    assert (market.handled, market.accept_base, market.accepted_on_time) == (2, 1, 0)
    assert (market.lead, market.returned, market.finished) == (2, 0, 0)


async def test_filters_narrow_the_figures(world: World, maker: TaskMaker) -> None:
    t = await six_tasks(world, maker)
    secretary = await world.actor("secretary")
    now = utcnow()
    base = around_today(now)
    async with world.uow(secretary) as uow:
        scope = await stats.street_scope(uow, secretary, await world.org_id(STREET))
        team = await maker.unit(DEPT)
        by_team = await stats.figures(uow, scope, StatsFilter(base.period, unit_id=team), now)
        whistles = await stats.figures(
            uow, scope, StatsFilter(base.period, source=TaskSource.WHISTLE), now
        )
        last_year = await stats.figures(
            uow,
            scope,
            StatsFilter(Period(PeriodKind.CUSTOM, date(2020, 1, 1), date(2020, 12, 31))),
            now,
        )
    # The team handles T1, T2, T5 (it was released from T6).
    assert by_team.period_total == 3 and by_team.open_by_state == {"in_progress": 1}
    assert [u.name for u in by_team.units] == [DEPT]
    assert by_team.units[0].rates.returned == 1
    assert whistles.period_total == 0 and whistles.open_total == 0
    # Open work is open work whatever the period; the period's figures are empty.
    assert last_year.open_total == 4 and last_year.period_total == 0 and not last_year.units
    del t


async def test_ranking_and_bulletins(world: World, maker: TaskMaker) -> None:
    t = await six_tasks(world, maker)
    await maker.create(MARKET, "T7 价格检查", days=5)  # a third task for the market office
    secretary = await world.actor("secretary")
    now = utcnow()
    async with world.uow(secretary) as uow:
        scope = await stats.street_scope(uow, secretary, await world.org_id(STREET))
        ranking = await stats.monthly_ranking(uow, scope, local_date(now), now)
        period = stats.period_for(PeriodKind.MONTH, local_date(now))
        rows = await stats.bulletins(uow, scope, period)
    assert [u.name for u in ranking.red] == [DEPT]
    assert [u.name for u in ranking.black] == [MARKET]
    assert ranking.ranked_count == 2
    # T2 is 15 days past its deadline: bulletin issued by the run in six_tasks.
    assert [(b.task_id, b.lead_name) for b in rows] == [(t["T2"], DEPT)]
    assert "予以通报" in rows[0].text


async def test_who_may_see_the_dashboard(world: World) -> None:
    xinhua = await world.org_id(STREET)
    district = await world.org_id("和平区")
    for username in ("secretary", "supervisor", "district", "admin"):
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            assert (await stats.street_scope(uow, actor, xinhua)).street_ids == [xinhua]
    for username, error in (
        ("dept", "PermissionDenied"),
        ("liaison", "PermissionDenied"),
        ("community", "PermissionDenied"),
        ("secretary2", "NotFound"),
    ):
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            with pytest.raises(Exception) as caught:
                await stats.street_scope(uow, actor, xinhua)
        assert type(caught.value).__name__ == error, username
    viewer = await world.actor("district")
    async with world.uow(viewer) as uow:
        scope = await stats.district_scope(uow, viewer, district)
    assert [s.name for s in scope.streets] == ["新华街道", "长安街道"]
    secretary = await world.actor("secretary")
    async with world.uow(secretary) as uow:
        with pytest.raises(Exception, match="区不存在"):
            await stats.district_scope(uow, secretary, district)
