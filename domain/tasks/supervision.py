"""Supervision (督办) driven by the clock: the jobs that apply the rules of
`domain.tasks.supervision_rules` to the database.

- `run_supervision` scans the open tasks (the open-deadline partial index, in
  batches) and issues what is due. A notice is unique per task, level and
  deadline, and inserted with ON CONFLICT DO NOTHING, so a second run — or a
  concurrent one — sends nothing twice; an approved extension moves the deadline
  and so starts a fresh cycle. The task's colour is written with a Core UPDATE,
  never through the ORM object: that would bump the task's version and make a
  user's concurrent action fail as stale.
- `send_digests` sends each unit one summary a day of what waits for it
  (unique unit and day).
- `archive_closed` files tasks closed for a month, as the system.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, func, or_, select, update
from sqlalchemy.orm import selectinload

from domain.enums import (
    AssigneeState,
    LimitUnit,
    NoticeLevel,
    Role,
    TaskEventKind,
    TaskSource,
    TaskState,
    UnitKind,
)
from domain.labels import label
from domain.models import (
    DigestRecord,
    Organization,
    RoleGrant,
    StreetSetting,
    SupervisionNotice,
    Task,
    TaskAssignee,
    TaskEvent,
    Unit,
    User,
)
from domain.models.base import utcnow
from domain.services.notifications import notify
from domain.tasks import machine
from domain.tasks.calendar import WorkCalendar, end_of_day
from domain.tasks.handoff import move_task
from domain.tasks.machine import Action, Party
from domain.tasks.records import TASK_CHANGED, publish_task, task_topic
from domain.tasks.supervision_rules import (
    DUE_SOON_DAYS,
    SEVERITY,
    SUPERVISED_VALUES,
    Rules,
    TaskClock,
    Waiting,
    colour_of,
    digest_day,
    due_levels,
    notice_text,
)
from domain.tasks.workcal import load_calendar
from domain.topics import street_topic, unit_topic
from domain.uow import UnitOfWork

__all__ = [
    "SupervisionRun",
    "archive_closed",
    "digest_day",
    "run_supervision",
    "send_digests",
    "unit_users",
    "waiting_by_unit",
]

L, S = NoticeLevel, TaskState
# The assigner hears of the serious ones; the district of escalations.
ASSIGNER_LEVELS = frozenset({L.RED, L.BULLETIN, L.ESCALATION})
BATCH = 500
TASKS_LINK = "/tasks"


# ---- who hears of it --------------------------------------------------------------------


async def unit_users(uow: UnitOfWork, unit_ids: Iterable[int]) -> dict[int, set[int]]:
    """Active users speaking for each unit: its liaisons; a residents' committee's
    community secretary; a street office's secretary and supervisors. Two queries."""
    ids = sorted(set(unit_ids))
    out: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return out
    s = uow.session
    liaisons = await s.execute(
        select(RoleGrant.unit_id, RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.unit_id.in_(ids),
            RoleGrant.role.in_([Role.UNIT_LIAISON.value, Role.DEPT_LIAISON.value]),
            User.active,
        )
    )
    by_org = await s.execute(
        select(Unit.id, RoleGrant.user_id)
        .join(
            RoleGrant,
            or_(
                (Unit.kind == UnitKind.COMMUNITY.value)
                & (RoleGrant.organization_id == Unit.community_id)
                & (RoleGrant.role == Role.COMMUNITY_SECRETARY.value),
                (Unit.kind == UnitKind.STREET_OFFICE.value)
                & (RoleGrant.organization_id == Unit.street_id)
                & RoleGrant.role.in_([Role.STREET_SECRETARY.value, Role.SUPERVISOR.value]),
            ),
        )
        .join(User, User.id == RoleGrant.user_id)
        .where(Unit.id.in_(ids), User.active)
    )
    for unit_id, user_id in [*liaisons, *by_org]:
        if unit_id is not None:
            out[unit_id].add(user_id)
    return out


