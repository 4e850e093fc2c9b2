"""What the use cases before a session share: loading a session with the actor's access,
who gets told, and what a change after the notice entails."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from domain.conference.access import ConferenceAccess, conference_access, users_acting_for
from domain.conference.rules import PREPARING
from domain.enums import MemberRole, SessionState
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models import ConferenceMember, MeetingSession
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.services.street_settings import SPECS, get_settings
from domain.topics import street_topic
from domain.uow import UnitOfWork

MISSING_SESSION = "会议不存在，或不在您可查看的范围内。"


async def load_session(
    uow: UnitOfWork, actor: Actor, session_id: int
) -> tuple[MeetingSession, ConferenceAccess]:
    """The session and what this actor may do in its conference; unreadable is missing."""
    session = await uow.session.get(MeetingSession, session_id) if is_row_id(session_id) else None
    if session is None:
        raise NotFound(MISSING_SESSION)
    access = await conference_access(uow, actor, session.conference_id)
    if not access.can_read:
        raise NotFound(MISSING_SESSION)
    return session, access


def require_preparing(session: MeetingSession) -> None:
    if session.state not in PREPARING:
        raise ValidationFailed({}, "会议已经开始或结束，会前准备的内容不能再修改。")


def check_version(session: MeetingSession, version: int) -> None:
    """Forms carry the version they were rendered from: an older one means someone else
    changed the session in between, and we refuse rather than act on what the user did not see."""
    if session.version != version:
        raise Conflict("会议信息已被他人修改，您的操作未执行。请查看最新内容后重试。")


async def street_rules(uow: UnitOfWork, access: ConferenceAccess) -> dict[str, int]:
    """The street's local rules (notice and topic-call lead times); a district conference
    has no street, and follows the defaults."""
    if access.street_id is None:
        return {s.key: s.default for s in SPECS}
    return await get_settings(uow, access.street_id)


def publish(uow: UnitOfWork, access: ConferenceAccess, kind: str, **payload: Any) -> None:
    """Pages of the street follow the change (a district conference has no street topic)."""
    if access.street_id is not None:
        uow.publish(
            street_topic(access.street_id), kind, conference_id=access.conference.id, **payload
        )


async def unit_ids_of(uow: UnitOfWork, conference_id: int, *roles: MemberRole) -> list[int]:
    rows = await uow.session.scalars(
        select(ConferenceMember.unit_id).where(
            ConferenceMember.conference_id == conference_id,
            ConferenceMember.active,
            ConferenceMember.role.in_([r.value for r in roles]),
        )
    )
    return list(rows)


async def tell_units(
    uow: UnitOfWork,
    conference_id: int,
    roles: tuple[MemberRole, ...],
    kind: str,
    title: str,
    body: str,
    link: str,
) -> int:
    """Notify the liaisons of the conference's units in `roles` (not the actor); how many."""
    users = await users_acting_for(uow, await unit_ids_of(uow, conference_id, *roles))
    if uow.actor is not None:
        users.discard(uow.actor.user_id)
    notify(uow, users, kind, title, body, link)
    return len(users)


EVERYONE = (MemberRole.MEMBER, MemberRole.OBSERVER)


async def revised_after_notice(
    uow: UnitOfWork, session: MeetingSession, title: str, body: str
) -> None:
    """A change after the notice is a new revision of the invitation: its .ics SEQUENCE (the
    session's version) goes up, and everyone notified is told what changed."""
    if session.state != SessionState.NOTIFIED:
        return
    # The change may be to agenda rows only; touching the session makes its row (and so its
    # version) change too.
    flag_modified(session, "title")
    await uow.flush()
    await tell_units(
        uow,
        session.conference_id,
        EVERYONE,
        "session.revised",
        title,
        body,
        f"/sessions/{session.id}",
    )
