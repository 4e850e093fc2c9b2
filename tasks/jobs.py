"""Job functions. Each takes arq's `ctx` dict, which holds `session_factory`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from domain.activities.reminders import send_reminders
from domain.coverage import history as coverage_history
from domain.dual_report import feedback
from domain.evaluation import bulletin
from domain.models.base import utcnow
from domain.services import auth, live_events
from domain.tasks import supervision
from domain.tasks.calendar import local_date as beijing_date
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


async def supervise_tasks(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Issue the supervision notices now due (督办); idempotent. `now` for tests."""
    async with UnitOfWork(ctx["session_factory"]) as uow:
        run = await supervision.run_supervision(uow, now or utcnow())
        await uow.commit()
    log.info("supervise_tasks scanned %d open tasks, issued %d", run.scanned, run.issued_count)
    return run.issued_count


async def send_task_digests(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Each unit's daily digest of waiting work, once a day from 08:00 Beijing time. Runs
    hourly: the first run after eight sends, the others find the day's records."""
    now = now or utcnow()
    day = supervision.digest_day(now)
    if day is None:
        return 0
    async with UnitOfWork(ctx["session_factory"]) as uow:
        sent = await supervision.send_digests(uow, day, now)
        await uow.commit()
    log.info("send_task_digests sent %d digests for %s", sent, day)
    return sent


async def archive_closed_tasks(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Archive tasks closed (销号) at least 30 days ago, a batch per transaction."""
    now = now or utcnow()
    total = 0
    while True:
        async with UnitOfWork(ctx["session_factory"]) as uow:
            done = await supervision.archive_closed(uow, now)
            await uow.commit()
        total += done
        if done < supervision.BATCH:
            break
    log.info("archive_closed_tasks archived %d tasks", total)
    return total


async def send_activity_reminders(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Remind those signed up 24 h and 1 h before each activity date; idempotent."""
    async with UnitOfWork(ctx["session_factory"]) as uow:
        sent = await send_reminders(uow, now or utcnow())
        await uow.commit()
    log.info("send_activity_reminders sent %d reminders", sent)
    return sent


async def announce_quarterly_feedback(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """In a quarter's first week, tell each employer unit that last quarter's feedback on its
    in-service members (双报到) is ready; once per unit and quarter, so it can run hourly."""
    async with UnitOfWork(ctx["session_factory"]) as uow:
        sent = await feedback.announce_quarterly_feedback(uow, now or utcnow())
        await uow.commit()
    log.info("announce_quarterly_feedback notified %d units", sent)
    return sent


async def snapshot_coverage(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Keep this month's emerging-sector coverage figures for the history charts; the first
    run in a month writes them, later runs find them there (so it can run daily)."""
    month = beijing_date(now or utcnow()).replace(day=1)
    async with UnitOfWork(ctx["session_factory"]) as uow:
        written = await coverage_history.take_snapshots(uow, month)
        await uow.commit()
    log.info("snapshot_coverage wrote %d rows for %s", written, month)
    return written


async def draft_monthly_bulletins(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """In a month's first week, draft last month's bulletin (调度通报) of every street for its
    secretary to review; a street's month is drafted once, so it can run daily."""
    async with UnitOfWork(ctx["session_factory"]) as uow:
        drafted = await bulletin.draft_monthly_bulletins(uow, now or utcnow())
        await uow.commit()
    log.info("draft_monthly_bulletins drafted %d bulletins", drafted)
    return drafted


# name → (function, period in seconds) for the periodic schedule in both runners.
PERIODIC: dict[str, tuple[Any, int]] = {
    "purge_sessions": (purge_sessions, 3600),
    "purge_events": (purge_events, 3600),
    "supervise_tasks": (supervise_tasks, 300),
    "send_task_digests": (send_task_digests, 3600),
    "archive_closed_tasks": (archive_closed_tasks, 86400),
    "send_activity_reminders": (send_activity_reminders, 300),
    "announce_quarterly_feedback": (announce_quarterly_feedback, 3600),
    "snapshot_coverage": (snapshot_coverage, 86400),
    "draft_monthly_bulletins": (draft_monthly_bulletins, 86400),
}
JOBS = {name: fn for name, (fn, _period) in PERIODIC.items()}
