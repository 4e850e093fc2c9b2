"""The task ledger (任务台账): a street's tasks in a period, with their handling units and
their timeline, as plain rows for a spreadsheet.

The query count is bounded whatever the size of the ledger: one query for the tasks, then
per batch of task ids one for the handling units and one for the timeline. The import of
tasks from a spreadsheet lives in `domain.tasks.ledger_import` (re-exported here).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select

from domain.enums import (
    AssigneeRole,
    AssigneeState,
    OrgLevel,
    Role,
    TaskSource,
    TaskState,
    UnitKind,
)
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.labels import label
from domain.models import Organization, Task, TaskAssignee, TaskEvent, Unit
from domain.models.base import utcnow
from domain.parsing import RowError, is_row_id, parse_id
from domain.permissions import Actor
from domain.tasks.access import STREET_STAFF
from domain.tasks.calendar import BEIJING
from domain.tasks.ledger_import import ImportRejected, ImportResult, import_tasks
from domain.tasks.machine import FINISHED_STATES, OPEN_STATES, TRANSITIONS, Action
from domain.uow import UnitOfWork

__all__ = [
    "MAX_LEDGER_TASKS",
    "ImportRejected",
    "ImportResult",
    "LedgerEvent",
    "LedgerFilters",
    "LedgerRow",
    "RowError",
    "import_tasks",
    "ledger_rows",
    "ledger_street",
]

# A street hands out a few thousand tasks a year; beyond this the period must be narrowed
# (the spreadsheet is built in memory).
MAX_LEDGER_TASKS = 20_000
# Ids per IN (...) list: far below SQLite's and asyncpg's bound-parameter limits.
BATCH = 500

# Timeline actions that are not transitions of the task itself.
ACTION_TEXT = {
    "create": "创建",
    "accept": "签收",
    "progress": "进度反馈",
    "result": "办结反馈",
    "comment": "留言",
}


@dataclass(frozen=True)
class LedgerFilters:
    """What part of the ledger to export. Dates are Beijing days, both ends included."""

    start: date
    end: date
    source: TaskSource | None = None
    state: TaskState | None = None
    unit_id: int | None = None  # a handling unit (e.g. one department)

    @property
    def period_label(self) -> str:
        """For titles and file names: "2026", or "20260101-20260630"."""
        year = self.start.year
        if (self.start, self.end) == (date(year, 1, 1), date(year, 12, 31)):
            return str(year)
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    @classmethod
    def this_year(cls, today: date | None = None) -> LedgerFilters:
        year = (today or datetime.now(BEIJING).date()).year
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def parse(cls, raw: Mapping[str, str], today: date | None = None) -> LedgerFilters:
        """From query parameters: `year`, or `from`/`to` (YYYY-MM-DD); `source`, `state`,
        `unit`. Empty means no filter; a value that cannot be read is refused."""
        errors: dict[str, str] = {}
        default = cls.this_year(today)
        start, end = default.start, default.end
        year_text = raw.get("year", "").strip()
        if year_text:
            year = parse_id(year_text)
            if year is None or not 2000 <= year <= 2100:
                errors["year"] = "年份须为 2000–2100 之间的数字。"
            else:
                start, end = date(year, 1, 1), date(year, 12, 31)
        for key in ("from", "to"):
            text = raw.get(key, "").strip()
            if not text:
                continue
            try:
                day = date.fromisoformat(text)
            except ValueError:
                errors[key] = "日期格式应为 YYYY-MM-DD。"
                continue
            if key == "from":
                start = day
            else:
                end = day
        if not errors and end < start:
            errors["to"] = "结束日期不能早于开始日期。"
        elif not errors and (end - start).days > 366 * 5:
            errors["to"] = "一次最多导出 5 年的台账。"
        source = _enum(TaskSource, raw.get("source", ""), "source", "任务来源", errors)
        state = _enum(TaskState, raw.get("state", ""), "state", "任务状态", errors)
        unit_text = raw.get("unit", "").strip()
        unit_id = parse_id(unit_text) if unit_text else None
        if unit_text and unit_id is None:
            errors["unit"] = "承办单位参数有误。"
        if errors:
            raise ValidationFailed(errors, "；".join(errors.values()))
        return cls(start, end, source, state, unit_id)


E = TypeVar("E", TaskSource, TaskState)


def _enum(enum: type[E], text: str, key: str, what: str, errors: dict[str, str]) -> E | None:
    text = text.strip()
    if not text:
        return None
    try:
        return enum(text)
    except ValueError:
        errors[key] = f"{what}参数有误。"
        return None


@dataclass(frozen=True)
class LedgerEvent:
    """One line of a task's timeline (办理记录)."""

    ref: str
    at: datetime
    actor: str
    unit: str
    action: str
    from_state: str
    to_state: str
    text: str


