"""Job runners: in-process (embedded mode) or arq on Redis. Same job functions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tasks.jobs import JOBS, PERIODIC

log = logging.getLogger("gongjian.jobs")


class JobRunner(Protocol):
    backend: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def enqueue(self, name: str, **kwargs: Any) -> None: ...


class InlineJobRunner:
    """Runs jobs as asyncio tasks in the web process, and the periodic ones on a timer."""

    backend = "inline"

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], periodic: bool = True
    ) -> None:
        self.ctx: dict[str, Any] = {"session_factory": session_factory}
        self._periodic = periodic
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        if self._periodic:
            for name, (_fn, period) in PERIODIC.items():
                self._spawn(self._every(name, period))

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        self._spawn(self._run(name, kwargs))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, name: str, kwargs: dict[str, Any]) -> None:
        try:
            await JOBS[name](self.ctx, **kwargs)
        except Exception:
            log.exception("job %s failed", name)

    async def _every(self, name: str, period: int) -> None:
        while True:
            await asyncio.sleep(period)
            await self._run(name, {})


class ArqJobRunner:
    """Enqueues onto Redis for `gongjian worker` processes to run."""

    backend = "arq"

    def __init__(self, redis_url: str) -> None:
        self._url = redis_url
        self._pool: Any = None

    async def start(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        try:
            self._pool = await create_pool(RedisSettings.from_dsn(self._url), retry=0)
        except Exception:
            # Redis down at start must not stop the web process; enqueue retries.
            log.warning("Redis unavailable at start; jobs will be enqueued when it answers")

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        if self._pool is None:
            await self.start()
        await self._pool.enqueue_job(name, **kwargs)
