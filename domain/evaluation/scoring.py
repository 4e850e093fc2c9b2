"""The scorecard rules (述职评议考核): pure functions over counted figures, no I/O.

A period is a year or one quarter of it (Beijing dates). Each metric scores 0..weight
with the street's settings; targets are per year, and for a quarter a quarter of the
yearly target (counts rounded up, at least 1). A unit's total is the sum of its scores
over the sum of its weights, normalised to 100, graded by the street's grade lines.

Metrics with nothing to judge in the period (no sessions the unit was expected at, no
decisions due, no tasks) earn full marks and say so: a unit is not marked down for work
it was never given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from domain.enums import UnitKind

BEIJING = ZoneInfo("Asia/Shanghai")

# Metric keys, in the order a card shows them.
ATTENDANCE = "attendance"
TOPICS = "topics"
DECISIONS = "decisions"
RESOURCES = "resources"
PROJECTS = "projects"
ACTIVITIES = "activities"
DUAL_REPORT = "dual_report"
ACCEPT = "accept"
ONTIME = "ontime"
RETURNS = "returns"
REWORK = "rework"
SATISFACTION = "satisfaction"

METRIC_LABELS: dict[str, str] = {
    ATTENDANCE: "会议出勤",
    TOPICS: "提出议题",
    DECISIONS: "议定事项按期完成",
    RESOURCES: "资源提供与认领",
    PROJECTS: "共建项目完成",
    ACTIVITIES: "主办与参加活动",
    DUAL_REPORT: "双报到与服务时长",
    ACCEPT: "按时签收",
    ONTIME: "按期办结",
    RETURNS: "退回率低",
    REWORK: "一次通过",
    SATISFACTION: "满意度",
}
WEIGHT_SETTINGS: dict[str, str] = {
    ATTENDANCE: "score_w_attendance",
    TOPICS: "score_w_topics",
    DECISIONS: "score_w_decisions",
    RESOURCES: "score_w_resources",
    PROJECTS: "score_w_projects",
    ACTIVITIES: "score_w_activities",
    DUAL_REPORT: "score_w_dual_report",
    ACCEPT: "score_w_accept",
    ONTIME: "score_w_ontime",
    RETURNS: "score_w_returns",
    REWORK: "score_w_rework",
    SATISFACTION: "score_w_satisfaction",
}
CONFERENCE_METRICS = (ATTENDANCE, TOPICS, DECISIONS)
MEMBER_METRICS = (*CONFERENCE_METRICS, RESOURCES, PROJECTS, ACTIVITIES, DUAL_REPORT)
# A department's task figures replace the metrics that are not about the conference.
TASK_METRICS = (ACCEPT, ONTIME, RETURNS, REWORK, SATISFACTION)
DEPARTMENT_METRICS = (*CONFERENCE_METRICS, *TASK_METRICS)
SCORED_KINDS = (UnitKind.STATIONED, UnitKind.COMMUNITY, UnitKind.DEPARTMENT)

GRADE_EXCELLENT = "好"
GRADE_GOOD = "较好"
GRADE_PASS = "一般"
GRADE_POOR = "差"
GRADES = (GRADE_EXCELLENT, GRADE_GOOD, GRADE_PASS, GRADE_POOR)


def metrics_for(kind: str) -> tuple[str, ...]:
    return DEPARTMENT_METRICS if kind == UnitKind.DEPARTMENT.value else MEMBER_METRICS


# ---- periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePeriod:
    year: int
    quarter: int | None = None

    def __post_init__(self) -> None:
        if self.quarter is not None and not 1 <= self.quarter <= 4:
            raise ValueError("quarter must be 1..4")

    @property
    def first(self) -> date:
        return date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def next_first(self) -> date:
        """The day after the period (exclusive end)."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.quarter + 1, 1)

    @property
    def start(self) -> datetime:
        """00:00 Beijing time of the first day, in UTC."""
        return datetime.combine(self.first, time(0), tzinfo=BEIJING).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """00:00 Beijing time of the day after the period, in UTC (exclusive)."""
        return datetime.combine(self.next_first, time(0), tzinfo=BEIJING).astimezone(UTC)

    @property
    def fraction(self) -> float:
        return 1.0 if self.quarter is None else 0.25

    @property
    def label(self) -> str:
        return f"{self.year}年" if self.quarter is None else f"{self.year}年第{self.quarter}季度"

    def contains(self, day: date) -> bool:
        return self.first <= day < self.next_first


