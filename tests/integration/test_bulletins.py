"""调度通报: generation from a month's records (idempotent), the drafting job notifying
once, review with version checks, publishing to the street with a live event."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from domain.enums import BulletinState
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.evaluation import bulletin as svc
from domain.models import Event, Notification
from domain.models.evaluation import Bulletin
from domain.topics import street_topic
from tests.integration.conftest import World
from tests.integration.test_reports import STREET, seed_records

MONTH = date(2026, 6, 1)


async def generate(world: World, street: str = STREET, month: date = MONTH) -> Bulletin | None:
    async with world.uow() as uow:
        made = await svc.generate(uow, await world.org_id(street), month)
        await uow.commit()
        return made


async def test_generate_from_records_once(world: World) -> None:
    await seed_records(world, 2026, 6)
    made = await generate(world, month=date(2026, 6, 17))
    assert made is not None
    assert made.month == MONTH and made.state == BulletinState.DRAFT
    assert made.title == "新华街道2026年6月党建工作调度通报"
    by_key = {s["key"]: s for s in made.sections}
    assert list(by_key) == ["tasks", "conference", "sharing", "activities"]
    tasks = by_key["tasks"]
    assert tasks["figures"]["交办任务"] == 3
    assert tasks["figures"]["办结任务"] == 2
    assert tasks["figures"]["按期办结"] == 1
    assert tasks["figures"]["红色督办单"] == 1
    assert tasks["departments"][0]["name"] == "区城管执法局新华街道执法队"
    assert tasks["departments"][0]["assigned"] == 3
    assert "本月交办任务3件，办结2件" in tasks["body"]
    assert by_key["conference"]["figures"]["召开会议"] == 1
    assert "本月召开党建联席会议1次" in by_key["conference"]["body"]
    assert by_key["sharing"]["figures"]["新增需求"] == 2
    assert by_key["activities"]["figures"]["服务时长（小时）"] == 1.5
    # Once per street and month: a second run does nothing.
    assert await generate(world) is None
    assert await world.count(Bulletin) == 1
    # Another month is drawn from its own records.
    other = await generate(world, month=date(2026, 5, 1))
    assert other is not None
    assert {s["key"]: s for s in other.sections}["tasks"]["figures"]["交办任务"] == 0


async def test_draft_job_notifies_once(world: World) -> None:
    secretary = await world.user("secretary")
    secretary2 = await world.user("secretary2")

    async def run(now: datetime) -> int:
        async with world.uow() as uow:
            n = await svc.draft_monthly_bulletins(uow, now)
            await uow.commit()
            return n

    assert await run(datetime(2026, 11, 20, 2, tzinfo=UTC)) == 0  # not the first days
    assert await run(datetime(2026, 11, 2, 1, tzinfo=UTC)) == 2
    assert await run(datetime(2026, 11, 3, 1, tzinfo=UTC)) == 0
    rows = await world.count(Bulletin, Bulletin.month == date(2026, 10, 1))
    assert rows == 2
    for user in (secretary, secretary2):
        notes = await world.count(
            Notification, Notification.user_id == user.id, Notification.kind == "bulletin.drafted"
        )
        assert notes == 1
    async with world.factory() as s:
        note = await s.scalar(select(Notification).where(Notification.user_id == secretary.id))
    assert note is not None and note.title == "2026年10月调度通报草稿已生成，请审核发布"


async def test_review_publish_and_visibility(world: World) -> None:
    made = await generate(world)
    assert made is not None
    street = await world.org_id(STREET)
    secretary = await world.actor("secretary")

    async def visible(username: str) -> list[int]:
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            return [r.bulletin.id for r in await svc.list_for(uow, actor)]

    # A draft is for the street's staff only.
    assert await visible("secretary") == [made.id]
    assert await visible("supervisor") == [made.id]
    for outsider in ("member", "liaison", "community", "district", "secretary2"):
        assert await visible(outsider) == []
        actor = await world.actor(outsider)
        with pytest.raises(NotFound):
            async with world.uow(actor) as uow:
                await svc.get(uow, actor, made.id)
    supervisor = await world.actor("supervisor")
    with pytest.raises(PermissionDenied):
        async with world.uow(supervisor) as uow:
            await svc.save(uow, supervisor, made.id, {"version": str(made.version), "title": "x"})

    form = {"version": str(made.version), "title": "六月通报（审定稿）"}
    form |= {f"body_{s['key']}": s["body"] for s in made.sections}
    form["body_sharing"] = "资源共享情况良好。"
    async with world.uow(secretary) as uow:
        saved = await svc.save(uow, secretary, made.id, form)
        await uow.commit()
    assert {s["key"]: s for s in saved.sections}["sharing"]["body"] == "资源共享情况良好。"
    with pytest.raises(Conflict):
        async with world.uow(secretary) as uow:
            await svc.save(uow, secretary, made.id, {**form, "title": "旧表单"})
    with pytest.raises(ValidationFailed) as bad:
        async with world.uow(secretary) as uow:
            await svc.save(
                uow, secretary, made.id, {**form, "version": str(saved.version), "body_tasks": ""}
            )
    assert bad.value.fields == {"body_tasks": "正文不能为空。"}

    async with world.uow(secretary) as uow:
        published = await svc.publish(uow, secretary, made.id, str(saved.version))
        await uow.commit()
    assert published.state == BulletinState.PUBLISHED and published.published_at is not None
    # Everyone in the street hears of it, nobody outside.
    for username in ("member", "liaison", "community", "supervisor", "dept"):
        user = await world.user(username)
        assert (
            await world.count(
                Notification,
                Notification.user_id == user.id,
                Notification.kind == "bulletin.published",
            )
            == 1
        ), username
    for username in ("secretary2", "liaison3", "secretary"):
        user = await world.user(username)
        assert (
            await world.count(
                Notification,
                Notification.user_id == user.id,
                Notification.kind == "bulletin.published",
            )
            == 0
        ), username
    events = await world.count(
        Event, Event.topic == street_topic(street), Event.kind == "bulletin.changed"
    )
    assert events >= 2  # generated, edited, published
    for reader in ("member", "liaison", "district", "city"):
        assert await visible(reader) == [made.id]
    assert await visible("secretary2") == []
    member = await world.actor("member")
    async with world.uow(member) as uow:
        latest = await svc.latest_for(uow, member)
    assert latest is not None and latest.bulletin.title == "六月通报（审定稿）"
    other = await world.actor("liaison3")
    async with world.uow(other) as uow:
        assert await svc.latest_for(uow, other) is None
    with pytest.raises(Conflict):
        async with world.uow(secretary) as uow:
            await svc.publish(uow, secretary, made.id, str(published.version))


async def test_demo_seed(world: World) -> None:
    from domain.models.evaluation import ResponsibilityReport
    from gongjian.demo_evaluation import seed_demo_evaluation

    await seed_demo_evaluation(world.factory)
    await seed_demo_evaluation(world.factory)  # a second run adds nothing
    street = await world.org_id(STREET)
    async with world.factory() as s:
        rows = list(await s.scalars(select(Bulletin).order_by(Bulletin.month)))
        reports = list(await s.scalars(select(ResponsibilityReport)))
    assert [(b.street_id, b.state) for b in rows] == [
        (street, BulletinState.PUBLISHED),
        (street, BulletinState.DRAFT),
    ]
    assert len(reports) == 1 and reports[0].org_id == street
    assert reports[0].state == "report_draft"


async def test_the_scheduled_job_drafts_last_month_once(world: World) -> None:
    """The job both runners call daily drafts each street's last month once."""
    from tasks.jobs import PERIODIC
    from tasks.jobs import draft_monthly_bulletins as job
    from tasks.worker import WorkerSettings

    ctx = {"session_factory": world.factory}
    assert await job(ctx, datetime(2026, 12, 1, 0, 30, tzinfo=UTC)) == 2
    assert await job(ctx, datetime(2026, 12, 2, 0, 30, tzinfo=UTC)) == 0
    assert await world.count(Bulletin, Bulletin.month == date(2026, 11, 1)) == 2
    assert PERIODIC["draft_monthly_bulletins"][1] == 86400
    assert "cron:draft_monthly_bulletins" in {c.name for c in WorkerSettings.cron_jobs}
