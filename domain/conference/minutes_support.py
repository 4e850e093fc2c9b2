"""The minutes page's view, and the lookups, row lock and messages shared by the minutes
use cases (`minutes.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from domain.conference.access import ConferenceAccess, conference_access
from domain.conference.minutes_draft import MinutesFacts
from domain.enums import MemberRole, OrgLevel, SessionState
from domain.errors import Conflict, NotFound
from domain.models import (
    Conference,
    ConferenceMember,
    MeetingSession,
    Minutes,
    Organization,
    Unit,
)
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.topics import street_topic
from domain.uow import UnitOfWork

S = SessionState


@dataclass(frozen=True)
class SignatureLine:
    unit_id: int
    unit_name: str
    user_name: str
    signed_at: datetime
    comment: str


@dataclass
class MinutesView:
    """Everything the minutes page, the print page and the .docx show."""

    session: MeetingSession
    access: ConferenceAccess
    minutes: Minutes
    facts: MinutesFacts
    members: dict[int, str] = field(default_factory=dict)  # unit id → name, who must co-sign
    signatures: list[SignatureLine] = field(default_factory=list)

    @property
    def state(self) -> SessionState:
        return SessionState(self.session.state)

    @property
    def signed_unit_ids(self) -> set[int]:
        return {s.unit_id for s in self.signatures}

    @property
    def missing(self) -> list[tuple[int, str]]:
        signed = self.signed_unit_ids
        return sorted(
            ((uid, name) for uid, name in self.members.items() if uid not in signed),
            key=lambda p: p[1],
        )

    @property
    def signed_count(self) -> int:
        return len(self.signed_unit_ids & set(self.members))

    @property
    def all_signed(self) -> bool:
        return bool(self.members) and not self.missing

    @property
    def can_edit(self) -> bool:
        return self.access.can_manage and self.state == S.MINUTES_DRAFT

    @property
    def can_sign_for(self) -> list[tuple[int, str]]:
        """Member units this actor may still co-sign for."""
        if self.state != S.CO_SIGNING:
            return []
        return [(u, n) for u, n in self.missing if u in self.access.member_unit_ids]

    @property
    def title(self) -> str:
        return f"{self.session.title} 会议纪要"

    @property
    def number_text(self) -> str:
        if self.minutes.number_label:
            return self.minutes.number_label
        return "（会签稿）" if self.state == S.CO_SIGNING else "（草稿）"

    @property
    def body_lines(self) -> list[str]:
        """The body for print and .docx, less the title lines those already show above it."""
        lines = self.minutes.body.rstrip().splitlines()
        header = {self.facts.conference_name, self.title, ""}
        while lines and lines[0].strip() in header:
            lines.pop(0)
        return lines


async def load_session(
    uow: UnitOfWork, actor: Actor, session_id: int
) -> tuple[MeetingSession, ConferenceAccess]:
    session = await uow.session.get(MeetingSession, session_id) if is_row_id(session_id) else None
    if session is None:
        raise NotFound("会议不存在。")
    access = await conference_access(uow, actor, session.conference_id)
    access.require_read()
    return session, access


async def lock_session(uow: UnitOfWork, session_id: int) -> MeetingSession:
    """Take the session's row lock and re-read it.

    An UPDATE rather than SELECT ... FOR UPDATE: it locks the row on PostgreSQL and takes
    SQLite's write lock, so on both the reads that follow see whatever the other writer
    committed while we waited.
    """
    await uow.session.execute(
        update(MeetingSession)
        .where(MeetingSession.id == session_id)
        .values(state=MeetingSession.state)
        .execution_options(synchronize_session=False)
    )
    session = await uow.session.scalar(
        select(MeetingSession)
        .where(MeetingSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound("会议不存在。")
    return session


async def minutes_of(uow: UnitOfWork, session: MeetingSession) -> Minutes | None:
    return await uow.session.scalar(
        select(Minutes)
        .where(Minutes.session_id == session.id)
        .execution_options(populate_existing=True)
    )


async def require_minutes(uow: UnitOfWork, session: MeetingSession) -> Minutes:
    minutes = await minutes_of(uow, session)
    if minutes is None:
        raise NotFound("本次会议尚未生成会议纪要。")
    return minutes


def state_message(session: MeetingSession, action: str = "") -> str:
    state = SessionState(session.state)
    if state in (S.ISSUED, S.ARCHIVED):
        if action == "archive" and state == S.ARCHIVED:
            return "本次会议已归档。"
        return "会议纪要已印发，不能再修改。"
    if state == S.CO_SIGNING:
        if action == "start_co_signing":
            return "会议纪要已在会签中。"
        return "会议纪要正在会签，不能修改正文；如需修改，请先退回修改。"
    if state == S.MINUTES_DRAFT:
        return {
            "reopen": "会议纪要尚未发起会签。",
            "issue": "会议纪要尚未会签，请先发起会签。",
            "archive": "会议纪要印发后才能归档。",
        }.get(action, "会议纪要尚未发起会签，现在不能会签。")
    return "会议尚未结束，还没有会议纪要。"


def check_version(minutes: Minutes, version: int) -> None:
    if minutes.version != version:
        raise Conflict("会议纪要已被他人修改，您的修改未保存。下方保留了您填写的内容。")


async def member_units(uow: UnitOfWork, conference_id: int) -> dict[int, str]:
    """Units that must co-sign: the conference's active members (observers read only)."""
    rows = await uow.session.execute(
        select(Unit.id, Unit.name)
        .join(ConferenceMember, ConferenceMember.unit_id == Unit.id)
        .where(
            ConferenceMember.conference_id == conference_id,
            ConferenceMember.active,
            ConferenceMember.role == MemberRole.MEMBER,
        )
    )
    return {uid: name for uid, name in rows}


async def publish_changed(uow: UnitOfWork, session: MeetingSession) -> None:
    """Minutes pages and the archive follow every change live (see web/live.py)."""
    street = await street_of(uow, session.conference_id)
    if street is not None:
        uow.publish(street_topic(street), "minutes.changed", session_id=session.id)


async def street_of(uow: UnitOfWork, conference_id: int) -> int | None:
    row = await uow.session.execute(
        select(Organization.id, Organization.level)
        .join(Conference, Conference.organization_id == Organization.id)
        .where(Conference.id == conference_id)
    )
    found = row.first()
    return found.id if found is not None and found.level == OrgLevel.STREET else None
