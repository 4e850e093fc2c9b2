"""Job functions. Each takes arq's `ctx` dict, which holds `session_factory`."""

from __future__ import annotations

import logging
from typing import Any

from domain.services import auth
from domain.uow import UnitOfWork

log = logging.getLogger("gongjian.jobs")


async def purge_sessions(ctx: dict[str, Any]) -> int:
    """Delete expired or long-revoked sessions and stale login failures (idempotent)."""
    async with UnitOfWork(ctx["session_factory"]) as uow:
        removed = await auth.purge_expired(uow)
    log.info("purge_sessions removed %d sessions", removed)
    return removed


# name → (function, period in seconds) for the periodic schedule in both runners.
PERIODIC: dict[str, tuple[Any, int]] = {
    "purge_sessions": (purge_sessions, 3600),
}
JOBS = {name: fn for name, (fn, _period) in PERIODIC.items()}
