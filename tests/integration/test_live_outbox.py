"""The outbox and relay on SQLite and PostgreSQL, and the Redis stream transport."""

from __future__ import annotations

import uuid

import pytest
from redis import asyncio as aioredis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.live.events import LiveEvent
from adapters.live.hub import Connection, Hub
from adapters.live.relay import Relay, load_events
from adapters.live.transport import RedisTransport
from domain.errors import ValidationFailed
from domain.models import Event, Unit
from domain.services import units as unit_service
from domain.topics import Topic, authorize_topics
from domain.uow import UnitOfWork
from tests.integration.conftest import load_actor
from tests.services import REDIS_URL, redis_available, require_service


class RecordingTransport:
    name = "recording"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.published: list[LiveEvent] = []

    async def publish(self, events: list[LiveEvent]) -> int:
        if self.fail:
            raise ConnectionError("transport down")
        self.published.extend(events)
        return len(events)

    async def wait_for_wake(self, seconds: float) -> None:
        return None

    def poke(self) -> None:
        return None


async def _clear_events(factory: async_sessionmaker[AsyncSession]) -> None:
    """Start from an empty outbox (loading the demo data wrote an event too)."""
    async with factory() as s:
        await s.execute(delete(Event))
        await s.commit()


async def _events(factory: async_sessionmaker[AsyncSession]) -> list[Event]:
    async with factory() as s:
        return list(await s.scalars(select(Event).order_by(Event.id)))


async def _unit_id(factory: async_sessionmaker[AsyncSession], name: str) -> tuple[int, int]:
    async with factory() as s:
        unit = await s.scalar(select(Unit).where(Unit.name == name))
        assert unit is not None
        return unit.id, unit.version


