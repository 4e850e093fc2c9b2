"""The roll-up drill-down in real Chromium: the district viewer goes from the district
overview to a street, a community, and one unit's score with the records behind it; the
same pages at a phone width; no CSP violations (no script on these pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_server import ARTIFACTS, login_page

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    for folder in (SHOTS, ARTIFACTS):
        folder.mkdir(exist_ok=True, parents=True)
        page.screenshot(path=str(folder / f"rollup_{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_district_drills_down_to_a_units_score(demo_server, chromium, width: int) -> None:  # type: ignore[no-untyped-def]
    base = demo_server.base
    page = login_page(chromium, base, "district", width=width)
    page.goto(base + "/rollup")
    page.wait_for_url("**/districts/*/overview")
    assert page.locator("h1.page-title").inner_text() == "和平区 · 区级汇总"
    table = page.locator("#rollup-figures #rollup-table")
    assert table.locator("tbody tr").count() == 2
    # The demo (meetings=True) has tasks and activities: the totals show them.
    assigned = table.locator('tfoot [data-col="assigned"]').inner_text()
    assert int(assigned) > 0
    # Sort by open tasks: the column heading says so.
    table.locator('thead [data-col="open"] a').click()
    page.wait_for_url("**sort=open**")
    assert "↓" in page.locator('#rollup-table thead [data-col="open"]').inner_text()
    _shot(page, f"district_{width}")

    page.locator("#rollup-table tbody th a", has_text="新华街道").click()
    page.wait_for_url("**/streets/*/overview")
    assert page.locator("h1.page-title").inner_text() == "新华街道 · 街道"
    assert page.locator("#street-figures tbody tr").count() == 1
    assert page.locator("#community-table tbody tr").count() == 3
    _shot(page, f"street_{width}")

    page.locator("#community-table tbody th a", has_text="文化里社区").click()
    page.wait_for_url("**/communities/*/overview")
    assert page.locator("h1.page-title").inner_text() == "文化里社区 · 社区"
    unit_row = page.locator("#unit-table tbody tr", has_text="和平区人民医院")
    assert unit_row.count() == 1
    _shot(page, f"community_{width}")

    unit_row.locator('[data-col="score"] a').click()
    page.wait_for_url("**/units/*/score**")
    assert "和平区人民医院" in page.locator("h1.page-title").inner_text()
    # Each figure of the card links to the records that made it.
    assert page.locator("#score-summary a").count() > 0
    record = page.locator(".sc-metric td a[href]").first
    assert record.count() == 1 and record.get_attribute("href")
    _shot(page, f"unit_{width}")
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
    page.context.close()
