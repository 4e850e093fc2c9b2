"""Who sees which roll-up (四级联动): city, district, street and community overviews.

City viewers see their city and everything below it; district viewers their district and
below; street staff (secretary, supervisor) their street and below; admins everything.
Anything else is reported as not found, so a page never tells an outsider it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from domain.enums import OrgLevel, Role
from domain.errors import NotFound
from domain.models import Organization
from domain.parsing import is_row_id
from domain.permissions import Actor, can_view_district
from domain.tasks.stats_scope import Period, PeriodKind, period_for
from domain.uow import UnitOfWork

STREET_STAFF = (Role.STREET_SECRETARY, Role.SUPERVISOR)
PERIODS = {
    PeriodKind.YEAR: "本年",
    PeriodKind.QUARTER: "本季度",
    PeriodKind.MONTH: "本月",
}
NOT_FOUND = "{}不存在，或不在您可查看的范围内。"


def parse_period(raw: str | None, today: date) -> Period:
    """This year unless the month or quarter is asked for."""
    try:
        kind = PeriodKind(raw or PeriodKind.YEAR)
    except ValueError:
        kind = PeriodKind.YEAR
    if kind not in PERIODS:
        kind = PeriodKind.YEAR
    return period_for(kind, today)


def quarter_of(period: Period) -> int | None:
    """The scorecard quarter of a period: None for a whole year."""
    if period.kind is PeriodKind.YEAR:
        return None
    return (period.first.month - 1) // 3 + 1


def can_view_city(actor: Actor, city_id: int) -> bool:
    return actor.is_admin or city_id in actor.org_ids_with(Role.CITY_VIEWER)


def can_view_street_rollup(actor: Actor, street_id: int) -> bool:
    return (
        actor.is_admin
        or street_id in actor.district_street_ids
        or street_id in actor.streets_with(*STREET_STAFF)
    )


@dataclass(frozen=True)
class Place:
    """An organisation of the tree with its parent chain (for the breadcrumbs)."""

    org: Organization
    parents: tuple[Organization, ...] = ()


async def _org(uow: UnitOfWork, org_id: int, level: OrgLevel) -> Organization | None:
    if not is_row_id(org_id):
        return None
    org = await uow.session.get(Organization, org_id)
    return org if org is not None and org.level == level.value else None


async def _children(uow: UnitOfWork, parent_ids: list[int], level: OrgLevel) -> list[Organization]:
    if not parent_ids:
        return []
    return list(
        await uow.session.scalars(
            select(Organization)
            .where(Organization.parent_id.in_(parent_ids), Organization.level == level.value)
            .order_by(Organization.id)
        )
    )


async def _chain(uow: UnitOfWork, org: Organization) -> tuple[Organization, ...]:
    """The ancestors of an organisation, top first, in one statement (at most 3 levels)."""
    p1, p2, p3 = (aliased(Organization) for _ in range(3))
    row = (
        await uow.session.execute(
            select(p1, p2, p3)
            .select_from(p1)
            .outerjoin(p2, p2.id == p1.parent_id)
            .outerjoin(p3, p3.id == p2.parent_id)
            .where(p1.id == org.parent_id)
        )
    ).first()
    if row is None:
        return ()
    return tuple(o for o in reversed(tuple(row)) if o is not None)


async def city(uow: UnitOfWork, actor: Actor, city_id: int) -> tuple[Place, list[Organization]]:
    """The city and its districts."""
    org = await _org(uow, city_id, OrgLevel.CITY)
    if org is None or not can_view_city(actor, org.id):
        raise NotFound(NOT_FOUND.format("市"))
    return Place(org), await _children(uow, [org.id], OrgLevel.DISTRICT)


async def district(
    uow: UnitOfWork, actor: Actor, district_id: int
) -> tuple[Place, list[Organization]]:
    """The district and its streets."""
    org = await _org(uow, district_id, OrgLevel.DISTRICT)
    if org is None or not can_view_district(actor, org.id):
        raise NotFound(NOT_FOUND.format("区"))
    return Place(org, await _chain(uow, org)), await _children(uow, [org.id], OrgLevel.STREET)


async def street(uow: UnitOfWork, actor: Actor, street_id: int) -> tuple[Place, list[Organization]]:
    """The street and its communities."""
    org = await _org(uow, street_id, OrgLevel.STREET)
    if org is None or not can_view_street_rollup(actor, org.id):
        raise NotFound(NOT_FOUND.format("街道"))
    return Place(org, await _chain(uow, org)), await _children(uow, [org.id], OrgLevel.COMMUNITY)


async def community(uow: UnitOfWork, actor: Actor, community_id: int) -> Place:
    org = await _org(uow, community_id, OrgLevel.COMMUNITY)
    if org is None or org.parent_id is None or not can_view_street_rollup(actor, org.parent_id):
        raise NotFound(NOT_FOUND.format("社区"))
    return Place(org, await _chain(uow, org))


async def streets_of(uow: UnitOfWork, district_ids: list[int]) -> list[Organization]:
    return await _children(uow, district_ids, OrgLevel.STREET)


@dataclass(frozen=True)
class Landing:
    """Where /rollup sends the actor: one page, or a choice (admins, several places)."""

    redirect: str | None
    cities: list[Organization]
    districts: list[Organization]
    streets: list[Organization]


async def landing(uow: UnitOfWork, actor: Actor) -> Landing:
    s = uow.session
    levels = [OrgLevel.CITY.value, OrgLevel.DISTRICT.value, OrgLevel.STREET.value]
    stmt = select(Organization).where(Organization.level.in_(levels))
    if not actor.is_admin:
        ids = (
            actor.org_ids_with(Role.CITY_VIEWER)
            | actor.viewer_district_ids
            | actor.streets_with(*STREET_STAFF)
        )
        stmt = stmt.where(Organization.id.in_(sorted(ids)))
    orgs = list(await s.scalars(stmt.order_by(Organization.id)))
    cities = [o for o in orgs if o.level == OrgLevel.CITY.value]
    districts = [o for o in orgs if o.level == OrgLevel.DISTRICT.value]
    streets = [o for o in orgs if o.level == OrgLevel.STREET.value]
    if not orgs:
        raise NotFound("四级联动汇总仅向市、区查看人员，街道书记、督办员和平台管理员开放。")
    redirect = None
    if not actor.is_admin:
        if len(cities) == 1:
            redirect = f"/cities/{cities[0].id}/overview"
        elif not cities and len(districts) == 1:
            redirect = f"/districts/{districts[0].id}/overview"
        elif not cities and not districts and len(streets) == 1:
            redirect = f"/streets/{streets[0].id}/overview"
    return Landing(redirect, cities, districts, streets)


def today_in_beijing(now: datetime) -> date:
    from domain.tasks.stats_scope import today_of

    return today_of(now)
