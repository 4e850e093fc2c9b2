"""The hub's ordering, replay hand-over, dedupe, overflow and presence (no I/O)."""

from __future__ import annotations

import pytest

from adapters.live.events import LiveEvent
from adapters.live.hub import Connection, Hub

pytestmark = pytest.mark.asyncio


def make_hub() -> tuple[Hub, list[int]]:
    renders: list[int] = []

    async def render(event: LiveEvent) -> str:
        renders.append(event.seq)
        return f"<m seq={event.seq} topic={event.topic}>"

    def presence(topic: str, viewers: list[tuple[int, str]]) -> str:
        return f"<p {topic} {','.join(n for _, n in viewers)}>"

    return Hub(render, presence), renders


def drain(conn: Connection) -> list[str]:
    out = []
    while not conn.queue.empty():
        out.append(conn.queue.get_nowait())
    return out


def ev(seq: int, topic: str = "street:3") -> LiveEvent:
    return LiveEvent(seq, topic, "street.units_changed", {})


async def test_events_go_only_to_subscribers_of_their_topic_and_render_once() -> None:
    hub, renders = make_hub()
    a = Connection(1, "甲", frozenset({"street:3"}), 0)
    b = Connection(2, "乙", frozenset({"street:3", "user:2"}), 0)
    c = Connection(3, "丙", frozenset({"street:7"}), 0)
    for conn in (a, b, c):
        hub.register(conn)
        conn.finish_replay(0)
    await hub.deliver([ev(1), ev(2, "user:2"), ev(3, "street:9")])
    assert drain(a) == ["<m seq=1 topic=street:3>"]
    assert drain(b) == ["<m seq=1 topic=street:3>", "<m seq=2 topic=user:2>"]
    assert drain(c) == []
    assert renders == [1, 2]  # seq 3 had no subscriber here: not rendered at all
    assert hub.last_seq == 3


async def test_out_of_order_and_duplicate_deliveries_are_sorted_and_dropped() -> None:
    hub, _ = make_hub()
    a = Connection(1, "甲", frozenset({"street:3"}), 0)
    hub.register(a)
    a.finish_replay(0)
    await hub.deliver([ev(2), ev(1)])
    await hub.deliver([ev(2), ev(3)])  # 2 again (republished): ignored
    assert [m.split()[1] for m in drain(a)] == ["seq=1", "seq=2", "seq=3"]


async def test_live_events_during_replay_wait_and_are_not_sent_twice() -> None:
    hub, _ = make_hub()
    a = Connection(1, "甲", frozenset({"street:3"}), last_seq=10)
    hub.register(a)  # replaying: live events are held back
    await hub.deliver([ev(12), ev(13)])
    assert drain(a) == []
    # The replay from the outbox covered up to 12; 13 arrived live meanwhile.
    a.finish_replay(12)
    assert drain(a) == ["<m seq=13 topic=street:3>"]
    await hub.deliver([ev(14)])
    assert drain(a) == ["<m seq=14 topic=street:3>"]
    assert a.last_seq == 14


async def test_slow_client_overflow_is_flagged_not_blocking() -> None:
    hub, _ = make_hub()
    slow = Connection(1, "甲", frozenset({"street:3"}), 0)
    hub.register(slow)
    slow.finish_replay(0)
    capacity = slow.queue.maxsize
    await hub.deliver([ev(i) for i in range(1, capacity + 5)])
    assert slow.overflowed.is_set()
    assert slow.queue.qsize() == capacity


async def test_presence_lists_distinct_viewers_including_other_processes() -> None:
    hub, _ = make_hub()
    a = Connection(1, "张秀兰", frozenset({"unit:1"}), 0, presence_topic="unit:1")
    b = Connection(1, "张秀兰", frozenset({"unit:1"}), 0, presence_topic="unit:1")  # 2nd tab
    c = Connection(2, "王建华", frozenset({"unit:1"}), 0, presence_topic="unit:1")
    for conn in (a, b, c):
        hub.register(conn)
        conn.finish_replay(0)
        await hub.join(conn)
    hub.set_remote_presence("unit:1", [(9, "李红梅")])
    assert hub.viewers("unit:1") == [(1, "张秀兰"), (2, "王建华"), (9, "李红梅")]
    drain(a)
    await hub.leave(c)
    hub.unregister(c)
    assert drain(a)[-1] == "<p unit:1 张秀兰,李红梅>"
