"""Demo attendance: after the demo activities exist, 新华街道's party members have signed up
for, checked in at and been credited for last week's activities, and are signed up for the
next date of each coming one — all through the real services, so the points and the
make-ups are what the product itself would have posted.

Runs after the demo activities are seeded; when there are none it does nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from domain.activities import checkin, settlement, signup
from domain.enums import ActivityState, OccurrenceState, OrgLevel, Role
from domain.errors import DomainError
from domain.models import Organization, RoleGrant, User
from domain.models.activities import Activity, ActivityOccurrence
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services.auth import actor_from_user
from domain.uow import UnitOfWork

Factory = async_sessionmaker[AsyncSession]
STREET = "新华街道"
PAST_DAYS = 31
# 孙伟 signs up but misses the past dates, so the demo shows a no-show and, for the themed
# party day, a make-up (补课) for the community to follow up.
ABSENT = {"member5"}


async def _actor(factory: Factory, user: User) -> Actor:
    async with UnitOfWork(factory) as uow:
        return await actor_from_user(uow, user)


async def _people(factory: Factory, street_id: int) -> tuple[list[Actor], Actor | None]:
    """The street's party members, and its secretary (who settles)."""
    async with factory() as s:
        communities = select(Organization.id).where(
            Organization.parent_id == street_id, Organization.level == OrgLevel.COMMUNITY
        )
        users = list(
            await s.scalars(
                select(User)
                .join(RoleGrant, RoleGrant.user_id == User.id)
                .where(
                    User.active,
                    (
                        (RoleGrant.role == Role.PARTY_MEMBER.value)
                        & RoleGrant.organization_id.in_(communities.scalar_subquery())
                    )
                    | (
                        (RoleGrant.role == Role.STREET_SECRETARY.value)
                        & (RoleGrant.organization_id == street_id)
                    ),
                )
                .options(
                    selectinload(User.grants).options(
                        selectinload(RoleGrant.organization), selectinload(RoleGrant.unit)
                    )
                )
                .order_by(User.id)
                .distinct()
            )
        )
    members: list[Actor] = []
    secretary: Actor | None = None
    for user in users:
        actor = await _actor(factory, user)
        if actor.has(Role.PARTY_MEMBER):
            members.append(actor)
        elif secretary is None:
            secretary = actor
    return members, secretary


async def seed_demo_attendance(factory: Factory) -> None:
    async with factory() as s:
        street_id = await s.scalar(
            select(Organization.id).where(
                Organization.name == STREET, Organization.level == OrgLevel.STREET
            )
        )
        if street_id is None:
            return
        now = utcnow()
        occs = list(
            await s.scalars(
                select(ActivityOccurrence)
                .join(Activity, Activity.id == ActivityOccurrence.activity_id)
                .where(
                    ActivityOccurrence.street_id == street_id,
                    ActivityOccurrence.state == OccurrenceState.SCHEDULED.value,
                    Activity.state == ActivityState.ANNOUNCED.value,
                    ActivityOccurrence.starts_at >= now - timedelta(days=PAST_DAYS),
                )
                .order_by(ActivityOccurrence.starts_at)
            )
        )
    if not occs:
        return
    members, secretary = await _people(factory, street_id)
    if not members or secretary is None:
        return
    past = [o for o in occs if o.ends_at <= now]
    # The next date of each activity still to come.
    upcoming: dict[int, ActivityOccurrence] = {}
    for o in occs:
        if o.starts_at > now:
            upcoming.setdefault(o.activity_id, o)
    for occ in past:
        await _attend_and_settle(factory, occ, members, secretary)
    for occ in upcoming.values():
        for member in members:
            await _quietly(factory, member, signup.sign_up, occ.id)


async def _quietly(factory: Factory, actor: Actor, action, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
    """Run one service call in its own transaction; a refusal (full, already) is skipped."""
    try:
        async with UnitOfWork(factory, actor) as uow:
            await action(uow, actor, *args, **kwargs)
            await uow.commit()
    except DomainError:
        return False
    return True


async def _attend_and_settle(
    factory: Factory, occ: ActivityOccurrence, members: list[Actor], secretary: Actor
) -> None:
    before = occ.starts_at - timedelta(days=2)
    during = occ.starts_at + timedelta(minutes=5)
    for member in members:
        try:
            async with UnitOfWork(factory, member) as uow:
                row = await signup.sign_up(uow, member, occ.id, now=before)
                pending = row.state == "signup_pending"
                await uow.commit()
        except DomainError:
            continue
        if pending:
            await _quietly(factory, secretary, signup.approve, row.id, None, before)
        if member.username not in ABSENT:
            await _quietly(factory, member, checkin.checkin_by_token, occ.checkin_token, during)
    await _quietly(factory, secretary, settlement.settle, occ.id)
