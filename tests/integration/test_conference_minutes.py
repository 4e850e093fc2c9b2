"""Minutes after the session, against SQLite and PostgreSQL: draft, edit, co-sign, issue,
archive, and the archive search."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from domain.conference import archive as arc
from domain.conference import minutes as svc
from domain.conference.minutes import create_draft
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from domain.models import MeetingSession, Minutes, MinutesSignature, Notification, User
from domain.permissions import Actor
from tests.integration.conftest import World
from tests.minutes_data import (
    COMMUNITY,
    HOSPITAL,
    POLICE,
    TOWER,
    HeldSession,
    held_session,
    police_actor,
)


async def _minutes(world: World, held: HeldSession) -> Minutes:
    async with world.factory() as s:
        found = await s.scalar(select(Minutes).where(Minutes.session_id == held.session_id))
    assert found is not None
    return found


async def _session(world: World, held: HeldSession) -> MeetingSession:
    async with world.factory() as s:
        found = await s.get(MeetingSession, held.session_id)
    assert found is not None
    return found


async def _notified(world: World, username: str, kind: str) -> list[Notification]:
    async with world.factory() as s:
        return list(
            await s.scalars(
                select(Notification)
                .join(User, User.id == Notification.user_id)
                .where(User.username == username, Notification.kind == kind)
            )
        )


async def _police(world: World, held: HeldSession) -> Actor:
    return police_actor(held, (await world.user("dept")).id)


async def _do(world: World, actor: Actor, call, *args):  # type: ignore[no-untyped-def]
    async with world.uow(actor) as uow:
        result = await call(uow, actor, *args)
        await uow.commit()
    return result


async def _start(world: World, held: HeldSession) -> None:
    version = (await _minutes(world, held)).version
    await _do(world, await world.actor("secretary"), svc.start_co_signing, held.session_id, version)


async def _sign_all(world: World, held: HeldSession) -> None:
    for username, unit in (("liaison", HOSPITAL), ("community", COMMUNITY), ("liaison2", TOWER)):
        await _do(world, await world.actor(username), svc.sign, held.session_id, held.units[unit])
    await _do(world, await _police(world, held), svc.sign, held.session_id, held.units[POLICE])


# --- the draft ------------------------------------------------------------------------


async def test_draft_is_written_from_the_session_record(world: World) -> None:
    held = await held_session(world.factory)
    body = (await _minutes(world, held)).body

    assert body.startswith("新华街道党建联席会议\n2026年第一季度党建联席会议例会 会议纪要\n")
    # 06:30 UTC is 14:30 in Beijing; closed 95 minutes after opening.
    assert "时间：2026年3月18日（星期三）14:30—16:05" in body
    assert "地点：新华街道党群服务中心三楼会议室" in body
    assert "召集人：张秀兰" in body
    assert (
        "应出席成员单位 4 个，实际出席 2 个（其中委派代表出席 1 个），请假 1 个，缺席 1 个。"
        in body
    )
    assert f"出席单位：{HOSPITAL}。" in body
    assert f"委派代表出席：{COMMUNITY}（代表：王敏）。" in body
    assert f"请假单位：{TOWER}（事由：参加市里培训）。" in body
    assert f"缺席单位（未请假）：{POLICE}。" in body
    assert "列席单位：和平区人民武装部。" in body
    # Agenda in order, each with its notes, the vote under its item.
    first = body.index("（一）上次议定事项落实情况")
    second = body.index("（二）社区治安联防机制")
    assert first < second
    assert "已办结 2 项" in body[first:second]
    assert "讨论情况：派出所介绍了警情" in body[second:]
    assert (
        "表决事项：同意建立新华路沿线社区治安联防队。赞成 3 票，反对 0 票，弃权 1 票，表决通过。"
        in body
    )
    decisions = body[body.index("三、议定事项") :]
    assert "1. 建立新华路沿线社区治安联防队。" in decisions
    assert (
        f"牵头单位：{POLICE}；协办单位：{HOSPITAL}、{TOWER}；完成时限：2026年6月30日。" in decisions
    )
    assert [e.object_id for e in await world.audit("minutes.draft")] == [str(held.session_id)]


async def test_create_draft_is_idempotent(world: World) -> None:
    held = await held_session(world.factory)
    first = await _minutes(world, held)
    async with world.uow(await world.actor("secretary")) as uow:
        session = await uow.session.get(MeetingSession, held.session_id)
        assert session is not None
        again = await create_draft(uow, session)
        await uow.commit()
    assert again.id == first.id
    assert await world.count(Minutes, Minutes.session_id == held.session_id) == 1


async def test_closing_the_room_drafts_the_minutes(world: World) -> None:
    """The meeting room's close calls `create_draft` in its own transaction."""
    from domain.conference.meeting import close_session

    held = await held_session(world.factory, closed=False)
    assert await world.count(Minutes, Minutes.session_id == held.session_id) == 0
    await _do(world, await world.actor("secretary"), close_session, held.session_id)

    session = await _session(world, held)
    assert session.state == "minutes_draft" and session.closed_at is not None
    body = (await _minutes(world, held)).body
    assert f"缺席单位（未请假）：{POLICE}。" in body
    assert "表决通过。" in body and "牵头单位：新华派出所" in body


