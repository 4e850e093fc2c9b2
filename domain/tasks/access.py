"""How a user stands to a task (assigner, lead, assistant, district), resolved once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from domain.conference.access import units_acted_for
from domain.enums import AssigneeState, Role, TaskState, UnitKind
from domain.errors import NotFound, PermissionDenied
from domain.models import Task, TaskAssignee
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.tasks.machine import Party
from domain.uow import UnitOfWork

STREET_STAFF = (Role.STREET_SECRETARY, Role.SUPERVISOR)


@dataclass(frozen=True)
class TaskAccess:
    task: Task
    parties: frozenset[Party]
    # Handling units (still on the task) this user speaks for.
    acting_units: frozenset[int]
    can_read: bool

    @property
    def state(self) -> TaskState:
        return TaskState(self.task.state)

    def assignee(self, unit_id: int) -> TaskAssignee:
        for a in self.task.assignees:
            if a.unit_id == unit_id and a.state != AssigneeState.RELEASED:
                return a
        raise NotFound("该单位不是本任务的承办单位。")

    @property
    def lead(self) -> TaskAssignee | None:
        for a in self.task.assignees:
            if a.role == "lead" and a.state != AssigneeState.RELEASED:
                return a
        return None

    def require_unit(self, unit_id: int) -> TaskAssignee:
        if unit_id not in self.acting_units:
            raise PermissionDenied("您只能代表本单位办理。")
        return self.assignee(unit_id)


def street_units_for(actor: Actor) -> frozenset[int]:
    """Units an actor acts for without knowing the task (liaisons' own units)."""
    return actor.unit_ids_with(Role.UNIT_LIAISON, Role.DEPT_LIAISON)


def is_assigner(actor: Actor, task: Task) -> bool:
    unit = task.assigner_unit
    if unit.kind == UnitKind.STREET_OFFICE:
        return task.street_id in actor.streets_with(*STREET_STAFF)
    return unit.id in actor.unit_ids_with(Role.DEPT_LIAISON, Role.UNIT_LIAISON)


def resolve(actor: Actor, task: Task) -> TaskAccess:
    """Parties from the loaded task (assignees with their units, assigner unit)."""
    # A draft is the assigner's alone: its handling units neither see nor act on it yet.
    drafted = task.state == TaskState.DRAFTED
    current = [a for a in task.assignees if a.state != AssigneeState.RELEASED and not drafted]
    community_units = {
        a.unit.community_id: a.unit_id
        for a in task.assignees
        if a.unit.kind == UnitKind.COMMUNITY and a.unit.community_id is not None
    }
    mine = units_acted_for(actor, community_units)
    parties: set[Party] = set()
    if is_assigner(actor, task):
        parties.add(Party.ASSIGNER)
    acting = frozenset(a.unit_id for a in current if a.unit_id in mine)
    for a in current:
        if a.unit_id in acting:
            parties.add(Party.LEAD if a.role == "lead" else Party.ASSISTANT)
    if task.street_id in actor.district_street_ids:
        parties.add(Party.DISTRICT)
    was_handler = not drafted and any(a.unit_id in mine for a in task.assignees)
    street_staff = task.street_id in actor.streets_with(*STREET_STAFF)
    can_read = bool(parties) or was_handler or street_staff or actor.is_admin
    return TaskAccess(task, frozenset(parties), acting, can_read)


async def load_task(uow: UnitOfWork, task_id: int) -> Task:
    task = (
        await uow.session.scalar(
            select(Task)
            .where(Task.id == task_id)
            .options(
                selectinload(Task.assignees).selectinload(TaskAssignee.unit),
                selectinload(Task.assigner_unit),
            )
        )
        if is_row_id(task_id)
        else None
    )
    if task is None:
        raise NotFound("任务不存在。")
    return task


async def task_access(uow: UnitOfWork, actor: Actor, task_id: int) -> TaskAccess:
    access = resolve(actor, await load_task(uow, task_id))
    if not access.can_read:
        raise NotFound("任务不存在，或不在您可查看的范围内。")
    return access
