"""A held session of the demo's 新华街道 conference, built directly with the models.

The minutes tests (integration, HTTP, screenshots) start from a session the
meeting room has just closed: attendance, notes, a closed vote, decisions.
The conference is narrowed to four member units (and one observer) so that
co-signing is a handful of clicks: 和平区人民医院 (demo user `liaison`),
文化里社区居委会 (`community`), 环球金融中心楼宇联合党委 (`liaison2`) and
新华派出所 (no demo user: tests sign for it with `police_actor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.conference.minutes import create_draft
from domain.enums import Role
from domain.models import (
    AgendaItem,
    Attendance,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
    Organization,
    TopicProposal,
    Unit,
    User,
    Vote,
)
from domain.permissions import Actor, Grant
from domain.uow import UnitOfWork

HOSPITAL = "和平区人民医院"
COMMUNITY = "文化里社区居委会"
TOWER = "环球金融中心楼宇联合党委"
POLICE = "新华派出所"
ARMED = "和平区人民武装部"
MEMBERS = (HOSPITAL, COMMUNITY, TOWER, POLICE)
# The liaison (demo username) of each member unit; None: built by `police_actor`.
SIGNERS = {HOSPITAL: "liaison", COMMUNITY: "community", TOWER: "liaison2", POLICE: None}


@dataclass(frozen=True)
class HeldSession:
    session_id: int
    conference_id: int
    street_id: int
    units: dict[str, int]


async def _ids(s: AsyncSession) -> tuple[int, int, dict[str, int], dict[str, int]]:
    street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
    assert street is not None
    conference = await s.scalar(select(Conference.id).where(Conference.organization_id == street))
    assert conference is not None
    rows = await s.execute(select(Unit.name, Unit.id).where(Unit.street_id == street))
    units = {name: uid for name, uid in rows}
    users = {name: uid for name, uid in await s.execute(select(User.username, User.id))}
    return street, conference, units, users


async def narrow_members(factory: async_sessionmaker[AsyncSession]) -> None:
    """Only the four member units (and the armed forces office, 列席) stay active."""
    async with factory() as s:
        _street, conference, units, _users = await _ids(s)
        keep = [units[n] for n in (*MEMBERS, ARMED)]
        await s.execute(
            update(ConferenceMember)
            .where(ConferenceMember.conference_id == conference)
            .values(active=ConferenceMember.unit_id.in_(keep))
        )
        await s.commit()


async def held_session(
    factory: async_sessionmaker[AsyncSession],
    *,
    title: str = "2026年第一季度党建联席会议例会",
    starts_at: datetime | None = None,
    year: int | None = None,
    topic: str = "社区治安联防机制",
    decision: str = "建立新华路沿线社区治安联防队",
    narrow: bool = True,
    closed: bool = True,
) -> HeldSession:
    """A session just closed by the convener (state `minutes_draft`), with its draft; or,
    with `closed=False`, the same session still in the room (`in_session`, no minutes)."""
    if narrow:
        await narrow_members(factory)
    start = starts_at or datetime(2026, 3, 18, 6, 30, tzinfo=UTC)  # 14:30 in Beijing
    async with factory() as s:
        street, conference, units, users = await _ids(s)
        session = MeetingSession(
            conference_id=conference,
            year=year or start.year,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place="新华街道党群服务中心三楼会议室",
            state="minutes_draft" if closed else "in_session",
            signin_secret="test-secret",
            created_by_id=users["secretary"],
            opened_at=start,
            closed_at=start + timedelta(minutes=95) if closed else None,
        )
        s.add(session)
        await s.flush()
        proposal = TopicProposal(
            conference_id=conference,
            session_id=session.id,
            unit_id=units[POLICE],
            proposer_id=users["secretary"],
            title=topic,
            status="accepted",
        )
        s.add(proposal)
        await s.flush()
        progress = AgendaItem(
            session_id=session.id,
            position=1,
            kind="progress",
            title="上次议定事项落实情况",
            notes="上次会议议定的 3 项事项已办结 2 项，背街小巷整治正在推进。",
        )
        item = AgendaItem(
            session_id=session.id,
            position=2,
            title=topic,
            description="新华路沿线夜间治安警情较多，需要驻区单位共同参与巡防。",
            notes="派出所介绍了警情；医院表示可派出保安参与夜间巡逻。",
            topic_id=proposal.id,
        )
        s.add_all([progress, item])
        await s.flush()
        s.add(
            Vote(
                item_id=item.id,
                motion=f"同意{decision}",
                state="closed",
                closed_at=start + timedelta(minutes=80),
                votes_for=3,
                votes_against=0,
                votes_abstain=1,
                passed=True,
            )
        )
        s.add(
            Decision(
                session_id=session.id,
                item_id=item.id,
                title=decision,
                lead_unit_id=units[POLICE],
                assisting_unit_ids=f"{units[HOSPITAL]},{units[TOWER]}",
                deadline=date(start.year, 6, 30),
                created_by_id=users["secretary"],
            )
        )
        signed_in = start + timedelta(minutes=-5)
        s.add_all(
            [
                Attendance(
                    session_id=session.id,
                    unit_id=units[HOSPITAL],
                    reply="attending",
                    signed_in_at=signed_in,
                    signin_method="qr",
                ),
                Attendance(
                    session_id=session.id,
                    unit_id=units[COMMUNITY],
                    reply="delegate",
                    delegate_name="王敏",
                    signed_in_at=signed_in,
                    signin_method="manual",
                ),
                Attendance(
                    session_id=session.id,
                    unit_id=units[TOWER],
                    reply="leave",
                    reply_reason="参加市里培训",
                ),
                Attendance(
                    session_id=session.id,
                    unit_id=units[ARMED],
                    reply="attending",
                    signed_in_at=signed_in,
                    signin_method="qr",
                ),
            ]
        )
        await s.commit()
        session_id = session.id
    if not closed:
        return HeldSession(session_id, conference, street, units)
    async with UnitOfWork(factory) as uow:
        loaded = await uow.session.get(MeetingSession, session_id)
        assert loaded is not None
        await create_draft(uow, loaded)
        await uow.commit()
    return HeldSession(session_id, conference, street, units)


def police_actor(held: HeldSession, user_id: int) -> Actor:
    """A liaison of 新华派出所 (the demo has none): any existing user id will do."""
    return Actor(
        user_id=user_id,
        username="police-liaison",
        display_name="蒋军",
        grants=(Grant(Role.DEPT_LIAISON, unit_id=held.units[POLICE], street_id=held.street_id),),
    )
