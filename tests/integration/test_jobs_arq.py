"""Jobs run the same through the in-process runner and through a real arq worker on Redis."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.jobs import InlineJobRunner
from domain.models import LoginFailure, User, WebSession
from domain.models.base import utcnow
from tasks.jobs import purge_sessions
from tests.services import REDIS_URL, redis_available, require_service


async def _make_dead_sessions(factory: async_sessionmaker[AsyncSession]) -> None:
    now = utcnow()
    async with factory() as s:
        user = await s.scalar(select(User).where(User.username == "secretary"))
        assert user is not None
        s.add_all(
            [
                WebSession(
                    token_hash="a" * 64, user_id=user.id, expires_at=now - timedelta(days=1)
                ),
                WebSession(
                    token_hash="b" * 64,
                    user_id=user.id,
                    expires_at=now + timedelta(days=1),
                    last_seen_at=now - timedelta(days=2),  # idle too long
                ),
                WebSession(
                    token_hash="c" * 64, user_id=user.id, expires_at=now + timedelta(days=1)
                ),
                LoginFailure(username="x", ip="1.2.3.4", at=now - timedelta(hours=2)),
            ]
        )
        await s.commit()


async def _remaining(factory: async_sessionmaker[AsyncSession]) -> tuple[list[str], int]:
    async with factory() as s:
        hashes = list(await s.scalars(select(WebSession.token_hash)))
        failures = await s.scalar(select(func.count(LoginFailure.id))) or 0
        return sorted(h[0] for h in hashes), failures


def burst_worker(pool: Any, queue: str, factory: async_sessionmaker[AsyncSession]) -> Worker:
    """A real arq worker that runs what is queued, then stops."""
    return Worker(
        functions=[purge_sessions],  # type: ignore[list-item]
        redis_pool=pool,
        queue_name=queue,
        burst=True,
        poll_delay=0.05,
        ctx={"session_factory": factory},
        handle_signals=False,
    )


async def test_arq_worker_runs_purge_job_against_real_redis(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    require_service("Redis", redis_available())
    await _make_dead_sessions(demo)
    settings = RedisSettings.from_dsn(REDIS_URL)
    queue = f"gongjian-test-{uuid.uuid4().hex[:8]}"
    pool = await create_pool(settings, default_queue_name=queue)
    try:
        job = await pool.enqueue_job("purge_sessions", _queue_name=queue)
        assert job is not None
        worker = burst_worker(pool, queue, demo)
        await worker.main()
        assert worker.jobs_complete == 1 and worker.jobs_failed == 0
        assert await job.result(timeout=5) == 2
        # Idempotent: a second delivery (arq is at-least-once) removes nothing more.
        job2 = await pool.enqueue_job("purge_sessions", _queue_name=queue)
        assert job2 is not None
        worker2 = burst_worker(pool, queue, demo)
        await worker2.main()
        assert await job2.result(timeout=5) == 0
        await worker.close()
        await worker2.close()
    finally:
        await pool.delete(queue)
        await pool.aclose()
    assert await _remaining(demo) == (["c"], 0)


async def test_inline_runner_runs_the_same_job(demo: async_sessionmaker[AsyncSession]) -> None:
    await _make_dead_sessions(demo)
    runner = InlineJobRunner(demo, periodic=False)
    await runner.start()
    await runner.enqueue("purge_sessions")
    # Wait for the spawned task to finish.
    import asyncio

    for _ in range(100):
        if not runner._tasks:
            break
        await asyncio.sleep(0.02)
    await runner.stop()
    assert await _remaining(demo) == (["c"], 0)
