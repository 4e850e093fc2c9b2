"""Read models of the task pages: a unit's board, the assigner's worklist, a street's list,
one task with its timeline.

Every query is bounded by what is open (partial indexes) or by a page/limit, so a page
costs the same with ten thousand tasks as with a million.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from domain.conference.access import acting_units
from domain.enums import AssigneeState, TaskSource, TaskState, UnitKind
from domain.errors import NotFound, PermissionDenied
from domain.models import (
    ExtensionRequest,
    Organization,
    Task,
    TaskAssignee,
    TaskEvent,
    TaskReport,
    Unit,
)
from domain.models.base import utcnow
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.tasks.access import STREET_STAFF, TaskAccess, task_access
from domain.tasks.forms import handler_kinds
from domain.tasks.machine import Action, allowed_actions
from domain.tasks.workcal import calendar_warning, load_calendar
from domain.uow import UnitOfWork

BOARD_LIMIT = 300  # open tasks shown per unit board (a unit with more has a backlog problem)
DONE_LIMIT = 20
DUE_SOON = timedelta(hours=48)
# What waits for the assigner (street office or department) to act.
ASSIGNER_WAITING = (
    TaskState.DRAFTED,
    TaskState.RETURN_REQUESTED,
    TaskState.EXTENSION_REQUESTED,
    TaskState.REPORTED,
    TaskState.REVIEWED,
    TaskState.RATED,
)


@dataclass
class BoardRow:
    task: Task
    assignee: TaskAssignee
    overdue: bool
    due_soon: bool


@dataclass
class UnitBoard:
    unit: Unit
    to_accept: list[BoardRow] = field(default_factory=list)
    in_progress: list[BoardRow] = field(default_factory=list)
    due_soon: list[BoardRow] = field(default_factory=list)
    done: list[BoardRow] = field(default_factory=list)
    truncated: bool = False


@dataclass
class Worklist:
    """The assigner's side: drafts and decisions waiting (returns, extensions, reviews)."""

    unit: Unit
    tasks: list[Task]
    # Handed out and still with the handling units, nearest deadline first.
    out: list[Task] = field(default_factory=list)


@dataclass
class MyTasks:
    boards: list[UnitBoard]
    worklists: list[Worklist]
    street_ids: list[int]  # streets whose full task list this user may open


async def my_tasks(uow: UnitOfWork, actor: Actor, now: datetime | None = None) -> MyTasks:
    now = now or utcnow()
    units = await acting_units(uow, actor)
    boards = await unit_boards(uow, units, now)
    assigners = [u for u in units if u.kind == UnitKind.DEPARTMENT]
    streets = sorted(actor.streets_with(*STREET_STAFF))
    if streets:
        assigners += list(
            await uow.session.scalars(
                select(Unit)
                .where(
                    Unit.street_id.in_(streets),
                    Unit.kind == UnitKind.STREET_OFFICE,
                    Unit.active,
                )
                .order_by(Unit.name)
            )
        )
    worklists = await assigner_worklists(uow, assigners)
    return MyTasks(boards, worklists, streets)


async def unit_boards(uow: UnitOfWork, units: list[Unit], now: datetime) -> list[UnitBoard]:
    """Open and recently finished tasks of each unit: two queries for all units together."""
    if not units:
        return []
    ids = [u.id for u in units]
    boards = {u.id: UnitBoard(u) for u in units}
    open_rows = (
        await uow.session.execute(
            select(TaskAssignee, Task)
            .join(Task, Task.id == TaskAssignee.task_id)
            .where(TaskAssignee.unit_id.in_(ids), TaskAssignee.open)
            .order_by(Task.deadline, Task.id)
            .limit(BOARD_LIMIT * len(ids) + 1)
        )
    ).all()
    for assignee, task in open_rows:
        board = boards[assignee.unit_id]
        row = _row(task, assignee, now)
        if assignee.state in (AssigneeState.PENDING, AssigneeState.RETURN_ASKED):
            board.to_accept.append(row)
        elif row.overdue or row.due_soon:
            board.due_soon.append(row)
        else:
            board.in_progress.append(row)
    for board in boards.values():
        count = len(board.to_accept) + len(board.in_progress) + len(board.due_soon)
        board.truncated = count > BOARD_LIMIT
    # The latest finished ones per unit: a window function keeps it one bounded query.
    ranked = (
        select(
            TaskAssignee.id.label("aid"),
            func.row_number()
            .over(partition_by=TaskAssignee.unit_id, order_by=TaskAssignee.done_at.desc())
            .label("n"),
        )
        .where(TaskAssignee.unit_id.in_(ids), TaskAssignee.done_at.is_not(None))
        .subquery()
    )
    done_rows = (
        await uow.session.execute(
            select(TaskAssignee, Task)
            .join(Task, Task.id == TaskAssignee.task_id)
            .join(ranked, ranked.c.aid == TaskAssignee.id)
            .where(ranked.c.n <= DONE_LIMIT)
            .order_by(TaskAssignee.done_at.desc())
        )
    ).all()
    for assignee, task in done_rows:
        boards[assignee.unit_id].done.append(_row(task, assignee, now))
    return [boards[u.id] for u in units]


def _row(task: Task, assignee: TaskAssignee, now: datetime) -> BoardRow:
    deadline = task.deadline
    overdue = deadline is not None and now >= deadline and task.state != TaskState.REPORTED
    soon = deadline is not None and not overdue and deadline - now <= DUE_SOON
    return BoardRow(task, assignee, overdue, soon and task.state != TaskState.REPORTED)


