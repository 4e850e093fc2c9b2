"""Handing a task out: drafting, assigning (交办, 吹哨), and what a return request leads to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from domain.enums import (
    AssigneeRole,
    AssigneeState,
    LimitUnit,
    TaskEventKind,
    TaskSource,
    TaskState,
    UnitKind,
)
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.labels import label
from domain.models import Task, TaskAssignee, Unit
from domain.models.base import utcnow
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.services.street_settings import get_settings
from domain.tasks import machine
from domain.tasks.access import TaskAccess, task_access
from domain.tasks.forms import (
    TaskInput,
    handler_kinds,
    parse_task_input,
    street_office,
    task_form,
)
from domain.tasks.machine import Action
from domain.tasks.records import (
    current_units,
    notify_units,
    publish_task,
    record,
    sync_decision,
)
from domain.tasks.workcal import load_calendar
from domain.uow import UnitOfWork


async def create_task(
    uow: UnitOfWork,
    actor: Actor,
    street_id: int,
    source: TaskSource,
    raw: Mapping[str, str],
    assisting: Sequence[str],
    *,
    assign_now: bool,
) -> Task:
    """A street's assignment or whistle, or a department's handoff to communities."""
    form = await task_form(uow, actor, street_id, source)
    data = parse_task_input(
        raw,
        assisting,
        source,
        {u.id for u in form.handlers},
        {a.id for a in form.admitted},
    )
    by_id = {u.id: u for u in form.handlers}
    task = await _new_task(uow, form.street.id, source, form.assigner, data, by_id)
    record(uow, task, TaskEventKind.TRANSITION, action="create", to_state=TaskState.DRAFTED.value)
    uow.audit("task.create", "task", task.id, f"{label(source)}：{data.title}")
    if assign_now:
        await assign(uow, task, report_minutes=data.report_minutes)
    publish_task(uow, task)
    return task


async def _new_task(
    uow: UnitOfWork,
    street_id: int,
    source: TaskSource,
    assigner: Unit,
    data: TaskInput,
    units: Mapping[int, Unit],
    **extra: object,
) -> Task:
    # A conference decision binds the communities that sat in the conference and agreed to
    # it: the admission catalogue guards against work pushed down without such consent.
    community_assigned = source is not TaskSource.DECISION and any(
        units[u].kind == UnitKind.COMMUNITY for u in [data.lead, *data.assisting] if u in units
    )
    task = Task(
        street_id=street_id,
        source=source.value,
        whistle_kind=data.whistle_kind.value if data.whistle_kind else None,
        title=data.title,
        description=data.description,
        location=data.location,
        assigner_unit_id=assigner.id,
        created_by_id=uow.actor.user_id if uow.actor else None,
        admission_item_id=data.admission_item_id,
        outside_admission=community_assigned and data.admission_item_id is None,
        state=TaskState.DRAFTED.value,
        limit_value=data.limit_value,
        limit_unit=data.limit_unit.value,
        **extra,
    )
    task.assigner_unit = assigner
    uow.session.add(task)
    await uow.flush()
    # Not on any board until assigned (a draft is the assigner's alone).
    rows = [
        TaskAssignee(task_id=task.id, unit_id=data.lead, role=AssigneeRole.LEAD.value, open=False)
    ]
    rows += [
        TaskAssignee(task_id=task.id, unit_id=u, role=AssigneeRole.ASSIST.value, open=False)
        for u in data.assisting
    ]
    uow.session.add_all(rows)
    await uow.flush()
    # Load the collection with its units so that access and publishing can read them.
    await uow.session.refresh(task, ["assignees"])
    for row in task.assignees:
        row.unit = units[row.unit_id] if row.unit_id in units else await _unit(uow, row.unit_id)
    return task


async def _unit(uow: UnitOfWork, unit_id: int) -> Unit:
    unit = await uow.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("单位不存在。")
    return unit


async def assign(
    uow: UnitOfWork, task: Task, now: datetime | None = None, report_minutes: int | None = None
) -> None:
    """drafted → assigned: the clock starts now. A whistle's departments must report in
    (报到) within `report_minutes`; other tasks be accepted within the street's hours."""
    now = now or utcnow()
    machine_check(task, Action.ASSIGN)
    calendar = await load_calendar(uow)
    settings = await get_settings(uow, task.street_id)
    task.assigned_at = now
    task.deadline = calendar.deadline(now, task.limit_value, LimitUnit(task.limit_unit))
    task.original_deadline = task.deadline
    if task.source == TaskSource.WHISTLE and task.whistle_kind is not None:
        minutes = report_minutes or settings["whistle_report_minutes"]
        task.accept_due_at = min(now + timedelta(minutes=minutes), task.deadline)
    else:
        task.accept_due_at = min(
            now + timedelta(hours=settings["accept_limit_hours"]), task.deadline
        )
    move_task(uow, task, Action.ASSIGN, now)
    uow.audit("task.assign", "task", task.id, task.title)
    units = current_units(task)
    verb = "吹哨报到" if task.source == TaskSource.WHISTLE else "交办任务"
    await notify_units(
        uow,
        units,
        task,
        f"{verb}：{task.title}",
        f"请在 {_fmt(task.accept_due_at)} 前签收，{_fmt(task.deadline)} 前办结。",
    )
    await sync_decision(uow, task)


