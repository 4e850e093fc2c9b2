"""Job functions. Each takes arq's `ctx` dict, which holds `session_factory`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from domain.services import auth, live_events
from domain.uow import UnitOfWork

log = logging.getLogger("gongjian.jobs")


async def purge_sessions(ctx: dict[str, Any]) -> int:
    """Delete expired or long-revoked sessions and stale login failures (idempotent)."""
    async with UnitOfWork(ctx["session_factory"]) as uow:
        removed = await auth.purge_expired(uow)
    log.info("purge_sessions removed %d sessions", removed)
    return removed


async def purge_events(ctx: dict[str, Any]) -> int:
    """Drop delivered outbox events older than the replay window (idempotent).

    A page whose cursor is older than what is kept re-renders its live regions
    instead of replaying; notifications themselves live in their own table.
    """
    async with UnitOfWork(ctx["session_factory"]) as uow:
        removed = await live_events.purge_delivered(uow, EVENT_RETENTION)
        await uow.commit()
    log.info("purge_events removed %d events", removed)
    return removed


EVENT_RETENTION = timedelta(days=3)

# name → (function, period in seconds) for the periodic schedule in both runners.
PERIODIC: dict[str, tuple[Any, int]] = {
    "purge_sessions": (purge_sessions, 3600),
    "purge_events": (purge_events, 3600),
}
JOBS = {name: fn for name, (fn, _period) in PERIODIC.items()}
