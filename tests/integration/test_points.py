"""The points ledger, corrections, the quarterly feedback to employer units and its job."""

from __future__ import annotations

import io
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from adapters.points_xlsx import build_feedback_xlsx
from domain.dual_report import feedback as fb
from domain.dual_report import points
from domain.dual_report.common import beijing_today
from domain.enums import PointSource
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import Notification
from domain.models.activities import (
    Activity,
    ActivityOccurrence,
    MakeupRecord,
    PointEntry,
    Signup,
)
from domain.models.dual_report import FeedbackDispatch
from tests.integration.conftest import World
from tests.integration.test_dual_report import HOSPITAL, WENHUA, add_member, register


async def add_occurrence(world: World, title: str, when: datetime, state: str) -> int:
    street = await world.org_id("新华街道")
    community = await world.org_id(WENHUA)
    async with world.factory() as s:
        activity = Activity(
            street_id=street, community_id=community, kind="themed_day", title=title,
            starts_at=when, ends_at=when + timedelta(hours=2),
        )  # fmt: skip
        s.add(activity)
        await s.flush()
        occ = ActivityOccurrence(
            activity_id=activity.id, street_id=street, starts_at=when,
            ends_at=when + timedelta(hours=2), original_starts_at=when, state=state,
            checkin_token=secrets.token_urlsafe(24),
        )  # fmt: skip
        s.add(occ)
        await s.commit()
        return occ.id


async def settle(world: World, occ_id: int, username: str, attended: bool, day: date) -> None:
    """What helper B's settlement writes: the mark, a ledger line or a make-up record."""
    user = await world.user(username)
    hospital = await world.unit(HOSPITAL)
    street = await world.org_id("新华街道")
    community = await world.org_id(WENHUA)
    async with world.factory() as s:
        signup = Signup(
            occurrence_id=occ_id, user_id=user.id, state="signup_confirmed",
            attendance="attended" if attended else "no_show",
        )  # fmt: skip
        s.add(signup)
        await s.flush()
        if attended:
            s.add(
                PointEntry(
                    user_id=user.id, street_id=street, community_id=community,
                    employer_unit_id=hospital.id, source=PointSource.ACTIVITY.value,
                    occurrence_id=occ_id, signup_id=signup.id, occurred_on=day, minutes=120,
                    points=2,
                )
            )  # fmt: skip
        else:
            s.add(
                MakeupRecord(
                    user_id=user.id, occurrence_id=occ_id, street_id=street,
                    community_id=community, missed_on=day,
                )
            )  # fmt: skip
        await s.commit()


def quarter_start(today: date) -> date:
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


async def seeded(world: World) -> tuple[int, int]:
    """The member (registered, employer the hospital) attended one activity and missed one
    this quarter; returns (member id, the attended occurrence id)."""
    await register(world, "member")
    start = quarter_start(beijing_today())
    when = datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=2)
    occ1 = await add_occurrence(world, "主题党日：学习党章", when, "occ_settled")
    occ2 = await add_occurrence(
        world, "主题党日：志愿服务", when + timedelta(days=1), "occ_settled"
    )
    await settle(world, occ1, "member", True, start)
    await settle(world, occ2, "member", False, start + timedelta(days=1))
    return (await world.user("member")).id, occ1


async def test_ledger_lines_totals_and_labels(world: World) -> None:
    member_id, _ = await seeded(world)
    actor = await world.actor("member")
    async with world.uow(actor) as uow:
        led = await points.ledger(uow, actor, member_id)
    assert [(line.what, line.entry.points) for line in led.lines] == [("主题党日：学习党章", 2)]
    assert led.this_year.points == 2 and led.all_time.hours == 2
    q = (beijing_today().month - 1) // 3 + 1
    assert led.quarters[q].points == 2 and sum(t.points for t in led.quarters.values()) == 2
    assert not led.can_adjust


async def test_ledger_readers(world: World) -> None:
    member_id, _ = await seeded(world)
    for name in ("member", "community", "secretary", "supervisor", "liaison", "admin"):
        actor = await world.actor(name)
        async with world.uow(actor) as uow:
            await points.ledger(uow, actor, member_id)
    for name in ("liaison2", "secretary2", "dept", "district"):
        actor = await world.actor(name)
        with pytest.raises(NotFound):
            async with world.uow(actor) as uow:
                await points.ledger(uow, actor, member_id)


async def test_adjustments(world: World) -> None:
    member_id, _ = await seeded(world)
    secretary = await world.actor("community")
    with pytest.raises(ValidationFailed) as exc:
        async with world.uow(secretary) as uow:
            await points.adjust(uow, secretary, member_id, {"points": "0", "reason": ""})
    assert set(exc.value.fields) == {"points", "reason"}
    async with world.uow(secretary) as uow:
        await points.adjust(
            uow, secretary, member_id, {"points": "-1", "hours": "-0.5", "reason": "重复登记"}
        )
        await uow.commit()
    for name in ("member", "liaison"):
        actor = await world.actor(name)
        with pytest.raises(PermissionDenied):
            async with world.uow(actor) as uow:
                await points.adjust(uow, actor, member_id, {"points": "5", "reason": "x"})
    staff = await world.actor("secretary")
    async with world.uow(staff) as uow:
        await points.adjust(uow, staff, member_id, {"points": "+3", "reason": "补记"})
        await uow.commit()
    async with world.uow(staff) as uow:
        led = await points.ledger(uow, staff, member_id)
    assert led.all_time.points == 2 - 1 + 3 and led.all_time.minutes == 120 - 30
    assert [line.entry.note for line in led.lines[:2]] == ["补记", "重复登记"] or {
        line.entry.note for line in led.lines[:2]
    } == {"补记", "重复登记"}
    assert led.can_adjust
    assert await world.count(PointEntry, PointEntry.source == "point_adjust") == 2