@dataclass(frozen=True)
class LedgerRow:
    """One task of the ledger, with Chinese labels already chosen and times as moments."""

    task_id: int
    ref: str
    source: str
    whistle_kind: str
    title: str
    description: str
    location: str
    assigner: str
    lead: str
    assisting: tuple[str, ...]
    assigned_at: datetime | None
    accepted_at: datetime | None
    limit_text: str  # "5个工作日"
    deadline: datetime | None
    reported_at: datetime | None
    state: str
    overdue: bool
    return_count: int
    rework_count: int
    rating: str
    notice_level: str
    events: tuple[LedgerEvent, ...] = field(default=())


# Who reads what -------------------------------------------------------------------------


async def ledger_street(uow: UnitOfWork, actor: Actor, street_id: int) -> Organization:
    """The street, when this actor may read at least part of its ledger."""
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if street is None or street.level != OrgLevel.STREET:
        raise NotFound("街道不存在。")
    if _sees_whole_street(actor, street_id):
        return street
    if not await _own_units(uow, actor, street_id):
        raise PermissionDenied("您无权查看该街道的任务台账。")
    return street


def _sees_whole_street(actor: Actor, street_id: int) -> bool:
    return (
        actor.is_admin
        or street_id in actor.streets_with(*STREET_STAFF)
        or street_id in actor.district_street_ids
    )


async def _own_units(uow: UnitOfWork, actor: Actor, street_id: int) -> set[int]:
    """Units of this street the actor speaks for: as liaison, or as community secretary
    for the community's residents' committee."""
    liaison = actor.unit_ids_with(Role.UNIT_LIAISON, Role.DEPT_LIAISON)
    communities = actor.org_ids_with(Role.COMMUNITY_SECRETARY)
    if not liaison and not communities:
        return set()
    conditions: list[ColumnElement[bool]] = []
    if liaison:
        conditions.append(Unit.id.in_(liaison))
    if communities:
        conditions.append(
            and_(Unit.kind == UnitKind.COMMUNITY.value, Unit.community_id.in_(communities))
        )
    rows = await uow.session.scalars(
        select(Unit.id).where(Unit.street_id == street_id, or_(*conditions))
    )
    return set(rows)


# Reading ---------------------------------------------------------------------------------


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def _task_query(
    street_id: int, filters: LedgerFilters, units: set[int] | None
) -> Select[Task, str]:
    start, stop = _moment(filters.start), _moment(filters.end + timedelta(days=1))
    stmt = (
        select(Task, Unit.name)
        .join(Unit, Unit.id == Task.assigner_unit_id)
        .where(Task.street_id == street_id)
    )
    if filters.state is TaskState.DRAFTED:
        # A draft has not been handed out: its period is when it was written.
        stmt = stmt.where(
            Task.state == TaskState.DRAFTED.value,
            Task.created_at >= start,
            Task.created_at < stop,
        )
    else:
        # The ledger records what was handed out, by the day it was (ix_tasks_street_assigned).
        stmt = stmt.where(Task.assigned_at >= start, Task.assigned_at < stop)
        if filters.state is not None:
            stmt = stmt.where(Task.state == filters.state.value)
    if filters.source is not None:
        stmt = stmt.where(Task.source == filters.source.value)
    if filters.unit_id is not None:
        stmt = stmt.where(_handled_by({filters.unit_id}))
    if units is not None:
        stmt = stmt.where(or_(Task.assigner_unit_id.in_(units), _handled_by(units)))
    return stmt.order_by(Task.assigned_at, Task.id)


def _handled_by(units: set[int]) -> ColumnElement[bool]:
    return exists().where(TaskAssignee.task_id == Task.id, TaskAssignee.unit_id.in_(units))


