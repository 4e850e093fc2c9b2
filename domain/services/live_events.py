"""Retention of the outbox (the `events` table)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from domain.models import Event
from domain.models.base import utcnow
from domain.uow import UnitOfWork


async def purge_delivered(uow: UnitOfWork, older_than: timedelta) -> int:
    """Delete published events older than the window; unpublished ones are never dropped."""
    result = await uow.session.execute(
        delete(Event).where(Event.published.is_(True), Event.created_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