async def district_viewers(uow: UnitOfWork, street_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per street, the active viewers of the district above it."""
    ids = sorted(set(street_ids))
    out: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return out
    rows = await uow.session.execute(
        select(Organization.id, RoleGrant.user_id)
        .join(RoleGrant, RoleGrant.organization_id == Organization.parent_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            Organization.id.in_(ids),
            RoleGrant.role == Role.DISTRICT_VIEWER.value,
            User.active,
        )
    )
    for street_id, user_id in rows:
        out[street_id].add(user_id)
    return out


def _insert_ignoring_duplicates(uow: UnitOfWork, table: Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect (PostgreSQL or SQLite)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


# ---- the supervision run ----------------------------------------------------------------


@dataclass
class SupervisionRun:
    scanned: int = 0
    issued: list[tuple[int, NoticeLevel]] = field(default_factory=list)

    @property
    def issued_count(self) -> int:
        return len(self.issued)

    @property
    def task_ids(self) -> set[int]:
        return {task_id for task_id, _ in self.issued}

    def count(self, level: NoticeLevel) -> int:
        return sum(1 for _, lv in self.issued if lv is level)


@dataclass(frozen=True)
class _Row:
    """An open task as the scan reads it (plain columns, no ORM object)."""

    id: int
    street_id: int
    title: str
    source: str
    assigner_unit_id: int
    notice_level: str | None
    clock: TaskClock


_SCAN = select(
    Task.id,
    Task.street_id,
    Task.title,
    Task.source,
    Task.assigner_unit_id,
    Task.notice_level,
    Task.state,
    Task.assigned_at,
    Task.deadline,
    Task.limit_unit,
    Task.accept_due_at,
    Task.progress_percent,
).where(
    Task.state.in_(SUPERVISED_VALUES),
    Task.deadline.is_not(None),
    Task.assigned_at.is_not(None),
)


async def _open_batches(uow: UnitOfWork) -> AsyncIterator[list[_Row]]:
    """Open tasks in (deadline, id) order, a batch at a time (keyset, no OFFSET)."""
    after: tuple[datetime, int] | None = None
    while True:
        stmt = _SCAN
        if after is not None:
            stmt = stmt.where(
                or_(Task.deadline > after[0], (Task.deadline == after[0]) & (Task.id > after[1]))
            )
        rows = (await uow.session.execute(stmt.order_by(Task.deadline, Task.id).limit(BATCH))).all()
        if not rows:
            return
        yield [
            _Row(
                id=r.id,
                street_id=r.street_id,
                title=r.title,
                source=r.source,
                assigner_unit_id=r.assigner_unit_id,
                notice_level=r.notice_level,
                clock=TaskClock(
                    state=TaskState(r.state),
                    assigned_at=r.assigned_at,
                    deadline=r.deadline,
                    limit_unit=LimitUnit(r.limit_unit),
                    accept_due_at=r.accept_due_at,
                    progress_percent=r.progress_percent,
                ),
            )
            for r in rows
        ]
        if len(rows) < BATCH:
            return
        after = (rows[-1].deadline, rows[-1].id)


async def street_rules(uow: UnitOfWork, street_ids: Iterable[int]) -> dict[int, Rules]:
    """Each street's supervision settings, in one query."""
    ids = sorted(set(street_ids))
    stored: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        rows = await uow.session.execute(
            select(StreetSetting.street_id, StreetSetting.key, StreetSetting.value).where(
                StreetSetting.street_id.in_(ids),
                StreetSetting.key.in_(["blue_notice_percent", "bulletin_after_days"]),
            )
        )
        for street_id, key, value in rows:
            stored[street_id][key] = int(value)
    return {sid: Rules.from_settings(stored.get(sid, {})) for sid in ids}


async def run_supervision(uow: UnitOfWork, now: datetime) -> SupervisionRun:
    """Issue every notice now due on open tasks. Idempotent; the caller commits."""
    run = SupervisionRun()
    cal = await load_calendar(uow)
    rules: dict[int, Rules] = {}
    async for batch in _open_batches(uow):
        run.scanned += len(batch)
        missing = {r.street_id for r in batch} - rules.keys()
        rules.update(await street_rules(uow, missing))
        await _supervise_batch(uow, batch, now, cal, rules, run)
    return run


async def _supervise_batch(
    uow: UnitOfWork,
    batch: Sequence[_Row],
    now: datetime,
    cal: WorkCalendar,
    rules: Mapping[int, Rules],
    run: SupervisionRun,
) -> None:
    s = uow.session
    due = {r.id: due_levels(r.clock, now, cal, rules[r.street_id]) for r in batch}
    candidates = [r for r in batch if due[r.id]]
    if not candidates:
        return
    existing = await s.execute(
        select(
            SupervisionNotice.task_id, SupervisionNotice.level, SupervisionNotice.deadline
        ).where(SupervisionNotice.task_id.in_([r.id for r in candidates]))
    )
    held = {(t, lv, dl) for t, lv, dl in existing}
    by_id = {r.id: r for r in candidates}
    values: list[dict[str, Any]] = []
    texts: dict[tuple[int, str], str] = {}
    for r in candidates:
        whistle = r.source == TaskSource.WHISTLE
        for level in due[r.id]:
            if (r.id, level.value, r.clock.deadline) in held:
                continue
            text = notice_text(level, r.clock, now, cal, rules[r.street_id], whistle)
            texts[r.id, level.value] = text
            values.append(
                {
                    "task_id": r.id,
                    "street_id": r.street_id,
                    "level": level.value,
                    "deadline": r.clock.deadline,
                    "issued_at": now,
                    "text": text,
                }
            )
    if not values:
        return
    table = SupervisionNotice.__table__
    assert isinstance(table, Table)
    # A concurrent run may have issued some of these in between: the unique key decides,
    # and only the rows really inserted here are announced.
    inserted = await s.execute(
        _insert_ignoring_duplicates(uow, table)
        .values(values)
        .returning(table.c.task_id, table.c.level)
    )
    new: dict[int, list[NoticeLevel]] = defaultdict(list)
    for task_id, level in inserted:
        new[task_id].append(NoticeLevel(level))
        run.issued.append((task_id, NoticeLevel(level)))
    if new:
        await _announce(uow, [by_id[t] for t in sorted(new)], new, texts, now)


async def _announce(
    uow: UnitOfWork,
    rows: Sequence[_Row],
    new: Mapping[int, list[NoticeLevel]],
    texts: Mapping[tuple[int, str], str],
    now: datetime,
) -> None:
    s = uow.session
    ids = [r.id for r in rows]
    handlers: dict[int, set[int]] = defaultdict(set)
    involved: dict[int, set[int]] = defaultdict(set)
    assignees = await s.execute(
        select(TaskAssignee.task_id, TaskAssignee.unit_id, TaskAssignee.state).where(
            TaskAssignee.task_id.in_(ids)
        )
    )
    for task_id, unit_id, state in assignees:
        involved[task_id].add(unit_id)
        if state not in (AssigneeState.RELEASED, AssigneeState.REFUSED):
            handlers[task_id].add(unit_id)
    serious = [r for r in rows if ASSIGNER_LEVELS & set(new[r.id])]
    users = await unit_users(
        uow,
        {u for us in handlers.values() for u in us} | {r.assigner_unit_id for r in serious},
    )
    escalated = {r.street_id for r in rows if L.ESCALATION in new[r.id]}
    district = await district_viewers(uow, escalated)
    colours: list[dict[str, Any]] = []
    for r in rows:
        levels = sorted(new[r.id], key=SEVERITY.__getitem__)
        for level in levels:
            s.add(
                TaskEvent(
                    task_id=r.id,
                    kind=TaskEventKind.NOTICE.value,
                    action=level.value,
                    text=texts[r.id, level.value],
                    data={"level": level.value, "deadline": r.clock.deadline.isoformat()},
                    at=now,
                )
            )
        top = levels[-1]
        title = f"{label(top)}：{r.title}"
        body = " ".join(texts[r.id, lv.value] for lv in levels)
        link = f"/tasks/{r.id}"
        audience = {u for unit in handlers[r.id] for u in users.get(unit, set())}
        if ASSIGNER_LEVELS & set(levels):
            audience |= users.get(r.assigner_unit_id, set())
        if L.ESCALATION in levels:
            audience |= district.get(r.street_id, set())
        notify(uow, audience, "task", title, body, link)
        colour = colour_of([r.notice_level, *(lv.value for lv in levels)])
        if colour != r.notice_level:
            colours.append({"b_id": r.id, "b_deadline": r.clock.deadline, "b_level": colour})
        _publish(uow, r, involved[r.id])
    if colours:
        table = Task.__table__
        assert isinstance(table, Table)
        # Guarded by the deadline read: an extension approved meanwhile keeps its fresh start.
        # `updated_at` moves (the API's change feed shows the new colour); `version` does not,
        # so a user acting on the task at the same moment is not refused because of the clock.
        await s.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.deadline == bindparam("b_deadline"))
            .values(notice_level=bindparam("b_level"), updated_at=now),
            colours,
        )