async def assigner_worklists(uow: UnitOfWork, units: list[Unit]) -> list[Worklist]:
    if not units:
        return []
    tasks = list(
        await uow.session.scalars(
            select(Task)
            .where(
                Task.assigner_unit_id.in_([u.id for u in units]),
                Task.state.in_([s.value for s in ASSIGNER_WAITING]),
            )
            .order_by(Task.updated_at.desc())
            .limit(BOARD_LIMIT)
            .options(selectinload(Task.assignees).selectinload(TaskAssignee.unit))
        )
    )
    waiting_on_handlers = [
        TaskState.ASSIGNED,
        TaskState.ACCEPTED,
        TaskState.IN_PROGRESS,
    ]
    out = list(
        await uow.session.scalars(
            select(Task)
            .where(
                Task.assigner_unit_id.in_([u.id for u in units]),
                Task.state.in_([s.value for s in waiting_on_handlers]),
            )
            .order_by(Task.deadline, Task.id)
            .limit(BOARD_LIMIT)
            .options(selectinload(Task.assignees).selectinload(TaskAssignee.unit))
        )
    )
    return [
        Worklist(
            u,
            [t for t in tasks if t.assigner_unit_id == u.id],
            [t for t in out if t.assigner_unit_id == u.id],
        )
        for u in units
    ]


# A street's full list ------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFilters:
    state: str = ""
    source: str = ""
    unit_id: int | None = None
    q: str = ""
    page: int = 1


@dataclass
class StreetTasks:
    street: Organization
    tasks: list[Task]
    total: int
    page: int
    pages: int
    units: list[Unit]


PAGE_SIZE = 30
MAX_COUNT = 10_000  # beyond this the pager says "10000+": counting a million rows is waste


async def street_tasks(
    uow: UnitOfWork, actor: Actor, street_id: int, filters: TaskFilters
) -> StreetTasks:
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if street is None or street.level != "street":
        raise NotFound("街道不存在。")
    staff = street_id in actor.streets_with(*STREET_STAFF)
    if not (staff or actor.is_admin or street_id in actor.district_street_ids):
        raise PermissionDenied("只有街道书记、督办员和区里可以查看全街道的任务。")
    query = select(Task.id).where(Task.street_id == street_id)
    if filters.state:
        query = query.where(Task.state == filters.state)
    if filters.source:
        query = query.where(Task.source == filters.source)
    if filters.unit_id:
        query = query.where(
            Task.id.in_(select(TaskAssignee.task_id).where(TaskAssignee.unit_id == filters.unit_id))
        )
    if filters.q:
        query = query.where(Task.title.contains(filters.q, autoescape=True))
    total = (
        await uow.session.scalar(
            select(func.count()).select_from(query.limit(MAX_COUNT + 1).subquery())
        )
        or 0
    )
    pages = max(1, (min(total, MAX_COUNT) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, filters.page), pages)
    ids = list(
        await uow.session.scalars(
            query.order_by(Task.assigned_at.desc().nulls_first(), Task.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    tasks = list(
        await uow.session.scalars(
            select(Task)
            .where(Task.id.in_(ids))
            .options(selectinload(Task.assignees).selectinload(TaskAssignee.unit))
        )
    )
    tasks.sort(key=lambda t: ids.index(t.id))
    units = list(
        await uow.session.scalars(
            select(Unit)
            .where(Unit.street_id == street_id, Unit.kind != UnitKind.STREET_OFFICE)
            .order_by(Unit.kind, Unit.name)
        )
    )
    return StreetTasks(street, tasks, total, page, pages, units)


# One task --------------------------------------------------------------------------------


@dataclass
class TaskPage:
    access: TaskAccess
    street: Organization
    events: list[TaskEvent]
    reports: list[TaskReport]
    extensions: list[ExtensionRequest]
    actions: list[Action]
    unit_names: dict[int, str]
    calendar_warning: str | None
    overdue: bool
    # Units in the street the assigner (or the district) may hand the task to instead.
    reassign_candidates: list[Unit]


async def task_page(uow: UnitOfWork, actor: Actor, task_id: int) -> TaskPage:
    access = await task_access(uow, actor, task_id)
    task = access.task
    s = uow.session
    calendar = await load_calendar(uow)
    # A deadline in a year without the official holiday arrangement is provisional.
    warning = calendar_warning(calendar, task.assigned_at, task.deadline)
    street = await s.get(Organization, task.street_id)
    assert street is not None
    events = list(
        await s.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
        )
    )
    reports = list(
        await s.scalars(
            select(TaskReport).where(TaskReport.task_id == task.id).order_by(TaskReport.id)
        )
    )
    extensions = list(
        await s.scalars(
            select(ExtensionRequest)
            .where(ExtensionRequest.task_id == task.id)
            .order_by(ExtensionRequest.id)
        )
    )
    names = {a.unit_id: a.unit.name for a in task.assignees}
    names[task.assigner_unit_id] = task.assigner_unit.name
    candidates: list[Unit] = []
    actions = allowed_actions(access.state, access.parties)
    needs_lead = Action.ASSIGN in actions and access.lead is None
    if needs_lead or {Action.REASSIGN, Action.RULE} & set(actions):
        candidates = list(
            await s.scalars(
                select(Unit)
                .where(
                    Unit.street_id == task.street_id,
                    Unit.active,
                    Unit.kind.in_(handler_kinds(TaskSource(task.source))),
                    Unit.id != task.assigner_unit_id,
                )
                .order_by(Unit.kind, Unit.name)
            )
        )
    now = utcnow()
    overdue = (
        task.deadline is not None
        and now >= task.deadline
        and task.state not in ("reported", "reviewed", "rated", "closed_out", "archived")
    )
    return TaskPage(
        access,
        street,
        events,
        reports,
        extensions,
        actions,
        names,
        warning,
        overdue,
        candidates,
    )
