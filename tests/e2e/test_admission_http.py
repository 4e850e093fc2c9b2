"""The community admission catalogue through HTTP: the list, a department's application
through the form, refused input kept, the street's review, and who sees which form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from starlette.applications import Starlette

from adapters.live.events import LiveEvent
from domain.models import AdmissionItem
from tests.conftest import Browser, soup
from tests.e2e.support import count, field_error, flash_text, input_value, org_id, unit_id
from tests.live_server import ARTIFACTS, CHROMIUM_ARGS, live_server
from tests.services import CHROMIUM, chromium_available, require_service
from web.live import EventRenderer

NewBrowser = Callable[[], Browser]
TEAM = "区城管执法局新华街道执法队"
PENDING = "住宅小区电动自行车违规停放充电排查"


def titles(doc: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in doc.select("#admission-items tbody td:first-child a")]


def textarea(doc: BeautifulSoup, name: str) -> str:
    box = doc.select_one(f'textarea[name="{name}"]')
    assert box is not None, name
    return box.get_text()


async def item_by_title(app: Starlette, title: str) -> AdmissionItem:
    async with app.state.session_factory() as s:
        item = await s.scalar(select(AdmissionItem).where(AdmissionItem.title == title))
    assert item is not None, title
    return item


async def test_secretary_reads_the_list_with_its_explanation(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    xinhua = await org_id(web_app, "新华街道")

    r = await browser.get("/admission")
    assert r.status_code == 303
    assert r.headers["location"] == f"/streets/{xinhua}/admission"

    r = await browser.get(f"/streets/{xinhua}/admission")
    assert r.status_code == 200
    doc = soup(r)
    assert doc.select_one("h1.page-title").get_text(strip=True) == "新华街道 · 社区事务准入目录"
    intro = doc.select_one(".admission-intro").get_text()
    assert "社区可以拒收且不扣分" in intro and "不计入对社区的考核评分" in intro
    assert doc.select_one('nav.nav a[aria-current="page"]').get_text(strip=True) == "准入目录"
    assert len(titles(doc)) == 5
    row = doc.select_one(f'#admission-items tr:has(a:-soup-contains("{PENDING}"))')
    assert row is not None
    assert row.select_one('[data-label="状态"]').get_text(strip=True) == "待审核"
    assert row.select_one('[data-label="申请部门"]').get_text(strip=True) == TEAM
    # The table is a live region: changes to the catalogue refresh it in place.
    assert doc.select_one("#admission-list").has_attr("data-live-region")
    assert doc.select_one(f'a[href="/streets/{xinhua}/admission/new"]') is not None

    r = await browser.get(f"/streets/{xinhua}/admission?state=admitted&q=体检")
    assert titles(soup(r)) == ["65岁以上老年人健康体检通知与组织"]
    tab = soup(r).select_one('#admission-list nav a[aria-current="page"]')
    assert tab.get_text(" ", strip=True) == "已准入 4"
    # The search box and the live refresh swap only the table.
    r = await browser.get(
        f"/streets/{xinhua}/admission?state=applied", headers={"HX-Request": "true"}
    )
    assert r.text.lstrip().startswith('<div id="admission-list"')
    assert titles(soup(r)) == [PENDING]


async def test_department_applies_then_secretary_admits(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    dept, secretary = new_browser(), new_browser()
    await dept.login("dept")
    await secretary.login("secretary")
    xinhua = await org_id(web_app, "新华街道")

    r = await dept.get(f"/streets/{xinhua}/admission/new")
    assert r.status_code == 200
    doc = soup(r)
    # The liaison's one department is shown, not chosen; no 'admit at once' for a department.
    assert doc.select_one('input[name="applicant_unit_id"]')["value"] == str(
        await unit_id(web_app, TEAM)
    )
    assert doc.select_one('[name="admit_now"]') is None

    r = await dept.post(
        f"/streets/{xinhua}/admission",
        {
            "title": "占道经营劝导",
            "category": "城市管理",
            "applicant_unit_id": str(await unit_id(web_app, TEAM)),
            "basis": "《城市市容和环境卫生管理条例》第十四条",
            "description": "社区发现占道经营先行劝导，劝导无效的上报执法队。",
        },
    )
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.endswith("?done=applied")
    item = await item_by_title(web_app, "占道经营劝导")
    assert location.startswith(f"/admission/{item.id}")

    r = await dept.get(location)
    doc = soup(r)
    assert "已提交准入申请" in doc.select_one(".alert-ok").get_text()
    assert doc.select_one("h1 .tag").get_text(strip=True) == "待审核"
    # The applicant may withdraw but not review.
    assert doc.select_one("#review-form") is None
    assert doc.select_one("#withdraw-form") is not None

    r = await secretary.get(f"/admission/{item.id}")
    form = soup(r).select_one("#review-form")
    assert form is not None
    # The street answers an application by reviewing it, not by withdrawing it.
    assert soup(r).select_one("#withdraw-form") is None
    assert form.select_one('[name="version"]')["value"] == str(item.version)

    r = await secretary.post(
        f"/admission/{item.id}/review",
        {"version": str(item.version), "decision": "admit", "review_note": "同意"},
    )
    assert r.status_code == 303
    r = await secretary.get(r.headers["location"])
    doc = soup(r)
    assert doc.select_one("h1 .tag").get_text(strip=True) == "已准入"
    assert doc.select_one("#withdraw-form") is not None
    assert doc.select_one("#review-form") is None
    history = [li.get_text(" ", strip=True) for li in doc.select(".history li")]
    assert len(history) == 2 and "张秀兰 审核：已准入：同意" in history[1]

    # A live refresh of the applicant's open page fetches the item's region alone.
    r = await dept.get(f"/admission/{item.id}?done=applied", headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<section class="card" id="admission-item"')
    assert "已准入" in soup(r).select_one("h1 .tag").get_text()

    r = await dept.get(f"/streets/{xinhua}/admission?state=admitted")
    assert "占道经营劝导" in titles(soup(r))
    r = await dept.get("/notifications")
    assert "准入申请已准入：占道经营劝导" in soup(r).select_one("#notification-list").get_text()


async def test_bad_input_is_rendered_again_with_what_was_typed(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("dept")
    xinhua = await org_id(web_app, "新华街道")
    before = await count(web_app, AdmissionItem)

    r = await browser.post(
        f"/streets/{xinhua}/admission",
        {
            "title": "  ",
            "category": "城市管理",
            "basis": "",
            "description": "先劝导 <b>再上报</b>",
        },
    )

    assert r.status_code == 400
    doc = soup(r)
    assert "请修正标出的内容" in flash_text(r)
    assert field_error(doc, "title") == "请填写事项名称。"
    assert field_error(doc, "basis") == "请填写政策依据（将该事项交由社区承担的法律法规或文件）。"
    assert field_error(doc, "category") == ""
    assert doc.select_one('select[name="category"] option[selected]')["value"] == "城市管理"
    assert textarea(doc, "description") == "先劝导 <b>再上报</b>"
    assert doc.select_one("b") is None
    assert input_value(doc, "title") == "  "
    assert await count(web_app, AdmissionItem) == before


async def test_deny_without_a_note_keeps_the_form_and_a_stale_review_is_refused(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    secretary, supervisor = new_browser(), new_browser()
    await secretary.login("secretary")
    await supervisor.login("supervisor")
    item = await item_by_title(web_app, PENDING)

    r = await supervisor.post(
        f"/admission/{item.id}/review",
        {"version": str(item.version), "decision": "deny", "review_note": ""},
    )
    assert r.status_code == 400
    assert field_error(soup(r), "review_note") == "不予准入须说明理由。"

    await secretary.post(f"/admission/{item.id}/review", {"version": "1", "decision": "admit"})
    # The supervisor's page still carried version 1: refused, shown the latest state.
    r = await supervisor.post(
        f"/admission/{item.id}/review",
        {"version": "1", "decision": "deny", "review_note": "不同意"},
    )
    assert r.status_code == 409
    assert "已被他人处理" in flash_text(r)
    assert soup(r).select_one("h1 .tag").get_text(strip=True) == "已准入"
    assert (await item_by_title(web_app, PENDING)).state == "admitted"


async def test_readers_see_no_forms_and_outsiders_nothing(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    xinhua = await org_id(web_app, "新华街道")
    item = await item_by_title(web_app, PENDING)
    for username in ("community", "district"):
        reader = new_browser()
        await reader.login(username)
        r = await reader.get(f"/streets/{xinhua}/admission")
        assert r.status_code == 200, username
        assert soup(r).select_one(f'a[href="/streets/{xinhua}/admission/new"]') is None
        r = await reader.get(f"/admission/{item.id}")
        assert r.status_code == 200
        assert soup(r).select_one("form.action-form") is None
        r = await reader.get(f"/streets/{xinhua}/admission/new")
        assert r.status_code == 403
        r = await reader.post(f"/admission/{item.id}/review", {"version": "1", "decision": "admit"})
        assert r.status_code == 403
    other = new_browser()
    await other.login("secretary2")
    assert (await other.get(f"/admission/{item.id}")).status_code == 404
    assert (await other.get(f"/streets/{xinhua}/admission")).status_code == 404
    member = new_browser()
    await member.login("member")
    assert (await member.get(f"/streets/{xinhua}/admission")).status_code == 404


async def test_a_catalogue_change_refreshes_its_regions(web_app: Starlette) -> None:
    html = await EventRenderer(web_app)(LiveEvent(5, "street:1", "admission.changed", {}))
    assert 'data-refresh="admission-list admission-item"' in html


# --- in real Chromium -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    require_service("Chromium", chromium_available())
    from playwright.sync_api import sync_playwright

    with live_server(tmp_path_factory.mktemp("admission")) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser, base
        browser.close()


def _login(browser: Any, base: str, username: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


@pytest.mark.browser
def test_an_application_and_its_review_appear_live(chromium_server: tuple[Any, str]) -> None:
    """The secretary's open list shows a new application, and the department's open page
    shows the review, both without a reload."""
    browser, base = chromium_server
    sec, dept = _login(browser, base, "secretary"), _login(browser, base, "dept")
    sec.click("nav.nav >> text=准入目录")
    sec.wait_for_url(re.compile(r".*/streets/\d+/admission$"))
    sec.wait_for_selector("#live-status[data-state=live]")
    marker = sec.evaluate("() => (window.__marker = Math.random())")

    dept.goto(sec.url + "/new")
    dept.fill("#f-title", "楼道堆物清理劝导")
    dept.select_option("#f-category", "安全生产")
    dept.fill("#f-basis", "《中华人民共和国消防法》第二十八条")
    dept.click("main form.form button[type=submit]")
    dept.wait_for_url(re.compile(r".*/admission/\d+\?done=applied$"))
    dept.wait_for_selector("#live-status[data-state=live]")

    sec.wait_for_selector("#admission-items a:has-text('楼道堆物清理劝导')", timeout=5000)
    assert sec.evaluate("() => window.__marker") == marker  # updated in place
    sec.click("#admission-items a:has-text('楼道堆物清理劝导')")
    sec.fill("#f-review_note", "同意")
    sec.click("#review-form button[value=admit]")
    sec.wait_for_url(re.compile(r".*done=admitted$"))

    dept.wait_for_selector("#admission-item h1 .tag:has-text('已准入')", timeout=5000)
    assert dept.locator("#review-form").count() == 0
    assert "撤回该事项" in dept.locator("#withdraw-form").inner_text()
    assert sec.errors == [] and dept.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    dept.screenshot(path=str(ARTIFACTS / "admission-reviewed-live.png"), full_page=True)
    sec.context.close()
    dept.context.close()
