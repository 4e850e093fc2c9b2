"""The records behind a unit's scores: for each metric of a period, the actual rows that
made the figure — sessions and how the unit took part, topics, decisions with deadlines
and completion dates, resources and claims, projects, activity dates, slips and the
service ledger — so a user who clicks a score sees what made it.

Records marked `counts=False` are shown for context (a rejected topic, a slip still
waiting) but did not add to the score."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from domain.enums import (
    ClaimState,
    OccurrenceState,
    PointSource,
    RegistrationState,
)
from domain.errors import NotFound, PermissionDenied
from domain.evaluation import scoring as sc
from domain.evaluation.score_metrics import (
    ATTENDED,
    COUNTED_TOPICS,
    DONE_PROJECTS,
    OFFERED_STATES,
    attendance_lines,
    conference_id,
    decision_lines,
    local_day,
)
from domain.evaluation.score_task_records import Record, day_of, task_records
from domain.evaluation.scorecard import UnitScore, can_read_unit_score, one_unit_score
from domain.evaluation.scoring import ScorePeriod
from domain.labels import label
from domain.models import (
    Activity,
    ActivityHost,
    ActivityOccurrence,
    Claim,
    MemberRegistration,
    Need,
    PointEntry,
    Project,
    Resource,
    TopicProposal,
    Unit,
    UnitRegistration,
    User,
)
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.uow import UnitOfWork

LEDGER_LIMIT = 200
__all__ = ["Record", "UnitCard", "metric_records", "unit_card"]


@dataclass(frozen=True)
class UnitCard:
    unit: Unit
    period: ScorePeriod
    score: UnitScore
    records: dict[str, list[Record]]


async def _attendance(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> list[Record]:
    conf = await conference_id(uow, unit.street_id)
    if conf is None:
        return []
    return [
        Record(
            local_day(line.starts_at),
            line.title,
            label(line.status),
            line.note,
            f"/sessions/{line.session_id}",
            counts=line.status in ATTENDED,
        )
        for line in await attendance_lines(uow, conf, period, [unit.id])
    ]


async def _topics(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> list[Record]:
    conf = await conference_id(uow, unit.street_id)
    if conf is None:
        return []
    rows = await uow.session.scalars(
        select(TopicProposal)
        .where(
            TopicProposal.conference_id == conf,
            TopicProposal.unit_id == unit.id,
            TopicProposal.created_at >= period.start,
            TopicProposal.created_at < period.end,
        )
        .order_by(TopicProposal.created_at, TopicProposal.id)
    )
    return [
        Record(
            local_day(t.created_at),
            t.title,
            label(t.status),
            t.reason,
            f"/conferences/{conf}/topics",
            counts=t.status in COUNTED_TOPICS,
        )
        for t in rows
    ]


async def _decisions(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> list[Record]:
    conf = await conference_id(uow, unit.street_id)
    if conf is None:
        return []
    out = []
    for d in await decision_lines(uow, conf, period, [unit.id]):
        if d.on_time:
            status = "按期完成"
        elif d.late:
            status = "逾期完成"
        else:
            status = "未完成"
        done = f"，完成于 {d.completed_on.isoformat()}" if d.completed_on else ""
        href = f"/tasks/{d.task_id}" if d.task_id else f"/sessions/{d.session_id}"
        detail = f"截止 {d.deadline.isoformat()}{done}（{d.session_title}）"
        out.append(Record(d.deadline, d.title, status, detail, href, counts=d.on_time))
    return out


async def _resources(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> list[Record]:
    s = uow.session
    listed = func.coalesce(Resource.vetted_at, Resource.created_at)
    out = [
        Record(
            day_of(r.vetted_at or r.created_at),
            r.title,
            f"上架资源（{label(r.state)}）",
            label(r.kind),
            f"/resources/{r.id}",
        )
        for r in await s.scalars(
            select(Resource)
            .where(
                Resource.unit_id == unit.id,
                Resource.state.in_(OFFERED_STATES),
                listed >= period.start,
                listed < period.end,
            )
            .order_by(Resource.id)
        )
    ]
    other = aliased(Unit)
    rows = await s.execute(
        select(Claim, Need.title, Resource.title, other.name)
        .outerjoin(Need, Need.id == Claim.need_id)
        .outerjoin(Resource, Resource.id == Claim.resource_id)
        .join(
            other,
            other.id
            == case(
                (Claim.claimant_unit_id == unit.id, Claim.owner_unit_id),
                else_=Claim.claimant_unit_id,
            ),
        )
        .where(
            or_(Claim.claimant_unit_id == unit.id, Claim.owner_unit_id == unit.id),
            Claim.state == ClaimState.ACCEPTED.value,
            Claim.decided_at >= period.start,
            Claim.decided_at < period.end,
        )
        .order_by(Claim.decided_at, Claim.id)
    )
    for claim, need_title, resource_title, other_name in rows:
        made = claim.claimant_unit_id == unit.id
        title = need_title or resource_title or "认领"
        status = "认领成功" if made else "接受认领"
        detail = f"{'对方' if made else '认领方'}：{other_name}"
        href = f"/needs/{claim.need_id}" if claim.need_id else f"/resources/{claim.resource_id}"
        out.append(Record(day_of(claim.decided_at), title, status, detail, href))
    return out


async def _projects(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> list[Record]:
    rows = await uow.session.scalars(
        select(Project)
        .where(
            or_(Project.provider_unit_id == unit.id, Project.requester_unit_id == unit.id),
            Project.state.in_(DONE_PROJECTS),
            Project.completed_on >= period.first,
            Project.completed_on < period.next_first,
        )
        .order_by(Project.completed_on, Project.id)
    )
    return [
        Record(
            p.completed_on,
            p.title,
            label(p.state),
            "提供方" if p.provider_unit_id == unit.id else "需求方",
            f"/projects/{p.id}",
        )
        for p in rows
    ]


async def _activities(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> list[Record]:
    s = uow.session
    o = ActivityOccurrence
    hosted = await s.execute(
        select(o.id, o.starts_at, Activity.title, ActivityHost.position)
        .join(Activity, Activity.id == o.activity_id)
        .join(ActivityHost, ActivityHost.activity_id == o.activity_id)
        .where(
            ActivityHost.unit_id == unit.id,
            o.state == OccurrenceState.SETTLED.value,
            o.starts_at >= period.start,
            o.starts_at < period.end,
        )
        .order_by(o.starts_at, o.id)
    )
    out = [
        Record(
            local_day(r.starts_at),
            r.title,
            "主办" if r.position == 0 else "协办",
            "活动已结算",
            f"/activities/o/{r.id}",
        )
        for r in hosted
    ]
    joined = await s.execute(
        select(PointEntry.occurred_on, PointEntry.occurrence_id, User.display_name, Activity.title)
        .join(User, User.id == PointEntry.user_id)
        .outerjoin(o, o.id == PointEntry.occurrence_id)
        .outerjoin(Activity, Activity.id == o.activity_id)
        .where(
            PointEntry.employer_unit_id == unit.id,
            PointEntry.source == PointSource.ACTIVITY.value,
            PointEntry.occurred_on >= period.first,
            PointEntry.occurred_on < period.next_first,
        )
        .order_by(PointEntry.occurred_on, PointEntry.id)
        .limit(LEDGER_LIMIT)
    )
    out += [
        Record(
            r.occurred_on,
            r.title or "活动",
            "党员参加",
            r.display_name,
            f"/activities/o/{r.occurrence_id}" if r.occurrence_id else None,
        )
        for r in joined
    ]
    return out


async def _dual_report(uow: UnitOfWork, unit: Unit, period: ScorePeriod) -> list[Record]:
    s = uow.session
    out = [
        Record(
            day_of(slip.decided_at or slip.created_at),
            f"{slip.year}年报到单",
            label(slip.state),
            slip.return_reason,
            "/dual-report/slips",
            counts=slip.state == RegistrationState.CONFIRMED.value,
        )
        for slip in await s.scalars(
            select(UnitRegistration)
            .where(UnitRegistration.unit_id == unit.id, UnitRegistration.year == period.year)
            .order_by(UnitRegistration.id)
        )
    ]
    out += [
        Record(day_of(r.decided_at), r.display_name, "已登记党员", "", f"/points/users/{r.user_id}")
        for r in await s.execute(
            select(MemberRegistration.decided_at, MemberRegistration.user_id, User.display_name)
            .join(User, User.id == MemberRegistration.user_id)
            .where(
                MemberRegistration.employer_unit_id == unit.id,
                MemberRegistration.state == RegistrationState.CONFIRMED.value,
            )
            .order_by(User.display_name)
        )
    ]
    out += [
        Record(
            r.occurred_on,
            r.display_name,
            f"服务 {sc._fmt(r.minutes / 60)} 小时",
            f"{label(r.source)} {r.note}".strip(),
            f"/points/users/{r.user_id}",
        )
        for r in await s.execute(
            select(
                PointEntry.occurred_on,
                PointEntry.minutes,
                PointEntry.source,
                PointEntry.note,
                PointEntry.user_id,
                User.display_name,
            )
            .join(User, User.id == PointEntry.user_id)
            .where(
                PointEntry.employer_unit_id == unit.id,
                PointEntry.minutes != 0,
                PointEntry.occurred_on >= period.first,
                PointEntry.occurred_on < period.next_first,
            )
            .order_by(PointEntry.occurred_on, PointEntry.id)
            .limit(LEDGER_LIMIT)
        )
    ]
    return out


async def unit_card(
    uow: UnitOfWork, actor: Actor, unit_id: int, year: int, quarter: int | None
) -> UnitCard:
    """A unit's scorecard with the records behind every metric."""
    unit = await uow.session.get(Unit, unit_id) if is_row_id(unit_id) else None
    if unit is None or unit.kind not in {k.value for k in sc.SCORED_KINDS}:
        raise NotFound("单位不存在，或不参加考核。")
    if not can_read_unit_score(actor, unit):
        if unit.street_id in actor.visible_street_ids:
            raise PermissionDenied("考核结果仅向街道书记、督办员、上级查看人员和本单位联络员开放。")
        raise NotFound("单位不存在，或不在您可查看的范围内。")
    period = ScorePeriod(year, quarter)
    score = await one_unit_score(uow, unit, period)
    records = {
        sc.ATTENDANCE: await _attendance(uow, unit, period),
        sc.TOPICS: await _topics(uow, unit, period),
        sc.DECISIONS: await _decisions(uow, unit, period),
    }
    if score.is_department:
        records.update(await task_records(uow, unit, period))
    else:
        records[sc.RESOURCES] = await _resources(uow, unit, period)
        records[sc.PROJECTS] = await _projects(uow, unit, period)
        records[sc.ACTIVITIES] = await _activities(uow, unit, period)
        records[sc.DUAL_REPORT] = await _dual_report(uow, unit, period)
    return UnitCard(unit, period, score, records)


async def metric_records(
    uow: UnitOfWork, actor: Actor, unit_id: int, key: str, year: int, quarter: int | None
) -> list[Record]:
    """The records behind one metric of one unit."""
    card = await unit_card(uow, actor, unit_id, year, quarter)
    if key not in card.records:
        raise NotFound("没有这一考核项。")
    return card.records[key]
