"""Unit of work: one transaction per use case, rolled back unless committed.

Audit entries are added inside the same transaction as the change they
describe, so the log can never disagree with the data.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from domain.errors import Conflict
from domain.models import AuditEntry, Event
from domain.permissions import Actor


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        actor: Actor | None = None,
        ip: str = "",
        on_events: Callable[[], None] | None = None,
    ) -> None:
        self._factory = session_factory
        self.actor = actor
        self.ip = ip
        self._session: AsyncSession | None = None
        self._committed = False
        # Called after a commit that wrote events, to wake the live relay now
        # rather than at its next poll.
        self._on_events = on_events
        self._pending_events = 0
        self._audited = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._factory()
        self._committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self._committed:
                # Detach first: a rollback would expire every loaded object, and a
                # read-only use case hands them to templates after the block ends.
                session.expunge_all()
                await session.rollback()
        finally:
            await session.close()
            self._session = None
        if isinstance(exc, StaleDataError):
            # An autoflush inside a query met a row someone else changed first: the same
            # refusal as at commit, whatever statement happened to flush.
            raise Conflict() from None

    async def commit(self) -> None:
        if self._audited:
            # Admin pages (audit log, users, organisations) follow every audited change.
            self.publish("admin:1", "audit.appended")
            self._audited = False
        try:
            await self.session.commit()
        except StaleDataError:
            await self.session.rollback()
            raise Conflict() from None
        self._committed = True
        if self._pending_events and self._on_events is not None:
            self._on_events()
        self._pending_events = 0

    def publish(self, topic: str, kind: str, **payload: Any) -> None:
        """Record an event in this transaction (outbox); it is delivered live after commit."""
        self.session.add(Event(topic=topic, kind=kind, payload=payload))
        self._pending_events += 1

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except StaleDataError:
            raise Conflict() from None

    def audit(
        self,
        action: str,
        object_type: str,
        object_id: object = "",
        summary: str = "",
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        actor = self.actor
        self._audited = True
        self.session.add(
            AuditEntry(
                actor_id=actor.user_id if actor else None,
                actor_name=actor.username if actor else "system",
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                summary=summary[:300],
                before=before,
                after=after,
                ip=self.ip,
            )
        )


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """Plain-data copy of some attributes, for an audit entry's before/after."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value if isinstance(value, str | int | float | bool | None) else str(value)
    return out
