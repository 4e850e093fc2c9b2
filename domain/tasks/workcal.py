"""The working-day calendar held in the database: loading it, and admins keeping it current.

Each year with official data has a `CalendarYear` row and, as `CalendarDay` rows, its
exceptions to Monday–Friday. Years come from the `chinesecalendar` package (the data
migration and `gongjian calendar-sync`) or from an admin who types in the State
Council's notice once it is published. A year without a row falls back to
Monday–Friday, and pages showing a deadline in it say so (`calendar_warning`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select

from domain.errors import NotFound, ValidationFailed
from domain.models import CalendarDay, CalendarYear, User
from domain.models.base import utcnow
from domain.permissions import Actor, can_administer, require
from domain.tasks.calendar import BEIJING, WorkCalendar, build_calendar
from domain.tasks.calendar_input import DayRow, arrangement_form, check_year_input
from domain.tasks.calendar_seed import (
    PACKAGE,
    package_exceptions,
    package_note,
    package_version,
    package_years,
)
from domain.uow import UnitOfWork

SOURCE_PACKAGE = PACKAGE
SOURCE_ADMIN = "admin"
MIN_YEAR, MAX_YEAR = 2000, 2100


def _bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NotFound(f"只能管理 {MIN_YEAR}–{MAX_YEAR} 年的工作日历。")


def today_in_beijing() -> date:
    return datetime.now(BEIJING).date()


async def load_calendar(uow: UnitOfWork) -> WorkCalendar:
    """The whole calendar (a few hundred small rows, read as plain tuples)."""
    years = set(await uow.session.scalars(select(CalendarYear.year)))
    rows = await uow.session.execute(select(CalendarDay.day, CalendarDay.workday))
    # A day outside every held year cannot come from our writes; ignore it rather than
    # let it half-apply in a year that is shown as Monday–Friday.
    return build_calendar(((d, w) for d, w in rows if d.year in years), years)


def missing_years_text(years: Iterable[int]) -> str | None:
    listed = "、".join(f"{y}年" for y in sorted(years))
    if not listed:
        return None
    return f"{listed}尚未录入国务院公布的节假日安排，期限暂按周一至周五工作日计算。"


def calendar_warning(cal: WorkCalendar, *moments: datetime | date | None) -> str | None:
    """The warning to show next to deadlines that fall in a year without official data."""
    return missing_years_text(cal.missing_years(*moments))


@dataclass(frozen=True)
class YearSummary:
    year: int
    source: str
    note: str
    holidays: int  # holidays on weekdays
    workdays: int  # make-up workdays on weekends
    updated_at: datetime
    updated_by: str | None

    @property
    def from_package(self) -> bool:
        return self.source == SOURCE_PACKAGE


@dataclass(frozen=True)
class CalendarOverview:
    years: list[YearSummary]  # newest first
    today: date
    # The current and the next year, when they have no official data.
    missing: list[int]

    @property
    def warning(self) -> str | None:
        return missing_years_text(self.missing)

    @property
    def recent(self) -> list[YearSummary]:
        """Years deadlines fall in now (from two years back), and every year an admin entered."""
        return [y for y in self.years if self._is_recent(y)]

    @property
    def older(self) -> list[YearSummary]:
        return [y for y in self.years if not self._is_recent(y)]

    def _is_recent(self, y: YearSummary) -> bool:
        return y.year >= self.today.year - 2 or not y.from_package


async def _summaries(uow: UnitOfWork, only_year: int | None = None) -> list[YearSummary]:
    s = uow.session
    stmt = select(CalendarYear, User.display_name).outerjoin(
        User, User.id == CalendarYear.updated_by_id
    )
    days = select(CalendarDay.day, CalendarDay.workday)
    if only_year is not None:
        first, last = _bounds(only_year)
        stmt = stmt.where(CalendarYear.year == only_year)
        days = days.where(CalendarDay.day.between(first, last))
    counts: dict[tuple[int, bool], int] = {}
    for day, workday in await s.execute(days):
        counts[day.year, workday] = counts.get((day.year, workday), 0) + 1
    out = [
        YearSummary(
            year=row.year,
            source=row.source,
            note=row.note,
            holidays=counts.get((row.year, False), 0),
            workdays=counts.get((row.year, True), 0),
            updated_at=row.updated_at,
            updated_by=name,
        )
        for row, name in (await s.execute(stmt))
    ]
    return sorted(out, key=lambda y: -y.year)


async def calendar_overview(
    uow: UnitOfWork, actor: Actor, today: date | None = None
) -> CalendarOverview:
    require(can_administer(actor))
    today = today or today_in_beijing()
    years = await _summaries(uow)
    held = {y.year for y in years}
    missing = [y for y in (today.year, today.year + 1) if y not in held]
    return CalendarOverview(years=years, today=today, missing=missing)


@dataclass(frozen=True)
class YearDetail:
    year: int
    summary: YearSummary | None  # None: not held, Monday–Friday fallback
    days: list[DayRow]
    form: dict[str, str]  # the stored arrangement as the edit form's text


async def _days(uow: UnitOfWork, year: int) -> list[DayRow]:
    first, last = _bounds(year)
    rows = await uow.session.execute(
        select(CalendarDay.day, CalendarDay.workday, CalendarDay.name)
        .where(CalendarDay.day.between(first, last))
        .order_by(CalendarDay.day)
    )
    return [DayRow(d, w, n) for d, w, n in rows]


async def year_detail(uow: UnitOfWork, actor: Actor, year: int) -> YearDetail:
    require(can_administer(actor))
    _check_year(year)
    summaries = await _summaries(uow, year)
    summary = summaries[0] if summaries else None
    days = await _days(uow, year) if summary else []
    # The package's import note describes the package, not an admin's correction of it.
    note = summary.note if summary and not summary.from_package else ""
    return YearDetail(year, summary, days, arrangement_form(days, note))


def _audit_view(days: list[DayRow], source: str | None, note: str) -> dict[str, object]:
    form = arrangement_form(days, note)
    return {
        "source": source,
        "note": note,
        "holidays": "；".join(form["holidays"].splitlines()),
        "workdays": "；".join(form["workdays"].splitlines()),
    }


async def _replace_days(uow: UnitOfWork, year: int, days: Iterable[DayRow]) -> None:
    first, last = _bounds(year)
    await uow.session.execute(
        delete(CalendarDay)
        .where(CalendarDay.day.between(first, last))
        .execution_options(synchronize_session=False)
    )
    uow.session.add_all(CalendarDay(day=d.day, workday=d.workday, name=d.name) for d in days)


async def save_year(uow: UnitOfWork, actor: Actor, year: int, raw: Mapping[str, str]) -> None:
    """Replace a year's arrangement with the one an admin typed in from the official notice."""
    require(can_administer(actor))
    _check_year(year)
    days, note, errors = check_year_input(year, raw)
    if errors:
        raise ValidationFailed(errors, f"{year} 年的节假日安排有误，未保存。请按提示修改。")
    row = await uow.session.get(CalendarYear, year)
    before = _audit_view(
        await _days(uow, year), row.source if row else None, row.note if row else ""
    )
    await _replace_days(uow, year, days)
    if row is None:
        row = CalendarYear(year=year)
        uow.session.add(row)
    row.source = SOURCE_ADMIN
    row.note = note
    row.updated_at = utcnow()
    row.updated_by_id = actor.user_id
    holidays = sum(1 for d in days if not d.workday)
    uow.audit(
        "calendar.save_year",
        "calendar_year",
        year,
        f"录入 {year} 年节假日安排：工作日放假 {holidays} 天，调休上班 {len(days) - holidays} 天",
        before,
        _audit_view(days, SOURCE_ADMIN, note),
    )


