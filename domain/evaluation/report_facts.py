"""Figures a responsibility report (述职报告) and a monthly bulletin (调度通报) draw from.

Each gatherer reads one area of the platform's records for a street or a community over
a period, with a fixed handful of grouped queries (never one per row), and returns a
list of facts: `{"key", "label", "value"}` in the order a reader expects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from domain.enums import (
    AttendanceMark,
    ClaimState,
    FollowState,
    MemberRole,
    NoticeLevel,
    OccurrenceState,
    RegistrationState,
    Reply,
    SessionState,
    SignupState,
    UnitKind,
)
from domain.models import Organization, SupervisionNotice, Task, Unit
from domain.models.activities import Activity, ActivityOccurrence, PointEntry, Signup
from domain.models.conference import (
    Attendance,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
    TopicProposal,
)
from domain.models.dual_report import MemberRegistration, UnitRegistration
from domain.models.sharing import Claim, Need, Project, Resource
from domain.tasks.machine import FINISHED_STATES
from domain.tasks.stats_scope import Period
from domain.uow import UnitOfWork

Fact = dict[str, Any]
HELD_STATES = [
    SessionState.IN_SESSION.value,
    SessionState.MINUTES_DRAFT.value,
    SessionState.CO_SIGNING.value,
    SessionState.ISSUED.value,
    SessionState.ARCHIVED.value,
]
FINISHED_VALUES = [s.value for s in FINISHED_STATES]


@dataclass(frozen=True)
class OrgScope:
    """The street, or a community inside it, whose records are counted."""

    org: Organization
    street_id: int
    community_id: int | None = None
    community_unit_id: int | None = None  # the community's residents' committee unit

    @property
    def is_street(self) -> bool:
        return self.community_id is None

    def by(self, street_col: Any, community_col: Any) -> ColumnElement[bool]:
        """The street's rows, or the community's."""
        if self.is_street:
            return street_col == self.street_id  # type: ignore[no-any-return]
        return community_col == self.community_id  # type: ignore[no-any-return]


def fact(key: str, label: str, value: Any) -> Fact:
    return {"key": key, "label": label, "value": value}


def values(facts: list[Fact]) -> dict[str, Any]:
    return {f["key"]: f["value"] for f in facts}


def pct(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def _n(value: Any) -> int:
    return int(value or 0)


def count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def org_scope(uow: UnitOfWork, org: Organization) -> OrgScope:
    if org.parent_id is not None and org.level == "community":
        unit_id = await uow.session.scalar(
            select(Unit.id).where(
                Unit.community_id == org.id, Unit.kind == UnitKind.COMMUNITY.value, Unit.active
            )
        )
        return OrgScope(org, org.parent_id, org.id, unit_id)
    return OrgScope(org, org.id)


async def basics(uow: UnitOfWork, scope: OrgScope, year: int) -> list[Fact]:
    s = uow.session
    where = [scope.by(Unit.street_id, Unit.community_id)]
    row = (
        await s.execute(
            select(
                func.count(Unit.id),
                count_if(Unit.kind == UnitKind.STATIONED.value),
                count_if(Unit.kind == UnitKind.DEPARTMENT.value),
                count_if(Unit.kind == UnitKind.COMMUNITY.value),
                func.coalesce(func.sum(Unit.party_members), 0),
            ).where(Unit.active, *where)
        )
    ).one()
    reg_where = [scope.by(UnitRegistration.street_id, UnitRegistration.community_id)]
    units_in = await s.scalar(
        select(func.count(UnitRegistration.id)).where(
            *reg_where,
            UnitRegistration.year == year,
            UnitRegistration.state == RegistrationState.CONFIRMED.value,
        )
    )
    mem_where = [scope.by(MemberRegistration.street_id, MemberRegistration.community_id)]
    members_in = await s.scalar(
        select(func.count(MemberRegistration.id)).where(
            *mem_where, MemberRegistration.state == RegistrationState.CONFIRMED.value
        )
    )
    return [
        fact("units", "成员单位", _n(row[0])),
        fact("stationed", "驻区单位", _n(row[1])),
        fact("departments", "职能部门", _n(row[2])),
        fact("communities", "社区", _n(row[3])),
        fact("party_members", "单位党员数", _n(row[4])),
        fact("units_reported", f"{year}年报到单位", _n(units_in)),
        fact("members_reported", "报到在职党员", _n(members_in)),
    ]


async def conference(uow: UnitOfWork, scope: OrgScope, period: Period) -> list[Fact]:
    """Sessions held in the period, attendance of member units (or the community's own),
    topics proposed, decisions taken and how many were done by their deadline."""
    s = uow.session
    conf_id = await s.scalar(
        select(Conference.id).where(Conference.organization_id == scope.street_id)
    )
    if conf_id is None:
        return [fact("sessions", "召开会议", 0)]
    held = (
        await s.execute(
            select(MeetingSession.id).where(
                MeetingSession.conference_id == conf_id,
                MeetingSession.state.in_(HELD_STATES),
                MeetingSession.starts_at >= period.start,
                MeetingSession.starts_at < period.end,
            )
        )
    ).scalars()
    session_ids = list(held)
    unit_filter = [] if scope.is_street else [ConferenceMember.unit_id == scope.community_unit_id]
    members = _n(
        await s.scalar(
            select(func.count(ConferenceMember.id)).where(
                ConferenceMember.conference_id == conf_id,
                ConferenceMember.active,
                ConferenceMember.role == MemberRole.MEMBER.value,
                *unit_filter,
            )
        )
    )
    present = leave = 0
    if session_ids:
        att_filter = [] if scope.is_street else [Attendance.unit_id == scope.community_unit_id]
        row = (
            await s.execute(
                select(
                    count_if(Attendance.signed_in_at.is_not(None)),
                    count_if(Attendance.signed_in_at.is_(None) & (Attendance.reply == Reply.LEAVE)),
                )
                .join(
                    ConferenceMember,
                    (ConferenceMember.unit_id == Attendance.unit_id)
                    & (ConferenceMember.conference_id == conf_id)
                    & (ConferenceMember.role == MemberRole.MEMBER.value),
                )
                .where(Attendance.session_id.in_(session_ids), *att_filter)
            )
        ).one()
        present, leave = _n(row[0]), _n(row[1])
    expected = members * len(session_ids)
    absent = max(expected - present - leave, 0)
    topic_filter = [] if scope.is_street else [TopicProposal.unit_id == scope.community_unit_id]
    topics = _n(
        await s.scalar(
            select(func.count(TopicProposal.id)).where(
                TopicProposal.conference_id == conf_id,
                TopicProposal.created_at >= period.start,
                TopicProposal.created_at < period.end,
                *topic_filter,
            )
        )
    )
    lead_filter = [] if scope.is_street else [Decision.lead_unit_id == scope.community_unit_id]
    drow = (
        await s.execute(
            select(
                func.count(Decision.id),
                count_if(
                    (Decision.follow_state == FollowState.DONE.value)
                    | Task.state.in_(FINISHED_VALUES)
                ),
                count_if(
                    (Task.state.in_(FINISHED_VALUES) & (Task.reported_at <= Task.deadline))
                    | (
                        Task.id.is_(None)
                        & (Decision.follow_state == FollowState.DONE.value)
                        & (func.date(Decision.progress_updated_at) <= Decision.deadline)
                    )
                ),
            )
            .join(MeetingSession, MeetingSession.id == Decision.session_id)
            .outerjoin(Task, Task.decision_id == Decision.id)
            .where(
                MeetingSession.conference_id == conf_id,
                MeetingSession.starts_at >= period.start,
                MeetingSession.starts_at < period.end,
                *lead_filter,
            )
        )
    ).one()
    return [
        fact("sessions", "召开会议", len(session_ids)),
        fact("expected", "应出席（单位次）", expected),
        fact("present", "出席（单位次）", present),
        fact("leave", "请假（单位次）", leave),
        fact("absent", "缺席未请假（单位次）", absent),
        fact("attendance_rate", "出席率", pct(present, expected)),
        fact("topics", "提出议题", topics),
        fact("decisions", "议定事项", _n(drow[0])),
        fact("decisions_done", "已完成事项", _n(drow[1])),
        fact("decisions_on_time", "按期完成事项", _n(drow[2])),
    ]


async def sharing(uow: UnitOfWork, scope: OrgScope, period: Period) -> list[Fact]:
    s = uow.session
    cu = scope.community_unit_id
    need_where = [scope.by(Need.street_id, Need.community_id)]
    needs = await s.scalar(
        select(func.count(Need.id)).where(
            *need_where, Need.created_at >= period.start, Need.created_at < period.end
        )
    )
    res_where = (
        [Resource.street_id == scope.street_id] if scope.is_street else [Resource.unit_id == cu]
    )
    resources = await s.scalar(
        select(func.count(Resource.id)).where(
            *res_where, Resource.created_at >= period.start, Resource.created_at < period.end
        )
    )
    claim_where = (
        [Claim.street_id == scope.street_id]
        if scope.is_street
        else [(Claim.claimant_unit_id == cu) | (Claim.owner_unit_id == cu)]
    )
    claims = await s.scalar(
        select(func.count(Claim.id)).where(
            *claim_where,
            Claim.state == ClaimState.ACCEPTED.value,
            Claim.decided_at >= period.start,
            Claim.decided_at < period.end,
        )
    )
    proj_where = (
        [Project.street_id == scope.street_id]
        if scope.is_street
        else [(Project.requester_unit_id == cu) | (Project.provider_unit_id == cu)]
    )
    prow = (
        await s.execute(
            select(
                count_if(
                    (Project.completed_on >= period.first) & (Project.completed_on <= period.last)
                ),
                count_if((Project.created_at >= period.start) & (Project.created_at < period.end)),
            ).where(*proj_where)
        )
    ).one()
    return [
        fact("needs", "新增需求", _n(needs)),
        fact("resources", "新增资源", _n(resources)),
        fact("claims", "达成认领", _n(claims)),
        fact("projects_new", "新立项目", _n(prow[1])),
        fact("projects_done", "完成项目", _n(prow[0])),
    ]


async def activities(uow: UnitOfWork, scope: OrgScope, period: Period) -> list[Fact]:
    s = uow.session
    occ_where: list[ColumnElement[bool]] = [
        ActivityOccurrence.street_id == scope.street_id,
        ActivityOccurrence.state == OccurrenceState.SETTLED.value,
        ActivityOccurrence.starts_at >= period.start,
        ActivityOccurrence.starts_at < period.end,
    ]
    if not scope.is_street:
        occ_where.append(Activity.community_id == scope.community_id)
    held = (
        await s.execute(
            select(ActivityOccurrence.id)
            .join(Activity, Activity.id == ActivityOccurrence.activity_id)
            .where(*occ_where)
        )
    ).scalars()
    occ_ids = list(held)
    attended = 0
    if occ_ids:
        attended = _n(
            await s.scalar(
                select(func.count(Signup.id)).where(
                    Signup.occurrence_id.in_(occ_ids),
                    Signup.state == SignupState.CONFIRMED.value,
                    Signup.attendance == AttendanceMark.ATTENDED.value,
                )
            )
        )
    pe_where = [scope.by(PointEntry.street_id, PointEntry.community_id)]
    prow = (
        await s.execute(
            select(
                func.coalesce(func.sum(PointEntry.minutes), 0),
                func.coalesce(func.sum(PointEntry.points), 0),
                func.count(func.distinct(PointEntry.user_id)),
            ).where(
                *pe_where,
                PointEntry.occurred_on >= period.first,
                PointEntry.occurred_on <= period.last,
            )
        )
    ).one()
    mem_where = [scope.by(MemberRegistration.street_id, MemberRegistration.community_id)]
    new_members = await s.scalar(
        select(func.count(MemberRegistration.id)).where(
            *mem_where,
            MemberRegistration.state == RegistrationState.CONFIRMED.value,
            MemberRegistration.created_at >= period.start,
            MemberRegistration.created_at < period.end,
        )
    )
    minutes = _n(prow[0])
    return [
        fact("held", "开展活动（场次）", len(occ_ids)),
        fact("attended", "参加（人次）", attended),
        fact("hours", "服务时长（小时）", round(minutes / 60, 1)),
        fact("points", "发放积分", _n(prow[1])),
        fact("volunteers", "参与党员（人）", _n(prow[2])),
        fact("new_members", "新报到在职党员", _n(new_members)),
    ]


async def notices(uow: UnitOfWork, street_id: int, period: Period) -> dict[str, int]:
    rows = await uow.session.execute(
        select(SupervisionNotice.level, func.count(SupervisionNotice.id))
        .where(
            SupervisionNotice.street_id == street_id,
            SupervisionNotice.issued_at >= period.start,
            SupervisionNotice.issued_at < period.end,
        )
        .group_by(SupervisionNotice.level)
    )
    return {level: int(n) for level, n in rows}


async def tasks(uow: UnitOfWork, scope: OrgScope, period: Period, now: Any) -> list[Fact]:
    """Tasks assigned in the period (the street's, or those the community handled)."""
    from domain.tasks.stats import Rates, Scope, StatsFilter, figures, unit_rates

    street = scope.org if scope.is_street else await uow.session.get(Organization, scope.street_id)
    assert street is not None
    task_scope = Scope(street.name, [street])
    rates = Rates()
    if scope.is_street:
        fig = await figures(uow, task_scope, StatsFilter(period), now, with_units=False)
        rates = fig.totals
    elif scope.community_unit_id is not None:
        flt = StatsFilter(period, unit_id=scope.community_unit_id)
        for u in await unit_rates(uow, task_scope, flt, now):
            rates.add(u.rates)
    levels = await notices(uow, scope.street_id, period) if scope.is_street else {}
    return [
        fact("assigned", "交办任务", rates.handled),
        fact("finished", "办结任务", rates.finished),
        fact("finished_on_time", "按期办结", rates.finished_on_time),
        fact("on_time_rate", "按期办结率", pct(rates.finished_on_time, rates.finished)),
        fact("accept_rate", "按时签收率", pct(rates.accepted_on_time, rates.accept_base)),
        fact("satisfaction", "满意率", pct(rates.satisfied, rates.rated)),
        fact("red", "红色督办单", levels.get(NoticeLevel.RED.value, 0)),
        fact("yellow", "黄色督办单", levels.get(NoticeLevel.YELLOW.value, 0)),
    ]


async def coverage(uow: UnitOfWork, scope: OrgScope) -> list[Fact] | None:
    """Emerging-sector coverage of a street, when the coverage figures exist."""
    if not scope.is_street:
        return None
    try:
        from domain.coverage.figures import coverage_by_street
    except ImportError:
        return None
    found = (await coverage_by_street(uow, [scope.street_id])).get(scope.street_id)
    if found is None or not found.organisations:
        return None

    def rate(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    return [
        fact("organisations", "新兴领域组织", found.organisations),
        fact("party_members", "党员人数", found.party_members),
        fact("org_rate", "组织覆盖率", rate(found.org_rate)),
        fact("work_rate", "工作覆盖率", rate(found.work_rate)),
        fact("gaps", "党建空白点", found.gaps),
    ]


def year_period(year: int) -> Period:
    from domain.tasks.stats_scope import PeriodKind

    return Period(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))