# --- editing --------------------------------------------------------------------------


async def test_secretariat_edits_and_a_stale_version_is_refused(world: World) -> None:
    held = await held_session(world.factory)
    v1 = (await _minutes(world, held)).version
    supervisor = await world.actor("supervisor")  # the secretariat, not the convener

    await _do(world, supervisor, svc.save_body, held.session_id, v1, "第一版修改\r\n正文")
    saved = await _minutes(world, held)
    assert saved.body == "第一版修改\n正文\n"
    assert saved.version == v1 + 1

    with pytest.raises(Conflict) as stale:
        await _do(world, await world.actor("secretary"), svc.save_body, held.session_id, v1, "旧")
    assert "已被他人修改" in stale.value.message
    assert (await _minutes(world, held)).body == "第一版修改\n正文\n"

    with pytest.raises(ValidationFailed) as empty:
        await _do(world, supervisor, svc.save_body, held.session_id, saved.version, "  \n ")
    assert empty.value.fields == {"body": "纪要正文不能为空。"}
    assert len(await world.audit("minutes.edit", held.session_id)) == 1


async def test_only_managers_edit(world: World) -> None:
    held = await held_session(world.factory)
    version = (await _minutes(world, held)).version
    with pytest.raises(PermissionDenied):
        await _do(world, await world.actor("liaison"), svc.save_body, held.session_id, version, "x")
    # Another street's secretary does not even see the session.
    with pytest.raises(NotFound):
        await _do(world, await world.actor("secretary2"), svc.minutes_view, held.session_id)


# --- co-signing -----------------------------------------------------------------------


async def test_co_signing_notifies_every_member_unit_and_freezes_the_text(world: World) -> None:
    held = await held_session(world.factory)
    version = (await _minutes(world, held)).version
    secretary = await world.actor("secretary")
    with pytest.raises(ValidationFailed, match="尚未发起会签"):
        await _do(
            world, await world.actor("liaison"), svc.sign, held.session_id, held.units[HOSPITAL]
        )
    with pytest.raises(Conflict):
        await _do(world, secretary, svc.start_co_signing, held.session_id, version - 1)

    await _do(world, secretary, svc.start_co_signing, held.session_id, version)

    assert (await _session(world, held)).state == "co_signing"
    for username in ("liaison", "community", "liaison2"):
        notes = await _notified(world, username, "minutes.co_signing")
        assert [n.link for n in notes] == [f"/sessions/{held.session_id}/minutes"]
    assert await _notified(world, "dept", "minutes.co_signing") == []  # not a member unit now
    frozen = (await _minutes(world, held)).version
    with pytest.raises(ValidationFailed, match="正在会签"):
        await _do(world, secretary, svc.save_body, held.session_id, frozen, "改")
    with pytest.raises(ValidationFailed, match="已在会签中"):
        await _do(world, secretary, svc.start_co_signing, held.session_id, frozen)
    assert [e.after for e in await world.audit("minutes.co_signing", held.session_id)] == [
        {"state": "co_signing", "number": None}
    ]


