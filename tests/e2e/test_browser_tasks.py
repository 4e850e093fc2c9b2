"""Task handoff in real Chromium: the street assigns, the department's board shows it live,
the department accepts and reports, the street reviews and rates."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.live_server import ARTIFACTS, LiveServer, login_page

pytestmark = pytest.mark.browser


def test_assign_accept_report_review_rate(demo_server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    dept = login_page(chromium, demo_server.base, "dept")
    dept.goto(demo_server.base + "/tasks")
    dept.wait_for_selector("#live-status[data-state=live]", timeout=10_000)
    dept.evaluate("() => { window.__noReload = true; }")

    secretary = login_page(chromium, demo_server.base, "secretary")
    secretary.goto(demo_server.base + "/tasks")
    secretary.click("text=交办任务")
    secretary.fill("#f-title", "整治春晖路占道经营")
    secretary.fill("#f-description", "早市摊点占用春晖路人行道，影响通行。")
    secretary.fill("#f-location", "春晖路 10–30 号")
    secretary.select_option("#f-lead_unit_id", label="区城管执法局新华街道执法队（职能部门（条））")
    secretary.check("label.check:has-text('区市场监督管理局新华市场监管所') input")
    secretary.fill("#f-limit_value", "3")
    secretary.screenshot(path=str(ARTIFACTS / "tasks-new.png"), full_page=True)
    secretary.click("button[value=assign]")
    secretary.wait_for_url(re.compile(r".*/tasks/\d+\?created=1"))
    task_url = secretary.url.split("?")[0]

    # The department's board shows the new task without a reload.
    dept.wait_for_function(
        "() => document.querySelector('[data-col=to-accept]').innerText"
        ".includes('整治春晖路占道经营')",
        timeout=8_000,
    )
    assert dept.evaluate("() => window.__noReload") is True
    dept.screenshot(path=str(ARTIFACTS / "tasks-board.png"), full_page=True)

    # The street watches the task page while the department acts on it.
    secretary.goto(task_url)
    secretary.wait_for_selector("#live-status[data-state=live]", timeout=10_000)
    dept.click("[data-col=to-accept] a:has-text('整治春晖路占道经营')")
    dept.wait_for_url(task_url)
    dept.click("button:has-text('签收')")
    dept.wait_for_url(re.compile(r".*\?done=accept"))
    secretary.wait_for_function(
        "() => document.querySelector('#task-state').innerText.includes('已签收')", timeout=8_000
    )

    dept.click("summary:has-text('办结反馈')")
    today = date.today().isoformat()
    dept.fill("#f-handled_on", today)
    dept.fill("#f-contacted", "摊主代表王先生、市场监管所李所长")
    dept.fill("#f-actions", "劝导摊点入市经营，设置临时疏导区，清理占道物品。")
    dept.fill("#f-done_by", today)
    dept.click("button:has-text('提交办结反馈')")
    dept.wait_for_url(re.compile(r".*\?done=report"))

    secretary.wait_for_selector("#review-pass", timeout=8_000)
    secretary.click("#review-pass")
    secretary.wait_for_url(re.compile(r".*\?done=review"))
    secretary.check("input[name=rating][value=satisfied]")
    secretary.click("#rate-submit")
    secretary.wait_for_url(re.compile(r".*\?done=rate"))
    assert "已评价" in secretary.inner_text("#task-state")
    dept.wait_for_function(
        "() => document.querySelector('#task-state').innerText.includes('已评价')", timeout=8_000
    )
    secretary.screenshot(path=str(ARTIFACTS / "tasks-detail.png"), full_page=True)
    timeline = secretary.inner_text("#task-timeline")
    for step in ("已交办", "已签收", "已反馈", "已审核", "已评价"):
        assert step in timeline

    phone = login_page(chromium, demo_server.base, "dept", width=390)
    phone.goto(task_url)
    phone.screenshot(path=str(ARTIFACTS / "tasks-detail-phone.png"), full_page=True)
    assert dept.errors == [] and secretary.errors == [] and phone.errors == []
    for page in (dept, secretary, phone):
        page.context.close()
