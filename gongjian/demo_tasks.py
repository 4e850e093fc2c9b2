"""Demo tasks for 新华街道, made through the real services as the demo users would.

The conference's decisions become tasks; a few assignments and a whistle sit in
different states so that every board, list and dashboard has something to show.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from domain.enums import TaskSource
from domain.models import Decision, Organization, RoleGrant, Task, Unit, User
from domain.permissions import Actor
from domain.services.auth import actor_from_user
from domain.tasks import handling
from domain.tasks.calendar import local_date
from domain.tasks.handoff import create_from_decision, create_task
from domain.uow import UnitOfWork

Factory = async_sessionmaker[AsyncSession]


async def _actor(factory: Factory, username: str) -> Actor:
    async with UnitOfWork(factory) as uow:
        user = await uow.session.scalar(
            select(User)
            .where(User.username == username)
            .options(
                selectinload(User.grants).options(
                    selectinload(RoleGrant.organization), selectinload(RoleGrant.unit)
                )
            )
        )
        assert user is not None
        return await actor_from_user(uow, user)


async def _as(factory: Factory, username: str, fn: Any, *args: Any, **kw: Any) -> Any:
    actor = await _actor(factory, username)
    async with UnitOfWork(factory, actor) as uow:
        result = await fn(uow, actor, *args, **kw)
        await uow.commit()
        return result


async def _ids(factory: Factory) -> tuple[int, dict[str, int]]:
    async with factory() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
        units = {name: uid for uid, name in await s.execute(select(Unit.id, Unit.name))}
    assert street is not None
    return street, units


async def seed_demo_tasks(factory: Factory) -> None:
    street, units = await _ids(factory)
    dept = units["区城管执法局新华街道执法队"]
    market = units["区市场监督管理局新华市场监管所"]
    housing = units["区住房和城乡建设委员会"]
    wenhua = units["文化里社区居委会"]

    async with UnitOfWork(factory) as uow:
        decisions = list(await uow.session.scalars(select(Decision.id).order_by(Decision.id)))
        decision_tasks = [await create_from_decision(uow, d) for d in decisions]
        await uow.commit()
    # The enforcement team took up its decision and reported on it (the decision follows).
    for task in decision_tasks:
        if any(a.unit_id == dept and a.role == "lead" for a in task.assignees):
            await _as(factory, "dept", handling.accept, task.id, dept, None)
            await _as(
                factory, "dept", handling.report_progress, task.id, dept,
                {"body": "已完成春晖路、东湖路两条背街小巷首轮整治，本月通报已印发。",
                 "percent": "35"},
            )  # fmt: skip

    def form(title: str, lead: int, days: int = 5, **extra: str) -> dict[str, str]:
        return {
            "title": title,
            "lead_unit_id": str(lead),
            "limit_value": str(days),
            "limit_unit": "working_days",
            **extra,
        }

    # Waiting for the department to accept.
    await _as(
        factory, "secretary", create_task, street, TaskSource.ASSIGNMENT,
        form("清理春晖路共享单车乱停放", dept, description="早高峰地铁口单车堆积。"),
        [str(market)], assign_now=True,
    )  # fmt: skip
    # Accepted and in progress.
    t2: Task = await _as(
        factory, "secretary", create_task, street, TaskSource.ASSIGNMENT,
        form("文化里菜市场周边占道经营整治", dept, description="居民反映菜市场门前摊点占道。"),
        [str(market)], assign_now=True,
    )  # fmt: skip
    await _as(factory, "dept", handling.accept, t2.id, dept, None)
    await _as(
        factory, "dept", handling.report_progress, t2.id, dept,
        {"body": "已约谈市场管理方，设置临时疏导区。", "percent": "40"},
    )  # fmt: skip
    # A whistle: several departments summoned to report in within 30 minutes.
    await _as(
        factory, "secretary", create_task, street, TaskSource.WHISTLE,
        form("东湖小区地下室违规群租排查", dept, days=2, whistle_kind="enforcement",
             report_minutes="30", limit_unit="working_days"),
        [str(housing), str(market)], assign_now=True,
    )  # fmt: skip
    # Reported and waiting for the street's review.
    t4: Task = await _as(
        factory, "secretary", create_task, street, TaskSource.ASSIGNMENT,
        form("春晖路 12 号井盖破损修复", dept, days=3),
        [], assign_now=True,
    )  # fmt: skip
    await _as(factory, "dept", handling.accept, t4.id, dept, None)
    today = local_date(t4.assigned_at or t4.created_at)
    await _as(
        factory, "dept", handling.report_result, t4.id, dept, None,
        {"handled_on": today.isoformat(), "contacted": "报事居民王女士、排水公司",
         "actions": "协调排水公司更换井盖，现场设置警示。",
         "done_by": (today + timedelta(days=0)).isoformat()},
    )  # fmt: skip
    # Handed down by the department to a community, outside the admission catalogue.
    await _as(
        factory, "dept", create_task, street, TaskSource.DEPT_HANDOFF,
        form("协助统计辖区沿街商户门前三包责任书签订情况", wenhua, days=5),
        [], assign_now=True,
    )  # fmt: skip
    # A finished one, reviewed, rated and closed.
    t6: Task = await _as(
        factory, "secretary", create_task, street, TaskSource.ASSIGNMENT,
        form("东湖大道路灯不亮排查", housing, days=3),
        [], assign_now=True,
    )  # fmt: skip
    del t6  # the housing commission has no demo liaison: it stays with them