async def test_feedback_rows_and_workbook(world: World) -> None:
    await seeded(world)
    await add_member(world, "m2")
    await register(world, "m2")  # registered with the hospital, nothing done yet
    liaison = await world.actor("liaison")
    hospital = await world.unit(HOSPITAL)
    today = beijing_today()
    q = (today.month - 1) // 3 + 1
    async with world.uow(liaison) as uow:
        unit = await fb.unit_for_feedback(uow, liaison, hospital.id)
        data = await fb.feedback(uow, unit, today.year, q)
    first = data.members[0]
    assert (first.name, first.community, first.attended, first.no_shows) == ("赵明", WENHUA, 1, 1)
    assert (first.hours, first.points, first.open_makeups) == (2, 2, 1)
    assert data.members[1].name == "党员m2" and data.members[1].points == 0
    assert len(data.lines) == 1
    wb = load_workbook(io.BytesIO(build_feedback_xlsx(data)))
    ws = wb["汇总"]
    assert ws["A1"].value == "和平区人民医院在职党员到社区报到情况反馈表"
    assert ws["A2"].value == f"{today.year} 年第 {q} 季度"
    assert [c.value for c in ws[3]] == [
        "序号", "姓名", "报到社区", "参加活动（次）", "缺席（次）", "服务时长（小时）", "积分",
        "待补主题党日（次）",
    ]  # fmt: skip
    assert [c.value for c in ws[4]] == [1, "赵明", WENHUA, 1, 1, 2.0, 2, 1]
    assert [c.value for c in ws[5]] == [2, "党员m2", WENHUA, 0, 0, 0.0, 0, 0]
    assert [c.value for c in ws[6]] == ["合计", "2 人", None, 1, 1, 2.0, 2, 1]
    detail = wb["明细"]
    assert [c.value for c in detail[3]][:4] == ["序号", "日期", "姓名", "类别"]
    start = quarter_start(today)
    assert [c.value for c in detail[4]] == [
        1, start.isoformat(), "赵明", "参加活动", "主题党日：学习党章", WENHUA, 2.0, 2, None,
    ]  # fmt: skip
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"
    # Another unit's liaison and a member may not read it.
    for name in ("liaison2", "member", "secretary2"):
        actor = await world.actor(name)
        with pytest.raises(NotFound):
            async with world.uow(actor) as uow:
                await fb.unit_for_feedback(uow, actor, hospital.id)


async def test_announce_is_idempotent_and_only_early_in_a_quarter(world: World) -> None:
    await register(world, "member")
    liaison = await world.user("liaison")
    mid = datetime(2026, 5, 20, 2, tzinfo=UTC)
    async with world.uow() as uow:
        assert await fb.announce_quarterly_feedback(uow, mid) == 0
        await uow.commit()
    early = datetime(2026, 7, 2, 1, tzinfo=UTC)
    for expected in (1, 0):
        async with world.uow() as uow:
            assert await fb.announce_quarterly_feedback(uow, early) == expected
            await uow.commit()
    assert await world.count(FeedbackDispatch) == 1
    async with world.factory() as s:
        row = await s.get(FeedbackDispatch, {"unit_id": (await world.unit(HOSPITAL)).id,
                                             "year": 2026, "quarter": 2})  # fmt: skip
    assert row is not None and row.members == 1
    notes = await world.count(
        Notification, Notification.user_id == liaison.id, Notification.kind == "dual_report"
    )
    assert notes == 1
    # January announces the last quarter of the year before.
    async with world.uow() as uow:
        assert await fb.announce_quarterly_feedback(uow, datetime(2027, 1, 3, tzinfo=UTC)) == 1
        await uow.commit()
    assert await world.count(FeedbackDispatch, FeedbackDispatch.quarter == 4) == 1


async def test_the_scheduled_job_announces_once_per_quarter(world: World) -> None:
    """The job both runners schedule hourly: in a quarter's first week it tells each employer
    once, however often it runs; it is on the in-process schedule and the arq cron."""
    from tasks.jobs import PERIODIC
    from tasks.jobs import announce_quarterly_feedback as job
    from tasks.worker import WorkerSettings

    await register(world, "member")
    ctx = {"session_factory": world.factory}
    early = datetime(2026, 10, 1, 1, tzinfo=UTC)
    assert [await job(ctx, early), await job(ctx, early + timedelta(hours=1))] == [1, 0]
    assert await world.count(FeedbackDispatch, FeedbackDispatch.quarter == 3) == 1
    assert PERIODIC["announce_quarterly_feedback"][1] == 3600
    assert "cron:announce_quarterly_feedback" in {c.name for c in WorkerSettings.cron_jobs}
