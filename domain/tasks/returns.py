"""What a return request (退回) leads to: the assigner reassigns or insists; after an insist,
a second request is a dispute the district rules on (a rule may name the same unit)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from domain.enums import AssigneeRole, AssigneeState, TaskSource, UnitKind
from domain.errors import PermissionDenied, ValidationFailed
from domain.models import Task, TaskAssignee, Unit
from domain.models.base import utcnow
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.services.street_settings import get_settings
from domain.tasks.access import TaskAccess, task_access
from domain.tasks.forms import handler_kinds
from domain.tasks.handoff import _unit, move_task, require_action
from domain.tasks.machine import Action
from domain.tasks.records import notify_units, publish_task
from domain.uow import UnitOfWork


async def reassign(
    uow: UnitOfWork, actor: Actor, task_id: int, version: int, raw: Mapping[str, str]
) -> Task:
    """The assigner gives the task to another lead unit after a return request."""
    access = await task_access(uow, actor, task_id)
    require_action(access, Action.REASSIGN, version)
    return await _change_lead(uow, access, Action.REASSIGN, raw)


async def rule_dispute(
    uow: UnitOfWork, actor: Actor, task_id: int, version: int, raw: Mapping[str, str]
) -> Task:
    """The district decides a disputed return: which unit handles the task."""
    access = await task_access(uow, actor, task_id)
    require_action(access, Action.RULE, version)
    if access.task.escalated_at is None:
        raise PermissionDenied("只有提请区级协调的争议任务由区里裁定。")
    return await _change_lead(uow, access, Action.RULE, raw)


async def _change_lead(
    uow: UnitOfWork, access: TaskAccess, action: Action, raw: Mapping[str, str]
) -> Task:
    task = access.task
    now = utcnow()
    note = raw.get("note", "").strip()[:500]
    new_lead = parse_id(raw.get("lead_unit_id", ""))
    kinds = handler_kinds(TaskSource(task.source))
    candidates = {
        u.id: u
        for u in await uow.session.scalars(
            select(Unit).where(
                Unit.street_id == task.street_id,
                Unit.active,
                Unit.kind.in_(kinds),
                Unit.id != task.assigner_unit_id,
            )
        )
    }
    if new_lead is None or new_lead not in candidates:
        raise ValidationFailed({"lead_unit_id": "请选择新的主办单位。"})
    if candidates[new_lead].kind == UnitKind.COMMUNITY and task.admission_item_id is None:
        task.outside_admission = True
    old = access.lead
    if old is not None and old.unit_id == new_lead:
        # The district may rule that the same unit handles it: that is insisting.
        old.state = AssigneeState.PENDING.value
        old.insisted = True
    else:
        if old is not None:
            old.state = AssigneeState.RELEASED.value
            old.open = False
        existing = next((a for a in task.assignees if a.unit_id == new_lead), None)
        if existing is not None:
            existing.role = AssigneeRole.LEAD.value
            existing.state = AssigneeState.PENDING.value
            existing.open = True
        else:
            row = TaskAssignee(task_id=task.id, unit_id=new_lead, role=AssigneeRole.LEAD.value)
            row.unit = await _unit(uow, new_lead)
            uow.session.add(row)
            task.assignees.append(row)
    settings = await get_settings(uow, task.street_id)
    # The deadline stays (the clock started at assignment); the new lead gets its own
    # acceptance window.
    task.accept_due_at = now + timedelta(hours=settings["accept_limit_hours"])
    task.escalated_at = None
    move_task(uow, task, action, now, text=note, unit_id=new_lead)
    uow.audit(f"task.{action.value}", "task", task.id, note)
    await notify_units(uow, [new_lead], task, f"交办任务：{task.title}", note)
    publish_task(uow, task)
    return task


async def insist(uow: UnitOfWork, actor: Actor, task_id: int, version: int, note: str) -> Task:
    """The assigner keeps the task with the lead unit, saying why."""
    access = await task_access(uow, actor, task_id)
    require_action(access, Action.INSIST, version)
    task = access.task
    note = note.strip()
    if not note or len(note) > 500:
        raise ValidationFailed({"note": "请说明坚持交办的理由（不超过 500 字）。"})
    if task.escalated_at is not None:
        raise PermissionDenied("承办单位已对坚持交办提出异议，须由区里裁定，或改派其他单位。")
    lead = access.lead
    if lead is not None:
        lead.state = AssigneeState.PENDING.value
        lead.insisted = True
    move_task(uow, task, Action.INSIST, utcnow(), text=note, unit_id=lead.unit_id if lead else None)
    uow.audit("task.insist", "task", task.id, note)
    if lead is not None:
        await notify_units(uow, [lead.unit_id], task, f"坚持交办：{task.title}", note)
    publish_task(uow, task)
    return task
