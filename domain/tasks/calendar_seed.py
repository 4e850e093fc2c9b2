"""The official calendar as the `chinesecalendar` package knows it (pure: no database).

The package is only a seed: `gongjian calendar-sync` (and, frozen in a copy, the data
migration) store its years in our own tables, which admins then keep up to date. Only
the exceptions to Monday–Friday are kept: a holiday on a weekday (workday False) and a
make-up workday (调休上班) on a weekend (workday True). A holiday on a Saturday or
Sunday changes nothing and is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar  # type: ignore[import-untyped]

PACKAGE = "chinesecalendar"

# The package's English holiday names → the names on the State Council's notice.
HOLIDAY_NAMES: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    # 2015-09-03, a one-off holiday.
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
MAKEUP_SUFFIX = "调休上班"


@dataclass(frozen=True)
class SeedDay:
    day: date
    workday: bool
    name: str


def chinese_name(english: str) -> str:
    """A holiday's Chinese name; an unknown (newer) one keeps the package's English name."""
    return HOLIDAY_NAMES.get(english, english)


def package_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # pragma: no cover - installed from the lock file
        return "unknown"


def package_note() -> str:
    return f"由 {PACKAGE} {package_version()} 导入"


def package_years() -> list[int]:
    """Every year the installed package has official data for."""
    holidays: dict[date, str] = chinese_calendar.holidays
    return list(range(min(holidays).year, max(holidays).year + 1))


def package_exceptions(year: int) -> list[SeedDay]:
    """The exceptions to Monday–Friday in `year` according to the package, by date."""
    holidays: dict[date, str] = chinese_calendar.holidays
    workdays: dict[date, str] = chinese_calendar.workdays
    days = [
        SeedDay(d, False, chinese_name(name))
        for d, name in holidays.items()
        if d.year == year and d.weekday() < 5
    ]
    days += [
        SeedDay(d, True, chinese_name(name) + MAKEUP_SUFFIX)
        for d, name in workdays.items()
        if d.year == year and d.weekday() >= 5
    ]
    return sorted(days, key=lambda s: s.day)
