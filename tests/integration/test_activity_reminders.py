"""Reminders 24 h and 1 h before a date: once each, inline and through a real arq worker."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.activities import signup
from domain.enums import ActivityState
from domain.models import Notification
from domain.models.activities import ActivityReminder
from tasks.jobs import send_activity_reminders
from tests.activity_factory import make_activity, make_members, now_utc
from tests.integration.conftest import World
from tests.services import REDIS_URL, redis_available, require_service


async def _reminders(factory: async_sessionmaker[AsyncSession]) -> set[tuple[int, int, str]]:
    async with factory() as s:
        rows = await s.execute(
            select(ActivityReminder.occurrence_id, ActivityReminder.user_id, ActivityReminder.kind)
        )
        return {(o, u, k) for o, u, k in rows}


async def _reminder_notes(factory: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with factory() as s:
        return list(
            await s.scalars(
                select(Notification).where(Notification.kind.like("activity.reminder%"))
            )
        )


async def _setup(world: World) -> dict[str, Any]:
    now = now_utc()
    tomorrow = await make_activity(
        world.factory, starts=now + timedelta(hours=20), title="明日活动"
    )
    soon = await make_activity(world.factory, starts=now + timedelta(minutes=40), title="马上开始")
    far = await make_activity(world.factory, starts=now + timedelta(days=3), title="三天后")
    cancelled = await make_activity(world.factory, starts=now + timedelta(hours=5), title="取消")
    a, b = await make_members(world.factory, 2)
    for made in (tomorrow, soon, far, cancelled):
        for m in (a, b):
            async with world.uow(m) as uow:
                await signup.sign_up(uow, m, made.occ)
                await uow.commit()
    # b cancels the date tomorrow: no reminder for them.
    async with world.uow(b) as uow:
        row = await signup.live_signup(uow, tomorrow.occ, b.user_id)
        assert row is not None
        await signup.cancel_signup(uow, b, row.id)
        await uow.commit()
    async with world.factory() as s:
        from domain.models.activities import Activity

        act = await s.get(Activity, cancelled.activity_id)
        assert act is not None
        act.state = ActivityState.CANCELLED.value
        await s.commit()
    return {"now": now, "tomorrow": tomorrow, "soon": soon, "far": far, "a": a, "b": b}


async def test_reminders_inline_once_each(world: World) -> None:
    d = await _setup(world)
    ctx = {"session_factory": world.factory}
    sent = await send_activity_reminders(ctx, d["now"])
    a, b = d["a"].user_id, d["b"].user_id
    assert await _reminders(world.factory) == {
        (d["tomorrow"].occ, a, "24h"),
        (d["soon"].occ, a, "1h"),
        (d["soon"].occ, b, "1h"),
    }
    assert sent == 3
    assert await send_activity_reminders(ctx, d["now"] + timedelta(minutes=5)) == 0
    titles = sorted(n.title for n in await _reminder_notes(world.factory))
    assert titles == [
        "活动提醒：「明日活动」明天开始",
        "活动提醒：「马上开始」1 小时后开始",
        "活动提醒：「马上开始」1 小时后开始",
    ]
    # 19 hours later the date tomorrow is within the hour: its 1 h reminder goes out.
    later = await send_activity_reminders(ctx, d["now"] + timedelta(hours=19, minutes=30))
    assert later == 1
    assert (d["tomorrow"].occ, a, "1h") in await _reminders(world.factory)


async def test_reminders_through_a_real_arq_worker(world: World) -> None:
    require_service("Redis", redis_available())
    d = await _setup(world)
    pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    queue = f"gongjian-test-{uuid.uuid4().hex[:8]}"
    try:
        results = []
        for _ in range(2):  # delivered twice (at-least-once): the second sends nothing
            job = await pool.enqueue_job("send_activity_reminders", d["now"], _queue_name=queue)
            assert job is not None
            worker = Worker(
                functions=[send_activity_reminders],  # type: ignore[list-item]
                redis_pool=pool,
                queue_name=queue,
                burst=True,
                poll_delay=0.05,
                ctx={"session_factory": world.factory},
                handle_signals=False,
            )
            await worker.main()
            assert worker.jobs_failed == 0
            results.append(await job.result(timeout=5))
            await worker.close()
        assert results == [3, 0]
    finally:
        await pool.delete(queue)
        await pool.aclose()
    assert len(await _reminder_notes(world.factory)) == 3


def test_reminders_are_scheduled_in_both_runners() -> None:
    from tasks.jobs import PERIODIC
    from tasks.worker import WorkerSettings

    assert PERIODIC["send_activity_reminders"][1] == 300
    crons = {c.name: c for c in WorkerSettings.cron_jobs}
    assert crons["cron:send_activity_reminders"].unique