def _fmt(moment: datetime | None) -> str:
    from domain.tasks.calendar import BEIJING

    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def machine_check(
    task: Task, action: Action, parties: frozenset[machine.Party] | None = None
) -> TaskState:
    """Refuse an action from the wrong state (parties are checked by the caller's access)."""
    transition = machine.TRANSITIONS[action]
    return machine.check(
        TaskState(task.state), action, parties if parties is not None else transition.parties
    )


def move_task(
    uow: UnitOfWork,
    task: Task,
    action: Action,
    now: datetime,
    *,
    text: str = "",
    unit_id: int | None = None,
    data: dict[str, object] | None = None,
) -> None:
    before = task.state
    target = machine_check(task, action)
    task.state = target.value
    task.updated_at = now
    record(
        uow,
        task,
        TaskEventKind.TRANSITION,
        action=action.value,
        from_state=before,
        to_state=target.value,
        text=text,
        unit_id=unit_id,
        data=dict(data) if data else None,
        at=now,
    )
    # Boards find open work by this flag and finished work by done_at; both follow the
    # task's state (a dissatisfied rating re-opens the work).
    still_open = target in machine.OPEN_STATES
    for a in task.assignees:
        if a.state == AssigneeState.RELEASED:
            continue
        a.open = still_open
        if still_open:
            a.done_at = None
        elif a.done_at is None:
            a.done_at = now


async def assign_draft(
    uow: UnitOfWork,
    actor: Actor,
    task_id: int,
    version: int,
    raw: Mapping[str, str] | None = None,
    assisting: Sequence[str] = (),
) -> Task:
    """Assign a draft. A draft without handling units (a 12345 work order that came in
    through the API) is dispatched here: the street chooses the lead and assisting units."""
    access = await task_access(uow, actor, task_id)
    require_action(access, Action.ASSIGN, version)
    task = access.task
    if access.lead is None:
        raw = raw or {}
        candidates = {
            u.id: u
            for u in await uow.session.scalars(
                select(Unit).where(
                    Unit.street_id == task.street_id,
                    Unit.active,
                    Unit.kind.in_(handler_kinds(TaskSource(task.source))),
                    Unit.id != task.assigner_unit_id,
                )
            )
        }
        lead = parse_id(raw.get("lead_unit_id", ""))
        if lead is None or lead not in candidates:
            raise ValidationFailed({"lead_unit_id": "请选择主办单位后再交办。"})
        helpers = sorted(
            {i for i in (parse_id(a) for a in assisting) if i in candidates and i != lead}
        )
        rows = [TaskAssignee(task_id=task.id, unit_id=lead, role=AssigneeRole.LEAD.value)]
        rows += [
            TaskAssignee(task_id=task.id, unit_id=h, role=AssigneeRole.ASSIST.value)
            for h in helpers
        ]
        for row in rows:
            row.unit = candidates[row.unit_id]
            uow.session.add(row)
            task.assignees.append(row)
        if any(candidates[r.unit_id].kind == UnitKind.COMMUNITY for r in rows):
            task.outside_admission = task.admission_item_id is None
    await assign(uow, access.task)
    publish_task(uow, access.task)
    return access.task


def require_action(access: TaskAccess, action: Action, version: int | None) -> None:
    """Party and state first (their messages say what is wrong), then the page's version:
    a page older than the task means someone else acted in between."""
    machine.check(access.state, action, access.parties)
    if version is not None and version != access.task.version:
        raise Conflict("该任务已被其他人更新，您看到的内容已过时。请刷新后重试。")


# From a conference decision -------------------------------------------------------------


async def create_from_decision(uow: UnitOfWork, decision_id: int) -> Task:
    """A decided item (议定事项) becomes a task at once: the street office assigns it to the
    lead and assisting units, due at the end of the decided day."""
    from domain.models import Decision
    from domain.tasks.calendar import end_of_day, local_date

    decision = await uow.session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("议定事项不存在。")
    ids = [decision.lead_unit_id] + [int(i) for i in decision.assisting_unit_ids.split(",") if i]
    units = {u.id: u for u in await uow.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    lead = units[decision.lead_unit_id]
    office = await street_office(uow, lead.street_id)
    now = utcnow()
    calendar = await load_calendar(uow)
    days = max(1, calendar.working_days_between(local_date(now), decision.deadline))
    data = TaskInput(
        title=decision.title[:200],
        description=f"联席会议议定事项：{decision.title}",
        location="",
        lead=lead.id,
        assisting=[i for i in ids[1:] if i in units],
        limit_value=days,
        limit_unit=LimitUnit.WORKING_DAYS,
        whistle_kind=None,
        report_minutes=None,
        admission_item_id=None,
    )
    task = await _new_task(
        uow, lead.street_id, TaskSource.DECISION, office, data, units, decision_id=decision.id
    )
    task.created_by_id = decision.created_by_id
    record(uow, task, TaskEventKind.TRANSITION, action="create", to_state=TaskState.DRAFTED.value)
    uow.audit("task.create", "task", task.id, f"{label(TaskSource.DECISION)}：{task.title}")
    await assign(uow, task, now)
    # The conference decided a date: that day's end is the deadline, whatever the count says.
    task.deadline = end_of_day(decision.deadline)
    task.original_deadline = task.deadline
    task.accept_due_at = min(task.accept_due_at or task.deadline, task.deadline)
    publish_task(uow, task)
    return task
