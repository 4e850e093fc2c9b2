"""The iCalendar documents, parsed back and expanded independently of the code under test.

The expander below reads what a calendar program reads (DTSTART, RRULE, EXDATE, overrides
by RECURRENCE-ID) and must give exactly the scheduled occurrence rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar

from adapters import ical
from domain.activities.feeds_select import (
    BookingItem,
    DateItem,
    FeedContent,
    SeriesItem,
)
from domain.models.activities import Activity, ActivityOccurrence
from domain.models.sharing import Booking, ResourceSlot

BJ = ZoneInfo("Asia/Shanghai")
ORIGIN = "https://gj.example.org"
STAMP = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def expand(cal: Calendar) -> dict[str, list[tuple[datetime, datetime]]]:
    """Every (start, end) each UID stands for, as a calendar program would show it."""
    by_uid: dict[str, list[object]] = defaultdict(list)
    for event in cal.walk("VEVENT"):
        by_uid[str(event["UID"])].append(event)
    result: dict[str, list[tuple[datetime, datetime]]] = {}
    for uid, events in by_uid.items():
        masters = [e for e in events if "RECURRENCE-ID" not in e]  # type: ignore[operator]
        assert len(masters) == 1, uid
        master = masters[0]
        start: datetime = master["DTSTART"].dt  # type: ignore[index]
        end: datetime = master["DTEND"].dt  # type: ignore[index]
        starts = {start}
        if "RRULE" in master:  # type: ignore[operator]
            rule = master["RRULE"].to_ical().decode()  # type: ignore[index]
            starts |= set(rrulestr(rule, dtstart=start))
        for ex in _exdates(master):
            starts.discard(ex)
        spans = {s: (s, s + (end - start)) for s in starts}
        for override in events:
            if "RECURRENCE-ID" in override:  # type: ignore[operator]
                rid = override["RECURRENCE-ID"].dt  # type: ignore[index]
                assert rid in spans, f"{uid}: override of a date the rule does not give"
                spans[rid] = (override["DTSTART"].dt, override["DTEND"].dt)  # type: ignore[index]
        result[uid] = sorted(spans.values())
    return result


def _exdates(master: object) -> list[datetime]:
    value = master.get("EXDATE")  # type: ignore[attr-defined]
    if value is None:
        return []
    groups = value if isinstance(value, list) else [value]
    return [d.dt for g in groups for d in g.dts]


def bj(y: int, m: int, d: int, hh: int = 14, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BJ).astimezone(UTC)


def activity(activity_id: int, start: datetime, hours: float = 2, **kw: object) -> Activity:
    values: dict[str, object] = {
        "id": activity_id,
        "street_id": 1,
        "community_id": None,
        "kind": "themed_day",
        "title": "主题党日：学习二十届四中全会精神",
        "description": "",
        "venue": "文化里社区党群服务中心",
        "starts_at": start,
        "ends_at": start + timedelta(hours=hours),
        "recurrence": "",
        "recurrence_until": None,
        "capacity": 30,
        "signup_rule": "signup_open",
        "state": "activity_announced",
        "cancel_reason": "",
        "updated_at": STAMP,
        "version": 1,
    }
    values.update(kw)
    return Activity(**values)


_ids = iter(range(1000, 100000))


def occurrence(a: Activity, original: datetime, **kw: object) -> ActivityOccurrence:
    values: dict[str, object] = {
        "id": next(_ids),
        "activity_id": a.id,
        "street_id": 1,
        "starts_at": original,
        "ends_at": original + (a.ends_at - a.starts_at),
        "original_starts_at": original,
        "state": "occ_scheduled",
        "cancel_reason": "",
        "note": "",
        "version": 1,
    }
    values.update(kw)
    return ActivityOccurrence(**values)


def first_fridays(year: int) -> list[date]:
    days = []
    for month in range(1, 13):
        day = date(year, month, 1)
        while day.weekday() != 4:
            day += timedelta(days=1)
        days.append(day)
    return days


def first_friday_series() -> tuple[Activity, list[ActivityOccurrence]]:
    """2027's themed party days (first Friday, 14:00–16:00); March moved, June cancelled."""
    start = bj(2027, 1, 1)
    a = activity(7, start, recurrence="FREQ=MONTHLY;BYDAY=1FR", recurrence_until=date(2027, 12, 31))
    rows = [occurrence(a, bj(d.year, d.month, d.day)) for d in first_fridays(2027)]
    march, june = rows[2], rows[5]
    march.starts_at, march.ends_at = bj(2027, 3, 6, 9, 30), bj(2027, 3, 6, 11, 30)
    march.note, march.version = "因场地检修改到周六上午", 2
    june.state, june.cancel_reason, june.version = "occ_cancelled", "端午调休", 2
    return a, rows


