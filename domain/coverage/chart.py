"""Geometry of the history chart (an inline SVG drawn by the template): work coverage as
bars, organisation coverage as a line, one slot per month."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.coverage.figures import percent
from domain.coverage.history import HistoryPoint

WIDTH, HEIGHT = 640, 230
LEFT, RIGHT, TOP, BASE = 56, 10, 18, 190
PLOT = BASE - TOP


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    cx: float
    label: str  # month
    value: str  # work coverage, as text
    title: str  # the tooltip: both rates and counts
    live: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    line: str  # polyline points of organisation coverage
    dots: list[tuple[float, float]]
    grid: list[tuple[float, str]]  # y and its label
    base: int
    left: int
    right: int

    @property
    def empty(self) -> bool:
        return not any(b.height for b in self.bars) and not self.dots


def _y(rate: float) -> float:
    return round(BASE - rate * PLOT, 1)


def chart(points: Sequence[HistoryPoint]) -> Chart:
    n = max(1, len(points))
    slot = (WIDTH - LEFT - RIGHT) / n
    bars: list[Bar] = []
    line: list[str] = []
    dots: list[tuple[float, float]] = []
    previous_year = None
    for i, p in enumerate(points):
        f = p.figures
        x = LEFT + i * slot
        cx = round(x + slot / 2, 1)
        work = f.work_rate or 0.0
        month = p.month
        label = f"{month.month}月" if previous_year == month.year else f"{month:%y}/{month.month}"
        previous_year = month.year
        title = (
            f"{month:%Y年%m月}{'（本月，实时）' if p.live else ''}：组织 {f.organisations} 个，"
            f"组织覆盖率 {percent(f.org_rate)}，工作覆盖率 {percent(f.work_rate)}"
        )
        bars.append(
            Bar(
                x=round(x + slot * 0.2, 1),
                y=_y(work),
                width=round(slot * 0.6, 1),
                height=round(work * PLOT, 1),
                cx=cx,
                label=label,
                value=percent(f.work_rate) if f.work_rate is not None else "",
                title=title,
                live=p.live,
            )
        )
        if f.org_rate is not None:
            y = _y(f.org_rate)
            line.append(f"{cx},{y}")
            dots.append((cx, y))
    grid = [(_y(r), f"{int(r * 100)}%") for r in (0.0, 0.5, 1.0)]
    return Chart(WIDTH, HEIGHT, bars, " ".join(line), dots, grid, BASE, LEFT, WIDTH - RIGHT)
