"""The minutes as a Word document (.docx), for filing and for printing on letterhead."""

from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table

from domain.conference.minutes_draft import chinese_date, local
from domain.conference.minutes_support import MinutesView
from domain.labels import label

# Lines of the body that start a section: 一、 … 十、 and (一) … (十).
HEADING = re.compile(r"^[一二三四五六七八九十]+、")
SUBHEADING = re.compile(r"^（[一二三四五六七八九十]+）")
BODY_FONT, HEADING_FONT = "宋体", "黑体"


def _east_asian(run_or_style: object, font: str) -> None:
    # Word picks the font for Chinese characters from w:eastAsia, not from the font name.
    element = run_or_style.element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _table(doc: object, headers: list[str], rows: list[list[str]]) -> Table:
    table: Table = doc.add_table(rows=1, cols=len(headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        _east_asian(run, HEADING_FONT)
    for values in rows:
        cells = table.add_row().cells  # type: ignore[no-untyped-call]
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    return table


def minutes_docx(view: MinutesView) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(12)
    _east_asian(normal, BODY_FONT)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(view.facts.conference_name)
    run.bold = True
    run.font.size = Pt(20)
    _east_asian(run, HEADING_FONT)
    subtitle = doc.add_paragraph()
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = subtitle.add_run(view.title)
    run.bold = True
    run.font.size = Pt(16)
    _east_asian(run, HEADING_FONT)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.add_run(view.number_text)

    for line in view.body_lines:
        if not line.strip():
            continue
        paragraph = doc.add_paragraph()
        run = paragraph.add_run(line.strip())
        if HEADING.match(line) or SUBHEADING.match(line):
            run.bold = True
            _east_asian(run, HEADING_FONT)
        else:
            paragraph.paragraph_format.first_line_indent = Pt(24)

    doc.add_heading("附一：出席情况", level=2)
    _table(
        doc,
        ["单位", "情况", "备注"],
        [[a.unit_name, label(a.status), a.note] for a in view.facts.attendance],
    )
    doc.add_heading("附二：议定事项", level=2)
    if view.facts.decisions:
        _table(
            doc,
            ["序号", "议定事项", "牵头单位", "协办单位", "完成时限"],
            [
                [
                    str(i),
                    d.title,
                    d.lead_unit,
                    "、".join(d.assisting_units) or "无",
                    chinese_date(d.deadline),
                ]
                for i, d in enumerate(view.facts.decisions, start=1)
            ],
        )
    else:
        doc.add_paragraph("本次会议未形成议定事项。")
    doc.add_heading("附三：成员单位会签", level=2)
    signed = [
        [s.unit_name, s.user_name, local(s.signed_at).strftime("%Y-%m-%d %H:%M"), s.comment]
        for s in view.signatures
    ]
    missing = [[name, "", "未会签", ""] for _uid, name in view.missing]
    _table(doc, ["单位", "会签人", "会签时间", "意见"], signed + missing)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
