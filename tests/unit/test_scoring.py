"""Every scorecard rule against hand-computed examples (domain/evaluation/scoring.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.evaluation import scoring as sc
from domain.evaluation.score_metrics import RawFigures
from domain.evaluation.scorecard import UnitScore, ranked, score_items, task_counts
from domain.services.street_settings import SPECS
from domain.tasks.stats import Rates

DEFAULTS = {s.key: s.default for s in SPECS}
YEAR = sc.ScorePeriod(2026)
Q3 = sc.ScorePeriod(2026, 3)


# ---- periods ------------------------------------------------------------------------------


def test_year_and_quarter_bounds_in_beijing_time() -> None:
    assert (YEAR.first, YEAR.next_first) == (date(2026, 1, 1), date(2027, 1, 1))
    assert (Q3.first, Q3.next_first) == (date(2026, 7, 1), date(2026, 10, 1))
    q4 = sc.ScorePeriod(2026, 4)
    assert q4.next_first == date(2027, 1, 1)
    # 00:00 in Beijing is 16:00 UTC the day before.
    assert Q3.start == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
    assert Q3.end == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert YEAR.label == "2026年" and Q3.label == "2026年第3季度"
    assert Q3.contains(date(2026, 9, 30)) and not Q3.contains(date(2026, 10, 1))
    with pytest.raises(ValueError):
        sc.ScorePeriod(2026, 5)


def test_targets_scale_to_a_quarter() -> None:
    assert sc.count_target(4, YEAR) == 4
    assert sc.count_target(4, Q3) == 1
    assert sc.count_target(2, Q3) == 1  # 0.5 rounds up
    assert sc.count_target(5, Q3) == 2  # 1.25 rounds up
    assert sc.hours_target(10, Q3) == 2.5


# ---- attendance ---------------------------------------------------------------------------


def test_attendance_share_minus_deduction() -> None:
    # 3 of 4 attended, 1 absent without leave: 20 × 3/4 − 5 = 10.
    m = sc.attendance(20, 5, expected=4, attended=3, on_leave=0, absent=1)
    assert m.score == 10
    assert m.reason == "出席 3 次/应出席 4 次，无故缺席 1 次扣 5 分"
    assert m.figures["absent"] == 1


def test_attendance_leave_is_not_deducted() -> None:
    # 2 of 4 attended, 2 on leave: 20 × 2/4 = 10, nothing deducted.
    m = sc.attendance(20, 5, expected=4, attended=2, on_leave=2, absent=0)
    assert m.score == 10
    assert m.reason == "出席 2 次/应出席 4 次，请假 2 次"


def test_attendance_deduction_floors_at_zero() -> None:
    # 1 of 4, 3 absent: 20 × 1/4 − 15 = −10 → 0.
    m = sc.attendance(20, 5, expected=4, attended=1, on_leave=0, absent=3)
    assert m.score == 0
    assert "（最低 0 分）" in m.reason


def test_attendance_without_sessions_is_full_marks() -> None:
    m = sc.attendance(20, 5, expected=0, attended=0, on_leave=0, absent=0)
    assert m.score == 20
    assert "本期无应出席的会议" in m.reason


# ---- counted targets ----------------------------------------------------------------------


def test_topics_count_accepted_and_merged_to_the_target() -> None:
    assert sc.topics(10, proposed=1, rejected=0, target=2).score == 5
    full = sc.topics(10, proposed=3, rejected=2, target=2)
    assert full.score == 10
    assert "未采纳 2 条不计" in full.reason and "已达标" in full.reason
    assert sc.topics(10, proposed=0, rejected=4, target=2).score == 0


def test_resources_add_offers_and_claims() -> None:
    # 1 listed + 1 claim made + 0 accepted of target 3: 15 × 2/3 = 10.
    m = sc.resources(15, offered=1, claims_made=1, claims_accepted=0, target=3)
    assert m.score == 10
    assert m.figures["count"] == 2
    assert "上架资源 1 项、认领成功 1 次、接受认领 0 次" in m.reason


def test_projects_and_activities() -> None:
    assert sc.projects(10, completed=0, target=1).score == 0
    assert sc.projects(10, completed=2, target=1).score == 10
    # 1 date hosted + 2 attendances of its members, target 4: 15 × 3/4 = 11.25.
    m = sc.activities(15, hosted=1, joined=2, target=4)
    assert m.score == 11.25
    assert m.reason.startswith("主办活动 1 场次、本单位党员参加 2 人次")


def test_a_zero_target_is_treated_as_one() -> None:
    assert sc.target_count(sc.PROJECTS, 10, 1, 0, "x").score == 10


# ---- decisions ----------------------------------------------------------------------------


def test_decisions_on_time_share() -> None:
    # 4 due: 2 on time, 1 late, 1 open: 15 × 2/4 = 7.5.
    m = sc.decisions(15, due=4, on_time=2, late=1)
    assert m.score == 7.5
    assert m.reason == "按期完成 2 项/到期 4 项，逾期完成 1 项，未完成 1 项"


def test_no_decisions_is_full_marks() -> None:
    m = sc.decisions(15, due=0, on_time=0, late=0)
    assert m.score == 15
    assert m.reason == "本期无议定事项"


# ---- 双报到 -------------------------------------------------------------------------------


def test_dual_report_halves() -> None:
    # Slip confirmed (7.5) + 2 members, 10 h in all = 5 h each of 10: 7.5 × 0.5 = 3.75.
    m = sc.dual_report(15, True, True, members=2, minutes=600, target_hours=10)
    assert m.score == 11.25
    assert "报到单已确认" in m.reason and "人均 5 小时/标准 10 小时" in m.reason
    # No slip, hours over the target: only the hours half.
    m = sc.dual_report(15, False, True, members=1, minutes=60 * 30, target_hours=10)
    assert m.score == 7.5
    assert "报到单未确认" in m.reason


def test_dual_report_without_members_scores_only_the_slip() -> None:
    m = sc.dual_report(15, True, True, members=0, minutes=0, target_hours=10)
    assert m.score == 7.5
    assert "服务时长不得分" in m.reason


def test_a_community_needs_no_slip() -> None:
    m = sc.dual_report(15, False, False, members=0, minutes=0, target_hours=10)
    assert m.score == 7.5
    assert "社区无需报到" in m.reason


# ---- department task figures --------------------------------------------------------------


def test_task_rates() -> None:
    # 3 of 4 accepted on time: 25 × 0.75.
    m = sc.task_rate(sc.ACCEPT, 25, 3, 4)
    assert m.score == 18.75
    assert m.reason == "按时签收 3 件/应签收 4 件，75%"
    # Returns: fewer is better — 1 of 4 returned: 10 × (1 − 0.25).
    assert sc.task_rate(sc.RETURNS, 10, 1, 4, invert=True).score == 7.5
    # No tasks: full marks.
    empty = sc.task_rate(sc.ONTIME, 35, 0, 0)
    assert empty.score == 35 and "本期无可计任务" in empty.reason


def test_task_counts_come_from_the_supervision_rates() -> None:
    rates = Rates(
        handled=5,
        accept_base=4,
        accepted_on_time=3,
        lead=4,
        returned=1,
        review_base=2,
        reworked=1,
        finished=2,
        finished_on_time=1,
        rated=2,
        satisfied=2,
    )
    counts = task_counts(rates)
    assert counts[sc.ACCEPT] == (3, 4)
    assert counts[sc.ONTIME] == (1, 2)
    assert counts[sc.RETURNS] == (1, 4)
    assert counts[sc.REWORK] == (1, 2)
    assert counts[sc.SATISFACTION] == (2, 2)


# ---- totals and grades --------------------------------------------------------------------


def test_total_normalises_to_100_when_weights_do_not_add_up() -> None:
    items = [
        sc.decisions(15, 0, 0, 0),  # 15 / 15
        sc.projects(10, 0, 1),  # 0 / 10
        sc.topics(5, 1, 0, 2),  # 2.5 / 5
    ]
    # 17.5 of 30 → 58.33.
    assert sc.total(items) == 58.33
    assert sc.total([]) == 0.0
    assert sc.total([sc.projects(0, 3, 1)]) == 0.0  # all weights zero


def test_grade_boundaries() -> None:
    assert sc.grade(90, 90, 75, 60) == "好"
    assert sc.grade(89.99, 90, 75, 60) == "较好"
    assert sc.grade(75, 90, 75, 60) == "较好"
    assert sc.grade(74.99, 90, 75, 60) == "一般"
    assert sc.grade(60, 90, 75, 60) == "一般"
    assert sc.grade(59.99, 90, 75, 60) == "差"
    assert sc.grade_from_settings(100, DEFAULTS) == "好"


# ---- a whole card -------------------------------------------------------------------------


def test_member_card_by_hand() -> None:
    raw = RawFigures(
        expected=4,
        attended=3,
        absent=1,  # 20 × 3/4 − 5 = 10
        topics_counted=1,  # 10 × 1/2 = 5
        decisions_due=2,
        decisions_on_time=1,  # 15 × 1/2 = 7.5
        resources_offered=2,  # 15
        projects_completed=0,  # 0
        hosted=1,
        joined=1,  # 15 × 2/4 = 7.5
        slip_confirmed=True,
        members=1,
        minutes=300,  # 7.5 + 7.5 × 5/10 = 11.25
    )
    items = score_items("stationed", raw, DEFAULTS, YEAR)
    assert [i.key for i in items] == list(sc.MEMBER_METRICS)
    assert [i.score for i in items] == [10, 5, 7.5, 15, 0, 7.5, 11.25]
    # 56.25 of 100.
    assert sc.total(list(items)) == 56.25


def test_department_card_uses_task_figures() -> None:
    raw = RawFigures(task_counts={sc.ACCEPT: (1, 2), sc.ONTIME: (2, 2)})
    items = score_items("department", raw, DEFAULTS, YEAR)
    assert [i.key for i in items] == list(sc.DEPARTMENT_METRICS)
    by_key = {i.key: i.score for i in items}
    assert by_key[sc.ACCEPT] == 12.5 and by_key[sc.ONTIME] == 35
    assert by_key[sc.TOPICS] == 0  # no topics proposed
    # The rest has nothing to judge (full marks): 145 − 12.5 − 10 = 122.5 of 145 → 84.48.
    assert sc.total(list(items)) == 84.48


def test_quarter_targets_in_a_card() -> None:
    raw = RawFigures(topics_counted=1, hosted=1)
    items = {i.key: i for i in score_items("community", raw, DEFAULTS, Q3)}
    assert items[sc.TOPICS].score == 10  # target 2/yr → 1 per quarter
    assert items[sc.ACTIVITIES].score == 15  # target 4/yr → 1 per quarter
    assert items[sc.DUAL_REPORT].figures["target"] == 2.5


def test_ranking_shares_ranks_on_equal_totals() -> None:
    def us(name: str, total: float) -> UnitScore:
        return UnitScore(0, name, "stationed", total, "好", ())

    order = ranked([us("乙", 80), us("甲", 90), us("丙", 80), us("丁", 70)])
    assert [(s.unit_name, s.rank) for s in order] == [("甲", 1), ("丙", 2), ("乙", 2), ("丁", 4)]
