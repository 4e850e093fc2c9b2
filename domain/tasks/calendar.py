"""Working-day arithmetic on the official Chinese calendar (pure: no I/O).

The calendar is data: the holidays on weekdays and the make-up workdays (调休)
on weekends of each year with official data. A year without official data
falls back to Monday–Friday, and `WorkCalendar.missing_years` says so, so a
page can warn that a deadline in that year is provisional.

Deadline rules:
- N working days: the clock starts at assignment; the deadline is the end
  (24:00 Beijing time) of the N-th working day after the day of assignment.
- Hours or minutes: wall-clock time from assignment (urgent work — a whistle's
  report-in, an emergency — runs through weekends and holidays).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from domain.enums import LimitUnit

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class WorkCalendar:
    # Exceptions to Monday–Friday: day → True for a make-up workday, False for a holiday.
    exceptions: Mapping[date, bool] = field(default_factory=dict)
    # Years for which official data is held.
    official_years: frozenset[int] = frozenset()

    def is_workday(self, day: date) -> bool:
        override = self.exceptions.get(day)
        if override is not None:
            return override
        return day.weekday() < 5

    def has_official(self, year: int) -> bool:
        return year in self.official_years

    def missing_years(self, *moments: datetime | date | None) -> list[int]:
        """Years among these moments with no official data (the Monday–Friday fallback).

        A moment at exactly midnight Beijing time counts for the day before: a deadline of
        24:00 on 31 December is a deadline in that year, not in the next."""
        years = {_day_ending(m).year for m in moments if m is not None}
        return sorted(y for y in years if y not in self.official_years)

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (not counting `start` itself)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days `end` lies after `start`.

        Counted arithmetically (weekdays by ordinal, then the exceptions in range), not day
        by day: a dashboard asks this of tasks overdue for years.
        """
        if end <= start:
            return -self.working_days_between(end, start) if end < start else 0
        count = _weekdays_through(end) - _weekdays_through(start)
        days = self._exception_days
        for day in days[bisect_right(days, start) : bisect_right(days, end)]:
            weekday = day.weekday() < 5
            if self.exceptions[day] and not weekday:
                count += 1  # a make-up workday on a weekend
            elif not self.exceptions[day] and weekday:
                count -= 1  # a holiday on a weekday
        return count

    @cached_property
    def _exception_days(self) -> list[date]:
        return sorted(self.exceptions)

    def deadline(self, assigned_at: datetime, value: int, unit: LimitUnit) -> datetime:
        if value <= 0:
            raise ValueError("a time limit must be positive")
        if unit is LimitUnit.MINUTES:
            return assigned_at + timedelta(minutes=value)
        if unit is LimitUnit.HOURS:
            return assigned_at + timedelta(hours=value)
        last = self.add_working_days(local_date(assigned_at), value)
        return end_of_day(last)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds between two moments that fall on working days (Beijing days)."""
        if end <= start:
            return 0.0
        total = 0.0
        cursor = start.astimezone(BEIJING)
        stop = end.astimezone(BEIJING)
        while cursor < stop:
            next_midnight = datetime.combine(
                cursor.date() + timedelta(days=1), time(0), tzinfo=BEIJING
            )
            segment_end = min(next_midnight, stop)
            if self.is_workday(cursor.date()):
                total += (segment_end - cursor).total_seconds()
            cursor = segment_end
        return total

    def fraction_left(
        self, assigned_at: datetime, deadline: datetime, now: datetime, unit: LimitUnit
    ) -> float:
        """Share of the allowed time still left (0 when overdue). Working-day limits count
        working time only, so a holiday does not eat into the share."""
        if now >= deadline:
            return 0.0
        if unit is LimitUnit.WORKING_DAYS:
            whole = self.working_seconds(assigned_at, deadline)
            left = self.working_seconds(now, deadline)
        else:
            whole = (deadline - assigned_at).total_seconds()
            left = (deadline - now).total_seconds()
        if whole <= 0:
            return 0.0
        return max(0.0, min(1.0, left / whole))


def _weekdays_through(day: date) -> int:
    """Mondays–Fridays from 0001-01-01 (a Monday, ordinal 1) through `day`."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def local_date(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        return moment.astimezone(BEIJING).date()
    return moment


def _day_ending(moment: datetime | date) -> date:
    """The Beijing day a moment belongs to, midnight being 24:00 of the day before."""
    if isinstance(moment, datetime):
        local = moment.astimezone(BEIJING)
        if local.time() == time(0):
            return local.date() - timedelta(days=1)
    return local_date(moment)


def end_of_day(day: date) -> datetime:
    """24:00 Beijing time of `day`, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BEIJING).astimezone(UTC)


def build_calendar(rows: Iterable[tuple[date, bool]], years: Iterable[int]) -> WorkCalendar:
    return WorkCalendar(exceptions=dict(rows), official_years=frozenset(years))