async def test_a_liaison_signs_for_their_own_unit_once(world: World) -> None:
    held = await held_session(world.factory)
    await _start(world, held)
    liaison = await world.actor("liaison")

    with pytest.raises(PermissionDenied):
        await _do(world, liaison, svc.sign, held.session_id, held.units[POLICE])
    with pytest.raises(PermissionDenied):  # managers do not sign for units they do not act for
        await _do(
            world, await world.actor("secretary"), svc.sign, held.session_id, held.units[POLICE]
        )
    with pytest.raises(ValidationFailed) as long:
        await _do(world, liaison, svc.sign, held.session_id, held.units[HOSPITAL], "长" * 301)
    assert "comment" in long.value.fields

    await _do(world, liaison, svc.sign, held.session_id, held.units[HOSPITAL], "同意。")
    with pytest.raises(ValidationFailed) as twice:
        await _do(world, liaison, svc.sign, held.session_id, held.units[HOSPITAL])
    assert twice.value.message == "本单位已由李红梅会签，无需重复会签。"

    view = await _do(world, await world.actor("secretary"), svc.minutes_view, held.session_id)
    assert view.signed_count == 1
    assert [(s.unit_name, s.user_name, s.comment) for s in view.signatures] == [
        (HOSPITAL, "李红梅", "同意。")
    ]
    assert {name for _uid, name in view.missing} == {COMMUNITY, TOWER, POLICE}
    assert not view.all_signed


async def test_two_browsers_signing_at_once_leave_one_signature(world: World) -> None:
    held = await held_session(world.factory)
    await _start(world, held)
    liaison = await world.actor("liaison")

    async def attempt() -> str:
        try:
            await _do(world, liaison, svc.sign, held.session_id, held.units[HOSPITAL])
        except DomainError as exc:
            assert isinstance(exc, ValidationFailed | Conflict)
            return "refused"
        return "signed"

    outcomes = await asyncio.gather(attempt(), attempt())

    assert sorted(outcomes) == ["refused", "signed"]
    assert await world.count(MinutesSignature) == 1


async def test_a_second_browser_waiting_on_the_first_is_refused(world: World) -> None:
    held = await held_session(world.factory)
    await _start(world, held)
    liaison = await world.actor("liaison")
    unit = held.units[HOSPITAL]

    async with world.uow(liaison) as first:
        await svc.sign(first, liaison, held.session_id, unit, "第一个浏览器")
        second = asyncio.create_task(_do(world, liaison, svc.sign, held.session_id, unit, "第二个"))
        await asyncio.sleep(0.5)
        assert not second.done()  # waiting for the first to commit or roll back
        await first.commit()
    with pytest.raises(ValidationFailed, match="本单位已由李红梅会签"):
        await second

    async with world.factory() as s:
        comments = list(await s.scalars(select(MinutesSignature.comment)))
    assert comments == ["第一个浏览器"]


async def test_reopen_returns_to_draft_and_drops_the_signatures(world: World) -> None:
    held = await held_session(world.factory)
    await _start(world, held)
    await _do(world, await world.actor("liaison"), svc.sign, held.session_id, held.units[HOSPITAL])

    await _do(world, await world.actor("secretary"), svc.reopen_draft, held.session_id)

    assert (await _session(world, held)).state == "minutes_draft"
    assert await world.count(MinutesSignature) == 0
    assert len(await _notified(world, "liaison", "minutes.reopen")) == 1


# --- issuing --------------------------------------------------------------------------


async def test_issue_only_when_every_member_unit_signed(world: World) -> None:
    held = await held_session(world.factory)
    secretary = await world.actor("secretary")
    with pytest.raises(ValidationFailed, match="尚未会签"):
        await _do(world, secretary, svc.issue, held.session_id)
    await _start(world, held)
    await _do(world, await world.actor("liaison"), svc.sign, held.session_id, held.units[HOSPITAL])

    with pytest.raises(ValidationFailed) as missing:
        await _do(world, secretary, svc.issue, held.session_id)
    assert "还有 3 个成员单位未会签" in missing.value.message
    assert POLICE in missing.value.message

    reminded = await _do(world, secretary, svc.remind, held.session_id)
    assert reminded == 3
    assert len(await _notified(world, "community", "minutes.remind")) == 1
    assert await _notified(world, "liaison", "minutes.remind") == []  # already signed
    with pytest.raises(PermissionDenied):
        await _do(world, await world.actor("liaison"), svc.remind, held.session_id)

    await _sign_all_but(world, held, HOSPITAL)
    with pytest.raises(PermissionDenied):
        await _do(world, await world.actor("liaison"), svc.issue, held.session_id)
    minutes = await _do(world, secretary, svc.issue, held.session_id)

    assert minutes.number_label == "〔2026〕第1次"
    session = await _session(world, held)
    assert (session.state, session.number) == ("issued", 1)
    stored = await _minutes(world, held)
    assert stored.issued_at is not None and stored.number_label == "〔2026〕第1次"
    assert len(await _notified(world, "liaison2", "minutes.issue")) == 1
    [entry] = await world.audit("minutes.issue", held.session_id)
    assert entry.before == {"state": "co_signing"}
    assert entry.after == {"state": "issued", "number": 1}


