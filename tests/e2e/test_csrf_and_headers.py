"""CSRF (signed double-submit token) and the security headers of every page."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import Browser, soup
from tests.e2e.support import (
    CHANGAN_UNIT,
    XINHUA_UNIT,
    count_audit,
    count_units,
    org_id,
    set_cookie_headers,
    street_settings,
    unit_id,
    user_id,
)

NewBrowser = Callable[[], Browser]


async def _new_unit_form(app: Starlette) -> dict[str, str]:
    return {
        "name": "滨江市第二人民医院",
        "kind": "stationed",
        "unit_type": "public_institution",
        "street_id": str(await org_id(app, "新华街道")),
        "party_members": "12",
    }


def _assert_csrf_page(r: httpx.Response) -> None:
    assert r.status_code == 403
    doc = soup(r)
    assert doc.select_one("html") is not None
    assert doc.select_one("h1").get_text(strip=True) == "没有权限"
    assert "安全校验失败" in doc.select_one(".error-page").get_text()


async def test_post_without_a_token_is_refused_and_changes_nothing(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    units, audit = await count_units(web_app), await count_audit(web_app)

    r = await browser.client.post("/units", data=await _new_unit_form(web_app))

    _assert_csrf_page(r)
    assert await count_units(web_app) == units
    assert await count_audit(web_app) == audit
    # Still logged in: the refusal shows the user's own navigation.
    assert "张秀兰" in soup(r).select_one(".whoami").get_text()


async def test_post_with_a_wrong_token_is_refused(web_app: Starlette, browser: Browser) -> None:
    await browser.login("secretary")
    units = await count_units(web_app)
    form = await _new_unit_form(web_app)

    token = await browser.token()
    # The real token with its last character changed (to something it is not already).
    tampered = token[:-1] + ("1" if token.endswith("0") else "0")
    for bad in ("forged", "abc.def", tampered, ""):
        r = await browser.client.post("/units", data={**form, "csrf_token": bad})
        _assert_csrf_page(r)
    assert await count_units(web_app) == units


async def test_a_token_from_another_session_is_refused(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    victim, attacker = new_browser(), new_browser()
    await victim.login("admin")
    await attacker.login("secretary")
    victim_token = await victim.token()
    form = await _new_unit_form(web_app)
    units = await count_units(web_app)

    # The attacker's own session with the victim's token in the form.
    r = await attacker.client.post("/units", data={**form, "csrf_token": victim_token})
    _assert_csrf_page(r)

    # Both cookie and field carry the other session's token: the signature binds it to
    # the session it was issued for, so it does not validate here.
    cookies = f"gj_session={attacker.client.cookies['gj_session']}; gj_csrf={victim_token}"
    r = await new_browser().client.post(
        "/units", data={**form, "csrf_token": victim_token}, headers={"Cookie": cookies}
    )
    _assert_csrf_page(r)
    # ...and a fresh token bound to the right session is handed out.
    assert set_cookie_headers(r, "gj_csrf")

    # A token from before login (anonymous) is not good after login either.
    anonymous = new_browser()
    pre_login = await anonymous.token()
    await anonymous.login("secretary")
    assert await anonymous.token() != pre_login
    r = await anonymous.client.post("/units", data={**form, "csrf_token": pre_login})
    _assert_csrf_page(r)

    assert await count_units(web_app) == units


async def test_login_itself_needs_the_token(browser: Browser) -> None:
    r = await browser.client.post(
        "/login", data={"username": "secretary", "password": "gongjian-demo"}
    )
    _assert_csrf_page(r)
    assert not set_cookie_headers(r, "gj_session")


async def test_the_header_token_works_as_htmx_sends_it(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    street = await org_id(web_app, "新华街道")
    page = await browser.get(f"/streets/{street}/settings")
    form = {
        i["name"]: i["value"]
        for i in soup(page).select("form input[type=number]")
        if i.get("name") and i.get("value") is not None
    }
    form["meetings_per_year"] = "8"

    # The page hands htmx the same token in hx-headers on <body>.
    assert await browser.token() in soup(page).select_one("body")["hx-headers"]

    r = await browser.client.post(
        f"/streets/{street}/settings", data=form, headers={"X-CSRF-Token": await browser.token()}
    )
    assert r.status_code == 303
    assert (await street_settings(web_app, street))["meetings_per_year"] == "8"


async def test_a_failed_htmx_request_gets_a_fragment_for_the_flash_area(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    units = await count_units(web_app)
    r = await browser.client.post(
        "/units",
        data=await _new_unit_form(web_app),
        headers={"HX-Request": "true", "X-CSRF-Token": "forged.token"},
    )
    assert r.status_code == 403
    assert "<html" not in r.text.lower()
    assert r.headers["HX-Retarget"] == "#flash"
    assert r.headers["HX-Reswap"] == "innerHTML"
    alert = soup(r).select_one(".alert-error")
    assert alert["data-status"] == "403"
    assert "安全校验失败" in alert.get_text()
    assert await count_units(web_app) == units


# --- security headers -----------------------------------------------------------------


def _directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _page_problems(url: str, r: httpx.Response) -> list[str]:
    problems: list[str] = []
    csp = _directives(r.headers.get("content-security-policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    if not scripts:
        problems.append(f"{url}: no script-src")
    elif "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts:
        problems.append(f"{url}: script-src allows inline/eval: {scripts}")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"{url}: frame-ancestors is {csp.get('frame-ancestors')}")
    if "'unsafe-inline'" in csp.get("style-src", []):
        problems.append(f"{url}: style-src allows inline")
    if r.headers.get("x-content-type-options") != "nosniff":
        problems.append(f"{url}: no nosniff")
    if r.headers.get("referrer-policy") not in {"same-origin", "strict-origin", "no-referrer"}:
        problems.append(f"{url}: referrer-policy {r.headers.get('referrer-policy')}")
    doc = soup(r)
    for script in doc.select("script"):
        if not script.get("src") or script.get_text().strip():
            problems.append(f"{url}: inline script {str(script)[:80]}")
    for tag in doc.find_all(True):
        inline = [a for a in tag.attrs if a.lower().startswith("on") or a.lower() == "style"]
        if inline:
            problems.append(f"{url}: inline {inline} on <{tag.name}>")
    return problems


async def test_every_page_sends_the_security_headers_and_no_inline_script(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    anonymous = new_browser()
    admin = new_browser()
    await admin.login("admin")
    xinhua = await org_id(web_app, "新华街道")
    unit = await unit_id(web_app, XINHUA_UNIT)
    pages = [
        "/",
        "/units",
        "/units?status=all",
        "/units/new",
        "/units/import",
        f"/units/{unit}",
        f"/units/{unit}/edit",
        f"/units/{await unit_id(web_app, CHANGAN_UNIT)}",
        f"/streets/{xinhua}/settings",
        "/admin/orgs",
        f"/admin/orgs/{xinhua}/edit",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{await user_id(web_app, 'secretary')}",
        "/admin/audit",
        "/account/password",
        "/no/such/page",
        # Typed text comes back escaped, never as markup.
        "/units?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/admin/users?q=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E",
        "/admin/audit?actor=%3Cscript%3Ealert(1)%3C/script%3E&date_from=%22onfocus=%22x",
    ]
    problems: list[str] = []
    seen = 0
    for url in pages:
        r = await admin.get(url)
        assert r.status_code in {200, 404}, url
        problems += _page_problems(url, r)
        seen += 1
    for url in ["/login", "/nothing-here", "/login?next=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"]:
        problems += _page_problems(url, await anonymous.get(url))
    # Error pages rendered by the handler (403, 400 form re-render) too.
    member = new_browser()
    await member.login("member")
    problems += _page_problems("403", await member.get("/units"))
    problems += _page_problems("400", await admin.post("/units", {"name": ""}))
    problems += _page_problems("login 400", await anonymous.login("admin", "wrong-pass-1"))

    assert seen == len(pages)
    assert problems == []


@pytest.mark.parametrize("url", ["/healthz", "/static/app.js", "/static/app.css"])
async def test_non_page_responses_carry_the_headers_too(browser: Browser, url: str) -> None:
    r = await browser.get(url)
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
