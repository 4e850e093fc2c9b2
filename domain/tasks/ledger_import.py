"""Importing street assignments (街道交办) from a spreadsheet: every row is checked with the
new-task form's own rules, and nothing is written unless every row is good.

The file itself is read by the web layer (adapters.tabular); this module takes its header
and rows as text, so that the domain stays free of spreadsheet libraries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from domain.conference.access import users_acting_for
from domain.enums import (
    AssigneeRole,
    AssigneeState,
    LimitUnit,
    TaskEventKind,
    TaskSource,
    TaskState,
    UnitKind,
)
from domain.errors import ValidationFailed
from domain.models import Task, TaskAssignee, Unit
from domain.models.base import utcnow
from domain.parsing import RowError
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.services.street_settings import get_settings
from domain.tasks import machine
from domain.tasks.forms import TaskForm, TaskInput, parse_task_input, task_form
from domain.tasks.handoff import _fmt
from domain.tasks.machine import Action
from domain.tasks.records import TASK_CHANGED, current_units, record, task_link
from domain.tasks.workcal import load_calendar
from domain.topics import street_topic, unit_topic
from domain.uow import UnitOfWork

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024

# Header (a trailing * marks a required column in the template) → what it holds.
COLUMNS = (
    "任务标题",
    "任务内容",
    "地点",
    "主办单位",
    "协办单位",
    "时限数值",
    "时限单位",
    "准入事项",
)
REQUIRED = ("任务标题", "主办单位", "时限数值", "时限单位")
TEMPLATE_HEADERS = [f"{c}*" if c in REQUIRED else c for c in COLUMNS]
# Several assisting units in one cell: 、 or commas (either width), semicolons, new lines.
SEPARATORS = re.compile(r"[、,，;；\n]+")
LIMIT_UNIT_NAMES = {
    "工作日": LimitUnit.WORKING_DAYS,
    "个工作日": LimitUnit.WORKING_DAYS,
    "小时": LimitUnit.HOURS,
    "分钟": LimitUnit.MINUTES,
} | {u.value: u for u in LimitUnit}
# The form's field names → the template's columns.
FIELD_COLUMN = {
    "title": "任务标题",
    "description": "任务内容",
    "location": "地点",
    "lead_unit_id": "主办单位",
    "assisting": "协办单位",
    "limit_value": "时限数值",
    "limit_unit": "时限单位",
    "admission_item_id": "准入事项",
}


class ImportRejected(ValidationFailed):
    """At least one row is bad: nothing was imported. `rows` lists every problem found."""

    def __init__(self, rows: list[RowError]) -> None:
        super().__init__(
            {}, f"导入未执行：发现 {len(rows)} 处错误，所有行均未导入。请修正后重新上传。"
        )
        self.rows = rows


@dataclass(frozen=True)
class ImportResult:
    tasks: list[Task]
    assigned: bool

    @property
    def count(self) -> int:
        return len(self.tasks)


def column_index(headers: Sequence[str]) -> dict[str, int]:
    """Known columns by position; "任务标题*" and "任务标题" are the same column."""
    index: dict[str, int] = {}
    for i, header in enumerate(headers):
        name = header.strip().rstrip("*＊").strip()
        if name in COLUMNS and name not in index:
            index[name] = i
    return index


def _check_headers(headers: Sequence[str]) -> dict[str, int]:
    index = column_index(headers)
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise ImportRejected(
            [RowError(1, "表头", f"缺少必需的列：{'、'.join(missing)}。请使用导入模板。")]
        )
    return index


class _Names:
    """Unit and admission-item names of the street, resolved exactly as written."""

    def __init__(self, uow: UnitOfWork, street_id: int, form: TaskForm) -> None:
        self._uow = uow
        self._street_id = street_id
        self.handlers = {u.name: u for u in form.handlers}
        self.admitted: dict[str, int] = {}
        for item in form.admitted:
            self.admitted.setdefault(item.title, item.id)
        self._all: dict[str, Unit] | None = None

    async def why_not(self, name: str, what: str) -> str:
        """Why a name that is no handler cannot be chosen (one query, on first need)."""
        if self._all is None:
            units = await self._uow.session.scalars(
                select(Unit).where(Unit.street_id == self._street_id)
            )
            self._all = {u.name: u for u in units}
        unit = self._all.get(name)
        if unit is None:
            return f"{what}“{name}”不存在（须与单位名录中本街道的单位全称一致）。"
        if unit.kind == UnitKind.STREET_OFFICE:
            return f"{what}“{name}”是街道办事处，不能作为承办单位。"
        return f"{what}“{name}”已撤销，不能交办。"


def _cell(cells: Sequence[str], index: Mapping[str, int], column: str) -> str:
    i = index.get(column)
    return str(cells[i]).strip() if i is not None and i < len(cells) else ""


async def _check_row(
    row_no: int,
    cells: Sequence[str],
    index: Mapping[str, int],
    names: _Names,
) -> tuple[TaskInput | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append(RowError(row_no, column, message))

    raw = {
        "title": _cell(cells, index, "任务标题"),
        "description": _cell(cells, index, "任务内容"),
        "location": _cell(cells, index, "地点"),
        "limit_value": _cell(cells, index, "时限数值"),
    }
    lead_name = _cell(cells, index, "主办单位")
    lead = names.handlers.get(lead_name)
    if not lead_name:
        fail("主办单位", "请填写主办单位。")
    elif lead is None:
        fail("主办单位", await names.why_not(lead_name, "主办单位"))
    raw["lead_unit_id"] = str(lead.id) if lead else ""
    assisting: list[str] = []
    for name in (n.strip() for n in SEPARATORS.split(_cell(cells, index, "协办单位"))):
        if not name:
            continue
        unit = names.handlers.get(name)
        if unit is None:
            fail("协办单位", await names.why_not(name, "协办单位"))
        else:
            assisting.append(str(unit.id))
    unit_text = _cell(cells, index, "时限单位")
    limit_unit = LIMIT_UNIT_NAMES.get(unit_text)
    if limit_unit is None:
        fail(
            "时限单位",
            f"时限单位“{unit_text}”无法识别，应为工作日、小时或分钟。"
            if unit_text
            else "请填写时限单位（工作日、小时或分钟）。",
        )
    raw["limit_unit"] = limit_unit.value if limit_unit else LimitUnit.WORKING_DAYS.value
    item_title = _cell(cells, index, "准入事项")
    item_id = names.admitted.get(item_title) if item_title else None
    if item_title and item_id is None:
        fail("准入事项", f"准入事项“{item_title}”不在本街道已准入的目录中。")
    raw["admission_item_id"] = str(item_id) if item_id else ""

    allowed = {u.id for u in names.handlers.values()}
    try:
        data = parse_task_input(
            raw, assisting, TaskSource.ASSIGNMENT, allowed, set(names.admitted.values())
        )
    except ValidationFailed as exc:
        reported = {e.column for e in errors}
        if limit_unit is None:
            # Its bounds depend on the unit, which could not be read.
            reported.add("时限数值")
        for field, message in exc.fields.items():
            column = FIELD_COLUMN.get(field, field)
            if column not in reported:
                fail(column, message)
        return None, _in_column_order(errors)
    return (None, _in_column_order(errors)) if errors else (data, errors)


def _in_column_order(errors: list[RowError]) -> list[RowError]:
    """A row's problems from left to right, as the user reads the row."""
    order = {c: i for i, c in enumerate(COLUMNS)}
    return sorted(errors, key=lambda e: order.get(e.column, len(order)))


