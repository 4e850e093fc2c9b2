"""One activity date over HTTP: sign-up and the waitlist, approval, QR check-in with the login
round trip, organiser check-in, settlement with points on "my activities", make-ups."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import update

from domain.enums import ActivityKind, SignupRule
from domain.models.activities import ActivityOccurrence
from tests.activity_factory import make_activity, now_utc, occurrence, signups
from tests.conftest import soup


async def test_signup_waitlist_cancel_and_my_page(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    made = await make_activity(
        web_app.state.session_factory, starts=now_utc() + timedelta(days=2), capacity=1
    )
    url = f"/activities/o/{made.occ}"
    member = new_browser()
    await member.login("member")
    page = await member.get(url)
    assert page.status_code == 200
    doc = soup(page)
    assert doc.select_one("#occurrence-page[data-live-region]") is not None
    assert doc.select_one(f'a[href="/activities/{made.activity_id}"]').text == "共建联合活动"
    assert doc.select_one(f'a[href="{url}.ics"]').text.strip() == "加入日历 (.ics)"
    assert "0</strong> / 1" in doc.select_one("#occ-seats").decode_contents()
    # Without CSRF: refused.
    raw = await member.client.post(f"{url}/signup", data={})
    assert raw.status_code == 403
    done = await member.post(f"{url}/signup", {"note": ""}, follow_redirects=True)
    assert "报名成功" in done.text
    assert soup(done).select_one("#my-state").text == "已报名"
    again = await member.post(f"{url}/signup", {"note": ""})
    assert again.status_code == 409 and "您已报名该活动" in again.text

    # The liaison is second: waitlisted, first in line.
    other = new_browser()
    await other.login("liaison")
    second = await other.post(f"{url}/signup", {}, follow_redirects=True)
    assert "候补名单" in second.text
    assert soup(second).select_one("#my-state").text == "候补第1位"
    mine = await other.get("/activities/mine")
    assert "候补第1位" in soup(mine).select_one("#my-upcoming").text

    # The member cancels from the date page: the liaison is promoted.
    (first_row, _) = await signups(web_app.state.session_factory, made.occ)
    gone = await member.post(
        f"/activities/signups/{first_row.id}/cancel",
        {"version": str(first_row.version), "occurrence": str(made.occ)},
        follow_redirects=True,
    )
    assert "已取消报名" in gone.text
    promoted = await other.get(url)
    assert soup(promoted).select_one("#my-state").text == "已报名"
    # Someone else's sign-up cannot be cancelled.
    rows = await signups(web_app.state.session_factory, made.occ)
    theirs = await member.post(
        f"/activities/signups/{rows[1].id}/cancel", {"occurrence": str(made.occ)}
    )
    assert theirs.status_code == 403 and "只能取消自己的报名" in theirs.text


async def test_approval_and_decline_need_an_organiser_and_a_reason(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    made = await make_activity(
        web_app.state.session_factory,
        starts=now_utc() + timedelta(days=2),
        rule=SignupRule.APPROVAL,
    )
    url = f"/activities/o/{made.occ}"
    member = new_browser()
    await member.login("member")
    pending = await member.post(f"{url}/signup", {}, follow_redirects=True)
    assert "等待组织方审核" in pending.text
    (row,) = await signups(web_app.state.session_factory, made.occ)
    # The member cannot approve themselves.
    denied = await member.post(
        f"/activities/signups/{row.id}/approve", {"occurrence": str(made.occ)}
    )
    assert denied.status_code == 403
    organiser = new_browser()
    await organiser.login("community")
    page = soup(await organiser.get(url))
    assert page.select_one(f'#pending-list li[data-signup="{row.id}"]') is not None
    bad = await organiser.post(
        f"/activities/signups/{row.id}/decline",
        {"reason": "", "version": str(row.version), "occurrence": str(made.occ)},
    )
    assert bad.status_code == 400 and "请填写未通过的原因" in bad.text
    ok = await organiser.post(
        f"/activities/signups/{row.id}/approve",
        {"version": str(row.version), "occurrence": str(made.occ)},
        follow_redirects=True,
    )
    assert "已审核通过" in ok.text
    assert soup(ok).select_one(f'#signup-table tr[data-signup="{row.id}"]') is not None


async def test_qr_checkin_round_trip_and_settlement_points(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    factory = web_app.state.session_factory
    start = now_utc() + timedelta(minutes=10)
    made = await make_activity(
        factory, starts=start, kind=ActivityKind.THEMED_DAY, title="主题党日"
    )
    url = f"/activities/o/{made.occ}"
    organiser = new_browser()
    await organiser.login("community")
    member = new_browser()
    await member.login("member")
    await member.post(f"{url}/signup", {})

    # The QR page (organisers only) shows an inline SVG and the absolute check-in URL.
    assert (await member.get(f"{url}/qr")).status_code == 403
    qr = await organiser.get(f"{url}/qr")
    token = (await occurrence(factory, made.occ)).checkin_token
    assert qr.status_code == 200
    assert soup(qr).select_one(".qr-box svg path") is not None
    assert soup(qr).select_one("#checkin-url").text == f"http://testserver/checkin/{token}"
    assert "style=" not in qr.text.split("<main", 1)[1]

    # A phone that is not logged in is sent to the login and comes back.
    phone = new_browser()
    first = await phone.get(f"/checkin/{token}")
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=" + quote(f"/checkin/{token}")
    back = await phone.post(
        "/login",
        {"username": "member", "password": "gongjian-demo", "next": f"/checkin/{token}"},
    )
    assert back.headers["location"] == f"/checkin/{token}"
    page = await phone.get(f"/checkin/{token}")
    assert "确认签到" in page.text and "主题党日" in page.text
    done = await phone.post(f"/checkin/{token}", {})
    assert "签到成功" in done.text
    assert "您已签到" in (await phone.get(f"/checkin/{token}")).text

    # A new token: the old code leads nowhere.
    await organiser.post(f"{url}/qr", {})
    stale = await phone.get(f"/checkin/{token}")
    assert stale.status_code == 404 and "签到码无效" in stale.text

    # The liaison signs up too; the organiser ticks them off, then takes it back.
    liaison = new_browser()
    await liaison.login("liaison")
    await liaison.post(f"{url}/signup", {})
    rows = await signups(factory, made.occ)
    lrow = rows[1]
    ticked = await organiser.post(
        f"/activities/signups/{lrow.id}/checkin",
        {"version": str(lrow.version), "occurrence": str(made.occ)},
        follow_redirects=True,
    )
    assert "已签到" in soup(ticked).select_one(f'tr[data-signup="{lrow.id}"]').text
    lrow = (await signups(factory, made.occ))[1]
    await organiser.post(
        f"/activities/signups/{lrow.id}/undo",
        {"version": str(lrow.version), "occurrence": str(made.occ)},
    )

    # Settling before the end is refused; after it, points appear on the member's page.
    early = await organiser.post(f"{url}/settle", {})
    assert early.status_code == 409 and "活动结束后才能结算" in early.text
    async with factory() as s:
        past = now_utc() - timedelta(hours=3)
        await s.execute(
            update(ActivityOccurrence)
            .where(ActivityOccurrence.id == made.occ)
            .values(starts_at=past, ends_at=past + timedelta(hours=2))
        )
        await s.commit()
    settled = await organiser.post(f"{url}/settle", {}, follow_redirects=True)
    assert "结算完成" in settled.text
    assert "缺席" in soup(settled).select_one("#no-shows").find_previous("h3").text
    twice = await organiser.post(f"{url}/settle", {})
    assert twice.status_code == 409 and "已结算" in twice.text
    summary = await organiser.post(
        f"{url}/summary", {"summary": "学习了新修订的党章。"}, follow_redirects=True
    )
    assert "活动小结已保存" in summary.text
    mine = soup(await member.get("/activities/mine"))
    assert mine.select_one("#my-total-points").text == "2"
    assert "主题党日" in mine.select_one("#my-past").text
    own = soup(await member.get(url))
    assert own.select_one("#my-points").text == "获得 2 积分"
    assert "学习了新修订的党章" in own.select_one("#occ-summary").text

    # The liaison missed it: the community secretary's make-up list shows the expected
    # members who did not attend (the liaison is not a member of the community).
    makeups = await organiser.get("/activities/makeups")
    assert makeups.status_code == 200
    assert soup(makeups).select_one("#makeup-list[data-live-region]") is not None
    assert (await member.get("/activities/makeups")).status_code == 403


async def test_makeup_closed_by_hand_over_http(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    factory = web_app.state.session_factory
    past = now_utc() - timedelta(hours=3)
    made = await make_activity(factory, starts=past, kind=ActivityKind.THEMED_DAY, title="主题党日")
    organiser = new_browser()
    await organiser.login("community")
    await organiser.post(f"/activities/o/{made.occ}/settle", {})
    page = soup(await organiser.get("/activities/makeups"))
    row = page.select_one("#open-makeups tr[data-makeup]")
    assert row is not None and "赵明" in row.text
    makeup_id = row["data-makeup"]
    version = row.select_one('input[name="version"]')["value"]
    bad = await organiser.post(
        f"/activities/makeups/{makeup_id}/close", {"note": "", "version": version}
    )
    assert bad.status_code == 400 and "请填写补课说明" in bad.text
    ok = await organiser.post(
        f"/activities/makeups/{makeup_id}/close",
        {"note": "随支部补学", "version": version},
        follow_redirects=True,
    )
    assert "已登记补课" in ok.text
    assert "随支部补学" in soup(ok).select_one("#closed-makeups").text


# --- real Chromium: the date page, the QR page and the check-in page, desktop and phone ---


def _insert_activity(server) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    import asyncio

    from adapters.db import make_engine, make_session_factory

    async def run() -> tuple[int, str]:
        engine = make_engine(f"sqlite+aiosqlite:///{server.tmp / 'live.db'}")
        factory = make_session_factory(engine)
        made = await make_activity(
            factory,
            starts=now_utc() + timedelta(minutes=10),
            kind=ActivityKind.THEMED_DAY,
            title="十二月主题党日：学习新修订的党章",
            capacity=30,
        )
        token = (await occurrence(factory, made.occ)).checkin_token
        await engine.dispose()
        return made.occ, token

    # Playwright's sync API runs an event loop in this thread: use another one.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_date_qr_and_checkin_pages_in_chromium(demo_server, chromium) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from tests.live_server import login_page

    shots = Path("test-artifacts")
    shots.mkdir(exist_ok=True)
    occ_id, token = _insert_activity(demo_server)
    base = demo_server.base

    phone = login_page(chromium, base, "member", width=390)
    phone.goto(f"{base}/activities/o/{occ_id}")
    phone.click("form.occ-signup button[type=submit]")
    phone.wait_for_selector("#my-state")
    assert phone.inner_text("#my-state") == "已报名"
    phone.screenshot(path=str(shots / "occurrence-390.png"), full_page=True)
    # Nothing wider than the phone's screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    desk = login_page(chromium, base, "community", width=1280)
    desk.goto(f"{base}/activities/o/{occ_id}")
    assert "赵明" in desk.inner_text("#signup-table")
    desk.screenshot(path=str(shots / "occurrence-1280.png"), full_page=True)
    desk.goto(f"{base}/activities/o/{occ_id}/qr")
    assert desk.locator(".qr-box svg").bounding_box()["width"] > 200  # type: ignore[index]
    assert desk.inner_text("#checkin-url") == f"{base}/checkin/{token}"
    desk.screenshot(path=str(shots / "qr-1280.png"), full_page=True)
    desk.set_viewport_size({"width": 390, "height": 844})
    desk.screenshot(path=str(shots / "qr-390.png"), full_page=True)

    phone.goto(f"{base}/checkin/{token}")
    phone.screenshot(path=str(shots / "checkin-390.png"), full_page=True)
    phone.click(".checkin-button")
    phone.wait_for_selector(".checkin-done")
    assert "签到成功" in phone.inner_text(".checkin-done")
    phone.screenshot(path=str(shots / "checkin-done-390.png"), full_page=True)
    phone.set_viewport_size({"width": 1280, "height": 900})
    phone.goto(f"{base}/checkin/{token}")
    phone.screenshot(path=str(shots / "checkin-1280.png"), full_page=True)
    # The organiser's list shows the check-in live (the region re-fetches on the event).
    desk.set_viewport_size({"width": 1280, "height": 900})
    desk.goto(f"{base}/activities/o/{occ_id}")
    assert "已签到" in desk.inner_text("#signup-table")
    assert phone.errors == [] and desk.errors == []  # no CSP violation, no script error
