"""The .docx of a responsibility report, read back with python-docx."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document

from adapters.report_docx import report_docx
from domain.models.evaluation import ResponsibilityReport


def make_report(submitted: bool) -> ResponsibilityReport:
    return ResponsibilityReport(
        org_id=1,
        year=2026,
        title="新华街道党组织书记2026年度抓基层党建工作述职报告",
        state="report_submitted" if submitted else "report_draft",
        submitted_at=datetime(2026, 12, 30, 2, tzinfo=UTC) if submitted else None,
        sections=[
            {
                "key": "basics",
                "title": "一、基本情况",
                "body": "共有成员单位12个。\n\n全年报到单位8个。",
                "facts": [
                    {"key": "units", "label": "成员单位", "value": 12},
                    {"key": "units_reported", "label": "2026年报到单位", "value": 8},
                ],
            },
            {"key": "problems", "title": "六、存在问题和下步打算", "body": "", "facts": []},
        ],
    )


def test_docx_reads_back() -> None:
    data = report_docx("新华街道", make_report(True), "张秀兰")
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "新华街道党组织书记2026年度抓基层党建工作述职报告"
    assert texts[1] == "新华街道 张秀兰 2026年12月30日"
    assert "一、基本情况" in texts
    assert "共有成员单位12个。" in texts and "全年报到单位8个。" in texts
    assert "" not in texts[2 : texts.index("六、存在问题和下步打算")]  # blank lines dropped
    after = texts[texts.index("六、存在问题和下步打算") + 1]
    assert after == "（未填写）"
    assert "附：主要数据" in texts
    table = doc.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["部分", "指标", "数值"]
    assert rows[1] == ["一、基本情况", "成员单位", "12"]
    assert rows[2] == ["", "2026年报到单位", "8"]
    title_run = doc.paragraphs[0].runs[0]
    assert title_run.bold


def test_draft_says_so() -> None:
    doc = Document(io.BytesIO(report_docx("新华街道", make_report(False))))
    assert doc.paragraphs[1].text == "新华街道 草稿"
