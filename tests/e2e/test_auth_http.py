"""Logging in and out, the throttle, safe redirects and changing one's password, over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from domain.models import WebSession
from tests.conftest import Browser, soup
from tests.e2e.support import count, flash_text, input_value, set_cookie_headers

NewBrowser = Callable[[], Browser]


async def test_good_login_redirects_home_with_a_safe_session_cookie(browser: Browser) -> None:
    r = await browser.login("secretary")

    assert r.status_code == 303
    assert r.headers["location"] == "/"
    [cookie] = set_cookie_headers(r, "gj_session")
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "path=/" in attrs
    # A fresh CSRF token bound to the new session comes with it.
    [csrf] = set_cookie_headers(r, "gj_csrf")
    assert "samesite=lax" in csrf.lower()

    page = await browser.get("/")
    assert page.status_code == 200
    assert "张秀兰" in soup(page).select_one(".whoami").get_text()


async def test_login_goes_on_to_a_local_next_page(browser: Browser) -> None:
    start = await browser.get("/units?status=retired")
    assert start.status_code == 303
    assert start.headers["location"] == "/login?next=/units%3Fstatus%3Dretired"

    form_page = await browser.get(start.headers["location"])
    assert input_value(soup(form_page), "next") == "/units?status=retired"

    r = await browser.post(
        "/login",
        {"username": "secretary", "password": "gongjian-demo", "next": "/units?status=retired"},
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/units?status=retired"
    page = await browser.get(r.headers["location"])
    assert page.status_code == 200
    assert soup(page).select_one("#f-status option[selected]")["value"] == "retired"


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "//evil.example/units",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
async def test_login_ignores_an_offsite_next(browser: Browser, next_url: str) -> None:
    r = await browser.post(
        "/login", {"username": "secretary", "password": "gongjian-demo", "next": next_url}
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/"

    # Already logged in, the login page forwards to `next`: the same rule applies.
    again = await browser.get("/login", params={"next": next_url})
    assert again.status_code == 303
    assert again.headers["location"] == "/"


async def test_bad_password_shows_the_form_again_with_the_username(browser: Browser) -> None:
    r = await browser.login("secretary", "wrong-password-1")

    assert r.status_code == 400
    doc = soup(r)
    assert input_value(doc, "username") == "secretary"
    assert input_value(doc, "password") == ""  # never echoed
    assert "用户名或密码错误" in flash_text(r)
    assert not set_cookie_headers(r, "gj_session")
    assert (await browser.get("/")).status_code == 303


async def test_unknown_user_gets_the_same_message_as_a_wrong_password(browser: Browser) -> None:
    r = await browser.login("nobody-here", "whatever-123")
    assert r.status_code == 400
    assert "用户名或密码错误" in flash_text(r)
    assert input_value(soup(r), "username") == "nobody-here"


async def test_empty_login_asks_for_both_fields(browser: Browser) -> None:
    r = await browser.post("/login", {"username": "  ", "password": ""})
    assert r.status_code == 400
    assert "请输入用户名和密码" in flash_text(r)


async def test_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password(
    new_browser: NewBrowser,
) -> None:
    browser = new_browser()
    for _ in range(5):
        r = await browser.login("liaison", "not-the-password-1")
        assert r.status_code == 400

    r = await browser.login("liaison")  # correct password
    assert r.status_code == 429
    assert "连续登录失败 5 次" in flash_text(r)
    assert "分钟后再试" in flash_text(r)
    assert input_value(soup(r), "username") == "liaison"
    assert not set_cookie_headers(r, "gj_session")
    assert (await browser.get("/")).status_code == 303

    # The throttle is per account: another user logs in normally.
    other = new_browser()
    assert (await other.login("liaison2")).status_code == 303


async def test_logout_revokes_the_session_on_the_server(
    web_app: object, new_browser: NewBrowser
) -> None:
    browser = new_browser()
    await browser.login("supervisor")
    old_cookie = browser.client.cookies["gj_session"]
    assert (await browser.get("/")).status_code == 200

    r = await browser.post("/logout")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert (await browser.get("/")).status_code == 303

    # Replaying the old cookie from elsewhere no longer works.
    thief = new_browser()
    replay = await thief.get("/", headers={"Cookie": f"gj_session={old_cookie}"})
    assert replay.status_code == 303
    assert replay.headers["location"] == "/login?next=/"
    assert await count(web_app, WebSession, WebSession.revoked_at.is_(None)) == 0


async def test_logout_is_not_a_get(browser: Browser) -> None:
    await browser.login("supervisor")
    r = await browser.get("/logout")
    assert r.status_code == 405
    assert (await browser.get("/")).status_code == 200


async def _change_password(browser: Browser, current: str, new: str, repeat: str) -> httpx.Response:
    return await browser.post(
        "/account/password", {"current": current, "new": new, "repeat": repeat}
    )


async def test_change_password_with_a_wrong_current_password(new_browser: NewBrowser) -> None:
    browser = new_browser()
    await browser.login("liaison")
    r = await _change_password(browser, "not-my-password", "Better-pass-2026", "Better-pass-2026")

    assert r.status_code == 400
    doc = soup(r)
    assert doc.select_one("#e-current").get_text(strip=True) == "当前密码不正确。"
    assert all(i.get("value", "") == "" for i in doc.select("input[type=password]"))
    # Still the old password.
    assert (await new_browser().login("liaison")).status_code == 303


async def test_change_password_checks_the_repeat_and_the_rules(browser: Browser) -> None:
    await browser.login("liaison")
    r = await _change_password(browser, "gongjian-demo", "Better-pass-2026", "Better-pass-2027")
    assert r.status_code == 400
    assert soup(r).select_one("#e-repeat").get_text(strip=True) == "两次输入的新密码不一致。"

    r = await _change_password(browser, "gongjian-demo", "short1", "short1")
    assert r.status_code == 400
    assert "至少 8 位" in soup(r).select_one("#e-new").get_text()


async def test_changed_password_logs_out_the_other_sessions(new_browser: NewBrowser) -> None:
    laptop, phone = new_browser(), new_browser()
    await laptop.login("liaison")
    await phone.login("liaison")
    assert (await phone.get("/")).status_code == 200

    r = await _change_password(laptop, "gongjian-demo", "Better-pass-2026", "Better-pass-2026")
    assert r.status_code == 200
    assert "密码已修改" in soup(r).select_one(".alert-ok").get_text()

    assert (await laptop.get("/")).status_code == 200  # this session stays
    assert (await phone.get("/")).status_code == 303  # the other one is gone

    assert (await new_browser().login("liaison")).status_code == 400
    assert (await new_browser().login("liaison", "Better-pass-2026")).status_code == 303
