"""Scorecards from real records, on SQLite and PostgreSQL: sessions with attendance, topics,
decisions followed up by tasks, resources and claims, projects, activity dates, slips and
the service ledger — the scores, and the records shown behind each one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from domain.errors import NotFound, PermissionDenied
from domain.evaluation import scoring as sc
from domain.evaluation.score_records import metric_records, unit_card
from domain.evaluation.scorecard import unit_scores
from domain.models import (
    Activity,
    ActivityHost,
    ActivityOccurrence,
    AgendaItem,
    Attendance,
    Claim,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
    MemberRegistration,
    Need,
    PointEntry,
    Project,
    Resource,
    Task,
    TaskAssignee,
    TopicProposal,
    Unit,
    UnitRegistration,
)
from tests.integration.conftest import World

YEAR = 2026
HOSPITAL = "和平区人民医院"
SCHOOL = "滨江市实验小学"
POWER = "国网滨江供电公司和平分公司"
BANK = "中国建设银行和平支行"
DEPT = "区城管执法局新华街道执法队"
COMMUNITY = "文化里社区居委会"


def at(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(YEAR, month, day, hour, 0, tzinfo=UTC)


class Ids:
    street: int
    office: int
    conf: int
    user: int
    member: int
    community_org: int
    units: dict[str, int]


async def build(world: World) -> Ids:
    ids = Ids()
    ids.street = await world.org_id("新华街道")
    ids.community_org = await world.org_id("文化里社区")
    ids.user = (await world.user("secretary")).id
    ids.member = (await world.user("member")).id
    ids.units = {
        n: (await world.unit(n)).id for n in (HOSPITAL, SCHOOL, POWER, BANK, DEPT, COMMUNITY)
    }
    u = ids.units
    async with world.factory() as s:
        ids.office = (
            await s.scalar(
                select(Unit.id).where(Unit.street_id == ids.street, Unit.kind == "street_office")
            )
        ) or 0
        conf = await s.scalar(select(Conference).where(Conference.organization_id == ids.street))
        assert conf is not None
        ids.conf = conf.id
        await s.execute(
            update(ConferenceMember)
            .where(ConferenceMember.conference_id == conf.id)
            .values(joined_at=datetime(YEAR - 1, 1, 1, tzinfo=UTC))
        )
        # Four held sessions in Q2 (and one merely planned, which does not count).
        sessions = []
        for i, month in enumerate((4, 5, 6, 6)):
            sess = MeetingSession(
                conference_id=conf.id,
                year=YEAR,
                title=f"第{i + 1}次例会",
                starts_at=at(month, 1 + i),
                ends_at=at(month, 1 + i, 4),
                state="issued",
                signin_secret=f"s{i}" * 16,
                created_by_id=ids.user,
            )
            s.add(sess)
            sessions.append(sess)
        s.add(
            MeetingSession(
                conference_id=conf.id,
                year=YEAR,
                title="计划中的会议",
                starts_at=at(6, 20),
                ends_at=at(6, 20, 4),
                state="planned",
                signin_secret="p" * 32,
                created_by_id=ids.user,
            )
        )
        await s.flush()
        # Hospital: 3 present (one by delegate), 1 absent → 20 × 3/4 − 5 = 10.
        # School: 2 present, 2 on leave → 20 × 2/4 = 10.
        # Power: absent at all 4 → max(0, 0 − 20) = 0.
        for i, sess in enumerate(sessions):
            if i < 3:
                reply = "delegate" if i == 0 else "attending"
                s.add(
                    Attendance(
                        session_id=sess.id,
                        unit_id=u[HOSPITAL],
                        reply=reply,
                        delegate_name="王副院长" if i == 0 else "",
                        signed_in_at=sess.starts_at,
                    )
                )
            if i < 2:
                s.add(
                    Attendance(session_id=sess.id, unit_id=u[SCHOOL], signed_in_at=sess.starts_at)
                )
            else:
                s.add(
                    Attendance(
                        session_id=sess.id,
                        unit_id=u[SCHOOL],
                        reply="leave",
                        reply_reason="期中考试",
                    )
                )
        # Topics: hospital 1 accepted + 1 merged + 1 rejected → 2 count = full 10.
        for title, status in (("停车共享", "accepted"), ("义诊", "merged"), ("外卖", "rejected")):
            s.add(
                TopicProposal(
                    conference_id=conf.id,
                    unit_id=u[HOSPITAL],
                    proposer_id=ids.user,
                    title=title,
                    status=status,
                    created_at=at(4, 2),
                )
            )
        item = AgendaItem(session_id=sessions[0].id, position=1, title="议定")
        s.add(item)
        await s.flush()
        # Decisions led by the hospital, due in Q2: on time via task, late via task, open,
        # and one followed up without a task (done on time); plus one due in Q3 (not counted).
        decisions = {}
        for key, deadline in (
            ("ontime", date(YEAR, 5, 31)),
            ("late", date(YEAR, 5, 31)),
            ("open", date(YEAR, 6, 15)),
            ("notask", date(YEAR, 6, 15)),
            ("q3", date(YEAR, 7, 15)),
        ):
            d = Decision(
                session_id=sessions[0].id,
                item_id=item.id,
                title=f"议定事项-{key}",
                lead_unit_id=u[HOSPITAL],
                deadline=deadline,
                created_by_id=ids.user,
            )
            if key == "notask":
                d.follow_state = "done"
                d.progress_updated_at = at(6, 10)
            s.add(d)
            decisions[key] = d
        await s.flush()
        for key, state, reported in (
            ("ontime", "closed_out", at(5, 31, 10)),  # 18:00 Beijing on the deadline day
            ("late", "reviewed", at(6, 2)),
            ("open", "in_progress", None),
        ):
            s.add(
                Task(
                    street_id=ids.street,
                    source="decision",
                    title=f"任务-{key}",
                    assigner_unit_id=ids.office,
                    decision_id=decisions[key].id,
                    state=state,
                    limit_value=5,
                    limit_unit="working_days",
                    assigned_at=at(4, 1),
                    deadline=datetime(YEAR, 5, 31, 16, tzinfo=UTC),
                    reported_at=reported,
                )
            )
        # Department: 2 tasks in Q2. One accepted on time, finished on time, satisfied;
        # one accepted late, still in progress.
        for i, (accepted, state, reported, rating) in enumerate(
            (
                (at(4, 3, 1), "rated", at(4, 8), "satisfied"),
                (at(4, 6), "in_progress", None, None),
            )
        ):
            task = Task(
                street_id=ids.street,
                source="assignment",
                title=f"部门任务{i + 1}",
                assigner_unit_id=ids.office,
                state=state,
                limit_value=5,
                limit_unit="working_days",
                assigned_at=at(4, 3),
                accept_due_at=at(4, 4),
                accepted_at=accepted,
                deadline=at(4, 10),
                reported_at=reported,
                rating=rating,
                reviewed_at=at(4, 9) if reported else None,
            )
            s.add(task)
            await s.flush()
            s.add(
                TaskAssignee(
                    task_id=task.id,
                    unit_id=u[DEPT],
                    role="lead",
                    state="reported_part" if reported else "accepted_part",
                    accepted_at=accepted,
                    open=reported is None,
                )
            )
        # Resources: hospital lists 1 (Q2) and has 1 pending (not counted); its claim on a
        # community's need is accepted in Q2 → 2 of target 1 (quarter of 2) = 15.
        s.add(
            Resource(
                street_id=ids.street,
                unit_id=u[HOSPITAL],
                kind="venue",
                title="多功能厅",
                state="listed",
                vetted_at=at(5, 1),
                created_at=at(4, 28),
            )
        )
        s.add(
            Resource(
                street_id=ids.street,
                unit_id=u[HOSPITAL],
                kind="equipment",
                title="投影仪",
                state="pending_vetting",
                created_at=at(5, 2),
            )
        )
        need = Need(
            street_id=ids.street,
            community_id=ids.community_org,
            poster_unit_id=u[COMMUNITY],
            category="健康",
            title="老人体检",
            state="listed",
        )
        s.add(need)
        await s.flush()
        claim = Claim(
            street_id=ids.street,
            direction="claims_need",
            need_id=need.id,
            claimant_unit_id=u[HOSPITAL],
            owner_unit_id=u[COMMUNITY],
            state="claim_accepted",
            decided_at=at(5, 10),
        )
        s.add(claim)
        await s.flush()
        # A project completed in Q2 (hospital provides, community requests).
        s.add(
            Project(
                street_id=ids.street,
                year=YEAR,
                claim_id=claim.id,
                title="老人体检进社区",
                requester_unit_id=u[COMMUNITY],
                provider_unit_id=u[HOSPITAL],
                state="project_completed",
                completed_on=date(YEAR, 6, 20),
            )
        )
        # Activities: the hospital hosts one settled date and one merely scheduled one.
        act = Activity(
            street_id=ids.street,
            kind="volunteer_service",
            title="义诊进社区",
            starts_at=at(5, 15),
            ends_at=at(5, 15, 4),
        )
        s.add(act)
        await s.flush()
        s.add(ActivityHost(activity_id=act.id, unit_id=u[HOSPITAL], position=0))
        settled = ActivityOccurrence(
            activity_id=act.id,
            street_id=ids.street,
            starts_at=at(5, 15),
            ends_at=at(5, 15, 4),
            original_starts_at=at(5, 15),
            state="occ_settled",
            checkin_token="t1" * 16,
        )
        s.add(settled)
        s.add(
            ActivityOccurrence(
                activity_id=act.id,
                street_id=ids.street,
                starts_at=at(5, 22),
                ends_at=at(5, 22, 4),
                original_starts_at=at(5, 22),
                state="occ_scheduled",
                checkin_token="t2" * 16,
            )
        )
        await s.flush()
        # 双报到: the hospital's slip confirmed; its member 赵明 registered and served
        # 2 h at the activity + 1 h on a post in Q2 (and 4 h in Q1, not counted).
        s.add(
            UnitRegistration(
                unit_id=u[HOSPITAL],
                community_id=ids.community_org,
                street_id=ids.street,
                year=YEAR,
                contact_name="李",
                contact_phone="12345678",
                state="reg_confirmed",
                decided_at=at(3, 1),
            )
        )
        s.add(
            MemberRegistration(
                user_id=ids.member,
                community_id=ids.community_org,
                street_id=ids.street,
                employer_unit_id=u[HOSPITAL],
                state="reg_confirmed",
                decided_at=at(2, 1),
            )
        )
        for source, day, minutes, occ in (
            ("point_activity", date(YEAR, 5, 15), 120, settled.id),
            ("point_post", date(YEAR, 6, 1), 60, None),
            ("point_post", date(YEAR, 2, 1), 240, None),
        ):
            s.add(
                PointEntry(
                    user_id=ids.member,
                    street_id=ids.street,
                    community_id=ids.community_org,
                    employer_unit_id=u[HOSPITAL],
                    source=source,
                    occurrence_id=occ,
                    occurred_on=day,
                    minutes=minutes,
                    points=2,
                )
            )
        await s.commit()
    return ids


async def test_scores_from_real_records(world: World) -> None:
    ids = await build(world)
    u = ids.units
    async with world.uow() as uow:
        scores = await unit_scores(uow, ids.street, YEAR, 2)
    by_id = {s.unit_id: s for s in scores}
    assert ids.office not in by_id  # the street office is not scored
    # Members first, then departments, each sorted by total.
    kinds = [s.is_department for s in scores]
    assert kinds == sorted(kinds)
    members = [s.total for s in scores if not s.is_department]
    assert members == sorted(members, reverse=True)

    hospital = by_id[u[HOSPITAL]]
    h = {i.key: i for i in hospital.items}
    assert h[sc.ATTENDANCE].score == 10
    assert h[sc.ATTENDANCE].reason == "出席 3 次/应出席 4 次，无故缺席 1 次扣 5 分"
    assert h[sc.TOPICS].score == 10  # 2 counted, quarter target 1
    assert h[sc.TOPICS].figures["rejected"] == 1
    # 4 due in Q2: on time by task + on time without a task; one late, one open.
    assert h[sc.DECISIONS].figures == {"due": 4, "on_time": 2, "late": 1}
    assert h[sc.DECISIONS].score == 7.5
    assert h[sc.RESOURCES].figures["offered"] == 1
    assert h[sc.RESOURCES].figures["claims_made"] == 1
    assert h[sc.RESOURCES].score == 15
    assert h[sc.PROJECTS].score == 10
    assert h[sc.ACTIVITIES].figures["hosted"] == 1
    assert h[sc.ACTIVITIES].figures["joined"] == 1
    assert h[sc.ACTIVITIES].score == 15  # 2 of quarter target 1
    # Slip 7.5 + 3 h per member of 2.5 (quarter of 10) → full 15.
    assert h[sc.DUAL_REPORT].figures["hours"] == 3
    assert h[sc.DUAL_REPORT].score == 15
    # 10 + 10 + 7.5 + 15 + 10 + 15 + 15 = 82.5 of 100 → 较好.
    assert hospital.total == 82.5
    assert hospital.grade == "较好"

    school = {i.key: i for i in by_id[u[SCHOOL]].items}
    assert school[sc.ATTENDANCE].score == 10
    assert school[sc.ATTENDANCE].reason == "出席 2 次/应出席 4 次，请假 2 次"
    power = {i.key: i for i in by_id[u[POWER]].items}
    assert power[sc.ATTENDANCE].score == 0  # floored

    community = {i.key: i for i in by_id[u[COMMUNITY]].items}
    assert community[sc.RESOURCES].figures["claims_accepted"] == 1
    assert community[sc.PROJECTS].score == 10  # as the requester
    assert "社区无需报到" in community[sc.DUAL_REPORT].reason

    dept = by_id[u[DEPT]]
    assert [i.key for i in dept.items] == list(sc.DEPARTMENT_METRICS)
    d = {i.key: i for i in dept.items}
    assert (d[sc.ACCEPT].figures["part"], d[sc.ACCEPT].figures["whole"]) == (1, 2)
    assert (d[sc.ONTIME].figures["part"], d[sc.ONTIME].figures["whole"]) == (1, 1)
    assert (d[sc.SATISFACTION].figures["part"], d[sc.SATISFACTION].figures["whole"]) == (1, 1)
    assert d[sc.ACCEPT].score == 12.5

    # The year includes Q1's 4 service hours; the quarter did not.
    async with world.uow() as uow:
        year = {s.unit_id: s for s in await unit_scores(uow, ids.street, YEAR, None)}
    assert {i.key: i for i in year[u[HOSPITAL]].items}[sc.DUAL_REPORT].figures["hours"] == 7


async def test_records_behind_each_score(world: World) -> None:
    ids = await build(world)
    u = ids.units
    secretary = await world.actor("secretary")
    async with world.uow() as uow:
        card = await unit_card(uow, secretary, u[HOSPITAL], YEAR, 2)
    r = card.records
    att = r[sc.ATTENDANCE]
    assert [x.status for x in att] == ["委派代表出席", "出席", "出席", "缺席（未请假）"]
    assert att[0].detail == "王副院长"
    assert att[0].href and att[0].href.startswith("/sessions/")
    assert not att[3].counts
    assert "计划中的会议" not in {x.title for x in att}
    topics = {x.title: x.counts for x in r[sc.TOPICS]}
    assert topics == {"停车共享": True, "义诊": True, "外卖": False}
    decisions = {x.title: (x.status, x.counts) for x in r[sc.DECISIONS]}
    assert decisions == {
        "议定事项-ontime": ("按期完成", True),
        "议定事项-late": ("逾期完成", False),
        "议定事项-open": ("未完成", False),
        "议定事项-notask": ("按期完成", True),
    }
    late = next(x for x in r[sc.DECISIONS] if x.title == "议定事项-late")
    assert "截止 2026-05-31，完成于 2026-06-02" in late.detail
    assert late.href and late.href.startswith("/tasks/")
    res = {(x.title, x.status) for x in r[sc.RESOURCES]}
    assert ("多功能厅", "上架资源（已上架）") in res or any(t == "多功能厅" for t, _ in res)
    assert ("老人体检", "认领成功") in res
    assert all(t != "投影仪" for t, _ in res)
    assert [x.title for x in r[sc.PROJECTS]] == ["老人体检进社区"]
    acts = [(x.title, x.status) for x in r[sc.ACTIVITIES]]
    assert ("义诊进社区", "主办") in acts and ("义诊进社区", "党员参加") in acts
    assert len(acts) == 2  # the unsettled date is not counted
    dual = r[sc.DUAL_REPORT]
    assert dual[0].title == f"{YEAR}年报到单" and dual[0].counts
    assert any(x.status == "已登记党员" for x in dual)
    assert sorted(x.status for x in dual if x.status.startswith("服务")) == [
        "服务 1 小时",
        "服务 2 小时",
    ]

    async with world.uow() as uow:
        dept = await unit_card(uow, secretary, u[DEPT], YEAR, 2)
    accept = {x.title: x.status for x in dept.records[sc.ACCEPT]}
    assert accept == {"部门任务1": "按时签收", "部门任务2": "逾期签收"}
    assert [x.status for x in dept.records[sc.SATISFACTION]] == ["满意"]
    assert sc.RESOURCES not in dept.records

    async with world.uow() as uow:
        topics_only = await metric_records(uow, secretary, u[HOSPITAL], sc.TOPICS, YEAR, 2)
    assert len(topics_only) == 3


async def test_who_may_read_a_card(world: World) -> None:
    ids = await build(world)
    u = ids.units
    liaison = await world.actor("liaison")  # the hospital's liaison
    async with world.uow() as uow:
        own = await unit_card(uow, liaison, u[HOSPITAL], YEAR, 2)
    assert own.score.total == 82.5
    with pytest.raises(PermissionDenied):
        async with world.uow() as uow:
            await unit_card(uow, liaison, u[SCHOOL], YEAR, 2)
    other_street = await world.actor("secretary2")
    with pytest.raises(NotFound):
        async with world.uow() as uow:
            await unit_card(uow, other_street, u[HOSPITAL], YEAR, 2)
    for viewer in ("district", "admin", "supervisor"):
        async with world.uow() as uow:
            card = await unit_card(uow, await world.actor(viewer), u[HOSPITAL], YEAR, 2)
        assert card.score.total == 82.5
    with pytest.raises(NotFound):
        async with world.uow() as uow:
            await unit_card(uow, liaison, ids.office, YEAR, 2)


async def test_settings_change_the_weights(world: World) -> None:
    from domain.models import StreetSetting

    ids = await build(world)
    async with world.factory() as s:
        s.add(StreetSetting(street_id=ids.street, key="score_w_attendance", value="40"))
        s.add(StreetSetting(street_id=ids.street, key="score_absence_deduct", value="0"))
        await s.commit()
    async with world.uow() as uow:
        by_id = {x.unit_id: x for x in await unit_scores(uow, ids.street, YEAR, 2)}
    h = {i.key: i for i in by_id[ids.units[HOSPITAL]].items}
    assert h[sc.ATTENDANCE].weight == 40 and h[sc.ATTENDANCE].score == 30
    # 30 + 10 + 7.5 + 15 + 10 + 15 + 15 = 102.5 of 120 → 85.42.
    assert by_id[ids.units[HOSPITAL]].total == 85.42
