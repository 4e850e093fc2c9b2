"""The ledger workbook and the import template, built from hand-made rows and read back."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from adapters.tabular import read_table
from adapters.task_ledger_xlsx import (
    EVENT_COLUMNS,
    LEDGER_COLUMNS,
    build_ledger_xlsx,
    deadline_text,
    ledger_template_xlsx,
)
from domain.errors import ValidationFailed
from domain.models import Task
from domain.tasks.ledger import LedgerEvent, LedgerFilters, LedgerRow, action_text, is_overdue
from domain.tasks.ledger_import import TEMPLATE_HEADERS, column_index

# 2026-03-02 09:30 in Beijing.
ASSIGNED = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
# End of 2026-03-06 in Beijing (24:00), i.e. 16:00 UTC that day.
DEADLINE = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)


def _event(
    ref: str, minutes: int, action: str, before: str, after: str, text: str = ""
) -> LedgerEvent:
    return LedgerEvent(
        ref=ref,
        at=ASSIGNED + timedelta(minutes=minutes),
        actor="张秀兰",
        unit="区城管执法局新华街道执法队",
        action=action,
        from_state=before,
        to_state=after,
        text=text,
    )


def _row(task_id: int, title: str, **changes: object) -> LedgerRow:
    ref = f"2026-{task_id:06d}"
    values: dict[str, object] = dict(
        task_id=task_id,
        ref=ref,
        source="街道交办",
        whistle_kind="",
        title=title,
        description="新华路与和平街交口井盖破损，\n请尽快更换。",
        location="新华路 12 号",
        assigner="新华街道办事处",
        lead="区城管执法局新华街道执法队",
        assisting=("区住房和城乡建设委员会", "区市场监督管理局新华市场监管所"),
        assigned_at=ASSIGNED,
        accepted_at=ASSIGNED + timedelta(hours=2),
        limit_text="5个工作日",
        deadline=DEADLINE,
        reported_at=None,
        state="已签收",
        overdue=False,
        return_count=1,
        rework_count=0,
        rating="",
        notice_level="蓝色督办（临期）",
        events=(
            _event(ref, 0, "创建", "", "草稿"),
            _event(ref, 0, "交办", "草稿", "已交办"),
            _event(ref, 120, "签收", "已交办", "已签收", "收到"),
        ),
    )
    values.update(changes)
    return LedgerRow(**values)  # type: ignore[arg-type]


def _read(data: bytes):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(data))


def test_ledger_sheet_has_the_street_office_layout() -> None:
    rows = [
        _row(1, "更换破损井盖"),
        _row(2, "清理楼道堆物", overdue=True, assisting=(), rating="满意", reported_at=DEADLINE),
    ]
    wb = _read(build_ledger_xlsx(rows))
    assert wb.sheetnames == ["任务台账", "办理记录"]
    ws = wb["任务台账"]
    headers = [c.value for c in ws[1]]
    assert headers == [
        "序号",
        "编号",
        "来源",
        "吹哨类型",
        "任务标题",
        "任务内容",
        "地点",
        "交办单位",
        "主办单位",
        "协办单位",
        "交办时间",
        "签收时间",
        "办理时限",
        "办结反馈时间",
        "状态",
        "是否逾期",
        "退回次数",
        "返工次数",
        "评价",
        "督办等级",
    ]
    first = dict(zip(headers, [c.value for c in ws[2]], strict=True))
    assert first["序号"] == 1 and first["编号"] == "2026-000001"
    assert first["任务标题"] == "更换破损井盖"
    assert first["协办单位"] == "区住房和城乡建设委员会、区市场监督管理局新华市场监管所"
    # Beijing local time as text: Excel must not shift or reformat it.
    assert first["交办时间"] == "2026-03-02 09:30"
    assert first["签收时间"] == "2026-03-02 11:30"
    assert first["办理时限"] == "5个工作日（至 2026-03-06 24:00）"
    assert first["是否逾期"] == "否" and first["退回次数"] == 1 and first["返工次数"] == 0
    assert first["督办等级"] == "蓝色督办（临期）"
    assert ws.cell(2, 11).data_type == "s"
    second = dict(zip(headers, [c.value for c in ws[3]], strict=True))
    assert second["序号"] == 2 and second["是否逾期"] == "是" and second["评价"] == "满意"
    assert second["办结反馈时间"] == "2026-03-07 00:00"
    assert not second["协办单位"]
    assert ws.max_row == 3

    # Frozen header, wrapped text, widths that fit the content.
    assert ws.freeze_panes == "A2"
    assert ws.cell(2, 6).alignment.wrap_text
    assert ws.cell(1, 1).font.bold
    widths = {
        h: ws.column_dimensions[ws.cell(1, i).column_letter].width for i, h in enumerate(headers, 1)
    }
    assert widths["任务内容"] > widths["任务标题"] > widths["序号"]
    assert [w for _h, w in LEDGER_COLUMNS] == list(widths.values())


def test_history_sheet_has_one_row_per_timeline_entry() -> None:
    wb = _read(build_ledger_xlsx([_row(1, "更换破损井盖"), _row(2, "清理楼道堆物")]))
    ws = wb["办理记录"]
    assert [c.value for c in ws[1]] == [h for h, _w in EVENT_COLUMNS]
    assert [c.value for c in ws[1]] == [
        "编号",
        "时间",
        "操作人",
        "单位",
        "动作",
        "原状态",
        "新状态",
        "说明",
    ]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 6
    assert [r[0] for r in rows] == ["2026-000001"] * 3 + ["2026-000002"] * 3
    assert rows[2] == (
        "2026-000001",
        "2026-03-02 11:30",
        "张秀兰",
        "区城管执法局新华街道执法队",
        "签收",
        "已交办",
        "已签收",
        "收到",
    )
    assert ws.freeze_panes == "A2"


def test_text_that_looks_like_a_formula_stays_text() -> None:
    row = _row(
        1,
        '=HYPERLINK("http://evil.example","点我")',
        description="含控制字符\x01\x0b的内容",
        events=(_event("2026-000001", 0, "留言", "", "", "=1+1"),),
    )
    wb = _read(build_ledger_xlsx([row]))
    title = wb["任务台账"].cell(2, 5)
    assert title.value == '=HYPERLINK("http://evil.example","点我")' and title.data_type == "s"
    assert wb["任务台账"].cell(2, 6).value == "含控制字符的内容"
    note = wb["办理记录"].cell(2, 8)
    assert note.value == "=1+1" and note.data_type == "s"


def test_an_empty_ledger_still_has_its_headers() -> None:
    wb = _read(build_ledger_xlsx([]))
    assert wb["任务台账"].max_row == 1 and wb["办理记录"].max_row == 1


def test_deadline_at_midnight_reads_as_24_00() -> None:
    assert deadline_text(DEADLINE) == "2026-03-06 24:00"
    assert deadline_text(DEADLINE + timedelta(minutes=30)) == "2026-03-07 00:30"
    assert deadline_text(None) == ""


# The import template ----------------------------------------------------------------------


def test_template_reads_back_as_an_empty_import() -> None:
    data = ledger_template_xlsx(
        ["区城管执法局新华街道执法队", "文化里社区居委会"], ["矛盾纠纷排查"]
    )
    headers, rows = read_table("模板.xlsx", data)
    assert headers == TEMPLATE_HEADERS
    assert headers == [
        "任务标题*",
        "任务内容",
        "地点",
        "主办单位*",
        "协办单位",
        "时限数值*",
        "时限单位*",
        "准入事项",
    ]
    assert rows == []
    assert set(column_index(headers)) == {
        "任务标题",
        "任务内容",
        "地点",
        "主办单位",
        "协办单位",
        "时限数值",
        "时限单位",
        "准入事项",
    }
    wb = _read(data)
    assert wb.sheetnames == ["任务导入", "填写说明", "可选单位"]
    guide = "\n".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "工作日" in guide and "整批都不导入" in guide
    units = [r[0] for r in wb["可选单位"].iter_rows(min_row=2, values_only=True)]
    assert units == ["区城管执法局新华街道执法队", "文化里社区居委会"]
    assert wb["可选单位"].cell(2, 2).value == "矛盾纠纷排查"
    checks = {str(v.sqref): v for v in wb["任务导入"].data_validations.dataValidation}
    assert checks["G2:G2001"].formula1 == '"工作日,小时,分钟"'
    assert checks["D2:D2001"].formula1 == "'可选单位'!$A$2:$A$3"
    assert wb["任务导入"].freeze_panes == "A2"


def test_headers_without_stars_are_the_same_columns() -> None:
    index = column_index(["任务标题", " 主办单位 ", "备注", "时限数值＊", "时限单位*"])
    assert index == {"任务标题": 0, "主办单位": 1, "时限数值": 3, "时限单位": 4}


# Filters and pure helpers ------------------------------------------------------------------


def test_filters_default_to_this_year_and_read_query_parameters() -> None:
    today = date(2026, 11, 29)
    default = LedgerFilters.parse({}, today)
    assert (default.start, default.end, default.period_label) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        "2026",
    )
    assert LedgerFilters.parse({"year": "2025"}, today).period_label == "2025"
    span = LedgerFilters.parse(
        {"from": "2026-01-01", "to": "2026-06-30", "source": "whistle", "state": "signed_for"},
        today,
    )
    assert span.period_label == "20260101-20260630"
    assert (span.source, span.state) == ("whistle", "signed_for")
    assert LedgerFilters.parse({"unit": "12"}, today).unit_id == 12


@pytest.mark.parametrize(
    "query",
    [
        {"year": "二〇二六"},
        {"year": "1999"},
        {"from": "2026-13-01"},
        {"from": "2026-06-01", "to": "2026-01-01"},
        {"source": "gossip"},
        {"state": "done"},
        {"unit": "abc"},
    ],
)
def test_bad_filters_are_refused(query: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        LedgerFilters.parse(query, date(2026, 11, 29))


def test_action_words() -> None:
    assert action_text("transition", "create") == "创建"
    assert action_text("transition", "assign") == "交办"
    assert action_text("transition", "fail_review") == "退回重办"
    assert action_text("assignee", "accept") == "签收"
    assert action_text("report", "progress") == "进度反馈"
    assert action_text("notice", "red") == "红色督办（逾期）"
    assert action_text("notice", "") == "督办"


def test_overdue_is_judged_by_the_report_or_by_now() -> None:
    now = DEADLINE + timedelta(hours=1)
    task = Task(state="in_progress", deadline=DEADLINE, reported_at=None)
    assert is_overdue(task, now)
    assert not is_overdue(task, DEADLINE - timedelta(hours=1))
    on_time = Task(state="closed_out", deadline=DEADLINE, reported_at=DEADLINE - timedelta(days=1))
    assert not is_overdue(on_time, now)
    late = Task(state="reported", deadline=DEADLINE, reported_at=DEADLINE + timedelta(minutes=1))
    assert is_overdue(late, now)
    assert not is_overdue(Task(state="drafted", deadline=None), now)
