"""The floor of the meeting room: speaker queue, live notes, votes and decisions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from domain.conference.meeting import load_session, publish_room, require_in_session
from domain.enums import Choice, MemberRole, SpeakerState, VoteState
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models import (
    AgendaItem,
    Ballot,
    ConferenceMember,
    Decision,
    MeetingSession,
    SpeakerRequest,
    Vote,
)
from domain.models.base import utcnow
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.topics import street_topic
from domain.uow import UnitOfWork

CHINA = timedelta(hours=8)


async def _current_item(
    uow: UnitOfWork, actor: Actor, item_id: int, *, manage: bool
) -> tuple[MeetingSession, AgendaItem]:
    item = await uow.session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("议程不存在。")
    session, access = await load_session(uow, actor, item.session_id, lock=True)
    if manage:
        access.require_manage()
    require_in_session(session)
    return session, item


# Speakers -------------------------------------------------------------------------------


async def request_to_speak(
    uow: UnitOfWork, actor: Actor, item_id: int, unit_id: int
) -> SpeakerRequest:
    item = await uow.session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound("议程不存在。")
    session, access = await load_session(uow, actor, item.session_id, lock=True)
    access.require_attendee(unit_id)
    require_in_session(session)
    if session.current_item_id != item.id:
        raise ValidationFailed({}, "只能就当前议程申请发言。")
    pending = await uow.session.scalar(
        select(SpeakerRequest.id).where(
            SpeakerRequest.item_id == item.id,
            SpeakerRequest.unit_id == unit_id,
            SpeakerRequest.state.in_([SpeakerState.WAITING, SpeakerState.SPEAKING]),
        )
    )
    if pending:
        raise ValidationFailed({}, "本单位已在发言队列中。")
    request = SpeakerRequest(item_id=item.id, unit_id=unit_id, user_id=actor.user_id)
    uow.session.add(request)
    await uow.flush()
    publish_room(uow, session, "speakers", "controls")
    return request


async def _speaker(
    uow: UnitOfWork, actor: Actor, request_id: int, *, manage: bool
) -> tuple[MeetingSession, SpeakerRequest]:
    request = await uow.session.get(SpeakerRequest, request_id)
    if request is None:
        raise NotFound("发言申请不存在。")
    session, _item = await _current_item(uow, actor, request.item_id, manage=manage)
    return session, request


async def grant_floor(uow: UnitOfWork, actor: Actor, request_id: int) -> SpeakerRequest:
    """The convener gives the floor; whoever was speaking on this item is done."""
    session, request = await _speaker(uow, actor, request_id, manage=True)
    if request.state != SpeakerState.WAITING:
        raise ValidationFailed({}, "该发言申请已处理。")
    now = utcnow()
    await uow.session.execute(
        update(SpeakerRequest)
        .where(
            SpeakerRequest.item_id == request.item_id, SpeakerRequest.state == SpeakerState.SPEAKING
        )
        .values(state=SpeakerState.FINISHED.value, ended_at=now)
    )
    request.state = SpeakerState.SPEAKING.value
    request.started_at = now
    await uow.flush()
    publish_room(uow, session, "speakers", "controls")
    return request


async def end_floor(uow: UnitOfWork, actor: Actor, request_id: int) -> SpeakerRequest:
    session, request = await _speaker(uow, actor, request_id, manage=True)
    if request.state != SpeakerState.SPEAKING:
        raise ValidationFailed({}, "该单位当前不在发言。")
    request.state = SpeakerState.FINISHED.value
    request.ended_at = utcnow()
    await uow.flush()
    publish_room(uow, session, "speakers", "controls")
    return request


async def withdraw(uow: UnitOfWork, actor: Actor, request_id: int) -> SpeakerRequest:
    session, request = await _speaker(uow, actor, request_id, manage=False)
    _session, access = await load_session(uow, actor, session.id)
    access.require_attendee(request.unit_id)
    if request.state != SpeakerState.WAITING:
        raise ValidationFailed({}, "只能撤回尚未开始的发言申请。")
    request.state = SpeakerState.WITHDRAWN.value
    await uow.flush()
    publish_room(uow, session, "speakers", "controls")
    return request


# Notes ----------------------------------------------------------------------------------


async def save_notes(
    uow: UnitOfWork, actor: Actor, item_id: int, version: int, text: str
) -> AgendaItem:
    session, item = await _current_item(uow, actor, item_id, manage=True)
    if len(text) > 20_000:
        raise ValidationFailed({"notes": "记录不能超过 20000 字。"})
    if item.version != version:
        raise Conflict(
            "这条记录刚被其他秘书处人员保存过，您的内容未保存。请复制您的内容后刷新再合并。"
        )
    item.notes = text
    item.notes_updated_at = utcnow()
    await uow.flush()
    publish_room(uow, session, "notes")
    return item


# Votes ----------------------------------------------------------------------------------


async def open_vote(uow: UnitOfWork, actor: Actor, item_id: int, motion: str) -> Vote:
    session, item = await _current_item(uow, actor, item_id, manage=True)
    if session.current_item_id != item.id:
        # A form left open on the previous item must not start a vote nobody is looking at.
        raise ValidationFailed({"motion": "只能对当前议程发起表决，请刷新后重试。"})
    motion = motion.strip()
    if not motion or len(motion) > 300:
        raise ValidationFailed({"motion": "请填写表决事项（不超过 300 字）。"})
    already = await uow.session.scalar(
        select(Vote.id)
        .join(AgendaItem, AgendaItem.id == Vote.item_id)
        .where(AgendaItem.session_id == session.id, Vote.state == VoteState.OPEN)
    )
    if already:
        raise ValidationFailed({"motion": "还有一项表决未结束，请先结束它。"})
    vote = Vote(item_id=item.id, motion=motion)
    uow.session.add(vote)
    await uow.flush()
    uow.audit("vote.open", "vote", vote.id, f"发起表决：{motion}")
    publish_room(uow, session, "vote", "controls")
    return vote


async def cast_ballot(
    uow: UnitOfWork, actor: Actor, vote_id: int, unit_id: int, choice: str
) -> Ballot:
    """One ballot per member unit; the unique index decides between two browsers at once."""
    vote = await uow.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound("表决不存在。")
    item = await uow.session.get(AgendaItem, vote.item_id)
    assert item is not None
    session, access = await load_session(uow, actor, item.session_id)
    access.require_member(unit_id)
    require_in_session(session)
    if vote.state != VoteState.OPEN:
        raise ValidationFailed({}, "该表决已经结束。")
    try:
        parsed = Choice(choice)
    except ValueError:
        raise ValidationFailed({"choice": "请选择赞成、反对或弃权。"}) from None
    ballot = Ballot(vote_id=vote.id, unit_id=unit_id, user_id=actor.user_id, choice=parsed.value)
    uow.session.add(ballot)
    try:
        await uow.session.flush()
    except IntegrityError:
        raise ValidationFailed({}, "本单位已经投过票，每个成员单位只能投一票。") from None
    publish_room(uow, session, "vote", "controls")
    return ballot


async def tally(uow: UnitOfWork, vote_id: int) -> dict[str, int]:
    rows = await uow.session.execute(
        select(Ballot.choice, func.count()).where(Ballot.vote_id == vote_id).group_by(Ballot.choice)
    )
    counts = {c.value: 0 for c in Choice}
    counts.update({choice: n for choice, n in rows})
    return counts


async def close_vote_counts(uow: UnitOfWork, session: MeetingSession, vote: Vote) -> Vote:
    """Record the result: passed when more than half of the member units present vote for."""
    from domain.models import Attendance

    counts = await tally(uow, vote.id)
    present = (
        await uow.session.scalar(
            select(func.count(Attendance.id))
            .join(
                ConferenceMember,
                (ConferenceMember.unit_id == Attendance.unit_id)
                & (ConferenceMember.conference_id == session.conference_id),
            )
            .where(
                Attendance.session_id == session.id,
                Attendance.signed_in_at.is_not(None),
                ConferenceMember.role == MemberRole.MEMBER,
            )
        )
        or 0
    )
    vote.votes_for = counts[Choice.FOR]
    vote.votes_against = counts[Choice.AGAINST]
    vote.votes_abstain = counts[Choice.ABSTAIN]
    vote.passed = vote.votes_for * 2 > max(
        present, vote.votes_for + vote.votes_against + vote.votes_abstain
    )
    vote.state = VoteState.CLOSED.value
    vote.closed_at = utcnow()
    return vote


async def close_vote(uow: UnitOfWork, actor: Actor, vote_id: int) -> Vote:
    vote = await uow.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound("表决不存在。")
    session, _item = await _current_item(uow, actor, vote.item_id, manage=True)
    if vote.state != VoteState.OPEN:
        raise ValidationFailed({}, "该表决已经结束。")
    await close_vote_counts(uow, session, vote)
    await uow.flush()
    result = "通过" if vote.passed else "未通过"
    uow.audit(
        "vote.close",
        "vote",
        vote.id,
        f"表决结束：{vote.motion}（{result}）",
        None,
        {"for": vote.votes_for, "against": vote.votes_against, "abstain": vote.votes_abstain},
    )
    publish_room(uow, session, "vote", "controls")
    return vote


# Decisions ------------------------------------------------------------------------------


async def record_decision(
    uow: UnitOfWork, actor: Actor, item_id: int, raw: Mapping[str, str], assisting: list[str]
) -> Decision:
    """Record a decided item; it becomes a task assigned to the lead and assisting units."""
    session, item = await _current_item(uow, actor, item_id, manage=True)
    errors: dict[str, str] = {}
    title = raw.get("title", "").strip()
    if not title or len(title) > 300:
        errors["title"] = "请填写议定事项（不超过 300 字）。"
    members = set(
        await uow.session.scalars(
            select(ConferenceMember.unit_id).where(
                ConferenceMember.conference_id == session.conference_id, ConferenceMember.active
            )
        )
    )
    lead = parse_id(raw.get("lead_unit_id", ""))
    if lead is None or lead not in members:
        errors["lead_unit_id"] = "请选择本会议的一个单位作为牵头单位。"
    helpers = sorted({i for i in (parse_id(a) for a in assisting) if i is not None} - {lead or 0})
    if any(h not in members for h in helpers):
        errors["assisting"] = "协办单位须是本会议的单位。"
    deadline: date | None = None
    try:
        deadline = date.fromisoformat(raw.get("deadline", "").strip())
    except ValueError:
        errors["deadline"] = "请填写完成时限（日期）。"
    today = (utcnow() + CHINA).date()
    if deadline is not None and deadline <= today:
        errors["deadline"] = "完成时限须晚于今天。"
    if errors or lead is None or deadline is None:
        raise ValidationFailed(errors)
    decision = Decision(
        session_id=session.id,
        item_id=item.id,
        title=title,
        lead_unit_id=lead,
        assisting_unit_ids=",".join(str(h) for h in helpers),
        deadline=deadline,
        created_by_id=actor.user_id,
    )
    uow.session.add(decision)
    await uow.flush()
    uow.audit("decision.create", "decision", decision.id, f"议定事项：{title}")
    # The decision is followed up as a task (交办): its handlers are told and see it on
    # their boards, and its progress flows back to `Decision.follow_state`.
    from domain.tasks.handoff import create_from_decision

    await create_from_decision(uow, decision.id)
    publish_room(uow, session, "decisions")
    await _publish_street(uow, session)
    return decision


async def _publish_street(uow: UnitOfWork, session: MeetingSession) -> None:
    from domain.models import Conference

    conference = await uow.session.get(Conference, session.conference_id)
    if conference is not None:
        uow.publish(
            street_topic(conference.organization_id), "decision.changed", session_id=session.id
        )
