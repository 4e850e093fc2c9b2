"""The issue's journey in real Chromium: an organiser creates a recurring activity and
announces it, a member signs up and is checked in by scanning the code, the organiser
settles the date, and the points appear on the member's page.

A browser test cannot wait for an activity to start and end, so between the steps the test
moves the first date in the server's database ("time travel"): to in progress before the
check-in, and to over before the settlement. Everything else goes through the pages.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.live_server import ARTIFACTS, LiveServer, login_page

BEIJING = ZoneInfo("Asia/Shanghai")
TITLE = "周三晚间理论学习"
SAVED = re.compile(r"/activities/(\d+)(?:\?|$)")


def _save(page) -> int:  # type: ignore[no-untyped-def]
    """Submit the activity form; if it warns of a clash, confirm and save again."""
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    if not SAVED.search(page.url):
        page.check("input[name=confirm_conflicts]")
        page.get_by_role("button", name="保存").click()
    page.wait_for_url(SAVED)
    return int(SAVED.search(page.url)[1])  # type: ignore[index]


def _move_first_date(server: LiveServer, activity_id: int, start: datetime) -> int:
    """Put the activity's first date at `start` (UTC) for one hour; returns its id."""
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    with sqlite3.connect(server.tmp / "live.db") as db:
        occ_id = db.execute(
            "SELECT id FROM activity_occurrences WHERE activity_id = ? ORDER BY starts_at LIMIT 1",
            (activity_id,),
        ).fetchone()[0]
        db.execute(
            "UPDATE activity_occurrences SET starts_at = ?, ends_at = ? WHERE id = ?",
            (
                start.astimezone(UTC).strftime(fmt),
                (start + timedelta(hours=1)).astimezone(UTC).strftime(fmt),
                occ_id,
            ),
        )
    return int(occ_id)


def test_recurring_activity_signup_checkin_points(demo_server, chromium) -> None:  # type: ignore[no-untyped-def]
    base = demo_server.base
    ARTIFACTS.mkdir(exist_ok=True)
    tomorrow = (datetime.now(BEIJING) + timedelta(days=1)).date()

    # 1. The community secretary creates a weekly activity for four weeks and announces it.
    organiser = login_page(chromium, base, "community")
    organiser.goto(base + "/activities/new")
    organiser.check("input[name=kind][value=joint_activity]")
    organiser.fill("#f-title", TITLE)
    organiser.select_option("#f-lead_unit_id", label="文化里社区居委会")
    organiser.fill("#f-venue", "文化里社区党群服务中心三楼")
    organiser.fill("#f-date", tomorrow.isoformat())
    organiser.fill("#f-start_time", "19:00")
    organiser.fill("#f-end_time", "20:30")
    organiser.check("input[name=repeat][value=weekly]")
    organiser.check(f"input[name=repeat_weekdays][value='{tomorrow.weekday()}']")
    organiser.fill("#f-recurrence_until", (tomorrow + timedelta(days=27)).isoformat())
    organiser.fill("#f-capacity", "20")
    organiser.check("input[name=signup_rule][value=signup_open]")
    activity_id = _save(organiser)
    # Four weekly dates were created from the rule.
    assert organiser.locator("#activity-page a[href^='/activities/o/']").count() == 4
    organiser.get_by_role("button", name="发布活动").click()
    organiser.wait_for_load_state()
    assert "已发布" in organiser.locator("#activity-page").inner_text()
    organiser.screenshot(path=str(ARTIFACTS / "journey-1-activity.png"), full_page=True)

    # 2. The party member finds it on the calendar and signs up for the first date.
    member = login_page(chromium, base, "member", width=390)
    member.goto(f"{base}/activities?view=agenda&date={tomorrow.isoformat()}")
    member.get_by_role("link", name=TITLE).first.click()
    member.wait_for_url("**/activities/o/*")
    occurrence_url = member.url
    member.get_by_role("button", name="报名").click()
    member.wait_for_load_state()
    assert "已报名" in member.locator("#occurrence-page").inner_text()

    # 3. The date begins: the organiser shows the code, the member scans it and confirms.
    occ_id = _move_first_date(demo_server, activity_id, datetime.now(UTC) - timedelta(minutes=10))
    assert occurrence_url.endswith(f"/activities/o/{occ_id}")
    organiser.goto(f"{base}/activities/o/{occ_id}/qr")
    assert organiser.locator("svg").count() >= 1
    checkin_url = organiser.locator("#checkin-url").inner_text().strip()
    organiser.screenshot(path=str(ARTIFACTS / "journey-2-qr.png"), full_page=True)
    member.goto(checkin_url)
    member.get_by_role("button", name="确认签到").click()
    member.wait_for_load_state()
    assert "签到" in member.inner_text("main")
    member.screenshot(path=str(ARTIFACTS / "journey-3-checked-in.png"), full_page=True)

    # 4. The date is over: the organiser sees the check-in and settles the date.
    _move_first_date(demo_server, activity_id, datetime.now(UTC) - timedelta(hours=2))
    organiser.goto(f"{base}/activities/o/{occ_id}")
    assert "扫码签到" in organiser.locator("#occurrence-page").inner_text()
    organiser.get_by_role("button", name="结算本场活动").click()
    organiser.wait_for_load_state()
    assert "已结算" in organiser.locator("#occurrence-page").inner_text()

    # 5. The member's points page lists the activity with its hours and points.
    member.goto(base + "/points/me")
    ledger = member.locator("#points-ledger").inner_text()
    assert TITLE in ledger and "参加活动" in ledger
    row = member.locator("#points-ledger tr", has_text=TITLE)
    assert "1.5" in row.inner_text()  # the 19:00–20:30 service time the activity credits
    assert "+2" in row.inner_text()  # the street's standard 2 points per attendance
    member.screenshot(path=str(ARTIFACTS / "journey-4-points.png"), full_page=True)


def test_calendar_shows_an_announced_activity_live(demo_server, chromium) -> None:  # type: ignore[no-untyped-def]
    """A member's open calendar gains the activity the moment it is announced, no reload."""
    base = demo_server.base
    day = (datetime.now(BEIJING) + timedelta(days=2)).date()
    title = "楼道微更新议事会"
    member = login_page(chromium, base, "member")
    member.goto(f"{base}/activities?view=agenda&date={day.isoformat()}")
    member.wait_for_selector("#live-status[data-state=live]")
    member.evaluate("window.__notReloaded = true")

    organiser = login_page(chromium, base, "community")
    organiser.goto(base + "/activities/new")
    organiser.check("input[name=kind][value=joint_activity]")
    organiser.fill("#f-title", title)
    organiser.select_option("#f-lead_unit_id", label="文化里社区居委会")
    organiser.fill("#f-venue", "文化里小区 3 号楼架空层")
    organiser.fill("#f-date", day.isoformat())
    organiser.fill("#f-start_time", "09:30")
    organiser.fill("#f-end_time", "10:30")
    _save(organiser)
    # Still planned: the member's calendar must not show it yet.
    member.wait_for_timeout(1500)
    assert title not in member.locator("#activity-calendar").inner_text()
    organiser.get_by_role("button", name="发布活动").click()
    member.locator("#activity-calendar", has_text=title).wait_for(timeout=10_000)
    assert member.evaluate("window.__notReloaded") is True
    member.screenshot(path=str(ARTIFACTS / "journey-5-live-calendar.png"), full_page=True)
