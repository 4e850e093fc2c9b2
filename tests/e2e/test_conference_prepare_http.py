"""Conference set-up and session preparation through HTTP: pages, forms that keep what was
typed, CSRF, refusals by role, downloads and the .ics invitation; and, in real Chromium,
a liaison's pages following the preparation live."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import select
from starlette.applications import Starlette

from domain.conference.rules import to_beijing_input
from domain.models import (
    AgendaItem,
    Conference,
    ConferenceMember,
    Decision,
    Event,
    MeetingSession,
    Notification,
    SecretariatMember,
    TopicProposal,
    Unit,
)
from domain.models.base import utcnow
from tests.conftest import Browser, soup
from tests.e2e.support import count, field_error, flash_text, input_value, org_id, unit_id
from tests.live_server import ARTIFACTS, CHROMIUM_ARGS, live_server
from tests.services import CHROMIUM, chromium_available, require_service

NewBrowser = Callable[[], Browser]
START = (utcnow() + timedelta(days=30)).replace(second=0, microsecond=0)


async def conference_id(app: Starlette, street: str = "新华街道") -> int:
    sid = await org_id(app, street)
    async with app.state.session_factory() as s:
        cid = await s.scalar(select(Conference.id).where(Conference.organization_id == sid))
    assert cid is not None
    return int(cid)


def session_form(**overrides: str) -> dict[str, str]:
    form = {
        "title": "第四季度例会",
        "kind": "regular",
        "starts_at": to_beijing_input(START),
        "ends_at": to_beijing_input(START + timedelta(hours=2)),
        "mode": "in_person",
        "place": "党群服务中心",
    }
    form.update(overrides)
    return form


async def logged_in(new_browser: NewBrowser, username: str) -> Browser:
    b = new_browser()
    assert (await b.login(username)).status_code == 303
    return b


async def create_session(app: Starlette, b: Browser, **form: str) -> int:
    r = await b.post(f"/conferences/{await conference_id(app)}/sessions", session_form(**form))
    assert r.status_code == 303, r.text[:500]
    return int(r.headers["location"].split("/")[2].split("?")[0])


async def session_state(app: Starlette, sid: int) -> MeetingSession:
    async with app.state.session_factory() as s:
        found = await s.get(MeetingSession, sid)
    assert found is not None
    return found


async def step(b: Browser, app: Starlette, sid: int, path: str) -> httpx.Response:
    version = (await session_state(app, sid)).version
    return await b.post(f"/sessions/{sid}/{path}", {"version": str(version)})


async def to_notice(app: Starlette, b: Browser, sid: int) -> None:
    assert (await step(b, app, sid, "call")).status_code == 303
    assert (await b.post(f"/sessions/{sid}/items", {"title": "背街小巷整治"})).status_code == 303
    assert (await step(b, app, sid, "fix-agenda")).status_code == 303
    assert (await step(b, app, sid, "notice")).status_code == 303


# --- landing and overview ----------------------------------------------------------------


async def test_the_nav_leads_staff_to_their_streets_conference(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    b = await logged_in(new_browser, "liaison")
    home = soup(await b.get("/"))
    assert home.select_one('nav.nav a[href="/conference"]').get_text(strip=True) == "联席会议"
    r = await b.get("/conference")
    assert r.status_code == 303
    assert r.headers["location"] == f"/conferences/{await conference_id(web_app)}"
    member = await logged_in(new_browser, "member")
    assert soup(await member.get("/")).select_one('nav.nav a[href="/conference"]') is None
    # A party member as such takes no part in the conference: no list, no redirect.
    r = await member.get("/conference")
    assert r.status_code == 200 and soup(r).select_one("#conference-list") is None
    assert "不在任何街道的联席会议范围内" in r.text


async def test_admin_and_district_viewer_get_a_list(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    for username in ("admin", "district"):
        b = await logged_in(new_browser, username)
        r = await b.get("/conference")
        assert r.status_code == 200
        names = [a.get_text(strip=True) for a in soup(r).select("#conference-list a")]
        assert names == ["新华街道党建联席会议", "长安街道党建联席会议"]


async def test_a_street_without_a_conference_offers_its_secretary_to_create_one(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    cid = await conference_id(web_app, "长安街道")
    async with web_app.state.session_factory() as s:
        for model in (ConferenceMember, SecretariatMember):
            for row in await s.scalars(select(model).where(model.conference_id == cid)):
                await s.delete(row)
        await s.delete(await s.get(Conference, cid))
        await s.commit()
    liaison3 = await logged_in(new_browser, "liaison3")
    page = soup(await liaison3.get("/conference"))
    assert "尚未建立" in page.select_one("#conference-list").get_text()
    assert page.select_one('form[action="/conference"]') is None

    b = await logged_in(new_browser, "secretary2")
    page = soup(await b.get("/conference"))
    street = page.select_one('form[action="/conference"] input[name="street_id"]')["value"]
    assert street == str(await org_id(web_app, "长安街道"))
    assert (await liaison3.post("/conference", {"street_id": street})).status_code == 403
    r = await b.post("/conference", {"street_id": street})
    assert r.status_code == 303
    overview = soup(await b.get(r.headers["location"]))
    assert "联席会议已建立" in overview.select_one(".alert-ok").get_text()
    rows = overview.select("#member-table tbody tr")
    # Every active unit of the street became a member.
    assert len(rows) == await count(web_app, Unit, Unit.street_id == int(street), Unit.active)
    assert len(rows) == 13


async def test_overview_shows_members_duties_roles_rotation_and_secretariat(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    b = await logged_in(new_browser, "liaison")
    doc = soup(await b.get(f"/conferences/{await conference_id(web_app)}"))
    row = doc.select_one(
        f'#member-table tr[data-unit-id="{await unit_id(web_app, "和平区人民医院")}"]'
    )
    assert "牵头社区健康服务" in row.get_text() and "成员单位" in row.get_text()
    army = doc.select_one(
        f'#member-table tr[data-unit-id="{await unit_id(web_app, "和平区人民武装部")}"]'
    )
    assert "列席单位" in army.get_text()
    facts = doc.select_one("#conf-setup .facts").get_text(" ", strip=True)
    assert "张秀兰" in facts and "刘志刚" in facts and "2026 年：和平区人民医院" in facts
    # A liaison reads; the set-up forms are for managers.
    assert doc.select_one("#member-form") is None
    assert doc.select_one("#conf-setup[data-live-region]") is not None


async def test_member_form_keeps_input_and_explains_in_chinese(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    b = await logged_in(new_browser, "secretary")
    cid = await conference_id(web_app)
    other_street_unit = await unit_id(web_app, "滨江日报社")
    r = await b.post(
        f"/conferences/{cid}/members",
        {
            "unit_id": str(other_street_unit),
            "role": "observer",
            "duties": "<b>宣传</b>",
            "active": "on",
        },
    )
    assert r.status_code == 400
    doc = soup(r)
    assert field_error(doc, "unit_id") in {"只能添加本街道的单位。", "请选择在册单位。"}
    assert doc.select_one("#f-duties").get_text() == "<b>宣传</b>"
    assert doc.select_one('#f-role option[value="observer"]').has_attr("selected")
    assert "请修正" in flash_text(r)

    school = await unit_id(web_app, "滨江市实验小学")
    r = await b.post(
        f"/conferences/{cid}/members",
        {"unit_id": str(school), "role": "observer", "duties": "校园周边安全", "active": "on"},
    )
    assert r.status_code == 303
    doc = soup(await b.get(f"/conferences/{cid}"))
    row = doc.select_one(f'#member-table tr[data-unit-id="{school}"]').get_text()
    assert "列席单位" in row and "校园周边安全" in row


async def test_secretariat_rotation_and_committee_forms(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    b = await logged_in(new_browser, "secretary")
    cid = await conference_id(web_app)
    r = await b.post(f"/conferences/{cid}/secretariat", {"username": "nobody", "action": "add"})
    assert r.status_code == 400
    box = soup(r).select_one("#secretariat-form")
    assert field_error(box, "username") == "没有这个用户，或该账号已停用。"
    assert input_value(box, "username") == "nobody"
    assert (
        await b.post(f"/conferences/{cid}/secretariat", {"username": "dept", "action": "add"})
    ).status_code == 303
    assert await count(web_app, SecretariatMember, SecretariatMember.conference_id == cid) == 2

    r = await b.post(f"/conferences/{cid}/rotation", {"year": "26", "unit_id": ""})
    assert r.status_code == 400
    assert field_error(soup(r), "year") == "请填写四位年份。"
    hospital = await unit_id(web_app, "新华派出所")
    r = await b.post(f"/conferences/{cid}/rotation", {"year": "2027", "unit_id": str(hospital)})
    assert r.status_code == 303
    facts = soup(await b.get(f"/conferences/{cid}")).select_one("#conf-setup").get_text()
    assert "2027 年：新华派出所" in facts

    police = str(await unit_id(web_app, "新华派出所"))
    r = await b.post(f"/conferences/{cid}/committees", {"name": "", "unit_ids": police})
    assert r.status_code == 400
    doc = soup(r)
    assert "专委会名称" in field_error(doc, "name")
    assert doc.select_one(f'#committee-form input[value="{police}"]').has_attr("checked")


async def test_set_up_forms_are_refused_to_liaisons(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    b = await logged_in(new_browser, "liaison")
    cid = await conference_id(web_app)
    r = await b.post(f"/conferences/{cid}/secretariat", {"username": "liaison", "action": "add"})
    assert r.status_code == 403
    assert "只有召集人或秘书处" in r.text
    other = await logged_in(new_browser, "secretary2")
    assert (await other.get(f"/conferences/{cid}")).status_code == 404


# --- sessions ----------------------------------------------------------------------------


async def test_session_form_keeps_input_and_gives_field_errors(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    b = await logged_in(new_browser, "secretary")
    cid = await conference_id(web_app)
    new = soup(await b.get(f"/conferences/{cid}/sessions/new"))
    assert new.select_one("#f-starts_at")["type"] == "datetime-local"
    past = to_beijing_input(utcnow() - timedelta(days=1))
    typed = session_form(title="", starts_at=past, ends_at=past, place="三楼 <会议室>")
    r = await b.post(f"/conferences/{cid}/sessions", typed)
    assert r.status_code == 400
    doc = soup(r)
    assert field_error(doc, "title") == "请填写会议名称。"
    assert field_error(doc, "starts_at") == "开始时间不能早于现在。"
    assert field_error(doc, "ends_at") == "结束时间须晚于开始时间。"
    assert input_value(doc, "starts_at") == past
    assert input_value(doc, "place") == "三楼 <会议室>"
    assert await count(web_app, MeetingSession) == 0


async def test_a_session_page_shows_details_in_beijing_time_and_the_progress_item(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    b = await logged_in(new_browser, "secretary")
    sid = await create_session(web_app, b, starts_at="2027-01-15T14:30", ends_at="2027-01-15T16:00")
    assert (await session_state(web_app, sid)).starts_at == datetime(2027, 1, 15, 6, 30, tzinfo=UTC)
    r = await b.get(f"/sessions/{sid}?done=created")
    doc = soup(r)
    assert "2027-01-15 14:30–16:00" in doc.select_one("#session-head .facts").get_text()
    assert doc.select_one("#session-state").get_text(strip=True) == "筹备中"
    first = doc.select_one("#session-agenda .agenda-item")
    assert first["data-kind"] == "progress" and "上次议定事项落实情况" in first.get_text()
    assert doc.select_one("#progress-decisions[data-live-region]") is not None
    assert [f["action"] for f in doc.select(".session-actions form")] == [f"/sessions/{sid}/call"]
    # The page follows its street live.
    ws = doc.select_one("#live")["ws-connect"]
    assert f"street%3A{await org_id(web_app, '新华街道')}" in ws


async def test_the_whole_preparation_through_the_pages(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    sec = await logged_in(new_browser, "secretary")
    liaison = await logged_in(new_browser, "liaison")
    cid = await conference_id(web_app)
    sid = await create_session(web_app, sec)

    # A liaison cannot move the session on; the manager opens the call.
    assert (await step(liaison, web_app, sid, "call")).status_code == 403
    assert (await step(sec, web_app, sid, "call")).status_code == 303
    assert (await session_state(web_app, sid)).state == "calling_topics"

    # The liaison proposes for this session; the title is required.
    topics_page = soup(await liaison.get(f"/conferences/{cid}/topics"))
    assert f'value="{sid}"' in str(topics_page.select_one("#f-session_id"))
    r = await liaison.post(
        f"/conferences/{cid}/topics", {"session_id": str(sid), "title": "", "background": "背景"}
    )
    assert r.status_code == 400
    assert field_error(soup(r), "title") == "请填写议题名称。"
    assert soup(r).select_one("#f-background").get_text() == "背景"
    r = await liaison.post(
        f"/conferences/{cid}/topics", {"session_id": str(sid), "title": "社区义诊常态化"}
    )
    assert r.status_code == 303
    async with web_app.state.session_factory() as s:
        proposal = await s.scalar(select(TopicProposal))
    assert proposal is not None

    # Rejecting without a reason re-renders that proposal's form, open, with the message.
    r = await sec.post(
        f"/topics/{proposal.id}/decide",
        {"action": "reject", "version": str(proposal.version), "reason": ""},
    )
    assert r.status_code == 400
    box = soup(r).select_one(f"#topic-{proposal.id} details")
    assert box.has_attr("open") and "不予采纳须说明理由。" in box.get_text()
    r = await sec.post(
        f"/topics/{proposal.id}/decide",
        {"action": "accept", "version": str(proposal.version), "session_id": str(sid)},
    )
    assert r.status_code == 303
    # A second decision from a stale page is refused with the reason.
    r = await sec.post(
        f"/topics/{proposal.id}/decide",
        {"action": "reject", "version": str(proposal.version), "reason": "重复"},
    )
    assert r.status_code == 409
    assert "已被他人处理" in flash_text(r)
    mine = soup(await liaison.get(f"/conferences/{cid}/topics"))
    assert mine.select_one(f"#topic-{proposal.id} .topic-status").get_text(strip=True) == "已采纳"

    # The agenda now holds the topic; fixing it and sending the notice.
    agenda = soup(await sec.get(f"/sessions/{sid}")).select("#session-agenda .agenda-title")
    assert [a.get_text(" ", strip=True) for a in agenda][1] == "社区义诊常态化"
    assert (await step(sec, web_app, sid, "fix-agenda")).status_code == 303
    r = await step(sec, web_app, sid, "notice")
    assert r.status_code == 303 and "late" not in r.headers["location"]
    page = soup(await sec.get(r.headers["location"]))
    assert page.select_one("#session-state").get_text(strip=True) == "已通知"
    assert page.select_one("#room-link")["href"] == f"/sessions/{sid}/room"
    async with web_app.state.session_factory() as s:
        kinds = set(await s.scalars(select(Notification.kind)))
    assert {"topic.call", "topic.decided", "session.notice"} <= kinds

    # The liaison replies for their unit: leave needs a reason, kept when refused.
    r = await liaison.post(f"/sessions/{sid}/reply", {"reply": "leave", "reason": ""})
    assert r.status_code == 400
    doc = soup(r)
    assert "请假须填写事由。" in doc.select_one("#session-replies").get_text()
    assert doc.select_one('#session-replies input[value="leave"]').has_attr("checked")
    r = await liaison.post(
        f"/sessions/{sid}/reply", {"reply": "delegate", "delegate_name": "王医生"}
    )
    assert r.status_code == 303
    doc = soup(await sec.get(f"/sessions/{sid}"))
    hospital = await unit_id(web_app, "和平区人民医院")
    row = doc.select_one(f'#reply-table tr[data-unit-id="{hospital}"]')
    assert row["data-reply"] == "delegate" and "王医生" in row.get_text()
    school = await unit_id(web_app, "滨江市实验小学")
    r = await liaison.post(f"/sessions/{sid}/reply", {"unit_id": str(school), "reply": "attending"})
    assert r.status_code == 403
    # Each step told the street's open pages which of their regions are stale.
    async with web_app.state.session_factory() as s:
        events = list(await s.scalars(select(Event).where(Event.kind.like("session.%"))))
    street = f"street:{await org_id(web_app, '新华街道')}"
    assert {e.kind for e in events} >= {
        "session.changed",
        "session.agenda_changed",
        "session.replied",
    }
    assert {e.topic for e in events} == {street}


async def test_the_ics_invitation_parses_back_with_the_right_times(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    sec = await logged_in(new_browser, "secretary")
    liaison = await logged_in(new_browser, "liaison")
    sid = await create_session(
        web_app, sec, starts_at="2027-02-20T09:00", ends_at="2027-02-20T11:30"
    )
    assert (await liaison.get(f"/sessions/{sid}/invite.ics")).status_code == 404
    await to_notice(web_app, sec, sid)

    r = await liaison.get(f"/sessions/{sid}/invite.ics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    assert "attachment" in r.headers["content-disposition"]
    cal = Calendar.from_ical(r.content)
    [event] = cal.walk("VEVENT")
    assert event["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert event["dtstart"].to_ical() == b"20270220T090000"
    assert event.decoded("dtend") == datetime(2027, 2, 20, 3, 30, tzinfo=UTC)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert "背街小巷整治" in str(event["description"])
    uid, sequence = str(event["uid"]), int(event["sequence"])

    # Changing the agenda after the notice: same UID, higher SEQUENCE.
    assert (await sec.post(f"/sessions/{sid}/items", {"title": "补充议题"})).status_code == 303
    again = Calendar.from_ical((await liaison.get(f"/sessions/{sid}/invite.ics")).content)
    [event2] = again.walk("VEVENT")
    assert str(event2["uid"]) == uid and int(event2["sequence"]) > sequence

    outsider = await logged_in(new_browser, "secretary2")
    assert (await outsider.get(f"/sessions/{sid}/invite.ics")).status_code == 404


async def test_agenda_items_are_edited_and_reordered_with_buttons(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    sec = await logged_in(new_browser, "secretary")
    sid = await create_session(web_app, sec)
    r = await sec.post(f"/sessions/{sid}/items", {"title": "  ", "description": "保留的说明"})
    assert r.status_code == 400
    doc = soup(r)
    assert "请填写议题名称。" in doc.select_one("#session-agenda").get_text()
    assert doc.select_one("#f-item-description").get_text() == "保留的说明"
    for title in ("甲", "乙"):
        await sec.post(f"/sessions/{sid}/items", {"title": title})
    doc = soup(await sec.get(f"/sessions/{sid}"))
    second = doc.select("#session-agenda .agenda-item")[2]
    up = second.select_one('form[action$="/move"] input[name="direction"][value="up"]')
    assert up is not None
    item_id = second["id"].removeprefix("item-")
    assert (
        await sec.post(f"/sessions/{sid}/items/{item_id}/move", {"direction": "up"})
    ).status_code == 303
    titles = [
        t.get_text(" ", strip=True)
        for t in soup(await sec.get(f"/sessions/{sid}")).select(".agenda-title strong")
    ]
    assert titles == ["上次议定事项落实情况", "乙", "甲"]

    edit = soup(await sec.get(f"/sessions/{sid}/items/{item_id}/edit"))
    version = input_value(edit, "version")
    r = await sec.post(f"/sessions/{sid}/items/{item_id}", {"title": "", "version": version})
    assert r.status_code == 400 and field_error(soup(r), "title") == "请填写议题名称。"
    r = await sec.post(
        f"/sessions/{sid}/items/{item_id}", {"title": "乙（改）", "version": version}
    )
    assert r.status_code == 303
    r = await sec.post(
        f"/sessions/{sid}/items/{item_id}", {"title": "乙（再改）", "version": version}
    )
    assert r.status_code == 409 and input_value(soup(r), "title") == "乙（再改）"
    liaison = await logged_in(new_browser, "liaison")
    assert (await liaison.get(f"/sessions/{sid}/items/{item_id}/edit")).status_code == 403
    assert (await liaison.post(f"/sessions/{sid}/items", {"title": "越权"})).status_code == 403
    async with web_app.state.session_factory() as s:
        items = list(await s.scalars(select(AgendaItem.title).where(AgendaItem.session_id == sid)))
    assert "越权" not in items


async def test_materials_upload_and_download(web_app: Starlette, new_browser: NewBrowser) -> None:
    sec = await logged_in(new_browser, "secretary")
    sid = await create_session(web_app, sec)
    r = await sec.post(
        f"/sessions/{sid}/materials",
        files={"file": ("工作汇报.pdf", b"%PDF-1.4 demo", "application/pdf")},
    )
    assert r.status_code == 303
    doc = soup(await sec.get(f"/sessions/{sid}"))
    link = doc.select_one("#session-materials a[href^='/materials/']")
    assert link.get_text(strip=True) == "工作汇报.pdf"

    liaison = await logged_in(new_browser, "liaison")
    r = await liaison.get(link["href"])
    assert r.status_code == 200 and r.content == b"%PDF-1.4 demo"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%B7%A5%E4%BD%9C%E6%B1%87%E6%8A%A5.pdf" in disposition
    assert (await (await logged_in(new_browser, "secretary2")).get(link["href"])).status_code == 404
    r = await liaison.post(
        f"/sessions/{sid}/materials", files={"file": ("x.txt", b"x", "text/plain")}
    )
    assert r.status_code == 403

    r = await sec.post(
        f"/sessions/{sid}/materials",
        files={"file": ("大文件.zip", b"0" * (10 * 1024 * 1024 + 1), "application/zip")},
    )
    assert r.status_code == 400
    assert "单个文件不能超过 10 MB。" in soup(r).select_one("#session-materials").get_text()
    r = await sec.post(f"/sessions/{sid}/materials", files={"file": ("", b"", "text/plain")})
    assert r.status_code == 400


async def test_an_html_upload_is_served_as_an_opaque_download(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    sec = await logged_in(new_browser, "secretary")
    sid = await create_session(web_app, sec)
    await sec.post(
        f"/sessions/{sid}/materials",
        files={"file": ("x.html", b"<script>alert(1)</script>", "text/html")},
    )
    href = soup(await sec.get(f"/sessions/{sid}")).select_one("#session-materials a")["href"]
    r = await sec.get(href)
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")


async def test_posts_without_the_csrf_token_are_refused(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    sec = await logged_in(new_browser, "secretary")
    cid = await conference_id(web_app)
    r = await sec.client.post(f"/conferences/{cid}/sessions", data=session_form())
    assert r.status_code == 403 and "安全校验失败" in r.text
    assert await count(web_app, MeetingSession) == 0
    sid = await create_session(web_app, sec)
    r = await sec.client.post(f"/sessions/{sid}/call", data={"version": "1"})
    assert r.status_code == 403
    assert (await session_state(web_app, sid)).state == "planned"


async def test_pages_are_refused_to_those_outside_the_street(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    sec = await logged_in(new_browser, "secretary")
    sid = await create_session(web_app, sec)
    cid = await conference_id(web_app)
    outsider = await logged_in(new_browser, "liaison3")
    for url in (
        f"/conferences/{cid}",
        f"/conferences/{cid}/topics",
        f"/sessions/{sid}",
        f"/sessions/{sid}/invite.ics",
        "/sessions/999999",
        "/conferences/999999",
    ):
        r = await outsider.get(url)
        assert r.status_code == 404, url
        assert "页面不存在" in r.text
    liaison = await logged_in(new_browser, "liaison")
    assert (await liaison.get(f"/conferences/{cid}/sessions/new")).status_code == 403
    assert (await liaison.get(f"/sessions/{sid}/edit")).status_code == 403
    r = await liaison.post(f"/conferences/{cid}/sessions", session_form())
    assert r.status_code == 403


async def test_the_progress_item_lists_earlier_decisions_with_their_state(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    sec = await logged_in(new_browser, "secretary")
    cid = await conference_id(web_app)
    hospital = await unit_id(web_app, "和平区人民医院")
    async with web_app.state.session_factory() as s:
        earlier = MeetingSession(
            conference_id=cid,
            year=2026,
            title="第三季度例会",
            starts_at=utcnow() - timedelta(days=90),
            ends_at=utcnow() - timedelta(days=90, hours=-2),
            state="issued",
            signin_secret="s",
            created_by_id=1,
        )
        s.add(earlier)
        await s.flush()
        item = AgendaItem(session_id=earlier.id, position=1, title="议题")
        s.add(item)
        await s.flush()
        s.add(
            Decision(
                session_id=earlier.id,
                item_id=item.id,
                title="义诊进社区",
                lead_unit_id=hospital,
                deadline=(utcnow() - timedelta(days=10)).date(),
                follow_state="in_progress",
                progress_note="已开展两次",
                created_by_id=1,
            )
        )
        await s.commit()
    sid = await create_session(web_app, sec)
    region = soup(await sec.get(f"/sessions/{sid}")).select_one("#progress-decisions")
    [row] = region.select("tbody tr")
    text = row.get_text(" ", strip=True)
    assert "义诊进社区" in text and "和平区人民医院" in text and "办理中" in text
    assert "逾期" in text and "已开展两次" in text
    assert "其中 1 项已逾期" in region.select_one(".progress-summary").get_text()


async def test_a_page_shown_after_a_refused_form_can_refresh_its_regions(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    """After a refused form the browser's address is the form's; the live regions re-fetch
    from that address, so a GET there must land on the page rather than fail."""
    sec = await logged_in(new_browser, "secretary")
    cid = await conference_id(web_app)
    sid = await create_session(web_app, sec)
    liaison = await logged_in(new_browser, "liaison")
    topic = await liaison.post(f"/conferences/{cid}/topics", {"title": "议题"})
    assert topic.status_code == 303
    async with web_app.state.session_factory() as s:
        tid = await s.scalar(select(TopicProposal.id))
    for url, page in [
        (f"/sessions/{sid}/reply", f"/sessions/{sid}"),
        (f"/sessions/{sid}/items", f"/sessions/{sid}"),
        (f"/sessions/{sid}/materials", f"/sessions/{sid}"),
        (f"/sessions/{sid}/notice", f"/sessions/{sid}"),
        (f"/conferences/{cid}/members", f"/conferences/{cid}"),
        (f"/conferences/{cid}/committees", f"/conferences/{cid}"),
        (f"/topics/{tid}/decide", f"/conferences/{cid}/topics"),
    ]:
        r = await sec.get(url, headers={"HX-Request": "true"})
        assert (r.status_code, r.headers.get("location")) == (303, page), url
    followed = await sec.get(f"/sessions/{sid}/reply", follow_redirects=True)
    assert soup(followed).select_one("#session-replies[data-live-region]") is not None


# --- in real Chromium -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    require_service("Chromium", chromium_available())
    from playwright.sync_api import sync_playwright

    with live_server(tmp_path_factory.mktemp("prep")) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser, base
        browser.close()


def _login(browser: Any, base: str, username: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


@pytest.mark.browser
def test_a_liaisons_pages_follow_the_preparation_live(chromium_server: tuple[Any, str]) -> None:
    """One change names several regions of one page (the call list and the submit form's
    choice of session; the state, agenda and replies): every one of them follows."""
    browser, base = chromium_server
    sec, liaison = _login(browser, base, "secretary"), _login(browser, base, "liaison")
    sec.goto(base + "/conference")
    cid = sec.url.rsplit("/", 1)[1]
    sec.goto(base + f"/conferences/{cid}/sessions/new")
    sec.fill("#f-title", "浏览器测试例会")
    sec.fill("#f-starts_at", to_beijing_input(START))
    sec.fill("#f-ends_at", to_beijing_input(START + timedelta(hours=2)))
    sec.fill("#f-place", "三楼会议室")
    sec.click("form.form button[type=submit]")
    sec.wait_for_url(re.compile(r".*/sessions/\d+.*"))
    sid = re.search(r"/sessions/(\d+)", sec.url).group(1)  # type: ignore[union-attr]

    liaison.goto(base + f"/conferences/{cid}/topics")
    liaison.wait_for_selector("#live-status[data-state=live]")
    marker = liaison.evaluate("() => (window.__marker = Math.random())")
    sec.click("button[data-action=open_topic_call]")
    liaison.wait_for_selector(f'#topic-calls a[href="/sessions/{sid}"]', timeout=5000)
    liaison.wait_for_selector(f'#f-session_id option[value="{sid}"]', state="attached")
    liaison.fill("#f-title", "社区义诊常态化")
    liaison.click("#topic-submit button[type=submit]")
    liaison.wait_for_url(re.compile(r".*done=submitted.*"))

    sec.goto(base + f"/conferences/{cid}/topics")
    liaison.wait_for_selector("#live-status[data-state=live]")
    marker = liaison.evaluate("() => (window.__marker = Math.random())")
    sec.click("details.decide summary")
    sec.select_option("details.decide select[name=session_id]", sid)
    sec.click("details.decide form:first-child button[type=submit]")
    liaison.wait_for_function(
        "() => document.querySelector('.topic-status').textContent.trim() === '已采纳'"
    )
    assert liaison.evaluate("() => window.__marker") == marker  # no reload

    liaison.goto(base + f"/sessions/{sid}")
    liaison.wait_for_selector("#live-status[data-state=live]")
    sec.goto(base + f"/sessions/{sid}")
    sec.click("button[data-action=fix_agenda]")
    sec.wait_for_selector("button[data-action=send_notice]")
    sec.click("button[data-action=send_notice]")
    liaison.wait_for_function(
        "() => document.querySelector('#session-state').textContent.trim() === '已通知'"
    )
    liaison.wait_for_selector("#session-replies form input[value=delegate]")
    liaison.check("#session-replies input[value=delegate]")
    liaison.fill("#session-replies input[name=delegate_name]", "王医生")
    liaison.click("#session-replies form button[type=submit]")
    sec.wait_for_selector("#reply-table tr[data-reply=delegate]", timeout=5000)
    ARTIFACTS.mkdir(exist_ok=True)
    sec.screenshot(path=str(ARTIFACTS / "conference-session-prep.png"), full_page=True)
