"""The main journey in real Chromium (Debian's), driven by Playwright's sync API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import ARTIFACTS, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("live")) as base:
        yield base


def test_secretary_logs_in_and_lands_on_dashboard(server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/")
    assert page.url.startswith(server + "/login")
    page.fill("#f-username", "secretary")
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")
    assert page.locator("h1.page-title").inner_text() == "您好，张秀兰"
    assert "新华街道概况" in page.locator("main").inner_text()
    # Real figures from the database: 新华街道 has 8 stationed units in the demo data.
    row = page.locator("table.table tbody tr").first
    assert row.locator("td").nth(2).inner_text() == "8"
    assert errors == [], errors  # no CSP violations, no missing scripts
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "secretary-dashboard.png"), full_page=True)
    assert (ARTIFACTS / "secretary-dashboard.png").stat().st_size > 10_000
    page.close()


def test_phone_width_menu_and_filter_without_reload(server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    page.goto(server + "/login")
    page.fill("#f-username", "district")
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")
    # On a phone the navigation folds behind the 菜单 toggle.
    assert not page.locator("nav.nav").is_visible()
    page.click("label.nav-toggle-label")
    assert page.locator("nav.nav").is_visible()
    page.click("nav.nav >> text=单位名录")
    page.wait_for_url(server + "/units")
    before = page.locator("#units tbody tr").count()
    marker = page.evaluate("() => (window.__marker = Math.random())")
    page.select_option("#f-kind", "department")
    page.wait_for_function("() => location.search.includes('kind=department')")
    page.wait_for_timeout(300)
    after = page.locator("#units tbody tr").count()
    assert 0 < after < before
    # htmx swapped the table in place: same document, no reload.
    assert page.evaluate("() => window.__marker") == marker
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "district-units-phone.png"), full_page=True)
    page.close()
