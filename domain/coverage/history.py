"""Monthly snapshots of the coverage figures (history survives later edits), and the last
twelve months of a street or carrier for its chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, select

from domain.coverage.figures import (
    CoverageFigures,
    figures_of_row,
    measures,
    roll_up_zones,
)
from domain.enums import OrgLevel
from domain.models import Carrier, CoverageSnapshot, EmergingOrg, Organization
from domain.uow import UnitOfWork

STREET_SCOPE = "street"


def carrier_scope(carrier_id: int) -> str:
    return f"carrier:{carrier_id}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _insert_ignoring_duplicates(uow: UnitOfWork, table: Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect (PostgreSQL or SQLite)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def _row(street_id: int, scope: str, month: date, f: CoverageFigures) -> dict[str, Any]:
    return {
        "street_id": street_id,
        "scope": scope,
        "month": month,
        "organisations": f.organisations,
        "with_members": f.with_members,
        "party_members": f.party_members,
        "org_covered": f.org_covered,
        "work_covered": f.work_covered,
    }


async def take_snapshots(uow: UnitOfWork, month: date) -> int:
    """Write the figures of every street and every carrier for `month` (its first day);
    a month already taken is left as it was. Returns the number of rows written."""
    month = month_start(month)
    s = uow.session
    streets = list(
        await s.scalars(select(Organization.id).where(Organization.level == OrgLevel.STREET.value))
    )
    by_street: dict[int, CoverageFigures] = {sid: CoverageFigures() for sid in streets}
    for row in await s.execute(
        select(EmergingOrg.street_id, *measures())
        .where(EmergingOrg.active)
        .group_by(EmergingOrg.street_id)
    ):
        by_street[row[0]] = figures_of_row(row[1:])
    carriers = (await s.execute(select(Carrier.id, Carrier.street_id, Carrier.parent_id))).all()
    own: dict[int, CoverageFigures] = {cid: CoverageFigures() for cid, _, _ in carriers}
    for row in await s.execute(
        select(EmergingOrg.carrier_id, *measures())
        .where(EmergingOrg.active, EmergingOrg.carrier_id.is_not(None))
        .group_by(EmergingOrg.carrier_id)
    ):
        if row[0] in own:
            own[row[0]] = figures_of_row(row[1:])
    by_carrier = roll_up_zones(own, ((cid, pid) for cid, _, pid in carriers))
    values = [_row(sid, STREET_SCOPE, month, f) for sid, f in by_street.items()]
    values += [
        _row(street_id, carrier_scope(cid), month, by_carrier[cid])
        for cid, street_id, _ in carriers
    ]
    if not values:
        return 0
    table = CoverageSnapshot.__table__
    assert isinstance(table, Table)
    written = 0
    for start in range(0, len(values), 500):
        result = await s.execute(
            _insert_ignoring_duplicates(uow, table)
            .values(values[start : start + 500])
            .returning(table.c.id)
        )
        written += len(result.all())
    return written


@dataclass(frozen=True)
class HistoryPoint:
    month: date
    figures: CoverageFigures
    live: bool = False  # computed now rather than read from a snapshot


async def history(
    uow: UnitOfWork,
    street_id: int,
    scope: str,
    current: CoverageFigures,
    today: date,
    months: int = 12,
) -> list[HistoryPoint]:
    """The snapshots of the last `months` months before this one, then this month live."""
    this_month = month_start(today)
    first = add_months(this_month, -months)
    rows = await uow.session.scalars(
        select(CoverageSnapshot)
        .where(
            CoverageSnapshot.street_id == street_id,
            CoverageSnapshot.scope == scope,
            CoverageSnapshot.month >= first,
            CoverageSnapshot.month < this_month,
        )
        .order_by(CoverageSnapshot.month)
    )
    points = [
        HistoryPoint(
            r.month,
            CoverageFigures.of(
                r.organisations, r.with_members, r.party_members, r.org_covered, r.work_covered
            ),
        )
        for r in rows
    ]
    points.append(HistoryPoint(this_month, current, live=True))
    return points
