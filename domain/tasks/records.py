"""What every task change leaves behind: a timeline entry, live events, notifications."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from domain.conference.access import users_acting_for
from domain.enums import AssigneeState, FollowState, Role, TaskEventKind, TaskState, UnitKind
from domain.models import Decision, RoleGrant, Task, TaskEvent, Unit, User
from domain.models.base import utcnow
from domain.services.notifications import notify
from domain.topics import street_topic, unit_topic
from domain.uow import UnitOfWork

TASK_CHANGED = "task.changed"


def task_topic(task_id: int) -> str:
    return f"task:{task_id}"


def task_link(task: Task) -> str:
    return f"/tasks/{task.id}"


def record(
    uow: UnitOfWork,
    task: Task,
    kind: TaskEventKind,
    *,
    action: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
    text: str = "",
    unit_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TaskEvent:
    actor = uow.actor
    event = TaskEvent(
        task_id=task.id,
        kind=kind.value,
        action=action,
        actor_id=actor.user_id if actor else None,
        actor_name=actor.display_name if actor else "系统",
        unit_id=unit_id,
        from_state=from_state,
        to_state=to_state,
        text=text,
        data=data,
    )
    # Taken now, not at flush: the timeline's moments follow the order of its events.
    event.at = at or utcnow()
    uow.session.add(event)
    return event


def unit_ids(task: Task) -> set[int]:
    """Units whose boards show this task: its handlers (even released ones) and the assigner."""
    return {a.unit_id for a in task.assignees} | {task.assigner_unit_id}


def publish_task(uow: UnitOfWork, task: Task) -> None:
    """Task page, the street's supervision pages and every involved unit's board follow."""
    uow.publish(task_topic(task.id), TASK_CHANGED, task_id=task.id)
    uow.publish(street_topic(task.street_id), TASK_CHANGED, task_id=task.id)
    for unit_id in sorted(unit_ids(task)):
        uow.publish(unit_topic(unit_id), TASK_CHANGED, task_id=task.id)


async def users_for_units(uow: UnitOfWork, units: Iterable[int]) -> set[int]:
    """Who speaks for these units: liaisons and community secretaries, and for a street
    office (the assigner of the street's tasks) the street's secretaries and supervisors."""
    ids = set(units)
    users = await users_acting_for(uow, ids)
    streets = set(
        await uow.session.scalars(
            select(Unit.street_id).where(
                Unit.id.in_(ids), Unit.kind == UnitKind.STREET_OFFICE.value
            )
        )
    )
    if streets:
        users |= set(
            await uow.session.scalars(
                select(RoleGrant.user_id)
                .join(User, User.id == RoleGrant.user_id)
                .where(
                    RoleGrant.organization_id.in_(streets),
                    RoleGrant.role.in_([Role.STREET_SECRETARY.value, Role.SUPERVISOR.value]),
                    User.active,
                )
            )
        )
    return users


async def notify_units(
    uow: UnitOfWork, units: Iterable[int], task: Task, title: str, body: str = ""
) -> None:
    users = await users_for_units(uow, units)
    if uow.actor is not None:
        users.discard(uow.actor.user_id)
    notify(uow, users, "task", title, body, task_link(task))


def current_units(task: Task) -> list[int]:
    return [a.unit_id for a in task.assignees if a.state != AssigneeState.RELEASED]


async def sync_decision(uow: UnitOfWork, task: Task, note: str = "") -> None:
    """A conference decision's follow-up is its task's progress (shown at the next session)."""
    if task.decision_id is None:
        return
    decision = await uow.session.get(Decision, task.decision_id)
    if decision is None:
        return
    state = TaskState(task.state)
    if state in (TaskState.REVIEWED, TaskState.RATED, TaskState.CLOSED, TaskState.ARCHIVED):
        follow = FollowState.DONE
    elif state in (TaskState.DRAFTED, TaskState.ASSIGNED, TaskState.RETURN_REQUESTED):
        follow = FollowState.ASSIGNED
    else:
        follow = FollowState.IN_PROGRESS
    changed = decision.follow_state != follow.value or (note and note != decision.progress_note)
    if changed:
        decision.follow_state = follow.value
        if note:
            decision.progress_note = note[:1000]
        decision.progress_updated_at = task.updated_at
        uow.publish(street_topic(task.street_id), "decision.changed", decision_id=decision.id)
