"""The archive of a conference's sessions (会议档案): search by date, text and unit.

Text search is a plain substring match (LIKE) over the session title, the agenda
(titles, descriptions, notes), decisions and the minutes' body: Chinese has no
word boundaries, so 联防 must find 社区治安联防, which a word index would not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, exists, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from domain.conference.access import ConferenceAccess, conference_access
from domain.conference.minutes_draft import CHINA
from domain.enums import SessionState
from domain.errors import ValidationFailed
from domain.models import (
    AgendaItem,
    Attendance,
    ConferenceMember,
    Decision,
    MeetingSession,
    Minutes,
    TopicProposal,
    Unit,
)
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.uow import UnitOfWork

PAGE_SIZE = 20
MAX_QUERY = 50
# Sessions that have been held: from the minutes draft on.
HELD = (
    SessionState.MINUTES_DRAFT,
    SessionState.CO_SIGNING,
    SessionState.ISSUED,
    SessionState.ARCHIVED,
)
STATE_FILTERS = {
    "": HELD,
    "pending": (SessionState.MINUTES_DRAFT, SessionState.CO_SIGNING),
    "issued": (SessionState.ISSUED,),
    "archived": (SessionState.ARCHIVED,),
}


@dataclass(frozen=True)
class ArchiveQuery:
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    unit_id: int | None = None
    state: str = ""
    page: int = 1


@dataclass(frozen=True)
class ArchiveRow:
    session: MeetingSession
    number_label: str
    has_minutes: bool
    items: int
    decisions: int


@dataclass
class ArchivePage:
    access: ConferenceAccess
    query: ArchiveQuery
    rows: list[ArchiveRow] = field(default_factory=list)
    total: int = 0
    units: list[tuple[int, str]] = field(default_factory=list)  # choices for the unit filter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def parse_query(raw: Mapping[str, str]) -> ArchiveQuery:
    """Read the search form; a bad field raises ValidationFailed with a message for it."""
    errors: dict[str, str] = {}
    q = raw.get("q", "").strip()
    if len(q) > MAX_QUERY:
        errors["q"] = f"关键词不能超过 {MAX_QUERY} 个字。"
    dates: dict[str, date | None] = {}
    for name in ("date_from", "date_to"):
        text = raw.get(name, "").strip()
        dates[name] = None
        if text:
            try:
                dates[name] = date.fromisoformat(text)
            except ValueError:
                errors[name] = "日期格式应为 2026-03-18。"
    start, end = dates["date_from"], dates["date_to"]
    if start and end and start > end:
        errors["date_to"] = "结束日期不能早于开始日期。"
    unit_text = raw.get("unit_id", "").strip()
    unit_id = parse_id(unit_text) if unit_text else None
    if unit_text and unit_id is None:
        errors["unit_id"] = "请从列表中选择单位。"
    state = raw.get("state", "")
    if state not in STATE_FILTERS:
        errors["state"] = "请选择纪要状态。"
    page_text = raw.get("page", "1").strip()
    page = int(page_text) if page_text.isdecimal() and len(page_text) <= 6 else 1
    if errors:
        raise ValidationFailed(errors)
    return ArchiveQuery(q, start, end, unit_id, state, max(1, page))


def _text_match(q: str) -> ColumnElement[bool]:
    def like(column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        return column.icontains(q, autoescape=True)

    s = MeetingSession
    return or_(
        like(s.title),
        exists().where(
            AgendaItem.session_id == s.id,
            or_(like(AgendaItem.title), like(AgendaItem.description), like(AgendaItem.notes)),
        ),
        exists().where(Decision.session_id == s.id, like(Decision.title)),
        exists().where(Minutes.session_id == s.id, like(Minutes.body)),
    )


def _unit_match(unit_id: int) -> ColumnElement[bool]:
    """The unit proposed an agenda topic, leads or assists a decision, or attended."""
    s = MeetingSession
    assisting = literal(",") + func.replace(Decision.assisting_unit_ids, " ", "") + literal(",")
    return or_(
        exists().where(
            AgendaItem.session_id == s.id,
            TopicProposal.id == AgendaItem.topic_id,
            TopicProposal.unit_id == unit_id,
        ),
        exists().where(
            Decision.session_id == s.id,
            or_(Decision.lead_unit_id == unit_id, assisting.contains(f",{unit_id},")),
        ),
        exists().where(
            Attendance.session_id == s.id,
            Attendance.unit_id == unit_id,
            Attendance.signed_in_at.is_not(None),
        ),
    )


def _day_start(day: date) -> datetime:
    # Dates are calendar days in Beijing time, which is what the user means.
    return datetime.combine(day, time.min, CHINA)


async def search_archive(
    uow: UnitOfWork, actor: Actor, conference_id: int, query: ArchiveQuery
) -> ArchivePage:
    access = await conference_access(uow, actor, conference_id)
    access.require_read()
    result = ArchivePage(access=access, query=query)
    result.units = await _unit_choices(uow, conference_id)

    s = MeetingSession
    stmt = select(s).where(
        s.conference_id == conference_id,
        s.state.in_([st.value for st in STATE_FILTERS[query.state]]),
    )
    if query.date_from:
        stmt = stmt.where(s.starts_at >= _day_start(query.date_from))
    if query.date_to:
        stmt = stmt.where(s.starts_at < _day_start(query.date_to + timedelta(days=1)))
    if query.q:
        stmt = stmt.where(_text_match(query.q))
    if query.unit_id:
        stmt = stmt.where(_unit_match(query.unit_id))
    result.total = await uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    sessions = list(
        await uow.session.scalars(
            stmt.order_by(s.starts_at.desc(), s.id.desc())
            .limit(PAGE_SIZE)
            .offset((query.page - 1) * PAGE_SIZE)
        )
    )
    ids = [x.id for x in sessions]
    labels: dict[int, str] = {}
    items: dict[int, int] = {}
    decisions: dict[int, int] = {}
    if ids:
        minutes_rows = await uow.session.execute(
            select(Minutes.session_id, Minutes.number_label).where(Minutes.session_id.in_(ids))
        )
        labels = {sid: label for sid, label in minutes_rows}
        items = await _counts(uow, AgendaItem.session_id, ids)
        decisions = await _counts(uow, Decision.session_id, ids)
    result.rows = [
        ArchiveRow(
            session=x,
            number_label=labels.get(x.id, ""),
            has_minutes=x.id in labels,
            items=items.get(x.id, 0),
            decisions=decisions.get(x.id, 0),
        )
        for x in sessions
    ]
    return result


async def _counts(
    uow: UnitOfWork, column: InstrumentedAttribute[int], ids: list[int]
) -> dict[int, int]:
    rows = await uow.session.execute(
        select(column, func.count()).where(column.in_(ids)).group_by(column)
    )
    return {key: n for key, n in rows}


async def _unit_choices(uow: UnitOfWork, conference_id: int) -> list[tuple[int, str]]:
    rows = await uow.session.execute(
        select(Unit.id, Unit.name)
        .join(ConferenceMember, ConferenceMember.unit_id == Unit.id)
        .where(ConferenceMember.conference_id == conference_id)
        .order_by(Unit.kind, Unit.name)
    )
    return [(uid, name) for uid, name in rows]
