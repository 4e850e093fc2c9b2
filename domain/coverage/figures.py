"""Coverage figures (组织覆盖率, 工作覆盖率, 党建真空, 应建未建) per carrier, street and district.

Every function is one grouped statement (plus, for carriers, one over the carriers to fold
zones into their park): the cost does not grow with the number of organisations. The
definitions are those of `domain.coverage.rules` and the model docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select

from domain.coverage.rules import BUILT_MODES, SHOULD_BUILD_MEMBERS, rate
from domain.enums import CoverageMode
from domain.models import Carrier, EmergingOrg, Organization
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class CoverageFigures:
    organisations: int = 0
    with_members: int = 0  # organisations with at least one party member
    party_members: int = 0
    org_covered: int = 0
    work_covered: int = 0
    gaps: int = 0
    org_rate: float | None = None  # 0..1, None when there are no organisations
    work_rate: float | None = None
    should_build: int = 0  # 应建未建

    @classmethod
    def of(
        cls,
        organisations: int,
        with_members: int,
        party_members: int,
        org_covered: int,
        work_covered: int,
        should_build: int = 0,
    ) -> CoverageFigures:
        return cls(
            organisations=organisations,
            with_members=with_members,
            party_members=party_members,
            org_covered=org_covered,
            work_covered=work_covered,
            gaps=organisations - work_covered,
            org_rate=rate(org_covered, organisations),
            work_rate=rate(work_covered, organisations),
            should_build=should_build,
        )

    def __add__(self, other: CoverageFigures) -> CoverageFigures:
        return CoverageFigures.of(
            self.organisations + other.organisations,
            self.with_members + other.with_members,
            self.party_members + other.party_members,
            self.org_covered + other.org_covered,
            self.work_covered + other.work_covered,
            self.should_build + other.should_build,
        )


EMPTY = CoverageFigures()


def _flag(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def org_covered_clause() -> ColumnElement[bool]:
    return EmergingOrg.coverage_mode != CoverageMode.NONE.value


def work_covered_clause() -> ColumnElement[bool]:
    return or_(org_covered_clause(), func.trim(EmergingOrg.instructor_name) != "")


def gap_clause() -> ColumnElement[bool]:
    return not_(work_covered_clause())


def should_build_clause() -> ColumnElement[bool]:
    return and_(
        EmergingOrg.party_members >= SHOULD_BUILD_MEMBERS,
        EmergingOrg.coverage_mode.not_in(sorted(BUILT_MODES)),
    )


def measures() -> list[Any]:
    return [
        func.count(EmergingOrg.id),
        _flag(EmergingOrg.party_members > 0),
        func.coalesce(func.sum(EmergingOrg.party_members), 0),
        _flag(org_covered_clause()),
        _flag(work_covered_clause()),
        _flag(should_build_clause()),
    ]


def figures_of_row(row: Sequence[Any]) -> CoverageFigures:
    n, members, pm, org, work, should = (int(v or 0) for v in row)
    return CoverageFigures.of(n, members, pm, org, work, should)


async def coverage_by_street(
    uow: UnitOfWork, street_ids: Sequence[int]
) -> dict[int, CoverageFigures]:
    """Figures of each street (every street asked for is in the answer)."""
    ids = list(dict.fromkeys(street_ids))
    out = {sid: EMPTY for sid in ids}
    if not ids:
        return out
    rows = await uow.session.execute(
        select(EmergingOrg.street_id, *measures())
        .where(EmergingOrg.street_id.in_(ids), EmergingOrg.active)
        .group_by(EmergingOrg.street_id)
    )
    for row in rows:
        out[row[0]] = figures_of_row(row[1:])
    return out


async def coverage_by_district(
    uow: UnitOfWork, district_ids: Sequence[int]
) -> dict[int, CoverageFigures]:
    """Figures of each district: the sum of its streets."""
    ids = list(dict.fromkeys(district_ids))
    out = {did: EMPTY for did in ids}
    if not ids:
        return out
    rows = await uow.session.execute(
        select(Organization.parent_id, *measures())
        .join(Organization, Organization.id == EmergingOrg.street_id)
        .where(Organization.parent_id.in_(ids), EmergingOrg.active)
        .group_by(Organization.parent_id)
    )
    for row in rows:
        out[row[0]] = figures_of_row(row[1:])
    return out


async def coverage_by_carrier(uow: UnitOfWork, street_id: int) -> dict[int, CoverageFigures]:
    """Figures of every carrier of a street (active or not); a park includes its zones."""
    carriers = (
        await uow.session.execute(
            select(Carrier.id, Carrier.parent_id).where(Carrier.street_id == street_id)
        )
    ).all()
    own: dict[int, CoverageFigures] = {cid: EMPTY for cid, _ in carriers}
    rows = await uow.session.execute(
        select(EmergingOrg.carrier_id, *measures())
        .where(
            EmergingOrg.street_id == street_id,
            EmergingOrg.active,
            EmergingOrg.carrier_id.is_not(None),
        )
        .group_by(EmergingOrg.carrier_id)
    )
    for row in rows:
        if row[0] in own:
            own[row[0]] = figures_of_row(row[1:])
    return roll_up_zones(own, ((cid, pid) for cid, pid in carriers))


def roll_up_zones(
    own: dict[int, CoverageFigures], parents: Iterable[tuple[int, int | None]]
) -> dict[int, CoverageFigures]:
    """Add each zone's figures to its park's (zones are one level deep)."""
    out = dict(own)
    for cid, parent_id in parents:
        if parent_id is not None and parent_id in out and cid in own:
            out[parent_id] = out[parent_id] + own[cid]
    return out


async def carrier_figures(uow: UnitOfWork, carrier: Carrier) -> CoverageFigures:
    """One carrier's figures (a park with its zones)."""
    zone_ids = select(Carrier.id).where(Carrier.parent_id == carrier.id).scalar_subquery()
    row = (
        await uow.session.execute(
            select(*measures()).where(
                EmergingOrg.active,
                or_(EmergingOrg.carrier_id == carrier.id, EmergingOrg.carrier_id.in_(zone_ids)),
            )
        )
    ).one()
    return figures_of_row(row)


def percent(value: float | None) -> str:
    """A rate as the page shows it: "87.5%", or "—" when there is nothing to measure."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
