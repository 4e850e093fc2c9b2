"""Replies to the notice: each member or observer unit attends, asks for leave (with a
reason) or sends a delegate (named). A liaison replies for their own unit only, until the
session starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from domain.conference.prep import load_session, publish
from domain.conference.rules import check_reply
from domain.enums import MemberRole, Reply, SessionState
from domain.errors import Conflict, ValidationFailed
from domain.labels import label
from domain.models import Attendance, ConferenceMember, Unit
from domain.models.base import utcnow
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.uow import UnitOfWork


async def reply(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    raw: Mapping[str, str],
    now: datetime | None = None,
) -> Attendance:
    now = now or utcnow()
    session, access = await load_session(uow, actor, session_id)
    unit_id = parse_id(raw.get("unit_id", ""))
    if unit_id is None and len(access.acts_for) == 1:
        unit_id = next(iter(access.acts_for))
    access.require_attendee(unit_id or 0)
    assert unit_id is not None
    if session.state != SessionState.NOTIFIED:
        raise ValidationFailed({}, "会议通知发出后才能回复参会情况。")
    if now >= session.starts_at:
        raise ValidationFailed({}, "会议已经开始，不能再回复参会情况。")
    fields, errors = check_reply(raw)
    if fields is None:
        raise ValidationFailed(errors)
    row = await uow.session.scalar(
        select(Attendance).where(Attendance.session_id == session.id, Attendance.unit_id == unit_id)
    )
    if row is None:
        row = Attendance(session_id=session.id, unit_id=unit_id)
        uow.session.add(row)
    before = {"reply": row.reply or Reply.NONE.value}
    row.reply = fields.reply.value
    row.reply_reason = fields.reason
    row.delegate_name = fields.delegate_name
    row.replied_by_id = actor.user_id
    row.replied_at = now
    try:
        await uow.flush()
    except IntegrityError:
        # Another liaison of the same unit replied at the same moment.
        raise Conflict("本单位刚刚已有人回复，请刷新后查看。") from None
    unit = await uow.session.get(Unit, unit_id)
    uow.audit(
        "session.reply",
        "session",
        session.id,
        f"{unit.name if unit else unit_id} 回复：{label(fields.reply)}",
        before,
        {"reply": fields.reply.value, "reason": fields.reason, "delegate": fields.delegate_name},
    )
    publish(uow, access, "session.replied", session_id=session.id, unit_id=unit_id)
    return row


@dataclass(frozen=True)
class ReplyRow:
    unit: Unit
    role: str
    attendance: Attendance | None

    @property
    def reply(self) -> str:
        return self.attendance.reply if self.attendance else Reply.NONE.value


async def reply_rows(uow: UnitOfWork, conference_id: int, session_id: int) -> list[ReplyRow]:
    """Every active member and observer unit, with its reply if it has one."""
    members = list(
        await uow.session.scalars(
            select(ConferenceMember)
            .join(Unit, Unit.id == ConferenceMember.unit_id)
            .where(ConferenceMember.conference_id == conference_id, ConferenceMember.active)
            .options(joinedload(ConferenceMember.unit))
            .order_by(ConferenceMember.role, Unit.kind, Unit.name)
        )
    )
    rows = {
        a.unit_id: a
        for a in await uow.session.scalars(
            select(Attendance).where(Attendance.session_id == session_id)
        )
    }
    return [ReplyRow(m.unit, m.role, rows.get(m.unit_id)) for m in members]


def reply_counts(rows: list[ReplyRow]) -> dict[str, int]:
    counts = {r.value: 0 for r in Reply}
    for row in rows:
        counts[row.reply] = counts.get(row.reply, 0) + 1
    return counts


def members_only(rows: list[ReplyRow]) -> list[ReplyRow]:
    return [r for r in rows if r.role == MemberRole.MEMBER]
