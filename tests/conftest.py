"""Shared fixtures: a migrated database on SQLite or PostgreSQL, demo data, an HTTP client."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db import make_engine, make_session_factory
from adapters.migrate import upgrade
from domain.models import Base
from gongjian.config import Config
from tests.services import PG_ADMIN_URL, postgres_available, require_service

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated, dropped at the end."""
    require_service("PostgreSQL", postgres_available())
    name = f"gongjian_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database; the same tests run on both backends."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)

    async def truncate() -> None:
        from domain.models import CalendarDay, CalendarYear
        from domain.tasks.calendar_seed import package_exceptions, package_note, package_years

        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # The working-day calendar is reference data the migration seeds: put it back
            # (as the migration does, without an audit entry), so both backends start from
            # what a freshly migrated database holds.
            years = package_years()
            await conn.execute(
                CalendarYear.__table__.insert(),
                [{"year": y, "source": "chinesecalendar", "note": package_note()} for y in years],
            )
            await conn.execute(
                CalendarDay.__table__.insert(),
                [
                    {"day": d.day, "workday": d.workday, "name": d.name}
                    for y in years
                    for d in package_exceptions(y)
                ],
            )
        await engine.dispose()

    asyncio.run(truncate())
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only, for tests about the web layer rather than the database."""
    path = tmp_path / "web.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def session_factory(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def demo(
    session_factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    from gongjian.demo import seed_demo

    assert await seed_demo(session_factory)
    return session_factory


def make_config(database_url: str, **overrides: object) -> Config:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": None,
        "secret_key": SECRET,
        "host": "127.0.0.1",
        "port": 8000,
        "secure_cookies": False,
        "public_origin": None,
    }
    values.update(overrides)
    return Config(**values)  # type: ignore[arg-type]


class Browser:
    """An httpx client that behaves like a user's browser: keeps cookies, sends the CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, url: str, **kw: object) -> httpx.Response:
        return await self.client.get(url, **kw)  # type: ignore[arg-type]

    async def token(self) -> str:
        # The form field carries the same value as the cookie (double submit).
        if "gj_csrf" not in self.client.cookies:
            await self.client.get("/login")
        return str(self.client.cookies["gj_csrf"])

    async def post(
        self, url: str, data: dict[str, str] | None = None, **kw: object
    ) -> httpx.Response:
        payload = {"csrf_token": await self.token(), **(data or {})}
        return await self.client.post(url, data=payload, **kw)  # type: ignore[arg-type]

    async def login(self, username: str, password: str = "gongjian-demo") -> httpx.Response:
        return await self.post("/login", {"username": username, "password": password})


@pytest.fixture
async def web_app(sqlite_url: str):  # type: ignore[no-untyped-def]
    """The app on a SQLite copy with the demo data loaded."""
    from gongjian.demo import seed_demo
    from web.app import create_app

    app = create_app(make_config(sqlite_url), run_jobs=False)
    await seed_demo(app.state.session_factory)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def new_browser(web_app):  # type: ignore[no-untyped-def]
    """Factory of independent browsers (several users at once)."""
    clients: list[httpx.AsyncClient] = []

    def make() -> Browser:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web_app, client=("127.0.0.1", 50000)),
            base_url="http://testserver",
        )
        clients.append(client)
        return Browser(client)

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
def browser(new_browser) -> Browser:  # type: ignore[no-untyped-def]
    return new_browser()


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")
