"""What sign-up, check-in and settlement share: loading one date with its activity and the
actor's access, the seat counter, and the live events every change publishes.

Seats are only ever taken or released by a conditional Core UPDATE of
`activity_occurrences.taken` (`taken < capacity`); it does not bump the occurrence's
`version`, so a member signing up never makes an organiser's concurrent edit of the date
fail as stale. Under PostgreSQL's READ COMMITTED the UPDATE waits for a concurrent one on
the same row and re-checks its condition, so concurrent sign-ups can never overfill a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select, update
from sqlalchemy.orm import joinedload, selectinload

from domain.activities.access import ActivityAccess, require_read, resolve
from domain.enums import SignupState
from domain.errors import Conflict, NotFound
from domain.models.activities import Activity, ActivityOccurrence, Signup
from domain.permissions import Actor
from domain.topics import street_topic, user_topic
from domain.uow import UnitOfWork

BEIJING = ZoneInfo("Asia/Shanghai")
ACTIVITY_CHANGED = "activity.changed"
LIVE_STATES = (
    SignupState.PENDING.value,
    SignupState.CONFIRMED.value,
    SignupState.WAITLISTED.value,
)
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


def _table(model: type[object]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


OCCURRENCES = _table(ActivityOccurrence)
SIGNUPS = _table(Signup)


def beijing(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)


def when_text(starts_at: datetime, ends_at: datetime) -> str:
    """`2026年12月4日（周五）14:30–16:30`, in Beijing time."""
    start, end = beijing(starts_at), beijing(ends_at)
    head = f"{start.year}年{start.month}月{start.day}日（周{WEEKDAYS[start.weekday()]}）"
    if start.date() == end.date():
        return f"{head}{start:%H:%M}–{end:%H:%M}"
    return f"{head}{start:%H:%M} 至 {end.month}月{end.day}日 {end:%H:%M}"


@dataclass(frozen=True)
class OccContext:
    """One date, its activity (with hosts) and what the actor may do with it."""

    occ: ActivityOccurrence
    activity: Activity
    access: ActivityAccess

    @property
    def capacity(self) -> int:
        return self.activity.capacity

    @property
    def title(self) -> str:
        return self.activity.title

    @property
    def when(self) -> str:
        return when_text(self.occ.starts_at, self.occ.ends_at)

    @property
    def link(self) -> str:
        return f"/activities/o/{self.occ.id}"


async def load_context(
    uow: UnitOfWork, actor: Actor, occurrence_id: int, *, populate: bool = False
) -> OccContext:
    """The date and its activity, readable by the actor (else 404, never revealing it)."""
    stmt = (
        select(ActivityOccurrence)
        .where(ActivityOccurrence.id == occurrence_id)
        .options(joinedload(ActivityOccurrence.activity).selectinload(Activity.hosts))
    )
    if populate:
        stmt = stmt.execution_options(populate_existing=True)
    occ = await uow.session.scalar(stmt)
    if occ is None:
        raise NotFound("活动场次不存在。")
    return await context_of(uow, actor, occ)


async def context_of(uow: UnitOfWork, actor: Actor, occ: ActivityOccurrence) -> OccContext:
    activity = occ.activity
    hosts = frozenset(h.unit_id for h in activity.hosts)
    access = await resolve(uow, actor, activity, hosts)
    require_read(access)
    return OccContext(occ, activity, access)


async def load_signup(uow: UnitOfWork, signup_id: int) -> Signup:
    signup = await uow.session.scalar(
        select(Signup).where(Signup.id == signup_id).options(selectinload(Signup.user))
    )
    if signup is None:
        raise NotFound("报名记录不存在。")
    return signup


def check_version(obj: Signup | ActivityOccurrence, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise Conflict()


async def take_seat(uow: UnitOfWork, occurrence_id: int, capacity: int) -> bool:
    """Take one seat if one is free (capacity 0: no limit). The only way seats are taken."""
    stmt = update(OCCURRENCES).where(OCCURRENCES.c.id == occurrence_id)
    if capacity > 0:
        stmt = stmt.where(OCCURRENCES.c.taken < capacity)
    result = await uow.session.execute(stmt.values(taken=OCCURRENCES.c.taken + 1))
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def release_seat(uow: UnitOfWork, occurrence_id: int) -> None:
    await uow.session.execute(
        update(OCCURRENCES)
        .where(OCCURRENCES.c.id == occurrence_id, OCCURRENCES.c.taken > 0)
        .values(taken=OCCURRENCES.c.taken - 1)
    )


async def seats_taken(uow: UnitOfWork, occurrence_id: int) -> int:
    return int(
        await uow.session.scalar(
            select(OCCURRENCES.c.taken).where(OCCURRENCES.c.id == occurrence_id)
        )
        or 0
    )


def publish_change(uow: UnitOfWork, ctx: OccContext, *user_ids: int) -> None:
    """`activity.changed` on the street (calendar, date pages) and each person's own topic."""
    uow.publish(street_topic(ctx.occ.street_id), ACTIVITY_CHANGED, occurrence_id=ctx.occ.id)
    for user_id in sorted(set(user_ids)):
        uow.publish(user_topic(user_id), ACTIVITY_CHANGED, occurrence_id=ctx.occ.id)
