"""Supervision dashboard figures (督办统计) for a street, or every street of a district.

Every query is bounded either by what is open (the partial indexes on open states) or by
the chosen period (the (street_id, assigned_at) index), never by the whole history, and
groups in SQL: a page costs the same handful of statements however many units or tasks
there are. Period figures count the tasks assigned in the period.

A community is not scored on a task outside the admission catalogue (准入外) — neither
when it refused the task nor when it handled it anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select
from sqlalchemy.orm import aliased

from domain.enums import (
    AssigneeRole,
    AssigneeState,
    NoticeLevel,
    Rating,
    TaskState,
    UnitKind,
)
from domain.models import Organization, SupervisionNotice, Task, TaskAssignee, Unit
from domain.tasks.calendar import WorkCalendar
from domain.tasks.machine import FINISHED_STATES, OPEN_STATES
from domain.tasks.stats_scope import (
    MAX_CUSTOM_DAYS,
    PERIOD_LABELS,
    REFUSED_MESSAGE,
    Period,
    PeriodKind,
    Scope,
    StatsFilter,
    can_supervise,
    district_scope,
    month_period,
    parse_filter,
    period_for,
    street_scope,
    supervisable,
    today_of,
)
from domain.tasks.supervision_rules import SUPERVISED_VALUES, working_days_overdue
from domain.tasks.workcal import calendar_warning, load_calendar
from domain.uow import UnitOfWork

__all__ = [
    "MAX_CUSTOM_DAYS",
    "PERIOD_LABELS",
    "REFUSED_MESSAGE",
    "Figures",
    "Period",
    "PeriodKind",
    "Ranking",
    "Rates",
    "Scope",
    "StatsFilter",
    "bulletins",
    "can_supervise",
    "district_scope",
    "figures",
    "month_period",
    "monthly_ranking",
    "parse_filter",
    "percent",
    "period_for",
    "street_scope",
    "supervisable",
    "today_of",
    "unit_choices",
    "unit_rates",
]

OPEN_VALUES = sorted(s.value for s in OPEN_STATES)
FINISHED_VALUES = sorted(s.value for s in FINISHED_STATES)
REVIEWED_VALUES = [TaskState.REPORTED.value, *FINISHED_VALUES]
SATISFIED = [Rating.SATISFIED.value, Rating.BASICALLY_SATISFIED.value]
BOARD_LEVELS = (NoticeLevel.RED, NoticeLevel.YELLOW, NoticeLevel.BLUE)
BOARD_SIZE = 8
OVERDUE_SIZE = 50
RANKING_MIN_TASKS = 3
RANKING_SIZE = 5
# Weights of the composite score (红黑榜), in points out of 100.
WEIGHTS = {
    "on_time_acceptance": 20,
    "on_time_completion": 35,
    "satisfaction": 25,
    "no_return": 10,
    "no_rework": 10,
}


# ---- figures ------------------------------------------------------------------------------


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Rates:
    """Counts behind the rates; a rate is None when nothing counts towards it."""

    handled: int = 0
    accept_base: int = 0
    accepted_on_time: int = 0
    lead: int = 0
    returned: int = 0
    review_base: int = 0
    reworked: int = 0
    finished: int = 0
    finished_on_time: int = 0
    rated: int = 0
    satisfied: int = 0

    def add(self, other: Rates) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def on_time_acceptance(self) -> float | None:
        return _ratio(self.accepted_on_time, self.accept_base)

    @property
    def return_rate(self) -> float | None:
        return _ratio(self.returned, self.lead)

    @property
    def rework_rate(self) -> float | None:
        return _ratio(self.reworked, self.review_base)

    @property
    def on_time_completion(self) -> float | None:
        return _ratio(self.finished_on_time, self.finished)

    @property
    def satisfaction(self) -> float | None:
        return _ratio(self.satisfied, self.rated)

    @property
    def score(self) -> float | None:
        """Composite out of 100 over the rates that apply (weights re-scaled); none until
        acceptance or completion can be judged (returns alone say too little)."""
        if self.on_time_acceptance is None and self.on_time_completion is None:
            return None
        parts = {
            "on_time_acceptance": self.on_time_acceptance,
            "on_time_completion": self.on_time_completion,
            "satisfaction": self.satisfaction,
            "no_return": None if self.return_rate is None else 1 - self.return_rate,
            "no_rework": None if self.rework_rate is None else 1 - self.rework_rate,
        }
        weight = sum(WEIGHTS[k] for k, v in parts.items() if v is not None)
        if not weight:
            return None
        return 100 * sum(WEIGHTS[k] * v for k, v in parts.items() if v is not None) / weight


RATE_COLUMNS = tuple(Rates.__dataclass_fields__)


@dataclass
class UnitFigures:
    unit_id: int
    name: str
    kind: str
    street_id: int
    rates: Rates
    open_overdue: int = 0


@dataclass
class StreetFigures:
    street: Organization
    open: int = 0
    overdue: int = 0
    colours: dict[str, int] = field(default_factory=dict)
    assigned: int = 0
    rates: Rates = field(default_factory=Rates)


@dataclass
class TaskLine:
    id: int
    title: str
    street_id: int
    state: str
    notice_level: str | None
    deadline: datetime
    assigned_at: datetime
    lead_name: str | None
    late_days: int = 0

    @property
    def ref(self) -> str:
        return f"{self.assigned_at.year}-{self.id:06d}"


@dataclass
class Figures:
    scope: Scope
    filter: StatsFilter
    now: datetime
    open_by_state: dict[str, int]
    period_by_state: dict[str, int]
    colours: dict[str, int]
    board: dict[str, list[TaskLine]]
    overdue: list[TaskLine]
    overdue_total: int
    units: list[UnitFigures]
    streets: list[StreetFigures]
    totals: Rates
    warning: str | None = None

    @property
    def open_total(self) -> int:
        return sum(self.open_by_state.values())

    @property
    def period_total(self) -> int:
        return sum(self.period_by_state.values())


def _task_filters(
    scope: Scope, flt: StatsFilter, by_unit: bool = True
) -> list[ColumnElement[bool]]:
    """Scope and filters on tasks; with `by_unit`, only tasks the chosen unit handles."""
    where: list[ColumnElement[bool]] = [Task.street_id.in_(scope.street_ids)]
    if flt.source is not None:
        where.append(Task.source == flt.source.value)
    if by_unit and flt.unit_id is not None:
        where.append(
            exists().where(
                TaskAssignee.task_id == Task.id,
                TaskAssignee.unit_id == flt.unit_id,
                TaskAssignee.state != AssigneeState.RELEASED.value,
            )
        )
    return where


def _in_period(flt: StatsFilter) -> list[ColumnElement[bool]]:
    return [Task.assigned_at >= flt.period.start, Task.assigned_at < flt.period.end]


def _rate_columns(now: datetime) -> list[Any]:
    """Task-level counts (a street's or the scope's figures)."""
    finished = Task.state.in_(FINISHED_VALUES)
    return [
        func.count(Task.id),
        _count(Task.accepted_at.is_not(None) | (Task.accept_due_at < now)),
        _count(Task.accepted_at <= Task.accept_due_at),
        func.count(Task.id),
        _count(Task.return_count > 0),
        _count(Task.state.in_(REVIEWED_VALUES) | (Task.rework_count > 0)),
        _count(Task.rework_count > 0),
        _count(finished),
        _count(finished & (Task.reported_at <= Task.deadline)),
        _count(Task.rating.is_not(None)),
        _count(Task.rating.in_(SATISFIED)),
    ]


def _lead_join(stmt: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    lead = aliased(TaskAssignee)
    unit = aliased(Unit)
    return (
        stmt.outerjoin(
            lead,
            and_(
                lead.task_id == Task.id,
                lead.role == AssigneeRole.LEAD.value,
                lead.state != AssigneeState.RELEASED.value,
            ),
        )
        .outerjoin(unit, unit.id == lead.unit_id)
        .add_columns(unit.name.label("lead_name"))
    )


_LINE_COLUMNS = (
    Task.id,
    Task.title,
    Task.street_id,
    Task.state,
    Task.notice_level,
    Task.deadline,
    Task.assigned_at,
)


def _line(row: Any, now: datetime, cal: WorkCalendar) -> TaskLine:
    return TaskLine(
        id=row.id,
        title=row.title,
        street_id=row.street_id,
        state=row.state,
        notice_level=row.notice_level,
        deadline=row.deadline,
        assigned_at=row.assigned_at,
        lead_name=row.lead_name,
        late_days=working_days_overdue(row.deadline, now, cal),
    )


async def unit_rates(
    uow: UnitOfWork, scope: Scope, flt: StatsFilter, now: datetime
) -> list[UnitFigures]:
    """Per handling unit over the tasks assigned in the period: one grouped query.

    Acceptance counts each unit's own acceptance against the task's acceptance limit;
    returns, rework, completion and satisfaction are the lead unit's. A lead released
    after its return request still counts in the return rate, and nowhere else."""
    a, u = TaskAssignee, Unit
    lead = a.role == AssigneeRole.LEAD.value
    live = a.state != AssigneeState.RELEASED.value
    live_lead = lead & live
    finished = Task.state.in_(FINISHED_VALUES)
    exempt = (u.kind == UnitKind.COMMUNITY.value) & (
        Task.outside_admission.is_(True) | (a.state == AssigneeState.REFUSED.value)
    )
    stmt = (
        select(
            a.unit_id,
            u.name,
            u.kind,
            u.street_id,
            _count(live),
            _count(live & (a.accepted_at.is_not(None) | (Task.accept_due_at < now))),
            _count(live & (a.accepted_at <= Task.accept_due_at)),
            _count(lead),
            _count(lead & a.return_reason.is_not(None) & (a.return_reason != "outside_admission")),
            _count(live_lead & (Task.state.in_(REVIEWED_VALUES) | (Task.rework_count > 0))),
            _count(live_lead & (Task.rework_count > 0)),
            _count(live_lead & finished),
            _count(live_lead & finished & (Task.reported_at <= Task.deadline)),
            _count(live_lead & Task.rating.is_not(None)),
            _count(live_lead & Task.rating.in_(SATISFIED)),
            _count(live & Task.state.in_(SUPERVISED_VALUES) & (Task.deadline < now)),
        )
        .join(Task, Task.id == a.task_id)
        .join(u, u.id == a.unit_id)
        .where(*_task_filters(scope, flt, by_unit=False), *_in_period(flt), ~exempt)
        .group_by(a.unit_id, u.name, u.kind, u.street_id)
    )
    if flt.unit_id is not None:
        stmt = stmt.where(a.unit_id == flt.unit_id)
    out = []
    for row in await uow.session.execute(stmt):
        unit_id, name, kind, street_id, *counts = row
        rates = Rates(*(int(c) for c in counts[: len(RATE_COLUMNS)]))
        out.append(UnitFigures(unit_id, name, kind, street_id, rates, int(counts[-1])))
    return sorted(out, key=lambda f: (f.kind, -(f.rates.score or -1), f.name))


async def unit_choices(
    uow: UnitOfWork, scope: Scope, kinds: Iterable[UnitKind]
) -> list[tuple[int, str, str]]:
    """Units offered by the filter: (id, name, street name)."""
    rows = await uow.session.execute(
        select(Unit.id, Unit.name, Unit.street_id)
        .where(Unit.street_id.in_(scope.street_ids), Unit.kind.in_([k.value for k in kinds]))
        .order_by(Unit.street_id, Unit.kind, Unit.name)
    )
    return [(uid, name, scope.street_name(sid)) for uid, name, sid in rows]


async def figures(
    uow: UnitOfWork, scope: Scope, flt: StatsFilter, now: datetime, with_units: bool = True
) -> Figures:
    s = uow.session
    where = _task_filters(scope, flt)
    cal = await load_calendar(uow)
    streets = {st.id: StreetFigures(st) for st in scope.streets}
    open_by_state: dict[str, int] = {}
    colours: dict[str, int] = {}
    overdue_total = 0
    supervised = set(SUPERVISED_VALUES)
    open_rows = await s.execute(
        select(
            Task.street_id,
            Task.state,
            Task.notice_level,
            func.count(Task.id),
            _count(Task.deadline < now),
        )
        .where(*where, Task.state.in_(OPEN_VALUES))
        .group_by(Task.street_id, Task.state, Task.notice_level)
    )
    for street_id, state, level, n, late in open_rows:
        open_by_state[state] = open_by_state.get(state, 0) + n
        sf = streets[street_id]
        sf.open += n
        if state in supervised:
            key = level or "none"
            colours[key] = colours.get(key, 0) + n
            sf.colours[key] = sf.colours.get(key, 0) + n
            overdue_total += int(late)
            sf.overdue += int(late)
    period_by_state: dict[str, int] = {}
    totals = Rates()
    period_rows = await s.execute(
        select(Task.street_id, Task.state, *_rate_columns(now))
        .where(*where, *_in_period(flt))
        .group_by(Task.street_id, Task.state)
    )
    for street_id, state, *counts in period_rows:
        rates = Rates(*(int(c) for c in counts))
        period_by_state[state] = period_by_state.get(state, 0) + rates.handled
        streets[street_id].assigned += rates.handled
        streets[street_id].rates.add(rates)
        totals.add(rates)
    rank = func.row_number().over(partition_by=Task.notice_level, order_by=(Task.deadline, Task.id))
    ranked = (
        select(Task.id.label("task_id"), rank.label("rn"))
        .where(*where, Task.state.in_(SUPERVISED_VALUES), Task.notice_level.is_not(None))
        .subquery()
    )
    board_rows = await s.execute(
        _lead_join(
            select(*_LINE_COLUMNS)
            .join(ranked, ranked.c.task_id == Task.id)
            .where(ranked.c.rn <= BOARD_SIZE)
            .order_by(Task.deadline, Task.id)
        )
    )
    board: dict[str, list[TaskLine]] = {lv.value: [] for lv in BOARD_LEVELS}
    for row in board_rows:
        board.setdefault(row.notice_level, []).append(_line(row, now, cal))
    overdue_rows = await s.execute(
        _lead_join(
            select(*_LINE_COLUMNS)
            .where(*where, Task.state.in_(SUPERVISED_VALUES), Task.deadline < now)
            .order_by(Task.deadline, Task.id)
            .limit(OVERDUE_SIZE)
        )
    )
    overdue = [_line(row, now, cal) for row in overdue_rows]
    units = await unit_rates(uow, scope, flt, now) if with_units else []
    deadlines = [t.deadline for lines in board.values() for t in lines]
    warning = calendar_warning(cal, now, flt.period.last, *deadlines)
    return Figures(
        scope=scope,
        filter=flt,
        now=now,
        open_by_state=open_by_state,
        period_by_state=period_by_state,
        colours=colours,
        board=board,
        overdue=overdue,
        overdue_total=overdue_total,
        units=units,
        streets=list(streets.values()),
        totals=totals,
        warning=warning,
    )


# ---- ranking and bulletins --------------------------------------------------------------


@dataclass
class Ranking:
    period: Period
    red: list[UnitFigures]  # 红榜, best first
    black: list[UnitFigures]  # 黑榜, worst first
    unranked: list[UnitFigures]  # too few tasks to rank
    ranked_count: int


async def monthly_ranking(
    uow: UnitOfWork, scope: Scope, month: date, now: datetime, size: int = RANKING_SIZE
) -> Ranking:
    """Best and worst units of a month by the composite score (at least
    RANKING_MIN_TASKS tasks handled); the rates behind each score come along."""
    period = month_period(month)
    units = await unit_rates(uow, scope, StatsFilter(period), now)
    ranked = [
        u for u in units if u.rates.handled >= RANKING_MIN_TASKS and u.rates.score is not None
    ]
    ranked.sort(key=lambda u: (-(u.rates.score or 0), u.name))
    n = min(size, len(ranked) // 2)
    return Ranking(
        period=period,
        red=ranked[:n],
        black=list(reversed(ranked[len(ranked) - n :])) if n else [],
        unranked=[u for u in units if u not in ranked],
        ranked_count=len(ranked),
    )


@dataclass(frozen=True)
class BulletinLine:
    id: int
    issued_at: datetime
    text: str
    street_id: int
    task_id: int
    title: str
    state: str
    deadline: datetime
    lead_name: str | None


async def bulletins(
    uow: UnitOfWork, scope: Scope, period: Period, limit: int = 200
) -> list[BulletinLine]:
    """Bulletins (通报) issued in the period, newest first."""
    n = SupervisionNotice
    stmt = _lead_join(
        select(n.id, n.issued_at, n.text, n.street_id, n.deadline, Task.id.label("task_id"))
        .join(Task, Task.id == n.task_id)
        .add_columns(Task.title, Task.state)
        .where(
            n.street_id.in_(scope.street_ids),
            n.level == NoticeLevel.BULLETIN.value,
            n.issued_at >= period.start,
            n.issued_at < period.end,
        )
        .order_by(n.issued_at.desc(), n.id.desc())
        .limit(limit)
    )
    return [
        BulletinLine(
            id=r.id,
            issued_at=r.issued_at,
            text=r.text,
            street_id=r.street_id,
            task_id=r.task_id,
            title=r.title,
            state=r.state,
            deadline=r.deadline,
            lead_name=r.lead_name,
        )
        for r in await uow.session.execute(stmt)
    ]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
