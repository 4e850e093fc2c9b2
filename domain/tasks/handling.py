"""The handling units' side: accept (签收), ask to return (退回), report progress and the
result (反馈), ask for more time (延期)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from domain.enums import (
    AssigneeState,
    ExtensionState,
    ReturnReason,
    TaskEventKind,
    TaskState,
    UnitKind,
)
from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.labels import label
from domain.models import ExtensionRequest, TaskReport
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.tasks import machine
from domain.tasks.access import TaskAccess, task_access
from domain.tasks.calendar import end_of_day, local_date
from domain.tasks.handoff import move_task, require_action
from domain.tasks.machine import Action
from domain.tasks.records import notify_units, publish_task, record, sync_decision
from domain.uow import UnitOfWork

MAX_ATTACHMENT = 10 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def _assigner_units(access: TaskAccess) -> list[int]:
    return [access.task.assigner_unit_id]


async def accept(
    uow: UnitOfWork, actor: Actor, task_id: int, unit_id: int, version: int | None
) -> None:
    """A handling unit accepts (签收; for a whistle: reports in, 报到)."""
    access = await task_access(uow, actor, task_id)
    task = access.task
    row = access.require_unit(unit_id)
    now = utcnow()
    if row.is_lead:
        require_action(access, Action.ACCEPT, version)
        task.accepted_at = now
        move_task(uow, task, Action.ACCEPT, now, unit_id=unit_id)
        await sync_decision(uow, task)
    else:
        if row.state != AssigneeState.PENDING or TaskState(task.state) not in machine.OPEN_STATES:
            raise Conflict("本单位已签收或该任务已不在办理中。请刷新后查看。")
        record(uow, task, TaskEventKind.ASSIGNEE, action="accept", unit_id=unit_id, at=now)
        task.updated_at = now
    row.state = AssigneeState.ACCEPTED_PART.value
    row.accepted_at = now
    uow.audit("task.accept", "task", task.id, f"{row.unit.name} 签收")
    publish_task(uow, task)


async def request_return(
    uow: UnitOfWork,
    actor: Actor,
    task_id: int,
    unit_id: int,
    version: int | None,
    raw: Mapping[str, str],
) -> None:
    """The lead asks to give the task back, with a reason category and text.

    A community may refuse a task outside the admission catalogue (准入外) without penalty.
    Asking again after the assigner insisted is a dispute: it goes to the district.
    """
    access = await task_access(uow, actor, task_id)
    task = access.task
    row = access.require_unit(unit_id)
    if not row.is_lead:
        raise PermissionDenied("协办单位如有异议，请通过留言说明；退回由主办单位申请。")
    require_action(access, Action.REQUEST_RETURN, version)
    text = raw.get("text", "").strip()
    refusal = raw.get("reason") == "outside_admission"
    errors: dict[str, str] = {}
    reason: ReturnReason | None = None
    if refusal:
        if not (task.outside_admission and row.unit.kind == UnitKind.COMMUNITY):
            errors["reason"] = "只有准入目录以外、交给社区的任务可以拒收。"
    else:
        try:
            reason = ReturnReason(raw.get("reason", ""))
        except ValueError:
            errors["reason"] = "请选择退回理由。"
    if not text or len(text) > 500:
        errors["text"] = "请说明退回的具体理由（不超过 500 字）。"
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    # Asking again after the assigner insisted — a refusal included — is a dispute.
    dispute = row.insisted
    row.state = AssigneeState.RETURN_ASKED.value if not refusal else AssigneeState.REFUSED.value
    row.return_reason = reason.value if reason else "outside_admission"
    row.return_text = text
    if not refusal:
        task.return_count += 1
    if dispute:
        task.escalated_at = now
    move_task(
        uow,
        task,
        Action.REQUEST_RETURN,
        now,
        text=text,
        unit_id=unit_id,
        data={
            "reason": row.return_reason,
            "refusal": refusal,
            "dispute": dispute,
        },
    )
    what = "拒收（准入外事项）" if refusal else f"申请退回（{label(reason)}）"
    if dispute:
        what = "对坚持交办提出异议，提请区级协调"
    uow.audit("task.return", "task", task.id, f"{row.unit.name} {what}")
    await notify_units(
        uow, _assigner_units(access), task, f"{row.unit.name}{what}：{task.title}", text
    )
    if dispute:
        await _notify_district(uow, task.street_id, task.id, f"争议任务待协调：{task.title}")
    publish_task(uow, task)


async def _notify_district(uow: UnitOfWork, street_id: int, task_id: int, title: str) -> None:
    from sqlalchemy import select

    from domain.enums import Role
    from domain.models import Organization, RoleGrant, User
    from domain.services.notifications import notify

    district_id = await uow.session.scalar(
        select(Organization.parent_id).where(Organization.id == street_id)
    )
    users = await uow.session.scalars(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.role == Role.DISTRICT_VIEWER.value,
            RoleGrant.organization_id == district_id,
            User.active,
        )
    )
    notify(uow, set(users), "task", title, "", f"/tasks/{task_id}")


def _percent(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if 0 <= value <= 100 else None


def _check_attachment(attachment: Attachment | None, errors: dict[str, str]) -> None:
    if attachment is not None and len(attachment.data) > MAX_ATTACHMENT:
        errors["attachment"] = "附件不能超过 10 MB。"


async def report_progress(
    uow: UnitOfWork,
    actor: Actor,
    task_id: int,
    unit_id: int,
    raw: Mapping[str, str],
    attachment: Attachment | None = None,
) -> TaskReport:
    """A progress report (进展反馈): text, percent, optional attachment. The lead's first
    one starts the work (accepted → in progress)."""
    access = await task_access(uow, actor, task_id)
    task = access.task
    row = access.require_unit(unit_id)
    state = TaskState(task.state)
    if state not in machine.HANDLING_STATES or row.state not in (
        AssigneeState.ACCEPTED_PART,
        AssigneeState.REPORTED_PART,
    ):
        raise Conflict(
            f"该任务当前为“{label(state)}”，本单位不能反馈进展。请先签收，或刷新后查看。"
        )
    errors: dict[str, str] = {}
    body = raw.get("body", "").strip()
    if not body or len(body) > 5000:
        errors["body"] = "请填写进展情况（不超过 5000 字）。"
    percent = _percent(raw.get("percent", ""))
    if percent is None:
        errors["percent"] = "完成进度须为 0–100 的整数。"
    _check_attachment(attachment, errors)
    if errors or percent is None:
        raise ValidationFailed(errors)
    now = utcnow()
    report = _report(uow, task.id, unit_id, actor, attachment, percent=percent, body=body)
    row.progress_percent = percent
    if row.is_lead:
        task.progress_percent = percent
        if state is TaskState.ACCEPTED:
            move_task(uow, task, Action.START, now, unit_id=unit_id)
    await uow.flush()
    record(
        uow,
        task,
        TaskEventKind.REPORT,
        action="progress",
        text=body,
        unit_id=unit_id,
        data={"percent": percent, "report_id": report.id},
        at=now,
    )
    task.updated_at = now
    await sync_decision(uow, task, body if row.is_lead else "")
    publish_task(uow, task)
    return report


def _report(
    uow: UnitOfWork,
    task_id: int,
    unit_id: int,
    actor: Actor,
    attachment: Attachment | None,
    **fields: object,
) -> TaskReport:
    report = TaskReport(task_id=task_id, unit_id=unit_id, author_id=actor.user_id, **fields)
    if attachment is not None:
        report.attachment_name = attachment.filename
        report.attachment_type = attachment.content_type
        report.attachment = attachment.data
    uow.session.add(report)
    return report


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


async def report_result(
    uow: UnitOfWork,
    actor: Actor,
    task_id: int,
    unit_id: int,
    version: int | None,
    raw: Mapping[str, str],
    attachment: Attachment | None = None,
) -> TaskReport:
    """The report that closes the work (办结反馈): when it was handled, who was contacted,
    what was done and by when. The lead's sends the task to review; an assisting unit's
    reports its part."""
    access = await task_access(uow, actor, task_id)
    task = access.task
    row = access.require_unit(unit_id)
    if row.is_lead:
        require_action(access, Action.REPORT, version)
    elif row.state != AssigneeState.ACCEPTED_PART or TaskState(task.state) not in (
        machine.HANDLING_STATES
    ):
        raise Conflict("本单位尚未签收，或已反馈，或该任务已不在办理中。请刷新后查看。")
    errors: dict[str, str] = {}
    today = local_date(utcnow())
    handled_on = _date(raw.get("handled_on", ""))
    if handled_on is None or handled_on > today:
        errors["handled_on"] = "请填写办理日期（不晚于今天）。"
    contacted = raw.get("contacted", "").strip()
    if not contacted or len(contacted) > 200:
        errors["contacted"] = "请填写联系了谁（诉求人、对接人等，不超过 200 字）。"
    actions = raw.get("actions", "").strip()
    if not actions or len(actions) > 5000:
        errors["actions"] = "请填写采取了哪些措施（不超过 5000 字）。"
    done_by = _date(raw.get("done_by", ""))
    if done_by is None:
        errors["done_by"] = "请填写办结（或承诺办结）日期。"
    elif handled_on is not None and done_by < handled_on:
        errors["done_by"] = "办结日期不能早于办理日期。"
    _check_attachment(attachment, errors)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    report = _report(
        uow,
        task.id,
        unit_id,
        actor,
        attachment,
        final=True,
        percent=100,
        body=raw.get("body", "").strip()[:5000],
        handled_on=handled_on,
        contacted=contacted,
        actions=actions,
        done_by=done_by,
    )
    await uow.flush()
    row.state = AssigneeState.REPORTED_PART.value
    row.reported_at = now
    row.progress_percent = 100
    data: dict[str, object] = {"report_id": report.id, "final": True}
    if row.is_lead:
        task.reported_at = now
        task.progress_percent = 100
        move_task(uow, task, Action.REPORT, now, text=actions, unit_id=unit_id, data=data)
        await notify_units(uow, [task.assigner_unit_id], task, f"办结反馈待审核：{task.title}")
    else:
        record(
            uow,
            task,
            TaskEventKind.REPORT,
            action="result",
            text=actions,
            unit_id=unit_id,
            data=data,
            at=now,
        )
        task.updated_at = now
    uow.audit("task.report", "task", task.id, f"{row.unit.name} 办结反馈")
    await sync_decision(uow, task, actions if row.is_lead else "")
    publish_task(uow, task)
    return report


# Extensions (延期) ---------------------------------------------------------------------


async def request_extension(
    uow: UnitOfWork,
    actor: Actor,
    task_id: int,
    unit_id: int,
    version: int | None,
    raw: Mapping[str, str],
) -> ExtensionRequest:
    """Asked before the deadline, with grounds and the date wanted."""
    access = await task_access(uow, actor, task_id)
    task = access.task
    row = access.require_unit(unit_id)
    if not row.is_lead:
        raise PermissionDenied("延期由主办单位申请。")
    require_action(access, Action.REQUEST_EXTENSION, version)
    now = utcnow()
    assert task.deadline is not None
    if now >= task.deadline:
        raise ValidationFailed({}, "已超过办理时限，不能再申请延期。延期须在到期前提出。")
    errors: dict[str, str] = {}
    wanted = _date(raw.get("until", ""))
    current_last_day = local_date(task.deadline - _ONE_SECOND)
    if wanted is None or wanted <= current_last_day:
        errors["until"] = f"请填写延期后的日期（须晚于现时限 {current_last_day.isoformat()}）。"
    grounds = raw.get("grounds", "").strip()
    if not grounds or len(grounds) > 1000:
        errors["grounds"] = "请说明延期理由（不超过 1000 字）。"
    if errors or wanted is None:
        raise ValidationFailed(errors)
    request = ExtensionRequest(
        task_id=task.id,
        unit_id=unit_id,
        requested_by_id=actor.user_id,
        current_deadline=task.deadline,
        requested_deadline=end_of_day(wanted),
        grounds=grounds,
    )
    uow.session.add(request)
    await uow.flush()
    move_task(
        uow,
        task,
        Action.REQUEST_EXTENSION,
        now,
        text=grounds,
        unit_id=unit_id,
        data={"extension_id": request.id, "until": wanted.isoformat()},
    )
    uow.audit("task.extension_request", "task", task.id, f"申请延期至 {wanted.isoformat()}")
    await notify_units(uow, [task.assigner_unit_id], task, f"延期申请待审批：{task.title}", grounds)
    publish_task(uow, task)
    return request


# A deadline is 24:00 of its last day: one second earlier names that day.
_ONE_SECOND = timedelta(seconds=1)


async def decide_extension(
    uow: UnitOfWork, actor: Actor, task_id: int, version: int | None, approve: bool, note: str
) -> None:
    """The assigner approves (the deadline moves, and supervision starts afresh) or refuses."""
    from sqlalchemy import select

    access = await task_access(uow, actor, task_id)
    task = access.task
    action = Action.APPROVE_EXTENSION if approve else Action.REFUSE_EXTENSION
    require_action(access, action, version)
    note = note.strip()
    if not approve and not note:
        raise ValidationFailed({"note": "不同意延期时请说明理由。"})
    request = await uow.session.scalar(
        select(ExtensionRequest)
        .where(
            ExtensionRequest.task_id == task.id,
            ExtensionRequest.state == ExtensionState.REQUESTED.value,
        )
        .order_by(ExtensionRequest.id.desc())
    )
    if request is None:
        raise Conflict("没有待审批的延期申请。请刷新后查看。")
    now = utcnow()
    request.state = (ExtensionState.APPROVED if approve else ExtensionState.REFUSED).value
    request.decided_by_id = actor.user_id
    request.decided_at = now
    request.decision_note = note[:500]
    data: dict[str, object] = {"extension_id": request.id}
    if approve:
        data["from"] = task.deadline.isoformat() if task.deadline else None
        data["to"] = request.requested_deadline.isoformat()
        task.deadline = request.requested_deadline
        task.notice_level = None  # a fresh deadline: supervision starts over
    move_task(uow, task, action, now, text=note, data=data)
    last_day = local_date(request.requested_deadline - _ONE_SECOND)
    what = f"同意延期至 {last_day.isoformat()}" if approve else "不同意延期"
    uow.audit("task.extension_decide", "task", task.id, what)
    await notify_units(uow, [request.unit_id], task, f"{what}：{task.title}", note)
    publish_task(uow, task)
