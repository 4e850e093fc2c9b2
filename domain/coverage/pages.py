"""What the coverage pages show, gathered in a fixed number of statements: the landing
(streets and districts the actor reads), a street's page and a carrier's page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from domain.coverage import carriers as carrier_svc
from domain.coverage import gaps as gap_svc
from domain.coverage import orgs as org_svc
from domain.coverage.access import can_write, readable_streets, require_read, street_or_404
from domain.coverage.chart import Chart, chart
from domain.coverage.figures import (
    CoverageFigures,
    carrier_figures,
    coverage_by_carrier,
    coverage_by_district,
    coverage_by_street,
)
from domain.coverage.history import STREET_SCOPE, carrier_scope, history
from domain.enums import OrgLevel
from domain.models import Carrier, Organization
from domain.permissions import Actor
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class Landing:
    streets: list[Organization]
    districts: list[Organization]
    figures: dict[int, CoverageFigures]
    district_figures: dict[int, CoverageFigures]


async def landing(uow: UnitOfWork, actor: Actor) -> Landing:
    query = select(Organization).where(Organization.level == OrgLevel.STREET.value)
    if not actor.is_admin:
        query = query.where(Organization.id.in_(readable_streets(actor)))
    streets = list(await uow.session.scalars(query.order_by(Organization.code)))
    district_ids = sorted({s.parent_id for s in streets if s.parent_id})
    districts = list(
        await uow.session.scalars(select(Organization).where(Organization.id.in_(district_ids)))
    )
    return Landing(
        streets,
        districts,
        await coverage_by_street(uow, [s.id for s in streets]),
        await coverage_by_district(uow, district_ids),
    )


@dataclass(frozen=True)
class Overview:
    """A street's page (carrier is None) or one carrier's."""

    street: Organization
    figures: CoverageFigures
    carriers: list[Carrier]  # all of the street's, parks followed by their zones
    per_carrier: dict[int, CoverageFigures]
    page: org_svc.OrgPage
    gaps: list[gap_svc.GapRow]
    chart: Chart
    can_write: bool
    carrier: Carrier | None = None
    parent: Carrier | None = None
    zones: list[Carrier] = field(default_factory=list)


async def street_overview(
    uow: UnitOfWork, actor: Actor, street_id: int, f: org_svc.OrgFilter, today: date
) -> Overview:
    street = await street_or_404(uow, street_id)
    require_read(actor, street_id)
    figures = (await coverage_by_street(uow, [street_id]))[street_id]
    return Overview(
        street=street,
        figures=figures,
        carriers=await carrier_svc.street_carriers(uow, street_id),
        per_carrier=await coverage_by_carrier(uow, street_id),
        page=await org_svc.list_orgs(uow, street_id, f),
        gaps=await gap_svc.list_gaps(uow, street_id, f.carrier_id),
        chart=chart(await history(uow, street_id, STREET_SCOPE, figures, today)),
        can_write=can_write(actor, street_id),
    )


async def carrier_overview(
    uow: UnitOfWork, actor: Actor, carrier_id: int, page: int, today: date
) -> Overview:
    carrier = await carrier_svc.get_carrier(uow, actor, carrier_id)
    sid = carrier.street_id
    figures = await carrier_figures(uow, carrier)
    all_carriers = await carrier_svc.street_carriers(uow, sid)
    by_id = {c.id: c for c in all_carriers}
    f = org_svc.OrgFilter(carrier_id=carrier.id, page=page)
    return Overview(
        street=await street_or_404(uow, sid),
        figures=figures,
        carriers=all_carriers,
        per_carrier=await coverage_by_carrier(uow, sid),
        page=await org_svc.list_orgs(uow, sid, f),
        gaps=await gap_svc.list_gaps(uow, sid, carrier.id),
        chart=chart(await history(uow, sid, carrier_scope(carrier.id), figures, today)),
        can_write=can_write(actor, sid),
        carrier=carrier,
        parent=by_id.get(carrier.parent_id) if carrier.parent_id else None,
        zones=[c for c in all_carriers if c.parent_id == carrier.id],
    )
