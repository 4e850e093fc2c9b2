"""Sessions before they open: create, change, and move them from planning to the notice.

    planned ─open_topic_call─▶ calling_topics ─fix_agenda─▶ agenda_set ─send_notice─▶ notified

(an ad hoc session, or one too close for a topic call, may fix its agenda straight from
`planned`). Only the convener and the secretariat do any of this. The meeting room takes
over from `notified`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from domain.conference.access import ConferenceAccess, conference_access
from domain.conference.prep import (
    EVERYONE,
    check_version,
    load_session,
    publish,
    require_preparing,
    revised_after_notice,
    street_rules,
    tell_units,
)
from domain.conference.rules import (
    ACTION_LABELS,
    SessionAction,
    SessionFields,
    beijing_text,
    beijing_year,
    check_session_fields,
    may_skip_topic_call,
    next_state,
    notice_due,
    topic_call_deadline,
)
from domain.enums import ItemKind, MemberRole, SessionKind, SessionState
from domain.errors import ValidationFailed
from domain.labels import label
from domain.models import AgendaItem, MeetingSession
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.uow import UnitOfWork, snapshot

PROGRESS_TITLE = "上次议定事项落实情况"
AUDITED = ("title", "kind", "starts_at", "ends_at", "place", "mode", "state")


async def create_session(
    uow: UnitOfWork,
    actor: Actor,
    conference_id: int,
    raw: Mapping[str, str],
    now: datetime | None = None,
) -> MeetingSession:
    access = await conference_access(uow, actor, conference_id)
    access.require_manage()
    fields, errors = check_session_fields(raw, now or utcnow())
    if fields is None:
        raise ValidationFailed(errors)
    session = MeetingSession(
        conference_id=conference_id,
        year=beijing_year(fields.starts_at),
        signin_secret=secrets.token_urlsafe(24),
        created_by_id=actor.user_id,
        state=SessionState.PLANNED.value,
    )
    _apply(session, fields)
    uow.session.add(session)
    await uow.flush()
    # Every session opens by closing the loop on the last: the progress of earlier decisions.
    uow.session.add(
        AgendaItem(
            session_id=session.id, position=1, kind=ItemKind.PROGRESS.value, title=PROGRESS_TITLE
        )
    )
    await uow.flush()
    uow.audit(
        "session.create",
        "session",
        session.id,
        f"新建会议 {session.title}",
        None,
        snapshot(session, AUDITED),
    )
    publish(uow, access, "session.changed", session_id=session.id)
    return session


async def update_session(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    version: int,
    raw: Mapping[str, str],
    now: datetime | None = None,
) -> MeetingSession:
    session, access = await load_session(uow, actor, session_id)
    access.require_manage()
    require_preparing(session)
    fields, errors = check_session_fields(raw, now or utcnow(), current_start=session.starts_at)
    if fields is None:
        raise ValidationFailed(errors)
    check_version(session, version)
    before = snapshot(session, AUDITED)
    _apply(session, fields)
    session.year = beijing_year(fields.starts_at)
    await uow.flush()
    after = snapshot(session, AUDITED)
    if after != before:
        uow.audit(
            "session.update", "session", session.id, f"修改会议 {session.title}", before, after
        )
        await revised_after_notice(
            uow,
            session,
            f"会议信息变更：{session.title}",
            f"{beijing_text(session.starts_at)}，{session.place or label(session.mode)}。"
            "请下载最新的日历邀请。",
        )
    publish(uow, access, "session.changed", session_id=session.id)
    return session


def _apply(session: MeetingSession, fields: SessionFields) -> None:
    session.title = fields.title
    session.kind = fields.kind.value
    session.starts_at = fields.starts_at
    session.ends_at = fields.ends_at
    session.place = fields.place
    session.mode = fields.mode.value


@dataclass(frozen=True)
class TransitionResult:
    session: MeetingSession
    # Shown to the manager: the step was taken, but later than the street's rules ask.
    warning: str = ""
    notified: int = 0


async def open_topic_call(
    uow: UnitOfWork, actor: Actor, session_id: int, version: int, now: datetime | None = None
) -> TransitionResult:
    now = now or utcnow()
    session, access, target = await _begin(
        uow, actor, session_id, version, SessionAction.OPEN_TOPIC_CALL
    )
    days = (await street_rules(uow, access))["topic_call_days"]
    deadline = topic_call_deadline(session.starts_at, days)
    if now >= deadline:
        raise ValidationFailed(
            {},
            f"按本街道规则，议题须在会前 {days} 天征集完毕（{beijing_text(deadline)}），"
            "现已来不及发起征集。可直接确定议程。",
        )
    _move(uow, session, target)
    count = await tell_units(
        uow,
        session.conference_id,
        (MemberRole.MEMBER,),
        "topic.call",
        f"议题征集：{session.title}",
        f"请于 {beijing_text(deadline)} 前提交本单位的议题建议。",
        f"/conferences/{session.conference_id}/topics",
    )
    publish(uow, access, "session.changed", session_id=session.id)
    return TransitionResult(session, notified=count)


async def fix_agenda(
    uow: UnitOfWork, actor: Actor, session_id: int, version: int, now: datetime | None = None
) -> TransitionResult:
    now = now or utcnow()
    session, access, target = await _begin(
        uow, actor, session_id, version, SessionAction.FIX_AGENDA
    )
    if session.state == SessionState.PLANNED:
        days = (await street_rules(uow, access))["topic_call_days"]
        if not may_skip_topic_call(session.kind, session.starts_at, days, now):
            raise ValidationFailed({}, "例会须先征集议题：请先发起议题征集，征集结束后再确定议程。")
    normal = await uow.session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.session_id == session.id, AgendaItem.kind == ItemKind.NORMAL
        )
    )
    if normal is None:
        raise ValidationFailed({}, "议程中至少要有一项议题（不含上次议定事项落实情况）。")
    _move(uow, session, target)
    publish(uow, access, "session.changed", session_id=session.id)
    return TransitionResult(session)


async def send_notice(
    uow: UnitOfWork, actor: Actor, session_id: int, version: int, now: datetime | None = None
) -> TransitionResult:
    now = now or utcnow()
    session, access, target = await _begin(
        uow, actor, session_id, version, SessionAction.SEND_NOTICE
    )
    if now >= session.starts_at:
        raise ValidationFailed({}, "会议已到开始时间，不能再发送会议通知。")
    days = (await street_rules(uow, access))["notice_days"]
    warning = ""
    if now > notice_due(session.starts_at, days):
        warning = f"按本街道规则，会议通知应在会前 {days} 天发出；本次通知已晚于该时限。"
    session.notice_sent_at = now
    _move(uow, session, target)
    where = session.place or label(session.mode)
    count = await tell_units(
        uow,
        session.conference_id,
        EVERYONE,
        "session.notice",
        f"会议通知：{session.title}",
        f"{beijing_text(session.starts_at)}，{where}。请回复参会情况（参会、请假或委派代表）。",
        f"/sessions/{session.id}",
    )
    publish(uow, access, "session.changed", session_id=session.id)
    return TransitionResult(session, warning=warning, notified=count)


async def _begin(
    uow: UnitOfWork, actor: Actor, session_id: int, version: int, action: SessionAction
) -> tuple[MeetingSession, ConferenceAccess, SessionState]:
    session, access = await load_session(uow, actor, session_id)
    access.require_manage()
    target = next_state(session.state, action)
    if target is None:
        raise ValidationFailed(
            {}, f"会议当前为“{label(session.state)}”，不能{ACTION_LABELS[action]}。"
        )
    check_version(session, version)
    return session, access, target


def _move(uow: UnitOfWork, session: MeetingSession, target: SessionState) -> None:
    before = session.state
    session.state = target.value
    uow.audit(
        f"session.{target.value}",
        "session",
        session.id,
        f"{session.title}：{label(before)} → {label(target)}",
        {"state": before},
        {"state": target.value},
    )


# ---- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    session: MeetingSession
    upcoming: bool


async def list_sessions(
    uow: UnitOfWork, actor: Actor, conference_id: int, now: datetime | None = None
) -> list[SessionRow]:
    """Upcoming sessions soonest first, then past ones latest first."""
    access = await conference_access(uow, actor, conference_id)
    access.require_read()
    now = now or utcnow()
    rows = list(
        await uow.session.scalars(
            select(MeetingSession)
            .where(MeetingSession.conference_id == conference_id)
            .order_by(MeetingSession.starts_at)
        )
    )
    upcoming = [SessionRow(s, True) for s in rows if s.ends_at >= now]
    past = [SessionRow(s, False) for s in reversed(rows) if s.ends_at < now]
    return upcoming + past


def regular_count(rows: list[SessionRow], year: int) -> int:
    return sum(1 for r in rows if r.session.year == year and r.session.kind == SessionKind.REGULAR)
