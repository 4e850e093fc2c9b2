"""Minutes and the session archive through HTTP: pages, forms, roles, .docx and print."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import unquote

from docx import Document
from sqlalchemy import select
from starlette.applications import Starlette

from adapters.live.events import LiveEvent
from domain.conference import minutes as svc
from domain.models import Event, MeetingSession, Minutes, MinutesSignature
from domain.uow import UnitOfWork
from tests.conftest import Browser, soup
from tests.e2e.support import count, field_error, flash_text, user_id
from tests.minutes_data import COMMUNITY, HOSPITAL, POLICE, TOWER, HeldSession, held_session
from tests.minutes_data import police_actor as make_police_actor
from web.live import EventRenderer

NewBrowser = Callable[[], Browser]


async def _held(app: Starlette) -> HeldSession:
    return await held_session(app.state.session_factory)


async def _minutes(app: Starlette, held: HeldSession) -> Minutes:
    async with app.state.session_factory() as s:
        found = await s.scalar(select(Minutes).where(Minutes.session_id == held.session_id))
    assert found is not None
    return found


async def _state(app: Starlette, held: HeldSession) -> str:
    async with app.state.session_factory() as s:
        session = await s.get(MeetingSession, held.session_id)
    assert session is not None
    return session.state


async def _as(new_browser: NewBrowser, username: str) -> Browser:
    b = new_browser()
    r = await b.login(username)
    assert r.status_code == 303
    return b


async def _start(app: Starlette, secretary: Browser, held: HeldSession) -> None:
    version = (await _minutes(app, held)).version
    r = await secretary.post(
        f"/sessions/{held.session_id}/minutes/co-signing", {"version": str(version)}
    )
    assert r.status_code == 303, flash_text(r)


async def _police_signs(app: Starlette, held: HeldSession) -> None:
    actor = make_police_actor(held, await user_id(app, "dept"))
    async with UnitOfWork(app.state.session_factory, actor) as uow:
        await svc.sign(uow, actor, held.session_id, held.units[POLICE])
        await uow.commit()


async def _issued(app: Starlette, new_browser: NewBrowser) -> tuple[HeldSession, Browser]:
    held = await _held(app)
    secretary = await _as(new_browser, "secretary")
    await _start(app, secretary, held)
    for username, unit in (("liaison", HOSPITAL), ("community", COMMUNITY), ("liaison2", TOWER)):
        b = await _as(new_browser, username)
        r = await b.post(
            f"/sessions/{held.session_id}/minutes/sign", {"unit_id": str(held.units[unit])}
        )
        assert r.status_code == 303, flash_text(r)
    await _police_signs(app, held)
    r = await secretary.post(f"/sessions/{held.session_id}/minutes/issue")
    assert r.status_code == 303, flash_text(r)
    return held, secretary


# --- the page -------------------------------------------------------------------------


async def test_manager_sees_the_editable_draft(web_app: Starlette, browser: Browser) -> None:
    held = await _held(web_app)
    await browser.login("secretary")

    r = await browser.get(f"/sessions/{held.session_id}/minutes")

    assert r.status_code == 200
    doc = soup(r)
    assert doc.select_one("h1.page-title").get_text(strip=True).endswith("会议纪要")
    assert doc.select_one("#minutes-state").get_text(strip=True) == "纪要起草中"
    assert doc.select_one("#number-label").get_text(strip=True) == "（草稿）"
    editor = doc.select_one("textarea[name=body]")
    assert editor is not None and "缺席单位（未请假）：新华派出所。" in editor.get_text()
    assert (
        doc.select_one("form[action$='/minutes/co-signing'] button").get_text() == "定稿并发起会签"
    )
    region = doc.select_one("#minutes-page[data-live-region]")
    assert region is not None
    for part in ("#minutes-head", "#minutes-body", "#minutes-signing", "#minutes-actions"):
        assert region.select_one(part) is not None, part
    assert f"street%3A{held.street_id}" in doc.select_one("#live")["ws-connect"]
    # The record beside the text.
    rows = [tr.get_text(" ", strip=True) for tr in doc.select("#attendance tbody tr")]
    assert f"{COMMUNITY} 委派代表出席 王敏" in rows
    assert "建立新华路沿线社区治安联防队" in doc.select_one("#decisions").get_text()


async def test_readers_see_the_text_only_and_strangers_nothing(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    held = await _held(web_app)
    url = f"/sessions/{held.session_id}/minutes"
    for username in ("liaison", "district"):
        r = await (await _as(new_browser, username)).get(url)
        assert r.status_code == 200, username
        doc = soup(r)
        assert doc.select_one("textarea") is None
        assert doc.select_one("#minutes-actions") is None
        assert "出席单位：和平区人民医院" in doc.select_one("#minutes-text").get_text()
    other_street = await _as(new_browser, "secretary2")
    assert (await other_street.get(url)).status_code == 404
    assert (await other_street.get(f"/conferences/{held.conference_id}/archive")).status_code == 404
    anonymous = new_browser()
    r = await anonymous.get(url)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (
        await (await _as(new_browser, "secretary")).get("/sessions/999999/minutes")
    ).status_code == 404


# --- editing --------------------------------------------------------------------------


async def test_save_stale_and_empty_edits_keep_what_was_typed(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    held = await _held(web_app)
    url = f"/sessions/{held.session_id}/minutes"
    version = str((await _minutes(web_app, held)).version)
    secretary, supervisor = (
        await _as(new_browser, "secretary"),
        await _as(new_browser, "supervisor"),
    )

    r = await supervisor.post(url, {"version": version, "body": "秘书处修改后的正文"})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=saved")
    page = await supervisor.get(r.headers["location"])
    assert "纪要已保存。" in page.text
    assert soup(page).select_one("textarea[name=body]").get_text().strip() == "秘书处修改后的正文"

    typed = "书记在旧版本上写的 <b>内容</b>"
    r = await secretary.post(url, {"version": version, "body": typed})
    assert r.status_code == 409
    doc = soup(r)
    assert "已被他人修改" in flash_text(r)
    assert doc.select_one("textarea[name=body]").get_text() == typed
    assert doc.select_one("b") is None  # escaped, not interpreted
    assert doc.select_one(".alert-warn") is not None
    assert (await _minutes(web_app, held)).body == "秘书处修改后的正文\n"

    fresh = str((await _minutes(web_app, held)).version)
    r = await secretary.post(url, {"version": fresh, "body": "   "})
    assert r.status_code == 400
    assert field_error(soup(r), "body") == "纪要正文不能为空。"


async def test_unsafe_requests_need_csrf_and_the_right_role(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    held = await _held(web_app)
    url = f"/sessions/{held.session_id}/minutes"
    secretary = await _as(new_browser, "secretary")
    r = await secretary.client.post(url, data={"version": "1", "body": "无令牌"})
    assert r.status_code == 403
    liaison = await _as(new_browser, "liaison")
    version = str((await _minutes(web_app, held)).version)
    for path, data in (
        ("", {"version": version, "body": "联络员改"}),
        ("/co-signing", {"version": version}),
        ("/issue", {}),
        ("/remind", {}),
        ("/archive", {}),
    ):
        r = await liaison.post(url + path, data)
        assert r.status_code == 403, path
        assert "只有召集人或秘书处" in r.text
    assert "无令牌" not in (await _minutes(web_app, held)).body


# --- co-signing and issuing -----------------------------------------------------------


async def test_liaison_co_signs_once_for_their_own_unit(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    held = await _held(web_app)
    secretary, liaison = await _as(new_browser, "secretary"), await _as(new_browser, "liaison")
    url = f"/sessions/{held.session_id}/minutes"
    await _start(web_app, secretary, held)

    page = soup(await liaison.get(url))
    buttons = [b.get_text(strip=True) for b in page.select(".sign-form button")]
    assert buttons == [f"代表{HOSPITAL}会签"]
    assert page.select_one("#sign-progress").get_text(strip=True) == "0 / 4 个成员单位"

    r = await liaison.post(url + "/sign", {"unit_id": str(held.units[POLICE])})
    assert r.status_code == 403
    r = await liaison.post(
        url + "/sign", {"unit_id": str(held.units[HOSPITAL]), "comment": "x" * 301}
    )
    assert r.status_code == 400
    assert field_error(soup(r), "comment") == "会签意见不能超过 300 个字。"
    assert soup(r).select_one(f"#f-comment-{held.units[HOSPITAL]}")["value"] == "x" * 301

    r = await liaison.post(url + "/sign", {"unit_id": str(held.units[HOSPITAL]), "comment": "同意"})
    assert r.status_code == 303
    page = soup(await liaison.get(r.headers["location"]))
    assert "已代表本单位会签。" in page.get_text()
    assert page.select(".sign-form") == []
    assert page.select_one("#sign-progress").get_text(strip=True) == "1 / 4 个成员单位"
    signed = page.select_one(f"#signatures li[data-unit-id='{held.units[HOSPITAL]}']")
    assert "李红梅" in signed.get_text() and "意见：同意" in signed.get_text()
    missing = {li.get_text(strip=True) for li in page.select("#missing li")}
    assert missing == {COMMUNITY, TOWER, POLICE}

    # The same unit from a second browser (or a second click): a message, not a 500.
    again = await (await _as(new_browser, "liaison")).post(
        url + "/sign", {"unit_id": str(held.units[HOSPITAL])}
    )
    assert again.status_code == 400
    assert "本单位已由李红梅会签，无需重复会签。" in flash_text(again)
    assert await count(web_app, MinutesSignature) == 1

    # Every co-signature is announced on the street's topic, for the live regions.
    async with web_app.state.session_factory() as s:
        kinds = list(
            await s.scalars(select(Event.kind).where(Event.topic == f"street:{held.street_id}"))
        )
    assert kinds.count("minutes.changed") >= 2  # draft, co-signing started, signature


async def test_issue_waits_for_every_unit_then_locks_the_minutes(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    held = await _held(web_app)
    secretary = await _as(new_browser, "secretary")
    url = f"/sessions/{held.session_id}/minutes"
    await _start(web_app, secretary, held)

    r = await secretary.post(url + "/issue")
    assert r.status_code == 400
    assert "还有 4 个成员单位未会签" in flash_text(r)
    assert soup(r).select_one("form[action$='/issue'] button").has_attr("disabled")
    r = await secretary.post(url + "/remind")
    assert r.status_code == 303 and r.headers["location"].endswith("done=reminded")

    for username, unit in (("liaison", HOSPITAL), ("community", COMMUNITY), ("liaison2", TOWER)):
        b = await _as(new_browser, username)
        assert (await b.post(url + "/sign", {"unit_id": str(held.units[unit])})).status_code == 303
    await _police_signs(web_app, held)
    r = await secretary.post(url + "/issue")
    assert r.status_code == 303

    page = soup(await secretary.get(url))
    assert page.select_one("#number-label").get_text(strip=True) == "〔2026〕第1次"
    assert page.select_one("#minutes-state").get_text(strip=True) == "纪要已印发"
    assert page.select_one("textarea") is None
    body = (await _minutes(web_app, held)).body
    r = await secretary.post(url, {"version": "99", "body": "印发后篡改"})
    assert r.status_code == 400
    assert "会议纪要已印发，不能再修改。" in flash_text(r)
    assert (await _minutes(web_app, held)).body == body

    r = await secretary.post(url + "/archive")
    assert r.status_code == 303
    assert await _state(web_app, held) == "archived"


# --- export ---------------------------------------------------------------------------


async def test_docx_opens_and_carries_number_and_decisions(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    held, _secretary = await _issued(web_app, new_browser)
    liaison = await _as(new_browser, "liaison")

    r = await liaison.get(f"/sessions/{held.session_id}/minutes.docx")

    assert r.status_code == 200
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    disposition = r.headers["content-disposition"]
    assert "attachment" in disposition and "〔2026〕第1次.docx" in unquote(disposition)
    doc = Document(io.BytesIO(r.content))
    texts = [p.text for p in doc.paragraphs]
    assert "〔2026〕第1次" in texts[:3]
    assert texts[0] == "新华街道党建联席会议"
    assert "一、出席情况" in texts and "三、议定事项" in texts
    attendance, decisions, signatures = doc.tables
    assert [c.text for c in decisions.rows[0].cells] == [
        "序号",
        "议定事项",
        "牵头单位",
        "协办单位",
        "完成时限",
    ]
    assert [c.text for c in decisions.rows[1].cells] == [
        "1",
        "建立新华路沿线社区治安联防队",
        POLICE,
        f"{HOSPITAL}、{TOWER}",
        "2026年6月30日",
    ]
    assert {row.cells[0].text for row in signatures.rows[1:]} == {
        HOSPITAL,
        COMMUNITY,
        TOWER,
        POLICE,
    }
    assert any(row.cells[1].text == "王敏" for row in attendance.rows) is False
    assert [row.cells[2].text for row in attendance.rows if row.cells[0].text == COMMUNITY] == [
        "王敏"
    ]


async def test_print_page_has_no_navigation(web_app: Starlette, new_browser: NewBrowser) -> None:
    held, secretary = await _issued(web_app, new_browser)
    r = await secretary.get(f"/sessions/{held.session_id}/minutes/print")
    assert r.status_code == 200
    doc = soup(r)
    assert doc.select_one("nav.nav") is None and doc.select_one(".topbar") is None
    assert doc.select_one("#number-label").get_text(strip=True) == "〔2026〕第1次"
    assert [h.get_text() for h in doc.select(".print-body h2")][:3] == [
        "一、出席情况",
        "二、会议议程及讨论情况",
        "三、议定事项",
    ]
    # The title is the page header, not repeated as the first body line.
    assert "会议纪要" not in doc.select_one(".print-body").get_text().splitlines()[0]
    assert len(doc.select("#signatures tbody tr")) == 4


# --- archive --------------------------------------------------------------------------


async def test_archive_search_and_bad_filters(web_app: Starlette, new_browser: NewBrowser) -> None:
    held = await _held(web_app)
    reader = await _as(new_browser, "community")
    base = f"/conferences/{held.conference_id}/archive"

    r = await reader.get(base + "?q=联防")
    assert r.status_code == 200
    rows = soup(r).select("#archive tbody tr")
    assert [row["data-session-id"] for row in rows] == [str(held.session_id)]
    assert rows[0].select_one("a")["href"] == f"/sessions/{held.session_id}/minutes"
    assert soup(r).select_one("#archive-results").has_attr("data-live-region")

    r = await reader.get(base + "?q=没有这个词")
    assert soup(r).select("#archive tbody tr") == []
    assert "没有符合条件的会议" in r.text

    r = await reader.get(
        base + f"?unit_id={held.units[TOWER]}&date_from=2026-03-18&date_to=2026-03-18"
    )
    assert len(soup(r).select("#archive tbody tr")) == 1
    r = await reader.get(base + "?unit_id=" + str(held.units[TOWER]) + "&date_from=2026-03-19")
    assert soup(r).select("#archive tbody tr") == []

    r = await reader.get(base + "?date_from=2026-02-30&q=联防")
    assert r.status_code == 400
    doc = soup(r)
    assert field_error(doc, "date_from") == "日期格式应为 2026-03-18。"
    assert doc.select_one("input[name=q]")["value"] == "联防"
    assert doc.select("#archive tbody tr") == []


async def test_minutes_events_refresh_the_minutes_regions(web_app: Starlette) -> None:
    html = await EventRenderer(web_app)(LiveEvent(7, "street:3", "minutes.changed", {}))
    regions = set(soup_fragment(html)["data-refresh"].split())
    assert regions == {"minutes-page", "archive-results"}


def soup_fragment(html: str):  # type: ignore[no-untyped-def]
    from bs4 import BeautifulSoup

    cursor = BeautifulSoup(html, "html.parser").select_one("#live-cursor")
    assert cursor is not None and cursor["data-seq"] == "7"
    return cursor
