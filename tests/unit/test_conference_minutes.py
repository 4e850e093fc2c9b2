"""The minutes' draft text and number labels: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from domain.conference.minutes_draft import (
    AttendanceLine,
    DecisionFacts,
    ItemFacts,
    MinutesFacts,
    VoteFacts,
    attendance_status,
    chinese_numeral,
    draft_text,
    meeting_time,
    number_label,
    parse_unit_ids,
)
from domain.enums import AttendanceStatus as A


def facts(**overrides: Any) -> MinutesFacts:
    values: dict[str, Any] = {
        "conference_name": "新华街道党建联席会议",
        "session_title": "2026年第二次例会",
        "starts_at": datetime(2026, 5, 6, 1, 0, tzinfo=UTC),  # 09:00 Beijing, a Wednesday
        "ends_at": datetime(2026, 5, 6, 3, 30, tzinfo=UTC),
        "place": "街道会议室",
        "mode": "online",
        "convener": "张秀兰",
    }
    values.update(overrides)
    return MinutesFacts(**values)


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"), (21, "二十一"),
     (99, "九十九"), (0, "0"), (100, "100")],
)  # fmt: skip
def test_chinese_numerals(n: int, text: str) -> None:
    assert chinese_numeral(n) == text


def test_number_label() -> None:
    assert number_label(2026, 3) == "〔2026〕第3次"
    assert number_label(2027, 12) == "〔2027〕第12次"


def test_meeting_time_is_beijing_time_and_spans_days() -> None:
    start = datetime(2026, 3, 18, 6, 30, tzinfo=UTC)
    assert meeting_time(start, datetime(2026, 3, 18, 8, 5, tzinfo=UTC)) == (
        "2026年3月18日（星期三）14:30—16:05"
    )
    # 23:00 UTC is already the next day in Beijing.
    late = datetime(2026, 3, 18, 23, 0, tzinfo=UTC)
    assert meeting_time(start, late) == "2026年3月18日（星期三）14:30—2026年3月19日 07:00"


def test_draft_headings_and_basic_facts() -> None:
    text = draft_text(facts())
    lines = text.splitlines()
    assert lines[:2] == ["新华街道党建联席会议", "2026年第二次例会 会议纪要"]
    assert "时间：2026年5月6日（星期三）09:00—11:30" in lines
    assert "形式：线上会议" in lines
    assert "召集人：张秀兰" in lines
    headings = [ln for ln in lines if ln[:2] in ("一、", "二、", "三、", "四、")]
    assert headings == ["一、出席情况", "二、会议议程及讨论情况", "三、议定事项", "四、其他事项"]
    assert "本次会议无议程记录。" in lines
    assert "本次会议未形成议定事项。" in lines
    assert text.endswith("\n")


def test_draft_attendance_groups_and_counts() -> None:
    attendance = (
        AttendanceLine(1, "甲医院", A.PRESENT),
        AttendanceLine(2, "乙学校", A.PRESENT),
        AttendanceLine(3, "丙社区居委会", A.DELEGATE, "王敏"),
        AttendanceLine(4, "丁公司", A.LEAVE, "外出培训"),
        AttendanceLine(5, "戊协会", A.LEAVE),
        AttendanceLine(6, "己派出所", A.ABSENT),
        AttendanceLine(7, "人武部", A.OBSERVER),
    )
    text = draft_text(facts(attendance=attendance))
    assert (
        "应出席成员单位 6 个，实际出席 3 个（其中委派代表出席 1 个），请假 2 个，缺席 1 个。"
        in text
    )
    assert "出席单位：甲医院、乙学校。" in text
    assert "委派代表出席：丙社区居委会（代表：王敏）。" in text
    assert "请假单位：丁公司（事由：外出培训）；戊协会。" in text
    assert "缺席单位（未请假）：己派出所。" in text
    assert "列席单位：人武部。" in text


def test_draft_without_absentees_says_so_in_the_count_only() -> None:
    text = draft_text(facts(attendance=(AttendanceLine(1, "甲医院", A.PRESENT),)))
    assert "应出席成员单位 1 个，实际出席 1 个，请假 0 个，缺席 0 个。" in text
    assert "请假单位" not in text and "缺席单位" not in text and "委派代表" not in text


def test_draft_items_votes_and_decisions() -> None:
    items = (
        ItemFacts("上次议定事项落实情况", "（自动生成）", "已办结 2 项。", progress=True),
        ItemFacts(
            "社区治安联防",
            "夜间警情较多",
            "",
            progress=False,
            votes=(
                VoteFacts("同意成立联防队。", True, 10, 1, 2, True),
                VoteFacts("增加经费", True, 3, 8, 0, False),
                VoteFacts("延长巡逻时间", False, 0, 0, 0, None),
            ),
        ),
    )
    decisions = (
        DecisionFacts("成立联防队。", "派出所", ("医院", "物业公司"), date(2026, 6, 30)),
        DecisionFacts("排查隐患", "城管执法队", (), date(2026, 12, 1)),
    )
    text = draft_text(facts(items=items, decisions=decisions))
    lines = text.splitlines()
    i = lines.index("（一）上次议定事项落实情况")
    # The progress item's description is generated boilerplate: not repeated.
    assert lines[i + 1 : i + 2] == ["讨论情况：已办结 2 项。"]
    j = lines.index("（二）社区治安联防")
    assert lines[j + 1 : j + 6] == [
        "议题说明：夜间警情较多",
        "讨论情况：（待补充）",
        "表决事项：同意成立联防队。赞成 10 票，反对 1 票，弃权 2 票，表决通过。",
        "表决事项：增加经费。赞成 3 票，反对 8 票，弃权 0 票，未获通过。",
        "表决事项：延长巡逻时间。表决未形成结果。",
    ]
    k = lines.index("三、议定事项")
    assert lines[k + 1 : k + 5] == [
        "1. 成立联防队。",
        "   牵头单位：派出所；协办单位：医院、物业公司；完成时限：2026年6月30日。",
        "2. 排查隐患。",
        "   牵头单位：城管执法队；协办单位：无；完成时限：2026年12月1日。",
    ]


def test_eleven_items_are_numbered_in_chinese() -> None:
    items = tuple(ItemFacts(f"议题{i}", "", "", progress=False) for i in range(1, 12))
    text = draft_text(facts(items=items))
    assert "（十）议题10" in text and "（十一）议题11" in text


def test_assisting_unit_ids_parse_leniently() -> None:
    assert parse_unit_ids("3, 5,,x,7 ,") == [3, 5, 7]
    assert parse_unit_ids("") == []
    assert parse_unit_ids("1234567890") == []  # no row id is that long


def _row(reply: str, signed_in: bool) -> Any:
    return SimpleNamespace(reply=reply, signed_in_at=datetime.now(UTC) if signed_in else None)


@pytest.mark.parametrize(
    ("role", "reply", "signed_in", "status"),
    [
        ("member", "attending", True, A.PRESENT),
        ("member", "none", True, A.PRESENT),
        ("member", "leave", True, A.PRESENT),  # came after all
        ("member", "delegate", True, A.DELEGATE),
        ("member", "delegate", False, A.ABSENT),  # the delegate did not come
        ("member", "leave", False, A.LEAVE),
        ("member", "attending", False, A.ABSENT),
        ("observer", "attending", True, A.OBSERVER),
        ("observer", "none", False, None),
    ],
)
def test_attendance_status(role: str, reply: str, signed_in: bool, status: A | None) -> None:
    assert attendance_status(role, _row(reply, signed_in)) == status


def test_attendance_status_without_a_reply_row() -> None:
    assert attendance_status("member", None) == A.ABSENT
    assert attendance_status("observer", None) is None
