"""Activities for tests, inserted directly (not through the planning services), following
the recurrence contract: every date is an `ActivityOccurrence` row with
`original_starts_at` = its own start and a `checkin_token` of `secrets.token_urlsafe(24)`.

Times are given in Beijing wall-clock or as offsets from now, stored in UTC.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import ActivityKind, ActivityState, OrgLevel, Role, SignupRule
from domain.models import Organization, RoleGrant, Unit, User
from domain.models.activities import Activity, ActivityHost, ActivityOccurrence, Signup
from domain.permissions import Actor, Grant

BEIJING = ZoneInfo("Asia/Shanghai")
Factory = async_sessionmaker[AsyncSession]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Made:
    activity_id: int
    occurrence_ids: list[int]
    street_id: int
    community_id: int | None

    @property
    def occ(self) -> int:
        return self.occurrence_ids[0]


async def org_id(factory: Factory, name: str) -> int:
    async with factory() as s:
        found = await s.scalar(select(Organization.id).where(Organization.name == name))
    assert found is not None, name
    return found


async def make_activity(
    factory: Factory,
    *,
    starts: list[datetime] | datetime,
    minutes: int = 120,
    street: str = "新华街道",
    community: str | None = "文化里社区",
    hosts: tuple[str, ...] = ("和平区人民医院",),
    kind: ActivityKind = ActivityKind.JOINT,
    title: str = "共建联合活动",
    capacity: int = 0,
    rule: SignupRule = SignupRule.OPEN,
    waitlist: bool = True,
    state: ActivityState = ActivityState.ANNOUNCED,
    points: int | None = None,
    service_minutes: int = 0,
    recurrence: str = "",
    venue: str = "文化里社区党群服务中心",
) -> Made:
    """An activity with one date per start (UTC-aware datetimes)."""
    dates = starts if isinstance(starts, list) else [starts]
    assert dates and all(d.tzinfo is not None for d in dates)
    street_id = await org_id(factory, street)
    community_id = await org_id(factory, community) if community else None
    async with factory() as s:
        unit_ids = [u for u in await s.scalars(select(Unit.id).where(Unit.name.in_(hosts))) if u]
        first = dates[0]
        activity = Activity(
            street_id=street_id,
            community_id=community_id,
            kind=kind.value,
            title=title,
            description="测试活动",
            venue=venue,
            starts_at=first,
            ends_at=first + timedelta(minutes=minutes),
            recurrence=recurrence,
            recurrence_until=dates[-1].astimezone(BEIJING).date() if recurrence else None,
            capacity=capacity,
            signup_rule=rule.value,
            waitlist=waitlist,
            points=points,
            service_minutes=service_minutes,
            state=state.value,
        )
        s.add(activity)
        await s.flush()
        for i, unit_id in enumerate(unit_ids):
            s.add(ActivityHost(activity_id=activity.id, unit_id=unit_id, position=i))
        occs = [
            ActivityOccurrence(
                activity_id=activity.id,
                street_id=street_id,
                starts_at=d,
                ends_at=d + timedelta(minutes=minutes),
                original_starts_at=d,
                checkin_token=secrets.token_urlsafe(24),
            )
            for d in dates
        ]
        s.add_all(occs)
        await s.flush()
        made = Made(activity.id, [o.id for o in occs], street_id, community_id)
        await s.commit()
    return made


async def make_members(
    factory: Factory, count: int, *, community: str = "文化里社区", prefix: str = "m"
) -> list[Actor]:
    """`count` party members of a community, as users with grants, and their Actors."""
    community_id = await org_id(factory, community)
    async with factory() as s:
        street_id = await s.scalar(
            select(Organization.parent_id).where(
                Organization.id == community_id, Organization.level == OrgLevel.COMMUNITY
            )
        )
        users = [
            User(
                username=f"{prefix}{i:03d}-{secrets.token_hex(3)}",
                display_name=f"党员{i:03d}",
                password_hash="x",
            )
            for i in range(count)
        ]
        s.add_all(users)
        await s.flush()
        s.add_all(
            RoleGrant(user_id=u.id, role=Role.PARTY_MEMBER.value, organization_id=community_id)
            for u in users
        )
        await s.commit()
        return [
            Actor(
                u.id,
                u.username,
                u.display_name,
                (Grant(Role.PARTY_MEMBER, organization_id=community_id, street_id=street_id),),
            )
            for u in users
        ]


async def shift(factory: Factory, occurrence_id: int, starts: datetime, minutes: int = 120) -> None:
    """Move a date (e.g. into the past, to settle it)."""
    async with factory() as s:
        await s.execute(
            update(ActivityOccurrence)
            .where(ActivityOccurrence.id == occurrence_id)
            .values(starts_at=starts, ends_at=starts + timedelta(minutes=minutes))
        )
        await s.commit()


async def occurrence(factory: Factory, occurrence_id: int) -> ActivityOccurrence:
    async with factory() as s:
        found = await s.get(ActivityOccurrence, occurrence_id)
    assert found is not None
    return found


async def signups(factory: Factory, occurrence_id: int) -> list[Signup]:
    async with factory() as s:
        return list(
            await s.scalars(
                select(Signup).where(Signup.occurrence_id == occurrence_id).order_by(Signup.id)
            )
        )


def states(rows: list[Signup]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r.state] = out.get(r.state, 0) + 1
    return out