def _publish(uow: UnitOfWork, row: _Row, units: Iterable[int]) -> None:
    """The same topics as `records.publish_task`, from the scan's plain rows."""
    uow.publish(task_topic(row.id), TASK_CHANGED, task_id=row.id)
    uow.publish(street_topic(row.street_id), TASK_CHANGED, task_id=row.id)
    for unit_id in sorted(set(units) | {row.assigner_unit_id}):
        uow.publish(unit_topic(unit_id), TASK_CHANGED, task_id=row.id)


# ---- the daily digest -------------------------------------------------------------------


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def waiting_by_unit(uow: UnitOfWork, day: date, now: datetime) -> dict[int, Waiting]:
    """Two grouped queries over open work: the handlers' side and the assigners' side."""
    cal = await load_calendar(uow)
    soon = end_of_day(cal.add_working_days(day, DUE_SOON_DAYS))
    out: dict[int, Waiting] = defaultdict(Waiting)
    handling = await uow.session.execute(
        select(
            TaskAssignee.unit_id,
            _count(TaskAssignee.state == AssigneeState.PENDING.value),
            _count(Task.deadline < now),
            _count((Task.deadline >= now) & (Task.deadline <= soon)),
        )
        .join(Task, Task.id == TaskAssignee.task_id)
        .where(
            TaskAssignee.open.is_(True),
            TaskAssignee.state.in_(
                [AssigneeState.PENDING.value, AssigneeState.ACCEPTED_PART.value]
            ),
            Task.state.in_(SUPERVISED_VALUES),
        )
        .group_by(TaskAssignee.unit_id)
    )
    for unit_id, to_accept, overdue, due_soon in handling:
        w = out[unit_id]
        w.to_accept, w.overdue, w.due_soon = (
            int(to_accept or 0),
            int(overdue or 0),
            int(due_soon or 0),
        )
    deciding = await uow.session.execute(
        select(
            Task.assigner_unit_id,
            _count(Task.state == S.EXTENSION_REQUESTED.value),
            _count(Task.state == S.RETURN_REQUESTED.value),
            _count(Task.state == S.REPORTED.value),
        )
        .where(
            Task.state.in_(
                [S.EXTENSION_REQUESTED.value, S.RETURN_REQUESTED.value, S.REPORTED.value]
            )
        )
        .group_by(Task.assigner_unit_id)
    )
    for unit_id, extensions, returns, reviews in deciding:
        w = out[unit_id]
        w.extensions, w.returns, w.reviews = (
            int(extensions or 0),
            int(returns or 0),
            int(reviews or 0),
        )
    return {u: w for u, w in out.items() if w.total}


