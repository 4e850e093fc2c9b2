"""Helpers for service tests against a real database (SQLite and PostgreSQL).

`world` wraps the demo database: it looks up demo organisations, units and
users by name, builds the `Actor` a logged-in user would have, and reads the
audit log, so that tests speak in the demo's own names rather than ids.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from domain.models import AuditEntry, Organization, RoleGrant, Unit, User, WebSession
from domain.permissions import Actor
from domain.services.auth import actor_from_user
from domain.uow import UnitOfWork
from tests.conftest import _pg_admin
from tests.services import PG_ADMIN_URL, postgres_available, require_service


async def load_actor(factory: async_sessionmaker[AsyncSession], username: str) -> Actor:
    """The Actor a session of `username` would resolve to (same code path as login)."""
    async with UnitOfWork(factory) as uow:
        user = await uow.session.scalar(
            select(User)
            .where(User.username == username)
            .options(
                selectinload(User.grants).options(
                    selectinload(RoleGrant.organization), selectinload(RoleGrant.unit)
                )
            )
        )
        assert user is not None, f"no user {username}"
        return await actor_from_user(uow, user)


class World:
    """The demo database, addressed by the demo's names."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory

    def uow(self, actor: Actor | None = None, ip: str = "") -> UnitOfWork:
        return UnitOfWork(self.factory, actor, ip=ip)

    async def actor(self, username: str) -> Actor:
        return await load_actor(self.factory, username)

    async def org_id(self, name: str) -> int:
        async with self.factory() as s:
            found = await s.scalar(select(Organization.id).where(Organization.name == name))
        assert found is not None, f"no organisation {name}"
        return found

    async def unit(self, name: str) -> Unit:
        async with self.factory() as s:
            found = await s.scalar(select(Unit).where(Unit.name == name))
        assert found is not None, f"no unit {name}"
        return found

    async def unit_by_id(self, unit_id: int) -> Unit:
        async with self.factory() as s:
            found = await s.get(Unit, unit_id)
        assert found is not None
        return found

    async def user(self, username: str) -> User:
        async with self.factory() as s:
            found = await s.scalar(
                select(User).where(User.username == username).options(selectinload(User.grants))
            )
        assert found is not None, f"no user {username}"
        return found

    async def count(self, model: Any, *where: Any) -> int:
        async with self.factory() as s:
            return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def audit(self, action: str, object_id: object | None = None) -> list[AuditEntry]:
        """Entries with this action (oldest first), optionally for one object."""
        stmt = select(AuditEntry).where(AuditEntry.action == action)
        if object_id is not None:
            stmt = stmt.where(AuditEntry.object_id == str(object_id))
        async with self.factory() as s:
            return list(await s.scalars(stmt.order_by(AuditEntry.id)))

    async def sessions_of(self, username: str) -> list[WebSession]:
        async with self.factory() as s:
            return list(
                await s.scalars(
                    select(WebSession)
                    .join(User, User.id == WebSession.user_id)
                    .where(User.username == username)
                    .order_by(WebSession.id)
                )
            )


@pytest.fixture
def world(demo: async_sessionmaker[AsyncSession]) -> World:
    return World(demo)


@pytest.fixture
def actor_for(demo: async_sessionmaker[AsyncSession]) -> Callable[[str], Awaitable[Actor]]:
    """`await actor_for("secretary")`: the Actor of a demo user."""

    async def build(username: str) -> Actor:
        return await load_actor(demo, username)

    return build


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with no schema at all (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    require_service("PostgreSQL", postgres_available())
    name = f"gongjian_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
