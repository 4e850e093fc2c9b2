"""述职报告: figures assembled from records, editing with version checks, regenerating
without overwriting the author's text, submitting read-only, who may read and write."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from domain.enums import ReportState
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.evaluation import report as svc
from domain.models import Notification, SupervisionNotice, Task, TaskAssignee, Unit, User
from domain.models.activities import PointEntry
from domain.models.conference import (
    AgendaItem,
    Attendance,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
)
from domain.models.sharing import Need
from tests.integration.conftest import World

STREET, COMMUNITY = "新华街道", "文化里社区"
DEPT = "区城管执法局新华街道执法队"


def at(y: int, m: int, d: int, h: int = 2) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


async def seed_records(world: World, y: int, m: int) -> dict[str, int]:
    """In month m of year y, for 新华街道: three tasks led by a department (two finished,
    one of them late; one open), a red notice, two needs, 90 minutes of service, one held
    session (one unit signed in, one on leave) with a decision done on time."""
    street = await world.org_id(STREET)
    dept = await world.unit(DEPT)
    member_user = await world.user("member")
    async with world.factory() as s:
        community_unit = await s.scalar(select(Unit.id).where(Unit.name == f"{COMMUNITY}居委会"))
        office = await s.scalar(
            select(Unit.id).where(Unit.street_id == street, Unit.kind == "street_office")
        )
        assigner_id = office or dept.id
        tasks = []
        for i, (state, reported) in enumerate(
            [("closed_out", at(y, m, 5)), ("closed_out", at(y, m, 20)), ("in_progress", None)]
        ):
            task = Task(
                street_id=street,
                source="assignment",
                title=f"测试任务{i}",
                assigner_unit_id=assigner_id,
                state=state,
                limit_value=5,
                limit_unit="working_days",
                assigned_at=at(y, m, 1),
                accept_due_at=at(y, m, 2),
                deadline=at(y, m, 10),
                original_deadline=at(y, m, 10),
                accepted_at=at(y, m, 1, 5),
                reported_at=reported,
                rating="satisfied" if reported else None,
            )
            s.add(task)
            tasks.append(task)
        await s.flush()
        for task in tasks:
            s.add(
                TaskAssignee(
                    task_id=task.id,
                    unit_id=dept.id,
                    role="lead",
                    state="reported_part" if task.reported_at else "accepted_part",
                    accepted_at=at(y, m, 1, 5),
                )
            )
        s.add(
            SupervisionNotice(
                task_id=tasks[2].id,
                street_id=street,
                level="red",
                deadline=at(y, m, 10),
                issued_at=at(y, m, 12),
            )
        )
        for title in ("独居老人助餐", "楼道照明修缮"):
            s.add(
                Need(
                    street_id=street,
                    poster_unit_id=community_unit,
                    community_id=await world.org_id(COMMUNITY),
                    category="elderly",
                    title=title,
                    state="listed",
                    created_at=at(y, m, 3),
                )
            )
        s.add(
            PointEntry(
                user_id=member_user.id,
                street_id=street,
                community_id=await world.org_id(COMMUNITY),
                source="point_post",
                occurred_on=date(y, m, 8),
                minutes=90,
                points=10,
            )
        )
        conference = await s.scalar(select(Conference).where(Conference.organization_id == street))
        assert conference is not None
        secretary = await world.user("secretary")
        session = MeetingSession(
            conference_id=conference.id,
            year=y,
            title="测试联席会议",
            starts_at=at(y, m, 6),
            ends_at=at(y, m, 6, 4),
            state="issued",
            signin_secret="x",
            created_by_id=secretary.id,
        )
        s.add(session)
        await s.flush()
        members = list(
            await s.scalars(
                select(ConferenceMember.unit_id).where(
                    ConferenceMember.conference_id == conference.id,
                    ConferenceMember.role == "member",
                    ConferenceMember.active,
                )
            )
        )
        s.add(Attendance(session_id=session.id, unit_id=members[0], signed_in_at=at(y, m, 6)))
        s.add(Attendance(session_id=session.id, unit_id=members[1], reply="leave"))
        item = AgendaItem(session_id=session.id, position=1, title="议题")
        s.add(item)
        await s.flush()
        s.add(
            Decision(
                session_id=session.id,
                item_id=item.id,
                title="议定事项一",
                lead_unit_id=dept.id,
                deadline=date(y, m, 25),
                follow_state="done",
                progress_updated_at=at(y, m, 20),
                created_by_id=secretary.id,
                created_at=at(y, m, 6, 5),
            )
        )
        await s.commit()
        return {"street": street, "members": len(members)}


def facts_of(report: Any, key: str) -> dict[str, Any]:
    section = next(s for s in report.sections if s["key"] == key)
    return {f["key"]: f["value"] for f in section["facts"]}


async def create(world: World, username: str, org: str, year: int) -> Any:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        report = await svc.create(uow, actor, await world.org_id(org), year)
        await uow.commit()
        return report


async def test_assembly_figures_from_records(world: World) -> None:
    seeded = await seed_records(world, 2025, 6)
    report = await create(world, "secretary", STREET, 2025)
    assert report.state == ReportState.DRAFT
    assert report.title == "新华街道党组织书记2025年度抓基层党建工作述职报告"
    keys = [s["key"] for s in report.sections]
    assert keys[:5] == ["basics", "conference", "sharing", "activities", "tasks"]
    assert keys[-1] == "problems"
    conf = facts_of(report, "conference")
    assert conf["sessions"] == 1
    assert conf["expected"] == seeded["members"]
    assert (conf["present"], conf["leave"]) == (1, 1)
    assert conf["absent"] == seeded["members"] - 2
    assert (conf["decisions"], conf["decisions_done"], conf["decisions_on_time"]) == (1, 1, 1)
    tasks = facts_of(report, "tasks")
    assert (tasks["assigned"], tasks["finished"], tasks["finished_on_time"]) == (3, 2, 1)
    assert tasks["on_time_rate"] == "50.0%"
    assert tasks["red"] == 1
    assert facts_of(report, "sharing")["needs"] == 2
    act = facts_of(report, "activities")
    assert (act["hours"], act["points"], act["volunteers"]) == (1.5, 10, 1)
    body = next(s for s in report.sections if s["key"] == "tasks")["body"]
    assert "交办任务3件，办结2件" in body and "红色督办单1份" in body
    problems = report.sections[-1]
    assert problems["body"] == "" and "下一年度" in problems["prompt"]
    # Another year knows nothing of these records.
    other = await create(world, "secretary", STREET, 2024)
    assert facts_of(other, "tasks")["assigned"] == 0
    # The community's report counts its own records only.
    community = await create(world, "community", COMMUNITY, 2025)
    assert facts_of(community, "sharing")["needs"] == 2
    assert facts_of(community, "tasks")["assigned"] == 0
    assert facts_of(community, "activities")["hours"] == 1.5


async def test_edit_conflict_regenerate_and_submit(world: World) -> None:
    street = await world.org_id(STREET)
    report = await create(world, "secretary", STREET, 2025)
    actor = await world.actor("secretary")
    form = {"version": str(report.version), "title": "  我的述职报告 "}
    form |= {f"body_{s['key']}": s["body"] for s in report.sections}
    form["body_sharing"] = "我亲手写的资源共享段落。"
    form["body_problems"] = "问题与打算。"
    async with world.uow(actor) as uow:
        saved = await svc.save(uow, actor, street, 2025, form)
        await uow.commit()
    assert saved.title == "我的述职报告"
    # The same (now stale) form again: refused, nothing overwritten.
    stale = {**form, "title": "覆盖"}
    with pytest.raises(Conflict) as err:
        async with world.uow(actor) as uow:
            await svc.save(uow, actor, street, 2025, stale)
    assert "已被修改" in err.value.message
    with pytest.raises(ValidationFailed) as bad:
        async with world.uow(actor) as uow:
            await svc.save(
                uow, actor, street, 2025, {**form, "version": str(saved.version), "title": " "}
            )
    assert bad.value.fields == {"title": "请填写报告标题。"}

    # New records, then regenerate: the untouched section takes the new text, the edited
    # one keeps the author's and offers the new one beside it.
    await seed_records(world, 2025, 6)
    async with world.uow(actor) as uow:
        offered = await svc.regenerate(uow, actor, street, 2025, str(saved.version))
        await uow.commit()
    assert offered == ["sharing"]
    async with world.uow(actor) as uow:
        page = await svc.open_report(uow, actor, street, 2025)
    current = page.report
    assert current is not None
    sharing = next(s for s in current.sections if s["key"] == "sharing")
    assert sharing["body"] == "我亲手写的资源共享段落。"
    assert "新增需求2条" in sharing["proposed"]
    tasks = next(s for s in current.sections if s["key"] == "tasks")
    assert "交办任务3件" in tasks["body"]
    problems = next(s for s in current.sections if s["key"] == "problems")
    assert problems["body"] == "问题与打算。"
    async with world.uow(actor) as uow:
        chosen = await svc.choose(
            uow,
            actor,
            street,
            2025,
            {"version": str(current.version), "key": "sharing", "use": "new"},
        )
        await uow.commit()
    sharing = next(s for s in chosen.sections if s["key"] == "sharing")
    assert "新增需求2条" in sharing["body"] and "proposed" not in sharing

    async with world.uow(actor) as uow:
        submitted = await svc.submit(uow, actor, street, 2025, str(chosen.version))
        await uow.commit()
    assert submitted.state == ReportState.SUBMITTED and submitted.submitted_at is not None
    district = await world.user("district")
    notes = await world.count(Notification, Notification.user_id == district.id)
    assert notes == 1
    # Read-only now.
    with pytest.raises(Conflict):
        async with world.uow(actor) as uow:
            await svc.save(uow, actor, street, 2025, {**form, "version": str(submitted.version)})


async def test_submit_needs_every_section(world: World) -> None:
    report = await create(world, "community", COMMUNITY, 2025)
    actor = await world.actor("community")
    org = await world.org_id(COMMUNITY)
    with pytest.raises(ValidationFailed) as err:
        async with world.uow(actor) as uow:
            await svc.submit(uow, actor, org, 2025, str(report.version))
    assert "存在问题和下步打算" in err.value.fields["submit"]
    form = {"version": str(report.version), "title": report.title, "body_problems": "打算。"}
    async with world.uow(actor) as uow:
        saved = await svc.save(uow, actor, org, 2025, form)
        await svc.submit(uow, actor, org, 2025, str(saved.version))
        await uow.commit()
    # A community's report goes to its street secretary.
    secretary = await world.user("secretary")
    async with world.factory() as s:
        note = await s.scalar(select(Notification).where(Notification.user_id == secretary.id))
    assert note is not None and note.title == "文化里社区提交了2025年度述职报告"
    assert note.link == f"/reports/{org}/2025"


async def test_who_reads_and_writes(world: World) -> None:
    street = await world.org_id(STREET)
    community = await world.org_id(COMMUNITY)
    await create(world, "secretary", STREET, 2025)
    await create(world, "community", COMMUNITY, 2025)

    async def page(username: str, org: int) -> svc.ReportPage:
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            return await svc.open_report(uow, actor, org, 2025)

    assert (await page("secretary", street)).editable
    for reader in ("district", "city", "admin"):
        found = await page(reader, street)
        assert found.report is not None and not found.editable
    for reader in ("secretary", "supervisor", "district", "admin"):
        assert not (await page(reader, community)).editable
    assert (await page("community", community)).editable
    for outsider in ("community", "member", "liaison", "supervisor", "secretary2"):
        with pytest.raises(PermissionDenied):
            await page(outsider, street)
    for outsider in ("member", "liaison", "secretary2"):
        with pytest.raises(PermissionDenied):
            await page(outsider, community)
    district = await world.actor("district")
    with pytest.raises(PermissionDenied):
        async with world.uow(district) as uow:
            await svc.create(uow, district, street, 2026)
    with pytest.raises(NotFound):
        await page("secretary", await world.org_id("和平区"))
    # Landing: own report first; the street's communities in scope for its staff.
    secretary = await world.actor("secretary")
    async with world.uow(secretary) as uow:
        landing = await svc.landing(uow, secretary, 2025)
    assert [r.org.name for r in landing.own] == [STREET]
    assert COMMUNITY in [r.org.name for r in landing.scope]
    assert all(r.org.name != "长安街道" for r in landing.scope)
    viewer = await world.actor("district")
    async with world.uow(viewer) as uow:
        landing = await svc.landing(uow, viewer, 2025)
    names = {r.org.name: r for r in landing.scope}
    assert STREET in names and "长安街道" in names and COMMUNITY in names
    assert names[STREET].report is not None and names["长安街道"].report is None
    async with world.factory() as s:
        assert await s.scalar(select(User.id).where(User.username == "city")) is not None
