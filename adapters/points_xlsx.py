"""The quarterly feedback to an employer unit (在职党员到社区报到情况反馈表) as a workbook:
a summary sheet, one row per member, and a detail sheet of the quarter's ledger lines.
Every value is text or a number, never a formula; the house style of lists_xlsx."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from adapters.lists_xlsx import BOX, WRAP, _clean
from domain.dual_report.feedback import Feedback

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_SHEET, DETAIL_SHEET = "汇总", "明细"
SUMMARY_HEADERS = [("序号", 6), ("姓名", 12), ("报到社区", 18), ("参加活动（次）", 14),
                   ("缺席（次）", 10), ("服务时长（小时）", 16), ("积分", 8),
                   ("待补主题党日（次）", 18)]  # fmt: skip
DETAIL_HEADERS = [("序号", 6), ("日期", 12), ("姓名", 12), ("类别", 10), ("事项", 30),
                  ("社区", 16), ("时长（小时）", 12), ("积分", 8), ("备注", 30)]  # fmt: skip


def feedback_filename(fb: Feedback) -> str:
    return f"{fb.unit.name}-{fb.year}年第{fb.quarter}季度党员报到反馈.xlsx"


def _sheet(
    ws: Worksheet,
    title: str,
    subtitle: str,
    headers: list[tuple[str, int]],
    rows: list[list[object]],
    total: list[object] | None = None,
) -> None:
    from openpyxl.utils import get_column_letter

    width = len(headers)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.append([subtitle])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.cell(2, 1).alignment = Alignment(horizontal="center")
    ws.append([h for h, _ in headers])
    for col, (_, w) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(col)].width = w
        cell = ws.cell(3, col)
        cell.font = Font(bold=True)
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    body = rows + ([total] if total else [])
    for r, values in enumerate(body, start=4):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c)
            cell.value = _clean(value) if isinstance(value, str) else value
            if isinstance(value, str):
                cell.data_type = "s"  # "=..." stays text
            cell.border = BOX
            cell.alignment = WRAP
    if total:
        for c in range(1, width + 1):
            ws.cell(3 + len(body), c).font = Font(bold=True)
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.freeze_panes = "A4"


def build_feedback_xlsx(fb: Feedback) -> bytes:
    title = f"{fb.unit.name}在职党员到社区报到情况反馈表"
    subtitle = f"{fb.year} 年第 {fb.quarter} 季度"
    summary = [
        [i, m.name, m.community, m.attended, m.no_shows, float(m.hours), m.points, m.open_makeups]
        for i, m in enumerate(fb.members, start=1)
    ]
    total: list[object] = [
        "合计", f"{len(fb.members)} 人", "",
        sum(m.attended for m in fb.members), sum(m.no_shows for m in fb.members),
        float(sum(m.hours for m in fb.members)), sum(m.points for m in fb.members),
        sum(m.open_makeups for m in fb.members),
    ]  # fmt: skip
    detail = [
        [i, line.day.isoformat(), line.name, line.source, line.what, line.community,
         float(line.hours), line.points, line.note]
        for i, line in enumerate(fb.lines, start=1)
    ]  # fmt: skip
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SUMMARY_SHEET
    _sheet(ws, title, subtitle, SUMMARY_HEADERS, summary, total)
    _sheet(wb.create_sheet(DETAIL_SHEET), title, f"{subtitle} 服务与积分明细", DETAIL_HEADERS,
           detail)  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