async def import_tasks(
    uow: UnitOfWork,
    actor: Actor,
    street_id: int,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    assign_now: bool,
    filename: str = "",
) -> ImportResult:
    """Create one street assignment per row, all in the caller's transaction, or none:
    any bad row raises `ImportRejected` with every row's problems."""
    # The form's own permission check: the street's secretary or supervisors only.
    form = await task_form(uow, actor, street_id, TaskSource.ASSIGNMENT)
    index = _check_headers(headers)
    if not rows:
        raise ImportRejected([RowError(2, "", "文件中没有数据行。")])
    if len(rows) > MAX_ROWS:
        raise ImportRejected(
            [
                RowError(
                    0, "文件", f"一次最多导入 {MAX_ROWS} 行（本文件 {len(rows)} 行），请拆分文件。"
                )
            ]
        )
    names = _Names(uow, street_id, form)
    valid: list[TaskInput] = []
    errors: list[RowError] = []
    for offset, cells in enumerate(rows):
        data, problems = await _check_row(offset + 2, cells, index, names)
        errors += problems
        if data is not None:
            valid.append(data)
    if errors:
        raise ImportRejected(errors)

    tasks = await _create(uow, form, valid, assign_now)
    what = "并交办" if assign_now else "（草稿）"
    uow.audit(
        "task.import",
        "organization",
        street_id,
        f"从 {filename or '文件'} 导入 {len(tasks)} 项街道交办任务{what}",
        None,
        {"task_ids": [t.id for t in tasks], "assigned": assign_now},
    )
    _publish(uow, street_id, tasks)
    return ImportResult(tasks, assign_now)


