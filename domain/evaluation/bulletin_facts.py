"""The sections of a street's monthly bulletin (调度通报), drawn from the month's records:
tasks and supervision (with the departments' figures and the 红黑榜), the joint
conference, resource sharing, activities and 双报到."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from domain.enums import FollowState, UnitKind
from domain.evaluation import report_facts as rf
from domain.models import Organization, Task
from domain.models.conference import Conference, Decision, MeetingSession
from domain.tasks.stats_scope import Scope, StatsFilter, month_period
from domain.uow import UnitOfWork

Section = dict[str, Any]


def _figures(facts: list[rf.Fact]) -> dict[str, Any]:
    return {f["label"]: f["value"] for f in facts}


def month_title(street: Organization, month: date) -> str:
    return f"{street.name}{month.year}年{month.month}月党建工作调度通报"


async def _tasks(uow: UnitOfWork, street: Organization, month: date, now: datetime) -> Section:
    from domain.tasks.stats import figures, monthly_ranking, percent

    period = month_period(month)
    scope = Scope(street.name, [street])
    fig = await figures(uow, scope, StatsFilter(period), now)
    levels = await rf.notices(uow, street.id, period)
    t = fig.totals
    red, yellow = levels.get("red", 0), levels.get("yellow", 0)
    lines = [
        f"本月交办任务{t.handled}件，办结{t.finished}件，其中按期办结{t.finished_on_time}件"
        f"（按期办结率{percent(t.on_time_completion)}），按时签收率{percent(t.on_time_acceptance)}。"
        f"目前在办{fig.open_total}件，逾期未办结{fig.overdue_total}件。"
        f"本月发出红色督办单{red}份、黄色督办单{yellow}份。"
    ]
    departments = [u for u in fig.units if u.kind == UnitKind.DEPARTMENT.value and u.rates.handled]
    if departments:
        parts = [
            f"{u.name}承办{u.rates.handled}件、办结{u.rates.finished}件、按期{u.rates.finished_on_time}件"
            + (f"、逾期在办{u.open_overdue}件" if u.open_overdue else "")
            for u in departments
        ]
        lines.append("各职能部门：" + "；".join(parts) + "。")
    ranking = await monthly_ranking(uow, scope, month, now)
    if ranking.red:
        lines.append("红榜：" + "、".join(u.name for u in ranking.red) + "。")
    if ranking.black:
        lines.append("黑榜：" + "、".join(u.name for u in ranking.black) + "。")
    body = "\n".join(lines)
    facts = [
        rf.fact("assigned", "交办任务", t.handled),
        rf.fact("finished", "办结任务", t.finished),
        rf.fact("on_time", "按期办结", t.finished_on_time),
        rf.fact("open", "在办任务", fig.open_total),
        rf.fact("overdue", "逾期未办结", fig.overdue_total),
        rf.fact("red", "红色督办单", red),
        rf.fact("yellow", "黄色督办单", yellow),
    ]
    return {
        "key": "tasks",
        "title": "一、条块协同与督办",
        "body": body,
        "figures": _figures(facts),
        "departments": [
            {
                "name": u.name,
                "assigned": u.rates.handled,
                "finished": u.rates.finished,
                "on_time": u.rates.finished_on_time,
                "overdue": u.open_overdue,
            }
            for u in departments
        ],
        "red_list": [u.name for u in ranking.red],
        "black_list": [u.name for u in ranking.black],
    }


async def _conference(uow: UnitOfWork, street: Organization, month: date) -> Section:
    scope = rf.OrgScope(street, street.id)
    facts = await rf.conference(uow, scope, month_period(month))
    f = rf.values(facts)
    # Progress of every decision still followed (whenever it was taken).
    conf_id = await uow.session.scalar(
        select(Conference.id).where(Conference.organization_id == street.id)
    )
    open_total = overdue = 0
    if conf_id is not None:
        last = month_period(month).last
        row = (
            await uow.session.execute(
                select(
                    func.count(Decision.id),
                    rf.count_if(Decision.deadline < last),
                )
                .join(MeetingSession, MeetingSession.id == Decision.session_id)
                .outerjoin(Task, Task.decision_id == Decision.id)
                .where(
                    MeetingSession.conference_id == conf_id,
                    MeetingSession.starts_at < month_period(month).end,
                    Decision.follow_state != FollowState.DONE.value,
                    Task.state.is_(None) | Task.state.not_in(rf.FINISHED_VALUES),
                )
            )
        ).one()
        open_total, overdue = int(row[0] or 0), int(row[1] or 0)
    if f.get("sessions"):
        body = (
            f"本月召开党建联席会议{f['sessions']}次，出席率{f['attendance_rate']}，"
            f"缺席未请假{f['absent']}单位次；新提出议题{f['topics']}项，形成议定事项{f['decisions']}项。"
        )
    else:
        body = f"本月未召开党建联席会议，新提出议题{f.get('topics', 0)}项。"
    body += f"截至月底，尚在推进的议定事项{open_total}项，其中已到期未完成{overdue}项。"
    facts += [
        rf.fact("open_decisions", "推进中议定事项", open_total),
        rf.fact("late_decisions", "到期未完成事项", overdue),
    ]
    return {
        "key": "conference",
        "title": "二、党建联席会议",
        "body": body,
        "figures": _figures(facts),
    }


async def _sharing(uow: UnitOfWork, street: Organization, month: date) -> Section:
    facts = await rf.sharing(uow, rf.OrgScope(street, street.id), month_period(month))
    f = rf.values(facts)
    body = (
        f"本月新增需求{f['needs']}条、资源{f['resources']}条，达成认领{f['claims']}项，"
        f"新立共建项目{f['projects_new']}个，完成共建项目{f['projects_done']}个。"
    )
    return {"key": "sharing", "title": "三、资源共享", "body": body, "figures": _figures(facts)}


async def _activities(uow: UnitOfWork, street: Organization, month: date) -> Section:
    facts = await rf.activities(uow, rf.OrgScope(street, street.id), month_period(month))
    f = rf.values(facts)
    body = (
        f"本月开展活动{f['held']}场次，参加{f['attended']}人次，服务时长{f['hours']}小时，"
        f"发放积分{f['points']}分；新报到在职党员{f['new_members']}名。"
    )
    return {
        "key": "activities",
        "title": "四、活动开展与双报到",
        "body": body,
        "figures": _figures(facts),
    }


async def sections(
    uow: UnitOfWork, street: Organization, month: date, now: datetime
) -> list[Section]:
    return [
        await _tasks(uow, street, month, now),
        await _conference(uow, street, month),
        await _sharing(uow, street, month),
        await _activities(uow, street, month),
    ]
