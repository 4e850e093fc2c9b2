"""Co-signing the minutes in real Chromium: a liaison signs, the secretary's page follows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.live_server import ARTIFACTS, LiveServer

pytestmark = pytest.mark.browser


def add_co_signing_session(database_url: str) -> int:
    """A closed session whose minutes the secretary has sent out for co-signing."""
    from adapters.db import make_engine, make_session_factory
    from domain.conference import minutes as svc
    from domain.models import Minutes
    from domain.uow import UnitOfWork
    from tests.integration.conftest import load_actor
    from tests.minutes_data import held_session

    async def go() -> int:
        engine = make_engine(database_url)
        try:
            factory = make_session_factory(engine)
            held = await held_session(factory)
            secretary = await load_actor(factory, "secretary")
            async with UnitOfWork(factory, secretary) as uow:
                version = await uow.session.scalar(
                    select(Minutes.version).where(Minutes.session_id == held.session_id)
                )
                assert version is not None
                await svc.start_co_signing(uow, secretary, held.session_id, version)
                await uow.commit()
            return held.session_id
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    srv = LiveServer(tmp_path_factory.mktemp("minutes"))
    srv.prepare()
    url = srv.env["DATABASE_URL"].replace("sqlite:///", "sqlite+aiosqlite:///")
    session_id = add_co_signing_session(url)
    srv.start()
    yield srv, session_id
    srv.stop()


def login(chromium, base: str, username: str, width: int = 1280):  # type: ignore[no-untyped-def]
    page = chromium.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def test_co_signing_progress_follows_live(server, chromium) -> None:  # type: ignore[no-untyped-def]
    srv, session_id = server
    url = f"{srv.base}/sessions/{session_id}/minutes"
    secretary = login(chromium, srv.base, "secretary")
    liaison = login(chromium, srv.base, "liaison", width=390)  # on a phone
    errors: list[str] = []
    for page in (secretary, liaison):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_selector("#live-status[data-state=live]")
    secretary.evaluate("() => { window.__noReload = true; }")
    assert secretary.locator(".sign-summary").inner_text() == "已会签 0 / 4 个成员单位"
    assert secretary.locator("#minutes-actions button[disabled]").inner_text() == "印发纪要"

    liaison.fill("input[name=comment]", "同意，医院可派保安参与夜间巡逻。")
    liaison.click("text=代表和平区人民医院会签")
    liaison.wait_for_selector("text=已代表本单位会签。")
    assert liaison.locator(".sign-form").count() == 0

    # The secretary's page updates in place: progress, the signature, who is still missing.
    secretary.wait_for_function(
        "() => document.querySelector('.sign-summary').innerText.includes('1 / 4')"
    )
    assert secretary.evaluate("() => window.__noReload") is True
    assert "李红梅" in secretary.locator("#signatures").inner_text()
    assert "和平区人民医院" not in secretary.locator("#missing").inner_text()
    assert secretary.locator("#sign-progress").inner_text() == "1 / 4 个成员单位"
    ARTIFACTS.mkdir(exist_ok=True)
    secretary.screenshot(path=str(ARTIFACTS / "minutes-secretary-co-signing.png"), full_page=True)
    liaison.screenshot(path=str(ARTIFACTS / "minutes-liaison-phone.png"), full_page=True)

    secretary.goto(url + "/print")
    assert secretary.locator(".topbar").count() == 0
    assert secretary.locator("#number-label").inner_text() == "（会签稿）"
    secretary.emulate_media(media="print")
    assert not secretary.locator(".print-toolbar").is_visible()
    secretary.screenshot(path=str(ARTIFACTS / "minutes-print.png"), full_page=True)
    assert errors == [], errors
