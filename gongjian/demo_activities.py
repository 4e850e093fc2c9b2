"""Demo activities for 新华街道, planned and announced through the real services as the demo
users would: the monthly themed party day of 文化里社区 (one date moved, one cancelled), a
joint activity next week in the hospital's hall, a small volunteer service with a waitlist,
and one that took place last week (sign-ups and settlement are added by the sign-up demo)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.activities import plan_dates, planning
from domain.activities.recurrence import BEIJING, local_date
from domain.models import Organization, Unit
from domain.models.activities import ActivityOccurrence
from domain.models.base import utcnow
from domain.models.sharing import Resource
from gongjian.demo_tasks import _as

Factory = async_sessionmaker[AsyncSession]
HALL = "医院门诊楼三层党员活动室"


def _form(
    kind: str, title: str, lead: int, day: date, start: str, end: str, **extra: str
) -> dict[str, str]:
    return {
        "kind": kind,
        "title": title,
        "lead_unit_id": str(lead),
        "date": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "signup_rule": "signup_open",
        "waitlist": "1",
        "capacity": "0",
        "repeat": "none",
        "confirm_conflicts": "1",  # the demo's dates may share a venue with a booking
        **extra,
    }


async def seed_demo_activities(factory: Factory) -> None:
    async with factory() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
        community = await s.scalar(select(Organization.id).where(Organization.name == "文化里社区"))
        units = {name: uid for uid, name in await s.execute(select(Unit.id, Unit.name))}
        hall = await s.scalar(select(Resource.id).where(Resource.title == HALL))
    assert street is not None and community is not None
    committee = units["文化里社区居委会"]
    hospital = units["和平区人民医院"]
    now = utcnow()
    today = local_date(now)

    # 主题党日: the first Friday of every month, from this month for twelve months. This
    # month's first Friday may be past already: plan it as at the start of the month.
    month_start = today.replace(day=1)
    planned_at = datetime.combine(month_start, time(0), BEIJING).astimezone(UTC)
    until = (month_start.replace(year=month_start.year + 1)) - timedelta(days=1)
    party_day = await _as(
        factory, "secretary", planning.create_activity, street,
        _form("themed_day", "文化里社区主题党日", committee, month_start, "15:00", "17:00",
              description="重温入党誓词，学习党的二十届四中全会精神，开展“我为群众办实事”交流。",
              co_unit_ids=str(hospital), community_id=str(community),
              venue="文化里社区党群服务中心二楼会议室", capacity="30",
              repeat="monthly_nth", repeat_nth="1", repeat_weekday="4",
              recurrence_until=until.isoformat()),
        now=planned_at,
    )  # fmt: skip
    await _as(factory, "community", planning.announce, party_day.id, None, now=planned_at)
    async with factory() as s:
        future = list(
            await s.scalars(
                select(ActivityOccurrence)
                .where(
                    ActivityOccurrence.activity_id == party_day.id,
                    ActivityOccurrence.starts_at > now,
                )
                .order_by(ActivityOccurrence.starts_at)
            )
        )
    if len(future) >= 4:
        moved = future[1]
        new_day = local_date(moved.starts_at) + timedelta(days=1)
        await _as(
            factory, "community", plan_dates.move_date, moved.id, None,
            {"date": new_day.isoformat(), "start_time": "09:30", "end_time": "11:30",
             "reason": "与街道联席会议同日，改到次日上午"},
        )  # fmt: skip
        await _as(
            factory,
            "community",
            plan_dates.cancel_date,
            future[3].id,
            None,
            "社区换届选举，本月主题党日暂停一次",
        )

    # 联合活动 next week in the hospital's hall, sign-up needs approval.
    next_week = today + timedelta(days=7 - today.weekday() + 2)  # next week's Wednesday
    venue = {"resource_id": str(hall), "venue": ""} if hall else {"venue": HALL}
    joint = await _as(
        factory, "liaison", planning.create_activity, street,
        _form("joint_activity", "医社共建健康讲座：冬季心脑血管疾病预防", hospital, next_week,
              "14:30", "16:30", signup_rule="signup_approval", capacity="20",
              description="和平区人民医院心内科党员专家主讲，现场测血压、答疑。", **venue),
    )  # fmt: skip
    await _as(factory, "liaison", planning.announce, joint.id, None)

    # 志愿服务 in two days: three places and a waitlist, 120 minutes of service.
    volunteer = await _as(
        factory, "community", planning.create_activity, street,
        _form("volunteer_service", "为独居老人上门送餐", committee, today + timedelta(days=2),
              "10:00", "12:00", capacity="3", service_minutes="120", community_id=str(community),
              venue="文化里社区老年食堂", description="两人一组为社区独居老人送午餐并陪聊。"),
    )  # fmt: skip
    await _as(factory, "community", planning.announce, volunteer.id, None)

    # Last week's activity: planned back then, announced; the sign-up demo settles it.
    last_week = today - timedelta(days=7)
    then = datetime.combine(last_week - timedelta(days=7), time(9), BEIJING).astimezone(UTC)
    past = await _as(
        factory, "community", planning.create_activity, street,
        _form("volunteer_service", "楼道环境清洁志愿服务", committee, last_week, "09:00",
              "11:00", capacity="20", community_id=str(community), venue="文化里社区 3 号楼",
              description="清理楼道堆物，张贴消防安全提示。"),
        now=then,
    )  # fmt: skip
    await _as(factory, "community", planning.announce, past.id, None, now=then)
