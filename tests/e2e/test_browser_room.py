"""The meeting room in real Chromium: the convener leads, a liaison follows and votes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import ARTIFACTS, LiveServer
from tests.meetings import create_meeting_at

pytestmark = pytest.mark.browser


ITEMS = [
    ("progress", "上次议定事项落实情况"),
    ("normal", "老旧小区加装电梯共建方案"),
    ("normal", "背街小巷环境整治分工"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    srv = LiveServer(tmp_path_factory.mktemp("room"))
    srv.prepare()
    session_id, _items = create_meeting_at(
        srv.env["DATABASE_URL"],
        ITEMS,
        title="2026年第四季度党建联席会议",
        secret="browser-test-secret",
    )
    srv.start()
    yield srv, session_id
    srv.stop()


def login(chromium, base: str, username: str, width: int = 1280):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def test_convener_leads_liaison_follows_and_votes(server, chromium) -> None:  # type: ignore[no-untyped-def]
    srv, session_id = server
    base = srv.base
    room = f"{base}/sessions/{session_id}/room"
    convener = login(chromium, base, "secretary")
    liaison = login(chromium, base, "liaison", width=420)  # on a phone
    errors: list[str] = []
    for page in (convener, liaison):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    convener.goto(room)
    liaison.goto(room)
    for page in (convener, liaison):
        page.wait_for_selector("#live-status[data-state=live]")
    liaison.evaluate("() => { window.__noReload = true; }")

    # The liaison signs in by the venue's QR link; the convener's count moves.
    liaison.goto(f"{base}/sessions/{session_id}/signin?k=browser-test-secret")
    liaison.click("text=为本单位签到")
    liaison.wait_for_url(room)
    liaison.wait_for_selector("#live-status[data-state=live]")
    liaison.evaluate("() => { window.__noReload = true; }")
    convener.wait_for_function(
        "() => document.querySelector('#room-attendance [data-signed]').dataset.signed === '1'"
    )

    convener.click("#room-controls form[action$='/open'] button")
    liaison.wait_for_function(
        "() => document.querySelector('#room-item .current-title')"
        ".innerText.includes('上次议定事项')"
    )
    convener.wait_for_selector("#next-item button")
    convener.click("#next-item button")
    liaison.wait_for_function(
        "() => document.querySelector('#room-item .current-title').innerText.includes('加装电梯')"
    )
    assert (
        liaison.locator("#room-agenda li.current").inner_text().endswith("老旧小区加装电梯共建方案")
    )

    convener.wait_for_function(
        "() => document.querySelector('#room-editor').innerText.includes('加装电梯')"
    )
    convener.fill("#f-motion", "同意老旧小区加装电梯共建方案")
    convener.click("#room-editor form[action$='/votes'] button")
    liaison.wait_for_selector("#room-controls .vote-form")
    assert "同意老旧小区加装电梯共建方案" in liaison.locator("#room-vote").inner_text()
    liaison.click("#room-controls .vote-form button[value=for]")
    convener.wait_for_function(
        "() => document.querySelector('#room-vote [data-choice=for]').innerText === '1'"
    )
    liaison.wait_for_selector("#room-controls .voted")
    assert "赞成" in liaison.locator("#room-controls .voted").inner_text()
    assert liaison.evaluate("() => window.__noReload") is True

    ARTIFACTS.mkdir(exist_ok=True)
    convener.screenshot(path=str(ARTIFACTS / "room-convener.png"), full_page=True)
    liaison.screenshot(path=str(ARTIFACTS / "room-liaison-phone.png"), full_page=True)

    # A second ballot from the same unit (say, a stale second tab) is refused with a message.
    vote_id = liaison.locator("#room-vote .tally").get_attribute("data-vote-id")
    response = liaison.request.post(
        f"{base}/votes/{vote_id}/ballot",
        form={
            "csrf_token": _csrf(liaison, base),
            "unit_id": liaison.locator(".my-unit").first.get_attribute("data-unit-id") or "",
            "choice": "against",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status == 400 and "只能投一票" in response.text()
    assert errors == [], errors


def _csrf(page, base: str) -> str:  # type: ignore[no-untyped-def]
    return next(c["value"] for c in page.context.cookies(base) if c["name"] == "gj_csrf")
