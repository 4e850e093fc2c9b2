"""The topic call (议题征集): member units propose topics, the secretariat decides on each.

    submitted ─accept─▶ accepted   (optionally onto a session's agenda)
              ─merge──▶ merged     (into another proposal; reason required)
              ─reject─▶ rejected   (reason required)

A liaison proposes for their own member unit only; observers (列席) read. Every decision
carries the version the manager saw: a proposal changed meanwhile is not decided blind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from domain.conference.access import ConferenceAccess, conference_access
from domain.conference.agenda import ItemFields, append_item
from domain.conference.prep import publish, revised_after_notice, street_rules
from domain.conference.rules import PREPARING, TITLE_MAX, beijing_text, topic_call_deadline
from domain.enums import SessionState, TopicStatus
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.labels import label
from domain.models import MeetingSession, TopicProposal, Unit
from domain.models.base import utcnow
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.uow import UnitOfWork

TEXT_MAX = 2000
REASON_MAX = 500


async def open_calls(
    uow: UnitOfWork, access: ConferenceAccess, now: datetime
) -> list[tuple[MeetingSession, datetime]]:
    """Sessions of the conference whose topic call is open now, with their deadlines."""
    days = (await street_rules(uow, access))["topic_call_days"]
    sessions = await uow.session.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.conference_id == access.conference.id,
            MeetingSession.state == SessionState.CALLING_TOPICS,
        )
        .order_by(MeetingSession.starts_at)
    )
    calls = [(s, topic_call_deadline(s.starts_at, days)) for s in sessions]
    return [(s, d) for s, d in calls if now < d]


async def submit_topic(
    uow: UnitOfWork,
    actor: Actor,
    conference_id: int,
    raw: Mapping[str, str],
    now: datetime | None = None,
) -> TopicProposal:
    """Propose a topic for a member unit, to the conference or to a session calling for topics."""
    now = now or utcnow()
    access = await conference_access(uow, actor, conference_id)
    access.require_read()
    unit_id = parse_id(raw.get("unit_id", ""))
    if unit_id is None and len(access.member_unit_ids) == 1:
        unit_id = next(iter(access.member_unit_ids))
    # Observers (列席) and liaisons of other units are refused here, before any field check.
    access.require_member(unit_id or 0)
    assert unit_id is not None
    errors: dict[str, str] = {}
    title = raw.get("title", "").strip()
    if not title:
        errors["title"] = "请填写议题名称。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"议题名称不能超过 {TITLE_MAX} 个字。"
    background = raw.get("background", "").strip()
    if len(background) > TEXT_MAX:
        errors["background"] = f"背景情况不能超过 {TEXT_MAX} 个字。"
    suggestion = raw.get("suggestion", "").strip()
    if len(suggestion) > TEXT_MAX:
        errors["suggestion"] = f"建议办理方式不能超过 {TEXT_MAX} 个字。"
    session_id: int | None = None
    if raw.get("session_id", "").strip():
        session_id = parse_id(raw["session_id"])
        calls = {s.id: d for s, d in await open_calls(uow, access, now)}
        if session_id not in calls:
            errors["session_id"] = "该会议未在征集议题，或征集已截止。"
    if errors:
        raise ValidationFailed(errors)
    proposal = TopicProposal(
        conference_id=conference_id,
        session_id=session_id,
        unit_id=unit_id,
        proposer_id=actor.user_id,
        title=title,
        background=background,
        suggestion=suggestion,
        status=TopicStatus.SUBMITTED.value,
    )
    uow.session.add(proposal)
    await uow.flush()
    uow.audit("topic.submit", "topic", proposal.id, f"提交议题 {title}")
    publish(uow, access, "topic.changed", topic_id=proposal.id)
    return proposal


@dataclass(frozen=True)
class TopicDecision:
    """A manager's decision as typed into the form, before it is checked."""

    action: str  # accept | merge | reject
    version: int
    reason: str = ""
    session_id: str = ""  # accept: put it on this session's agenda (optional)
    target_id: str = ""  # merge: into this proposal


