"""The supervision rules (督办), hand-computed on the working-day calendar.

2026's National Day: 1–7 October off (the 1st, 2nd, 5th, 6th and 7th are weekdays),
make-up workdays on Sunday 20 September and Saturday 10 October. 2027 has no official
data here: it falls back to Monday–Friday (1 January 2027 counts as a working day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.enums import LimitUnit, NoticeLevel, TaskState
from domain.tasks.calendar import BEIJING, WorkCalendar, build_calendar, end_of_day
from domain.tasks.supervision_rules import (
    Rules,
    TaskClock,
    colour_of,
    deadline_day,
    digest_day,
    due_levels,
    notice_text,
    working_days_overdue,
)

L, S = NoticeLevel, TaskState

CAL_2026: WorkCalendar = build_calendar(
    [
        (date(2026, 9, 20), True),
        (date(2026, 9, 25), False),
        (date(2026, 10, 1), False),
        (date(2026, 10, 2), False),
        (date(2026, 10, 5), False),
        (date(2026, 10, 6), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),
    ],
    [2026],
)
RULES = Rules()  # 30% blue, bulletin after 3 working days


def bj(*args: int) -> datetime:
    """A Beijing wall-clock moment, as UTC."""
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)  # type: ignore[misc]


def clock(
    assigned: datetime,
    days: int,
    state: TaskState = S.IN_PROGRESS,
    progress: int = 50,
    cal: WorkCalendar = CAL_2026,
    accept_due: datetime | None = None,
) -> TaskClock:
    return TaskClock(
        state=state,
        assigned_at=assigned,
        deadline=cal.deadline(assigned, days, LimitUnit.WORKING_DAYS),
        limit_unit=LimitUnit.WORKING_DAYS,
        accept_due_at=accept_due,
        progress_percent=progress,
    )


# Tuesday 29 September, 10:00, five working days: 30 Sep (1), 8 Oct (2), 9 Oct (3),
# Saturday 10 Oct, a make-up day (4), Monday 12 Oct (5). Working time: 14 h on the 29th,
# then 24 h on each of 30 Sep, 8, 9, 10 and 12 Oct = 134 h.
ACROSS_HOLIDAY = clock(bj(2026, 9, 29, 10), 5)


def test_deadline_across_the_national_day_holiday() -> None:
    assert ACROSS_HOLIDAY.deadline == end_of_day(date(2026, 10, 12))
    assert deadline_day(ACROSS_HOLIDAY.deadline) == date(2026, 10, 12)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # 7 Oct is a holiday: 96 of 134 working hours still left (71.6%).
        (bj(2026, 10, 7, 12), []),
        # Friday 9 Oct noon: 12 + 24 + 24 = 60 h left (44.8%).
        (bj(2026, 10, 9, 12), []),
        # The make-up Saturday, noon: 12 + 24 = 36 h left (26.9% ≤ 30%): blue.
        (bj(2026, 10, 10, 12), [L.BLUE]),
        # Sunday 11 Oct is no working day: still 24 h left (17.9%).
        (bj(2026, 10, 11, 20), [L.BLUE]),
    ],
)
def test_blue_counts_working_time_only(moment: datetime, expected: list[NoticeLevel]) -> None:
    assert due_levels(ACROSS_HOLIDAY, moment, CAL_2026, RULES) == expected


def test_yellow_when_progress_lags_the_time_used() -> None:
    saturday_noon = bj(2026, 10, 10, 12)  # 73.1% of the time used
    at_30 = clock(bj(2026, 9, 29, 10), 5, progress=30)  # lag 0.431: not yet
    at_20 = clock(bj(2026, 9, 29, 10), 5, progress=20)  # lag 0.531
    assert due_levels(at_30, saturday_noon, CAL_2026, RULES) == [L.BLUE]
    assert due_levels(at_20, saturday_noon, CAL_2026, RULES) == [L.BLUE, L.YELLOW]
    assert "时限已用 73%，进度 20%" in notice_text(L.YELLOW, at_20, saturday_noon, CAL_2026, RULES)
    # A street that tolerates less lag (本地规则 lag_percent = 40) is warned at 30% done.
    strict = Rules.from_settings({"lag_percent": 40})
    assert due_levels(at_30, saturday_noon, CAL_2026, strict) == [L.BLUE, L.YELLOW]


def test_red_reminder_and_bulletin_after_the_deadline() -> None:
    c = ACROSS_HOLIDAY
    # The deadline is 24:00 on Monday 12 Oct; Tuesday is the first working day after it.
    assert due_levels(c, bj(2026, 10, 12, 23, 59), CAL_2026, RULES) == [L.BLUE]
    assert due_levels(c, bj(2026, 10, 13, 0), CAL_2026, RULES) == [L.RED, L.REMINDER]
    assert due_levels(c, bj(2026, 10, 14, 23), CAL_2026, RULES) == [L.RED, L.REMINDER]
    # Three working days past the deadline's day (13, 14, 15 Oct): bulletin and escalation.
    assert due_levels(c, bj(2026, 10, 15, 9), CAL_2026, RULES) == [
        L.RED,
        L.REMINDER,
        L.BULLETIN,
        L.ESCALATION,
    ]
    assert working_days_overdue(c.deadline, bj(2026, 10, 15, 9), CAL_2026) == 3


def test_reminder_waits_for_the_first_working_day_after_a_holiday() -> None:
    # One working day from Tuesday 29 Sep: the deadline is 24:00 on Wednesday 30 Sep.
    c = clock(bj(2026, 9, 29, 10), 1)
    assert c.deadline == end_of_day(date(2026, 9, 30))
    # Through the holiday the task is red, but no working day has passed yet.
    assert due_levels(c, bj(2026, 10, 1, 9), CAL_2026, RULES) == [L.RED]
    assert due_levels(c, bj(2026, 10, 7, 18), CAL_2026, RULES) == [L.RED]
    assert due_levels(c, bj(2026, 10, 8, 9), CAL_2026, RULES) == [L.RED, L.REMINDER]
    # 8, 9 and the make-up Saturday 10 Oct: three working days.
    assert L.BULLETIN not in due_levels(c, bj(2026, 10, 9, 20), CAL_2026, RULES)
    assert L.BULLETIN in due_levels(c, bj(2026, 10, 10, 9), CAL_2026, RULES)


def test_a_street_may_bulletin_later_and_warn_earlier() -> None:
    c = clock(bj(2026, 9, 29, 10), 1)
    lenient = Rules.from_settings({"blue_notice_percent": 50, "bulletin_after_days": 5})
    assert (lenient.blue_notice_percent, lenient.bulletin_after_days) == (50, 5)
    # 8, 9, 10, 12 Oct: four working days, not five.
    assert L.BULLETIN not in due_levels(c, bj(2026, 10, 12, 9), CAL_2026, lenient)
    assert L.BULLETIN in due_levels(c, bj(2026, 10, 13, 9), CAL_2026, lenient)
    # 60 h of 134 left (44.8%): blue under 50%, not under the default 30%.
    assert due_levels(ACROSS_HOLIDAY, bj(2026, 10, 9, 12), CAL_2026, lenient) == [L.BLUE]


def test_a_deadline_in_2027_on_the_monday_to_friday_fallback() -> None:
    # Wednesday 30 Dec 2026 + 5 working days: 31 Dec, Fri 1 Jan 2027 (no official data: a
    # working day), 4, 5 and 6 Jan.
    c = clock(bj(2026, 12, 30, 9), 5)
    assert c.deadline == end_of_day(date(2027, 1, 6))
    assert CAL_2026.missing_years(c.deadline) == [2027]
    assert due_levels(c, bj(2027, 1, 7, 9), CAL_2026, RULES) == [L.RED, L.REMINDER]
    # 7, 8 Jan, then the weekend: two working days by Sunday.
    assert L.BULLETIN not in due_levels(c, bj(2027, 1, 10, 12), CAL_2026, RULES)
    assert L.BULLETIN in due_levels(c, bj(2027, 1, 11, 9), CAL_2026, RULES)


def test_a_whistle_not_reported_in_is_yellow_at_once() -> None:
    assigned = bj(2026, 10, 3, 22)  # a holiday Saturday night: minutes run on the clock
    whistle = TaskClock(
        state=S.ASSIGNED,
        assigned_at=assigned,
        deadline=assigned + timedelta(hours=2),
        limit_unit=LimitUnit.HOURS,
        accept_due_at=assigned + timedelta(minutes=30),
        progress_percent=0,
    )
    assert due_levels(whistle, assigned + timedelta(minutes=29), CAL_2026, RULES) == []
    late = assigned + timedelta(minutes=31)
    assert due_levels(whistle, late, CAL_2026, RULES) == [L.YELLOW]
    text = notice_text(L.YELLOW, whistle, late, CAL_2026, RULES, whistle=True)
    assert "仍未报到" in text
    # Reported in: no lag at 31 minutes; at 90 minutes 25% is left and nothing is done.
    accepted = TaskClock(**{**whistle.__dict__, "state": S.ACCEPTED})
    assert due_levels(accepted, late, CAL_2026, RULES) == []
    at_90 = assigned + timedelta(minutes=90)
    assert due_levels(accepted, at_90, CAL_2026, RULES) == [L.BLUE, L.YELLOW]


def test_only_work_the_handling_units_still_owe_is_supervised() -> None:
    late = bj(2026, 10, 20, 9)
    for state in (S.REPORTED, S.REVIEWED, S.CLOSED, S.DRAFTED):
        c = clock(bj(2026, 9, 29, 10), 1, state=state)
        assert due_levels(c, late, CAL_2026, RULES) == [], state
    # Waiting for the assigner's answer to a return request: the clock runs, but no lag.
    asked = clock(bj(2026, 9, 29, 10), 5, state=S.RETURN_REQUESTED, progress=0)
    assert due_levels(asked, bj(2026, 10, 10, 12), CAL_2026, RULES) == [L.BLUE]
    assert due_levels(asked, late, CAL_2026, RULES)[0] is L.RED


def test_colour_is_the_highest_reached() -> None:
    assert colour_of([None, "blue"]) == "blue"
    assert colour_of(["yellow", "blue"]) == "yellow"
    assert colour_of(["blue", "red", "reminder", "bulletin"]) == "red"
    assert colour_of([None, "reminder"]) is None


def test_notice_texts_name_the_deadline_as_24_00() -> None:
    text = notice_text(L.RED, ACROSS_HOLIDAY, bj(2026, 10, 13, 9), CAL_2026, RULES)
    assert "2026-10-12 24:00" in text
    assert "逾期 3 个工作日" in notice_text(
        L.BULLETIN, ACROSS_HOLIDAY, bj(2026, 10, 15, 9), CAL_2026, RULES
    )


def test_digests_go_out_from_eight_in_the_morning_beijing_time() -> None:
    assert digest_day(bj(2026, 10, 8, 7, 59)) is None
    assert digest_day(bj(2026, 10, 8, 8, 0)) == date(2026, 10, 8)
    # 23:30 UTC on the 7th is already 07:30 on the 8th in Beijing: not yet.
    assert digest_day(datetime(2026, 10, 7, 23, 30, tzinfo=UTC)) is None
    assert digest_day(datetime(2026, 10, 8, 1, 0, tzinfo=UTC)) == date(2026, 10, 8)
