"""The activity calendar and planning over HTTP: calendar views and filters, the form with
Chinese errors and kept input, conflict warnings, the activity page, CSRF, query counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from domain.activities.recurrence import local_date
from domain.models.activities import Activity, ActivityOccurrence
from domain.models.base import utcnow
from tests.conftest import Browser, soup
from tests.e2e.support import count, count_statements, field_error, input_value, org_id, unit_id

HOSPITAL = "和平区人民医院"


def next_weekday(weekday: int, weeks: int = 1) -> date:
    today = local_date(utcnow())
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


async def form(app: Starlette, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "joint_activity",
        "title": "共建健康讲座",
        "description": "医院专家讲解慢病防治。",
        "lead_unit_id": str(await unit_id(app, HOSPITAL)),
        "venue": "医院门诊楼三层党员活动室",
        "date": next_weekday(2).isoformat(),
        "start_time": "15:00",
        "end_time": "17:00",
        "capacity": "30",
        "signup_rule": "signup_open",
        "waitlist": "1",
        "repeat": "none",
    }
    values.update(over)
    return values


def names(doc: Any) -> list[str]:
    return [e.select_one(".cal-name").get_text(strip=True) for e in doc.select(".cal-entry")]


async def create(browser: Browser, app: Starlette, street: int, **over: Any) -> httpx.Response:
    return await browser.post(f"/activities/new?street={street}", await form(app, **over))


async def activity_ids(app: Starlette) -> list[int]:
    async with app.state.session_factory() as s:
        return list(await s.scalars(select(Activity.id).order_by(Activity.id)))


async def test_create_show_announce_and_calendar(web_app: Starlette, browser: Browser) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("liaison")
    page = await browser.get(f"/activities/new?street={street}")
    assert page.status_code == 200
    assert "新建活动" in page.text

    r = await create(
        browser,
        web_app,
        street,
        repeat="weekly",
        repeat_weekdays="2",
        recurrence_until=(next_weekday(2) + timedelta(days=21)).isoformat(),
    )
    assert r.status_code == 303, r.text
    (aid,) = await activity_ids(web_app)
    assert r.headers["location"] == f"/activities/{aid}?done=created"
    assert await count(web_app, ActivityOccurrence, ActivityOccurrence.activity_id == aid) == 4

    doc = soup(await browser.get(f"/activities/{aid}"))
    text = doc.get_text()
    assert "每周三" in text and "筹备中" in text
    assert len(doc.select(".act-dates > li")) == 4
    assert doc.select_one('a[href$=".ics"]').get_text() == "下载日历 (.ics)"

    cal = soup(await browser.get(f"/activities?street={street}&view=agenda&date={next_weekday(2)}"))
    assert len(cal.select("#activity-calendar .cal-entry.is-planned")) == 4


async def test_planned_is_hidden_from_members_until_announced(
    web_app: Starlette, new_browser: Any
) -> None:
    street = await org_id(web_app, "新华街道")
    organiser, member = new_browser(), new_browser()
    await organiser.login("liaison")
    await member.login("member")
    assert (await create(organiser, web_app, street)).status_code == 303
    (aid,) = await activity_ids(web_app)
    agenda = f"/activities?street={street}&view=agenda&date={next_weekday(2) - timedelta(days=1)}"

    assert (await member.get(f"/activities/{aid}")).status_code == 404
    assert not soup(await member.get(agenda)).select(".cal-entry")
    # A member may not create activities: no button, and the service refuses.
    assert "新建活动" not in (await member.get(agenda)).text
    refused = await create(member, web_app, street)
    assert refused.status_code == 403

    r = await organiser.post(f"/activities/{aid}/announce", {})
    assert r.status_code == 303
    assert "已发布" in (await organiser.get(f"/activities/{aid}")).text
    assert (await member.get(f"/activities/{aid}")).status_code == 200
    assert names(soup(await member.get(agenda))) == ["共建健康讲座"]


async def test_form_errors_are_chinese_and_keep_the_input(
    web_app: Starlette, browser: Browser
) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("secretary")
    r = await create(browser, web_app, street, title="", end_time="14:00", venue="社区礼堂",
                     repeat="monthly_nth", repeat_nth="1", repeat_weekday="4")  # fmt: skip
    assert r.status_code == 400
    doc = soup(r)
    assert field_error(doc, "title") == "请填写活动名称。"
    assert field_error(doc, "end_time") == "结束时间须晚于开始时间。"
    assert input_value(doc, "venue") == "社区礼堂"
    assert doc.select_one('input[name="repeat"][value="monthly_nth"]').has_attr("checked")
    assert await activity_ids(web_app) == []

    past = await create(browser, web_app, street, date="2020-01-03")
    assert past.status_code == 400
    assert "活动开始时间已过" in field_error(soup(past), "date")

    too_long = await create(
        browser,
        web_app,
        street,
        repeat="weekly",
        repeat_weekdays="2",
        recurrence_until=(next_weekday(2) + timedelta(days=400)).isoformat(),
    )
    assert too_long.status_code == 400
    assert "最多安排 366 天" in too_long.text


async def test_conflict_warning_then_confirm(web_app: Starlette, browser: Browser) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("secretary")
    assert (await create(browser, web_app, street)).status_code == 303
    # Same venue (spelt with spaces), overlapping time: warned, nothing saved, input kept.
    clash = await create(browser, web_app, street, title="第二个活动", start_time="16:00",
                         end_time="18:00", venue=" 医院门诊楼 三层党员活动室")  # fmt: skip
    assert clash.status_code == 400
    doc = soup(clash)
    warning = doc.select_one("#plan-warnings").get_text()
    assert "场地冲突" in warning and "共建健康讲座" in warning
    assert "和平区人民医院同时段另有活动" in warning
    assert input_value(doc, "title") == "第二个活动"
    assert len(await activity_ids(web_app)) == 1

    ok = await create(
        browser,
        web_app,
        street,
        title="第二个活动",
        start_time="16:00",
        end_time="18:00",
        venue="医院门诊楼三层党员活动室",
        confirm_conflicts="1",
    )
    assert ok.status_code == 303
    _first, second = await activity_ids(web_app)
    page = soup(await browser.get(f"/activities/{second}"))
    assert "场地冲突" in page.select_one(".act-date .act-clash").get_text()
    week = soup(await browser.get(f"/activities?street={street}&view=week&date={next_weekday(2)}"))
    assert len(week.select(".cal-entry.has-clash .cal-clash")) == 2


async def test_calendar_views_filters_and_htmx(web_app: Starlette, browser: Browser) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("secretary")
    day = next_weekday(2)
    await create(browser, web_app, street)
    await create(browser, web_app, street, kind="volunteer_service", title="义诊志愿服务",
                 venue="社区广场", start_time="09:00", end_time="11:00")  # fmt: skip
    base = f"/activities?street={street}&date={day}"

    month = soup(await browser.get(base + "&view=month"))
    cells = month.select(".cal-month .cal-cell")
    assert len(cells) % 7 == 0 and len(cells) >= 28
    cell = month.select_one(f'.cal-cell[data-day="{day}"]')
    assert names(cell) == ["义诊志愿服务（筹备中）", "共建健康讲座（筹备中）"]
    week = soup(await browser.get(base + "&view=week"))
    assert len(week.select(".cal-week .cal-wcol")) == 7
    assert "09:00–11:00" in week.select_one(f'.cal-wcol[data-day="{day}"]').get_text()
    agenda = soup(await browser.get(base + "&view=agenda&kind=volunteer_service"))
    assert names(agenda) == ["义诊志愿服务（筹备中）"]
    hospital = await unit_id(web_app, HOSPITAL)
    by_unit = soup(await browser.get(base + f"&view=agenda&unit={hospital}"))
    assert len(by_unit.select(".cal-entry")) == 2
    other = await unit_id(web_app, "文化里社区居委会")
    assert not soup(await browser.get(base + f"&view=agenda&unit={other}")).select(".cal-entry")

    # htmx navigation gets the region only; the full page still works without JS.
    frag = await browser.get(
        base + "&view=week", headers={"HX-Request": "true", "HX-Target": "activity-calendar"}
    )
    assert frag.text.lstrip().startswith('<section id="activity-calendar"')
    nav = soup(frag).select_one(".cal-nav a[hx-get]")
    assert nav["hx-push-url"] == "true" and nav["href"] == nav["hx-get"]


async def test_preview_and_csrf(web_app: Starlette, browser: Browser) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("secretary")
    data = await form(
        web_app,
        repeat="monthly_nth",
        repeat_nth="1",
        repeat_weekday="4",
        recurrence_until=(local_date(utcnow()) + timedelta(days=365)).isoformat(),
    )
    r = await browser.post("/activities/preview", data)
    assert r.status_code == 200
    text = soup(r).get_text()
    assert "每月第一个星期五" in text and "周五 15:00–17:00" in text
    assert len(soup(r).select(".plan-dates li")) == 7  # six dates and "……还有 n 次"

    no_token = await browser.client.post(f"/activities/new?street={street}", data=data)
    assert no_token.status_code == 403
    assert await activity_ids(web_app) == []


async def test_cancel_and_move_dates_over_http(web_app: Starlette, browser: Browser) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("liaison")
    await create(browser, web_app, street, repeat="weekly", repeat_weekdays="2",
                 recurrence_until=(next_weekday(2) + timedelta(days=7)).isoformat())  # fmt: skip
    (aid,) = await activity_ids(web_app)
    async with web_app.state.session_factory() as s:
        first, second = list(
            await s.scalars(
                select(ActivityOccurrence.id)
                .where(ActivityOccurrence.activity_id == aid)
                .order_by(ActivityOccurrence.starts_at)
            )
        )
    bad = await browser.post(f"/activities/{aid}/dates/{first}/cancel", {"reason": ""})
    assert bad.status_code == 400
    assert "请填写原因" in bad.text
    ok = await browser.post(f"/activities/{aid}/dates/{first}/cancel", {"reason": "场地维修"})
    assert ok.status_code == 303
    moved = await browser.post(
        f"/activities/{aid}/dates/{second}/move",
        {"date": (next_weekday(2, 1) + timedelta(days=8)).isoformat(), "start_time": "09:00",
         "end_time": "10:00", "reason": "避开节假日"},
    )  # fmt: skip
    assert moved.status_code == 303
    doc = soup(await browser.get(f"/activities/{aid}"))
    rows = doc.select(".act-date")
    assert "取消原因：场地维修" in rows[0].get_text()
    assert "原定" in rows[1].get_text() and "避开节假日" in rows[1].get_text()
    cancel = await browser.post(f"/activities/{aid}/cancel", {"reason": ""})
    assert cancel.status_code == 400 and "请填写原因" in cancel.text


async def add_activities(app: Starlette, browser: Browser, street: int, n: int) -> None:
    day = next_weekday(2)
    for i in range(n):
        r = await create(
            browser,
            app,
            street,
            title=f"测试活动{i}",
            venue=f"地点{i}",
            date=(day + timedelta(days=i % 5)).isoformat(),
            confirm_conflicts="1",
        )
        assert r.status_code == 303, r.text


async def statements_for(app: Starlette, browser: Browser, url: str) -> int:
    await browser.get(url)
    with count_statements(app) as statements:
        r = await browser.get(url)
    assert r.status_code == 200
    return len(statements)


async def test_calendar_queries_do_not_grow_with_entries(
    web_app: Starlette, browser: Browser
) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("secretary")
    url = f"/activities?street={street}&view=agenda&date={next_weekday(2) - timedelta(days=1)}"
    await add_activities(web_app, browser, street, 2)
    small = await statements_for(web_app, browser, url)
    await add_activities(web_app, browser, street, 18)
    large = await statements_for(web_app, browser, url)
    assert len(soup(await browser.get(url)).select(".cal-entry")) == 20
    assert small == large, (small, large)
    assert small <= 14, small


async def test_edit_form_shows_values_and_saves(web_app: Starlette, browser: Browser) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("liaison")
    until = (next_weekday(2) + timedelta(days=14)).isoformat()
    await create(browser, web_app, street, repeat="weekly", repeat_weekdays="2",
                 recurrence_until=until)  # fmt: skip
    (aid,) = await activity_ids(web_app)
    doc = soup(await browser.get(f"/activities/{aid}/edit"))
    assert input_value(doc, "title") == "共建健康讲座"
    assert input_value(doc, "recurrence_until") == until
    assert doc.select_one('input[name="repeat_weekdays"][value="2"]').has_attr("checked")
    assert "每周三，共 3 次" in doc.select_one("#plan-preview").get_text("", strip=True)
    values = {
        el["name"]: el.get("value", "")
        for el in doc.select("#activity-form input")
        if el.get("type") not in ("checkbox", "radio") and el.get("name")
    }
    values |= {"kind": "joint_activity", "signup_rule": "signup_open", "repeat": "weekly",
               "repeat_weekdays": "3", "lead_unit_id": str(await unit_id(web_app, HOSPITAL)),
               "title": "改到周四"}  # fmt: skip
    r = await browser.post(f"/activities/{aid}/edit", values)
    assert r.status_code == 303, r.text
    page = soup(await browser.get(f"/activities/{aid}"))
    assert "改到周四" in page.get_text() and "每周四" in page.get_text()
    # The same (now stale) form again: refused, nothing overwritten.
    stale = await browser.post(f"/activities/{aid}/edit", {**values, "title": "旧的"})
    assert stale.status_code == 409
    # Someone who is not an organiser cannot open the form.
    other = await browser.get("/activities/999999/edit")
    assert other.status_code == 404


async def test_moving_onto_a_clash_shows_the_warning_and_keeps_the_input(
    web_app: Starlette, browser: Browser
) -> None:
    street = await org_id(web_app, "新华街道")
    await browser.login("liaison")
    await create(browser, web_app, street, title="上午讲座", start_time="09:00", end_time="10:00")
    await create(browser, web_app, street, title="下午讲座", start_time="15:00", end_time="16:00")
    _, later = await activity_ids(web_app)
    async with web_app.state.session_factory() as s:
        occ = await s.scalar(
            select(ActivityOccurrence).where(ActivityOccurrence.activity_id == later)
        )
    assert occ is not None
    move = {"version": str(occ.version), "date": next_weekday(2).isoformat(),
            "start_time": "09:30", "end_time": "10:30", "reason": "专家改到上午"}  # fmt: skip
    warned = await browser.post(f"/activities/{later}/dates/{occ.id}/move", move)
    assert warned.status_code == 400
    doc = soup(warned)
    box = doc.select_one(f"form[action$='/dates/{occ.id}/move']")
    assert box is not None
    assert "上午讲座" in box.get_text() and box.select_one("input[name=confirm_conflicts]")
    assert box.select_one("input[name=reason]")["value"] == "专家改到上午"  # type: ignore[index]
    done = await browser.post(
        f"/activities/{later}/dates/{occ.id}/move", {**move, "confirm_conflicts": "1"}
    )
    assert done.status_code == 303
