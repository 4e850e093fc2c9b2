"""Working-day arithmetic on the official 2026 calendar, and reading an admin's arrangement.

The calendar is built the way the database is seeded (domain/tasks/calendar_seed.py from
the `chinesecalendar` package). Expected days are worked out by hand in the comments.
2026: Spring Festival off Sun 15 – Mon 23 Feb, make-up workdays Sat 14 and Sat 28 Feb;
Mid-autumn Fri 25 Sep; National Day off 1–7 Oct, make-up Sun 20 Sep and Sat 10 Oct.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.enums import LimitUnit
from domain.tasks.calendar import BEIJING, WorkCalendar, build_calendar, end_of_day
from domain.tasks.calendar_input import check_year_input
from domain.tasks.calendar_seed import package_exceptions, package_years
from domain.tasks.workcal import calendar_warning

WD = LimitUnit.WORKING_DAYS


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return build_calendar(((s.day, s.workday) for s in package_exceptions(2026)), [2026])


def test_the_seed_keeps_only_exceptions_to_monday_to_friday_with_chinese_names() -> None:
    days = {s.day: (s.workday, s.name) for s in package_exceptions(2026)}
    assert days[date(2026, 2, 14)] == (True, "春节调休上班")  # Saturday, worked
    assert days[date(2026, 2, 16)] == (False, "春节")  # Monday, off
    assert days[date(2026, 4, 6)] == (False, "清明节")
    assert days[date(2026, 6, 19)] == (False, "端午节")
    assert days[date(2026, 9, 25)] == (False, "中秋节")
    assert days[date(2026, 10, 1)] == (False, "国庆节")
    assert days[date(2026, 9, 20)] == (True, "国庆节调休上班")
    # Holidays on a weekend change nothing and are not stored.
    assert date(2026, 2, 15) not in days and date(2026, 10, 3) not in days
    assert len(days) == 25
    assert sum(workday for workday, _ in days.values()) == 6
    years = package_years()
    assert years[0] == 2004 and years[-1] == 2026 and 2027 not in years


def test_is_workday_follows_holidays_and_make_up_days(cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2026, 2, 13))  # Friday before the holiday
    assert cal.is_workday(date(2026, 2, 14))  # Saturday, make-up
    assert not cal.is_workday(date(2026, 2, 15))  # Sunday in the holiday
    assert not cal.is_workday(date(2026, 2, 16))  # Monday, holiday
    assert not cal.is_workday(date(2026, 2, 23))  # Monday, last holiday day
    assert cal.is_workday(date(2026, 2, 24))
    assert cal.is_workday(date(2026, 2, 28))  # Saturday, make-up
    assert not cal.is_workday(date(2026, 3, 7))  # an ordinary Saturday
    assert cal.is_workday(date(2026, 9, 20))  # Sunday, make-up
    assert not cal.is_workday(date(2026, 10, 7))
    assert cal.is_workday(date(2026, 10, 10))  # Saturday, make-up


def test_add_working_days_across_the_spring_festival(cal: WorkCalendar) -> None:
    # From Thu 12 Feb: Fri 13 (1), Sat 14 make-up (2), 15–23 off, Tue 24 (3), Wed 25 (4),
    # Thu 26 (5).
    assert cal.add_working_days(date(2026, 2, 12), 5) == date(2026, 2, 26)
    assert cal.add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 12), 0) == date(2026, 2, 12)
    # Plain Monday–Friday would have said Thu 19 Feb.
    assert WorkCalendar().add_working_days(date(2026, 2, 12), 5) == date(2026, 2, 19)


def test_add_working_days_across_mid_autumn_and_national_day(cal: WorkCalendar) -> None:
    # From Fri 18 Sep: Sat 19 off, Sun 20 make-up (1), Mon 21 (2), Tue 22 (3).
    assert cal.add_working_days(date(2026, 9, 18), 3) == date(2026, 9, 22)
    # From Thu 24 Sep: Fri 25 is Mid-autumn, so Mon 28.
    assert cal.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    # From Wed 30 Sep: 1–7 Oct off, Thu 8 (1), Fri 9 (2), Sat 10 make-up (3), Mon 12 (4).
    assert cal.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2026, 2, 12), date(2026, 2, 26)) == 5
    assert cal.working_days_between(date(2026, 2, 14), date(2026, 2, 24)) == 1
    assert cal.working_days_between(date(2026, 2, 26), date(2026, 2, 12)) == -5
    assert cal.working_days_between(date(2026, 2, 12), date(2026, 2, 12)) == 0
    # 1 Oct – 7 Oct: no working day at all.
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0


def test_working_day_deadlines_end_at_midnight_beijing(cal: WorkCalendar) -> None:
    deadline = cal.deadline(bj(2026, 2, 12, 10, 0), 5, WD)
    assert deadline == bj(2026, 2, 27, 0, 0) == end_of_day(date(2026, 2, 26))
    assert deadline == datetime(2026, 2, 26, 16, 0, tzinfo=UTC)
    # 17:30 UTC on the 12th is already 01:30 on Fri 13 Feb in Beijing: the count starts
    # there. Sat 14 (1), Tue 24 (2), Wed 25 (3), Thu 26 (4), Fri 27 (5).
    late = cal.deadline(datetime(2026, 2, 12, 17, 30, tzinfo=UTC), 5, WD)
    assert late == bj(2026, 2, 28, 0, 0)


def test_hour_and_minute_limits_are_wall_clock_through_holidays(cal: WorkCalendar) -> None:
    assigned = bj(2026, 2, 14, 22, 0)  # the evening before the Spring Festival holiday
    assert cal.deadline(assigned, 4, LimitUnit.HOURS) == bj(2026, 2, 15, 2, 0)
    assert cal.deadline(assigned, 30, LimitUnit.MINUTES) == bj(2026, 2, 14, 22, 30)
    assert cal.deadline(bj(2026, 10, 1, 9, 0), 48, LimitUnit.HOURS) == bj(2026, 10, 3, 9, 0)
    with pytest.raises(ValueError):
        cal.deadline(assigned, 0, LimitUnit.HOURS)


def test_a_december_deadline_runs_into_2027_on_monday_to_friday(cal: WorkCalendar) -> None:
    assigned = bj(2026, 12, 28, 9, 0)  # Monday
    deadline = cal.deadline(assigned, 5, WD)
    # Tue 29 (1), Wed 30 (2), Thu 31 (3), Fri 1 Jan 2027 (4, no official data: a weekday),
    # Mon 4 Jan (5).
    assert deadline == bj(2027, 1, 5, 0, 0)
    assert cal.missing_years(assigned, deadline) == [2027]
    assert calendar_warning(cal, assigned, deadline) == (
        "2027年尚未录入国务院公布的节假日安排，期限暂按周一至周五工作日计算。"
    )
    assert calendar_warning(cal, assigned, None) is None
    # From Thu 24 Dec: Fri 25 (1), Mon 28 – Thu 31 (2–5): the deadline is 24:00 on 31 Dec,
    # a 2026 deadline even though that instant is also 00:00 on 1 Jan 2027.
    assigned = bj(2026, 12, 24, 9, 0)
    deadline = cal.deadline(assigned, 5, WD)
    assert deadline == end_of_day(date(2026, 12, 31)) == bj(2027, 1, 1, 0, 0)
    assert cal.missing_years(assigned, deadline) == []
    assert calendar_warning(cal, assigned, deadline) is None
    assert cal.missing_years(bj(2027, 1, 1, 0, 1)) == [2027]


def test_fraction_left_counts_working_time_only(cal: WorkCalendar) -> None:
    assigned = bj(2026, 2, 12, 0, 0)
    deadline = cal.deadline(assigned, 5, WD)  # end of Thu 26 Feb
    # Working days in the window: 12, 13, 14, 24, 25, 26 Feb = 144 working hours.
    # 30 % left = 43.2 h: the rest of Wed 25 from 04:48, and Thu 26.
    now = bj(2026, 2, 25, 4, 48)
    assert cal.fraction_left(assigned, deadline, now, WD) == pytest.approx(0.3)
    # The nine days off do not eat into the time: the share is the same on the eve of the
    # holiday, in the middle of it and on its last day.
    eve = cal.fraction_left(assigned, deadline, bj(2026, 2, 15, 0, 0), WD)
    middle = cal.fraction_left(assigned, deadline, bj(2026, 2, 18, 12, 0), WD)
    last = cal.fraction_left(assigned, deadline, bj(2026, 2, 23, 23, 0), WD)
    assert eve == middle == last == pytest.approx(0.5)
    # Wall clock would already be down to about 0.57 in the middle of the holiday.
    wall = cal.fraction_left(assigned, deadline, bj(2026, 2, 18, 12, 0), LimitUnit.HOURS)
    assert wall == pytest.approx(8.5 / 15)
    assert cal.fraction_left(assigned, deadline, deadline, WD) == 0.0
    assert cal.fraction_left(assigned, deadline, assigned, WD) == 1.0


GOOD_2027 = {
    "holidays": "2027-01-01 元旦\n\n2027-02-06~2027-02-12 春节\n2027-10-01 ~ 2027-10-07 国庆节",
    "workdays": "2027-02-13 春节调休上班\n2027-10-09 国庆节调休上班",
    "note": "  国办发明电  ",
}


def test_an_arrangement_expands_ranges_and_keeps_only_weekday_holidays() -> None:
    days, note, errors = check_year_input(2027, GOOD_2027)
    assert errors == {}
    assert note == "国办发明电"
    off = [(d.day.isoformat(), d.name) for d in days if not d.workday]
    on = [(d.day.isoformat(), d.name) for d in days if d.workday]
    # 6–12 Feb 2027 is Sat–Fri: Sat 6 and Sun 7 are dropped; 2–3 Oct are a weekend.
    assert off == [
        ("2027-01-01", "元旦"),
        *((f"2027-02-{d:02}", "春节") for d in range(8, 13)),
        ("2027-10-01", "国庆节"),
        *((f"2027-10-0{d}", "国庆节") for d in (4, 5, 6, 7)),
    ]
    assert on == [("2027-02-13", "春节调休上班"), ("2027-10-09", "国庆节调休上班")]


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("holidays", "2027-02-30 春节", "第 1 行「2027-02-30 春节」：日期不存在。"),
        ("holidays", "元旦 2027-01-01", "第 1 行「元旦 2027-01-01」：格式应为"),
        ("holidays", "\n2028-01-03 元旦", "第 2 行「2028-01-03 元旦」：日期不在 2027 年内。"),
        ("holidays", "2027-01-01", "第 1 行「2027-01-01」：请在日期后写明节日名称。"),
        ("holidays", "2027-01-09 腊八", "2027-01-09 是星期六，本来就休息"),
        ("holidays", "2027-10-07~2027-10-01 国庆节", "结束日期早于开始日期"),
        (
            "holidays",
            "2027-01-01 元旦\n2027-01-01 元旦",
            "第 2 行「2027-01-01 元旦」：2027-01-01 已在第 1 行列出。",
        ),
        (
            "workdays",
            "2027-02-15 春节调休上班",
            "2027-02-15 是星期一，调休上班日应是星期六或星期日。",
        ),
        ("holidays", "", "请至少录入一个放假日期"),
    ],
)
def test_bad_lines_are_named(field: str, text: str, expected: str) -> None:
    raw = {"holidays": "2027-01-01 元旦", "workdays": "", field: text}
    _days, _note, errors = check_year_input(2027, raw)
    assert expected in errors[field]


def test_a_day_in_both_lists_is_refused() -> None:
    raw = {"holidays": "2027-02-06~2027-02-14 春节", "workdays": "2027-02-13 春节调休上班"}
    _days, _note, errors = check_year_input(2027, raw)
    assert errors == {
        "workdays": "第 1 行「2027-02-13 春节调休上班」：2027-02-13 同时列在放假日期中（第 1 行）。"
    }
