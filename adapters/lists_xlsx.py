"""The three lists (需求清单, 资源清单, 项目清单) as the workbook a conference
secretariat prints: a title row, then 序号, 单位/社区, 类别, 内容, 受益对象/可提供内容,
时间, 状态. Every value is text or a number, never a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.labels import label
from domain.models.sharing import Need, Project, Resource

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NEEDS_SHEET, RESOURCES_SHEET, PROJECTS_SHEET = "需求清单", "资源清单", "项目清单"
NEED_HEADERS = [("序号", 6), ("社区", 22), ("类别", 12), ("内容", 48), ("受益对象", 22),
                ("时间", 22), ("状态", 10)]  # fmt: skip
RESOURCE_HEADERS = [("序号", 6), ("单位", 24), ("类别", 14), ("内容", 48),
                    ("可提供内容", 36), ("时间", 24), ("状态", 10)]  # fmt: skip
PROJECT_HEADERS = [("序号", 6), ("项目", 36), ("需求方", 22), ("提供方", 22),
                   ("共建协议", 40), ("时间", 24), ("进度", 8), ("状态", 14)]  # fmt: skip
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")


def _clean(value: str) -> str:
    return str(ILLEGAL_CHARACTERS_RE.sub("", value))


def _need_row(n: int, need: Need) -> list[object]:
    who = need.community.name if need.community else need.poster_unit.name
    content = need.title + (f"\n{need.description}" if need.description else "")
    beneficiaries = need.beneficiaries + (
        f"（约 {need.beneficiary_count} 人）" if need.beneficiary_count else ""
    )
    span = "至".join(d.isoformat() for d in (need.wanted_from, need.wanted_to) if d)
    return [n, who, need.category, content, beneficiaries, span, label(need.state)]


def _resource_row(n: int, r: Resource) -> list[object]:
    offer = [f"类型：{label(r.kind)}"]
    if r.capacity is not None:
        offer.append(f"可容纳 {r.capacity} 人")
    if r.address:
        offer.append(f"地址：{r.address}")
    if r.facilities:
        offer.append(f"设施：{r.facilities}")
    if r.volunteer_count is not None:
        offer.append(f"志愿者 {r.volunteer_count} 人")
    if r.skills:
        offer.append(f"技能/专业：{r.skills}")
    if r.amount is not None:
        offer.append(f"金额 {r.amount} 元")
    if r.conditions:
        offer.append(f"条件：{r.conditions}")
    content = r.title + (f"\n{r.description}" if r.description else "")
    when = r.availability or r.opening_hours
    return [n, r.unit.name, r.category, content, "\n".join(offer), when, label(r.state)]


def _project_row(n: int, p: Project) -> list[object]:
    agreement = (f"协议编号：{p.agreement_no}\n" if p.agreement_no else "") + p.agreement_terms
    span = "至".join(d.isoformat() for d in (p.starts_on, p.due_on) if d)
    state = label(p.state) + (f"（{label(p.rating)}）" if p.rating else "")
    if p.carried_to_year:
        state += f"\n结转 {p.carried_to_year} 年：{p.carry_reason}"
    return [n, p.title, p.requester_unit.name, p.provider_unit.name, agreement, span,
            f"{p.progress_percent}%", state]  # fmt: skip


def _sheet(
    ws: Worksheet, title: str, headers: list[tuple[str, int]], rows: list[list[object]]
) -> None:
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.cell(1, 1).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.append([h for h, _ in headers])
    for col, (_, width) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
        cell = ws.cell(2, col)
        cell.font = Font(bold=True)
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center")
    for r, values in enumerate(rows, start=3):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c)
            cell.value = _clean(value) if isinstance(value, str) else value
            if isinstance(value, str):
                cell.data_type = "s"  # "=..." stays text
            cell.border = BOX
            cell.alignment = WRAP
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0


def build_lists_xlsx(
    street_name: str,
    needs: Sequence[Need],
    resources: Sequence[Resource],
    projects: Sequence[Project] = (),
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = NEEDS_SHEET
    _sheet(ws, f"{street_name}需求清单", NEED_HEADERS,
           [_need_row(i, n) for i, n in enumerate(needs, start=1)])  # fmt: skip
    _sheet(wb.create_sheet(RESOURCES_SHEET), f"{street_name}资源清单", RESOURCE_HEADERS,
           [_resource_row(i, r) for i, r in enumerate(resources, start=1)])  # fmt: skip
    _sheet(wb.create_sheet(PROJECTS_SHEET), f"{street_name}项目清单", PROJECT_HEADERS,
           [_project_row(i, p) for i, p in enumerate(projects, start=1)])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