async def decide_topic(
    uow: UnitOfWork, actor: Actor, topic_id: int, decision: TopicDecision
) -> TopicProposal:
    proposal = await uow.session.get(TopicProposal, topic_id) if is_row_id(topic_id) else None
    if proposal is None:
        raise NotFound("议题不存在。")
    access = await conference_access(uow, actor, proposal.conference_id)
    if not access.can_read:
        raise NotFound("议题不存在。")
    access.require_manage()
    if proposal.version != decision.version or proposal.status != TopicStatus.SUBMITTED:
        raise Conflict(
            f"议题“{proposal.title}”已被他人处理或修改（当前：{label(proposal.status)}），"
            "您的决定未保存。请查看最新内容后再处理。"
        )
    reason = decision.reason.strip()
    errors: dict[str, str] = {}
    if len(reason) > REASON_MAX:
        errors["reason"] = f"理由不能超过 {REASON_MAX} 个字。"
    session: MeetingSession | None = None
    target: TopicProposal | None = None
    if decision.action == "accept":
        status = TopicStatus.ACCEPTED
        if decision.session_id.strip():
            sid = parse_id(decision.session_id)
            session = await uow.session.get(MeetingSession, sid) if sid else None
            if (
                session is None
                or session.conference_id != proposal.conference_id
                or session.state not in PREPARING
            ):
                errors["session_id"] = "只能列入本会议尚未召开的会议议程。"
    elif decision.action == "merge":
        status = TopicStatus.MERGED
        tid = parse_id(decision.target_id)
        target = await uow.session.get(TopicProposal, tid) if tid else None
        if (
            target is None
            or target.id == proposal.id
            or target.conference_id != proposal.conference_id
            or target.status not in (TopicStatus.SUBMITTED, TopicStatus.ACCEPTED)
        ):
            errors["target_id"] = "请选择要并入的议题（本会议中待处理或已采纳的其他议题）。"
        if not reason:
            errors["reason"] = "合并须说明理由。"
    elif decision.action == "reject":
        status = TopicStatus.REJECTED
        if not reason:
            errors["reason"] = "不予采纳须说明理由。"
    else:
        raise ValidationFailed({}, "请选择采纳、合并或不予采纳。")
    if errors:
        raise ValidationFailed(errors)

    proposal.status = status.value
    proposal.reason = reason
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = utcnow()
    if target is not None:
        proposal.merged_into_id = target.id
    if session is not None:
        proposal.session_id = session.id
        description = "\n\n".join(
            part
            for part in (
                f"背景：{proposal.background}" if proposal.background else "",
                f"建议：{proposal.suggestion}" if proposal.suggestion else "",
            )
            if part
        )
        await append_item(uow, session, ItemFields(proposal.title, description), proposal.id)
        await revised_after_notice(
            uow, session, f"议程调整：{session.title}", f"增加议题“{proposal.title}”。"
        )
        publish(uow, access, "session.agenda_changed", session_id=session.id)
    await uow.flush()
    uow.audit(
        f"topic.{status.value}",
        "topic",
        proposal.id,
        f"议题 {proposal.title}：{label(status)}",
        {"status": TopicStatus.SUBMITTED.value},
        {"status": status.value, "reason": reason, "session_id": proposal.session_id},
    )
    outcome = label(status)
    if session is not None:
        outcome += f"，列入“{session.title}”（{beijing_text(session.starts_at)}）议程"
    if target is not None:
        outcome += f"，并入“{target.title}”"
    notify(
        uow,
        [proposal.proposer_id],
        "topic.decided",
        f"您提交的议题“{proposal.title}”{outcome}",
        reason,
        f"/conferences/{proposal.conference_id}/topics",
    )
    publish(uow, access, "topic.changed", topic_id=proposal.id)
    return proposal


async def conference_of(uow: UnitOfWork, topic_id: int) -> int:
    """The conference a proposal belongs to (to show its page again after a refusal)."""
    found = await uow.session.scalar(
        select(TopicProposal.conference_id).where(TopicProposal.id == topic_id)
    )
    if found is None:
        raise NotFound("议题不存在。")
    return found


@dataclass
class TopicList:
    access: ConferenceAccess
    proposals: list[TopicProposal]  # those shown (after the status filter)
    everything: list[TopicProposal]  # all this user may see
    status: str
    counts: dict[str, int]


async def list_topics(
    uow: UnitOfWork, actor: Actor, conference_id: int, status: str = ""
) -> TopicList:
    """Managers see every proposal (filtered by status); others their own units' proposals."""
    access = await conference_access(uow, actor, conference_id)
    access.require_read()
    stmt = select(TopicProposal).where(TopicProposal.conference_id == conference_id)
    if not access.can_manage:
        stmt = stmt.where(
            or_(
                TopicProposal.unit_id.in_(access.acts_for),
                TopicProposal.proposer_id == actor.user_id,
            )
        )
    everything = list(
        await uow.session.scalars(
            stmt.options(
                joinedload(TopicProposal.unit), joinedload(TopicProposal.proposer)
            ).order_by(TopicProposal.created_at.desc(), TopicProposal.id.desc())
        )
    )
    counts = {s.value: 0 for s in TopicStatus}
    for p in everything:
        counts[p.status] = counts.get(p.status, 0) + 1
    status = status if status in counts else ""
    shown = [p for p in everything if not status or p.status == status]
    return TopicList(access, shown, everything, status, counts)


@dataclass
class TopicPage:
    listing: TopicList
    calls: list[tuple[MeetingSession, datetime]]  # sessions calling for topics, deadlines
    sessions: dict[int, MeetingSession]  # every session of the conference, by id
    my_units: list[Unit]  # member units this user proposes for

    @property
    def agenda_targets(self) -> list[MeetingSession]:
        """Sessions a manager may put an accepted topic on: those not yet opened."""
        return [s for s in self.sessions.values() if s.state in PREPARING]

    @property
    def merge_targets(self) -> list[TopicProposal]:
        return [
            p
            for p in self.listing.everything
            if p.status in (TopicStatus.SUBMITTED, TopicStatus.ACCEPTED)
        ]


async def topic_page(
    uow: UnitOfWork, actor: Actor, conference_id: int, status: str = "", now: datetime | None = None
) -> TopicPage:
    listing = await list_topics(uow, actor, conference_id, status)
    access = listing.access
    sessions = {
        s.id: s
        for s in await uow.session.scalars(
            select(MeetingSession)
            .where(MeetingSession.conference_id == conference_id)
            .order_by(MeetingSession.starts_at)
        )
    }
    units = (
        list(
            await uow.session.scalars(
                select(Unit).where(Unit.id.in_(access.member_unit_ids)).order_by(Unit.name)
            )
        )
        if access.member_unit_ids
        else []
    )
    return TopicPage(listing, await open_calls(uow, access, now or utcnow()), sessions, units)