async def _sign_all_but(world: World, held: HeldSession, done: str) -> None:
    for username, unit in (("liaison", HOSPITAL), ("community", COMMUNITY), ("liaison2", TOWER)):
        if unit != done:
            await _do(
                world, await world.actor(username), svc.sign, held.session_id, held.units[unit]
            )
    await _do(world, await _police(world, held), svc.sign, held.session_id, held.units[POLICE])


async def _issue(world: World, held: HeldSession) -> Minutes:
    await _start(world, held)
    await _sign_all(world, held)
    result: Minutes = await _do(world, await world.actor("secretary"), svc.issue, held.session_id)
    return result


async def test_numbers_count_per_conference_and_year(world: World) -> None:
    first = await held_session(world.factory, title="第一次")
    second = await held_session(world.factory, title="第二次", narrow=False)
    next_year = await held_session(
        world.factory, title="次年第一次", starts_at=datetime(2027, 1, 12, 2, tzinfo=UTC)
    )
    assert (await _issue(world, first)).number_label == "〔2026〕第1次"
    assert (await _issue(world, next_year)).number_label == "〔2027〕第1次"
    assert (await _issue(world, second)).number_label == "〔2026〕第2次"


async def test_two_sessions_issued_at_once_get_different_numbers(world: World) -> None:
    a = await held_session(world.factory, title="甲")
    b = await held_session(world.factory, title="乙", narrow=False)
    for held in (a, b):
        await _start(world, held)
        await _sign_all(world, held)
    secretary = await world.actor("secretary")

    async with world.uow(secretary) as first:
        issued_a = await svc.issue(first, secretary, a.session_id)
        # The second issue starts while the first is still uncommitted: it must wait for
        # it rather than count the same "last number" and take 第1次 as well.
        second = asyncio.create_task(_do(world, secretary, svc.issue, b.session_id))
        await asyncio.sleep(0.5)
        assert not second.done()
        await first.commit()
    issued_b = await second

    assert (issued_a.number_label, issued_b.number_label) == ("〔2026〕第1次", "〔2026〕第2次")


async def test_issued_minutes_are_immutable_then_archived(world: World) -> None:
    held = await held_session(world.factory)
    minutes = await _issue(world, held)
    secretary = await world.actor("secretary")
    sid = held.session_id
    attempts = [
        (secretary, svc.save_body, (sid, minutes.version, "篡改")),
        (secretary, svc.start_co_signing, (sid, minutes.version)),
        (secretary, svc.reopen_draft, (sid,)),
        (secretary, svc.remind, (sid,)),
        (secretary, svc.issue, (sid,)),
        (await world.actor("liaison"), svc.sign, (sid, held.units[HOSPITAL])),
    ]
    for actor, call, args in attempts:
        with pytest.raises(ValidationFailed) as refused:
            await _do(world, actor, call, *args)
        assert refused.value.message == "会议纪要已印发，不能再修改。", call
    stored = await _minutes(world, held)
    assert stored.body == minutes.body and stored.number_label == "〔2026〕第1次"

    with pytest.raises(PermissionDenied):
        await _do(world, await world.actor("liaison"), svc.archive, sid)
    await _do(world, secretary, svc.archive, sid)
    assert (await _session(world, held)).state == "archived"
    with pytest.raises(ValidationFailed, match="已归档"):
        await _do(world, secretary, svc.archive, sid)
    with pytest.raises(ValidationFailed, match="已印发"):
        await _do(world, secretary, svc.save_body, sid, stored.version, "篡改")
    assert len(await world.audit("session.archive", sid)) == 1


