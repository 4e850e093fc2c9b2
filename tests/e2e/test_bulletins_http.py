"""调度通报 over HTTP: a draft for the staff only, editing with a stale form, publishing to
the street's members (notification, list), print page, and the home page's card; then in
real Chromium, a member sees a bulletin appear live when it is published, and screenshots
of a report and a bulletin at 1280 and 390 px."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from starlette.applications import Starlette

from domain.evaluation import bulletin as svc
from domain.uow import UnitOfWork
from tests.conftest import soup
from tests.e2e.support import org_id
from tests.integration.conftest import load_actor
from tests.live_server import ARTIFACTS, LiveServer, login_page


async def draft(app: Starlette, street: str = "新华街道", month: date = date(2026, 10, 1)) -> int:
    async with UnitOfWork(app.state.session_factory) as uow:
        made = await svc.generate(uow, await org_id(app, street), month)
        await uow.commit()
    assert made is not None
    return made.id


async def test_review_publish_read(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    bid = await draft(web_app)
    other = await draft(web_app, "长安街道")
    url = f"/bulletins/{bid}"
    secretary, member, outsider = new_browser(), new_browser(), new_browser()
    await secretary.login("secretary")
    await member.login("member")
    await outsider.login("secretary2")

    # The draft: the secretary sees and edits it; the members of the street do not see it.
    listing = soup(await secretary.get("/bulletins"))
    assert listing.select_one("#bulletin-list[data-live-region]") is not None
    titles = [a.text for a in listing.select(".bl-title")]
    assert titles == ["新华街道2026年10月党建工作调度通报"]
    assert "待审核" in listing.select_one(".bl-item").text
    assert (await member.get(url)).status_code == 404
    assert "暂无通报" in (await member.get("/bulletins")).text
    assert (await outsider.get(url)).status_code == 404
    assert (await outsider.get(f"/bulletins/{other}")).status_code == 200

    page = soup(await secretary.get(url))
    assert page.select_one("#bulletin-page[data-live-region]") is not None
    assert page.select_one("#bulletin-state").text == "待审核"
    form = {t["name"]: t.text for t in page.select("#bulletin-form textarea")}
    assert set(form) == {"body_tasks", "body_conference", "body_sharing", "body_activities"}
    assert "本月交办任务0件" in form["body_tasks"]
    form |= {"version": page.select_one('input[name="version"]')["value"], "title": "十月通报"}
    bad = await secretary.post(url + "/save", {**form, "body_sharing": "  "})
    assert bad.status_code == 400 and "正文不能为空" in bad.text
    assert soup(bad).select_one("#f-title")["value"] == "十月通报"
    ok = await secretary.post(url + "/save", {**form, "body_sharing": "资源共享稳步推进。"})
    assert ok.status_code == 303
    stale = await secretary.post(url + "/save", {**form, "title": "旧窗口"})
    assert stale.status_code == 409 and "已被修改" in stale.text
    assert soup(stale).select_one("#f-title")["value"] == "旧窗口"
    supervisor = new_browser()
    await supervisor.login("supervisor")
    assert (await supervisor.get(url)).status_code == 200
    version = soup(await secretary.get(url)).select_one('input[name="version"]')["value"]
    assert (await supervisor.post(url + "/publish", {"version": version})).status_code == 403

    published = await secretary.post(url + "/publish", {"version": version})
    assert published.status_code == 303
    after = soup(await secretary.get(published.headers["location"]))
    assert after.select_one("#bulletin-state").text == "已发布"
    assert after.select_one("#bulletin-form") is None

    # Now the members read it, and were told.
    read = await member.get(url)
    assert read.status_code == 200
    doc = soup(read)
    assert doc.select_one(".page-title").text.startswith("十月通报")
    assert "资源共享稳步推进。" in doc.select_one("#section-sharing").text
    assert [a.text for a in soup(await member.get("/bulletins")).select(".bl-title")] == [
        "十月通报"
    ]
    notes = await member.get("/notifications")
    assert "新通报：十月通报" in notes.text
    printed = await member.get(url + "/print")
    assert (
        printed.status_code == 200 and soup(printed).select_one(".print-title").text == "十月通报"
    )
    district = new_browser()
    await district.login("district")
    assert (await district.get(url)).status_code == 200

    # The home page's card, from latest_for.
    actor = await load_actor(web_app.state.session_factory, "member")
    async with UnitOfWork(web_app.state.session_factory) as uow:
        latest = await svc.latest_for(uow, actor)
    html = web_app.state.templates.env.get_template("bulletins/_latest.html").render(
        latest_bulletin=latest
    )
    card = BeautifulSoup(html, "html.parser")
    assert card.select_one("#latest-bulletin[data-live-region]") is not None
    assert card.select_one("#latest-bulletin-link").text == "十月通报"
    empty = web_app.state.templates.env.get_template("bulletins/_latest.html").render(
        latest_bulletin=None
    )
    assert "暂无已发布的通报" in empty


# ---- real Chromium ------------------------------------------------------------------------

BROWSER_MONTH = date(2020, 1, 1)  # a month the demo has no bulletin for


def _draft(server: LiveServer) -> int:
    """Generate 新华街道's bulletin in the server's database (from another thread: the
    sync Playwright API owns this one's event loop)."""

    async def run() -> int:
        from adapters.db import make_engine, make_session_factory
        from domain.evaluation import bulletin
        from domain.models import Organization
        from domain.uow import UnitOfWork

        engine = make_engine("sqlite+aiosqlite:///" + str(server.tmp / "live.db"))
        try:
            factory = make_session_factory(engine)
            async with UnitOfWork(factory) as uow:
                street = await uow.session.scalar(
                    select(Organization.id).where(Organization.name == "新华街道")
                )
                assert street is not None
                made = await bulletin.generate(uow, street, BROWSER_MONTH)
                assert made is not None
                await uow.commit()
                return made.id
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.mark.browser
def test_member_sees_bulletin_published_live(demo_server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    bid = _draft(demo_server)
    title = "新华街道2020年1月党建工作调度通报"
    member = login_page(chromium, demo_server.base, "member")
    member.goto(demo_server.base + "/bulletins")
    member.wait_for_selector("#live-status[data-state=live]")
    assert title not in member.inner_text("#bulletin-list")

    secretary = login_page(chromium, demo_server.base, "secretary")
    secretary.goto(f"{demo_server.base}/bulletins/{bid}")
    secretary.wait_for_selector("#bulletin-state:has-text('待审核')")
    secretary.screenshot(path=str(ARTIFACTS / "bulletin-draft-1280.png"), full_page=True)
    secretary.click("#publish-bulletin")
    secretary.wait_for_selector("#bulletin-state:has-text('已发布')")

    # No reload: the list region refreshes itself.
    member.wait_for_selector(f".bl-title:has-text('{title}')", timeout=10_000)
    assert member.url.endswith("/bulletins")
    member.click(f".bl-title:has-text('{title}')")
    member.wait_for_url(re.compile(rf".*/bulletins/{bid}$"))
    member.screenshot(path=str(ARTIFACTS / "bulletin-1280.png"), full_page=True)
    narrow = login_page(chromium, demo_server.base, "member", width=390)
    narrow.goto(f"{demo_server.base}/bulletins/{bid}")
    narrow.screenshot(path=str(ARTIFACTS / "bulletin-390.png"), full_page=True)
    width = narrow.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    assert not member.errors and not narrow.errors


@pytest.mark.browser
def test_report_screens(demo_server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    secretary = login_page(chromium, demo_server.base, "secretary")
    secretary.goto(demo_server.base + "/reports")
    secretary.click("#my-reports a")
    if secretary.query_selector("#create-report"):
        secretary.click("#create-report")
    secretary.wait_for_selector("#report-form")
    secretary.screenshot(path=str(ARTIFACTS / "report-1280.png"), full_page=True)
    url = secretary.url.split("?")[0]
    narrow = login_page(chromium, demo_server.base, "secretary", width=390)
    narrow.goto(url)
    narrow.wait_for_selector("#report-form")
    narrow.screenshot(path=str(ARTIFACTS / "report-390.png"), full_page=True)
    width = narrow.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    secretary.goto(url + "/print")
    secretary.screenshot(path=str(ARTIFACTS / "report-print-1280.png"), full_page=True)
    assert not secretary.errors and not narrow.errors
