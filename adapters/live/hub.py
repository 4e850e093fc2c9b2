"""The per-process hub: sockets subscribe to topics; events become rendered fragments.

Each event is rendered once per process and the same text is queued to every
subscriber, so a thousand viewers cost one render. Queues are bounded: a
client that cannot keep up is closed (1013, "try again later"), reconnects
with its last seq and catches up from the outbox.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from adapters.live.events import LiveEvent

log = logging.getLogger("gongjian.live")

Renderer = Callable[[LiveEvent], Awaitable[str]]
PresenceRenderer = Callable[[str, list[tuple[int, str]]], str]
QUEUE_SIZE = 256

_ids = itertools.count(1)


@dataclass(eq=False)
class Connection:
    user_id: int
    display_name: str
    topics: frozenset[str]
    last_seq: int
    presence_topic: str | None = None
    id: int = field(default_factory=lambda: next(_ids))
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)
    # While replaying from the outbox, live events wait here so that order holds.
    replaying: bool = True
    pending: list[tuple[int, str]] = field(default_factory=list)

    def offer(self, seq: int, message: str) -> None:
        if seq <= self.last_seq:
            return  # already sent (replay and live overlap): never twice
        if self.replaying:
            self.pending.append((seq, message))
            return
        self._put(message)
        self.last_seq = seq

    def offer_unsequenced(self, message: str) -> None:
        """Presence and other ephemeral fragments: no seq, no replay."""
        if not self.replaying:
            self._put(message)

    def finish_replay(self, last_seq: int) -> None:
        self.last_seq = max(self.last_seq, last_seq)
        self.replaying = False
        for seq, message in self.pending:
            if seq > self.last_seq:
                self._put(message)
                self.last_seq = seq
        self.pending.clear()

    def _put(self, message: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


class Hub:
    def __init__(self, render: Renderer, render_presence: PresenceRenderer) -> None:
        self.render = render
        self.render_presence = render_presence
        self.last_seq = 0
        self._by_topic: dict[str, set[Connection]] = {}
        self._presence: dict[str, dict[int, tuple[int, str]]] = {}
        self._presence_listener: Callable[[str], Awaitable[None]] | None = None
        self._remote_presence: dict[str, list[tuple[int, str]]] = {}
        self.delivered = 0

    @property
    def connection_count(self) -> int:
        return len({c for conns in self._by_topic.values() for c in conns})

    def register(self, conn: Connection) -> None:
        for topic in conn.topics:
            self._by_topic.setdefault(topic, set()).add(conn)

    def unregister(self, conn: Connection) -> None:
        for topic in conn.topics:
            subs = self._by_topic.get(topic)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self._by_topic[topic]

    def subscribers(self, topic: str) -> set[Connection]:
        return self._by_topic.get(topic, set())

    async def deliver(self, events: list[LiveEvent]) -> None:
        """Deliver events in seq order; each is rendered once, only if someone listens."""
        for event in sorted(events, key=lambda e: e.seq):
            if event.seq <= self.last_seq:
                continue
            subs = self._by_topic.get(event.topic)
            if subs:
                try:
                    message = await self.render(event)
                except Exception:
                    log.exception("rendering %s %s failed", event.kind, event.topic)
                    message = refresh_all_message(event.seq)
                for conn in list(subs):
                    conn.offer(event.seq, message)
                    self.delivered += 1
            self.last_seq = event.seq

    # Presence: who is looking at a topic right now (local, plus other processes via Redis).

    def set_presence_listener(self, listener: Callable[[str], Awaitable[None]]) -> None:
        self._presence_listener = listener

    async def join(self, conn: Connection) -> None:
        if conn.presence_topic is None:
            return
        self._presence.setdefault(conn.presence_topic, {})[conn.id] = (
            conn.user_id,
            conn.display_name,
        )
        await self._presence_changed(conn.presence_topic)

    async def leave(self, conn: Connection) -> None:
        topic = conn.presence_topic
        if topic is None:
            return
        viewers = self._presence.get(topic, {})
        viewers.pop(conn.id, None)
        if not viewers:
            self._presence.pop(topic, None)
        await self._presence_changed(topic)

    def local_presence(self, topic: str) -> list[tuple[int, str]]:
        return list(self._presence.get(topic, {}).values())

    def presence_topics(self) -> list[str]:
        return list(self._presence)

    def set_remote_presence(self, topic: str, viewers: list[tuple[int, str]]) -> None:
        self._remote_presence[topic] = viewers

    def viewers(self, topic: str) -> list[tuple[int, str]]:
        """Distinct users viewing the topic, in a stable order."""
        seen: dict[int, str] = {}
        for user_id, name in self.local_presence(topic) + self._remote_presence.get(topic, []):
            seen.setdefault(user_id, name)
        return sorted(seen.items())

    async def _presence_changed(self, topic: str) -> None:
        if self._presence_listener is not None:
            await self._presence_listener(topic)
        else:
            self.push_presence(topic)

    def push_presence(self, topic: str) -> None:
        message = self.render_presence(topic, self.viewers(topic))
        for conn in list(self._by_topic.get(topic, ())):
            if conn.presence_topic == topic:
                conn.offer_unsequenced(message)


def refresh_all_message(seq: int) -> str:
    """Tell the page to re-render all its live regions (used when replay is impossible)."""
    return (
        f'<div id="live-cursor" hx-swap-oob="true" hidden data-seq="{seq}" data-refresh="*"></div>'
    )