# --- the archive ----------------------------------------------------------------------


async def _search(world: World, held: HeldSession, **raw: str) -> list[str]:
    reader = await world.actor("liaison")  # any reader of the conference
    query = arc.parse_query(raw)
    page = await _do(world, reader, arc.search_archive, held.conference_id, query)
    return [row.session.title for row in page.rows]


async def test_archive_search_by_text_date_and_unit(world: World) -> None:
    spring = await held_session(world.factory, title="春季例会")
    await held_session(
        world.factory,
        title="夏季例会",
        starts_at=datetime(2026, 6, 20, 1, tzinfo=UTC),
        topic="背街小巷环境整治",
        decision="整治文化里背街小巷",
        narrow=False,
    )
    # A substring inside a longer Chinese phrase, in the agenda (not the title).
    assert await _search(world, spring, q="联防") == ["春季例会"]
    assert await _search(world, spring, q="环境整治") == ["夏季例会"]
    assert await _search(world, spring, q="例会") == ["夏季例会", "春季例会"]
    assert await _search(world, spring, q="100%_") == []
    # Dates are days in Beijing time, both ends included.
    assert await _search(world, spring, date_from="2026-06-20") == ["夏季例会"]
    assert await _search(world, spring, date_to="2026-03-18") == ["春季例会"]
    assert await _search(world, spring, date_from="2026-03-19", date_to="2026-06-19") == []
    # By unit: topic and lead (police), assisting and attending (hospital), nothing (school).
    units = spring.units
    assert await _search(world, spring, unit_id=str(units[POLICE])) == ["夏季例会", "春季例会"]
    assert await _search(world, spring, unit_id=str(units[TOWER]), q="联防") == ["春季例会"]
    assert await _search(world, spring, unit_id=str(units["滨江市实验小学"])) == []
    # Issued only.
    await _issue(world, spring)
    assert await _search(world, spring, state="issued") == ["春季例会"]
    assert await _search(world, spring, state="pending") == ["夏季例会"]


async def test_archive_rejects_bad_filters_with_messages(world: World) -> None:
    with pytest.raises(ValidationFailed) as bad:
        arc.parse_query({"date_from": "2026-13-01", "date_to": "x", "unit_id": "abc"})
    assert bad.value.fields == {
        "date_from": "日期格式应为 2026-03-18。",
        "date_to": "日期格式应为 2026-03-18。",
        "unit_id": "请从列表中选择单位。",
    }
    with pytest.raises(ValidationFailed) as order:
        arc.parse_query({"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert order.value.fields == {"date_to": "结束日期不能早于开始日期。"}
    assert arc.parse_query({"page": "3", "q": " 联防 "}) == arc.ArchiveQuery(q="联防", page=3)
    assert arc.parse_query({"date_from": "2026-05-01"}).date_from == date(2026, 5, 1)


async def test_archive_is_paginated_and_private_to_the_street(world: World) -> None:
    held = await held_session(world.factory, title="第 0 次")
    for i in range(1, arc.PAGE_SIZE + 2):
        await held_session(
            world.factory,
            title=f"第 {i} 次",
            starts_at=datetime(2026, 4, 1, tzinfo=UTC),
            narrow=False,
        )
    reader = await world.actor("community")
    first = await _do(world, reader, arc.search_archive, held.conference_id, arc.ArchiveQuery())
    last = await _do(
        world, reader, arc.search_archive, held.conference_id, arc.ArchiveQuery(page=2)
    )
    assert first.total == arc.PAGE_SIZE + 2 and first.pages == 2
    assert len(first.rows) == arc.PAGE_SIZE and len(last.rows) == 2
    assert last.rows[-1].session.title == "第 0 次"  # oldest last
    assert all(row.has_minutes and row.items == 2 and row.decisions == 1 for row in first.rows)
    with pytest.raises(NotFound):
        await _do(
            world,
            await world.actor("secretary2"),
            arc.search_archive,
            held.conference_id,
            arc.ArchiveQuery(),
        )
