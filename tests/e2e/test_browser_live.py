"""Live updates in real Chromium: two users, two pages, no reloads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import ARTIFACTS, LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path_factory.mktemp("live"))
    srv.prepare()
    srv.start()
    yield srv
    srv.stop()


def login(chromium, base: str, username: str):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.errors = errors
    return page


def wait_live(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#live-status[data-state=live]", timeout=10_000)


def test_a_unit_created_by_one_user_appears_in_anothers_list(server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    district = login(chromium, server.base, "district")
    secretary = login(chromium, server.base, "secretary")
    district.goto(server.base + "/units?kind=stationed")
    wait_live(district)
    district.evaluate("() => { window.__noReload = true; }")
    assert "滨江金融科技服务中心" not in district.locator("#unit-table").inner_text()

    secretary.goto(server.base + "/units/new")
    secretary.fill("#f-name", "滨江金融科技服务中心")
    secretary.select_option("#f-kind", "stationed")
    secretary.select_option("#f-unit_type", "private_firm")
    secretary.click("form.form button[type=submit]")
    secretary.wait_for_url(re.compile(r".*/units/\d+\?saved=1"))

    district.wait_for_function(
        "() => document.querySelector('#unit-table').innerText.includes('滨江金融科技服务中心')",
        timeout=5_000,
    )
    assert district.evaluate("() => window.__noReload") is True  # updated in place
    assert "kind=stationed" in district.url  # the viewer's own filter still applies
    ARTIFACTS.mkdir(exist_ok=True)
    district.screenshot(path=str(ARTIFACTS / "live-district-units.png"), full_page=True)
    assert district.errors == [] and secretary.errors == []
    district.context.close()
    secretary.context.close()


def test_unit_page_updates_and_keeps_a_half_typed_form(server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    secretary = login(chromium, server.base, "secretary")
    admin = login(chromium, server.base, "admin")
    secretary.goto(server.base + "/units/2")
    wait_live(secretary)
    secretary.fill("#f-reason", "单位迁出辖区，待核实")
    admin.goto(server.base + "/units/2")
    secretary.wait_for_function(
        "() => document.querySelector('#presence').innerText.includes('平台管理员')", timeout=5_000
    )
    assert "张秀兰" in secretary.locator("#presence").inner_text()

    admin.goto(server.base + "/units/2/edit")
    admin.fill("#f-address", "春晖路 3 号（东校区）")
    admin.click("form.form button[type=submit]")
    secretary.wait_for_function(
        "() => document.querySelector('#unit-facts-2').innerText.includes('东校区')", timeout=5_000
    )
    secretary.wait_for_timeout(400)  # let any region refresh run
    assert secretary.input_value("#f-reason") == "单位迁出辖区，待核实"
    ARTIFACTS.mkdir(exist_ok=True)
    secretary.screenshot(path=str(ARTIFACTS / "live-unit-presence.png"), full_page=True)

    # The stale form is refused with a message and the typed reason is kept.
    secretary.click("#unit-actions button[type=submit]")
    assert "已被其他人修改" in secretary.locator("#flash").inner_text()
    assert secretary.input_value("#f-reason") == "单位迁出辖区，待核实"
    secretary.context.close()
    admin.context.close()


def test_bell_counts_a_new_notification_live(server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    member = login(chromium, server.base, "member")
    admin = login(chromium, server.base, "admin")
    wait_live(member)
    # The demo member already has notices (activity sign-ups, points): count from here.
    badge = member.locator("#bell .badge")
    before = int(badge.inner_text()) if badge.count() else 0
    admin.goto(server.base + "/admin/users?q=member")
    admin.click("#users a:text('member')")
    admin.select_option("#f-role", "unit_liaison")
    admin.select_option("#f-unit_id", label="滨江数智科技有限公司（驻区单位）")
    admin.click("form[action$='/roles'] button[type=submit]")
    member.wait_for_function(
        f"(document.querySelector('#bell .badge') || {{}}).textContent == '{before + 1}'",
        timeout=5_000,
    )
    member.click("#bell")
    assert "单位联络员" in member.locator("#notification-list").inner_text()
    member.context.close()
    admin.context.close()


def test_page_catches_up_after_a_server_restart(
    tmp_path: Path,
    chromium,  # type: ignore[no-untyped-def]
) -> None:
    server = LiveServer(tmp_path)
    server.prepare()
    server.start()
    try:
        page = login(chromium, server.base, "secretary")
        page.goto(server.base + "/units/3")
        wait_live(page)
        server.stop()
        page.wait_for_selector(
            "#live-status[data-state=reconnecting], #live-status[data-state=offline]",
            timeout=10_000,
        )
        server.start()
        with httpx.Client(base_url=server.base) as admin:
            admin.get("/login")
            admin.post(
                "/login",
                data={
                    "csrf_token": admin.cookies["gj_csrf"],
                    "username": "admin",
                    "password": "gongjian-demo",
                },
            )
            form = admin.get("/units/3/edit").text
            version = re.search(r'name="version" value="(\d+)"', form)
            assert version
            r = admin.post(
                "/units/3",
                data={
                    "csrf_token": admin.cookies["gj_csrf"],
                    "version": version.group(1),
                    "name": "国网滨江供电公司和平分公司",
                    "kind": "stationed",
                    "unit_type": "state_firm",
                    "street_id": "3",
                    "address": "东湖大道 88 号（重启后修改）",
                    "party_members": "158",
                },
            )
            assert r.status_code == 303, r.text[:500]
        page.wait_for_function(
            "() => document.querySelector('#unit-facts-3').innerText.includes('重启后修改')",
            timeout=15_000,
        )
        wait_live(page)
        page.context.close()
    finally:
        server.stop()
