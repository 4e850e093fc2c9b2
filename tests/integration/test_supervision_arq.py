"""The supervision jobs through a real arq worker on Redis (burst mode), and the same jobs
through the in-process runner of embedded mode. Jobs are at-least-once: a second delivery
must send nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.jobs import InlineJobRunner
from domain.models import DigestRecord, Notification, SupervisionNotice, Task
from domain.tasks import review
from domain.tasks.calendar import BEIJING
from tasks.jobs import archive_closed_tasks, send_task_digests, supervise_tasks
from tests.services import REDIS_URL, redis_available, require_service
from tests.supervision_data import DEPT, MARKET, TaskMaker

JOBS = [supervise_tasks, send_task_digests, archive_closed_tasks]


async def _overdue_and_closed(factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """An overdue task, a waiting one, and one closed 40 days ago."""
    m = TaskMaker(factory)
    late = await m.create(MARKET, "逾期未签收的检查任务", days=3)
    await m.shift(late, timedelta(days=20))
    waiting = await m.create(DEPT, "待签收的整治任务", days=5)
    closed = await m.create(DEPT, "已销号的整治任务", days=3)
    await m.finish("dept", closed, DEPT, "satisfied")
    await m.do("secretary", review.close, closed, None)
    await m.shift(closed, timedelta(days=40))
    return {"late": late, "waiting": waiting, "closed": closed}


async def _count(factory: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with factory() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _state(factory: async_sessionmaker[AsyncSession], task_id: int) -> str:
    async with factory() as s:
        state = await s.scalar(select(Task.state).where(Task.id == task_id))
    assert state is not None
    return state


# The digests go out from 08:00 Beijing time: run them at ten in the morning.
MORNING = datetime.now(BEIJING).replace(hour=10, minute=0, second=0, microsecond=0)


async def _enqueue_all(pool: Any, queue: str) -> list[Any]:
    return [
        await pool.enqueue_job("supervise_tasks", _queue_name=queue),
        await pool.enqueue_job("send_task_digests", MORNING, _queue_name=queue),
        await pool.enqueue_job("archive_closed_tasks", _queue_name=queue),
    ]


def burst_worker(pool: Any, queue: str, factory: async_sessionmaker[AsyncSession]) -> Worker:
    return Worker(
        functions=JOBS,  # type: ignore[arg-type]
        redis_pool=pool,
        queue_name=queue,
        burst=True,
        poll_delay=0.05,
        ctx={"session_factory": factory},
        handle_signals=False,
    )


async def test_supervision_jobs_on_a_real_arq_worker(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    require_service("Redis", redis_available())
    ids = await _overdue_and_closed(demo)
    settings = RedisSettings.from_dsn(REDIS_URL)
    queue = f"gongjian-test-{uuid.uuid4().hex[:8]}"
    pool = await create_pool(settings, default_queue_name=queue)
    try:
        jobs = await _enqueue_all(pool, queue)
        worker = burst_worker(pool, queue, demo)
        await worker.main()
        assert worker.jobs_complete == 3 and worker.jobs_failed == 0
        issued, digests, archived = [await j.result(timeout=5) for j in jobs]
        # Red, reminder, bulletin and escalation for the overdue task (past the deadline,
        # red replaces the colours that come before it).
        assert issued == 4
        assert digests == 2  # the market office (overdue), the team (a task to accept)
        assert archived == 1
        notes = await _count(demo, Notification)
        # Delivered again (arq is at-least-once): nothing more is sent.
        again = await _enqueue_all(pool, queue)
        worker2 = burst_worker(pool, queue, demo)
        await worker2.main()
        assert [await j.result(timeout=5) for j in again] == [0, 0, 0]
        assert await _count(demo, Notification) == notes
        await worker.close()
        await worker2.close()
    finally:
        await pool.delete(queue)
        await pool.aclose()
    assert await _count(demo, SupervisionNotice, SupervisionNotice.task_id == ids["late"]) == 4
    assert await _state(demo, ids["closed"]) == "archived"


async def test_the_same_jobs_in_embedded_mode(demo: async_sessionmaker[AsyncSession]) -> None:
    ids = await _overdue_and_closed(demo)
    runner = InlineJobRunner(demo, periodic=False)
    await runner.start()

    async def run(name: str, **kwargs: Any) -> None:
        await runner.enqueue(name, **kwargs)
        for _ in range(250):
            if not runner._tasks:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{name} did not finish")

    notes = []
    for _ in range(2):  # twice: the second round finds everything done
        await run("supervise_tasks")
        await run("send_task_digests", now=MORNING)
        await run("archive_closed_tasks")
        notes.append(await _count(demo, Notification))
    await runner.stop()
    assert notes[0] == notes[1] > 0
    assert await _count(demo, SupervisionNotice, SupervisionNotice.task_id == ids["late"]) == 4
    assert await _count(demo, SupervisionNotice, SupervisionNotice.task_id == ids["waiting"]) == 0
    assert await _count(demo, DigestRecord) == 2
    assert await _state(demo, ids["closed"]) == "archived"


def test_every_supervision_job_is_scheduled_in_both_runners() -> None:
    from tasks.jobs import PERIODIC
    from tasks.worker import WorkerSettings

    assert {n: p for n, (_f, p) in PERIODIC.items() if "task" in n} == {
        "supervise_tasks": 300,
        "send_task_digests": 3600,
        "archive_closed_tasks": 86400,
    }
    crons = {c.name: c for c in WorkerSettings.cron_jobs}
    for name in ("supervise_tasks", "send_task_digests", "archive_closed_tasks"):
        assert crons[f"cron:{name}"].unique
    assert WorkerSettings.timezone is BEIJING
