"""Pure rules before a session: the transition table, Beijing times in forms, deadlines,
replies, file names, the .ics, and which live regions each event refreshes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from adapters.live.events import LiveEvent
from domain.conference.agenda import check_item_fields
from domain.conference.invitation import build_ics, session_uid
from domain.conference.materials import clean_content_type, clean_filename
from domain.conference.rules import (
    TRANSITIONS,
    SessionAction,
    check_reply,
    check_session_fields,
    may_skip_topic_call,
    next_state,
    notice_due,
    parse_beijing,
    to_beijing_input,
    topic_call_deadline,
)
from domain.enums import Reply, SessionState
from domain.models import AgendaItem, MeetingSession
from web.live import EventRenderer

S = SessionState
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing

# --- the transition table -------------------------------------------------------------------

EXPECTED = {
    SessionAction.OPEN_TOPIC_CALL: {S.PLANNED: S.CALLING_TOPICS},
    SessionAction.FIX_AGENDA: {S.PLANNED: S.AGENDA_SET, S.CALLING_TOPICS: S.AGENDA_SET},
    SessionAction.SEND_NOTICE: {S.AGENDA_SET: S.NOTIFIED},
}


@pytest.mark.parametrize("action", list(SessionAction))
@pytest.mark.parametrize("state", list(SessionState))
def test_each_action_is_allowed_only_from_its_states(
    action: SessionAction, state: SessionState
) -> None:
    assert next_state(state.value, action) == EXPECTED[action].get(state)


def test_no_preparation_step_reaches_back_or_past_the_notice() -> None:
    targets = {target for _sources, target in TRANSITIONS.values()}
    assert targets == {S.CALLING_TOPICS, S.AGENDA_SET, S.NOTIFIED}
    for sources, _target in TRANSITIONS.values():
        assert not sources & {S.NOTIFIED, S.IN_SESSION, S.ISSUED, S.ARCHIVED}


def test_deadlines_count_back_from_the_start() -> None:
    start = datetime(2026, 12, 20, 1, 30, tzinfo=UTC)
    assert topic_call_deadline(start, 7) == datetime(2026, 12, 13, 1, 30, tzinfo=UTC)
    assert notice_due(start, 3) == datetime(2026, 12, 17, 1, 30, tzinfo=UTC)
    assert notice_due(start, 0) == start


@pytest.mark.parametrize(
    ("kind", "days_ahead", "skip"),
    [("regular", 30, False), ("regular", 7, True), ("regular", 3, True), ("ad_hoc", 30, True)],
)
def test_who_may_skip_the_topic_call(kind: str, days_ahead: int, skip: bool) -> None:
    assert may_skip_topic_call(kind, NOW + timedelta(days=days_ahead), 7, NOW) is skip


# --- Beijing time in forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05T09:30", datetime(2026, 12, 5, 1, 30, tzinfo=UTC)),
        ("2026-12-05 09:30", datetime(2026, 12, 5, 1, 30, tzinfo=UTC)),
        ("2026-12-05T09:30:00", datetime(2026, 12, 5, 1, 30, tzinfo=UTC)),
        # Early morning in Beijing is the previous day in UTC.
        ("2027-01-01T07:00", datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
        (" 2026-12-05T09:30 ", datetime(2026, 12, 5, 1, 30, tzinfo=UTC)),
        ("2027-02-30T09:00", None),
        ("2026-12-05T25:00", None),
        ("2026/12/05 09:30", None),
        ("明天上午", None),
        ("", None),
    ],
)
def test_parse_beijing(text: str, expected: datetime | None) -> None:
    assert parse_beijing(text) == expected


def test_a_stored_time_goes_back_to_the_input_unchanged() -> None:
    assert to_beijing_input(datetime(2026, 12, 5, 1, 30, tzinfo=UTC)) == "2026-12-05T09:30"


def form(**overrides: str) -> dict[str, str]:
    base = {
        "title": "第四季度例会",
        "kind": "regular",
        "starts_at": "2026-12-20T09:30",
        "ends_at": "2026-12-20T11:30",
        "place": "党群服务中心",
        "mode": "in_person",
    }
    base.update(overrides)
    return base


def test_a_good_session_form() -> None:
    fields, errors = check_session_fields(form(title="  例会  "), NOW)
    assert errors == {} and fields is not None
    assert fields.title == "例会"
    assert fields.starts_at == datetime(2026, 12, 20, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": " "}, "title", "请填写会议名称。"),
        ({"title": "会" * 201}, "title", "会议名称不能超过 200 个字。"),
        ({"starts_at": "2026-12-01T09:59"}, "starts_at", "开始时间不能早于现在。"),
        ({"starts_at": "2026-12-01T10:00"}, "starts_at", "开始时间不能早于现在。"),
        ({"starts_at": ""}, "starts_at", "请填写开始时间。"),
        ({"ends_at": "2026-12-20T09:30"}, "ends_at", "结束时间须晚于开始时间。"),
        ({"ends_at": "2026-12-20T08:00"}, "ends_at", "结束时间须晚于开始时间。"),
        ({"ends_at": "2026-12-21T09:30"}, "ends_at", "会议时长不能超过 12 小时，请检查日期。"),
        ({"place": ""}, "place", "现场会议请填写会议地点。"),
        ({"kind": "weekly"}, "kind", "请选择例会或临时会议。"),
        ({"mode": "carrier-pigeon"}, "mode", "请选择现场会议或线上会议。"),
    ],
)
def test_bad_session_fields(change: dict[str, str], field: str, message: str) -> None:
    fields, errors = check_session_fields(form(**change), NOW)
    assert fields is None
    assert errors[field] == message


def test_a_badly_typed_time_says_how_to_type_it() -> None:
    _fields, errors = check_session_fields(form(starts_at="12月20日"), NOW)
    assert "格式不正确" in errors["starts_at"] and "北京时间" in errors["starts_at"]


def test_an_online_session_needs_no_place() -> None:
    fields, errors = check_session_fields(form(mode="online", place=""), NOW)
    assert errors == {} and fields is not None


def test_editing_keeps_an_unchanged_start_even_once_it_has_passed() -> None:
    start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    raw = form(starts_at="2026-12-01T09:00", ends_at="2026-12-01T11:00")
    fields, errors = check_session_fields(raw, NOW, current_start=start)
    assert errors == {} and fields is not None
    _fields, errors = check_session_fields(raw, NOW)
    assert errors == {"starts_at": "开始时间不能早于现在。"}


# --- replies, agenda items, files -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        ({}, {"reply": "请选择参会、请假或委派代表。"}),
        ({"reply": "none"}, {"reply": "请选择参会、请假或委派代表。"}),
        ({"reply": "leave"}, {"reason": "请假须填写事由。"}),
        ({"reply": "leave", "reason": " "}, {"reason": "请假须填写事由。"}),
        ({"reply": "delegate"}, {"delegate_name": "委派代表须填写代表姓名。"}),
        (
            {"reply": "delegate", "delegate_name": "名" * 51},
            {"delegate_name": "代表姓名不能超过 50 个字。"},
        ),
    ],
)
def test_bad_replies(raw: dict[str, str], errors: dict[str, str]) -> None:
    assert check_reply(raw) == (None, errors)


def test_a_reply_keeps_only_what_it_means() -> None:
    fields, _ = check_reply({"reply": "attending", "reason": "x", "delegate_name": "y"})
    assert fields is not None and (fields.reply, fields.reason, fields.delegate_name) == (
        Reply.ATTENDING,
        "",
        "",
    )
    fields, _ = check_reply({"reply": "leave", "reason": "出差", "delegate_name": "y"})
    assert fields is not None and (fields.reason, fields.delegate_name) == ("出差", "")


def test_agenda_item_titles_are_required_and_bounded() -> None:
    assert check_item_fields({"title": " "}) == (None, {"title": "请填写议题名称。"})
    assert check_item_fields({"title": "题" * 201})[1] == {"title": "议题名称不能超过 200 个字。"}
    fields, errors = check_item_fields({"title": " 议题 ", "description": " 说明 "})
    assert (
        errors == {}
        and fields is not None
        and (fields.title, fields.description)
        == (
            "议题",
            "说明",
        )
    )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\王\\汇报.docx", "汇报.docx"),
        ("../../etc/passwd", "passwd"),
        ("报告\x00\n.pdf", "报告.pdf"),
        ("...", ""),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_clean_filename(sent: str, kept: str) -> None:
    assert clean_filename(sent) == kept


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("application/pdf", "application/pdf"),
        ("Text/Plain; charset=utf-8", "text/plain"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("", "application/octet-stream"),
        ("not a type", "application/octet-stream"),
    ],
)
def test_clean_content_type(sent: str, kept: str) -> None:
    assert clean_content_type(sent) == kept


# --- the invitation -------------------------------------------------------------------------


def test_the_ics_is_valid_and_in_beijing_time() -> None:
    session = MeetingSession(
        id=7,
        conference_id=1,
        title="第四季度例会",
        kind="regular",
        mode="in_person",
        place="党群服务中心",
        starts_at=datetime(2026, 12, 20, 1, 30, tzinfo=UTC),
        ends_at=datetime(2026, 12, 20, 3, 30, tzinfo=UTC),
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
        version=5,
    )
    items = [AgendaItem(title="上次议定事项落实情况"), AgendaItem(title="背街小巷整治")]
    body = build_ics(session, "新华街道党建联席会议", items, "https://gj.example/sessions/7", NOW)
    text = body.decode()
    assert "DTSTART;TZID=Asia/Shanghai:20261220T093000" in text
    assert "DTEND;TZID=Asia/Shanghai:20261220T113000" in text
    assert "BEGIN:VTIMEZONE" in text and "TZOFFSETTO:+0800" in text
    cal = Calendar.from_ical(body)
    [event] = cal.walk("VEVENT")
    assert str(event["uid"]) == session_uid(session) == "session-7-20261101T000000@gongjian"
    assert int(event["sequence"]) == 5
    assert str(event["location"]) == "党群服务中心"
    assert "2. 背街小巷整治" in str(event["description"])
    assert str(event["url"]) == "https://gj.example/sessions/7"


# --- live regions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "regions"),
    [
        ("session.replied", {"session-replies"}),
        ("session.agenda_changed", {"session-agenda"}),
        ("session.materials_changed", {"session-materials"}),
        ("topic.changed", {"topic-list", "conf-topics", "session-agenda"}),
        ("conference.changed", {"conf-index", "conf-setup", "session-replies"}),
    ],
)
def test_each_event_refreshes_the_regions_that_show_it(kind: str, regions: set[str]) -> None:
    html = asyncio.run(EventRenderer(None)(LiveEvent(41, "street:3", kind, {"session_id": 1})))
    assert 'data-seq="41"' in html
    refresh = html.split('data-refresh="', 1)[1].split('"', 1)[0]
    assert set(refresh.split()) == regions


def test_a_session_change_refreshes_its_page_the_overview_and_the_topic_call() -> None:
    html = asyncio.run(EventRenderer(None)(LiveEvent(9, "street:3", "session.changed")))
    refresh = set(html.split('data-refresh="', 1)[1].split('"', 1)[0].split())
    assert {
        "session-head",
        "session-agenda",
        "conf-sessions",
        "topic-calls",
        "topic-submit",
    } <= refresh
