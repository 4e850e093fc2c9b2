"""Drill-down below the street (四级联动): one row per community, a community's units, and
the unit scores behind them.

A community row is what its residents' committee and its members do: activities held
for the community, attendances, service hours, 双报到 of the stationed units standing in
it and of the members living in it. Tasks, conference and coverage are street-level
figures (coverage "n/a" here). Unit scores come from helper F's
`domain.evaluation.scorecard.unit_scores` (one street at a time: bounded queries) and are
left out while that module is not there.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from domain.enums import AttendanceMark, OccurrenceState, RegistrationState, UnitKind
from domain.models.activities import Activity, ActivityOccurrence, PointEntry, Signup
from domain.models.dual_report import MemberRegistration, UnitRegistration
from domain.models.org import Organization, Unit
from domain.rollup.figures import CONFIRMED, Row
from domain.tasks.stats_scope import Period
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class UnitScoreLine:
    unit_id: int
    name: str
    kind: str
    total: float | None
    grade: str


async def unit_scores(
    uow: UnitOfWork, street_id: int, year: int, quarter: int | None
) -> dict[int, UnitScoreLine] | None:
    """Scores of every active unit of a street, by unit id; None when scoring is missing."""
    try:
        module = importlib.import_module("domain.evaluation.scorecard")
    except ImportError:
        return None
    out: dict[int, UnitScoreLine] = {}
    found: Sequence[Any] = await module.unit_scores(uow, street_id, year, quarter)
    for s in found:
        total = getattr(s, "total", None)
        out[s.unit_id] = UnitScoreLine(
            s.unit_id,
            str(getattr(s, "unit_name", "")),
            str(getattr(s, "kind", "")),
            None if total is None else float(total),
            str(getattr(s, "grade", "") or ""),
        )
    return out


def average(
    scores: dict[int, UnitScoreLine], unit_ids: Sequence[int] | None = None
) -> float | None:
    picked = [
        s.total
        for uid, s in scores.items()
        if s.total is not None and (unit_ids is None or uid in unit_ids)
    ]
    return round(sum(picked) / len(picked), 1) if picked else None


def _add(rows: dict[int, Row], key: int | None, **values: Any) -> None:
    row = rows.get(key) if key is not None else None
    if row is not None:
        for name, value in values.items():
            setattr(row, name, getattr(row, name) + int(value or 0))


async def community_rows(
    uow: UnitOfWork, communities: Sequence[Organization], period: Period
) -> list[Row]:
    """One row per community of a street: a bounded number of grouped statements."""
    s = uow.session
    rows = {c.id: Row(c.id, c.name) for c in communities}
    ids = list(rows)
    if not ids:
        return []
    occ = ActivityOccurrence
    attended = (
        select(Signup.occurrence_id.label("oid"), func.count(Signup.id).label("n"))
        .where(Signup.attendance == AttendanceMark.ATTENDED.value)
        .group_by(Signup.occurrence_id)
        .subquery()
    )
    for cid, n, people in await s.execute(
        select(Activity.community_id, func.count(occ.id), func.coalesce(func.sum(attended.c.n), 0))
        .join(Activity, Activity.id == occ.activity_id)
        .outerjoin(attended, attended.c.oid == occ.id)
        .where(
            Activity.community_id.in_(ids),
            occ.state == OccurrenceState.SETTLED.value,
            occ.starts_at >= period.start,
            occ.starts_at < period.end,
        )
        .group_by(Activity.community_id)
    ):
        _add(rows, cid, dates_held=n, attendances=people)
    for cid, minutes in await s.execute(
        select(PointEntry.community_id, func.coalesce(func.sum(PointEntry.minutes), 0))
        .where(
            PointEntry.community_id.in_(ids),
            PointEntry.occurred_on >= period.first,
            PointEntry.occurred_on <= period.last,
        )
        .group_by(PointEntry.community_id)
    ):
        _add(rows, cid, minutes=minutes)
    confirmed = (
        select(UnitRegistration.unit_id.label("uid"), UnitRegistration.community_id.label("cid"))
        .where(
            UnitRegistration.community_id.in_(ids),
            UnitRegistration.year == period.last.year,
            UnitRegistration.state == CONFIRMED,
        )
        .distinct()
        .subquery()
    )
    for cid, n, done in await s.execute(
        select(Unit.community_id, func.count(Unit.id), func.count(confirmed.c.uid))
        .outerjoin(confirmed, (confirmed.c.uid == Unit.id) & (confirmed.c.cid == Unit.community_id))
        .where(Unit.community_id.in_(ids), Unit.active, Unit.kind == UnitKind.STATIONED.value)
        .group_by(Unit.community_id)
    ):
        _add(rows, cid, stationed=n, units_confirmed=done)
    for cid, n in await s.execute(
        select(MemberRegistration.community_id, func.count(MemberRegistration.id))
        .where(MemberRegistration.community_id.in_(ids), MemberRegistration.state == CONFIRMED)
        .group_by(MemberRegistration.community_id)
    ):
        _add(rows, cid, members=n)
    return list(rows.values())


async def committee_units(uow: UnitOfWork, community_ids: Sequence[int]) -> dict[int, int]:
    """The residents' committee unit of each community (community id → unit id)."""
    if not community_ids:
        return {}
    found = await uow.session.execute(
        select(Unit.community_id, Unit.id)
        .where(
            Unit.community_id.in_(list(community_ids)),
            Unit.kind == UnitKind.COMMUNITY.value,
            Unit.active,
        )
        .order_by(Unit.id)
    )
    out: dict[int, int] = {}
    for cid, uid in found:
        if cid is not None:
            out.setdefault(cid, uid)
    return out


@dataclass(frozen=True)
class UnitLine:
    unit_id: int
    name: str
    kind: str
    party_members: int
    slip_state: str  # the year's 双报到 slip to this community, "" when none
    score: UnitScoreLine | None


async def community_units(
    uow: UnitOfWork, community_id: int, year: int, scores: dict[int, UnitScoreLine] | None
) -> list[UnitLine]:
    """The units standing in the community (stationed ones and its committee)."""
    s = uow.session
    slips = {
        uid: state
        for uid, state in await s.execute(
            select(UnitRegistration.unit_id, UnitRegistration.state)
            .where(UnitRegistration.community_id == community_id, UnitRegistration.year == year)
            .order_by(UnitRegistration.id)
        )
        if state != RegistrationState.ENDED.value
    }
    units = await s.execute(
        select(Unit.id, Unit.name, Unit.kind, Unit.party_members)
        .where(
            Unit.community_id == community_id,
            Unit.active,
            Unit.kind.in_([UnitKind.STATIONED.value, UnitKind.COMMUNITY.value]),
        )
        .order_by(Unit.kind, Unit.name)
    )
    return [
        UnitLine(uid, name, kind, int(members or 0), slips.get(uid, ""), (scores or {}).get(uid))
        for uid, name, kind, members in units
    ]
