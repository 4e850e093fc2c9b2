"""The calendar invitation (.ics, RFC 5545) sent with the notice.

Times are written in Beijing time with a VTIMEZONE, as the people invited read them. The
UID stays the same for the life of the session, and SEQUENCE is the session's version,
which goes up with every change to the session after the notice (details or agenda: see
`prep.revised_after_notice`), so a calendar that imported the first invitation replaces
it with the newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from icalendar import Calendar, Event
from sqlalchemy import select

from domain.conference.prep import load_session
from domain.conference.rules import BEIJING
from domain.enums import SessionMode
from domain.errors import NotFound
from domain.labels import label
from domain.models import AgendaItem, MeetingSession
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.uow import UnitOfWork

PRODID = "-//Gongjian//Joint Conference//ZH-CN"


def session_uid(session: MeetingSession) -> str:
    # The creation time keeps UIDs apart across installations that reuse the same ids.
    return f"session-{session.id}-{session.created_at:%Y%m%dT%H%M%S}@gongjian"


def build_ics(
    session: MeetingSession,
    conference_name: str,
    items: list[AgendaItem],
    url: str = "",
    stamp: datetime | None = None,
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", conference_name)
    event = Event()
    event.add("uid", session_uid(session))
    event.add("sequence", session.version)
    event.add("dtstamp", stamp or utcnow())
    event.add("dtstart", session.starts_at.astimezone(BEIJING))
    event.add("dtend", session.ends_at.astimezone(BEIJING))
    event.add("summary", f"{conference_name}：{session.title}")
    where = session.place or label(SessionMode(session.mode))
    event.add("location", where)
    agenda = "\n".join(f"{n}. {item.title}" for n, item in enumerate(items, start=1))
    description = f"{label(session.kind)}，{label(session.mode)}。\n议程：\n{agenda}"
    if url:
        description += f"\n\n会议页面：{url}"
        event.add("url", url)
    event.add("description", description)
    event.add("status", "CONFIRMED")
    cal.add_component(event)
    # A VTIMEZONE covering the session's year is all a calendar needs to place it.
    year = session.starts_at.astimezone(BEIJING).year
    cal.add_missing_timezones(first_date=date(year, 1, 1), last_date=date(year + 1, 12, 31))
    return bytes(cal.to_ical())


@dataclass(frozen=True)
class Invitation:
    filename: str
    body: bytes


async def invitation(uow: UnitOfWork, actor: Actor, session_id: int, url: str = "") -> Invitation:
    """The .ics of a session, for anyone who may read it once the notice is out (managers
    may look at it before)."""
    session, access = await load_session(uow, actor, session_id)
    if session.notice_sent_at is None and not access.can_manage:
        raise NotFound("会议通知尚未发出，暂无日历邀请。")
    items = list(
        await uow.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    body = build_ics(session, access.conference.name, items, url)
    return Invitation(f"session-{session.id}.ics", body)
