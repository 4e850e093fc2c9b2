"""A 新华街道 conference session ready for the meeting room, for tests and benchmarks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def create_meeting(
    factory: async_sessionmaker[AsyncSession],
    items: list[tuple[str, str]],
    *,
    title: str = "2026年第四季度党建联席会议",
    place: str = "新华街道党群服务中心三楼会议室",
    secret: str = "s3cret-signin",
    state: str = "notified",
    starts_in: timedelta = timedelta(minutes=-5),
) -> tuple[int, list[int]]:
    """Insert a session with agenda items (kind, title); returns its id and the item ids."""
    from domain.models import AgendaItem, Conference, MeetingSession, Organization, User
    from domain.models.base import utcnow

    async with factory() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
        conference = await s.scalar(select(Conference).where(Conference.organization_id == street))
        creator = await s.scalar(select(User.id).where(User.username == "secretary"))
        assert conference is not None and creator is not None
        now = utcnow()
        session = MeetingSession(
            conference_id=conference.id,
            year=now.year,
            title=title,
            starts_at=now + starts_in,
            ends_at=now + starts_in + timedelta(hours=2),
            place=place,
            state=state,
            signin_secret=secret,
            created_by_id=creator,
        )
        s.add(session)
        await s.flush()
        rows = [
            AgendaItem(session_id=session.id, position=i, kind=kind, title=item_title)
            for i, (kind, item_title) in enumerate(items, start=1)
        ]
        s.add_all(rows)
        await s.commit()
        return session.id, [r.id for r in rows]


def create_meeting_at(
    database_url: str, items: list[tuple[str, str]], **kw: object
) -> tuple[int, list[int]]:
    """The same against a database URL, from synchronous code (a live server's database)."""
    from adapters.db import make_engine, make_session_factory
    from gongjian.config import normalize_database_url

    async def go() -> tuple[int, list[int]]:
        engine = make_engine(normalize_database_url(database_url))
        try:
            return await create_meeting(make_session_factory(engine), items, **kw)  # type: ignore[arg-type]
        finally:
            await engine.dispose()

    return asyncio.run(go())
