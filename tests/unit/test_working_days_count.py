"""`working_days_between` counts arithmetically; it must agree with counting day by day."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.tasks.calendar import WorkCalendar
from domain.tasks.calendar_seed import package_exceptions, package_years

OFFICIAL = WorkCalendar(
    exceptions={d.day: d.workday for y in package_years() for d in package_exceptions(y)},
    official_years=frozenset(package_years()),
)


def by_day(cal: WorkCalendar, start: date, end: date) -> int:
    if end < start:
        return -by_day(cal, end, start)
    return sum(1 for i in range(1, (end - start).days + 1) if cal.is_workday(start + timedelta(i)))


days = st.dates(min_value=date(2003, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=300, deadline=None)
@given(days, days)
def test_agrees_with_counting_day_by_day(start: date, end: date) -> None:
    assert OFFICIAL.working_days_between(start, end) == by_day(OFFICIAL, start, end)


def test_known_spans() -> None:
    # Spring Festival 2026: Feb 16–20 and 23 off, Sat Feb 14 and Sat Feb 28 worked.
    assert OFFICIAL.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
    # Across the year into 2027 (no official data: Monday–Friday).
    assert OFFICIAL.working_days_between(date(2026, 12, 31), date(2027, 1, 8)) == 6
    assert OFFICIAL.working_days_between(date(2026, 1, 5), date(2026, 1, 5)) == 0
