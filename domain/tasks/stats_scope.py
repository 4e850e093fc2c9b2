"""What a supervision dashboard covers (督办统计): the period and filters a user chose,
and the streets they may look at. Pure parsing, and the access checks of the pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from domain.enums import OrgLevel, Role, TaskSource
from domain.errors import NotFound, PermissionDenied
from domain.models import Organization
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor, can_view_district, can_view_street
from domain.tasks.calendar import end_of_day, local_date
from domain.uow import UnitOfWork

MAX_CUSTOM_DAYS = 366
SUPERVISORS = (Role.STREET_SECRETARY, Role.SUPERVISOR)
REFUSED_MESSAGE = "督办统计仅向街道书记、督办员、区级查看人员和平台管理员开放。"


# ---- periods and filters ----------------------------------------------------------------


class PeriodKind(StrEnum):
    MONTH = "month"
    LAST_MONTH = "last_month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


PERIOD_LABELS = {
    PeriodKind.MONTH: "本月",
    PeriodKind.LAST_MONTH: "上月",
    PeriodKind.QUARTER: "本季度",
    PeriodKind.YEAR: "本年",
    PeriodKind.CUSTOM: "自定义",
}


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return end_of_day(self.first - timedelta(days=1))

    @property
    def end(self) -> datetime:
        return end_of_day(self.last)

    @property
    def text(self) -> str:
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def period_for(kind: PeriodKind, today: date) -> Period:
    if kind is PeriodKind.LAST_MONTH:
        return Period(kind, *_month(today.replace(day=1) - timedelta(days=1)))
    if kind is PeriodKind.QUARTER:
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, first, _month(date(first.year, first.month + 2, 1))[1])
    if kind is PeriodKind.YEAR:
        return Period(kind, date(today.year, 1, 1), date(today.year, 12, 31))
    return Period(PeriodKind.MONTH, *_month(today))


def month_period(month: date) -> Period:
    return Period(PeriodKind.CUSTOM, *_month(month))


@dataclass(frozen=True)
class StatsFilter:
    period: Period
    source: TaskSource | None = None
    unit_id: int | None = None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_filter(
    raw: Mapping[str, str], today: date, unit_ids: Iterable[int]
) -> tuple[StatsFilter, dict[str, str]]:
    """The filter asked for, and a message per field that could not be used (that part
    falls back to its default, so the page still shows figures)."""
    errors: dict[str, str] = {}
    try:
        dates = raw.get("from") or raw.get("to")
        kind = PeriodKind(raw.get("period") or (PeriodKind.CUSTOM if dates else PeriodKind.MONTH))
    except ValueError:
        kind = PeriodKind.MONTH
        errors["period"] = "请选择统计周期。"
    period = period_for(kind, today)
    if kind is PeriodKind.CUSTOM:
        first, last = _date(raw.get("from", "")), _date(raw.get("to", ""))
        if first is None:
            errors["from"] = "请填写开始日期（如 2026-01-01）。"
        if last is None:
            errors["to"] = "请填写结束日期（如 2026-03-31）。"
        if first and last:
            if last < first:
                errors["to"] = "结束日期不能早于开始日期。"
            elif (last - first).days >= MAX_CUSTOM_DAYS:
                errors["to"] = f"自定义周期最长 {MAX_CUSTOM_DAYS} 天，请缩短范围。"
            else:
                period = Period(kind, first, last)
        if period.kind is not PeriodKind.CUSTOM:
            period = period_for(PeriodKind.MONTH, today)
    source: TaskSource | None = None
    if raw.get("source"):
        try:
            source = TaskSource(raw["source"])
        except ValueError:
            errors["source"] = "请从列表中选择任务来源。"
    unit_id = parse_id(raw.get("unit", "")) if raw.get("unit") else None
    if raw.get("unit") and unit_id not in set(unit_ids):
        errors["unit"] = "请从列表中选择承办单位。"
        unit_id = None
    return StatsFilter(period, source, unit_id), errors


# ---- who may look -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    title: str
    streets: list[Organization]
    district: Organization | None = None

    @property
    def street_ids(self) -> list[int]:
        return [s.id for s in self.streets]

    def street_name(self, street_id: int) -> str:
        return next((s.name for s in self.streets if s.id == street_id), "")


def can_supervise(actor: Actor, street_id: int) -> bool:
    """Street secretaries and supervisors of the street, the district above it, admins."""
    return (
        actor.is_admin
        or street_id in actor.streets_with(*SUPERVISORS)
        or street_id in actor.district_street_ids
    )


async def street_scope(uow: UnitOfWork, actor: Actor, street_id: int) -> Scope:
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if street is None or street.level != OrgLevel.STREET or not can_view_street(actor, street_id):
        raise NotFound("街道不存在，或不在您可查看的范围内。")
    if not can_supervise(actor, street_id):
        raise PermissionDenied(REFUSED_MESSAGE)
    return Scope(street.name, [street])


async def district_scope(uow: UnitOfWork, actor: Actor, district_id: int) -> Scope:
    district = await uow.session.get(Organization, district_id) if is_row_id(district_id) else None
    if district is None or district.level != OrgLevel.DISTRICT:
        raise NotFound("区不存在。")
    if not can_view_district(actor, district_id):
        raise NotFound("区不存在，或不在您可查看的范围内。")
    streets = await uow.session.scalars(
        select(Organization)
        .where(Organization.parent_id == district_id, Organization.level == OrgLevel.STREET)
        .order_by(Organization.id)
    )
    return Scope(district.name, list(streets), district)


async def supervisable(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    """Districts and streets this actor may supervise (the landing page's choices)."""
    stmt = select(Organization).where(
        Organization.level.in_([OrgLevel.DISTRICT.value, OrgLevel.STREET.value])
    )
    if not actor.is_admin:
        ids = (
            actor.streets_with(*SUPERVISORS) | actor.district_street_ids | actor.viewer_district_ids
        )
        stmt = stmt.where(Organization.id.in_(sorted(ids)))
    return list(await uow.session.scalars(stmt.order_by(Organization.level, Organization.id)))


def today_of(now: datetime) -> date:
    return local_date(now)
