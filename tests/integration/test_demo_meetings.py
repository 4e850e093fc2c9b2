"""The demo's conference history: an issued session whose decisions the coming one follows up."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import SessionState
from domain.models import Decision, MeetingSession, Minutes, MinutesSignature
from gongjian.demo import seed_demo


async def test_demo_meetings(session_factory: async_sessionmaker[AsyncSession]) -> None:
    assert await seed_demo(session_factory, meetings=True)
    async with session_factory() as s:
        sessions = list(await s.scalars(select(MeetingSession).order_by(MeetingSession.starts_at)))
        assert [x.state for x in sessions] == [SessionState.ISSUED, SessionState.NOTIFIED]
        past, coming = sessions
        minutes = await s.scalar(select(Minutes).where(Minutes.session_id == past.id))
        assert minutes is not None and minutes.number_label.endswith("第3次〕") is False
        assert "第3次" in minutes.number_label and "老旧小区加装电梯共建方案" in minutes.body
        signatures = await s.scalar(
            select(func.count(MinutesSignature.id)).where(MinutesSignature.minutes_id == minutes.id)
        )
        assert signatures and signatures > 10
        decisions = list(await s.scalars(select(Decision).where(Decision.session_id == past.id)))
        assert {d.follow_state for d in decisions} == {"in_progress", "assigned"}
        assert coming.starts_at > past.starts_at
