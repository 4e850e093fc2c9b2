"""The quarterly feedback workbook, built from plain data and read back cell by cell."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from adapters.points_xlsx import build_feedback_xlsx, feedback_filename
from domain.dual_report.feedback import DetailLine, Feedback, MemberSummary, quarter_days
from domain.models import Unit


def sample() -> Feedback:
    unit = Unit(name="和平区人民医院")
    members = [
        MemberSummary(1, "赵明", "文化里社区", attended=3, no_shows=1, minutes=390, points=9,
                      open_makeups=1),
        MemberSummary(2, "=SUM(A1)", "春晖社区"),
    ]  # fmt: skip
    lines = [
        DetailLine(date(2026, 4, 3), "赵明", "参加活动", "主题党日", "文化里社区", 120, 2, ""),
        DetailLine(date(2026, 5, 9), "赵明", "岗位服务", "平安巡逻岗", "文化里社区", 270, 4,
                   "夜间巡逻\x07"),
        DetailLine(date(2026, 6, 1), "赵明", "积分调整", "", "文化里社区", 0, 3, "补记"),
    ]  # fmt: skip
    return Feedback(unit, 2026, 2, members, lines)


def test_summary_sheet() -> None:
    wb = load_workbook(io.BytesIO(build_feedback_xlsx(sample())))
    assert wb.sheetnames == ["汇总", "明细"]
    ws = wb["汇总"]
    assert ws["A1"].value == "和平区人民医院在职党员到社区报到情况反馈表"
    assert ws["A2"].value == "2026 年第 2 季度"
    assert [c.value for c in ws[4]] == [1, "赵明", "文化里社区", 3, 1, 6.5, 9, 1]
    # A name that looks like a formula stays text.
    assert ws["B5"].value == "=SUM(A1)" and ws["B5"].data_type == "s"
    assert [c.value for c in ws[6]] == ["合计", "2 人", None, 3, 1, 6.5, 9, 1]
    assert ws.max_row == 6
    assert ws.freeze_panes == "A4"


def test_detail_sheet() -> None:
    ws = load_workbook(io.BytesIO(build_feedback_xlsx(sample())))["明细"]
    assert [c.value for c in ws[3]] == [
        "序号", "日期", "姓名", "类别", "事项", "社区", "时长（小时）", "积分", "备注",
    ]  # fmt: skip
    assert [c.value for c in ws[5]] == [
        2, "2026-05-09", "赵明", "岗位服务", "平安巡逻岗", "文化里社区", 4.5, 4, "夜间巡逻",
    ]  # fmt: skip
    assert ws["H6"].value == 3 and ws.max_row == 6


def test_quarters_and_filename() -> None:
    assert quarter_days(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_days(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert feedback_filename(sample()) == "和平区人民医院-2026年第2季度党员报到反馈.xlsx"
