"""The health check for load balancers and `make run`: JSON, and 503 when the database is gone."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from tests.conftest import Browser, make_config


async def test_healthz_reports_the_embedded_backends(browser: Browser) -> None:
    r = await browser.get("/healthz")

    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"status": "ok", "database": "ok", "live": "memory", "jobs": "inline"}
    # No session is needed, and none is looked up.
    assert "gj_session" not in r.headers.get("set-cookie", "")


async def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    from web.app import create_app

    app: Starlette = create_app(
        make_config("postgresql+asyncpg://nobody@127.0.0.1:1/none"), run_jobs=False
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.get("/healthz")
    finally:
        await app.state.engine.dispose()

    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "error"
    assert body["database"] == "unavailable"
    assert (body["live"], body["jobs"]) == ("memory", "inline")
