"""The outbox relay: gives committed events their delivery seq and hands them to the transport.

Exactly one relay is active at a time (the leader): on PostgreSQL it holds an
advisory lock on a dedicated connection; SQLite means one process. Seqs are
assigned in the order events become visible, committed before publication and
never reused, so a publish that fails is simply retried with the same seqs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from sqlalchemy import JSON, Integer, String, column, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from adapters.live.events import LiveEvent
from domain.models import Event

log = logging.getLogger("gongjian.live")
BATCH = 500
LOCK_KEY = 0x6A6A_0001  # arbitrary, fixed: "the Gongjian relay"
LOCK_CHECK_SECONDS = 5.0


class Transport(Protocol):
    name: str

    async def publish(self, events: list[LiveEvent]) -> int:
        """Hand events over in order; return how many were accepted (a prefix)."""
        ...

    async def wait_for_wake(self, seconds: float) -> None: ...

    def poke(self) -> None: ...


class Relay:
    def __init__(
        self,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        transport: Transport,
        poll_seconds: float = 0.5,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory
        self.transport = transport
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock_conn: AsyncConnection | None = None
        self.is_leader = False
        self.failures = 0
        self._lock_checked = 0.0
        # False until a round finds no numbered-but-unpublished events left over.
        self._backlog_clear = False

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def wake(self) -> None:
        """Called after a commit that wrote events: relay them now."""
        self._wake.set()
        self.transport.poke()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._release()

    async def _run(self) -> None:
        while True:
            try:
                if await self._lead():
                    moved = await self.run_once()
                    self.failures = 0
                    if moved:
                        continue  # more may be waiting: drain before sleeping
                    await self._sleep(self.poll_seconds)
                else:
                    await asyncio.sleep(2.0)  # a follower must not take the leader's wake-ups
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Transport or database away: events wait in the outbox; retry with backoff.
                self.failures += 1
                delay = min(5.0, 0.2 * 2 ** min(self.failures, 5))
                if self.failures in (1, 10) or self.failures % 100 == 0:
                    log.warning("live relay: %s (retrying in %.1fs)", exc, delay)
                await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        wake = asyncio.create_task(self._wake.wait())
        remote = asyncio.create_task(self.transport.wait_for_wake(seconds))
        try:
            await asyncio.wait({wake, remote}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (wake, remote):
                t.cancel()
            await asyncio.gather(wake, remote, return_exceptions=True)

    async def _lead(self) -> bool:
        if not self._postgres:
            self.is_leader = True
            return True
        if self._lock_conn is not None:
            # Checking the lock's connection costs a round trip: not on every cycle.
            if time.monotonic() - self._lock_checked < LOCK_CHECK_SECONDS:
                return True
            try:
                await self._lock_conn.execute(text("SELECT 1"))
                self._lock_checked = time.monotonic()
                return True
            except Exception:
                await self._release()
        conn = await self.engine.connect()
        try:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            self._lock_conn = conn
            self._lock_checked = time.monotonic()
            self.is_leader = True
            log.info("live relay: this process is the leader")
            return True
        await conn.close()
        self.is_leader = False
        return False

    async def _release(self) -> None:
        self.is_leader = False
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                await self._lock_conn.close()
            self._lock_conn = None

    async def run_once(self) -> int:
        """One round; returns how many events were handed to the transport.

        The common case costs two statements before publication: number the new
        events (one UPDATE … RETURNING) and commit. Events numbered earlier but
        not yet accepted by the transport (it was down) always go first.
        """
        if not self._backlog_clear:
            moved = await self.publish_pending()
            if moved:
                return moved
            self._backlog_clear = True
        events = await self.assign_seqs()
        if not events:
            return 0
        try:
            accepted = await self.transport.publish(events)
        except Exception:
            self._backlog_clear = False
            raise
        if accepted < len(events):
            self._backlog_clear = False
        if accepted:
            await self._mark_published(events[accepted - 1].seq)
        return accepted

    async def assign_seqs(self) -> list[LiveEvent]:
        """Give the next committed events their delivery seq, in the order they became visible.

        Only the leader runs this (advisory lock / single process), so max(seq) is stable
        while it runs; the unique index on seq would refuse a second writer anyway.
        """
        async with self.sessions() as s:
            rows = (await s.execute(ASSIGN_SEQS, {"batch": BATCH})).all()
            await s.commit()
        events = [LiveEvent(r.seq, r.topic, r.kind, dict(r.payload or {})) for r in rows]
        return sorted(events, key=lambda e: e.seq)

    async def publish_pending(self) -> int:
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(Event.seq, Event.topic, Event.kind, Event.payload)
                    .where(Event.seq.is_not(None), Event.published.is_(False))
                    .order_by(Event.seq)
                    .limit(BATCH)
                )
            ).all()
        if not rows:
            return 0
        events = [LiveEvent(r.seq, r.topic, r.kind, dict(r.payload or {})) for r in rows]
        accepted = await self.transport.publish(events)
        if accepted:
            await self._mark_published(events[accepted - 1].seq)
        return accepted

    async def _mark_published(self, up_to: int) -> None:
        async with self.sessions() as s:
            await s.execute(
                update(Event)
                .where(Event.published.is_(False), Event.seq <= up_to)
                .values(published=True)
            )
            await s.commit()


# Portable (PostgreSQL, SQLite >= 3.35): number unsequenced events after the current top.
ASSIGN_SEQS = text(
    """
    UPDATE events SET seq = numbered.top + numbered.n
    FROM (
        SELECT e.id AS id,
               row_number() OVER (ORDER BY e.id) AS n,
               (SELECT coalesce(max(seq), 0) FROM events) AS top
        FROM events AS e
        WHERE e.seq IS NULL
        ORDER BY e.id
        LIMIT :batch
    ) AS numbered
    WHERE events.id = numbered.id
    RETURNING events.seq, events.topic, events.kind, events.payload
    """
).columns(
    column("seq", Integer), column("topic", String), column("kind", String), column("payload", JSON)
)


async def current_seq(session_factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_factory() as s:
        return int(await s.scalar(select(func.coalesce(func.max(Event.seq), 0))) or 0)


async def oldest_seq(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.min(Event.seq), 0))) or 0)


async def load_events(
    session: AsyncSession,
    after: int,
    topics: list[str] | None,
    limit: int,
    before: int | None = None,
) -> list[LiveEvent]:
    stmt = select(Event.seq, Event.topic, Event.kind, Event.payload).where(
        Event.seq.is_not(None), Event.seq > after
    )
    if topics is not None:
        stmt = stmt.where(Event.topic.in_(topics))
    if before is not None:
        stmt = stmt.where(Event.seq < before)
    rows = (await session.execute(stmt.order_by(Event.seq).limit(limit))).all()
    return [LiveEvent(r.seq, r.topic, r.kind, dict(r.payload or {})) for r in rows]
