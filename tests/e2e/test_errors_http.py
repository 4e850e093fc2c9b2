"""The one error shape: a full Chinese page, or a fragment for htmx requests."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import Browser, soup

NewBrowser = Callable[[], Browser]


def _assert_full_error_page(r: httpx.Response, status: int, title: str, detail: str) -> None:
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    doc = soup(r)
    assert doc.select_one("html")["lang"] == "zh-CN"
    assert doc.select_one(".error-code").get_text(strip=True) == str(status)
    assert doc.select_one("h1").get_text(strip=True) == title
    assert detail in doc.select_one(".error-page").get_text()
    assert doc.select_one('.error-page a[href="/"]').get_text() == "返回首页"


def _assert_fragment(r: httpx.Response, status: int, detail: str) -> None:
    assert r.status_code == status
    assert "<html" not in r.text.lower()
    assert "<body" not in r.text.lower()
    assert r.headers["HX-Retarget"] == "#flash"
    assert r.headers["HX-Reswap"] == "innerHTML"
    alert = soup(r).select_one(".alert.alert-error")
    assert alert["data-status"] == str(status)
    assert detail in alert.get_text()


async def test_unknown_url_gets_the_chinese_404_page(new_browser: NewBrowser) -> None:
    anonymous = new_browser()
    r = await anonymous.get("/no/such/page")
    _assert_full_error_page(r, 404, "页面不存在", "您要找的页面不存在")
    assert soup(r).select_one('.error-page a[href="/login"]') is not None  # offer to log in
    assert "Not Found" not in r.text

    user = new_browser()
    await user.login("secretary")
    r = await user.get("/no/such/page")
    _assert_full_error_page(r, 404, "页面不存在", "您要找的页面不存在")
    assert "张秀兰" in soup(r).select_one(".whoami").get_text()


async def test_unknown_url_as_htmx_gets_a_fragment(browser: Browser) -> None:
    await browser.login("secretary")
    r = await browser.get("/no/such/page", headers={"HX-Request": "true"})
    _assert_fragment(r, 404, "您要找的页面不存在")


async def test_a_boosted_navigation_gets_the_full_error_page(browser: Browser) -> None:
    await browser.login("secretary")
    r = await browser.get("/no/such/page", headers={"HX-Request": "true", "HX-Boosted": "true"})
    _assert_full_error_page(r, 404, "页面不存在", "您要找的页面不存在")
    assert "HX-Retarget" not in r.headers


async def test_missing_record_explains_itself(browser: Browser) -> None:
    await browser.login("secretary")
    r = await browser.get("/units/999999")
    _assert_full_error_page(r, 404, "页面不存在", "单位不存在，或不在您可查看的范围内。")
    r = await browser.get("/units/999999", headers={"HX-Request": "true"})
    _assert_fragment(r, 404, "单位不存在")


async def test_forbidden_page_and_fragment(browser: Browser) -> None:
    await browser.login("member")
    r = await browser.get("/units")
    _assert_full_error_page(r, 403, "没有权限", "您没有权限执行此操作。")
    r = await browser.get("/admin/users", headers={"HX-Request": "true"})
    _assert_fragment(r, 403, "您没有权限")


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("GET", "/logout", "POST"),
        ("POST", "/units/new", "GET"),
        # Starlette names the methods of the first route with that path only.
        ("PUT", "/units", "GET"),
        ("DELETE", "/admin/users", "GET"),
    ],
)
async def test_wrong_method_gets_405_in_chinese(
    browser: Browser, method: str, url: str, allowed: str
) -> None:
    await browser.login("admin")
    headers = {"X-CSRF-Token": await browser.token()}
    r = await browser.client.request(method, url, headers=headers)
    _assert_full_error_page(r, 405, "不支持的操作", "该地址不支持此操作。")
    assert "Method Not Allowed" not in r.text
    allow = {m.strip() for m in r.headers["allow"].split(",")}
    assert allowed in allow and method not in allow

    r = await browser.client.request(method, url, headers={**headers, "HX-Request": "true"})
    _assert_fragment(r, 405, "该地址不支持此操作。")


async def test_unexpected_failure_gets_the_chinese_500_page(
    web_app: Starlette, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import web.views.dashboard

    async def broken(*args: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(web.views.dashboard, "build_dashboard", broken)
    transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        browser = Browser(client)
        await browser.login("secretary")
        with caplog.at_level(logging.ERROR, logger="gongjian.web"):
            r = await browser.get("/")
            fragment = await browser.get("/", headers={"HX-Request": "true"})

    _assert_full_error_page(r, 500, "服务器出错了", "我们已记录")
    assert "secret internal detail" not in r.text
    assert "Traceback" not in r.text
    assert "secret internal detail" in caplog.text  # logged for us, not shown to the user
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    _assert_fragment(fragment, 500, "服务器遇到了意外问题")


@pytest.mark.parametrize(
    "url",
    [
        "/units/99999999999999999999",
        "/units/99999999999999999999/edit",
        "/streets/99999999999999999999/settings",
        "/admin/users/99999999999999999999",
        "/admin/orgs/99999999999999999999/edit",
    ],
)
async def test_an_absurd_id_in_the_address_is_not_found(browser: Browser, url: str) -> None:
    await browser.login("admin")
    r = await browser.get(url)
    assert r.status_code == 404
    assert soup(r).select_one("h1").get_text(strip=True) == "页面不存在"


@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999",
        "page=²",
        "page=-5",
        "street_id=99999999999999999999",
        "street_id=²",
        "q=%00%25_",
    ],
)
async def test_odd_list_parameters_still_show_the_list(browser: Browser, query: str) -> None:
    await browser.login("admin")
    r = await browser.get(f"/units?{query}")
    assert r.status_code == 200
    assert soup(r).select_one("#unit-table") is not None


@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999",
        "date_from=0001-01-01",
        "date_to=9999-12-31",
        "date_from=9999-12-31&date_to=0001-01-01",
        "object_id=99999999999999999999",
    ],
)
async def test_odd_audit_parameters_still_show_the_log(browser: Browser, query: str) -> None:
    await browser.login("admin")
    r = await browser.get(f"/admin/audit?{query}")
    assert r.status_code == 200
    assert soup(r).select_one("#audit-table") is not None
