"""The task ledger (任务台账) as an Excel workbook, and the template for importing tasks.

Sheet 1 "任务台账" follows the layout street offices keep; sheet 2 "办理记录" holds one
row per timeline entry. Times are Beijing local time written as text, so that Excel
neither shifts nor reformats them. Every value is written as text or a number, never as
a formula: a title starting with "=" stays a title.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation

from domain.tasks.calendar import BEIJING
from domain.tasks.ledger import LedgerRow
from domain.tasks.ledger_import import MAX_ROWS, REQUIRED, TEMPLATE_HEADERS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_SHEET, EVENTS_SHEET = "任务台账", "办理记录"

# (header, column width in characters)
LEDGER_COLUMNS: list[tuple[str, int]] = [
    ("序号", 6),
    ("编号", 13),
    ("来源", 12),
    ("吹哨类型", 10),
    ("任务标题", 28),
    ("任务内容", 40),
    ("地点", 18),
    ("交办单位", 18),
    ("主办单位", 22),
    ("协办单位", 26),
    ("交办时间", 17),
    ("签收时间", 17),
    ("办理时限", 22),
    ("办结反馈时间", 17),
    ("状态", 9),
    ("是否逾期", 9),
    ("退回次数", 9),
    ("返工次数", 9),
    ("评价", 10),
    ("督办等级", 16),
]
EVENT_COLUMNS: list[tuple[str, int]] = [
    ("编号", 13),
    ("时间", 17),
    ("操作人", 12),
    ("单位", 22),
    ("动作", 12),
    ("原状态", 10),
    ("新状态", 10),
    ("说明", 50),
]
HEADER_FONT = Font(name="宋体", bold=True)
BODY_FONT = Font(name="宋体")
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
BODY_ALIGN = Alignment(vertical="top", wrap_text=True)
# Excel refuses longer cell texts.
MAX_CELL = 32_000


def local_text(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def deadline_text(moment: datetime | None) -> str:
    """A working-day deadline is midnight Beijing time: written as 24:00 of the day it ends."""
    if moment is None:
        return ""
    local = moment.astimezone(BEIJING)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{local.date() - timedelta(days=1):%Y-%m-%d} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL]


def _cell(ws: WriteOnlyWorksheet, value: object, header: bool = False) -> WriteOnlyCell:
    if isinstance(value, str):
        value = _text(value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value:
        cell.data_type = "s"  # never a formula, whatever the text starts with
    cell.font = HEADER_FONT if header else BODY_FONT
    cell.alignment = HEADER_ALIGN if header else BODY_ALIGN
    if header:
        cell.fill = HEADER_FILL
    return cell


def _sheet(
    wb: Workbook, title: str, columns: Sequence[tuple[str, int]], rows: Iterable[Sequence[object]]
) -> None:
    ws = wb.create_sheet(title)
    assert isinstance(ws, WriteOnlyWorksheet)
    # Write-only sheets take their layout before the first row.
    for i, (_header, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.append([_cell(ws, header, header=True) for header, _width in columns])
    count = 0
    for row in rows:
        ws.append([_cell(ws, value) for value in row])
        count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"


def _ledger_values(number: int, row: LedgerRow) -> list[object]:
    limit = row.limit_text
    if row.deadline is not None:
        limit = f"{limit}（至 {deadline_text(row.deadline)}）"
    return [
        number,
        row.ref,
        row.source,
        row.whistle_kind,
        row.title,
        row.description,
        row.location,
        row.assigner,
        row.lead,
        "、".join(row.assisting),
        local_text(row.assigned_at),
        local_text(row.accepted_at),
        limit,
        local_text(row.reported_at),
        row.state,
        "是" if row.overdue else "否",
        row.return_count,
        row.rework_count,
        row.rating,
        row.notice_level,
    ]


def _event_values(rows: Sequence[LedgerRow]) -> Iterable[list[object]]:
    for row in rows:
        for e in row.events:
            yield [
                e.ref,
                local_text(e.at),
                e.actor,
                e.unit,
                e.action,
                e.from_state,
                e.to_state,
                e.text,
            ]


def build_ledger_xlsx(rows: Sequence[LedgerRow]) -> bytes:
    # Write-only: a year of a busy street (thousands of tasks, tens of thousands of timeline
    # entries) streams out without holding every cell object in memory.
    wb = Workbook(write_only=True)
    _sheet(wb, LEDGER_SHEET, LEDGER_COLUMNS, (_ledger_values(i, r) for i, r in enumerate(rows, 1)))
    _sheet(wb, EVENTS_SHEET, EVENT_COLUMNS, _event_values(rows))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# Import template --------------------------------------------------------------------------

TEMPLATE_SHEET, HELP_SHEET, UNITS_SHEET = "任务导入", "填写说明", "可选单位"
TEMPLATE_WIDTHS = [30, 40, 20, 28, 36, 10, 10, 28]
HELP_LINES = [
    ("列", "说明"),
    ("任务标题*", "必填，不超过 200 字。"),
    ("任务内容", "选填，不超过 5000 字。"),
    ("地点", "选填，不超过 200 字。"),
    ("主办单位*", "必填，一个单位，须与“可选单位”表中的名称完全一致。"),
    ("协办单位", "选填，可填多个，用顿号“、”或逗号分隔；名称同样须完全一致。"),
    ("时限数值*", "必填，正整数：工作日 1–90，小时 1–720，分钟 1–1440。"),
    ("时限单位*", "必填，填“工作日”“小时”或“分钟”。"),
    ("准入事项", "选填，交给社区的任务请填写本街道已准入的事项名称；不填则标记为准入外事项。"),
    ("", ""),
    ("规则", "第一行为表头，请勿修改；从第二行起每行一项任务。"),
    ("", f"单次最多 {MAX_ROWS} 行、文件不超过 5 MB。"),
    ("", "所有行都通过校验才会导入；任何一行有错，整批都不导入，页面会列出每一行的问题。"),
    ("", "办理时限从交办时起算；工作日按国家法定节假日和调休计算。"),
    (
        "示例",
        "更换破损井盖 ｜ 新华路与和平街交口井盖破损 ｜ 新华路 12 号 ｜ 区城管执法局新华街道执法队",
    ),
    ("", "协办单位：区住房和城乡建设委员会 ｜ 时限数值：3 ｜ 时限单位：工作日"),
]


def ledger_template_xlsx(units: Sequence[str] = (), admission_titles: Sequence[str] = ()) -> bytes:
    """The import template: headers on the first sheet, how to fill it in on the second,
    and the street's units and admitted matters (to copy names from) on the third."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = TEMPLATE_SHEET
    ws.append(TEMPLATE_HEADERS)
    for i, width in enumerate(TEMPLATE_WIDTHS, start=1):
        column = get_column_letter(i)
        ws.column_dimensions[column].width = width
        header = ws.cell(1, i)
        required = str(header.value).rstrip("*") in REQUIRED
        # Required columns in red, as the form marks them.
        header.font = Font(name="宋体", bold=True, color="C00000" if required else None)
        header.fill = HEADER_FILL
        header.alignment = HEADER_ALIGN
    ws.freeze_panes = "A2"
    last = MAX_ROWS + 1
    limit_units = DataValidation(
        type="list",
        formula1='"工作日,小时,分钟"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="时限单位",
        error="请填写“工作日”“小时”或“分钟”。",
    )
    ws.add_data_validation(limit_units)
    limit_units.add(f"G2:G{last}")
    limit_value = DataValidation(
        type="whole",
        operator="between",
        formula1="1",
        formula2="1440",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="时限数值",
        error="请填写正整数。",
    )
    ws.add_data_validation(limit_value)
    limit_value.add(f"F2:F{last}")

    help_sheet = wb.create_sheet(HELP_SHEET)
    for line in HELP_LINES:
        help_sheet.append(list(line))
    help_sheet.column_dimensions["A"].width = 14
    help_sheet.column_dimensions["B"].width = 90
    for cell in help_sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL

    names = wb.create_sheet(UNITS_SHEET)
    names.append(["可选单位（主办、协办）", "已准入事项（准入事项列）"])
    for i in range(max(len(units), len(admission_titles))):
        names.append(
            [
                _text(units[i]) if i < len(units) else None,
                _text(admission_titles[i]) if i < len(admission_titles) else None,
            ]
        )
        for cell in names[names.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    names.column_dimensions["A"].width = 36
    names.column_dimensions["B"].width = 40
    for cell in names[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    if units:
        # A drop-down of the street's units on the lead column (typing stays possible).
        lead = DataValidation(
            type="list",
            formula1=f"'{UNITS_SHEET}'!$A$2:$A${len(units) + 1}",
            allow_blank=True,
            showErrorMessage=False,
        )
        ws.add_data_validation(lead)
        lead.add(f"D2:D{last}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
