"""An admin's typed-in holiday arrangement: reading it strictly, and writing stored days back
as the same text (pure: no I/O).

One entry per line: a date or a range and a name, as on the State Council's notice —
`2027-01-01 元旦`, `2027-10-01~2027-10-07 国庆节`. Two lists: holidays (a range may
include weekend days, which are dropped, since only weekday holidays are exceptions to
Monday–Friday) and make-up workdays (Saturdays and Sundays only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
# The longest official holiday is nine days; a longer range is a typing mistake.
MAX_RANGE_DAYS = 31
NAME_MAX = 50  # CalendarDay.name
NOTE_MAX = 200  # CalendarYear.note
SHOWN_ERRORS = 5

_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_LINE = re.compile(rf"^{_DATE}(?:\s*(?:~|～|至|--)\s*{_DATE})?\s*(.*)$")


@dataclass(frozen=True)
class DayRow:
    day: date
    workday: bool
    name: str

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.day.weekday()]


def _holiday_lines(days: list[DayRow], makeups: set[date]) -> list[str]:
    """Holidays as lines, a run of one name across a weekend written as one range (it reads
    like the notice, and saving it again stores the same weekdays)."""
    runs: list[tuple[date, date, str]] = []
    for d in days:
        if runs:
            first, last, name = runs[-1]
            gap = [last + timedelta(i) for i in range(1, (d.day - last).days)]
            if name == d.name and all(g.weekday() >= 5 and g not in makeups for g in gap):
                runs[-1] = (first, d.day, name)
                continue
        runs.append((d.day, d.day, d.name))
    return [f"{a}~{b} {n}" if a != b else f"{a} {n}" for a, b, n in runs]


def arrangement_form(days: list[DayRow], note: str) -> dict[str, str]:
    """Stored days as the edit form's text; saving that text again stores the same days."""
    makeups = [d for d in days if d.workday]
    holidays = _holiday_lines([d for d in days if not d.workday], {d.day for d in makeups})
    return {
        "holidays": "\n".join(holidays),
        "workdays": "\n".join(f"{d.day} {d.name}" for d in makeups),
        "note": note,
    }


@dataclass(frozen=True)
class _Entry:
    line: int
    text: str
    days: list[date]
    name: str
    is_range: bool

    @property
    def where(self) -> str:
        return _where(self.line, self.text)


def _where(number: int, line: str) -> str:
    return f"第 {number} 行「{line if len(line) <= 40 else line[:40] + '…'}」"


def _date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _parse(text: str, year: int) -> tuple[list[_Entry], list[str]]:
    entries: list[_Entry] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        where = _where(number, line)
        match = _LINE.match(line)
        if match is None:
            errors.append(
                f"{where}：格式应为「{year}-10-01 国庆节」或「{year}-10-01~{year}-10-07 国庆节」。"
            )
            continue
        g = match.groups()
        start = _date(*g[0:3])
        end = _date(*g[3:6]) if g[3] else start
        name = " ".join(g[6].split())
        if start is None or end is None:
            errors.append(f"{where}：日期不存在。")
        elif start.year != year or end.year != year:
            errors.append(f"{where}：日期不在 {year} 年内。")
        elif end < start:
            errors.append(f"{where}：结束日期早于开始日期。")
        elif (end - start).days >= MAX_RANGE_DAYS:
            errors.append(f"{where}：日期范围超过 {MAX_RANGE_DAYS} 天，请检查。")
        elif not name:
            errors.append(f"{where}：请在日期后写明节日名称。")
        elif len(name) > NAME_MAX:
            errors.append(f"{where}：名称不能超过 {NAME_MAX} 个字。")
        else:
            span = [start + timedelta(i) for i in range((end - start).days + 1)]
            entries.append(_Entry(number, line, span, name, end != start))
    return entries, errors


def _by_day(entries: list[_Entry], errors: list[str]) -> dict[date, _Entry]:
    seen: dict[date, _Entry] = {}
    for entry in entries:
        for day in entry.days:
            if day in seen:
                errors.append(f"{entry.where}：{day} 已在第 {seen[day].line} 行列出。")
            else:
                seen[day] = entry
    return seen


def check_year_input(year: int, raw: Mapping[str, str]) -> tuple[list[DayRow], str, dict[str, str]]:
    """The exceptions to store and the note, or errors per field naming the lines."""
    holidays, holiday_errors = _parse(raw.get("holidays", ""), year)
    makeups, makeup_errors = _parse(raw.get("workdays", ""), year)
    for entry in holidays:
        day = entry.days[0]
        if not entry.is_range and day.weekday() >= 5:
            holiday_errors.append(
                f"{entry.where}：{day} 是{WEEKDAYS[day.weekday()]}，本来就休息，不必列入"
                "（写在放假日期范围内的周末可以）。"
            )
    for entry in makeups:
        for day in entry.days:
            if day.weekday() < 5:
                makeup_errors.append(
                    f"{entry.where}：{day} 是{WEEKDAYS[day.weekday()]}，"
                    "调休上班日应是星期六或星期日。"
                )
    off = _by_day(holidays, holiday_errors)
    on = _by_day(makeups, makeup_errors)
    for day in sorted(off.keys() & on.keys()):
        makeup_errors.append(
            f"{on[day].where}：{day} 同时列在放假日期中（第 {off[day].line} 行）。"
        )
    if not holidays and not holiday_errors:
        holiday_errors.append("请至少录入一个放假日期（每年都有落在工作日的法定节假日）。")
    note = " ".join(raw.get("note", "").split())
    errors = {
        field: _joined(found)
        for field, found in (("holidays", holiday_errors), ("workdays", makeup_errors))
        if found
    }
    if len(note) > NOTE_MAX:
        errors["note"] = f"备注不能超过 {NOTE_MAX} 个字。"
    days = [DayRow(d, False, e.name) for d, e in off.items() if d.weekday() < 5]
    days += [DayRow(d, True, e.name) for d, e in on.items()]
    return sorted(days, key=lambda r: r.day), note, errors


def _joined(errors: list[str]) -> str:
    shown = "\n".join(errors[:SHOWN_ERRORS])
    more = len(errors) - SHOWN_ERRORS
    return shown + (f"\n另有 {more} 处问题。" if more > 0 else "")
