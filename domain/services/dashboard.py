"""Figures for each role's home page, read in a fixed number of grouped queries."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased, joinedload

from domain.enums import FollowState, OrgLevel, Role
from domain.models import (
    AuditEntry,
    Decision,
    Organization,
    RoleGrant,
    Unit,
    User,
    WebSession,
)
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.uow import UnitOfWork


@dataclass
class StreetFigures:
    street: Organization
    active_by_kind: Counter[str] = field(default_factory=Counter)
    active_by_type: Counter[str] = field(default_factory=Counter)
    retired: int = 0
    communities: int = 0
    liaisons: int = 0
    party_members: int = 0

    @property
    def active_units(self) -> int:
        return sum(self.active_by_kind.values())


@dataclass
class Dashboard:
    streets: list[StreetFigures] = field(default_factory=list)
    my_units: list[Unit] = field(default_factory=list)
    my_communities: list[Organization] = field(default_factory=list)
    community_units: dict[int, list[Unit]] = field(default_factory=dict)
    orgs_by_level: Counter[str] = field(default_factory=Counter)
    users_total: int = 0
    sessions_active: int = 0
    recent_audit: list[AuditEntry] = field(default_factory=list)
    recent_units: list[Unit] = field(default_factory=list)
    # Conference decisions my units lead or assist, not yet done.
    my_decisions: list[Decision] = field(default_factory=list)


def _streets_query(filtered: bool) -> Select[Any]:
    community = aliased(Organization)
    communities = (
        select(func.count(community.id))
        .where(community.parent_id == Organization.id, community.level == OrgLevel.COMMUNITY)
        .correlate(Organization)
        .scalar_subquery()
    )
    stmt = select(Organization, communities).where(Organization.level == OrgLevel.STREET)
    if filtered:
        stmt = stmt.where(Organization.id.in_(bindparam("ids", expanding=True)))
    return stmt.order_by(Organization.id)


# Statements are built once: on a page hit every request, building them (aliases,
# subqueries) cost more than running them.
_ALL_STREETS = _streets_query(filtered=False)
_SOME_STREETS = _streets_query(filtered=True)
_UNIT_COUNTS = (
    select(
        Unit.street_id,
        Unit.kind,
        Unit.unit_type,
        Unit.active,
        func.count(),
        func.coalesce(func.sum(Unit.party_members), 0),
    )
    .where(Unit.street_id.in_(bindparam("ids", expanding=True)))
    .group_by(Unit.street_id, Unit.kind, Unit.unit_type, Unit.active)
)
_LIAISON_COUNTS = (
    select(Unit.street_id, func.count(func.distinct(RoleGrant.user_id)))
    .join(Unit, Unit.id == RoleGrant.unit_id)
    .where(
        Unit.street_id.in_(bindparam("ids", expanding=True)),
        RoleGrant.role.in_([Role.UNIT_LIAISON, Role.DEPT_LIAISON]),
    )
    .group_by(Unit.street_id)
)
_RECENT_UNITS = (
    select(Unit)
    .where(Unit.street_id.in_(bindparam("ids", expanding=True)))
    .options(joinedload(Unit.community))
    .order_by(Unit.id.desc())
    .limit(6)
)


async def street_figures(uow: UnitOfWork, street_ids: list[int] | None) -> list[StreetFigures]:
    """Per-street counts; `None` means every street (admin)."""
    s = uow.session
    rows = await (
        s.execute(_ALL_STREETS)
        if street_ids is None
        else s.execute(_SOME_STREETS, {"ids": street_ids})
    )
    figs = {st.id: StreetFigures(street=st, communities=n) for st, n in rows}
    if not figs:
        return []
    ids = {"ids": list(figs)}
    for street_id, kind, unit_type, active, n, members in await s.execute(_UNIT_COUNTS, ids):
        f = figs[street_id]
        if active:
            f.active_by_kind[kind] += n
            f.active_by_type[unit_type] += n
            f.party_members += int(members)
        else:
            f.retired += n
    for street_id, n in await s.execute(_LIAISON_COUNTS, ids):
        figs[street_id].liaisons = n
    return list(figs.values())


async def build_dashboard(uow: UnitOfWork, actor: Actor) -> Dashboard:
    s = uow.session
    board = Dashboard()
    if actor.is_admin:
        board.streets = await street_figures(uow, None)
        level_counts = await s.execute(
            select(Organization.level, func.count()).group_by(Organization.level)
        )
        board.orgs_by_level = Counter({level: n for level, n in level_counts})
        board.users_total = await s.scalar(select(func.count(User.id))) or 0
        board.sessions_active = (
            await s.scalar(
                select(func.count(WebSession.id)).where(
                    WebSession.revoked_at.is_(None), WebSession.expires_at > utcnow()
                )
            )
            or 0
        )
        board.recent_audit = list(
            await s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8))
        )
        return board

    street_ids = sorted(actor.visible_street_ids)
    if street_ids:
        board.streets = await street_figures(uow, street_ids)
    secretary_streets = actor.streets_with(Role.STREET_SECRETARY, Role.SUPERVISOR)
    if secretary_streets:
        board.recent_units = list(
            await s.scalars(_RECENT_UNITS, {"ids": sorted(secretary_streets)})
        )
    unit_ids = actor.unit_ids_with(Role.UNIT_LIAISON, Role.DEPT_LIAISON)
    if unit_ids:
        board.my_units = list(
            await s.scalars(
                select(Unit)
                .where(Unit.id.in_(unit_ids))
                .options(joinedload(Unit.street), joinedload(Unit.community))
            )
        )
        board.my_decisions = await _open_decisions(uow, set(unit_ids))
    community_ids = actor.org_ids_with(Role.COMMUNITY_SECRETARY, Role.PARTY_MEMBER)
    if community_ids:
        board.my_communities = list(
            await s.scalars(select(Organization).where(Organization.id.in_(community_ids)))
        )
        for unit in await s.scalars(
            select(Unit)
            .where(Unit.community_id.in_(community_ids), Unit.active.is_(True))
            .order_by(Unit.kind, Unit.name)
        ):
            if unit.community_id is not None:
                board.community_units.setdefault(unit.community_id, []).append(unit)
    return board


async def _open_decisions(uow: UnitOfWork, unit_ids: set[int]) -> list[Decision]:
    """Open decisions led or assisted by these units (assisting ids are a short list per row)."""
    rows = await uow.session.scalars(
        select(Decision)
        .join(Unit, Unit.id == Decision.lead_unit_id)
        .where(
            Decision.follow_state != FollowState.DONE,
            Unit.street_id.in_(
                select(Unit.street_id).where(Unit.id.in_(unit_ids)).scalar_subquery()
            ),
        )
        .options(joinedload(Decision.lead_unit))
        .order_by(Decision.deadline)
        .limit(200)
    )
    mine = []
    for d in rows:
        helpers = {int(i) for i in d.assisting_unit_ids.split(",") if i}
        if d.lead_unit_id in unit_ids or helpers & unit_ids:
            mine.append(d)
    return mine[:20]