def scheduled(rows: list[ActivityOccurrence]) -> list[tuple[datetime, datetime]]:
    return sorted(
        (o.starts_at.astimezone(BJ), o.ends_at.astimezone(BJ))
        for o in rows
        if o.state != "occ_cancelled"
    )


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def test_first_friday_series_expands_to_the_scheduled_rows() -> None:
    a, rows = first_friday_series()
    cal = parse(ical.series_document(SeriesItem(a, ["和平区人民医院", "新华派出所"], rows), ORIGIN))
    spans = expand(cal)
    assert list(spans) == ["activity-7@gongjian"]
    assert spans["activity-7@gongjian"] == scheduled(rows)
    assert len(spans["activity-7@gongjian"]) == 11
    master, override = list(cal.walk("VEVENT"))
    text = master.to_ical().decode()
    assert "RRULE:FREQ=MONTHLY;UNTIL=20271231T155959Z;BYDAY=1FR" in text
    assert "EXDATE;TZID=Asia/Shanghai:20270604T140000" in text
    assert "DTSTART;TZID=Asia/Shanghai:20270101T140000" in text
    assert str(master["SUMMARY"]) == "【主题党日】主题党日：学习二十届四中全会精神"
    assert str(master["STATUS"]) == "CONFIRMED"
    assert str(master["URL"]) == f"{ORIGIN}/activities/7"
    assert "主办单位：和平区人民医院、新华派出所" in str(master["DESCRIPTION"])
    assert "报名方式：报名即确认" in str(master["DESCRIPTION"])
    assert override["RECURRENCE-ID"].dt == datetime(2027, 3, 5, 14, 0, tzinfo=BJ)
    assert override["DTSTART"].dt == datetime(2027, 3, 6, 9, 30, tzinfo=BJ)
    assert override["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert "因场地检修改到周六上午" in str(override["DESCRIPTION"])


def test_weekly_series_and_a_row_outside_the_rule() -> None:
    start = bj(2027, 2, 3, 19, 0)  # a Wednesday evening
    a = activity(
        8,
        start,
        hours=1.5,
        kind="volunteer_service",
        recurrence="FREQ=WEEKLY;BYDAY=WE",
        recurrence_until=date(2027, 4, 14),
    )
    rows = [occurrence(a, start + timedelta(weeks=n)) for n in range(11)]
    # A row the rule does not give (an extra date) stands as an event of its own.
    extra = occurrence(a, bj(2027, 4, 17, 9, 0))
    spans = expand(parse(ical.series_document(SeriesItem(a, [], [*rows, extra]), ORIGIN)))
    assert spans["activity-8@gongjian"] == scheduled(rows)
    assert spans[f"occurrence-{extra.id}@gongjian"] == scheduled([extra])


def test_a_rule_date_without_a_row_is_excluded() -> None:
    a, rows = first_friday_series()
    del rows[8]  # September's row is missing: the feed must not invent it
    spans = expand(parse(ical.series_document(SeriesItem(a, [], rows), ORIGIN)))
    assert spans["activity-7@gongjian"] == scheduled(rows)


def test_one_off_cancelled_and_sign_up_prefixes() -> None:
    one = activity(9, bj(2027, 5, 20, 9), state="activity_cancelled", cancel_reason="暴雨预警")
    occ = occurrence(one, one.starts_at)
    other = activity(10, bj(2027, 6, 2, 15), signup_rule="signup_approval", kind="joint_activity")
    o2 = occurrence(other, other.starts_at)
    o3 = occurrence(other, other.starts_at + timedelta(days=7))
    content = FeedContent(
        "赵明的共建日历",
        series=[SeriesItem(one, ["新华派出所"], [occ])],
        dates=[
            DateItem(other, o2, ["和平区人民医院"], "signup_waitlisted"),
            DateItem(other, o3, ["和平区人民医院"], "signup_pending"),
        ],
    )
    cal = parse(ical.feed_document(content, ORIGIN))
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert str(events["activity-9@gongjian"]["STATUS"]) == "CANCELLED"
    assert "取消原因：暴雨预警" in str(events["activity-9@gongjian"]["DESCRIPTION"])
    waiting = events[f"occurrence-{o2.id}@gongjian"]
    assert str(waiting["SUMMARY"]) == "（候补）【联合活动】主题党日：学习二十届四中全会精神"
    assert str(waiting["STATUS"]) == "TENTATIVE"
    assert str(waiting["URL"]) == f"{ORIGIN}/activities/o/{o2.id}"
    assert str(events[f"occurrence-{o3.id}@gongjian"]["SUMMARY"]).startswith("（待审核）")
    assert waiting["DTSTART"].dt == datetime(2027, 6, 2, 15, 0, tzinfo=BJ)


def booking_item() -> BookingItem:
    slot = ResourceSlot(
        id=5, resource_id=3, starts_at=bj(2027, 1, 8, 9), ends_at=bj(2027, 1, 8, 11)
    )
    booking = Booking(
        id=4,
        slot_id=5,
        resource_id=3,
        requester_unit_id=2,
        purpose="社区党员学习活动",
        attendees=20,
        state="booking_approved",
        decided_at=STAMP,
        created_at=STAMP,
        version=2,
    )
    return BookingItem(booking, slot, "党员活动室", "建设路 8 号", "文化里社区居委会")


def test_calendar_properties_and_strict_round_trip() -> None:
    a, rows = first_friday_series()
    content = FeedContent("和平区人民医院·共建日历", series=[SeriesItem(a, [], rows)])
    content.bookings = [booking_item()]
    body = ical.feed_document(content, ORIGIN)
    cal = parse(body)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == ical.PRODID
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "和平区人民医院·共建日历"
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    booking = next(e for e in cal.walk("VEVENT") if str(e["UID"]) == "booking-4@gongjian")
    assert str(booking["SUMMARY"]) == "【场地预约】党员活动室"
    assert booking["DTSTART"].dt == datetime(2027, 1, 8, 9, 0, tzinfo=BJ)
    assert int(booking["SEQUENCE"]) == 2
    for event in cal.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS"):
            assert prop in event, prop
    # Strict round trip, and the same rows give the same bytes (the ETag depends on it).
    assert Calendar.from_ical(cal.to_ical()).to_ical() == cal.to_ical()
    assert cal.to_ical() == body
    assert ical.feed_document(content, ORIGIN) == body


def test_until_is_the_last_beijing_day_as_utc() -> None:
    assert ical.until_utc(date(2027, 12, 31)) == datetime(2027, 12, 31, 15, 59, 59, tzinfo=UTC)