async def ledger_rows(
    uow: UnitOfWork,
    actor: Actor,
    street_id: int,
    filters: LedgerFilters,
    now: datetime | None = None,
) -> list[LedgerRow]:
    """The ledger rows this actor may read: the whole street for its secretary and
    supervisors, the district above it and admins; for a liaison (or a community
    secretary), the tasks its unit handles or handed out."""
    await ledger_street(uow, actor, street_id)
    units = (
        None if _sees_whole_street(actor, street_id) else await _own_units(uow, actor, street_id)
    )
    stmt = _task_query(street_id, filters, units).limit(MAX_LEDGER_TASKS + 1)
    found = (await uow.session.execute(stmt)).all()
    if len(found) > MAX_LEDGER_TASKS:
        raise ValidationFailed(
            {}, f"所选期间的任务超过 {MAX_LEDGER_TASKS} 项，请缩短期间或加上筛选条件后再导出。"
        )
    now = now or utcnow()
    rows: list[LedgerRow] = []
    for offset in range(0, len(found), BATCH):
        batch = found[offset : offset + BATCH]
        ids = [task.id for task, _ in batch]
        handlers = await _handlers(uow, ids)
        events = await _events(uow, ids)
        for task, assigner in batch:
            lead, assisting = handlers.get(task.id, ("", ()))
            rows.append(_row(task, assigner, lead, assisting, events.get(task.id, []), now))
    return rows


async def _handlers(
    uow: UnitOfWork, task_ids: Sequence[int]
) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Current lead and assisting units of each task (a released unit no longer handles it)."""
    result = await uow.session.execute(
        select(TaskAssignee.task_id, TaskAssignee.role, Unit.name)
        .join(Unit, Unit.id == TaskAssignee.unit_id)
        .where(
            TaskAssignee.task_id.in_(task_ids),
            TaskAssignee.state != AssigneeState.RELEASED.value,
        )
        .order_by(TaskAssignee.task_id, TaskAssignee.id)
    )
    leads: dict[int, str] = {}
    assists: dict[int, list[str]] = defaultdict(list)
    for task_id, role, name in result:
        if role == AssigneeRole.LEAD.value:
            leads[task_id] = name
        else:
            assists[task_id].append(name)
    return {t: (leads.get(t, ""), tuple(assists.get(t, []))) for t in set(leads) | set(assists)}


async def _events(
    uow: UnitOfWork, task_ids: Sequence[int]
) -> dict[int, list[tuple[TaskEvent, str]]]:
    """Each task's timeline, oldest first, with the name of the unit an entry is about."""
    result = await uow.session.execute(
        select(TaskEvent, Unit.name)
        .outerjoin(Unit, Unit.id == TaskEvent.unit_id)
        .where(TaskEvent.task_id.in_(task_ids))
        .order_by(TaskEvent.task_id, TaskEvent.id)
    )
    by_task: dict[int, list[tuple[TaskEvent, str]]] = defaultdict(list)
    for event, unit_name in result:
        by_task[event.task_id].append((event, unit_name or ""))
    return by_task


def action_text(kind: str, action: str) -> str:
    """What happened, in Chinese: a transition's verb, or what a timeline entry records."""
    if action in ACTION_TEXT:
        return ACTION_TEXT[action]
    try:
        return TRANSITIONS[Action(action)].verb
    except ValueError:
        pass
    if action and label(action) != action:
        return label(action)
    return label(kind)


def is_overdue(task: Task, now: datetime) -> bool:
    """Reported after the deadline, or still open past it."""
    if task.deadline is None:
        return False
    state = TaskState(task.state)
    moment = task.reported_at
    if moment is None:
        if state in OPEN_STATES:
            moment = now
        elif state in FINISHED_STATES:
            moment = task.reviewed_at or task.closed_at
    return moment is not None and moment > task.deadline


def _row(
    task: Task,
    assigner: str,
    lead: str,
    assisting: tuple[str, ...],
    events: list[tuple[TaskEvent, str]],
    now: datetime,
) -> LedgerRow:
    ref = task.ref
    timeline = tuple(
        LedgerEvent(
            ref=ref,
            at=e.at,
            actor=e.actor_name,
            unit=unit,
            action=action_text(e.kind, e.action),
            from_state=label(e.from_state),
            to_state=label(e.to_state),
            text=e.text,
        )
        for e, unit in events
    )
    return LedgerRow(
        task_id=task.id,
        ref=ref,
        source=label(task.source),
        whistle_kind=label(task.whistle_kind),
        title=task.title,
        description=task.description,
        location=task.location,
        assigner=assigner,
        lead=lead,
        assisting=assisting,
        assigned_at=task.assigned_at,
        accepted_at=task.accepted_at,
        limit_text=f"{task.limit_value}{label(task.limit_unit)}",
        deadline=task.deadline,
        reported_at=task.reported_at,
        state=label(task.state),
        overdue=is_overdue(task, now),
        return_count=task.return_count,
        rework_count=task.rework_count,
        rating=label(task.rating),
        notice_level=label(task.notice_level),
        events=timeline,
    )
