"""What machine clients read: the change feed (keyset pages over (updated_at, id)), one
task, and the task as JSON — plain values, with Chinese labels beside the codes.

The JSON is kept in step with the `Task` schema of the OpenAPI document
(web/api/openapi.py); the end-to-end tests compare the two.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from domain.enums import AssigneeRole, AssigneeState
from domain.errors import ValidationFailed
from domain.labels import label
from domain.models import Organization, Task, TaskAssignee, TaskEvent, Unit
from domain.parsing import is_row_id
from domain.tasks.access import load_task
from domain.uow import UnitOfWork

PAGE_MAX = 200
JSONObject = dict[str, Any]

# ---- the change feed ---------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a page of the change feed ended: tasks come in (updated_at, id) order."""

    updated_at: datetime
    task_id: int


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    next: Position | None  # None: nothing more changed (yet)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(position: Position) -> str:
    micros = (position.updated_at - _EPOCH) // _MICROSECOND
    raw = f"{micros}.{position.task_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    bad = ValidationFailed({"cursor": "分页游标无效：请原样使用上一页返回的 next_cursor。"})
    if not cursor.isascii() or len(cursor) > 64:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros_text, _, id_text = raw.partition(".")
        if not (micros_text.isdigit() and id_text.isdigit() and len(micros_text) <= 17):
            raise bad
        task_id = int(id_text)
        moment = _EPOCH + int(micros_text) * _MICROSECOND
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise bad from None
    if not is_row_id(task_id):
        raise bad
    return Position(moment, task_id)


async def list_tasks_since(
    uow: UnitOfWork, updated_since: datetime | None, after: Position | None, limit: int
) -> TaskPage:
    """Tasks changed since a moment, oldest change first, one page at a time.

    Keyset paging on the (updated_at, id) index: each page costs the same however deep
    the client reads, and a task appears once unless it changes again meanwhile (then
    it comes again, later, which is what a client syncing changes wants).
    """
    limit = max(1, min(limit, PAGE_MAX))
    stmt = select(Task).options(
        selectinload(Task.assignees).selectinload(TaskAssignee.unit),
        selectinload(Task.assigner_unit),
    )
    if updated_since is not None:
        stmt = stmt.where(Task.updated_at >= updated_since)
    if after is not None:
        stmt = stmt.where(
            Task.updated_at >= after.updated_at,
            or_(
                Task.updated_at > after.updated_at,
                and_(Task.updated_at == after.updated_at, Task.id > after.task_id),
            ),
        )
    rows = list(await uow.session.scalars(stmt.order_by(Task.updated_at, Task.id).limit(limit + 1)))
    tasks = rows[:limit]
    more = len(rows) > limit
    last = tasks[-1] if tasks else None
    return TaskPage(tasks, Position(last.updated_at, last.id) if more and last else None)


async def get_task(uow: UnitOfWork, task_id: int) -> Task:
    """Any task: machine clients read the whole deployment (NotFound if none)."""
    return await load_task(uow, task_id)


# ---- JSON --------------------------------------------------------------------------------


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _coded(value: str | None) -> str | None:
    return label(value) if value else None


def _assignee(row: TaskAssignee) -> JSONObject:
    return {
        "unit": {"id": row.unit_id, "name": row.unit.name},
        "role": row.role,
        "state": row.state,
        "state_label": label(row.state),
        "accepted_at": _when(row.accepted_at),
        "reported_at": _when(row.reported_at),
        "done_at": _when(row.done_at),
        "progress_percent": row.progress_percent,
    }


def _event(event: TaskEvent, unit_names: dict[int, str]) -> JSONObject:
    unit = (
        {"id": event.unit_id, "name": unit_names.get(event.unit_id, "")}
        if event.unit_id is not None
        else None
    )
    return {
        "id": event.id,
        "at": _when(event.at),
        "kind": event.kind,
        "kind_label": label(event.kind),
        "action": event.action,
        "actor": event.actor_name,
        "unit": unit,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "text": event.text,
    }


def represent(
    task: Task, street_name: str, timeline: Sequence[JSONObject] | None = None
) -> JSONObject:
    """The task (loaded with its assignees' units and its assigner unit) as JSON."""
    current = [a for a in task.assignees if a.state != AssigneeState.RELEASED]
    lead = next((a for a in current if a.role == AssigneeRole.LEAD), None)
    out: JSONObject = {
        "id": task.id,
        "ref": task.ref,
        "external_id": task.external_id,
        "source": task.source,
        "source_label": label(task.source),
        "state": task.state,
        "state_label": label(task.state),
        "title": task.title,
        "description": task.description,
        "location": task.location,
        "street": {"id": task.street_id, "name": street_name},
        "assigner": {"id": task.assigner_unit_id, "name": task.assigner_unit.name},
        "lead": _assignee(lead) if lead is not None else None,
        "assisting": [_assignee(a) for a in current if a.role == AssigneeRole.ASSIST],
        "limit": {
            "value": task.limit_value,
            "unit": task.limit_unit,
            "label": f"{task.limit_value}{label(task.limit_unit)}",
        },
        "assigned_at": _when(task.assigned_at),
        "accept_due_at": _when(task.accept_due_at),
        "deadline": _when(task.deadline),
        "accepted_at": _when(task.accepted_at),
        "reported_at": _when(task.reported_at),
        "closed_at": _when(task.closed_at),
        "rating": task.rating,
        "rating_label": _coded(task.rating),
        "progress_percent": task.progress_percent,
        "notice_level": task.notice_level,
        "notice_level_label": _coded(task.notice_level),
        "created_at": _when(task.created_at),
        "updated_at": _when(task.updated_at),
    }
    if timeline is not None:
        out["timeline"] = list(timeline)
    return out


async def _street_names(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await uow.session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


async def _unit_names(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await uow.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(wanted)))
    return {row.id: row.name for row in rows}


async def tasks_to_json(uow: UnitOfWork, tasks: Sequence[Task]) -> list[JSONObject]:
    """A page of tasks: one query for the street names, whatever the page's size."""
    names = await _street_names(uow, (t.street_id for t in tasks))
    return [represent(t, names.get(t.street_id, "")) for t in tasks]


async def task_to_json(uow: UnitOfWork, task: Task, *, timeline: bool = False) -> JSONObject:
    """One task; with `timeline`, its history oldest first (append-only, so stable)."""
    names = await _street_names(uow, [task.street_id])
    events: list[JSONObject] | None = None
    if timeline:
        rows = list(
            await uow.session.scalars(
                select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
            )
        )
        units = await _unit_names(uow, (e.unit_id for e in rows if e.unit_id is not None))
        events = [_event(e, units) for e in rows]
    return represent(task, names.get(task.street_id, ""), events)