async def _create(
    uow: UnitOfWork, form: TaskForm, rows: Sequence[TaskInput], assign_now: bool
) -> list[Task]:
    """What `handoff.create_task` (with `assign`) does for one task, done for all rows at
    once. Each task is inserted in its final state, in two INSERT batches, with the
    calendar, the settings and each unit's liaisons read once: one by one, 2,000 rows took
    half a minute (a dozen statements per row, then an UPDATE per task and per unit)."""
    now = utcnow()
    units = {u.id: u for u in form.handlers}
    # The same transition table as every other change of state.
    target = machine.check(TaskState.DRAFTED, Action.ASSIGN, frozenset({machine.Party.ASSIGNER}))
    tasks: list[Task] = []
    for data in rows:
        task = Task(
            street_id=form.street.id,
            source=TaskSource.ASSIGNMENT.value,
            title=data.title,
            description=data.description,
            location=data.location,
            assigner_unit_id=form.assigner.id,
            created_by_id=uow.actor.user_id if uow.actor else None,
            admission_item_id=data.admission_item_id,
            # Sent to a community without an admitted matter: 准入外.
            outside_admission=data.admission_item_id is None
            and any(units[u].kind == UnitKind.COMMUNITY for u in [data.lead, *data.assisting]),
            state=TaskState.DRAFTED.value,
            limit_value=data.limit_value,
            limit_unit=data.limit_unit.value,
        )
        task.assigner_unit = form.assigner
        tasks.append(task)
    if assign_now:
        await _start_clocks(uow, form.street.id, tasks, now)
        for task in tasks:
            task.state = target.value
            task.updated_at = now
    uow.session.add_all(tasks)
    await uow.flush()

    handlers: list[list[TaskAssignee]] = []
    for task, data in zip(tasks, rows, strict=True):
        lead = [(data.lead, AssigneeRole.LEAD)]
        own = [
            TaskAssignee(
                task_id=task.id,
                unit_id=unit_id,
                role=role.value,
                state=AssigneeState.PENDING.value,
                # On the handling units' boards once assigned (a draft is the assigner's).
                open=assign_now,
            )
            for unit_id, role in lead + [(u, AssigneeRole.ASSIST) for u in data.assisting]
        ]
        for row in own:
            row.unit = units[row.unit_id]
        handlers.append(own)
    uow.session.add_all([row for own in handlers for row in own])
    await uow.flush()

    for task, own in zip(tasks, handlers, strict=True):
        # The collection as loaded, so that publishing and callers read it without a query.
        set_committed_value(task, "assignees", own)
        draft = TaskState.DRAFTED.value
        record(
            uow,
            task,
            TaskEventKind.TRANSITION,
            action="create",
            to_state=draft,
            text="批量导入",
            at=now,
        )
        if assign_now:
            record(
                uow,
                task,
                TaskEventKind.TRANSITION,
                action=Action.ASSIGN.value,
                from_state=draft,
                to_state=target.value,
                at=now,
            )
    if assign_now:
        await _notify(uow, tasks)
    return tasks


async def _start_clocks(
    uow: UnitOfWork, street_id: int, tasks: Sequence[Task], now: datetime
) -> None:
    """As `handoff.assign`: the clock starts now; acceptance is due within the street's
    hours, never after the deadline."""
    calendar = await load_calendar(uow)
    settings = await get_settings(uow, street_id)
    accept_within = timedelta(hours=settings["accept_limit_hours"])
    for task in tasks:
        task.assigned_at = now
        task.deadline = calendar.deadline(now, task.limit_value, LimitUnit(task.limit_unit))
        task.original_deadline = task.deadline
        task.accept_due_at = min(now + accept_within, task.deadline)


async def _notify(uow: UnitOfWork, tasks: Sequence[Task]) -> None:
    """Each handling unit's liaisons are told of each task, as by the form; who speaks for
    a unit is read once per unit."""
    speakers: dict[int, set[int]] = {}
    for unit_id in sorted({u for t in tasks for u in current_units(t)}):
        speakers[unit_id] = await users_acting_for(uow, [unit_id])
    me = uow.actor.user_id if uow.actor else None
    for task in tasks:
        users = set().union(*(speakers[u] for u in current_units(task))) - {me}
        notify(
            uow,
            users,
            "task",
            f"交办任务：{task.title}",
            f"请在 {_fmt(task.accept_due_at)} 前签收，{_fmt(task.deadline)} 前办结。",
            task_link(task),
        )


def _publish(uow: UnitOfWork, street_id: int, tasks: Sequence[Task]) -> None:
    """One live event per page that follows these tasks, not one per task: the street's
    pages and each involved unit's board re-render once."""
    if not tasks:
        return
    uow.publish(street_topic(street_id), TASK_CHANGED, imported=len(tasks))
    units = sorted({a.unit_id for t in tasks for a in t.assignees} | {tasks[0].assigner_unit_id})
    for unit_id in units:
        uow.publish(unit_topic(unit_id), TASK_CHANGED, imported=len(tasks))
