"""Recurrence rules: building, describing and expanding them in Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.activities.recurrence import (
    BEIJING,
    RecurrenceError,
    Repeat,
    RepeatKind,
    build_rule,
    date_words,
    describe,
    expand,
    parse_rule,
)


def bj(y: int, m: int, d: int, h: int = 15, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=BEIJING)


def local_days(dates: list[tuple[datetime, datetime]]) -> list[date]:
    return [s.astimezone(BEIJING).date() for s, _e in dates]


@pytest.mark.parametrize(
    ("repeat", "rule", "words"),
    [
        (Repeat(), "", "不重复"),
        (Repeat(RepeatKind.WEEKLY, weekdays=(2,)), "FREQ=WEEKLY;BYDAY=WE", "每周三"),
        (
            Repeat(RepeatKind.WEEKLY, 2, weekdays=(4, 0)),
            "FREQ=WEEKLY;BYDAY=MO,FR;INTERVAL=2",
            "每两周的周一、周五",
        ),
        (
            Repeat(RepeatKind.MONTHLY_NTH, nth=1, weekday=4),
            "FREQ=MONTHLY;BYDAY=1FR",
            "每月第一个星期五",
        ),
        (
            Repeat(RepeatKind.MONTHLY_NTH, nth=-1, weekday=2),
            "FREQ=MONTHLY;BYDAY=-1WE",
            "每月最后一个星期三",
        ),
        (Repeat(RepeatKind.MONTHLY_DAY, monthday=15), "FREQ=MONTHLY;BYMONTHDAY=15", "每月15日"),
        (
            Repeat(RepeatKind.MONTHLY_DAY, 3, monthday=31),
            "FREQ=MONTHLY;BYMONTHDAY=31;INTERVAL=3",
            "每三个月的31日（没有31日的月份跳过）",
        ),
    ],
)
def test_build_parse_describe_round_trip(repeat: Repeat, rule: str, words: str) -> None:
    assert build_rule(repeat) == rule
    assert describe(rule) == words
    if rule:
        assert build_rule(parse_rule(rule)) == rule


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY",
        "FREQ=MONTHLY;BYDAY=5FR",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
        "FREQ=WEEKLY;BYDAY=MO;INTERVAL=13",
        "garbage",
    ],
)
def test_rules_outside_the_contract_are_refused(rule: str) -> None:
    with pytest.raises(RecurrenceError):
        parse_rule(rule)


def test_invalid_choices_are_refused_with_chinese_messages() -> None:
    with pytest.raises(RecurrenceError, match="请至少选择一个星期几"):
        build_rule(Repeat(RepeatKind.WEEKLY))
    with pytest.raises(RecurrenceError, match="第一至第四个"):
        build_rule(Repeat(RepeatKind.MONTHLY_NTH, nth=5, weekday=4))


def test_first_friday_of_each_month_across_a_year() -> None:
    dates = expand("FREQ=MONTHLY;BYDAY=1FR", bj(2027, 1, 1), bj(2027, 1, 1, 17), date(2027, 12, 31))
    assert local_days(dates) == [
        date(2027, 1, 1), date(2027, 2, 5), date(2027, 3, 5), date(2027, 4, 2),
        date(2027, 5, 7), date(2027, 6, 4), date(2027, 7, 2), date(2027, 8, 6),
        date(2027, 9, 3), date(2027, 10, 1), date(2027, 11, 5), date(2027, 12, 3),
    ]  # fmt: skip
    for start, end in dates:
        local = start.astimezone(BEIJING)
        assert (local.hour, local.minute) == (15, 0)
        assert start.tzinfo is UTC and start.hour == 7  # UTC+8
        assert end - start == timedelta(hours=2)


def test_a_start_off_the_rule_begins_at_the_rules_first_date() -> None:
    # Asked to start on a Tuesday, a "first Friday" series begins on the first Friday after.
    dates = expand(
        "FREQ=MONTHLY;BYDAY=1FR", bj(2026, 12, 1), bj(2026, 12, 1, 17), date(2027, 2, 28)
    )
    assert local_days(dates) == [date(2026, 12, 4), date(2027, 1, 1), date(2027, 2, 5)]


def test_last_weekday_of_the_month() -> None:
    dates = expand("FREQ=MONTHLY;BYDAY=-1WE", bj(2027, 1, 1), bj(2027, 1, 1, 17), date(2027, 4, 30))
    assert local_days(dates) == [
        date(2027, 1, 27), date(2027, 2, 24), date(2027, 3, 31), date(2027, 4, 28)
    ]  # fmt: skip


def test_day_31_skips_the_short_months() -> None:
    """RFC 5545 (and dateutil) skip a month without the day: no date in Feb, Apr, Jun…"""
    dates = expand(
        "FREQ=MONTHLY;BYMONTHDAY=31", bj(2027, 1, 1), bj(2027, 1, 1, 17), date(2027, 12, 31)
    )
    assert local_days(dates) == [
        date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31), date(2027, 7, 31),
        date(2027, 8, 31), date(2027, 10, 31), date(2027, 12, 31),
    ]  # fmt: skip
    assert "跳过" in describe("FREQ=MONTHLY;BYMONTHDAY=31")


def test_until_is_inclusive_and_limited_to_366_days() -> None:
    start = bj(2027, 1, 6, 19)  # a Wednesday
    dates = expand("FREQ=WEEKLY;BYDAY=WE", start, start + timedelta(hours=1), date(2027, 1, 20))
    assert local_days(dates) == [date(2027, 1, 6), date(2027, 1, 13), date(2027, 1, 20)]
    assert len(expand("FREQ=WEEKLY;BYDAY=WE", start, start, date(2028, 1, 7))) == 53
    with pytest.raises(RecurrenceError, match="最多安排 366 天"):
        expand("FREQ=WEEKLY;BYDAY=WE", start, start, date(2028, 1, 8))
    with pytest.raises(RecurrenceError, match="须填写重复截止日期"):
        expand("FREQ=WEEKLY;BYDAY=WE", start, start, None)
    with pytest.raises(RecurrenceError, match="不能早于"):
        expand("FREQ=WEEKLY;BYDAY=WE", start, start, date(2027, 1, 1))


def test_beijing_time_near_midnight() -> None:
    # 00:30 Beijing on a Friday is Thursday 16:30 UTC: the rule is read in Beijing time.
    start = bj(2027, 1, 1, 0, 30)
    dates = expand("FREQ=WEEKLY;BYDAY=FR", start, start + timedelta(hours=1), date(2027, 1, 15))
    assert local_days(dates) == [date(2027, 1, 1), date(2027, 1, 8), date(2027, 1, 15)]
    assert [s.astimezone(UTC).date() for s, _e in dates] == [
        date(2026, 12, 31), date(2027, 1, 7), date(2027, 1, 14)
    ]  # fmt: skip
    # 23:30 to 00:30 crosses midnight; the date is the start's.
    late = bj(2027, 1, 1, 23, 30)
    (only,) = expand("", late, late + timedelta(hours=1), None)
    assert date_words(*only) == "2027年01月01日 周五 23:30–01月02日 00:30"


def test_one_off_is_one_date() -> None:
    start = bj(2027, 3, 3, 9)
    assert expand("", start, start + timedelta(hours=2), None) == [
        (start.astimezone(UTC), (start + timedelta(hours=2)).astimezone(UTC))
    ]
