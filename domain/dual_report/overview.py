"""Street staff's view of 双报到: each community's counts and the report-in rate (报到率 =
confirmed slips of stationed units / stationed units)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from domain.activities.access import STREET_STAFF
from domain.dual_report.common import LIVE_STATES
from domain.enums import OrgLevel, RegistrationState, UnitKind
from domain.models import Organization, Unit
from domain.models.dual_report import MemberRegistration, ServicePost, UnitRegistration
from domain.permissions import Actor
from domain.uow import UnitOfWork

R = RegistrationState


@dataclass(frozen=True)
class CommunityCounts:
    community: Organization
    stationed: int
    reported: int
    pending_slips: int
    members: int
    pending_members: int
    posts: int

    @property
    def rate(self) -> float | None:
        return self.reported / self.stationed if self.stationed else None


def staff_street_ids(actor: Actor) -> frozenset[int]:
    return actor.streets_with(*STREET_STAFF)


async def street_overview(
    uow: UnitOfWork, street_ids: frozenset[int], year: int
) -> list[CommunityCounts]:
    if not street_ids:
        return []
    s = uow.session
    communities = list(
        await s.scalars(
            select(Organization)
            .where(
                Organization.parent_id.in_(street_ids),
                Organization.level == OrgLevel.COMMUNITY.value,
            )
            .order_by(Organization.code, Organization.id)
        )
    )
    ids = [c.id for c in communities]
    if not ids:
        return []
    stationed: dict[int | None, int] = dict(
        (
            await s.execute(
                select(Unit.community_id, func.count(Unit.id))
                .where(
                    Unit.community_id.in_(ids),
                    Unit.active,
                    Unit.kind == UnitKind.STATIONED.value,
                )
                .group_by(Unit.community_id)
            )
        ).all()
    )
    slips: dict[tuple[int, str], int] = {}
    rows = await s.execute(
        select(UnitRegistration.community_id, UnitRegistration.state, func.count())
        .join(Unit, Unit.id == UnitRegistration.unit_id)
        .where(
            UnitRegistration.community_id.in_(ids),
            UnitRegistration.year == year,
            UnitRegistration.state.in_(LIVE_STATES),
            Unit.community_id == UnitRegistration.community_id,
            Unit.active,
            Unit.kind == UnitKind.STATIONED.value,
        )
        .group_by(UnitRegistration.community_id, UnitRegistration.state)
    )
    for cid, state, n in rows:
        slips[(cid, state)] = n
    members: dict[tuple[int, str], int] = {}
    rows = await s.execute(
        select(MemberRegistration.community_id, MemberRegistration.state, func.count())
        .where(MemberRegistration.community_id.in_(ids), MemberRegistration.state.in_(LIVE_STATES))
        .group_by(MemberRegistration.community_id, MemberRegistration.state)
    )
    for cid, state, n in rows:
        members[(cid, state)] = n
    posts: dict[int, int] = dict(
        (
            await s.execute(
                select(ServicePost.community_id, func.count(ServicePost.id))
                .where(ServicePost.community_id.in_(ids), ServicePost.active)
                .group_by(ServicePost.community_id)
            )
        ).all()
    )
    return [
        CommunityCounts(
            community=c,
            stationed=stationed.get(c.id, 0),
            reported=slips.get((c.id, R.CONFIRMED.value), 0),
            pending_slips=slips.get((c.id, R.SUBMITTED.value), 0),
            members=members.get((c.id, R.CONFIRMED.value), 0),
            pending_members=members.get((c.id, R.SUBMITTED.value), 0),
            posts=posts.get(c.id, 0),
        )
        for c in communities
    ]