def count_target(yearly: int, period: ScorePeriod) -> int:
    """A yearly count target scaled to the period: a quarter needs a quarter, rounded up."""
    return max(1, math.ceil(yearly * period.fraction))


def hours_target(yearly: int, period: ScorePeriod) -> float:
    return max(0.25, yearly * period.fraction)


# ---- one metric ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricScore:
    key: str
    label: str
    weight: int
    score: float
    reason: str
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        return self.score / self.weight if self.weight else None


def _round(value: float) -> float:
    return round(value + 1e-9, 2)


def _fmt(value: float) -> str:
    """2, 2.5, 2.33 — no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _metric(key: str, weight: int, score: float, reason: str, **figures: float) -> MetricScore:
    score = min(float(weight), max(0.0, score))
    return MetricScore(key, METRIC_LABELS[key], weight, _round(score), reason, dict(figures))


def attendance(
    weight: int, deduct: int, expected: int, attended: int, on_leave: int, absent: int
) -> MetricScore:
    """Weight × attended share, minus `deduct` per absence without leave (floor 0).

    `expected` counts the sessions the unit sat in as a member (attended, on leave or
    absent); attending in person or by a delegate both count as attended."""
    figures = {"expected": expected, "attended": attended, "on_leave": on_leave, "absent": absent}
    if expected == 0:
        return _metric(ATTENDANCE, weight, weight, "本期无应出席的会议，按满分计", **figures)
    raw = weight * attended / expected - deduct * absent
    reason = f"出席 {attended} 次/应出席 {expected} 次"
    if on_leave:
        reason += f"，请假 {on_leave} 次"
    if absent:
        reason += f"，无故缺席 {absent} 次扣 {_fmt(deduct * absent)} 分"
        if raw < 0:
            reason += "（最低 0 分）"
    return _metric(ATTENDANCE, weight, raw, reason, **figures)


def target_count(key: str, weight: int, count: int, target: int, reason: str) -> MetricScore:
    """Full marks at `target`, in proportion below it."""
    target = max(1, target)
    score = weight * min(1.0, count / target)
    text = f"{reason}，满分标准 {target}" + ("（已达标）" if count >= target else "")
    return _metric(key, weight, score, text, count=count, target=target)


def topics(weight: int, proposed: int, rejected: int, target: int) -> MetricScore:
    """Topics accepted or merged count; rejected ones (and those still pending) do not."""
    text = f"提出议题被采纳（含合并）{proposed} 条"
    if rejected:
        text += f"，未采纳 {rejected} 条不计"
    metric = target_count(TOPICS, weight, proposed, target, text)
    return _with(metric, rejected=rejected)


def decisions(weight: int, due: int, on_time: int, late: int) -> MetricScore:
    """Decisions led by the unit and due in the period: completed on or before the deadline."""
    figures = {"due": due, "on_time": on_time, "late": late}
    if due == 0:
        return _metric(DECISIONS, weight, weight, "本期无议定事项", **figures)
    text = f"按期完成 {on_time} 项/到期 {due} 项"
    if late:
        text += f"，逾期完成 {late} 项"
    if due - on_time - late:
        text += f"，未完成 {due - on_time - late} 项"
    return _metric(DECISIONS, weight, weight * on_time / due, text, **figures)


def resources(
    weight: int, offered: int, claims_made: int, claims_accepted: int, target: int
) -> MetricScore:
    """Resources offered (listed) + claims the unit made that were accepted + claims on its
    own listings it accepted."""
    count = offered + claims_made + claims_accepted
    text = f"上架资源 {offered} 项、认领成功 {claims_made} 次、接受认领 {claims_accepted} 次"
    metric = target_count(RESOURCES, weight, count, target, text)
    return _with(metric, offered=offered, claims_made=claims_made, claims_accepted=claims_accepted)


def projects(weight: int, completed: int, target: int) -> MetricScore:
    return target_count(PROJECTS, weight, completed, target, f"完成共建项目 {completed} 个")


def activities(weight: int, hosted: int, joined: int, target: int) -> MetricScore:
    text = f"主办活动 {hosted} 场次、本单位党员参加 {joined} 人次"
    metric = target_count(ACTIVITIES, weight, hosted + joined, target, text)
    return _with(metric, hosted=hosted, joined=joined)


def dual_report(
    weight: int,
    slip_confirmed: bool,
    slip_needed: bool,
    members: int,
    minutes: int,
    target_hours: float,
) -> MetricScore:
    """Half for the unit's confirmed report-in slip (a community needs none), half for its
    registered members' service hours per member against the target."""
    half = weight / 2
    hours = minutes / 60
    per_member = hours / members if members else 0.0
    slip = half if (slip_confirmed or not slip_needed) else 0.0
    service = half * min(1.0, per_member / target_hours) if members else 0.0
    if not slip_needed:
        first = "社区无需报到（该项计满分）"
    else:
        first = "报到单已确认" if slip_confirmed else "报到单未确认"
    if members:
        second = (
            f"登记党员 {members} 人、服务 {_fmt(hours)} 小时，人均 {_fmt(per_member)} 小时"
            f"/标准 {_fmt(target_hours)} 小时"
        )
    else:
        second = "无在职党员登记到社区，服务时长不得分"
    return _metric(
        DUAL_REPORT,
        weight,
        slip + service,
        f"{first}；{second}",
        slip_confirmed=int(slip_confirmed),
        members=members,
        hours=_round(hours),
        per_member=_round(per_member),
        target=target_hours,
    )


