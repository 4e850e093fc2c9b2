"""What the session preparation page shows, read in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from domain.conference.access import ConferenceAccess
from domain.conference.materials import list_materials
from domain.conference.prep import load_session, street_rules
from domain.conference.replies import ReplyRow, reply_counts, reply_rows
from domain.conference.rules import (
    BEIJING,
    PREPARING,
    TRANSITIONS,
    SessionAction,
    may_skip_topic_call,
    notice_due,
    topic_call_deadline,
)
from domain.enums import FollowState, SessionState
from domain.models import (
    AgendaItem,
    Decision,
    Material,
    MeetingSession,
    TopicProposal,
    Unit,
    User,
)
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class ProgressRow:
    """A decision of an earlier session, and how far it has come (上次议定事项落实情况)."""

    decision: Decision
    session_title: str
    session_starts_at: datetime
    overdue: bool


@dataclass
class SessionPrep:
    access: ConferenceAccess
    session: MeetingSession
    items: list[AgendaItem]
    topics: dict[int, TopicProposal]  # by id, for items that came from the topic call
    materials: list[Material]
    replies: list[ReplyRow]
    counts: dict[str, int]
    progress: list[ProgressRow]
    rules: dict[str, int]
    topic_deadline: datetime
    notice_due: datetime
    actions: list[SessionAction] = field(default_factory=list)
    uploaders: dict[int, str] = field(default_factory=dict)
    assisting: dict[int, str] = field(default_factory=dict)  # unit names for `progress`
    now: datetime = field(default_factory=utcnow)

    @property
    def preparing(self) -> bool:
        return self.session.state in PREPARING

    @property
    def editable(self) -> bool:
        return self.access.can_manage and self.preparing

    @property
    def reply_open(self) -> bool:
        return self.session.state == SessionState.NOTIFIED and self.now < self.session.starts_at

    @property
    def my_rows(self) -> list[ReplyRow]:
        """Rows of the units this user replies for."""
        return [r for r in self.replies if r.unit.id in self.access.acts_for]

    @property
    def has_normal_items(self) -> bool:
        return any(i.kind != "progress" for i in self.items)

    @property
    def notice_late(self) -> bool:
        sent = self.session.notice_sent_at
        return sent is not None and sent > self.notice_due


async def session_prep(
    uow: UnitOfWork, actor: Actor, session_id: int, now: datetime | None = None
) -> SessionPrep:
    now = now or utcnow()
    session, access = await load_session(uow, actor, session_id)
    s = uow.session
    items = list(
        await s.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    topic_ids = [i.topic_id for i in items if i.topic_id]
    topics = (
        {
            t.id: t
            for t in await s.scalars(
                select(TopicProposal)
                .where(TopicProposal.id.in_(topic_ids))
                .options(joinedload(TopicProposal.unit))
            )
        }
        if topic_ids
        else {}
    )
    materials = await list_materials(uow, session.id)
    uploader_ids = {m.uploaded_by_id for m in materials}
    uploaders = (
        await _names(uow, select(User.id, User.display_name).where(User.id.in_(uploader_ids)))
        if uploader_ids
        else {}
    )
    progress = await earlier_decisions(uow, session, now)
    replies = await reply_rows(uow, session.conference_id, session.id)
    rules = await street_rules(uow, access)
    prep = SessionPrep(
        access=access,
        session=session,
        items=items,
        topics=topics,
        materials=materials,
        replies=replies,
        counts=reply_counts(replies),
        progress=progress,
        rules=rules,
        topic_deadline=topic_call_deadline(session.starts_at, rules["topic_call_days"]),
        notice_due=notice_due(session.starts_at, rules["notice_days"]),
        uploaders=uploaders,
        assisting=await assisting_units(uow, progress),
        now=now,
    )
    if access.can_manage:
        prep.actions = _actions(session, rules, now)
    return prep


def _actions(session: MeetingSession, rules: dict[str, int], now: datetime) -> list[SessionAction]:
    """The next steps a manager is offered (the service checks them again)."""
    offered = [a for a, (sources, _t) in TRANSITIONS.items() if session.state in sources]
    if session.state == SessionState.PLANNED:
        skip = may_skip_topic_call(session.kind, session.starts_at, rules["topic_call_days"], now)
        if skip:
            offered.remove(SessionAction.OPEN_TOPIC_CALL)
        else:
            offered.remove(SessionAction.FIX_AGENDA)
    return offered


async def earlier_decisions(
    uow: UnitOfWork, session: MeetingSession, now: datetime
) -> list[ProgressRow]:
    """Decisions of the conference's earlier sessions: open ones first, then by deadline."""
    rows = (
        await uow.session.execute(
            select(Decision, MeetingSession.title, MeetingSession.starts_at)
            .join(MeetingSession, MeetingSession.id == Decision.session_id)
            .where(
                MeetingSession.conference_id == session.conference_id,
                MeetingSession.starts_at < session.starts_at,
                MeetingSession.id != session.id,
            )
            .options(joinedload(Decision.lead_unit))
            .order_by(Decision.deadline, Decision.id)
        )
    ).all()
    today = _beijing_today(now)
    out = [
        ProgressRow(d, title, starts, d.follow_state != FollowState.DONE and d.deadline < today)
        for d, title, starts in rows
    ]
    # Unfinished first: they are what the meeting has to talk about.
    out.sort(key=lambda r: r.decision.follow_state == FollowState.DONE)
    return out


def _beijing_today(now: datetime) -> date:
    return now.astimezone(BEIJING).date()


async def assisting_units(uow: UnitOfWork, rows: list[ProgressRow]) -> dict[int, str]:
    """Names of assisting units (stored as comma-separated ids on a decision)."""
    ids = {
        int(part)
        for r in rows
        for part in r.decision.assisting_unit_ids.split(",")
        if part.strip().isdecimal()
    }
    if not ids:
        return {}
    return await _names(uow, select(Unit.id, Unit.name).where(Unit.id.in_(ids)))


async def _names(uow: UnitOfWork, stmt: Select[int, str]) -> dict[int, str]:
    return {i: name for i, name in await uow.session.execute(stmt)}
