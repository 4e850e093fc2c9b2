"""Real Chromium for the browser tests (one per test module; sync Playwright API)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import CHROMIUM_ARGS, LiveServer
from tests.services import CHROMIUM, chromium_available, require_service


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    require_service("Chromium", chromium_available())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server on a fresh demo database, one per test module."""
    srv = LiveServer(tmp_path_factory.mktemp("live"))
    srv.prepare()
    srv.start()
    yield srv
    srv.stop()
