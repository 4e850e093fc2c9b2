"""Task handoff (条块交办) on SQLite and PostgreSQL, as the demo users would live it.

新华街道's secretary hands a task to the enforcement team (区城管执法局新华街道执法队, its
liaison is `dept`) with 文化里社区居委会 assisting (acts: `community`); the task is
accepted, handled, extended, reported, sent back, rated and closed. Returns, disputes,
whistles, a department's handoff to a community, wrong parties and two people acting on
the same task at once follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload, undefer

from domain.conference import floor, meeting
from domain.enums import LimitUnit, TaskSource, TaskState
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from domain.models import (
    AdmissionItem,
    AuditEntry,
    Decision,
    Event,
    ExtensionRequest,
    Notification,
    Task,
    TaskAssignee,
    TaskEvent,
    TaskReport,
)
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.tasks import handling, handoff, returns, review
from domain.tasks.access import task_access
from domain.tasks.calendar import end_of_day, local_date
from domain.tasks.handling import Attachment
from domain.tasks.workcal import load_calendar
from tests.integration.conftest import World
from tests.meetings import create_meeting

STREET = "新华街道"
DEPT = "区城管执法局新华街道执法队"
MARKET = "区市场监督管理局新华市场监管所"
HOUSING = "区住房和城乡建设委员会"
COMMUNITY = "文化里社区居委会"
HOSPITAL = "和平区人民医院"
ADMITTED_MATTER = "背街小巷环境卫生巡查与问题上报"

S = TaskState


class Flow:
    """The demo world, speaking tasks: run a use case as a user, read back what it left."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._actors: dict[str, Actor] = {}
        self._units: dict[str, int] = {}
        self._users: dict[str, int] = {}

    async def actor(self, username: str) -> Actor:
        if username not in self._actors:
            self._actors[username] = await self.world.actor(username)
        return self._actors[username]

    async def unit(self, name: str) -> int:
        if name not in self._units:
            self._units[name] = (await self.world.unit(name)).id
        return self._units[name]

    async def user_id(self, username: str) -> int:
        if username not in self._users:
            self._users[username] = (await self.world.user(username)).id
        return self._users[username]

    async def do(self, username: str, fn: Any, *args: Any, **kw: Any) -> Any:
        """Run a service as `username` in its own unit of work, and commit."""
        actor = await self.actor(username)
        async with self.world.uow(actor) as uow:
            result = await fn(uow, actor, *args, **kw)
            await uow.commit()
            return result

    async def create(
        self,
        *,
        username: str = "secretary",
        source: TaskSource = TaskSource.ASSIGNMENT,
        lead: str = DEPT,
        assisting: Sequence[str] = (COMMUNITY,),
        assign_now: bool = True,
        **fields: str,
    ) -> int:
        raw = {
            "title": "清理新华路 12 号楼道堆物",
            "description": "居民反映楼道堆放杂物，存在消防隐患，请执法队牵头清理，社区配合。",
            "location": "新华路 12 号",
            "lead_unit_id": str(await self.unit(lead)),
            "limit_value": "5",
            "limit_unit": LimitUnit.WORKING_DAYS.value,
            **fields,
        }
        helpers = [str(await self.unit(name)) for name in assisting]
        street = await self.world.org_id(STREET)
        task = await self.do(
            username, handoff.create_task, street, source, raw, helpers, assign_now=assign_now
        )
        return int(task.id)

    async def task(self, task_id: int) -> Task:
        async with self.world.factory() as s:
            task = await s.scalar(
                select(Task)
                .where(Task.id == task_id)
                .options(selectinload(Task.assignees).selectinload(TaskAssignee.unit))
            )
        assert task is not None
        return task

    async def row(self, task_id: int, unit: str) -> TaskAssignee:
        unit_id = await self.unit(unit)
        async with self.world.factory() as s:
            row = await s.scalar(
                select(TaskAssignee).where(
                    TaskAssignee.task_id == task_id, TaskAssignee.unit_id == unit_id
                )
            )
        assert row is not None, unit
        return row

    async def events(self, task_id: int) -> list[TaskEvent]:
        async with self.world.factory() as s:
            return list(
                await s.scalars(
                    select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
                )
            )

    async def steps(self, task_id: int) -> list[tuple[str, str, str | None, str | None]]:
        """The timeline as (kind, action, from, to)."""
        return [(e.kind, e.action, e.from_state, e.to_state) for e in await self.events(task_id)]

    async def notes(self, username: str, task_id: int) -> list[str]:
        """Titles of the task notifications `username` received about this task."""
        user_id = await self.user_id(username)
        async with self.world.factory() as s:
            return list(
                await s.scalars(
                    select(Notification.title)
                    .where(
                        Notification.user_id == user_id,
                        Notification.link == f"/tasks/{task_id}",
                    )
                    .order_by(Notification.id)
                )
            )

    async def audit(self, task_id: int) -> list[str]:
        async with self.world.factory() as s:
            return list(
                await s.scalars(
                    select(AuditEntry.action)
                    .where(AuditEntry.object_type == "task", AuditEntry.object_id == str(task_id))
                    .order_by(AuditEntry.id)
                )
            )

    async def set_columns(self, task_id: int, **values: Any) -> None:
        """Move the clock (or a link) behind the services' back, as time passing would."""
        async with self.world.factory() as s:
            await s.execute(update(Task).where(Task.id == task_id).values(**values))
            await s.commit()


@pytest.fixture
def flow(world: World) -> Flow:
    return Flow(world)


def result_form(**over: str) -> dict[str, str]:
    today = local_date(utcnow()).isoformat()
    form = {
        "handled_on": today,
        "contacted": "楼长王师傅、12 号楼居民代表",
        "actions": "联合社区清理楼道堆物 3 处，张贴消防提示，约定每周巡查。",
        "done_by": today,
        "body": "已办结。",
    }
    form.update(over)
    return form


def day_after(moment: datetime | None, days: int) -> date:
    """A date `days` after the last day of a deadline (24:00 names the day before)."""
    assert moment is not None
    return local_date(moment - timedelta(seconds=1)) + timedelta(days=days)


# --- the whole lifecycle ------------------------------------------------------------------