async def test_a_change_writes_its_events_in_the_same_transaction(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    await _clear_events(demo)
    admin = await load_actor(demo, "admin")
    unit_id, version = await _unit_id(demo, "和平区人民医院")
    raw = {
        "name": "和平区人民医院",
        "kind": "stationed",
        "unit_type": "public_institution",
        "street_id": "3",
        "community_id": "",
        "address": "新址",
    }
    # A use case that fails leaves no events behind.
    with pytest.raises(ValidationFailed):
        async with UnitOfWork(demo, admin) as uow:
            await unit_service.update_unit(uow, admin, unit_id, version, {**raw, "name": ""})
            await uow.commit()
    assert await _events(demo) == []

    woken: list[bool] = []
    async with UnitOfWork(demo, admin, on_events=lambda: woken.append(True)) as uow:
        unit = await unit_service.update_unit(uow, admin, unit_id, version, raw)
        street_id = unit.street_id
        await uow.commit()
    events = await _events(demo)
    assert [(e.topic, e.kind) for e in events] == [
        (f"unit:{unit_id}", "unit.changed"),
        (f"street:{street_id}", "street.units_changed"),
        ("admin:1", "audit.appended"),  # the audit log page follows every audited change
    ]
    assert all(e.seq is None and not e.published for e in events)
    assert woken == [True]  # the relay is woken once, after the commit


async def test_relay_sequences_in_commit_order_and_retries_after_transport_failure(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    await _clear_events(demo)
    async with UnitOfWork(demo) as uow:
        for i in range(5):
            uow.publish(f"street:{i + 1}", "test.event", n=i)
        await uow.commit()
    engine = demo.kw["bind"]
    down = RecordingTransport(fail=True)
    relay = Relay(engine, demo, down)
    with pytest.raises(ConnectionError):
        await relay.run_once()
    events = await _events(demo)
    # Seqs are assigned (and committed) even though publishing failed...
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert not any(e.published for e in events)
    # ...and the retry publishes the same seqs, in order, exactly once.
    up = RecordingTransport()
    relay.transport = up
    assert await relay.run_once() == 5
    assert [(e.seq, e.payload["n"]) for e in up.published] == [(i + 1, i) for i in range(5)]
    assert all(e.published for e in await _events(demo))
    assert await relay.run_once() == 0
    async with UnitOfWork(demo) as uow:
        uow.publish("street:1", "test.event", n=5)
        await uow.commit()
    await relay.run_once()
    assert [e.seq for e in up.published] == [1, 2, 3, 4, 5, 6]
    async with demo() as s:
        replay = await load_events(s, 2, ["street:1", "street:4"], 100)
    assert [(e.seq, e.topic) for e in replay] == [(4, "street:4"), (6, "street:1")]


async def test_unit_topics_are_authorised_by_street(demo: async_sessionmaker[AsyncSession]) -> None:
    secretary = await load_actor(demo, "secretary")
    district = await load_actor(demo, "district")
    member = await load_actor(demo, "member")
    mine, _ = await _unit_id(demo, "和平区人民医院")
    theirs, _ = await _unit_id(demo, "滨江日报社")
    topics = [Topic("unit", mine), Topic("unit", theirs), Topic("unit", 99999)]
    async with UnitOfWork(demo) as uow:
        assert await authorize_topics(uow, secretary, topics) == [Topic("unit", mine)]
        assert await authorize_topics(uow, district, topics) == topics[:2]
        # A party member does not see the unit directory at all.
        assert await authorize_topics(uow, member, topics) == []


async def test_redis_transport_publishes_once_and_backfills_gaps(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    require_service("Redis", redis_available())
    import adapters.live.transport as transport_module

    stream = f"gongjian:test:{uuid.uuid4().hex[:8]}"
    original = transport_module.STREAM
    transport_module.STREAM = stream

    async def render(event: LiveEvent) -> str:
        return f"seq={event.seq}"

    hub = Hub(render, lambda topic, viewers: "")
    transport = RedisTransport(REDIS_URL, hub, demo)
    client = aioredis.from_url(REDIS_URL)
    try:
        events = [LiveEvent(i, "street:3", "x", {"i": i}) for i in (1, 2, 3)]
        assert await transport.publish(events) == 3
        assert await transport.publish(events[1:]) == 2  # republish: accepted, not duplicated
        entries = await client.xrange(stream)
        assert [e[0] for e in entries] == [b"1-1", b"2-1", b"3-1"]

        # A reader that saw seq 1 and then receives seq 5 fills 2..4 from the outbox.
        await _clear_events(demo)
        async with UnitOfWork(demo) as uow:
            for i in range(5):
                uow.publish("street:3", "x", i=i)
            await uow.commit()
        await Relay(demo.kw["bind"], demo, RecordingTransport()).assign_seqs()
        conn = Connection(1, "甲", frozenset({"street:3"}), 0)
        hub.register(conn)
        conn.finish_replay(0)
        hub.last_seq = 1
        await transport._deliver_with_backfill([LiveEvent(5, "street:3", "x", {})])
        got = [conn.queue.get_nowait() for _ in range(conn.queue.qsize())]
        assert got == ["seq=2", "seq=3", "seq=4", "seq=5"]
    finally:
        transport_module.STREAM = original
        await client.delete(stream)
        await client.aclose()
        await transport.redis.aclose()
        await transport._wake_redis.aclose()


async def test_purge_keeps_recent_and_undelivered_events(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    from datetime import timedelta

    from domain.models.base import utcnow
    from tasks.jobs import purge_events

    await _clear_events(demo)
    old = utcnow() - timedelta(days=10)
    async with demo() as s:
        s.add_all(
            [
                Event(
                    seq=1, published=True, topic="street:3", kind="x", payload={}, created_at=old
                ),
                Event(
                    seq=2, published=False, topic="street:3", kind="x", payload={}, created_at=old
                ),
                Event(seq=3, published=True, topic="street:3", kind="x", payload={}),
            ]
        )
        await s.commit()
    assert await purge_events({"session_factory": demo}) == 1
    assert await purge_events({"session_factory": demo}) == 0  # idempotent
    assert [e.seq for e in await _events(demo)] == [2, 3]
