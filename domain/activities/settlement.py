"""Settling a date after it ends (结算): attendance, service hours and points, make-ups.

Each confirmed sign-up is marked `attended` (checked in) or `no_show`. Each attendance
posts one line to the member's points ledger (source `point_activity`):

- **service time** (minutes) = the activity's `service_minutes`, or, when that is 0, the
  length of the date;
- **points** = the activity's own `points` when set, otherwise the street setting
  `activity_points` (参加活动积分); for a volunteer service (志愿服务) add the street
  setting `service_hour_points` (志愿服务积分) × service hours, rounded to the nearest
  whole point.

The line snapshots the member's community and employer unit from their confirmed 双报到
registration (else the community of their party-member grant), so the quarterly report
to an employer does not change when the member moves later.

Settling is idempotent: the date moves to `occ_settled` with a conditional UPDATE (a
second run finds nothing to do and is refused), and `point_entries.signup_id` is unique
(inserted with ON CONFLICT DO NOTHING). Only lines really inserted are announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update

from domain.activities import makeup
from domain.activities.signup_base import (
    OCCURRENCES,
    OccContext,
    beijing,
    check_version,
    load_context,
    publish_change,
)
from domain.enums import (
    ActivityKind,
    AttendanceMark,
    OccurrenceState,
    PointSource,
    RegistrationState,
    Role,
    SignupState,
)
from domain.errors import Conflict, ValidationFailed
from domain.models import RoleGrant
from domain.models.activities import Activity, ActivityOccurrence, PointEntry, Signup
from domain.models.base import utcnow
from domain.models.dual_report import MemberRegistration
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.services.street_settings import get_settings
from domain.topics import street_topic, user_topic
from domain.uow import UnitOfWork

SUMMARY_MAX = 5000


@dataclass(frozen=True)
class Award:
    minutes: int
    points: int


def award_for(activity: Activity, occ: ActivityOccurrence, settings: dict[str, int]) -> Award:
    """The rule in the module docstring, for one attendance."""
    minutes = activity.service_minutes or max(
        0, int((occ.ends_at - occ.starts_at).total_seconds() // 60)
    )
    points = activity.points if activity.points is not None else settings["activity_points"]
    if activity.kind == ActivityKind.VOLUNTEER:
        points += (minutes * settings["service_hour_points"] + 30) // 60
    return Award(minutes, points)


def rule_text(activity: Activity, settings: dict[str, int]) -> str:
    """The rule as the date page shows it."""
    base = (
        f"本活动 {activity.points} 分/次"
        if activity.points is not None
        else f"街道标准 {settings['activity_points']} 分/次"
    )
    if activity.kind == ActivityKind.VOLUNTEER:
        base += f"，另加志愿服务 {settings['service_hour_points']} 分/小时"
    minutes = "活动设定时长" if activity.service_minutes else "本场活动时长"
    return f"签到参加者结算后计入积分：{base}；服务时长按{minutes}计。"


async def _snapshots(
    uow: UnitOfWork, user_ids: list[int]
) -> dict[int, tuple[int | None, int | None]]:
    """user → (community_id, employer_unit_id) at posting."""
    out: dict[int, tuple[int | None, int | None]] = {}
    if not user_ids:
        return out
    grants = await uow.session.execute(
        select(RoleGrant.user_id, RoleGrant.organization_id)
        .where(RoleGrant.user_id.in_(user_ids), RoleGrant.role == Role.PARTY_MEMBER.value)
        .order_by(RoleGrant.id)
    )
    for user_id, org_id in grants:
        out.setdefault(user_id, (org_id, None))
    regs = await uow.session.execute(
        select(
            MemberRegistration.user_id,
            MemberRegistration.community_id,
            MemberRegistration.employer_unit_id,
        ).where(
            MemberRegistration.user_id.in_(user_ids),
            MemberRegistration.state == RegistrationState.CONFIRMED.value,
        )
    )
    for user_id, community_id, employer_id in regs:
        out[user_id] = (community_id, employer_id)
    return out


def _insert_ignoring_duplicates(uow: UnitOfWork, table: Table) -> Any:
    if uow.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


@dataclass
class Settlement:
    attended: list[int]
    no_show: list[int]
    posted: dict[int, int]  # user → points of the lines inserted now
    makeups_opened: int
    makeups_closed: int


async def settle(
    uow: UnitOfWork,
    actor: Actor,
    occurrence_id: int,
    version: int | None = None,
    now: datetime | None = None,
) -> Settlement:
    now = now or utcnow()
    ctx = await load_context(uow, actor, occurrence_id)
    ctx.access.require_organiser()
    occ, activity = ctx.occ, ctx.activity
    if occ.state == OccurrenceState.SETTLED:
        raise Conflict("该场次已结算，不能重复结算。")
    if occ.state != OccurrenceState.SCHEDULED:
        raise Conflict("该场次已取消，不能结算。")
    if now < occ.ends_at:
        raise Conflict("活动结束后才能结算。")
    check_version(occ, version)
    moved = await uow.session.execute(
        update(OCCURRENCES)
        .where(
            OCCURRENCES.c.id == occ.id,
            OCCURRENCES.c.state == OccurrenceState.SCHEDULED.value,
        )
        .values(
            state=OccurrenceState.SETTLED.value,
            settled_at=now,
            settled_by_id=actor.user_id,
            version=OCCURRENCES.c.version + 1,
        )
    )
    if int(getattr(moved, "rowcount", 0) or 0) != 1:
        raise Conflict("该场次已结算，不能重复结算。")
    signups = list(
        await uow.session.scalars(
            select(Signup)
            .where(
                Signup.occurrence_id == occ.id,
                Signup.state == SignupState.CONFIRMED.value,
            )
            .order_by(Signup.id)
        )
    )
    result = Settlement([], [], {}, 0, 0)
    for signup in signups:
        attended = signup.checked_in_at is not None
        signup.attendance = (AttendanceMark.ATTENDED if attended else AttendanceMark.NO_SHOW).value
        (result.attended if attended else result.no_show).append(signup.user_id)
    await uow.flush()
    await _post_points(uow, ctx, [s for s in signups if s.checked_in_at is not None], now, result)
    opened, closed = await makeup.on_settle(uow, occ, activity, set(result.attended), now)
    result.makeups_opened, result.makeups_closed = opened, closed
    publish_change(uow, ctx, *result.attended, *result.no_show)
    uow.audit(
        "activity.settle",
        "activity_occurrence",
        occ.id,
        f"{activity.title}：参加 {len(result.attended)} 人，缺席 {len(result.no_show)} 人",
    )
    return result


async def _post_points(
    uow: UnitOfWork,
    ctx: OccContext,
    attended: list[Signup],
    now: datetime,
    result: Settlement,
) -> None:
    if not attended:
        return
    occ, activity = ctx.occ, ctx.activity
    award = award_for(activity, occ, await get_settings(uow, occ.street_id))
    snap = await _snapshots(uow, [s.user_id for s in attended])
    day = beijing(occ.starts_at).date()
    values = [
        {
            "user_id": s.user_id,
            "street_id": occ.street_id,
            "community_id": snap.get(s.user_id, (None, None))[0],
            "employer_unit_id": snap.get(s.user_id, (None, None))[1],
            "source": PointSource.ACTIVITY.value,
            "occurrence_id": occ.id,
            "signup_id": s.id,
            "occurred_on": day,
            "minutes": award.minutes,
            "points": award.points,
            "note": activity.title[:300],
            "posted_by_id": uow.actor.user_id if uow.actor else None,
            "posted_at": now,
        }
        for s in attended
    ]
    table = PointEntry.__table__
    assert isinstance(table, Table)
    inserted = await uow.session.execute(
        _insert_ignoring_duplicates(uow, table).values(values).returning(table.c.user_id)
    )
    for (user_id,) in inserted:
        result.posted[user_id] = award.points
    hours = f"{award.minutes / 60:.1f}".rstrip("0").rstrip(".")
    for user_id in sorted(result.posted):
        notify(
            uow,
            [user_id],
            "points.posted",
            f"「{activity.title}」已结算：获得 {award.points} 积分",
            f"{ctx.when}，服务时长 {hours} 小时。",
            "/activities/mine",
        )
        uow.publish(user_topic(user_id), "points.changed")
    uow.publish(street_topic(occ.street_id), "points.changed")


async def save_summary(
    uow: UnitOfWork,
    actor: Actor,
    occurrence_id: int,
    summary: str,
    version: int | None = None,
    now: datetime | None = None,
) -> ActivityOccurrence:
    """The organiser writes or edits the 活动小结 once the date has ended."""
    now = now or utcnow()
    ctx = await load_context(uow, actor, occurrence_id)
    ctx.access.require_organiser()
    summary = summary.strip()
    if len(summary) > SUMMARY_MAX:
        raise ValidationFailed({"summary": f"活动小结最多 {SUMMARY_MAX} 字。"})
    if now < ctx.occ.ends_at or ctx.occ.state == OccurrenceState.CANCELLED:
        raise Conflict("活动结束后才能填写活动小结。")
    check_version(ctx.occ, version)
    ctx.occ.summary = summary
    await uow.flush()
    publish_change(uow, ctx)
    uow.audit("activity.summary", "activity_occurrence", ctx.occ.id, summary[:100])
    return ctx.occ


async def settled_points(uow: UnitOfWork, occurrence_id: int) -> dict[int, int]:
    """signup id → points posted for this date (the date page's attendance list)."""
    rows = await uow.session.execute(
        select(PointEntry.signup_id, PointEntry.points).where(
            PointEntry.occurrence_id == occurrence_id, PointEntry.signup_id.is_not(None)
        )
    )
    return {sid: pts for sid, pts in rows if sid is not None}


__all__ = ["Award", "Settlement", "award_for", "rule_text", "save_summary", "settle"]