async def test_whole_lifecycle_as_the_demo_users(flow: Flow) -> None:
    started = utcnow()
    task_id = await flow.create()
    dept_unit, community_unit = await flow.unit(DEPT), await flow.unit(COMMUNITY)

    # Assigned at once: the clock starts now, on working days, not at acceptance.
    task = await flow.task(task_id)
    assert task.state == S.ASSIGNED
    assert task.source == TaskSource.ASSIGNMENT
    # The community assists in a matter that is in no admitted item: flagged.
    assert task.outside_admission and task.admission_item_id is None
    assert task.assigner_unit_id == (await flow.world.unit("新华街道办事处")).id
    assert task.assigned_at is not None and started <= task.assigned_at <= utcnow()
    async with flow.world.uow() as uow:
        calendar = await load_calendar(uow)
    expected_deadline = end_of_day(calendar.add_working_days(local_date(task.assigned_at), 5))
    assert task.deadline == expected_deadline == task.original_deadline
    assert task.accept_due_at == min(task.assigned_at + timedelta(hours=24), task.deadline)
    assert task.accepted_at is None
    rows = {a.unit_id: a for a in task.assignees}
    assert {(u, a.role, a.state, a.open) for u, a in rows.items()} == {
        (dept_unit, "lead", "pending", True),
        (community_unit, "assist", "pending", True),
    }
    assert await flow.notes("dept", task_id) == ["交办任务：清理新华路 12 号楼道堆物"]
    assert await flow.notes("community", task_id) == ["交办任务：清理新华路 12 号楼道堆物"]
    for bystander in ("secretary", "supervisor", "liaison", "member", "district"):
        assert await flow.notes(bystander, task_id) == []
    async with flow.world.factory() as s:
        topics = set(await s.scalars(select(Event.topic).where(Event.kind == "task.changed")))
    street_id = await flow.world.org_id(STREET)
    assert {f"task:{task_id}", f"street:{street_id}", f"unit:{dept_unit}"} <= topics

    # The lead accepts (签收), the assisting community accepts its part.
    await flow.do("dept", handling.accept, task_id, dept_unit, task.version)
    await flow.do("community", handling.accept, task_id, community_unit, None)
    task = await flow.task(task_id)
    assert task.state == S.ACCEPTED and task.accepted_at is not None
    assert {a.unit_id: a.state for a in task.assignees} == {
        dept_unit: "accepted_part",
        community_unit: "accepted_part",
    }
    with pytest.raises(Conflict, match="本单位已签收"):
        await flow.do("community", handling.accept, task_id, community_unit, None)

    # Progress (text, percent, attachment): the first one starts the work.
    photo = Attachment("现场照片.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"x" * 64)
    with pytest.raises(ValidationFailed) as bad:
        await flow.do(
            "dept", handling.report_progress, task_id, dept_unit, {"body": "", "percent": "120"}
        )
    assert set(bad.value.fields) == {"body", "percent"}
    await flow.do(
        "dept",
        handling.report_progress,
        task_id,
        dept_unit,
        {"body": "已上门告知住户，清理了 1 处", "percent": "40"},
        photo,
    )
    await flow.do(
        "community",
        handling.report_progress,
        task_id,
        community_unit,
        {"body": "网格员已逐户通知", "percent": "60"},
    )
    task = await flow.task(task_id)
    assert task.state == S.IN_PROGRESS
    assert task.progress_percent == 40  # the lead's figure, not the assisting unit's
    async with flow.world.factory() as s:
        report = await s.scalar(
            select(TaskReport)
            .where(TaskReport.task_id == task_id, TaskReport.unit_id == dept_unit)
            .options(undefer(TaskReport.attachment))
        )
    assert report is not None and not report.final
    assert (report.attachment_name, report.attachment_type) == ("现场照片.jpg", "image/jpeg")
    assert report.attachment == photo.data and report.percent == 40

    # An extension: asked before the deadline, with grounds; approved, the deadline moves.
    first_deadline = task.deadline
    assert first_deadline is not None
    with pytest.raises(PermissionDenied, match="延期由主办单位申请"):
        await flow.do(
            "community",
            handling.request_extension,
            task_id,
            community_unit,
            None,
            {"until": day_after(first_deadline, 3).isoformat(), "grounds": "人手不足"},
        )
    with pytest.raises(ValidationFailed) as bad:
        await flow.do(
            "dept",
            handling.request_extension,
            task_id,
            dept_unit,
            None,
            {"until": day_after(first_deadline, 0).isoformat(), "grounds": ""},
        )
    assert set(bad.value.fields) == {"until", "grounds"}
    wanted = day_after(first_deadline, 10)
    await flow.do(
        "dept",
        handling.request_extension,
        task_id,
        dept_unit,
        None,
        {"until": wanted.isoformat(), "grounds": "需等待物业配合清运，预计需再十天"},
    )
    task = await flow.task(task_id)
    assert task.state == S.EXTENSION_REQUESTED and task.deadline == first_deadline
    await flow.do("secretary", handling.decide_extension, task_id, task.version, True, "同意")
    task = await flow.task(task_id)
    assert task.state == S.IN_PROGRESS
    assert task.deadline == end_of_day(wanted)
    assert task.original_deadline == first_deadline

    # A second one, refused: the deadline stays where the approval put it.
    await flow.do(
        "dept",
        handling.request_extension,
        task_id,
        dept_unit,
        None,
        {"until": (wanted + timedelta(days=7)).isoformat(), "grounds": "再延一周"},
    )
    with pytest.raises(ValidationFailed) as bad:
        await flow.do("secretary", handling.decide_extension, task_id, None, False, " ")
    assert set(bad.value.fields) == {"note"}
    await flow.do("supervisor", handling.decide_extension, task_id, None, False, "时限已足够")
    task = await flow.task(task_id)
    assert task.state == S.IN_PROGRESS and task.deadline == end_of_day(wanted)
    async with flow.world.factory() as s:
        extensions = list(
            await s.scalars(
                select(ExtensionRequest)
                .where(ExtensionRequest.task_id == task_id)
                .order_by(ExtensionRequest.id)
            )
        )
    assert [(e.state, e.decision_note) for e in extensions] == [
        ("ext_approved", "同意"),
        ("ext_refused", "时限已足够"),
    ]
    assert extensions[0].current_deadline == first_deadline
    assert extensions[1].current_deadline == end_of_day(wanted)

    # The report that closes the work, checked field by field.
    with pytest.raises(ValidationFailed) as bad:
        tomorrow = (local_date(utcnow()) + timedelta(days=1)).isoformat()
        await flow.do(
            "dept",
            handling.report_result,
            task_id,
            dept_unit,
            None,
            {"handled_on": tomorrow, "contacted": "", "actions": "", "done_by": "昨天"},
        )
    assert set(bad.value.fields) == {"handled_on", "contacted", "actions", "done_by"}
    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    task = await flow.task(task_id)
    assert task.state == S.REPORTED and task.reported_at is not None
    assert task.progress_percent == 100

    # Review fails: back to in progress, counted as rework.
    with pytest.raises(ValidationFailed):
        await flow.do("secretary", review.review, task_id, None, False, "")
    await flow.do("secretary", review.review, task_id, None, False, "楼道仍有两处堆物")
    task = await flow.task(task_id)
    assert task.state == S.IN_PROGRESS and task.rework_count == 1
    assert task.reported_at is None and task.reviewed_at is None
    assert (await flow.row(task_id, DEPT)).state == "accepted_part"

    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    await flow.do("secretary", review.review, task_id, None, True, "")
    task = await flow.task(task_id)
    assert task.state == S.REVIEWED and task.reviewed_at is not None

    # Dissatisfied sends it back; satisfied rates it.
    with pytest.raises(ValidationFailed):
        await flow.do("secretary", review.rate, task_id, None, {"rating": "dissatisfied"})
    with pytest.raises(ValidationFailed):
        await flow.do("secretary", review.rate, task_id, None, {"rating": "很好"})
    await flow.do(
        "secretary", review.rate, task_id, None, {"rating": "dissatisfied", "note": "居民不认可"}
    )
    task = await flow.task(task_id)
    assert task.state == S.IN_PROGRESS and task.rework_count == 2
    assert task.reviewed_at is None and task.reported_at is None
    assert all(a.open and a.done_at is None for a in task.assignees)

    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    await flow.do("secretary", review.review, task_id, None, True, "")
    task = await flow.task(task_id)
    # Work done from the units' side: off their open boards until it comes back.
    assert all(not a.open and a.done_at is not None for a in task.assignees)
    await flow.do("secretary", review.rate, task_id, None, {"rating": "satisfied", "note": ""})
    task = await flow.task(task_id)
    assert task.state == S.RATED and task.rating == "satisfied" and task.rated_at is not None

    await flow.do("secretary", review.comment, task_id, "辛苦了，按期办结。")
    await flow.do("secretary", review.close, task_id, None)
    task = await flow.task(task_id)
    assert task.state == S.CLOSED and task.closed_at is not None
    with pytest.raises(Conflict, match="已销号"):
        await flow.do("dept", review.comment, task_id, "补充一句")
    await flow.do("secretary", review.archive, task_id, None)
    task = await flow.task(task_id)
    assert task.state == S.ARCHIVED and task.archived_at is not None
    assert task.deadline == end_of_day(wanted) and task.original_deadline == first_deadline
    moments = [
        task.assigned_at,
        task.accepted_at,
        task.reviewed_at,
        task.rated_at,
        task.closed_at,
        task.archived_at,
    ]
    assert all(m is not None for m in moments)
    assert moments == sorted(moments)  # type: ignore[type-var]

    # The whole timeline, in order.
    T, R, C, AS = "transition", "report", "comment", "assignee"
    assert await flow.steps(task_id) == [
        (T, "create", None, S.DRAFTED),
        (T, "assign", S.DRAFTED, S.ASSIGNED),
        (T, "accept", S.ASSIGNED, S.ACCEPTED),
        (AS, "accept", None, None),
        (T, "start", S.ACCEPTED, S.IN_PROGRESS),
        (R, "progress", None, None),
        (R, "progress", None, None),
        (T, "request_extension", S.IN_PROGRESS, S.EXTENSION_REQUESTED),
        (T, "approve_extension", S.EXTENSION_REQUESTED, S.IN_PROGRESS),
        (T, "request_extension", S.IN_PROGRESS, S.EXTENSION_REQUESTED),
        (T, "refuse_extension", S.EXTENSION_REQUESTED, S.IN_PROGRESS),
        (T, "report", S.IN_PROGRESS, S.REPORTED),
        (T, "fail_review", S.REPORTED, S.IN_PROGRESS),
        (T, "report", S.IN_PROGRESS, S.REPORTED),
        (T, "pass_review", S.REPORTED, S.REVIEWED),
        (T, "rate_dissatisfied", S.REVIEWED, S.IN_PROGRESS),
        (T, "report", S.IN_PROGRESS, S.REPORTED),
        (T, "pass_review", S.REPORTED, S.REVIEWED),
        (T, "rate", S.REVIEWED, S.RATED),
        (C, "comment", None, None),
        (T, "close", S.RATED, S.CLOSED),
        (T, "archive", S.CLOSED, S.ARCHIVED),
    ]
    events = await flow.events(task_id)
    by_action = {e.action: e for e in reversed(events) if e.kind == "transition"}
    by_action["comment"] = next(e for e in events if e.kind == "comment")
    assert by_action["accept"].unit_id == dept_unit and by_action["accept"].actor_name == "钱坤"
    assert by_action["approve_extension"].data is not None
    assert by_action["approve_extension"].data["to"] == end_of_day(wanted).isoformat()
    assert by_action["fail_review"].text == "楼道仍有两处堆物"
    assert by_action["rate_dissatisfied"].data == {"rating": "dissatisfied"}
    assert by_action["comment"].actor_name == "张秀兰"

    # Who was told what.
    title = "清理新华路 12 号楼道堆物"
    dept_notes = await flow.notes("dept", task_id)
    assert dept_notes == [
        f"交办任务：{title}",
        f"同意延期至 {wanted.isoformat()}：{title}",
        f"不同意延期：{title}",
        f"退回重办：{title}",
        f"审核通过：{title}",
        f"评价不满意：{title}",
        f"审核通过：{title}",
        f"评价满意：{title}",
        f"已销号：{title}",
    ]
    community_notes = await flow.notes("community", task_id)
    assert f"退回重办：{title}" in community_notes and f"已销号：{title}" in community_notes
    for bystander in ("liaison", "member", "secretary2", "district"):
        assert await flow.notes(bystander, task_id) == []

    assert await flow.audit(task_id) == [
        "task.create",
        "task.assign",
        "task.accept",
        "task.accept",
        "task.extension_request",
        "task.extension_decide",
        "task.extension_request",
        "task.extension_decide",
        "task.report",
        "task.fail_review",
        "task.report",
        "task.pass_review",
        "task.rate",
        "task.report",
        "task.pass_review",
        "task.rate",
        "task.close",
        "task.archive",
    ]


async def test_a_decision_task_keeps_the_decisions_follow_up_in_step(flow: Flow) -> None:
    """A decided item (议定事项) recorded on the conference floor becomes a task at once."""
    session_id, items = await create_meeting(flow.world.factory, [("normal", "背街小巷整治")])
    await flow.do("secretary", meeting.open_session, session_id)
    due = date.today() + timedelta(days=30)
    decision = await flow.do(
        "secretary",
        floor.record_decision,
        items[0],
        {
            "title": "一个月内完成背街小巷堆物清理",
            "lead_unit_id": str(await flow.unit(DEPT)),
            "deadline": due.isoformat(),
        },
        [str(await flow.unit(COMMUNITY))],
    )
    async with flow.world.factory() as s:
        found = await s.scalar(select(Task.id).where(Task.decision_id == decision.id))
    assert found is not None
    task_id = int(found)
    task = await flow.task(task_id)
    assert (task.source, task.state, task.title) == (
        TaskSource.DECISION,
        S.ASSIGNED,
        "一个月内完成背街小巷堆物清理",
    )
    assert task.deadline == end_of_day(due) == task.original_deadline
    assert task.assigner_unit_id == (await flow.world.unit("新华街道办事处")).id
    assert {(a.unit.name, a.role) for a in task.assignees} == {
        (DEPT, "lead"),
        (COMMUNITY, "assist"),
    }
    assert await flow.notes("dept", task_id) == ["交办任务：一个月内完成背街小巷堆物清理"]
    assert await flow.steps(task_id) == [
        ("transition", "create", None, S.DRAFTED),
        ("transition", "assign", S.DRAFTED, S.ASSIGNED),
    ]

    async def follow() -> tuple[str, str]:
        async with flow.world.factory() as s:
            d = await s.get(Decision, decision.id)
            assert d is not None
            return d.follow_state, d.progress_note

    assert await follow() == ("assigned", "")
    dept_unit = await flow.unit(DEPT)
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    assert await follow() == ("in_progress", "")
    await flow.do(
        "dept",
        handling.report_progress,
        task_id,
        dept_unit,
        {"body": "已清理 5 条小巷", "percent": "50"},
    )
    assert await follow() == ("in_progress", "已清理 5 条小巷")
    # An assisting unit's progress is its own, not the decision's.
    await flow.do("community", handling.accept, task_id, await flow.unit(COMMUNITY), None)
    await flow.do(
        "community",
        handling.report_progress,
        task_id,
        await flow.unit(COMMUNITY),
        {"body": "社区已排查", "percent": "80"},
    )
    assert await follow() == ("in_progress", "已清理 5 条小巷")
    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    assert await follow() == ("in_progress", result_form()["actions"])
    await flow.do("secretary", review.review, task_id, None, True, "")
    assert (await follow())[0] == "done"
    await flow.do(
        "secretary", review.rate, task_id, None, {"rating": "dissatisfied", "note": "反弹"}
    )
    assert (await follow())[0] == "in_progress"
    # (The creation is audited as the decision's; what follows is the task's own.)
    assert (await flow.audit(task_id))[-5:] == [
        "task.accept",
        "task.accept",
        "task.report",
        "task.pass_review",
        "task.rate",
    ]


async def test_the_street_staff_hear_of_what_waits_for_them(flow: Flow) -> None:
    """The street office is the assigner, and no one logs in as the office: its secretary
    and supervisor (who act as the assigner) are the ones to tell of a return request, an
    extension request or a report waiting for review."""
    title = "清理新华路 12 号楼道堆物"
    dept_unit = await flow.unit(DEPT)
    returned = await flow.create(assisting=())
    await flow.do(
        "dept",
        handling.request_return,
        returned,
        dept_unit,
        None,
        {"reason": "wrong_area", "text": "不在本辖区"},
    )
    task_id = await flow.create(assisting=())
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    deadline = (await flow.task(task_id)).deadline
    await flow.do(
        "dept",
        handling.request_extension,
        task_id,
        dept_unit,
        None,
        {"until": day_after(deadline, 5).isoformat(), "grounds": "等待物业配合"},
    )
    await flow.do("secretary", handling.decide_extension, task_id, None, True, "")
    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    for staff in ("secretary", "supervisor"):
        assert await flow.notes(staff, returned) == [f"{DEPT}申请退回（不属本辖区）：{title}"], (
            staff
        )
        assert await flow.notes(staff, task_id) == [
            f"延期申请待审批：{title}",
            f"办结反馈待审核：{title}",
        ], staff


async def test_timeline_moments_follow_the_order_of_events(flow: Flow) -> None:
    """Every entry says when it happened; read in order, the moments never go back."""
    task_id = await flow.create()
    dept_unit = await flow.unit(DEPT)
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    await flow.do("secretary", review.comment, task_id, "请尽快")
    events = await flow.events(task_id)
    assert [e.action for e in events] == ["create", "assign", "accept", "comment"]
    assert [e.at for e in events] == sorted(e.at for e in events)
    task = await flow.task(task_id)
    assert events[1].at == task.assigned_at and events[2].at == task.accepted_at


# --- returns, reassignment, disputes --------------------------------------------------------


async def test_a_return_needs_a_reason_and_reassigning_releases_the_old_lead(flow: Flow) -> None:
    task_id = await flow.create()
    dept_unit, market_unit = await flow.unit(DEPT), await flow.unit(MARKET)
    before = await flow.task(task_id)

    for raw, fields in [
        ({"reason": "", "text": "不归我们管"}, {"reason"}),
        ({"reason": "because", "text": "不归我们管"}, {"reason"}),
        ({"reason": "wrong_area", "text": " "}, {"text"}),
        ({"reason": "wrong_area", "text": "长" * 501}, {"text"}),
        # Only a community may refuse a matter outside the admission catalogue.
        ({"reason": "outside_admission", "text": "准入外"}, {"reason"}),
    ]:
        with pytest.raises(ValidationFailed) as bad:
            await flow.do("dept", handling.request_return, task_id, dept_unit, None, raw)
        assert set(bad.value.fields) == fields, raw
    with pytest.raises(PermissionDenied, match="退回由主办单位申请"):
        await flow.do(
            "community",
            handling.request_return,
            task_id,
            await flow.unit(COMMUNITY),
            None,
            {"reason": "wrong_area", "text": "不是社区的事"},
        )
    assert (await flow.task(task_id)).version == before.version

    await flow.do(
        "dept",
        handling.request_return,
        task_id,
        dept_unit,
        None,
        {"reason": "unclear_ownership", "text": "楼道堆物属物业管理范围"},
    )
    task = await flow.task(task_id)
    assert task.state == S.RETURN_REQUESTED and task.return_count == 1
    lead = await flow.row(task_id, DEPT)
    assert (lead.state, lead.return_reason, lead.return_text) == (
        "return_asked",
        "unclear_ownership",
        "楼道堆物属物业管理范围",
    )
    event = (await flow.events(task_id))[-1]
    assert (event.action, event.from_state, event.to_state) == (
        "request_return",
        S.ASSIGNED,
        S.RETURN_REQUESTED,
    )
    assert event.data == {"reason": "unclear_ownership", "refusal": False, "dispute": False}
    with pytest.raises(ValidationFailed) as bad:
        await flow.do("secretary", returns.reassign, task_id, task.version, {"lead_unit_id": "x"})
    assert set(bad.value.fields) == {"lead_unit_id"}
    other_street = (await flow.world.unit("长安派出所")).id
    with pytest.raises(ValidationFailed):
        await flow.do(
            "secretary",
            returns.reassign,
            task_id,
            task.version,
            {"lead_unit_id": str(other_street)},
        )
    with pytest.raises(PermissionDenied):  # the district rules only on a dispute
        await flow.do(
            "district", returns.rule_dispute, task_id, None, {"lead_unit_id": str(market_unit)}
        )
    await flow.do(
        "secretary",
        returns.reassign,
        task_id,
        task.version,
        {"lead_unit_id": str(market_unit), "note": "属市场监管职责"},
    )
    task = await flow.task(task_id)
    assert task.state == S.ASSIGNED
    assert task.deadline == before.deadline == task.original_deadline  # the clock runs on
    assert task.assigned_at == before.assigned_at
    rows = {a.unit_id: a for a in task.assignees}
    assert (rows[dept_unit].role, rows[dept_unit].state, rows[dept_unit].open) == (
        "lead",
        "released",
        False,
    )
    assert (rows[market_unit].role, rows[market_unit].state, rows[market_unit].open) == (
        "lead",
        "pending",
        True,
    )
    # Off the old lead's board (its open tasks), on the new one's.
    async with flow.world.factory() as s:
        dept_board = set(
            await s.scalars(
                select(TaskAssignee.task_id).where(
                    TaskAssignee.unit_id == dept_unit, TaskAssignee.open.is_(True)
                )
            )
        )
        market_board = set(
            await s.scalars(
                select(TaskAssignee.task_id).where(
                    TaskAssignee.unit_id == market_unit, TaskAssignee.open.is_(True)
                )
            )
        )
    assert task_id not in dept_board and task_id in market_board
    # The released unit may still read the task, but no longer acts on it.
    with pytest.raises(PermissionDenied):
        await flow.do("dept", handling.accept, task_id, dept_unit, None)
    async with flow.world.uow(await flow.actor("dept")) as uow:
        access = await task_access(uow, await flow.actor("dept"), task_id)
        assert access.can_read and not access.parties
    event = (await flow.events(task_id))[-1]
    assert (event.action, event.from_state, event.to_state, event.unit_id, event.text) == (
        "reassign",
        S.RETURN_REQUESTED,
        S.ASSIGNED,
        market_unit,
        "属市场监管职责",
    )
    assert "task.reassign" in await flow.audit(task_id)
    # Nor is it on the released unit's list of finished work.
    assert rows[dept_unit].done_at is None


async def test_insisting_then_a_second_return_goes_to_the_district(flow: Flow) -> None:
    task_id = await flow.create()
    dept_unit, housing_unit = await flow.unit(DEPT), await flow.unit(HOUSING)
    ask = {"reason": "overlapping_duties", "text": "与住建委职责交叉"}
    await flow.do("dept", handling.request_return, task_id, dept_unit, None, ask)

    with pytest.raises(ValidationFailed) as bad:
        await flow.do("secretary", returns.insist, task_id, None, "  ")
    assert set(bad.value.fields) == {"note"}
    with pytest.raises(PermissionDenied):
        await flow.do("dept", returns.insist, task_id, None, "我自己坚持")
    await flow.do("secretary", returns.insist, task_id, None, "楼道堆物清理属执法队职责")
    task = await flow.task(task_id)
    assert task.state == S.ASSIGNED and task.escalated_at is None
    lead = await flow.row(task_id, DEPT)
    assert (lead.state, lead.insisted, lead.role) == ("pending", True, "lead")
    assert await flow.notes("dept", task_id) == [
        "交办任务：清理新华路 12 号楼道堆物",
        "坚持交办：清理新华路 12 号楼道堆物",
    ]

    # Asked again after the assigner insisted: a dispute, escalated to the district.
    await flow.do("dept", handling.request_return, task_id, dept_unit, None, ask)
    task = await flow.task(task_id)
    assert task.state == S.RETURN_REQUESTED and task.escalated_at is not None
    assert task.return_count == 2
    assert (await flow.events(task_id))[-1].data == {
        "reason": "overlapping_duties",
        "refusal": False,
        "dispute": True,
    }
    assert await flow.notes("district", task_id) == ["争议任务待协调：清理新华路 12 号楼道堆物"]
    with pytest.raises(PermissionDenied, match="区里裁定"):
        await flow.do("secretary", returns.insist, task_id, None, "再坚持一次")
    with pytest.raises(PermissionDenied):  # street staff do not rule on disputes
        await flow.do(
            "secretary", returns.rule_dispute, task_id, None, {"lead_unit_id": str(housing_unit)}
        )
    with pytest.raises(PermissionDenied):
        await flow.do("district", returns.insist, task_id, None, "区里坚持")

    # The district rules: the housing commission handles it.
    await flow.do(
        "district",
        returns.rule_dispute,
        task_id,
        None,
        {"lead_unit_id": str(housing_unit), "note": "属住建委物业监管职责"},
    )
    task = await flow.task(task_id)
    assert task.state == S.ASSIGNED and task.escalated_at is None
    rows = {a.unit_id: a for a in task.assignees}
    assert (rows[dept_unit].state, rows[dept_unit].open) == ("released", False)
    assert (rows[housing_unit].role, rows[housing_unit].state) == ("lead", "pending")
    event = (await flow.events(task_id))[-1]
    assert (event.action, event.actor_name, event.unit_id) == ("rule", "王建华", housing_unit)
    assert "task.rule" in await flow.audit(task_id)


async def test_the_district_may_rule_that_the_same_unit_handles_it(flow: Flow) -> None:
    task_id = await flow.create()
    dept_unit = await flow.unit(DEPT)
    ask = {"reason": "wrong_area", "text": "不在本辖区"}
    await flow.do("dept", handling.request_return, task_id, dept_unit, None, ask)
    await flow.do("supervisor", returns.insist, task_id, None, "在新华路，属本辖区")
    await flow.do("dept", handling.request_return, task_id, dept_unit, None, ask)
    await flow.do("district", returns.rule_dispute, task_id, None, {"lead_unit_id": str(dept_unit)})
    task = await flow.task(task_id)
    assert task.state == S.ASSIGNED and task.escalated_at is None
    lead = await flow.row(task_id, DEPT)
    assert (lead.state, lead.role, lead.open) == ("pending", "lead", True)
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    assert (await flow.task(task_id)).state == S.ACCEPTED


async def test_a_community_refuses_a_matter_outside_the_admission_list(flow: Flow) -> None:
    community_unit = await flow.unit(COMMUNITY)
    task_id = await flow.create(lead=COMMUNITY, assisting=())
    task = await flow.task(task_id)
    assert task.outside_admission and task.admission_item_id is None
    with pytest.raises(ValidationFailed):
        await flow.do(
            "community",
            handling.request_return,
            task_id,
            community_unit,
            None,
            {"reason": "outside_admission", "text": ""},
        )
    await flow.do(
        "community",
        handling.request_return,
        task_id,
        community_unit,
        None,
        {"reason": "outside_admission", "text": "不属于社区准入事项"},
    )
    task = await flow.task(task_id)
    assert task.state == S.RETURN_REQUESTED
    assert task.return_count == 0  # a refusal is no mark against the community
    row = await flow.row(task_id, COMMUNITY)
    assert (row.state, row.return_reason) == ("refused", "outside_admission")
    assert (await flow.events(task_id))[-1].data == {
        "reason": "outside_admission",
        "refusal": True,
        "dispute": False,
    }

    # A matter in the catalogue is not refusable; an ordinary return counts.
    async with flow.world.factory() as s:
        admitted = await s.scalar(
            select(AdmissionItem.id).where(AdmissionItem.title == ADMITTED_MATTER)
        )
    inside = await flow.create(lead=COMMUNITY, assisting=(), admission_item_id=str(admitted))
    assert not (await flow.task(inside)).outside_admission
    with pytest.raises(ValidationFailed) as bad:
        await flow.do(
            "community",
            handling.request_return,
            inside,
            community_unit,
            None,
            {"reason": "outside_admission", "text": "不想做"},
        )
    assert set(bad.value.fields) == {"reason"}
    await flow.do(
        "community",
        handling.request_return,
        inside,
        community_unit,
        None,
        {"reason": "unclear_ownership", "text": "应由物业负责"},
    )
    assert (await flow.task(inside)).return_count == 1


async def test_a_task_reassigned_to_a_community_is_flagged_outside_admission(flow: Flow) -> None:
    """The flag follows the unit that handles the task, not only the first one chosen."""
    task_id = await flow.create(assisting=())
    dept_unit, community_unit = await flow.unit(DEPT), await flow.unit(COMMUNITY)
    assert not (await flow.task(task_id)).outside_admission
    await flow.do(
        "dept",
        handling.request_return,
        task_id,
        dept_unit,
        None,
        {"reason": "unclear_ownership", "text": "应由社区先行劝导"},
    )
    await flow.do(
        "secretary", returns.reassign, task_id, None, {"lead_unit_id": str(community_unit)}
    )
    assert (await flow.task(task_id)).outside_admission
    await flow.do(
        "community",
        handling.request_return,
        task_id,
        community_unit,
        None,
        {"reason": "outside_admission", "text": "不属于社区准入事项"},
    )
    assert (await flow.task(task_id)).return_count == 1  # the department's return only


# --- whistles and departments' handoffs ----------------------------------------------------


async def test_a_whistle_summons_departments_to_report_in_within_minutes(flow: Flow) -> None:
    with pytest.raises(ValidationFailed) as bad:  # a whistle summons departments only
        await flow.create(
            source=TaskSource.WHISTLE,
            lead=COMMUNITY,
            assisting=(),
            whistle_kind="enforcement",
            report_minutes="15",
        )
    assert "lead_unit_id" in bad.value.fields
    with pytest.raises(ValidationFailed) as bad:
        await flow.create(
            source=TaskSource.WHISTLE,
            assisting=(MARKET,),
            whistle_kind="whatever",
            report_minutes="3",
        )
    assert set(bad.value.fields) == {"whistle_kind", "report_minutes"}
    with pytest.raises(PermissionDenied):
        await flow.create(
            username="dept",
            source=TaskSource.WHISTLE,
            assisting=(),
            whistle_kind="enforcement",
            report_minutes="15",
        )

    task_id = await flow.create(
        source=TaskSource.WHISTLE,
        assisting=(MARKET,),
        whistle_kind="enforcement",
        report_minutes="15",
        limit_value="4",
        limit_unit="hours",
    )
    task = await flow.task(task_id)
    assert task.state == S.ASSIGNED and task.whistle_kind == "enforcement"
    assert task.assigned_at is not None
    assert task.accept_due_at == task.assigned_at + timedelta(minutes=15)
    assert task.deadline == task.assigned_at + timedelta(hours=4)
    assert await flow.notes("dept", task_id) == ["吹哨报到：清理新华路 12 号楼道堆物"]
    await flow.do("dept", handling.accept, task_id, await flow.unit(DEPT), None)
    assert (await flow.task(task_id)).state == S.ACCEPTED


async def test_a_department_hands_work_down_to_a_community(flow: Flow) -> None:
    async with flow.world.factory() as s:
        admitted = await s.scalar(
            select(AdmissionItem.id).where(AdmissionItem.title == ADMITTED_MATTER)
        )
    dept_unit, community_unit = await flow.unit(DEPT), await flow.unit(COMMUNITY)
    # To a department: refused (a department hands work down to communities only).
    with pytest.raises(ValidationFailed) as bad:
        await flow.create(
            username="dept", source=TaskSource.DEPT_HANDOFF, lead=MARKET, assisting=()
        )
    assert "lead_unit_id" in bad.value.fields
    with pytest.raises(ValidationFailed) as bad:
        await flow.create(
            username="dept", source=TaskSource.DEPT_HANDOFF, lead=COMMUNITY, assisting=(MARKET,)
        )
    assert "assisting" in bad.value.fields
    for who in ("secretary", "community", "liaison"):
        with pytest.raises(PermissionDenied):
            await flow.create(
                username=who, source=TaskSource.DEPT_HANDOFF, lead=COMMUNITY, assisting=()
            )

    task_id = await flow.create(
        username="dept",
        source=TaskSource.DEPT_HANDOFF,
        lead=COMMUNITY,
        assisting=(),
        admission_item_id=str(admitted),
    )
    task = await flow.task(task_id)
    assert task.state == S.ASSIGNED and task.assigner_unit_id == dept_unit
    assert not task.outside_admission and task.admission_item_id == admitted
    assert await flow.notes("community", task_id) == ["交办任务：清理新华路 12 号楼道堆物"]

    await flow.do("community", handling.accept, task_id, community_unit, None)
    await flow.do("community", handling.report_result, task_id, community_unit, None, result_form())
    assert "办结反馈待审核：清理新华路 12 号楼道堆物" in await flow.notes("dept", task_id)
    # The department reviews its own handoff; the street's staff read it but do not review.
    with pytest.raises(PermissionDenied):
        await flow.do("secretary", review.review, task_id, None, True, "")
    await flow.do("dept", review.review, task_id, None, True, "")
    await flow.do("dept", review.rate, task_id, None, {"rating": "basically_satisfied"})
    await flow.do("dept", review.close, task_id, None)
    task = await flow.task(task_id)
    assert task.state == S.CLOSED and task.rating == "basically_satisfied"


async def test_a_departments_handoff_is_not_reassigned_to_a_department(flow: Flow) -> None:
    """What the department may not hand out at creation, it may not hand out by reassigning
    after a return either (nor may a whistle go to a community that way)."""
    community_unit = await flow.unit(COMMUNITY)
    task_id = await flow.create(
        username="dept", source=TaskSource.DEPT_HANDOFF, lead=COMMUNITY, assisting=()
    )
    await flow.do(
        "community",
        handling.request_return,
        task_id,
        community_unit,
        None,
        {"reason": "unclear_ownership", "text": "应由市场监管所负责"},
    )
    with pytest.raises(ValidationFailed) as bad:
        await flow.do(
            "dept", returns.reassign, task_id, None, {"lead_unit_id": str(await flow.unit(MARKET))}
        )
    assert set(bad.value.fields) == {"lead_unit_id"}
    assert (await flow.task(task_id)).state == S.RETURN_REQUESTED


async def test_the_wrong_party_is_refused_before_their_input_is_read(flow: Flow) -> None:
    """Someone with no right to act gets 403 whatever they typed, not a form to correct."""
    task_id = await flow.create()
    dept_unit = await flow.unit(DEPT)
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    await flow.do("secretary", review.review, task_id, None, True, "")
    for username in ("district", "dept", "community"):
        with pytest.raises(PermissionDenied):
            await flow.do(username, review.rate, task_id, None, {"rating": ""})
    # The street's staff read a department's handoff, but are no party to its timeline.
    handed = await flow.create(
        username="dept", source=TaskSource.DEPT_HANDOFF, lead=COMMUNITY, assisting=()
    )
    with pytest.raises(PermissionDenied):
        await flow.do("secretary", review.comment, handed, "街道看看")


async def test_a_draft_is_the_assigners_alone(flow: Flow) -> None:
    """Until it is assigned, the handlers neither see a draft nor write on its timeline."""
    task_id = await flow.create(assign_now=False)
    assert (await flow.task(task_id)).state == S.DRAFTED
    assert await flow.notes("dept", task_id) == []
    for username in ("dept", "community"):
        with pytest.raises(NotFound):
            await flow.do(username, review.comment, task_id, "这是什么任务？")
    assert [e.action for e in await flow.events(task_id)] == ["create"]
    await flow.do("supervisor", review.comment, task_id, "明早交办")  # the assigner's own note
    await flow.do("secretary", handoff.assign_draft, task_id, (await flow.task(task_id)).version)
    await flow.do("dept", review.comment, task_id, "收到")
    assert [e.action for e in await flow.events(task_id)] == [
        "create",
        "comment",
        "assign",
        "comment",
    ]


# --- the wrong people ----------------------------------------------------------------------


async def test_people_outside_the_task_cannot_act_on_it(flow: Flow) -> None:
    task_id = await flow.create()
    dept_unit, community_unit = await flow.unit(DEPT), await flow.unit(COMMUNITY)
    hospital = await flow.unit(HOSPITAL)
    ask = {"reason": "wrong_area", "text": "x"}

    # People who may not even see it: told it does not exist.
    for username, unit in [
        ("liaison", hospital),
        ("member", community_unit),
        ("secretary2", dept_unit),
    ]:
        with pytest.raises(NotFound):
            await flow.do(username, handling.accept, task_id, unit, None)
        with pytest.raises(NotFound):
            await flow.do(username, handling.request_return, task_id, unit, None, ask)
        with pytest.raises(NotFound):
            await flow.do(username, review.comment, task_id, "我来看看")
        with pytest.raises(NotFound):
            await flow.do(username, returns.insist, task_id, None, "x")
    # People on the task, doing what is not theirs.
    with pytest.raises(PermissionDenied):  # the community cannot sign for the lead
        await flow.do("community", handling.accept, task_id, dept_unit, None)
    with pytest.raises(PermissionDenied):  # nor can the street staff
        await flow.do("secretary", handling.accept, task_id, dept_unit, None)
    with pytest.raises(PermissionDenied):  # nor the district
        await flow.do("district", handling.accept, task_id, dept_unit, None)

    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    for username in ("dept", "community", "district"):
        with pytest.raises(PermissionDenied):
            await flow.do(username, review.review, task_id, None, True, "")
    with pytest.raises(NotFound):
        await flow.do("secretary2", review.review, task_id, None, True, "")
    # Nothing happened beyond the lead's two steps.
    task = await flow.task(task_id)
    assert task.state == S.REPORTED
    assert [e.action for e in await flow.events(task_id)] == [
        "create",
        "assign",
        "accept",
        "report",
    ]
    # A wrong state for the right person is a conflict that names the state.
    with pytest.raises(Conflict) as stale:
        await flow.do("secretary", review.close, task_id, None)
    assert stale.value.message.startswith("该任务当前为“已反馈”，不能销号。")


# --- two people at once ----------------------------------------------------------------------


async def _reported(flow: Flow) -> int:
    task_id = await flow.create()
    dept_unit = await flow.unit(DEPT)
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    await flow.do("dept", handling.report_result, task_id, dept_unit, None, result_form())
    return task_id


async def test_pass_and_fail_at_once_one_wins_nothing_is_overwritten(flow: Flow) -> None:
    """The supervisor opened the task before the secretary passed it, and then fails it."""
    task_id = await _reported(flow)
    version = (await flow.task(task_id)).version
    secretary, supervisor = await flow.actor("secretary"), await flow.actor("supervisor")

    passed = False
    # The Conflict may come from the service or from the unit of work around it: the
    # supervisor's request as a whole is refused.
    with pytest.raises(Conflict) as lost:
        async with flow.world.uow(supervisor) as slow:
            # The supervisor's page, loaded before the secretary's pass: still "reported".
            page = await task_access(slow, supervisor, task_id)
            assert page.state is S.REPORTED
            async with flow.world.uow(secretary) as fast:
                await review.review(fast, secretary, task_id, version, True, "")
                await fast.commit()
            passed = True
            await review.review(slow, supervisor, task_id, version, False, "还有问题")
            await slow.commit()
    assert passed  # the secretary's pass went through; the supervisor's fail did not
    assert "刷新" in lost.value.message and lost.value.status == 409

    task = await flow.task(task_id)
    assert task.state == S.REVIEWED and task.rework_count == 0
    assert task.version == version + 1 and task.reviewed_at is not None
    assert [e.action for e in await flow.events(task_id)][-1] == "pass_review"
    assert await flow.audit(task_id) == [
        "task.create",
        "task.assign",
        "task.accept",
        "task.report",
        "task.pass_review",
    ]
    assert not any("退回重办" in n for n in await flow.notes("dept", task_id))

    # The same page submitted afterwards is refused by its state, with a clear message.
    with pytest.raises(Conflict) as late:
        await flow.do("supervisor", review.review, task_id, version, False, "还有问题")
    assert late.value.message.startswith("该任务当前为“已审核”，不能退回重办。")


async def test_two_accepts_at_once_one_wins(flow: Flow) -> None:
    """The same liaison in two browser tabs (or two colleagues) accepts the same task."""
    task_id = await flow.create(assisting=())
    dept_unit = await flow.unit(DEPT)
    dept = await flow.actor("dept")
    version = (await flow.task(task_id)).version
    accepted = False
    with pytest.raises(Conflict) as lost:
        async with flow.world.uow(dept) as slow:
            page = await task_access(slow, dept, task_id)  # held: the slow request's view
            assert page.state is S.ASSIGNED
            async with flow.world.uow(dept) as fast:
                await handling.accept(fast, dept, task_id, dept_unit, version)
                await fast.commit()
            accepted = True
            await handling.accept(slow, dept, task_id, dept_unit, version)
            await slow.commit()
    assert accepted
    assert "刷新" in lost.value.message
    task = await flow.task(task_id)
    assert task.state == S.ACCEPTED and task.version == version + 1
    assert [e.action for e in await flow.events(task_id)] == ["create", "assign", "accept"]
    assert await flow.audit(task_id) == ["task.create", "task.assign", "task.accept"]


async def test_a_stale_page_is_refused_even_when_the_state_still_allows_it(flow: Flow) -> None:
    """The version the page was rendered from guards what the state check cannot see."""
    task_id = await flow.create()
    dept_unit = await flow.unit(DEPT)
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    await flow.do(
        "dept", handling.report_progress, task_id, dept_unit, {"body": "进行中", "percent": "10"}
    )
    old = (await flow.task(task_id)).version
    await flow.do("secretary", review.comment, task_id, "请加快")
    with pytest.raises(Conflict, match="已被其他人更新"):
        await flow.do(
            "dept",
            handling.report_result,
            task_id,
            dept_unit,
            old,
            result_form(),
        )
    assert (await flow.task(task_id)).state == S.IN_PROGRESS


# --- the clock and the timeline ---------------------------------------------------------------


async def test_an_extension_after_the_deadline_is_refused(flow: Flow) -> None:
    task_id = await flow.create()
    dept_unit = await flow.unit(DEPT)
    await flow.do("dept", handling.accept, task_id, dept_unit, None)
    past = utcnow() - timedelta(minutes=1)
    await flow.set_columns(task_id, deadline=past)
    before = await flow.task(task_id)
    with pytest.raises(ValidationFailed) as late:
        await flow.do(
            "dept",
            handling.request_extension,
            task_id,
            dept_unit,
            None,
            {"until": day_after(utcnow(), 5).isoformat(), "grounds": "来不及了"},
        )
    assert "已超过办理时限" in late.value.message
    after = await flow.task(task_id)
    assert (after.state, after.deadline, after.version) == (S.ACCEPTED, past, before.version)
    assert await flow.world.count(ExtensionRequest, ExtensionRequest.task_id == task_id) == 0


async def test_the_timeline_is_append_only_at_the_database(flow: Flow) -> None:
    task_id = await flow.create()
    events = await flow.events(task_id)
    assert len(events) == 2
    async with flow.world.factory() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(
                update(TaskEvent).where(TaskEvent.id == events[0].id).values(text="改写")
            )
        await s.rollback()
    async with flow.world.factory() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(delete(TaskEvent).where(TaskEvent.task_id == task_id))
        await s.rollback()
    async with flow.world.factory() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(text("DELETE FROM task_events"))
        await s.rollback()
    assert [(e.id, e.text) for e in await flow.events(task_id)] == [(e.id, e.text) for e in events]


async def test_a_refused_action_leaves_no_trace(flow: Flow) -> None:
    """Whatever fails, fails whole: no event, no notification, no audit, no version bump."""
    task_id = await flow.create()
    before = await flow.task(task_id)
    events = len(await flow.events(task_id))
    async with flow.world.factory() as s:
        notes_before = await s.scalar(select(Notification.id).order_by(Notification.id.desc()))
    attempts: list[tuple[str, Any, tuple[Any, ...]]] = [
        ("secretary", review.review, (task_id, None, True, "")),
        ("secretary", review.close, (task_id, None)),
        ("secretary", handling.decide_extension, (task_id, None, True, "")),
        ("dept", handling.report_result, (task_id, await flow.unit(DEPT), None, result_form())),
        ("dept", handoff.assign_draft, (task_id, 1)),
        ("district", returns.rule_dispute, (task_id, None, {"lead_unit_id": "1"})),
    ]
    for username, fn, args in attempts:
        with pytest.raises(DomainError):
            await flow.do(username, fn, *args)
    after = await flow.task(task_id)
    assert (after.state, after.version, after.updated_at) == (
        before.state,
        before.version,
        before.updated_at,
    )
    assert len(await flow.events(task_id)) == events
    assert await flow.audit(task_id) == ["task.create", "task.assign"]
    async with flow.world.factory() as s:
        assert (
            await s.scalar(select(Notification.id).order_by(Notification.id.desc()))
        ) == notes_before


async def test_a_refusal_after_the_street_insists_goes_to_the_district(flow: Flow) -> None:
    """Refusing an outside-admission task is free once; refusing again after an insist is
    a dispute, so it cannot bounce between street and community for ever."""
    community_unit = await flow.unit(COMMUNITY)
    task_id = await flow.create(lead=COMMUNITY, assisting=())
    refuse = {"reason": "outside_admission", "text": "不属于社区准入事项"}
    await flow.do("community", handling.request_return, task_id, community_unit, None, refuse)
    assert (await flow.task(task_id)).escalated_at is None
    await flow.do("secretary", returns.insist, task_id, None, "疫苗接种摸排由社区配合")
    await flow.do("community", handling.request_return, task_id, community_unit, None, refuse)
    task = await flow.task(task_id)
    assert task.state == S.RETURN_REQUESTED and task.escalated_at is not None
    assert task.return_count == 0
    assert (await flow.events(task_id))[-1].data["dispute"] is True  # type: ignore[index]


async def test_a_whistles_report_in_never_falls_after_its_deadline(flow: Flow) -> None:
    task_id = await flow.create(
        source=TaskSource.WHISTLE,
        assisting=(),
        whistle_kind="emergency",
        report_minutes="30",
        limit_value="10",
        limit_unit=LimitUnit.MINUTES.value,
    )
    task = await flow.task(task_id)
    assert task.deadline is not None and task.accept_due_at == task.deadline
