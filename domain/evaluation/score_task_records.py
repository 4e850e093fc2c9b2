"""The records behind a department's task scores (按时签收, 按期办结, 退回, 返工, 满意度):
the tasks it handled in the period, each marked as it counted for that metric, by the same
rules as domain/tasks/stats.unit_rates. Also the `Record` line every records list uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select

from domain.enums import AssigneeRole, AssigneeState, Rating
from domain.evaluation import scoring as sc
from domain.evaluation.score_metrics import FINISHED_VALUES, local_day
from domain.evaluation.scoring import ScorePeriod
from domain.labels import label
from domain.models import Task, TaskAssignee, Unit
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class Record:
    day: date | None
    title: str
    status: str
    detail: str = ""
    href: str | None = None
    counts: bool = True


def day_of(moment: datetime | None) -> date | None:
    return local_day(moment) if moment is not None else None


def _task_record(key: str, t: Task, a: TaskAssignee) -> Record | None:
    lead = a.role == AssigneeRole.LEAD.value
    live = a.state != AssigneeState.RELEASED.value
    finished = t.state in FINISHED_VALUES
    day = day_of(t.assigned_at)
    status: str | None = None
    counts = True
    if key == sc.ACCEPT and live and (a.accepted_at or t.accept_due_at):
        due = t.accept_due_at
        on_time = a.accepted_at is not None and due is not None and a.accepted_at <= due
        status = "按时签收" if on_time else ("逾期签收" if a.accepted_at else "未签收")
        counts = on_time
    elif key == sc.ONTIME and lead and live and finished:
        on_time = t.reported_at is not None and t.deadline is not None
        on_time = on_time and t.reported_at <= t.deadline  # type: ignore[operator]
        status, counts = ("按期办结" if on_time else "逾期办结"), on_time
    elif key == sc.RETURNS and lead:
        returned = a.return_reason is not None and a.return_reason != "outside_admission"
        status = "申请退回" if returned else "未退回"
        counts = not returned
    elif key == sc.REWORK and lead and live and (t.rework_count or t.reviewed_at):
        status = f"返工 {t.rework_count} 次" if t.rework_count else "一次通过"
        counts = not t.rework_count
    elif key == sc.SATISFACTION and lead and live and t.rating:
        status = label(t.rating)
        counts = t.rating in (Rating.SATISFIED.value, Rating.BASICALLY_SATISFIED.value)
    if status is None:
        return None
    deadline = t.deadline.astimezone(sc.BEIJING).strftime("%Y-%m-%d %H:%M") if t.deadline else ""
    detail = f"{label(t.state)}；办理期限 {deadline}" if deadline else label(t.state)
    return Record(day, t.title, status, detail, f"/tasks/{t.id}", counts)


async def task_records(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> dict[str, list[Record]]:
    rows = await uow.session.execute(
        select(Task, TaskAssignee)
        .join(TaskAssignee, and_(TaskAssignee.task_id == Task.id, TaskAssignee.unit_id == unit.id))
        .where(
            Task.street_id == unit.street_id,
            Task.assigned_at >= period.start,
            Task.assigned_at < period.end,
        )
        .order_by(Task.assigned_at, Task.id)
    )
    out: dict[str, list[Record]] = {k: [] for k in sc.TASK_METRICS}
    for t, a in rows:
        for key in sc.TASK_METRICS:
            rec = _task_record(key, t, a)
            if rec is not None:
                out[key].append(rec)
    return out
