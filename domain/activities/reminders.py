"""Reminders before an activity: 24 hours and 1 hour before each date, to everyone confirmed.

The job runs every few minutes. A date of an announced activity, still scheduled, whose
start falls in (now, now + 24 h] gets its "24h" reminder, and in (now, now + 1 h] its
"1h" one; a date that is already within the hour gets only the "1h" reminder. The key
(occurrence, user, kind) of `ActivityReminder` makes it idempotent: the rows are inserted
with ON CONFLICT DO NOTHING and only the rows really inserted here are notified, so a
second run — or a concurrent one — sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select

from domain.activities.signup_base import when_text
from domain.enums import ActivityState, OccurrenceState, SignupState
from domain.models.activities import Activity, ActivityOccurrence, ActivityReminder, Signup
from domain.services.notifications import notify
from domain.uow import UnitOfWork

DAY, HOUR = timedelta(hours=24), timedelta(hours=1)
TEXTS = {"24h": "明天", "1h": "1 小时后"}


def _insert_ignoring_duplicates(uow: UnitOfWork, table: Table) -> Any:
    if uow.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def kind_for(starts_at: datetime, now: datetime) -> str | None:
    if now < starts_at <= now + HOUR:
        return "1h"
    if now < starts_at <= now + DAY:
        return "24h"
    return None


async def send_reminders(uow: UnitOfWork, now: datetime) -> int:
    """Send what is due now; returns how many reminders were sent."""
    s = uow.session
    rows = await s.execute(
        select(
            Signup.user_id,
            ActivityOccurrence.id,
            ActivityOccurrence.starts_at,
            ActivityOccurrence.ends_at,
            Activity.title,
            Activity.venue,
        )
        .join(ActivityOccurrence, ActivityOccurrence.id == Signup.occurrence_id)
        .join(Activity, Activity.id == ActivityOccurrence.activity_id)
        .where(
            ActivityOccurrence.state == OccurrenceState.SCHEDULED.value,
            ActivityOccurrence.starts_at > now,
            ActivityOccurrence.starts_at <= now + DAY,
            Activity.state == ActivityState.ANNOUNCED.value,
            Signup.state == SignupState.CONFIRMED.value,
        )
        .order_by(ActivityOccurrence.id, Signup.user_id)
    )
    values: list[dict[str, Any]] = []
    facts: dict[int, tuple[datetime, datetime, str, str]] = {}
    for user_id, occ_id, starts, ends, title, venue in rows:
        kind = kind_for(starts, now)
        if kind is None:
            continue
        values.append({"occurrence_id": occ_id, "user_id": user_id, "kind": kind, "sent_at": now})
        facts[occ_id] = (starts, ends, title, venue)
    if not values:
        return 0
    table = ActivityReminder.__table__
    assert isinstance(table, Table)
    inserted = await s.execute(
        _insert_ignoring_duplicates(uow, table)
        .values(values)
        .returning(table.c.occurrence_id, table.c.user_id, table.c.kind)
    )
    sent = 0
    for occ_id, user_id, kind in inserted:
        starts, ends, title, venue = facts[occ_id]
        where = f"，地点：{venue}" if venue else ""
        notify(
            uow,
            [user_id],
            f"activity.reminder_{kind}",
            f"活动提醒：「{title}」{TEXTS[kind]}开始",
            f"{when_text(starts, ends)}{where}。",
            f"/activities/o/{occ_id}",
        )
        sent += 1
    return sent
