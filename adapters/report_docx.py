"""A responsibility report (述职报告) as a Word document (.docx), for the annual review."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from adapters.minutes_docx import BODY_FONT, HEADING_FONT, _east_asian, _table
from domain.labels import label
from domain.models.evaluation import ResponsibilityReport
from domain.tasks.calendar import local_date


def report_docx(org_name: str, report: ResponsibilityReport, author: str = "") -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(12)
    _east_asian(normal, BODY_FONT)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(report.title)
    run.bold = True
    run.font.size = Pt(18)
    _east_asian(run, HEADING_FONT)
    byline = doc.add_paragraph()
    byline.alignment = WD_ALIGN_PARAGRAPH.CENTER
    when = (
        local_date(report.submitted_at).strftime("%Y年%m月%d日")
        if report.submitted_at
        else label(report.state)
    )
    byline.add_run(" ".join(p for p in (org_name, author, when) if p))

    for section in report.sections:
        heading = doc.add_paragraph()
        run = heading.add_run(section["title"])
        run.bold = True
        _east_asian(run, HEADING_FONT)
        lines = [line.strip() for line in section["body"].splitlines() if line.strip()]
        for line in lines or ["（未填写）"]:
            paragraph = doc.add_paragraph()
            paragraph.add_run(line)
            paragraph.paragraph_format.first_line_indent = Pt(24)

    rows = [
        [section["title"] if i == 0 else "", f["label"], str(f["value"])]
        for section in report.sections
        for i, f in enumerate(section.get("facts", []))
    ]
    if rows:
        doc.add_heading("附：主要数据", level=2)
        _table(doc, ["部分", "指标", "数值"], rows)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
