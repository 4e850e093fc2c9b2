"""The supervision dashboard in real Chromium: figures, the three-colour board, charts, a
phone width, and no CSP violations (the charts are server-drawn SVG, no script)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adapters.db import make_engine, make_session_factory
from tests.live_server import ARTIFACTS, live_server
from tests.supervision_data import DEPT, TaskMaker, seed_dashboard

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")


async def _seed(db: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        return await seed_dashboard(make_session_factory(engine))
    finally:
        await engine.dispose()


async def _assign(db: Path, title: str) -> None:
    """The secretary hands out one more task (another process: the server hears of it
    through the events outbox)."""
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        await TaskMaker(make_session_factory(engine)).create(DEPT, title, days=5)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def live_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("live")
    with live_server(tmp) as base:
        asyncio.run(_seed(tmp / "live.db"))
        yield base, tmp / "live.db"


@pytest.fixture(scope="module")
def server(live_db: tuple[str, Path]) -> str:
    return live_db[0]


def _login(page, server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    for folder in (SHOTS, ARTIFACTS):
        folder.mkdir(exist_ok=True, parents=True)
        page.screenshot(path=str(folder / f"supervision_{name}.png"), full_page=True)


def test_secretary_reads_the_dashboard(server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, server, "secretary")
    page.click("nav.nav >> text=督办")
    page.wait_for_url("**/streets/*/supervision")
    assert page.locator("h1.page-title").inner_text() == "新华街道 · 督办统计"
    # The demo's own tasks are there too (fresh ones): compare the page with itself.
    figures = page.locator("#supervision-figures")
    board = page.locator("#supervision-board")
    red_titles = board.locator("[data-level=red] li a").all_inner_texts()
    assert {"新华路占道经营整治", "东湖农贸市场食品安全检查", "新华路井盖破损修复"} <= set(
        red_titles
    )
    assert figures.locator("[data-figure=red] .sv-kpi-num").inner_text() == str(len(red_titles))
    assert "文化里老旧小区加装电梯协调" in board.locator("[data-level=yellow]").inner_text()
    assert "春晖路共享单车乱停放治理" in board.locator("[data-level=blue]").inner_text()
    overdue = page.locator("#supervision-overdue tbody tr").count()
    assert figures.locator("[data-figure=overdue] .sv-kpi-num").inner_text() == str(overdue)
    # The state chart is drawn: one rect per state with tasks, each in the legend.
    assert page.locator("svg.sv-stack rect").count() == page.locator(".sv-legend li").count() > 2
    assert page.locator("#unit-table tbody tr").count() >= 4
    page.wait_for_function("() => window.gongjianLive && window.gongjianLive.seq() >= 0")
    _shot(page, "street")
    page.click(".sv-tabs >> text=红黑榜")
    page.wait_for_url("**/supervision/ranking")
    _shot(page, "ranking")
    page.click(".sv-tabs >> text=通报")
    page.wait_for_url("**/supervision/bulletins")
    assert page.locator(".sv-bulletins li").count() >= 3
    _shot(page, "bulletins")
    assert errors == [], errors
    page.close()


def test_district_on_a_phone(server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, server, "district")
    page.goto(server + "/supervision")
    page.wait_for_url("**/districts/*/supervision")
    assert page.locator("h1.page-title").inner_text() == "和平区 · 督办统计"
    rows = page.locator("#street-table tbody tr")
    assert rows.count() == 2
    # All the open work is in 新华街道.
    open_total = page.locator("#supervision-figures [data-figure=open] .sv-kpi-num").inner_text()
    assert rows.first.locator("td[data-label=在办]").inner_text() == open_total
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    _shot(page, "district_phone")
    assert errors == [], errors
    page.close()


def test_the_dashboard_follows_new_tasks_live(live_db: tuple[str, Path], chromium) -> None:  # type: ignore[no-untyped-def]
    server, db = live_db
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    _login(page, server, "supervisor")
    page.goto(server + "/supervision")
    page.wait_for_url("**/streets/*/supervision")
    page.wait_for_selector("#live-status[data-state=live]")
    kpi = "#supervision-figures [data-figure=open] .sv-kpi-num"
    before = int(page.locator(kpi).inner_text())
    marker = page.evaluate("() => (window.__marker = Math.random())")
    # Playwright's sync API keeps an event loop in this thread: the change runs in another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _assign(db, "实时更新测试任务")).result()
    page.wait_for_function(
        f"() => document.querySelector('{kpi}').textContent.trim() === '{before + 1}'",
        timeout=10_000,
    )
    # Swapped in place, without a reload.
    assert page.evaluate("() => window.__marker") == marker
    page.close()