async def send_digests(uow: UnitOfWork, day: date, now: datetime | None = None) -> int:
    """One notification a day per unit with waiting work; the number of units sent to.
    The DigestRecord (unique unit and day) makes a second run send nothing."""
    now = now or utcnow()
    waiting = await waiting_by_unit(uow, day, now)
    if not waiting:
        return 0
    table = DigestRecord.__table__
    assert isinstance(table, Table)
    sent: list[int] = []
    units = sorted(waiting)
    for start in range(0, len(units), BATCH):
        chunk = units[start : start + BATCH]
        inserted = await uow.session.execute(
            _insert_ignoring_duplicates(uow, table)
            .values(
                [
                    {"unit_id": u, "day": day, "waiting": waiting[u].total, "sent_at": now}
                    for u in chunk
                ]
            )
            .returning(table.c.unit_id)
        )
        sent += list(inserted.scalars())
    if not sent:
        return 0
    users = await unit_users(uow, sent)
    rows = await uow.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(sent)))
    names = {unit_id: name for unit_id, name in rows}
    for unit_id in sorted(sent):
        w = waiting[unit_id]
        title = f"今日待办（{names.get(unit_id, '')}）：共 {w.total} 件"
        notify(uow, users.get(unit_id, set()), "task", title, w.summary(), TASKS_LINK)
    return len(sent)


# ---- archiving ------------------------------------------------------------------------


async def archive_closed(
    uow: UnitOfWork, now: datetime, after_days: int = 30, limit: int = BATCH
) -> int:
    """File tasks closed (销号) at least `after_days` ago, as the system: up to `limit` per
    call (the job calls again while a full batch came back). The caller commits."""
    cutoff = now - timedelta(days=after_days)
    tasks = list(
        await uow.session.scalars(
            select(Task)
            .where(Task.state == S.CLOSED.value, Task.closed_at <= cutoff)
            .options(selectinload(Task.assignees))
            .order_by(Task.closed_at, Task.id)
            .limit(limit)
        )
    )
    for task in tasks:
        machine.check(TaskState(task.state), Action.ARCHIVE, frozenset({Party.SYSTEM}))
        task.archived_at = now
        move_task(uow, task, Action.ARCHIVE, now, text=f"销号满 {after_days} 天，系统自动归档")
        publish_task(uow, task)
    if tasks:
        uow.audit(
            "task.archive_closed",
            "task",
            "",
            f"自动归档销号满 {after_days} 天的任务 {len(tasks)} 件",
            after={"task_ids": [t.id for t in tasks]},
        )
    return len(tasks)
