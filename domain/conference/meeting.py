"""The live meeting room: open and close, sign-in, moving through the agenda.

Speakers, notes, votes and decisions are in `floor.py`. Every change publishes
a `room.changed` event on the session's topic naming the parts that changed,
so each participant's page re-renders just those parts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from domain.conference.access import ConferenceAccess, conference_access
from domain.enums import SessionState, SpeakerState, VoteState
from domain.errors import NotFound, ValidationFailed
from domain.models import AgendaItem, Attendance, MeetingSession, SpeakerRequest, Vote
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.uow import UnitOfWork

# Sign-in opens this long before the start and stays open until the session closes.
SIGNIN_OPENS_BEFORE = timedelta(minutes=60)
# The convener may open the room this long before the scheduled start.
OPEN_EARLY = timedelta(hours=2)
OPENABLE = {SessionState.NOTIFIED, SessionState.AGENDA_SET}


def session_topic(session_id: int) -> str:
    return f"session:{session_id}"


def publish_room(uow: UnitOfWork, session: MeetingSession, *parts: str) -> None:
    uow.publish(session_topic(session.id), "room.changed", parts=sorted(set(parts)))


async def load_session(
    uow: UnitOfWork, actor: Actor, session_id: int, *, lock: bool = False
) -> tuple[MeetingSession, ConferenceAccess]:
    stmt = select(MeetingSession).where(MeetingSession.id == session_id)
    if lock:
        # Serialise changes to one session's room (PostgreSQL; SQLite serialises writers).
        stmt = stmt.with_for_update()
    session = await uow.session.scalar(stmt)
    if session is None:
        raise NotFound("会议不存在。")
    access = await conference_access(uow, actor, session.conference_id)
    access.require_read()
    return session, access


def require_in_session(session: MeetingSession) -> None:
    if session.state != SessionState.IN_SESSION:
        raise ValidationFailed({}, "会议尚未开始或已经结束。")


def signin_window(session: MeetingSession) -> tuple[datetime, datetime]:
    end = session.closed_at or session.ends_at
    return session.starts_at - SIGNIN_OPENS_BEFORE, end


async def open_session(uow: UnitOfWork, actor: Actor, session_id: int) -> MeetingSession:
    session, access = await load_session(uow, actor, session_id, lock=True)
    access.require_manage()
    if session.state not in OPENABLE:
        raise ValidationFailed({}, "只有已定议程或已通知的会议可以开始。")
    now = utcnow()
    if now < session.starts_at - OPEN_EARLY:
        raise ValidationFailed({}, "会议还没到开始时间（最早可提前 2 小时开始）。")
    first = await uow.session.scalar(
        select(AgendaItem.id)
        .where(AgendaItem.session_id == session.id)
        .order_by(AgendaItem.position)
        .limit(1)
    )
    if first is None:
        raise ValidationFailed({}, "议程为空，无法开始会议。")
    session.state = SessionState.IN_SESSION.value
    session.opened_at = now
    session.current_item_id = first
    await uow.flush()
    uow.audit("session.open", "session", session.id, f"会议开始：{session.title}")
    publish_room(uow, session, "status", "agenda", "item", "controls")
    return session


async def close_session(uow: UnitOfWork, actor: Actor, session_id: int) -> MeetingSession:
    """End the session: open votes close, speakers stop, the minutes draft is made."""
    from domain.conference.floor import close_vote_counts
    from domain.conference.minutes import create_draft

    session, access = await load_session(uow, actor, session_id, lock=True)
    access.require_manage()
    require_in_session(session)
    now = utcnow()
    open_votes = await uow.session.scalars(
        select(Vote)
        .join(AgendaItem, AgendaItem.id == Vote.item_id)
        .where(AgendaItem.session_id == session.id, Vote.state == VoteState.OPEN)
    )
    for vote in open_votes:
        await close_vote_counts(uow, session, vote)
    item_ids = select(AgendaItem.id).where(AgendaItem.session_id == session.id)
    await uow.session.execute(
        update(SpeakerRequest)
        .where(
            SpeakerRequest.item_id.in_(item_ids),
            SpeakerRequest.state.in_([SpeakerState.WAITING, SpeakerState.SPEAKING]),
        )
        .values(state=SpeakerState.FINISHED.value, ended_at=now)
    )
    session.state = SessionState.MINUTES_DRAFT.value
    session.closed_at = now
    await uow.flush()
    await create_draft(uow, session)
    uow.audit("session.close", "session", session.id, f"会议结束：{session.title}")
    publish_room(uow, session, "status", "speakers", "vote", "controls")
    return session


async def advance(uow: UnitOfWork, actor: Actor, session_id: int, item_id: int) -> AgendaItem:
    """Move the room to an agenda item; every participant's page follows."""
    session, access = await load_session(uow, actor, session_id, lock=True)
    access.require_manage()
    require_in_session(session)
    item = await uow.session.get(AgendaItem, item_id)
    if item is None or item.session_id != session.id:
        raise ValidationFailed({}, "该议程不属于本次会议。")
    if session.current_item_id == item.id:
        return item
    session.current_item_id = item.id
    await uow.flush()
    uow.audit("session.advance", "session", session.id, f"进入议程：{item.title}")
    publish_room(
        uow, session, "agenda", "item", "speakers", "notes", "vote", "decisions", "controls"
    )
    return item


async def sign_in(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    unit_id: int,
    *,
    secret: str | None = None,
) -> Attendance:
    """Sign a unit in: by the venue's QR link (its own liaison) or by hand (the secretariat)."""
    session, access = await load_session(uow, actor, session_id)
    manual = secret is None
    if manual:
        access.require_manage()
    else:
        access.require_attendee(unit_id)
        if secret != session.signin_secret:
            raise ValidationFailed({}, "签到二维码无效，请扫描会场展示的最新二维码。")
    opens, closes = signin_window(session)
    now = utcnow()
    if session.state not in (
        SessionState.NOTIFIED,
        SessionState.IN_SESSION,
        SessionState.AGENDA_SET,
    ):
        raise ValidationFailed({}, "本次会议现在不能签到。")
    if not opens <= now <= closes:
        raise ValidationFailed({}, "不在签到时间内（会前 1 小时至会议结束）。")
    attendance = await uow.session.scalar(
        select(Attendance).where(Attendance.session_id == session.id, Attendance.unit_id == unit_id)
    )
    if attendance is None:
        if manual and unit_id not in await _attendee_unit_ids(uow, access):
            raise ValidationFailed({}, "该单位不是本会议的成员或列席单位。")
        attendance = Attendance(session_id=session.id, unit_id=unit_id)
        uow.session.add(attendance)
    if attendance.signed_in_at is not None:
        raise ValidationFailed({}, "本单位已经签到。")
    attendance.signed_in_at = now
    attendance.signed_in_by_id = actor.user_id
    attendance.signin_method = "manual" if manual else "qr"
    await uow.flush()
    uow.audit("session.sign_in", "session", session.id, f"签到：单位 {unit_id}")
    publish_room(uow, session, "attendance", "controls")
    return attendance


async def _attendee_unit_ids(uow: UnitOfWork, access: ConferenceAccess) -> set[int]:
    from domain.models import ConferenceMember

    return set(
        await uow.session.scalars(
            select(ConferenceMember.unit_id).where(
                ConferenceMember.conference_id == access.conference.id, ConferenceMember.active
            )
        )
    )
