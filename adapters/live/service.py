"""Wires hub, transport and relay for the configured mode; one object the app holds."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.live.hub import Hub, PresenceRenderer, Renderer
from adapters.live.relay import Relay, current_seq
from adapters.live.transport import MemoryTransport, RedisTransport


class LiveService:
    def __init__(
        self,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        render: Renderer,
        render_presence: PresenceRenderer,
        redis_url: str | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.hub = Hub(render, render_presence)
        self.sessions = session_factory
        self.transport: MemoryTransport | RedisTransport = (
            RedisTransport(redis_url, self.hub, session_factory)
            if redis_url
            else MemoryTransport(self.hub)
        )
        self.relay = Relay(engine, session_factory, self.transport, poll_seconds=poll_seconds)

    @property
    def backend(self) -> str:
        return self.transport.name

    def wake(self) -> None:
        self.relay.wake()

    async def start(self) -> None:
        # Start from the present: pages rendered from now on carry this cursor.
        self.hub.last_seq = await current_seq(self.sessions)
        await self.transport.start()
        await self.relay.start()

    async def stop(self) -> None:
        await self.relay.stop()
        await self.transport.stop()
