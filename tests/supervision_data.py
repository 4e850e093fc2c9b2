"""Tasks for the supervision tests, made through the real services as the demo users.

Time is moved by shifting a task's clock into the past (`shift`) — the dashboards and
the services read the real clock — or by handing `now` to the supervision run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from domain.enums import TaskSource
from domain.models import Organization, RoleGrant, Task, TaskAssignee, Unit, User
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services.auth import actor_from_user
from domain.tasks import handling, handoff, review
from domain.tasks.calendar import local_date
from domain.tasks.supervision import run_supervision
from domain.uow import UnitOfWork

STREET = "新华街道"
DEPT = "区城管执法局新华街道执法队"  # liaison: dept
MARKET = "区市场监督管理局新华市场监管所"  # no demo user
HOUSING = "区住房和城乡建设委员会"  # no demo user
HEALTH = "区卫生健康委员会"  # no demo user
COMMUNITY = "文化里社区居委会"  # acts: community
HOSPITAL = "和平区人民医院"  # liaison: liaison


def _tasks() -> Table:
    table = Task.__table__
    assert isinstance(table, Table)
    return table


class TaskMaker:
    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self._actors: dict[str, Actor] = {}
        self._units: dict[str, int] = {}

    async def actor(self, username: str) -> Actor:
        if username not in self._actors:
            async with UnitOfWork(self.factory) as uow:
                user = await uow.session.scalar(
                    select(User)
                    .where(User.username == username)
                    .options(
                        selectinload(User.grants).options(
                            selectinload(RoleGrant.organization), selectinload(RoleGrant.unit)
                        )
                    )
                )
                assert user is not None, username
                self._actors[username] = await actor_from_user(uow, user)
        return self._actors[username]

    async def unit(self, name: str) -> int:
        if name not in self._units:
            async with self.factory() as s:
                found = await s.scalar(select(Unit.id).where(Unit.name == name))
            assert found is not None, name
            self._units[name] = found
        return self._units[name]

    async def org(self, name: str) -> int:
        async with self.factory() as s:
            found = await s.scalar(select(Organization.id).where(Organization.name == name))
        assert found is not None, name
        return found

    async def do(self, username: str, fn: Any, *args: Any, **kw: Any) -> Any:
        actor = await self.actor(username)
        async with UnitOfWork(self.factory, actor) as uow:
            result = await fn(uow, actor, *args, **kw)
            await uow.commit()
            return result

    async def create(
        self,
        lead: str,
        title: str,
        *,
        days: int = 5,
        assisting: Sequence[str] = (),
        street: str = STREET,
        username: str = "secretary",
        source: TaskSource = TaskSource.ASSIGNMENT,
        unit: str = "working_days",
    ) -> int:
        raw = {
            "title": title,
            "lead_unit_id": str(await self.unit(lead)),
            "limit_value": str(days),
            "limit_unit": unit,
        }
        others = [str(await self.unit(u)) for u in assisting]
        task = await self.do(
            username,
            handoff.create_task,
            await self.org(street),
            source,
            raw,
            others,
            assign_now=True,
        )
        return int(task.id)

    async def accept(self, username: str, task_id: int, unit: str) -> None:
        await self.do(username, handling.accept, task_id, await self.unit(unit), None)

    async def progress(self, username: str, task_id: int, unit: str, percent: int) -> None:
        raw = {"body": f"已完成 {percent}%", "percent": str(percent)}
        await self.do(username, handling.report_progress, task_id, await self.unit(unit), raw)

    async def report(self, username: str, task_id: int, unit: str) -> None:
        today = local_date(utcnow()).isoformat()
        raw = {
            "handled_on": today,
            "contacted": "诉求人王先生",
            "actions": "现场核查并整改完毕。",
            "done_by": today,
        }
        await self.do(username, handling.report_result, task_id, await self.unit(unit), None, raw)

    async def review(self, task_id: int, passed: bool, note: str = "") -> None:
        await self.do("secretary", review.review, task_id, None, passed, note)

    async def rate(self, task_id: int, rating: str, note: str = "") -> None:
        await self.do("secretary", review.rate, task_id, None, {"rating": rating, "note": note})

    async def finish(self, username: str, task_id: int, unit: str, rating: str) -> None:
        """Accept, report, pass review and rate."""
        await self.accept(username, task_id, unit)
        await self.report(username, task_id, unit)
        await self.review(task_id, True)
        await self.rate(task_id, rating)

    async def set(self, task_id: int, **values: Any) -> None:
        """Write task columns directly (moving its clock), as no user could."""
        async with self.factory() as s:
            await s.execute(update(_tasks()).where(_tasks().c.id == task_id).values(**values))
            await s.commit()

    async def shift(self, task_id: int, delta: timedelta) -> None:
        """Move everything that happened to the task `delta` into the past: as if `delta`
        had gone by since."""
        moments = (
            "assigned_at",
            "accept_due_at",
            "deadline",
            "original_deadline",
            "accepted_at",
            "reported_at",
            "reviewed_at",
            "rated_at",
            "closed_at",
            "created_at",
            "updated_at",
        )
        await self._shift(_tasks(), _tasks().c.id == task_id, moments, delta)
        assignees = TaskAssignee.__table__
        assert isinstance(assignees, Table)
        await self._shift(
            assignees,
            assignees.c.task_id == task_id,
            ("accepted_at", "reported_at", "done_at", "created_at"),
            delta,
        )

    async def _shift(
        self, table: Table, where: Any, columns: Sequence[str], delta: timedelta
    ) -> None:
        async with self.factory() as s:
            rows = (
                await s.execute(select(table.c.id, *(table.c[c] for c in columns)).where(where))
            ).all()
            for row_id, *values in rows:
                moved = {
                    c: v - delta for c, v in zip(columns, values, strict=True) if v is not None
                }
                await s.execute(update(table).where(table.c.id == row_id).values(**moved))
            await s.commit()

    async def supervise(self, now: datetime | None = None) -> Any:
        async with UnitOfWork(self.factory) as uow:
            run = await run_supervision(uow, now or utcnow())
            await uow.commit()
        return run


async def seed_dashboard(factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """A street's last weeks in a few tasks: three red (overdue), one yellow (not accepted
    in time), one blue (little time left), finished and rated ones, a community's refusal
    of a task outside the admission catalogue; then the supervision run.

    Overdue tasks are moved 20 days back, further than any holiday can stretch their time
    limits, so the colours do not depend on the day the tests run."""
    m = TaskMaker(factory)
    ids: dict[str, int] = {}
    ids["red"] = await m.create(DEPT, "新华路占道经营整治", days=3)
    await m.accept("dept", ids["red"], DEPT)
    await m.progress("dept", ids["red"], DEPT, 40)
    await m.shift(ids["red"], timedelta(days=20))
    ids["red2"] = await m.create(MARKET, "东湖农贸市场食品安全检查", days=5)
    await m.shift(ids["red2"], timedelta(days=20))
    ids["yellow"] = await m.create(HOUSING, "文化里老旧小区加装电梯协调", days=10)
    await m.shift(ids["yellow"], timedelta(hours=30))
    # Ten hours on the wall clock, eight gone, 60% done: 20% of the time left.
    ids["blue"] = await m.create(DEPT, "春晖路共享单车乱停放治理", days=10, unit="hours")
    await m.accept("dept", ids["blue"], DEPT)
    await m.progress("dept", ids["blue"], DEPT, 60)
    await m.shift(ids["blue"], timedelta(hours=8))
    ids["fresh"] = await m.create(HEALTH, "辖区养老机构消防安全排查", days=10)
    for n, rating in enumerate(("satisfied", "satisfied", "basically_satisfied")):
        tid = await m.create(DEPT, f"背街小巷环境整治（第{n + 1}批）", days=5)
        await m.finish("dept", tid, DEPT, rating)
        ids[f"done{n}"] = tid
    # Reported late, then rated dissatisfied: back in progress, overdue.
    ids["late_done"] = await m.create(DEPT, "新华路井盖破损修复", days=2)
    await m.accept("dept", ids["late_done"], DEPT)
    await m.shift(ids["late_done"], timedelta(days=20))
    await m.report("dept", ids["late_done"], DEPT)
    await m.review(ids["late_done"], True)
    await m.rate(ids["late_done"], "dissatisfied", "群众反映仍有积水。")
    ids["community"] = await m.create(COMMUNITY, "社区代收代缴水电费", days=5)
    await m.do(
        "community",
        handling.request_return,
        ids["community"],
        await m.unit(COMMUNITY),
        None,
        {"reason": "outside_admission", "text": "不属于社区准入事项。"},
    )
    await m.supervise()
    return ids


async def bulk_tasks(
    factory: async_sessionmaker[AsyncSession],
    street_id: int,
    assigner_id: int,
    lead_ids: Sequence[int],
    n: int,
    *,
    end: datetime,
    days: int,
    open_every: int = 10,
    chunk: int = 1000,
) -> None:
    """`n` tasks assigned evenly over the `days` before `end`, written directly (no
    services): most finished and rated, one in `open_every` still open, some overdue,
    returned or reworked — the shape of a street's history, for counting statements."""
    tasks = _tasks()
    assignees = TaskAssignee.__table__
    assert isinstance(assignees, Table)
    step = timedelta(days=days) / max(n, 1)
    states = ["assigned", "signed_for", "in_progress", "extension_requested", "reported"]
    colours = [None, "blue", "yellow", "red", None]
    for first in range(0, n, chunk):
        rows: list[dict[str, Any]] = []
        for i in range(first, min(n, first + chunk)):
            assigned = end - step * (n - i)
            is_open = i % open_every == 0
            deadline = assigned + timedelta(days=7)
            late = i % 7 == 0
            rows.append(
                {
                    "street_id": street_id,
                    "source": "assignment" if i % 5 else "whistle",
                    "title": f"批量任务 {i}",
                    "description": "",
                    "location": "",
                    "assigner_unit_id": assigner_id,
                    "outside_admission": False,
                    "state": states[i % len(states)] if is_open else ("rated", "closed_out")[i % 2],
                    "limit_value": 5,
                    "limit_unit": "working_days",
                    "assigned_at": assigned,
                    "accept_due_at": assigned + timedelta(hours=24),
                    "deadline": deadline,
                    "original_deadline": deadline,
                    "accepted_at": assigned + timedelta(hours=2 if i % 3 else 30),
                    "reported_at": None
                    if is_open
                    else deadline + timedelta(days=1 if late else -2),
                    "rating": None
                    if is_open
                    else ("satisfied", "basically_satisfied", "dissatisfied")[i % 3],
                    "return_count": 1 if i % 11 == 0 else 0,
                    "rework_count": 1 if i % 13 == 0 else 0,
                    "progress_percent": 50,
                    "notice_level": colours[i % len(colours)] if is_open else None,
                    "created_at": assigned,
                    "updated_at": assigned,
                    "version": 1,
                }
            )
        async with factory() as s:
            ids = list(await s.scalars(insert(tasks).values(rows).returning(tasks.c.id)))
            await s.execute(
                insert(assignees),
                [
                    {
                        "task_id": tid,
                        "unit_id": lead_ids[(first + k) % len(lead_ids)],
                        "role": "lead",
                        "state": "accepted_part",
                        "open": rows[k]["notice_level"] is not None or rows[k]["state"] in states,
                        "accepted_at": rows[k]["accepted_at"],
                        "progress_percent": 50,
                        "insisted": False,
                        "return_text": "",
                        "created_at": rows[k]["assigned_at"],
                    }
                    for k, tid in enumerate(ids)
                ],
            )
            await s.commit()
