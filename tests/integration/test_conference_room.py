"""The meeting room's use cases on SQLite and PostgreSQL: every transition and permission."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.conference import floor, meeting
from domain.conference.room_view import load_room
from domain.enums import SessionState, SpeakerState, VoteState
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import (
    Ballot,
    Decision,
    Event,
    Notification,
    Task,
    TaskAssignee,
    Unit,
    User,
)
from domain.tasks import handling
from domain.tasks.calendar import end_of_day
from domain.uow import UnitOfWork
from tests.integration.conftest import load_actor
from tests.meetings import create_meeting

Factory = async_sessionmaker[AsyncSession]


async def _unit(factory: Factory, name: str) -> int:
    async with factory() as s:
        unit_id = await s.scalar(select(Unit.id).where(Unit.name == name))
        assert unit_id is not None
        return unit_id


async def make_session(
    factory: Factory,
    *,
    state: SessionState = SessionState.NOTIFIED,
    starts_in: timedelta = timedelta(minutes=-10),
) -> tuple[int, list[int]]:
    """A 新华街道 session with two agenda items, starting `starts_in` from now."""
    return await create_meeting(
        factory,
        [("normal", "老旧小区加装电梯"), ("normal", "背街小巷环境整治")],
        title="第四季度党建联席会议",
        place="街道会议室",
        state=state.value,
        starts_in=starts_in,
    )


async def run(factory: Factory, username: str, fn, *args, **kw):  # type: ignore[no-untyped-def]
    actor = await load_actor(factory, username)
    async with UnitOfWork(factory, actor) as uow:
        result = await fn(uow, actor, *args, **kw)
        await uow.commit()
        return result


async def test_only_managers_open_and_the_first_item_becomes_current(demo: Factory) -> None:
    session_id, items = await make_session(demo)
    with pytest.raises(PermissionDenied):
        await run(demo, "liaison", meeting.open_session, session_id)
    session = await run(demo, "supervisor", meeting.open_session, session_id)  # secretariat
    assert session.state == SessionState.IN_SESSION and session.current_item_id == items[0]
    with pytest.raises(ValidationFailed):
        await run(demo, "secretary", meeting.open_session, session_id)  # already open
    async with demo() as s:
        topics = list(await s.scalars(select(Event.topic).where(Event.kind == "room.changed")))
    assert topics == [f"session:{session_id}"]


async def test_a_session_far_in_the_future_cannot_open(demo: Factory) -> None:
    session_id, _ = await make_session(demo, starts_in=timedelta(days=3))
    with pytest.raises(ValidationFailed) as info:
        await run(demo, "secretary", meeting.open_session, session_id)
    assert "开始时间" in info.value.message


async def test_sign_in_by_qr_for_own_unit_within_the_window_once(demo: Factory) -> None:
    session_id, _ = await make_session(demo)
    hospital = await _unit(demo, "和平区人民医院")
    school = await _unit(demo, "滨江市实验小学")
    with pytest.raises(ValidationFailed):
        await run(demo, "liaison", meeting.sign_in, session_id, hospital, secret="wrong")
    with pytest.raises(PermissionDenied):
        await run(demo, "liaison", meeting.sign_in, session_id, school, secret="s3cret-signin")
    attendance = await run(
        demo, "liaison", meeting.sign_in, session_id, hospital, secret="s3cret-signin"
    )
    assert attendance.signin_method == "qr" and attendance.signed_in_at is not None
    with pytest.raises(ValidationFailed) as info:
        await run(demo, "liaison", meeting.sign_in, session_id, hospital, secret="s3cret-signin")
    assert "已经签到" in info.value.message
    # The secretariat signs a unit in by hand; a liaison cannot do that for others.
    with pytest.raises(PermissionDenied):
        await run(demo, "liaison", meeting.sign_in, session_id, school)
    manual = await run(demo, "supervisor", meeting.sign_in, session_id, school)
    assert manual.signin_method == "manual"
    async with UnitOfWork(demo) as uow:
        room = await load_room(uow, session_id)
    assert room is not None and room.signed_in_members == 2
    assert room.quorum_needed == len(room.voting_members) // 2 + 1 and not room.quorum_met


async def test_sign_in_outside_the_window_is_refused(demo: Factory) -> None:
    session_id, _ = await make_session(demo, starts_in=timedelta(hours=5))
    hospital = await _unit(demo, "和平区人民医院")
    with pytest.raises(ValidationFailed) as info:
        await run(demo, "liaison", meeting.sign_in, session_id, hospital, secret="s3cret-signin")
    assert "签到时间" in info.value.message


async def test_advance_speakers_and_notes(demo: Factory) -> None:
    session_id, items = await make_session(demo)
    hospital = await _unit(demo, "和平区人民医院")
    await run(demo, "secretary", meeting.open_session, session_id)
    with pytest.raises(PermissionDenied):
        await run(demo, "liaison", meeting.advance, session_id, items[1])
    other_session, other_items = await make_session(demo)
    with pytest.raises(ValidationFailed):
        await run(demo, "secretary", meeting.advance, session_id, other_items[0])

    request = await run(demo, "liaison", floor.request_to_speak, items[0], hospital)
    with pytest.raises(ValidationFailed):
        await run(demo, "liaison", floor.request_to_speak, items[0], hospital)  # already queued
    with pytest.raises(ValidationFailed):
        await run(
            demo, "liaison", floor.request_to_speak, items[1], hospital
        )  # not the current item
    granted = await run(demo, "secretary", floor.grant_floor, request.id)
    assert granted.state == SpeakerState.SPEAKING and granted.started_at is not None
    ended = await run(demo, "secretary", floor.end_floor, request.id)
    assert ended.state == SpeakerState.FINISHED

    item = await run(demo, "secretary", floor.save_notes, items[0], 1, "与会单位一致同意。")
    assert item.notes == "与会单位一致同意。"
    with pytest.raises(Conflict):
        await run(demo, "supervisor", floor.save_notes, items[0], 1, "旧版本上的修改")
    with pytest.raises(PermissionDenied):
        await run(demo, "liaison", floor.save_notes, items[0], item.version, "联络员不能记录")

    await run(demo, "secretary", meeting.advance, session_id, items[1])
    with pytest.raises(ValidationFailed):
        await run(demo, "secretary", floor.open_vote, items[0], "对已离开的议程表决")
    async with UnitOfWork(demo) as uow:
        room = await load_room(uow, session_id)
    assert room is not None and room.current is not None and room.current.id == items[1]
    assert other_session != session_id


async def test_one_ballot_per_member_unit_even_at_once(demo: Factory) -> None:
    session_id, items = await make_session(demo)
    hospital = await _unit(demo, "和平区人民医院")
    army = await _unit(demo, "和平区人民武装部")  # 列席: no vote
    await run(demo, "secretary", meeting.open_session, session_id)
    vote = await run(demo, "secretary", floor.open_vote, items[0], "同意加装电梯方案")
    with pytest.raises(ValidationFailed):
        await run(demo, "secretary", floor.open_vote, items[0], "另一项表决")  # one at a time
    with pytest.raises(PermissionDenied):
        await run(demo, "liaison", floor.cast_ballot, vote.id, army, "for")
    with pytest.raises(ValidationFailed):
        await run(demo, "liaison", floor.cast_ballot, vote.id, hospital, "maybe")

    liaison = await load_actor(demo, "liaison")

    async def cast(choice: str) -> str:
        try:
            async with UnitOfWork(demo, liaison) as uow:
                await floor.cast_ballot(uow, liaison, vote.id, hospital, choice)
                await uow.commit()
            return "ok"
        except (ValidationFailed, Conflict) as exc:
            return exc.message

    results = await asyncio.gather(cast("for"), cast("against"))
    assert sorted(r == "ok" for r in results) == [False, True], results
    async with demo() as s:
        assert await s.scalar(select(func.count(Ballot.id)).where(Ballot.vote_id == vote.id)) == 1

    await run(demo, "secretary", meeting.sign_in, session_id, hospital)
    closed = await run(demo, "secretary", floor.close_vote, vote.id)
    assert closed.state == VoteState.CLOSED
    assert closed.votes_for + closed.votes_against == 1
    # One unit present and it voted for: more than half of those present.
    assert closed.passed is (closed.votes_for == 1)
    with pytest.raises(ValidationFailed):
        await run(demo, "liaison", floor.cast_ballot, vote.id, hospital, "for")


async def test_decision_reaches_the_lead_unit_and_follow_up_is_theirs(demo: Factory) -> None:
    session_id, items = await make_session(demo)
    hospital = await _unit(demo, "和平区人民医院")
    school = await _unit(demo, "滨江市实验小学")
    await run(demo, "secretary", meeting.open_session, session_id)
    soon = (date.today() + timedelta(days=30)).isoformat()
    with pytest.raises(ValidationFailed) as info:
        await run(
            demo, "secretary", floor.record_decision, items[0],
            {"title": "", "lead_unit_id": "999999", "deadline": "2020-01-01"}, [],
        )  # fmt: skip
    assert set(info.value.fields) == {"title", "lead_unit_id", "deadline"}
    decision = await run(
        demo, "secretary", floor.record_decision, items[0],
        {"title": "三个月内完成电梯加装意向摸排", "lead_unit_id": str(hospital), "deadline": soon},
        [str(school)],
    )  # fmt: skip
    assert decision.assisting_unit_ids == str(school)
    async with demo() as s:
        liaison_id = await s.scalar(select(User.id).where(User.username == "liaison"))
        notes = list(
            await s.scalars(select(Notification.title).where(Notification.user_id == liaison_id))
        )
    assert any("三个月内完成电梯加装意向摸排" in n for n in notes)

    # The decision is followed up as a task assigned to the lead (and assisting) units,
    # due at the end of the decided day; its progress flows back to the decision.
    async with demo() as s:
        task = await s.scalar(select(Task).where(Task.decision_id == decision.id))
        assert task is not None
        assert task.state == "assigned" and task.source == "decision"
        assert task.deadline == end_of_day(date.fromisoformat(soon))
        handlers = {
            a.unit_id: a.role
            for a in await s.scalars(select(TaskAssignee).where(TaskAssignee.task_id == task.id))
        }
    assert handlers == {hospital: "lead", school: "assist"}
    with pytest.raises(NotFound):  # not the department's task: it cannot even see it
        await run(demo, "dept", handling.accept, task.id, hospital, None)
    await run(demo, "liaison", handling.accept, task.id, hospital, None)
    await run(
        demo, "liaison", handling.report_progress, task.id, hospital,
        {"body": "已完成 3 个小区摸排", "percent": "30"},
    )  # fmt: skip
    async with demo() as s:
        followed = await s.get(Decision, decision.id)
        assert followed is not None
        assert followed.follow_state == "in_progress"
        assert followed.progress_note == "已完成 3 个小区摸排"


async def test_room_actions_need_an_open_session(demo: Factory) -> None:
    _session_id, items = await make_session(demo)
    hospital = await _unit(demo, "和平区人民医院")
    with pytest.raises(ValidationFailed):
        await run(demo, "secretary", floor.open_vote, items[0], "会前表决")
    with pytest.raises(ValidationFailed):
        await run(demo, "liaison", floor.request_to_speak, items[0], hospital)
    with pytest.raises(NotFound):
        await run(demo, "secretary", meeting.advance, 999999, items[0])
