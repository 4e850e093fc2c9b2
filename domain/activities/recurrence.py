"""Recurrence of an activity: the RRULE value, its Chinese description, and its dates.

The contract (shared with sign-up and the iCalendar feeds): `Activity.recurrence` is an
RFC 5545 RRULE value without DTSTART/UNTIL/COUNT, one of

- `FREQ=WEEKLY;BYDAY=MO,WE`            weekly on the chosen weekday(s)
- `FREQ=MONTHLY;BYDAY=1FR` (or `-1FR`)  monthly on the nth (1st–4th, or last) weekday
- `FREQ=MONTHLY;BYMONTHDAY=15`         monthly on a day of the month

optionally with `;INTERVAL=n`. It is expanded in Beijing wall-clock time from the first
date up to `recurrence_until` (a Beijing date, inclusive, at most 366 days after the first).
A month without the chosen day (the 31st in April) has no date that month: dateutil skips
it, as RFC 5545 says.

Everything here is pure (no I/O), so the form preview, the services and the tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_SPAN_DAYS = 366
MAX_INTERVAL = 12
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SHORT_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
LONG_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
NTH_NAMES = {1: "第一个", 2: "第二个", 3: "第三个", 4: "第四个", -1: "最后一个"}
CN_NUMBERS = ("", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")


class RepeatKind(StrEnum):
    NONE = "none"
    WEEKLY = "weekly"
    MONTHLY_NTH = "monthly_nth"  # e.g. the first Friday
    MONTHLY_DAY = "monthly_day"  # e.g. the 15th


class RecurrenceError(ValueError):
    """A rule or range the platform does not accept; the message is for the user (zh-CN)."""


@dataclass(frozen=True)
class Repeat:
    """The form's view of a rule."""

    kind: RepeatKind = RepeatKind.NONE
    interval: int = 1
    weekdays: tuple[int, ...] = ()  # weekly: 0 = Monday
    nth: int = 0  # monthly_nth: 1..4 or -1 (last)
    weekday: int = 0  # monthly_nth
    monthday: int = 0  # monthly_day: 1..31


def build_rule(repeat: Repeat) -> str:
    """The RRULE value for a repeat choice ("" for a one-off activity)."""
    if repeat.kind == RepeatKind.NONE:
        return ""
    if not 1 <= repeat.interval <= MAX_INTERVAL:
        raise RecurrenceError(f"间隔为 1–{MAX_INTERVAL}。")
    if repeat.kind == RepeatKind.WEEKLY:
        days = sorted(set(repeat.weekdays))
        if not days or any(not 0 <= d <= 6 for d in days):
            raise RecurrenceError("请至少选择一个星期几。")
        body = "FREQ=WEEKLY;BYDAY=" + ",".join(DAY_CODES[d] for d in days)
    elif repeat.kind == RepeatKind.MONTHLY_NTH:
        if repeat.nth not in NTH_NAMES or not 0 <= repeat.weekday <= 6:
            raise RecurrenceError("请选择第几个星期几（第一至第四个，或最后一个）。")
        body = f"FREQ=MONTHLY;BYDAY={repeat.nth}{DAY_CODES[repeat.weekday]}"
    else:
        if not 1 <= repeat.monthday <= 31:
            raise RecurrenceError("每月的日期为 1–31 日。")
        body = f"FREQ=MONTHLY;BYMONTHDAY={repeat.monthday}"
    return body + (f";INTERVAL={repeat.interval}" if repeat.interval != 1 else "")


def _int(text: str) -> int:
    text = text.strip()
    if not text.lstrip("-").isdecimal() or len(text) > 3:
        raise RecurrenceError("重复规则无法识别。")
    return int(text)


