"""Live delivery across two web processes sharing PostgreSQL and Redis, for real.

A change made through process A reaches a websocket client on process B; a
client that was away gets all it missed, in order, none twice; and with Redis
stopped, writes keep working and the changes arrive once Redis is back.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster, RedisServer, User, postgres_database, seq_of
from tests.services import postgres_available, require_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def _collect(ws, count: int, seconds: float) -> list[str]:  # type: ignore[no-untyped-def]
    out: list[str] = []
    deadline = time.monotonic() + seconds
    while len(out) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            out.append(await asyncio.wait_for(ws.recv(), remaining))
        except TimeoutError:
            break
    return out


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Cluster, RedisServer]]:
    require_service("PostgreSQL", postgres_available())
    require_service("redis-server", shutil.which("redis-server") is not None)
    with postgres_database() as database_url:
        redis = RedisServer(tmp_path)
        redis.start()
        web = Cluster(database_url, redis.url, tmp_path)
        try:
            web.start()
            yield web, redis
        finally:
            web.stop()
            redis.stop()


async def test_two_processes_replay_and_redis_outage(cluster: tuple[Cluster, RedisServer]) -> None:
    web, redis = cluster
    a, b = web.bases()
    admin_on_a = User(a, "admin")
    secretary_on_b = User(b, "secretary")
    try:
        await _scenario(admin_on_a, secretary_on_b, redis, b)
    finally:
        admin_on_a.close()
        secretary_on_b.close()


async def _scenario(admin_on_a: User, secretary_on_b: User, redis: RedisServer, b: str) -> None:
    cursor = secretary_on_b.cursor("/units/1")
    ws = await secretary_on_b.connect("unit:1", cursor)

    # A change through A reaches the client on B, rendered, within a second or so.
    started = time.monotonic()
    await asyncio.to_thread(admin_on_a.edit_unit, 1, "新华路 18 号（新址）")
    first = await asyncio.wait_for(ws.recv(), 10)
    latency = time.monotonic() - started
    assert 'id="unit-facts-1"' in first and "新址" in first
    assert latency < 2.0, f"took {latency:.2f}s"
    last = seq_of(first)
    await ws.close()

    # Away for 50 changes: on reconnect all 50 arrive, in order, none twice.
    for i in range(50):
        await asyncio.to_thread(admin_on_a.edit_unit, 1, f"地址 {i + 1}")
    ws = await secretary_on_b.connect("unit:1", last)
    missed = await _collect(ws, 50, 30)
    seqs = [seq_of(m) for m in missed]
    assert len(seqs) == 50
    assert seqs == sorted(seqs) and len(set(seqs)) == 50 and seqs[0] > last
    assert await _collect(ws, 1, 1.5) == []  # nothing more, nothing twice
    assert "地址 50" in missed[-1]

    # Redis stops: writes and pages keep working; delivery resumes when it is back.
    redis.stop()
    for i in range(5):
        await asyncio.to_thread(admin_on_a.edit_unit, 1, f"断线期间 {i + 1}")
    health = await asyncio.to_thread(httpx.get, b + "/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["live"] == "redis"
    page = await asyncio.to_thread(admin_on_a.client.get, "/units/1")
    assert page.status_code == 200
    redis.start()
    resumed = await _collect(ws, 5, 40)
    resumed_seqs = [seq_of(m) for m in resumed]
    assert len(resumed_seqs) == 5, resumed
    assert resumed_seqs == sorted(resumed_seqs) and resumed_seqs[0] > seqs[-1]
    assert "断线期间 5" in resumed[-1]
    await ws.close()
