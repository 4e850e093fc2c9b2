"""A street's scorecards as a workbook: the rankings (member units, then departments) and
one sheet with every metric of every unit — score, weight and the reason in words.
House style of adapters/lists_xlsx.py: a title row, bold boxed headers, values as text or
numbers, never formulas."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook

from adapters.lists_xlsx import XLSX, _sheet
from domain.evaluation import scoring as sc
from domain.evaluation.scorecard import UnitScore
from domain.labels import label

__all__ = ["DETAIL_SHEET", "RANKING_SHEET", "XLSX", "build_scores_xlsx"]

RANKING_SHEET, DETAIL_SHEET = "考核排名", "考核明细"
DETAIL_HEADERS = [("单位", 28), ("类别", 12), ("考核项", 18), ("得分", 8), ("权重", 8),
                  ("得分说明", 60)]  # fmt: skip


def _ranking_headers() -> list[tuple[str, int]]:
    metrics = list(dict.fromkeys([*sc.MEMBER_METRICS, *sc.TASK_METRICS]))
    return [
        ("排名", 6),
        ("单位", 28),
        ("类别", 12),
        ("总分", 8),
        ("等次", 8),
        *[(sc.METRIC_LABELS[k], 11) for k in metrics],
    ]


def _ranking_rows(scores: Sequence[UnitScore]) -> list[list[object]]:
    metrics = list(dict.fromkeys([*sc.MEMBER_METRICS, *sc.TASK_METRICS]))
    rows: list[list[object]] = []
    for group in (False, True):
        for s in scores:
            if s.is_department != group:
                continue
            cells: list[object] = []
            for key in metrics:
                item = s.item(key)
                cells.append(item.score if item is not None else "—")
            rows.append([s.rank, s.unit_name, label(s.kind), s.total, s.grade, *cells])
    return rows


def build_scores_xlsx(street_name: str, period_label: str, scores: Sequence[UnitScore]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = RANKING_SHEET
    _sheet(ws, f"{street_name}{period_label}述职评议考核排名", _ranking_headers(),
           _ranking_rows(scores))  # fmt: skip
    detail = [
        [s.unit_name, label(s.kind), i.label, i.score, i.weight, i.reason]
        for s in scores
        for i in s.items
    ]
    _sheet(wb.create_sheet(DETAIL_SHEET), f"{street_name}{period_label}考核明细",
           DETAIL_HEADERS, detail)  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