def task_rate(key: str, weight: int, part: int, whole: int, invert: bool = False) -> MetricScore:
    """A department's task figure: share × weight; with `invert` fewer is better
    (returns: weight × (1 − returned/lead)). Nothing to judge: full marks."""
    figures = {"part": part, "whole": whole}
    if whole == 0:
        return _metric(key, weight, weight, "本期无可计任务，按满分计", **figures)
    rate = part / whole
    share = 1 - rate if invert else rate
    texts = {
        ACCEPT: f"按时签收 {part} 件/应签收 {whole} 件",
        ONTIME: f"按期办结 {part} 件/办结 {whole} 件",
        RETURNS: f"申请退回 {part} 件/主办 {whole} 件",
        REWORK: f"返工 {part} 件/已审核 {whole} 件",
        SATISFACTION: f"满意（含基本满意）{part} 件/已评价 {whole} 件",
    }
    text = f"{texts.get(key, f'{part}/{whole}')}，{_fmt(rate * 100)}%"
    return _metric(key, weight, weight * share, text, **figures)


def _with(metric: MetricScore, **figures: float) -> MetricScore:
    return MetricScore(
        metric.key,
        metric.label,
        metric.weight,
        metric.score,
        metric.reason,
        {**metric.figures, **figures},
    )


# ---- totals -------------------------------------------------------------------------------


def total(items: list[MetricScore]) -> float:
    """Sum of scores over sum of weights, out of 100; no weight at all scores 0."""
    weight = sum(i.weight for i in items)
    if weight <= 0:
        return 0.0
    return _round(100 * sum(i.score for i in items) / weight)


def grade(value: float, excellent: int, good: int, pass_: int) -> str:
    if value >= excellent:
        return GRADE_EXCELLENT
    if value >= good:
        return GRADE_GOOD
    if value >= pass_:
        return GRADE_PASS
    return GRADE_POOR


def grade_from_settings(value: float, settings: dict[str, int]) -> str:
    return grade(value, settings["grade_excellent"], settings["grade_good"], settings["grade_pass"])
