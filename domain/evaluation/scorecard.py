"""A street's scorecards (述职评议考核): every active unit's metrics, total and grade for a
year or a quarter, in a bounded number of queries (see score_metrics.py).

The street office itself is not scored. Member units (stationed units and communities'
committees) and departments are ranked separately, each by total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from domain.enums import OrgLevel, Role, UnitKind
from domain.errors import NotFound
from domain.evaluation import scoring as sc
from domain.evaluation.score_metrics import RawFigures, load_figures
from domain.evaluation.scoring import MetricScore, ScorePeriod
from domain.models import Organization, Unit
from domain.models.base import utcnow
from domain.parsing import is_row_id
from domain.permissions import Actor, can_view_street
from domain.services.street_settings import get_settings
from domain.tasks.stats import Rates, unit_rates
from domain.tasks.stats_scope import Period, PeriodKind, Scope, StatsFilter
from domain.uow import UnitOfWork

STAFF_ROLES = (Role.STREET_SECRETARY, Role.SUPERVISOR)
LIAISON_ROLES = (Role.UNIT_LIAISON, Role.DEPT_LIAISON)


@dataclass(frozen=True)
class UnitScore:
    unit_id: int
    unit_name: str
    kind: str
    total: float
    grade: str
    items: tuple[MetricScore, ...]
    rank: int = 0

    @property
    def is_department(self) -> bool:
        return self.kind == UnitKind.DEPARTMENT.value

    def item(self, key: str) -> MetricScore | None:
        return next((i for i in self.items if i.key == key), None)


def score_items(
    kind: str, raw: RawFigures, settings: dict[str, int], period: ScorePeriod
) -> tuple[MetricScore, ...]:
    """The metrics of one unit from its counted figures (pure)."""
    w = {key: settings[name] for key, name in sc.WEIGHT_SETTINGS.items()}
    items: list[MetricScore] = [
        sc.attendance(
            w[sc.ATTENDANCE],
            settings["score_absence_deduct"],
            raw.expected,
            raw.attended,
            raw.on_leave,
            raw.absent,
        ),
        sc.topics(
            w[sc.TOPICS],
            raw.topics_counted,
            raw.topics_rejected,
            sc.count_target(settings["score_topics_target"], period),
        ),
        sc.decisions(w[sc.DECISIONS], raw.decisions_due, raw.decisions_on_time, raw.decisions_late),
    ]
    if kind == UnitKind.DEPARTMENT.value:
        for key in sc.TASK_METRICS:
            part, whole = raw.task_counts.get(key, (0, 0))
            items.append(sc.task_rate(key, w[key], part, whole, invert=key in INVERTED))
        return tuple(items)
    items += [
        sc.resources(
            w[sc.RESOURCES],
            raw.resources_offered,
            raw.claims_made,
            raw.claims_accepted,
            sc.count_target(settings["score_resources_target"], period),
        ),
        sc.projects(
            w[sc.PROJECTS],
            raw.projects_completed,
            sc.count_target(settings["score_projects_target"], period),
        ),
        sc.activities(
            w[sc.ACTIVITIES],
            raw.hosted,
            raw.joined,
            sc.count_target(settings["score_activities_target"], period),
        ),
        sc.dual_report(
            w[sc.DUAL_REPORT],
            raw.slip_confirmed,
            kind == UnitKind.STATIONED.value,
            raw.members,
            raw.minutes,
            sc.hours_target(settings["score_hours_target"], period),
        ),
    ]
    return tuple(items)


INVERTED = frozenset({sc.RETURNS, sc.REWORK})


def task_counts(rates: Rates) -> dict[str, tuple[int, int]]:
    """(part, whole) of each department task metric, from the supervision rates."""
    return {
        sc.ACCEPT: (rates.accepted_on_time, rates.accept_base),
        sc.ONTIME: (rates.finished_on_time, rates.finished),
        sc.RETURNS: (rates.returned, rates.lead),
        sc.REWORK: (rates.reworked, rates.review_base),
        sc.SATISFACTION: (rates.satisfied, rates.rated),
    }


async def scored_units(uow: UnitOfWork, street_id: int, unit_id: int | None = None) -> list[Unit]:
    stmt = select(Unit).where(
        Unit.street_id == street_id,
        Unit.active.is_(True),
        Unit.kind.in_([k.value for k in sc.SCORED_KINDS]),
    )
    if unit_id is not None:
        stmt = stmt.where(Unit.id == unit_id)
    return list(await uow.session.scalars(stmt.order_by(Unit.kind, Unit.name)))


async def _scores(
    uow: UnitOfWork, street: Organization, units: list[Unit], period: ScorePeriod
) -> list[UnitScore]:
    settings = await get_settings(uow, street.id)
    figs = await load_figures(uow, street.id, [u.id for u in units], period)
    departments = [u for u in units if u.kind == UnitKind.DEPARTMENT.value]
    if departments or len(units) > 1:  # a street's page always costs the same statements
        last = date.fromordinal(period.next_first.toordinal() - 1)
        flt = StatsFilter(Period(PeriodKind.CUSTOM, period.first, last))
        only = units[0].id if len(units) == 1 else None
        flt = StatsFilter(flt.period, unit_id=only)
        for uf in await unit_rates(uow, Scope(street.name, [street]), flt, utcnow()):
            if uf.unit_id in figs:
                figs[uf.unit_id].task_counts = task_counts(uf.rates)
    out = []
    for u in units:
        items = score_items(u.kind, figs[u.id], settings, period)
        total = sc.total(list(items))
        out.append(
            UnitScore(u.id, u.name, u.kind, total, sc.grade_from_settings(total, settings), items)
        )
    return out


def ranked(scores: list[UnitScore]) -> list[UnitScore]:
    """Sorted by total, best first; equal totals share a rank (1, 2, 2, 4)."""
    order = sorted(scores, key=lambda s: (-s.total, s.unit_name))
    out: list[UnitScore] = []
    for i, s in enumerate(order):
        rank = out[-1].rank if out and out[-1].total == s.total else i + 1
        out.append(UnitScore(s.unit_id, s.unit_name, s.kind, s.total, s.grade, s.items, rank=rank))
    return out


async def street_of(uow: UnitOfWork, street_id: int) -> Organization:
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if street is None or street.level != OrgLevel.STREET:
        raise NotFound("街道不存在。")
    return street


async def unit_scores(
    uow: UnitOfWork, street_id: int, year: int, quarter: int | None
) -> list[UnitScore]:
    """Every active unit of the street (not the street office): member units ranked by
    total, best first, then departments ranked among themselves (`is_department`)."""
    street = await street_of(uow, street_id)
    period = ScorePeriod(year, quarter)
    units = await scored_units(uow, street_id)
    scores = await _scores(uow, street, units, period)
    return ranked([s for s in scores if not s.is_department]) + ranked(
        [s for s in scores if s.is_department]
    )


async def one_unit_score(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> UnitScore:
    """One unit's card: the same rules, the queries narrowed to that unit."""
    street = await street_of(uow, unit.street_id)
    (score,) = await _scores(uow, street, [unit], period)
    return score


# ---- who may read -------------------------------------------------------------------------


def can_read_street_scores(actor: Actor, street_id: int) -> bool:
    """Street staff, district/city viewers above the street, admins."""
    return (
        actor.is_admin
        or street_id in actor.streets_with(*STAFF_ROLES)
        or street_id in actor.district_street_ids
    )


def can_read_unit_score(actor: Actor, unit: Unit) -> bool:
    """The street's readers, and a unit's own liaisons for their own card."""
    return can_read_street_scores(actor, unit.street_id) or (
        unit.id in actor.unit_ids_with(*LIAISON_ROLES)
    )


def visible_to(actor: Actor, street_id: int) -> bool:
    return can_view_street(actor, street_id)