def parse_rule(rule: str) -> Repeat:
    """The repeat choice a stored rule stands for; refuses anything outside the contract."""
    rule = rule.strip()
    if not rule:
        return Repeat()
    parts: dict[str, str] = {}
    for part in rule.split(";"):
        key, sep, value = part.partition("=")
        if not sep or key in parts:
            raise RecurrenceError("重复规则无法识别。")
        parts[key.upper()] = value.upper()
    freq = parts.pop("FREQ", "")
    interval = _int(parts.pop("INTERVAL", "1"))
    if not 1 <= interval <= MAX_INTERVAL:
        raise RecurrenceError(f"间隔为 1–{MAX_INTERVAL}。")
    if freq == "WEEKLY" and set(parts) == {"BYDAY"}:
        codes = parts["BYDAY"].split(",")
        if any(c not in DAY_CODES for c in codes):
            raise RecurrenceError("重复规则无法识别。")
        days = tuple(sorted({DAY_CODES.index(c) for c in codes}))
        return Repeat(RepeatKind.WEEKLY, interval, weekdays=days)
    if freq == "MONTHLY" and set(parts) == {"BYDAY"}:
        value = parts["BYDAY"]
        code, nth = value[-2:], _int(value[:-2] or "0")
        if code not in DAY_CODES or nth not in NTH_NAMES:
            raise RecurrenceError("重复规则无法识别。")
        return Repeat(RepeatKind.MONTHLY_NTH, interval, nth=nth, weekday=DAY_CODES.index(code))
    if freq == "MONTHLY" and set(parts) == {"BYMONTHDAY"}:
        day = _int(parts["BYMONTHDAY"])
        if not 1 <= day <= 31:
            raise RecurrenceError("每月的日期为 1–31 日。")
        return Repeat(RepeatKind.MONTHLY_DAY, interval, monthday=day)
    raise RecurrenceError("重复规则无法识别。")


def describe(rule: str) -> str:
    """The rule in words: 每月第一个星期五, 每周三、周五, 每两周的周三, 每月 31 日."""
    repeat = parse_rule(rule)
    n = repeat.interval
    if repeat.kind == RepeatKind.NONE:
        return "不重复"
    if repeat.kind == RepeatKind.WEEKLY:
        days = "、".join(SHORT_NAMES[d] for d in repeat.weekdays)
        return f"每{days}" if n == 1 else f"每{CN_NUMBERS[n]}周的{days}"
    month = "每月" if n == 1 else f"每{CN_NUMBERS[n]}个月"
    if repeat.kind == RepeatKind.MONTHLY_NTH:
        return f"{month}{NTH_NAMES[repeat.nth]}{LONG_NAMES[repeat.weekday]}"
    text = f"{month}{repeat.monthday}日" if n == 1 else f"{month}的{repeat.monthday}日"
    if repeat.monthday > 28:
        text += f"（没有{repeat.monthday}日的月份跳过）"
    return text


def beijing(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)


def local_date(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def expand(
    rule: str, starts_at: datetime, ends_at: datetime, until: date | None
) -> list[tuple[datetime, datetime]]:
    """Every date of an activity as (start, end) in UTC.

    `starts_at`/`ends_at` are the first date's times (aware). For a recurring rule the
    first date is the rule's first date on or after `starts_at` (a "first Friday" series
    asked to start on a Tuesday begins that Friday), so the stored start always matches
    the rule, as iCalendar expects of DTSTART.
    """
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("aware datetimes expected")
    duration = ends_at - starts_at
    if not rule.strip():
        return [(starts_at.astimezone(UTC), ends_at.astimezone(UTC))]
    parse_rule(rule)  # refuse anything outside the contract before dateutil sees it
    if until is None:
        raise RecurrenceError("重复活动须填写重复截止日期。")
    first_day = local_date(starts_at)
    if until < first_day:
        raise RecurrenceError("重复截止日期不能早于第一次活动的日期。")
    if (until - first_day).days > MAX_SPAN_DAYS:
        raise RecurrenceError(
            f"重复活动最多安排 {MAX_SPAN_DAYS} 天（截止日期不晚于 "
            f"{first_day + timedelta(days=MAX_SPAN_DAYS)}）。"
        )
    wall = beijing(starts_at).replace(tzinfo=None)
    last = datetime.combine(until, time(23, 59, 59))
    rrule = rrulestr(f"RRULE:{rule}", dtstart=wall).replace(until=last)
    out: list[tuple[datetime, datetime]] = []
    for moment in rrule:
        start = moment.replace(tzinfo=BEIJING).astimezone(UTC)
        out.append((start, start + duration))
    if not out:
        raise RecurrenceError("所选日期范围内没有符合重复规则的日期。")
    return out


def date_words(start: datetime, end: datetime) -> str:
    """One date in words, Beijing time: 2026年12月04日 周五 15:00–17:00."""
    s, e = beijing(start), beijing(end)
    tail = f"{e:%H:%M}" if s.date() == e.date() else f"{e:%m月%d日 %H:%M}"
    return f"{s:%Y年%m月%d日} {SHORT_NAMES[s.weekday()]} {s:%H:%M}–{tail}"
