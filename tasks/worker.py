"""arq worker settings: `gongjian worker` (or `arq tasks.worker.WorkerSettings`)."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings

from adapters.db import make_engine, make_session_factory
from domain.tasks.calendar import BEIJING
from gongjian.config import load_config
from tasks.jobs import (
    JOBS,
    announce_quarterly_feedback,
    archive_closed_tasks,
    draft_monthly_bulletins,
    purge_events,
    purge_sessions,
    send_activity_reminders,
    send_task_digests,
    snapshot_coverage,
    supervise_tasks,
)


async def startup(ctx: dict[str, Any]) -> None:
    config = load_config()
    ctx["engine"] = make_engine(config.database_url)
    ctx["session_factory"] = make_session_factory(ctx["engine"])


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


def redis_settings() -> RedisSettings:
    url = load_config().redis_url
    if not url:
        raise SystemExit(
            "REDIS_URL 未设置：arq worker 需要 Redis。内嵌模式下任务在 web 进程内运行。"
        )
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    functions = list(JOBS.values())
    # Minute 17 of every hour; arq's cron uses a unique job id so several workers run it once.
    cron_jobs = [
        cron(purge_sessions, minute=17, unique=True),  # type: ignore[arg-type]
        cron(purge_events, minute=47, unique=True),  # type: ignore[arg-type]
        # Supervision every five minutes; digests hourly (sent once a day, from 08:00);
        # archiving at night. Hours are Beijing time (`timezone` below).
        cron(supervise_tasks, minute=set(range(0, 60, 5)), unique=True),  # type: ignore[arg-type]
        cron(send_task_digests, minute=3, unique=True),  # type: ignore[arg-type]
        cron(archive_closed_tasks, hour=3, minute=33, unique=True),  # type: ignore[arg-type]
        # Activity reminders (24 h and 1 h before) every five minutes.
        cron(
            send_activity_reminders,  # type: ignore[arg-type]
            minute=set(range(1, 60, 5)),
            unique=True,
        ),
        # The quarterly 双报到 feedback announcement: hourly, acting only in a quarter's first
        # week and once per unit and quarter.
        cron(announce_quarterly_feedback, minute=23, unique=True),  # type: ignore[arg-type]
        # This month's coverage figures for the history charts, once a day after midnight.
        cron(snapshot_coverage, hour=0, minute=41, unique=True),  # type: ignore[arg-type]
        # Last month's bulletins drafted for review, each morning of a month's first week.
        cron(draft_monthly_bulletins, hour=6, minute=7, unique=True),  # type: ignore[arg-type]
    ]
    timezone = BEIJING
    on_startup = startup
    on_shutdown = shutdown
    max_tries = 5

    @classmethod
    def settings(cls) -> dict[str, Any]:
        return {"redis_settings": redis_settings()}
