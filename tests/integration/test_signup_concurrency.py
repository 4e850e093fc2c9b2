"""Concurrent sign-ups against PostgreSQL never exceed a date's capacity.

Each user signs up in their own unit of work (own connection and transaction), all at
once; the conditional seat UPDATE and the partial unique index decide. PostgreSQL only:
SQLite serialises writers, so it proves nothing here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db import make_engine, make_session_factory
from domain.activities import signup as svc
from domain.errors import Conflict
from domain.permissions import Actor
from domain.uow import UnitOfWork
from tests.activity_factory import make_activity, make_members, now_utc, occurrence, signups, states
from tests.services import postgres_available, require_service

CAPACITY, PEOPLE = 10, 40


@pytest.fixture
async def pg(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = db_url
    assert url.startswith("postgresql"), url
    from gongjian.demo import seed_demo

    # A pool as large as the crowd, so every sign-up really runs at the same time.
    engine = make_engine(url, pool_size=PEOPLE + 5, max_overflow=5)
    factory = make_session_factory(engine)
    assert await seed_demo(factory)
    yield factory
    await engine.dispose()


pg_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def setup_module() -> None:
    require_service("PostgreSQL (concurrent sign-ups need a real server)", postgres_available())


async def _sign(factory: async_sessionmaker[AsyncSession], actor: Actor, occ_id: int) -> str:
    try:
        async with UnitOfWork(factory, actor) as uow:
            row = await svc.sign_up(uow, actor, occ_id)
            await uow.commit()
            return row.state
    except Conflict as exc:
        return exc.message


@pg_only
async def test_forty_at_once_with_a_waitlist(pg: async_sessionmaker[AsyncSession]) -> None:
    made = await make_activity(pg, starts=now_utc() + timedelta(days=2), capacity=CAPACITY)
    members = await make_members(pg, PEOPLE)
    results = await asyncio.gather(*(_sign(pg, m, made.occ) for m in members))
    assert results.count("signup_confirmed") == CAPACITY
    assert results.count("signup_waitlisted") == PEOPLE - CAPACITY
    assert states(await signups(pg, made.occ)) == {
        "signup_confirmed": CAPACITY,
        "signup_waitlisted": PEOPLE - CAPACITY,
    }
    assert (await occurrence(pg, made.occ)).taken == CAPACITY

    # Ten confirmed cancel at once: the seats go to exactly ten of the waitlisted.
    rows = await signups(pg, made.occ)
    confirmed = [r for r in rows if r.state == "signup_confirmed"]
    by_user = {m.user_id: m for m in members}

    async def cancel(row_id: int, actor: Actor) -> None:
        async with UnitOfWork(pg, actor) as uow:
            await svc.cancel_signup(uow, actor, row_id)
            await uow.commit()

    await asyncio.gather(*(cancel(r.id, by_user[r.user_id]) for r in confirmed))
    after = await signups(pg, made.occ)
    assert states(after) == {
        "signup_cancelled": CAPACITY,
        "signup_confirmed": CAPACITY,
        "signup_waitlisted": PEOPLE - 2 * CAPACITY,
    }
    taken = (await occurrence(pg, made.occ)).taken
    assert taken == CAPACITY
    # First come, first served: the ten promoted are the earliest ten waitlisted.
    waitlisted_before = [r.id for r in rows if r.state == "signup_waitlisted"]
    promoted = sorted(r.id for r in after if r.state == "signup_confirmed")
    assert promoted == waitlisted_before[:CAPACITY]


@pg_only
async def test_forty_at_once_without_a_waitlist(pg: async_sessionmaker[AsyncSession]) -> None:
    made = await make_activity(
        pg, starts=now_utc() + timedelta(days=2), capacity=CAPACITY, waitlist=False
    )
    members = await make_members(pg, PEOPLE)
    results = await asyncio.gather(*(_sign(pg, m, made.occ) for m in members))
    assert results.count("signup_confirmed") == CAPACITY
    assert sum("名额已满" in r for r in results) == PEOPLE - CAPACITY
    assert states(await signups(pg, made.occ)) == {"signup_confirmed": CAPACITY}
    assert (await occurrence(pg, made.occ)).taken == CAPACITY


@pg_only
async def test_the_same_person_twice_at_once(pg: async_sessionmaker[AsyncSession]) -> None:
    made = await make_activity(pg, starts=now_utc() + timedelta(days=2), capacity=CAPACITY)
    (member,) = await make_members(pg, 1)
    results = await asyncio.gather(*(_sign(pg, member, made.occ) for _ in range(4)))
    assert results.count("signup_confirmed") == 1
    assert results.count("您已报名该活动。") == 3
    assert len(await signups(pg, made.occ)) == 1
    assert (await occurrence(pg, made.occ)).taken == 1
