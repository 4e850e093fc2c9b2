"""The assigner's side after the report: review (审核), rating (评价), closing (销号),
archiving; and comments from anyone on the task."""

from __future__ import annotations

from collections.abc import Mapping

from domain.enums import AssigneeState, Rating, TaskEventKind, TaskState
from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.labels import label
from domain.models import TaskAssignee
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.tasks.access import task_access
from domain.tasks.handoff import move_task, require_action
from domain.tasks.machine import FROZEN_STATES, Action
from domain.tasks.records import current_units, notify_units, publish_task, record, sync_decision
from domain.uow import UnitOfWork


def _reopen_handlers(task_assignees: list[TaskAssignee], state: AssigneeState) -> None:
    for a in task_assignees:
        if a.is_lead and a.state == AssigneeState.REPORTED_PART:
            a.state = state.value


async def review(
    uow: UnitOfWork, actor: Actor, task_id: int, version: int | None, passed: bool, note: str
) -> None:
    access = await task_access(uow, actor, task_id)
    task = access.task
    action = Action.PASS_REVIEW if passed else Action.FAIL_REVIEW
    require_action(access, action, version)
    note = note.strip()
    if not passed and not note:
        raise ValidationFailed({"note": "退回重办时请写明问题和要求。"})
    if len(note) > 1000:
        raise ValidationFailed({"note": "审核意见不超过 1000 字。"})
    now = utcnow()
    if passed:
        task.reviewed_at = now
    else:
        task.rework_count += 1
        task.reported_at = None
        _reopen_handlers(task.assignees, AssigneeState.ACCEPTED_PART)
    move_task(uow, task, action, now, text=note)
    uow.audit(f"task.{action.value}", "task", task.id, note or label(TaskState(task.state)))
    title = f"审核通过：{task.title}" if passed else f"退回重办：{task.title}"
    await notify_units(uow, current_units(task), task, title, note)
    await sync_decision(uow, task)
    publish_task(uow, task)


async def rate(
    uow: UnitOfWork, actor: Actor, task_id: int, version: int | None, raw: Mapping[str, str]
) -> None:
    """Satisfied or basically satisfied: rated. Dissatisfied: back to in progress."""
    access = await task_access(uow, actor, task_id)
    task = access.task
    # Who and when first (both ratings share sources and party); then what was typed.
    require_action(access, Action.RATE, version)
    try:
        rating = Rating(raw.get("rating", ""))
    except ValueError:
        raise ValidationFailed({"rating": "请选择评价：满意、基本满意或不满意。"}) from None
    note = raw.get("note", "").strip()
    if rating is Rating.DISSATISFIED and not note:
        raise ValidationFailed({"note": "评价为不满意时请说明原因。"})
    if len(note) > 1000:
        raise ValidationFailed({"note": "评价意见不超过 1000 字。"})
    action = Action.RATE_DISSATISFIED if rating is Rating.DISSATISFIED else Action.RATE
    require_action(access, action, version)
    now = utcnow()
    task.rating = rating.value
    task.rated_at = now
    if rating is Rating.DISSATISFIED:
        task.rework_count += 1
        task.reported_at = None
        task.reviewed_at = None
        _reopen_handlers(task.assignees, AssigneeState.ACCEPTED_PART)
    move_task(uow, task, action, now, text=note, data={"rating": rating.value})
    uow.audit("task.rate", "task", task.id, f"{label(rating)} {note}")
    await notify_units(uow, current_units(task), task, f"评价{label(rating)}：{task.title}", note)
    await sync_decision(uow, task)
    publish_task(uow, task)


async def close(uow: UnitOfWork, actor: Actor, task_id: int, version: int | None) -> None:
    """销号: the task leaves the clock for good."""
    access = await task_access(uow, actor, task_id)
    task = access.task
    require_action(access, Action.CLOSE, version)
    now = utcnow()
    task.closed_at = now
    move_task(uow, task, Action.CLOSE, now)
    uow.audit("task.close", "task", task.id, task.title)
    await notify_units(uow, current_units(task), task, f"已销号：{task.title}")
    await sync_decision(uow, task)
    publish_task(uow, task)


async def archive(uow: UnitOfWork, actor: Actor, task_id: int, version: int | None) -> None:
    access = await task_access(uow, actor, task_id)
    task = access.task
    require_action(access, Action.ARCHIVE, version)
    now = utcnow()
    task.archived_at = now
    move_task(uow, task, Action.ARCHIVE, now)
    uow.audit("task.archive", "task", task.id, task.title)
    publish_task(uow, task)


async def comment(uow: UnitOfWork, actor: Actor, task_id: int, text: str) -> None:
    """Anyone on the task may leave a comment on its timeline, until it is closed."""
    access = await task_access(uow, actor, task_id)
    task = access.task
    if not access.parties:
        raise PermissionDenied("只有任务的交办方、承办单位可以留言。")
    if TaskState(task.state) in FROZEN_STATES:
        raise Conflict("任务已销号，不能再留言。")
    text = text.strip()
    if not text or len(text) > 1000:
        raise ValidationFailed({"text": "请填写留言（不超过 1000 字）。"})
    now = utcnow()
    unit = next(iter(sorted(access.acting_units)), None)
    record(uow, task, TaskEventKind.COMMENT, action="comment", text=text, unit_id=unit, at=now)
    task.updated_at = now
    publish_task(uow, task)
