"""Before a session, against SQLite and PostgreSQL: sessions and their states, the topic call,
the agenda, materials, replies, the notice and its invitation, and who may do each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from domain.conference import agenda, materials, replies, sessions, topics
from domain.conference.invitation import invitation
from domain.conference.rules import MATERIAL_MAX_BYTES, to_beijing_input
from domain.conference.session_view import session_prep
from domain.enums import Role, SessionState, TopicStatus
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import (
    AgendaItem,
    Attendance,
    Conference,
    Decision,
    Event,
    MeetingSession,
    Notification,
    RoleGrant,
    TopicProposal,
    User,
)
from domain.models.base import utcnow
from domain.permissions import Actor
from tests.integration.conftest import World

NOW = utcnow().replace(second=0, microsecond=0)
START = NOW + timedelta(days=30)


def session_form(start: datetime = START, **overrides: str) -> dict[str, str]:
    form = {
        "title": "2026年第四季度例会",
        "kind": "regular",
        "starts_at": to_beijing_input(start),
        "ends_at": to_beijing_input(start + timedelta(hours=2)),
        "place": "街道党群服务中心三楼会议室",
        "mode": "in_person",
    }
    form.update(overrides)
    return form


async def conference_id(world: World, street: str = "新华街道") -> int:
    street_id = await world.org_id(street)
    async with world.factory() as s:
        cid = await s.scalar(select(Conference.id).where(Conference.organization_id == street_id))
    assert cid is not None
    return cid


async def run(world: World, actor: Actor, fn: Any, *args: Any, **kw: Any) -> Any:
    """One use case in its own committed transaction, as a request would run it."""
    async with world.uow(actor) as uow:
        result = await fn(uow, actor, *args, **kw)
        await uow.commit()
    return result


async def load(world: World, model: Any, id_: int) -> Any:
    async with world.factory() as s:
        return await s.get(model, id_)


async def new_session(world: World, actor: Actor | None = None, **form: str) -> MeetingSession:
    actor = actor or await world.actor("secretary")
    cid = await conference_id(world)
    return await run(world, actor, sessions.create_session, cid, session_form(**form), now=NOW)  # type: ignore[no-any-return]


async def notified_session(world: World) -> MeetingSession:
    """A session taken through the call and the agenda to the notice."""
    sec = await world.actor("secretary")
    s = await new_session(world)
    await run(world, sec, sessions.open_topic_call, s.id, s.version, now=NOW)
    await run(world, sec, agenda.add_item, s.id, {"title": "背街小巷环境整治"})
    s = await load(world, MeetingSession, s.id)
    await run(world, sec, sessions.fix_agenda, s.id, s.version, now=NOW)
    s = await load(world, MeetingSession, s.id)
    await run(world, sec, sessions.send_notice, s.id, s.version, now=NOW)
    return await load(world, MeetingSession, s.id)  # type: ignore[no-any-return]


async def notified_users(world: World, kind: str) -> set[str]:
    async with world.factory() as s:
        rows = await s.scalars(
            select(User.username)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.kind == kind)
        )
        return set(rows)


async def observer_liaison(world: World) -> Actor:
    """A liaison for the armed forces office, which sits in the conference as an observer."""
    unit = await world.unit("和平区人民武装部")
    async with world.uow() as uow:
        user = User(username="observer", display_name="高峰", password_hash="x")
        uow.session.add(user)
        await uow.flush()
        uow.session.add(RoleGrant(user_id=user.id, role=Role.UNIT_LIAISON.value, unit_id=unit.id))
        await uow.commit()
    return await world.actor("observer")


# --- sessions ------------------------------------------------------------------------------


async def test_new_session_stores_utc_and_opens_with_the_progress_item(world: World) -> None:
    s = await new_session(world, starts_at="2027-03-05T09:30", ends_at="2027-03-05T11:30")
    assert s.starts_at == datetime(2027, 3, 5, 1, 30, tzinfo=UTC)
    assert s.ends_at == datetime(2027, 3, 5, 3, 30, tzinfo=UTC)
    assert s.state == SessionState.PLANNED and s.year == 2027
    assert len(s.signin_secret) >= 32
    async with world.factory() as db:
        items = list(await db.scalars(select(AgendaItem).where(AgendaItem.session_id == s.id)))
        events = list(await db.scalars(select(Event).where(Event.kind == "session.changed")))
    assert [(i.position, i.kind, i.title) for i in items] == [
        (1, "progress", "上次议定事项落实情况")
    ]
    assert [e.topic for e in events] == [f"street:{await world.org_id('新华街道')}"]
    assert len(await world.audit("session.create", s.id)) == 1


async def test_two_sessions_get_different_signin_secrets(world: World) -> None:
    a, b = await new_session(world), await new_session(world)
    assert a.signin_secret != b.signin_secret


async def test_bad_session_input_gets_chinese_field_errors_and_saves_nothing(
    world: World,
) -> None:
    sec = await world.actor("secretary")
    cid = await conference_id(world)
    form = session_form(
        title="  ",
        starts_at=to_beijing_input(NOW - timedelta(hours=1)),
        ends_at=to_beijing_input(NOW - timedelta(hours=2)),
    )
    with pytest.raises(ValidationFailed) as info:
        await run(world, sec, sessions.create_session, cid, form, now=NOW)
    assert info.value.fields == {
        "title": "请填写会议名称。",
        "starts_at": "开始时间不能早于现在。",
        "ends_at": "结束时间须晚于开始时间。",
    }
    assert await world.count(MeetingSession) == 0


@pytest.mark.parametrize(
    ("username", "error"),
    [("liaison", PermissionDenied), ("district", PermissionDenied), ("secretary2", NotFound)],
)
async def test_only_managers_create_sessions(world: World, username: str, error: type) -> None:
    with pytest.raises(error):
        await new_session(world, await world.actor(username))
    assert await world.count(MeetingSession) == 0


async def test_secretariat_member_creates_sessions(world: World) -> None:
    s = await new_session(world, await world.actor("supervisor"))
    assert s.created_by_id == (await world.actor("supervisor")).user_id


async def test_a_regular_session_goes_call_agenda_notice(world: World) -> None:
    sec = await world.actor("secretary")
    s = await new_session(world)
    with pytest.raises(ValidationFailed, match="例会须先征集议题"):
        await run(world, sec, sessions.fix_agenda, s.id, s.version, now=NOW)
    with pytest.raises(ValidationFailed, match="不能发送会议通知"):
        await run(world, sec, sessions.send_notice, s.id, s.version, now=NOW)

    await run(world, sec, sessions.open_topic_call, s.id, s.version, now=NOW)
    s = await load(world, MeetingSession, s.id)
    assert s.state == SessionState.CALLING_TOPICS
    # Member units' liaisons are called; the observer unit has no liaison in the demo.
    assert await notified_users(world, "topic.call") == {"liaison", "dept", "community", "liaison2"}
    with pytest.raises(ValidationFailed, match="议题征集中"):
        await run(world, sec, sessions.open_topic_call, s.id, s.version, now=NOW)
    with pytest.raises(ValidationFailed, match="至少要有一项议题"):
        await run(world, sec, sessions.fix_agenda, s.id, s.version, now=NOW)

    await run(world, sec, agenda.add_item, s.id, {"title": "共建项目推进"})
    await run(world, sec, sessions.fix_agenda, s.id, s.version, now=NOW)
    s = await load(world, MeetingSession, s.id)
    assert s.state == SessionState.AGENDA_SET

    result = await run(world, sec, sessions.send_notice, s.id, s.version, now=NOW)
    s = await load(world, MeetingSession, s.id)
    assert s.state == SessionState.NOTIFIED and s.notice_sent_at == NOW
    assert result.warning == "" and result.notified == 4
    assert await notified_users(world, "session.notice") == {
        "liaison",
        "dept",
        "community",
        "liaison2",
    }
    actions = [e.action for e in await world.audit("session.notified", s.id)]
    assert actions == ["session.notified"]


async def test_the_notice_reaches_observer_liaisons_too(world: World) -> None:
    await observer_liaison(world)
    await notified_session(world)
    assert "observer" in await notified_users(world, "session.notice")
    assert "observer" not in await notified_users(world, "topic.call")


async def test_only_managers_move_a_session_on(world: World) -> None:
    s = await new_session(world)
    for username in ("liaison", "community", "district"):
        actor = await world.actor(username)
        with pytest.raises(PermissionDenied):
            await run(world, actor, sessions.open_topic_call, s.id, s.version, now=NOW)
    with pytest.raises(NotFound):
        await run(world, await world.actor("secretary2"), sessions.open_topic_call, s.id, s.version)
    assert (await load(world, MeetingSession, s.id)).state == SessionState.PLANNED


async def test_a_stale_version_is_refused(world: World) -> None:
    sec = await world.actor("secretary")
    s = await new_session(world)
    await run(world, sec, sessions.update_session, s.id, s.version, session_form(title="改名"))
    with pytest.raises(Conflict):
        await run(world, sec, sessions.open_topic_call, s.id, s.version, now=NOW)


async def test_ad_hoc_or_short_notice_sessions_skip_the_call(world: World) -> None:
    sec = await world.actor("secretary")
    ad_hoc = await new_session(world, kind="ad_hoc")
    await run(world, sec, agenda.add_item, ad_hoc.id, {"title": "汛期安全部署"})
    await run(world, sec, sessions.fix_agenda, ad_hoc.id, ad_hoc.version, now=NOW)
    assert (await load(world, MeetingSession, ad_hoc.id)).state == SessionState.AGENDA_SET

    soon = await new_session(world, start=NOW + timedelta(days=5))  # under the 7-day rule
    with pytest.raises(ValidationFailed, match="会前 7 天"):
        await run(world, sec, sessions.open_topic_call, soon.id, soon.version, now=NOW)
    await run(world, sec, agenda.add_item, soon.id, {"title": "议题"})
    await run(world, sec, sessions.fix_agenda, soon.id, soon.version, now=NOW)


async def test_a_late_notice_is_sent_with_a_warning(world: World) -> None:
    sec = await world.actor("secretary")
    s = await new_session(world, kind="ad_hoc", start=NOW + timedelta(days=2))
    await run(world, sec, agenda.add_item, s.id, {"title": "临时议题"})
    await run(world, sec, sessions.fix_agenda, s.id, s.version, now=NOW)
    s = await load(world, MeetingSession, s.id)
    result = await run(world, sec, sessions.send_notice, s.id, s.version, now=NOW)
    assert "会前 3 天" in result.warning
    assert (await load(world, MeetingSession, s.id)).state == SessionState.NOTIFIED


async def test_editing_after_the_notice_tells_everyone(world: World) -> None:
    sec = await world.actor("secretary")
    s = await notified_session(world)
    form = session_form(place="街道办事处一楼大会议室")
    await run(world, sec, sessions.update_session, s.id, s.version, form)
    after = await load(world, MeetingSession, s.id)
    assert after.place == "街道办事处一楼大会议室" and after.version > s.version
    assert "liaison" in await notified_users(world, "session.revised")


# --- topic call ----------------------------------------------------------------------------


async def submit(world: World, username: str, **form: str) -> TopicProposal:
    actor = await world.actor(username)
    data = {"title": "老旧小区加装电梯", "background": "居民反映强烈", "suggestion": "住建委牵头"}
    data.update(form)
    return await run(world, actor, topics.submit_topic, await conference_id(world), data)  # type: ignore[no-any-return]


async def test_a_liaison_proposes_for_their_own_unit(world: World) -> None:
    p = await submit(world, "liaison")
    assert p.unit_id == (await world.unit("和平区人民医院")).id
    assert p.status == TopicStatus.SUBMITTED and p.session_id is None


async def test_a_liaison_cannot_propose_for_another_unit(world: World) -> None:
    other = await world.unit("滨江市实验小学")
    with pytest.raises(PermissionDenied):
        await submit(world, "liaison", unit_id=str(other.id))
    assert await world.count(TopicProposal) == 0


async def test_an_observer_unit_cannot_propose(world: World) -> None:
    observer = await observer_liaison(world)
    with pytest.raises(PermissionDenied):
        await run(world, observer, topics.submit_topic, await conference_id(world), {"title": "x"})
    assert await world.count(TopicProposal) == 0


async def test_a_proposal_needs_a_title_of_at_most_200_characters(world: World) -> None:
    with pytest.raises(ValidationFailed) as info:
        await submit(world, "liaison", title="")
    assert info.value.fields == {"title": "请填写议题名称。"}
    with pytest.raises(ValidationFailed) as info:
        await submit(world, "liaison", title="议" * 201)
    assert info.value.fields["title"] == "议题名称不能超过 200 个字。"


async def test_a_proposal_for_a_session_needs_its_call_open(world: World) -> None:
    sec = await world.actor("secretary")
    s = await new_session(world)
    with pytest.raises(ValidationFailed) as info:
        await submit(world, "liaison", session_id=str(s.id))
    assert "session_id" in info.value.fields
    await run(world, sec, sessions.open_topic_call, s.id, s.version, now=NOW)
    p = await submit(world, "liaison", session_id=str(s.id))
    assert p.session_id == s.id


async def decide(world: World, username: str, p: TopicProposal, **kw: str) -> TopicProposal:
    actor = await world.actor(username)
    version = int(kw.pop("version", p.version))
    decision = topics.TopicDecision(version=version, **kw)  # type: ignore[arg-type]
    return await run(world, actor, topics.decide_topic, p.id, decision)  # type: ignore[no-any-return]


async def test_accepting_onto_a_session_puts_it_on_the_agenda_and_tells_the_proposer(
    world: World,
) -> None:
    s = await new_session(world)
    p = await submit(world, "liaison")
    await decide(world, "supervisor", p, action="accept", session_id=str(s.id))
    stored = await load(world, TopicProposal, p.id)
    assert stored.status == TopicStatus.ACCEPTED and stored.session_id == s.id
    async with world.factory() as db:
        items = list(
            await db.scalars(
                select(AgendaItem)
                .where(AgendaItem.session_id == s.id)
                .order_by(AgendaItem.position)
            )
        )
        [note] = list(
            await db.scalars(select(Notification).where(Notification.kind == "topic.decided"))
        )
    assert [(i.position, i.title, i.topic_id) for i in items][1] == (2, "老旧小区加装电梯", p.id)
    assert "居民反映强烈" in items[1].description
    assert note.user_id == (await world.actor("liaison")).user_id
    assert "已采纳" in note.title and s.title in note.title


async def test_merge_and_reject_need_a_reason(world: World) -> None:
    a = await submit(world, "liaison")
    b = await submit(world, "dept", title="背街小巷停车治理")
    with pytest.raises(ValidationFailed) as info:
        await decide(world, "secretary", b, action="merge", target_id=str(a.id))
    assert info.value.fields == {"reason": "合并须说明理由。"}
    with pytest.raises(ValidationFailed) as info:
        await decide(world, "secretary", b, action="reject", reason=" ")
    assert info.value.fields == {"reason": "不予采纳须说明理由。"}
    with pytest.raises(ValidationFailed) as info:
        await decide(world, "secretary", b, action="merge", target_id=str(b.id), reason="同类")
    assert "target_id" in info.value.fields

    await decide(world, "secretary", b, action="merge", target_id=str(a.id), reason="同类议题")
    merged = await load(world, TopicProposal, b.id)
    assert merged.status == TopicStatus.MERGED and merged.merged_into_id == a.id
    assert merged.reason == "同类议题"
    c = await submit(world, "liaison2", title="楼宇白领午间课堂")
    await decide(world, "secretary", c, action="reject", reason="不属于联席会议职责")
    assert (await load(world, TopicProposal, c.id)).status == TopicStatus.REJECTED


async def test_a_decision_on_a_changed_proposal_is_refused(world: World) -> None:
    p = await submit(world, "liaison")
    await decide(world, "secretary", p, action="reject", reason="暂缓")
    # A second manager, still looking at the old page, decides too.
    with pytest.raises(Conflict, match="已被他人处理"):
        await decide(world, "supervisor", p, action="accept")
    stored = await load(world, TopicProposal, p.id)
    assert stored.status == TopicStatus.REJECTED and stored.reason == "暂缓"
    q = await submit(world, "dept")
    with pytest.raises(Conflict):
        await decide(world, "secretary", q, action="accept", version=str(q.version + 1))


async def test_only_managers_decide(world: World) -> None:
    p = await submit(world, "liaison")
    for username in ("liaison", "dept", "district"):
        with pytest.raises(PermissionDenied):
            await decide(world, username, p, action="accept")
    with pytest.raises(NotFound):
        await decide(world, "secretary2", p, action="accept")
    assert (await load(world, TopicProposal, p.id)).status == TopicStatus.SUBMITTED


async def test_proposers_see_their_own_and_managers_see_all(world: World) -> None:
    a = await submit(world, "liaison")
    b = await submit(world, "dept", title="占道经营治理")
    await decide(world, "secretary", b, action="reject", reason="已纳入日常执法")
    cid = await conference_id(world)

    async def titles(username: str, status: str = "") -> list[int]:
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            listing = await topics.list_topics(uow, actor, cid, status)
        return [p.id for p in listing.proposals]

    assert await titles("liaison") == [a.id]
    assert await titles("dept") == [b.id]
    assert await titles("liaison2") == []
    assert set(await titles("supervisor")) == {a.id, b.id}
    assert await titles("secretary", "rejected") == [b.id]
    assert await titles("secretary", "submitted") == [a.id]


# --- agenda ---------------------------------------------------------------------------------


async def item_titles(world: World, session_id: int) -> list[str]:
    async with world.factory() as db:
        rows = await db.scalars(
            select(AgendaItem.title)
            .where(AgendaItem.session_id == session_id)
            .order_by(AgendaItem.position)
        )
        return list(rows)


async def test_agenda_items_are_added_edited_reordered_and_removed(world: World) -> None:
    sec = await world.actor("secretary")
    s = await new_session(world)
    a = await run(world, sec, agenda.add_item, s.id, {"title": "甲"})
    b = await run(world, sec, agenda.add_item, s.id, {"title": "乙"})
    with pytest.raises(ValidationFailed) as info:
        await run(world, sec, agenda.add_item, s.id, {"title": ""})
    assert info.value.fields == {"title": "请填写议题名称。"}
    await run(world, sec, agenda.move_item, s.id, b.id, "up")
    assert await item_titles(world, s.id) == ["上次议定事项落实情况", "乙", "甲"]
    # The progress report stays first.
    await run(world, sec, agenda.move_item, s.id, b.id, "up")
    assert await item_titles(world, s.id) == ["上次议定事项落实情况", "乙", "甲"]
    progress = await world.count(AgendaItem, AgendaItem.kind == "progress")
    assert progress == 1
    await run(world, sec, agenda.update_item, s.id, a.id, a.version, {"title": "甲（修改）"})
    with pytest.raises(Conflict):
        await run(world, sec, agenda.update_item, s.id, a.id, a.version, {"title": "再改"})
    await run(world, sec, agenda.delete_item, s.id, b.id, b.version)
    assert await item_titles(world, s.id) == ["上次议定事项落实情况", "甲（修改）"]
    async with world.factory() as db:
        first = await db.scalar(
            select(AgendaItem).where(AgendaItem.session_id == s.id, AgendaItem.position == 1)
        )
    assert first is not None
    with pytest.raises(ValidationFailed, match="固定议程"):
        await run(world, sec, agenda.delete_item, s.id, first.id, first.version)
    with pytest.raises(PermissionDenied):
        await run(world, await world.actor("liaison"), agenda.add_item, s.id, {"title": "越权"})


async def test_agenda_changes_after_the_notice_bump_the_sequence_and_notify(
    world: World,
) -> None:
    sec = await world.actor("secretary")
    s = await notified_session(world)
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        first = Calendar.from_ical((await invitation(uow, liaison, s.id)).body)
    await run(world, sec, agenda.add_item, s.id, {"title": "会后增加的议题"})
    async with world.uow(liaison) as uow:
        second = Calendar.from_ical((await invitation(uow, liaison, s.id)).body)
    [e1], [e2] = first.walk("VEVENT"), second.walk("VEVENT")
    assert e2["uid"] == e1["uid"]
    assert int(e2["sequence"]) > int(e1["sequence"])
    assert "会后增加的议题" in str(e2["description"])
    assert {"liaison", "dept", "community", "liaison2"} <= await notified_users(
        world, "session.revised"
    )


async def test_the_invitation_has_beijing_times_and_a_timezone(world: World) -> None:
    s = await notified_session(world)
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        ics = await invitation(uow, liaison, s.id)
    cal = Calendar.from_ical(ics.body)
    [event] = cal.walk("VEVENT")
    assert event["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("dtstart") == s.starts_at
    assert event.decoded("dtend") == s.ends_at
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]


async def test_no_invitation_for_liaisons_before_the_notice(world: World) -> None:
    s = await new_session(world)
    liaison = await world.actor("liaison")
    with pytest.raises(NotFound):
        async with world.uow(liaison) as uow:
            await invitation(uow, liaison, s.id)


# --- replies --------------------------------------------------------------------------------


async def test_replies_for_own_unit_only_and_only_before_the_start(world: World) -> None:
    s = await notified_session(world)
    liaison = await world.actor("liaison")
    hospital = (await world.unit("和平区人民医院")).id
    school = (await world.unit("滨江市实验小学")).id
    with pytest.raises(PermissionDenied):
        await run(
            world, liaison, replies.reply, s.id, {"unit_id": str(school), "reply": "attending"}
        )
    with pytest.raises(ValidationFailed) as info:
        await run(world, liaison, replies.reply, s.id, {"reply": "leave", "reason": ""})
    assert info.value.fields == {"reason": "请假须填写事由。"}
    with pytest.raises(ValidationFailed) as info:
        await run(world, liaison, replies.reply, s.id, {"reply": "delegate"})
    assert info.value.fields == {"delegate_name": "委派代表须填写代表姓名。"}

    await run(world, liaison, replies.reply, s.id, {"reply": "delegate", "delegate_name": "王医生"})
    await run(world, liaison, replies.reply, s.id, {"reply": "leave", "reason": "手术任务"})
    async with world.factory() as db:
        [row] = list(await db.scalars(select(Attendance).where(Attendance.session_id == s.id)))
    assert (row.unit_id, row.reply, row.reply_reason, row.delegate_name) == (
        hospital,
        "leave",
        "手术任务",
        "",
    )
    late = s.starts_at + timedelta(minutes=1)
    with pytest.raises(ValidationFailed, match="会议已经开始"):
        await run(world, liaison, replies.reply, s.id, {"reply": "attending"}, now=late)


async def test_replies_open_with_the_notice_and_observers_reply_too(world: World) -> None:
    observer = await observer_liaison(world)
    s = await new_session(world)
    with pytest.raises(ValidationFailed, match="通知发出后"):
        await run(world, observer, replies.reply, s.id, {"reply": "attending"})
    s = await notified_session(world)
    await run(world, observer, replies.reply, s.id, {"reply": "attending"})
    sec = await world.actor("secretary")
    async with world.uow(sec) as uow:
        prep = await session_prep(uow, sec, s.id)
    by_unit = {r.unit.name: r.reply for r in prep.replies}
    assert by_unit["和平区人民武装部"] == "attending"
    assert by_unit["和平区人民医院"] == "none"
    assert prep.counts["attending"] == 1


# --- materials -------------------------------------------------------------------------------


async def test_materials_upload_and_download_by_readers_only(world: World) -> None:
    sec = await world.actor("secretary")
    s = await new_session(world)
    m = await run(
        world,
        sec,
        materials.upload_material,
        s.id,
        "C:\\材料\\汇报.pdf",
        "application/pdf",
        b"%PDF",
    )
    assert m.filename == "汇报.pdf" and m.size == 4
    with pytest.raises(ValidationFailed) as info:
        await run(
            world,
            sec,
            materials.upload_material,
            s.id,
            "big.bin",
            "application/octet-stream",
            b"x" * (MATERIAL_MAX_BYTES + 1),
        )
    assert info.value.fields == {"file": "单个文件不能超过 10 MB。"}
    with pytest.raises(PermissionDenied):
        await run(
            world,
            await world.actor("liaison"),
            materials.upload_material,
            s.id,
            "a.txt",
            "text/plain",
            b"a",
        )
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        got = await materials.download_material(uow, liaison, m.id)
    assert got.data == b"%PDF"
    outsider = await world.actor("secretary2")
    with pytest.raises(NotFound):
        async with world.uow(outsider) as uow:
            await materials.download_material(uow, outsider, m.id)


# --- the progress report ---------------------------------------------------------------------


async def test_the_progress_item_shows_earlier_decisions(world: World) -> None:
    sec = await world.actor("secretary")
    cid = await conference_id(world)
    hospital = await world.unit("和平区人民医院")
    police = await world.unit("新华派出所")
    async with world.uow() as uow:
        earlier = MeetingSession(
            conference_id=cid,
            year=2026,
            title="上一次例会",
            starts_at=NOW - timedelta(days=60),
            ends_at=NOW - timedelta(days=60) + timedelta(hours=2),
            state=SessionState.ISSUED.value,
            signin_secret="s",
            created_by_id=sec.user_id,
        )
        uow.session.add(earlier)
        await uow.flush()
        item = AgendaItem(session_id=earlier.id, position=1, title="议题")
        uow.session.add(item)
        await uow.flush()
        for title, state, deadline in [
            ("义诊进社区", "done", date(2026, 1, 10)),
            ("电梯加装摸底", "in_progress", NOW.date() - timedelta(days=3)),
        ]:
            uow.session.add(
                Decision(
                    session_id=earlier.id,
                    item_id=item.id,
                    title=title,
                    lead_unit_id=hospital.id,
                    assisting_unit_ids=str(police.id),
                    deadline=deadline,
                    follow_state=state,
                    progress_note="已完成摸底 60%" if state == "in_progress" else "",
                    created_by_id=sec.user_id,
                )
            )
        await uow.commit()
    s = await new_session(world)
    async with world.uow(sec) as uow:
        prep = await session_prep(uow, sec, s.id, now=NOW)
    rows = [(r.decision.title, r.decision.follow_state, r.overdue) for r in prep.progress]
    assert rows == [("电梯加装摸底", "in_progress", True), ("义诊进社区", "done", False)]
    assert prep.progress[0].decision.lead_unit.name == "和平区人民医院"
    assert prep.assisting == {police.id: "新华派出所"}
