"""Demo 述职报告 and 调度通报 for 新华街道: the month before last's bulletin published, last
month's waiting for the secretary's review, and this year's report drafted by the secretary."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from domain.evaluation import bulletin, report
from domain.models import Organization, RoleGrant, User
from domain.models.base import utcnow
from domain.services.auth import actor_from_user
from domain.tasks.calendar import local_date
from domain.uow import UnitOfWork

STREET = "新华街道"


async def seed_demo_evaluation(factory: async_sessionmaker[AsyncSession]) -> None:
    async with UnitOfWork(factory) as uow:
        street = await uow.session.scalar(select(Organization).where(Organization.name == STREET))
        user = await uow.session.scalar(
            select(User)
            .where(User.username == "secretary")
            .options(
                selectinload(User.grants).options(
                    selectinload(RoleGrant.organization), selectinload(RoleGrant.unit)
                )
            )
        )
        if street is None or user is None:
            return
        actor = await actor_from_user(uow, user)
    now = utcnow()
    last = bulletin.previous_month(local_date(now))
    before = bulletin.previous_month(last)
    async with UnitOfWork(factory, actor) as uow:
        old = await bulletin.generate(uow, street.id, before, now)
        await bulletin.generate(uow, street.id, last, now)
        await uow.commit()
    if old is not None:
        async with UnitOfWork(factory, actor) as uow:
            await bulletin.publish(uow, actor, old.id, str(old.version))
            await uow.commit()
    async with UnitOfWork(factory, actor) as uow:
        await report.create(uow, actor, street.id, local_date(now).year, now)
        await uow.commit()
