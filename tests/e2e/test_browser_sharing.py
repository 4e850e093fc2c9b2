"""Sharing a venue in real Chromium: a unit posts it, the street lists it, a community asks
for a slot, the unit approves — and the community's page shows it without a reload."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.live_server import ARTIFACTS, LiveServer, login_page

pytestmark = pytest.mark.browser


def test_post_vet_book_approve(demo_server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    liaison = login_page(chromium, demo_server.base, "liaison")
    secretary = login_page(chromium, demo_server.base, "secretary")
    community = login_page(chromium, demo_server.base, "community")

    # The hospital's liaison posts its hall as a venue.
    liaison.goto(demo_server.base + "/sharing")
    liaison.wait_for_url(re.compile(r".*/streets/(\d+)/needs"))
    street = re.search(r"/streets/(\d+)/", liaison.url).group(1)  # type: ignore[union-attr]
    liaison.goto(f"{demo_server.base}/resources/new?street={street}&kind=venue")
    liaison.fill("[name=title]", "医院二楼党员活动室")
    liaison.select_option("[name=category]", index=1)
    liaison.fill("[name=description]", "可容纳 40 人，有投影仪和音响。")
    liaison.fill("[name=capacity]", "40")
    liaison.fill("[name=address]", "新华路 18 号二楼")
    liaison.fill("[name=opening_hours]", "工作日 9:00–17:00")
    liaison.fill("[name=availability]", "工作日白天")
    liaison.click("#listing-form button[type=submit]")
    liaison.wait_for_url(re.compile(r".*/resources/\d+.*"))
    resource_url = liaison.url.split("?")[0]

    # The street vets it; it is then listed for everyone.
    secretary.goto(resource_url)
    secretary.click("#vet-form button[value=approve]")
    secretary.wait_for_selector("#listing-state:has-text('已上架')")
    community.goto(f"{demo_server.base}/streets/{street}/resources?q=活动室")
    assert "医院二楼党员活动室" in community.inner_text("#resources-list")

    # The owner publishes next week's slots.
    liaison.goto(resource_url)
    liaison.click("#resource-schedule-link")
    liaison.wait_for_url(re.compile(r".*/schedule.*"))
    monday = date.today() + timedelta(days=7 - date.today().weekday())
    liaison.fill("#publish-slots [name=date_from]", monday.isoformat())
    liaison.fill("#publish-slots [name=date_to]", (monday + timedelta(days=4)).isoformat())
    liaison.click("#publish-slots button[type=submit]")
    liaison.wait_for_load_state()

    # The community asks for the first slot of that week.
    community.goto(f"{resource_url}/schedule?week={monday.isoformat()}")
    community.click("#resource-schedule a:has-text('申请预约') >> nth=0")
    community.fill("[name=purpose]", "社区党员学习活动")
    community.fill("[name=attendees]", "25")
    community.click("button:has-text('提交申请')")
    community.wait_for_load_state()
    community.goto(demo_server.base + "/bookings")
    community.wait_for_selector("#live-status[data-state=live]", timeout=10_000)
    community.evaluate("() => { window.__noReload = true; }")
    assert "待审批" in community.inner_text("#my-bookings")

    # The owner approves; the community's page changes by itself.
    liaison.goto(demo_server.base + "/bookings")
    liaison.click("button:has-text('批准') >> nth=0")
    liaison.wait_for_load_state()
    community.wait_for_function(
        "() => document.querySelector('#my-bookings').innerText.includes('已批准')",
        timeout=8_000,
    )
    assert community.evaluate("() => window.__noReload") is True
    community.screenshot(path=str(ARTIFACTS / "sharing-booking-approved.png"), full_page=True)
    for page in (liaison, secretary, community):
        assert page.errors == [], page.errors
        page.context.close()
