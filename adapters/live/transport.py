"""Transports from the relay to every process's hub.

`MemoryTransport`: one process (embedded mode); the relay hands events to the hub.

`RedisTransport`: any number of processes. The relay XADDs each event to one
stream with the explicit entry id `<seq>-1`, so a republished event is refused
by Redis rather than duplicated. Every process runs one reader (XREAD BLOCK)
that fans out to its own sockets; a gap in seqs (Redis restarted and lost
entries) is filled from the outbox table. While Redis is down, events wait in
the outbox and the reader retries; delivery resumes by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from typing import Any

from redis import asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.live.events import LiveEvent
from adapters.live.hub import Hub
from adapters.live.relay import load_events

log = logging.getLogger("gongjian.live")

STREAM = "gongjian:events"
WAKE_LIST = "gongjian:relay-wake"
PRESENCE_CHANNEL = "gongjian:presence"
PRESENCE_PREFIX = "gongjian:presence:"
STREAM_MAXLEN = 20_000
PRESENCE_TTL = 45.0


class MemoryTransport:
    name = "memory"

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def publish(self, events: list[LiveEvent]) -> int:
        await self.hub.deliver(events)
        return len(events)

    async def wait_for_wake(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def poke(self) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def healthy(self) -> bool:
        return True


class RedisTransport:
    name = "redis"

    def __init__(
        self, url: str, hub: Hub, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        self.url = url
        self.hub = hub
        self.sessions = session_factory
        self.process_id = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.redis: aioredis.Redis = aioredis.from_url(
            url, socket_connect_timeout=2, health_check_interval=15
        )
        # Blocking reads get their own connection so they never hold up publishes.
        self._wake_redis: aioredis.Redis = aioredis.from_url(url, socket_connect_timeout=2)
        self._tasks: list[asyncio.Task[None]] = []
        self._poke_tasks: set[asyncio.Task[Any]] = set()
        self.reader_failures = 0

    async def start(self) -> None:
        self.hub.set_presence_listener(self._presence_changed)
        self._tasks = [
            asyncio.create_task(self._read_stream(), name="live-redis-reader"),
            asyncio.create_task(self._read_presence(), name="live-redis-presence"),
            asyncio.create_task(self._refresh_presence(), name="live-presence-refresh"),
        ]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for topic in self.hub.presence_topics():
            with contextlib.suppress(Exception):
                await self._write_presence(topic)
        await self.redis.aclose()
        await self._wake_redis.aclose()

    async def healthy(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    # Relay side ---------------------------------------------------------------------------

    async def publish(self, events: list[LiveEvent]) -> int:
        """XADD the batch in one round trip; entry id `<seq>-1` makes a republish a no-op."""
        pipe = self.redis.pipeline(transaction=False)
        for event in events:
            fields = {
                "seq": str(event.seq),
                "topic": event.topic,
                "kind": event.kind,
                "payload": json.dumps(event.payload, ensure_ascii=False),
            }
            pipe.xadd(STREAM, fields, id=f"{event.seq}-1", maxlen=STREAM_MAXLEN, approximate=True)
        results = await pipe.execute(raise_on_error=False)
        accepted = 0
        for result in results:
            # "equal or smaller than the target stream top item": already published.
            if isinstance(result, Exception) and "equal or smaller" not in str(result):
                if accepted == 0:
                    raise result
                break
            accepted += 1
        return accepted

    async def wait_for_wake(self, seconds: float) -> None:
        try:
            woken = await self._wake_redis.blpop([WAKE_LIST], timeout=max(seconds, 0.1))
        except Exception:
            await asyncio.sleep(seconds)
            return
        if woken:
            # Several pokes may be queued; one relay round serves them all. Not awaited:
            # the round should start now.
            self._background(self._wake_redis.delete(WAKE_LIST))

    def poke(self) -> None:
        """Wake the leader relay, which may be in another process."""
        self._background(self._poke())

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._poke_tasks.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Future[Any]) -> None:
        self._poke_tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failed poke only costs the poll interval

    async def _poke(self) -> None:
        await self.redis.rpush(WAKE_LIST, "1")

    # Reader side (every process) ---------------------------------------------------------

    async def _read_stream(self) -> None:
        reader = aioredis.from_url(self.url, socket_connect_timeout=2)
        try:
            while True:
                try:
                    reply = await reader.xread(
                        {STREAM: f"{self.hub.last_seq}-1"}, block=5000, count=500
                    )
                    self.reader_failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.reader_failures += 1
                    if self.reader_failures in (1, 10) or self.reader_failures % 100 == 0:
                        log.warning("live reader: Redis unavailable (%s); retrying", exc)
                    await asyncio.sleep(min(5.0, 0.2 * 2 ** min(self.reader_failures, 5)))
                    continue
                for _stream, entries in reply or []:
                    events = [_decode(fields) for _id, fields in entries]
                    await self._deliver_with_backfill(events)
        finally:
            await reader.aclose()

    async def _deliver_with_backfill(self, events: list[LiveEvent]) -> None:
        if not events:
            return
        first = min(e.seq for e in events)
        if first > self.hub.last_seq + 1 and self.hub.last_seq > 0:
            async with self.sessions() as s:
                missing = await load_events(s, self.hub.last_seq, None, 10_000, before=first)
            events = missing + events
        await self.hub.deliver(events)

    # Presence across processes -----------------------------------------------------------

    async def _write_presence(self, topic: str) -> None:
        key = PRESENCE_PREFIX + topic
        field = self.process_id
        viewers = self.hub.local_presence(topic)
        if viewers:
            value = json.dumps({"until": time.time() + PRESENCE_TTL, "viewers": viewers})
            await self.redis.hset(key, field, value)
            await self.redis.expire(key, int(PRESENCE_TTL * 2))
        else:
            await self.redis.hdel(key, field)

    async def _presence_changed(self, topic: str) -> None:
        try:
            await self._write_presence(topic)
            await self.redis.publish(PRESENCE_CHANNEL, topic)
        except Exception:
            # Redis away: show at least this process's viewers.
            self.hub.push_presence(topic)

    async def _load_remote(self, topic: str) -> None:
        raw = await self.redis.hgetall(PRESENCE_PREFIX + topic)
        now = time.time()
        viewers: list[tuple[int, str]] = []
        for field, value in raw.items():
            if field.decode() == self.process_id:
                continue
            data = json.loads(value)
            if data.get("until", 0) > now:
                viewers.extend((int(u), str(n)) for u, n in data.get("viewers", []))
        self.hub.set_remote_presence(topic, viewers)
        self.hub.push_presence(topic)

    async def _read_presence(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(PRESENCE_CHANNEL)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is None:
                        continue
                    topic = message["data"].decode()
                    if self.hub.subscribers(topic):
                        await self._load_remote(topic)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _refresh_presence(self) -> None:
        """Pub/sub may drop messages: every few seconds rewrite ours and reload others'."""
        while True:
            await asyncio.sleep(PRESENCE_TTL / 3)
            for topic in set(self.hub.presence_topics()):
                with contextlib.suppress(Exception):
                    await self._write_presence(topic)
                    await self._load_remote(topic)


def _decode(fields: dict[bytes, bytes]) -> LiveEvent:
    return LiveEvent(
        seq=int(fields[b"seq"]),
        topic=fields[b"topic"].decode(),
        kind=fields[b"kind"].decode(),
        payload=json.loads(fields[b"payload"]),
    )