async def delete_year(uow: UnitOfWork, actor: Actor, year: int) -> None:
    """Drop a year's official data: it falls back to Monday–Friday (and pages warn)."""
    require(can_administer(actor))
    _check_year(year)
    row = await uow.session.get(CalendarYear, year)
    if row is None:
        raise NotFound(f"{year} 年没有录入的节假日安排。")
    before = _audit_view(await _days(uow, year), row.source, row.note)
    await _replace_days(uow, year, [])
    await uow.session.delete(row)
    uow.audit(
        "calendar.delete_year",
        "calendar_year",
        year,
        f"删除 {year} 年节假日安排，改按周一至周五计算",
        before,
        None,
    )


async def sync_package_years(uow: UnitOfWork) -> list[int]:
    """Add each year the installed `chinesecalendar` knows and the database lacks. A year
    already held — above all one an admin entered — is never touched. Idempotent."""
    held = set(await uow.session.scalars(select(CalendarYear.year)))
    added = [y for y in package_years() if y not in held]
    note = package_note()
    for year in added:
        seeded = [DayRow(s.day, s.workday, s.name) for s in package_exceptions(year)]
        await _replace_days(uow, year, seeded)
        uow.session.add(
            CalendarYear(year=year, source=SOURCE_PACKAGE, note=note, updated_at=utcnow())
        )
    if added:
        span = f"{added[0]}–{added[-1]}" if len(added) > 1 else str(added[0])
        uow.audit(
            "calendar.sync",
            "calendar_year",
            span,
            f"从 {PACKAGE} {package_version()} 补充 {len(added)} 个年份的节假日安排（{span}）",
            None,
            {"years": added},
        )
    return added
