"""What the meeting room shows, read in a fixed number of queries (for pages and live fragments)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from domain.enums import Choice, MemberRole, SpeakerState
from domain.models import (
    AgendaItem,
    Attendance,
    Ballot,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
    SpeakerRequest,
    Unit,
    Vote,
)
from domain.services.street_settings import get_settings
from domain.uow import UnitOfWork

PARTS = ("status", "agenda", "item", "attendance", "speakers", "notes", "vote", "decisions")


@dataclass
class RoomView:
    session: MeetingSession
    conference: Conference
    items: list[AgendaItem] = field(default_factory=list)
    members: list[ConferenceMember] = field(default_factory=list)
    attendance: dict[int, Attendance] = field(default_factory=dict)
    quorum_percent: int = 50
    speakers: list[SpeakerRequest] = field(default_factory=list)
    vote: Vote | None = None
    tally: dict[str, int] = field(default_factory=dict)
    ballots: dict[int, str] = field(default_factory=dict)  # unit id -> choice
    decisions: list[Decision] = field(default_factory=list)
    unit_names: dict[int, str] = field(default_factory=dict)

    @property
    def current(self) -> AgendaItem | None:
        return next((i for i in self.items if i.id == self.session.current_item_id), None)

    @property
    def voting_members(self) -> list[ConferenceMember]:
        return [m for m in self.members if m.role == MemberRole.MEMBER]

    @property
    def observers(self) -> list[ConferenceMember]:
        return [m for m in self.members if m.role == MemberRole.OBSERVER]

    @property
    def signed_in_members(self) -> int:
        return sum(
            1
            for m in self.voting_members
            if (a := self.attendance.get(m.unit_id)) is not None and a.signed_in_at is not None
        )

    @property
    def quorum_needed(self) -> int:
        """Smallest count that is *more than* the quorum share of member units."""
        return len(self.voting_members) * self.quorum_percent // 100 + 1

    @property
    def quorum_met(self) -> bool:
        return self.signed_in_members >= self.quorum_needed

    @property
    def speaking(self) -> SpeakerRequest | None:
        return next((r for r in self.speakers if r.state == SpeakerState.SPEAKING), None)

    @property
    def waiting(self) -> list[SpeakerRequest]:
        return [r for r in self.speakers if r.state == SpeakerState.WAITING]

    @property
    def ballots_cast(self) -> int:
        return sum(self.tally.get(c.value, 0) for c in Choice)

    def unit_name(self, unit_id: int) -> str:
        return self.unit_names.get(unit_id, f"单位 {unit_id}")

    def assisting(self, decision: Decision) -> list[str]:
        ids = [int(i) for i in decision.assisting_unit_ids.split(",") if i]
        return [self.unit_name(i) for i in ids]


async def load_room(
    uow: UnitOfWork, session_id: int, parts: frozenset[str] | None = None
) -> RoomView | None:
    """Load the room; with `parts`, only what those fragments need (plus the session)."""
    s = uow.session
    session = await s.get(MeetingSession, session_id)
    if session is None:
        return None
    conference = await s.get(Conference, session.conference_id)
    assert conference is not None
    view = RoomView(session=session, conference=conference)
    want = parts or frozenset(PARTS)
    if want & {"agenda", "item", "notes", "speakers", "vote", "decisions"}:
        view.items = list(
            await s.scalars(
                select(AgendaItem)
                .where(AgendaItem.session_id == session_id)
                .order_by(AgendaItem.position)
            )
        )
    if want & {"attendance", "decisions", "speakers", "vote"}:
        view.members = list(
            await s.scalars(
                select(ConferenceMember)
                .where(ConferenceMember.conference_id == conference.id, ConferenceMember.active)
                .options(joinedload(ConferenceMember.unit))
                .join(Unit, Unit.id == ConferenceMember.unit_id)
                .order_by(ConferenceMember.role, Unit.kind, Unit.name)
            )
        )
        view.unit_names = {m.unit_id: m.unit.name for m in view.members}
    if "attendance" in want:
        view.attendance = {
            a.unit_id: a
            for a in await s.scalars(select(Attendance).where(Attendance.session_id == session_id))
        }
        view.quorum_percent = (await get_settings(uow, conference.organization_id))[
            "quorum_percent"
        ]
    current = session.current_item_id
    if current is None:
        return view
    if "speakers" in want:
        view.speakers = list(
            await s.scalars(
                select(SpeakerRequest)
                .where(
                    SpeakerRequest.item_id == current,
                    SpeakerRequest.state.in_([SpeakerState.WAITING, SpeakerState.SPEAKING]),
                )
                .options(joinedload(SpeakerRequest.unit), joinedload(SpeakerRequest.user))
                .order_by(SpeakerRequest.requested_at, SpeakerRequest.id)
            )
        )
    if "vote" in want:
        view.vote = await s.scalar(
            select(Vote).where(Vote.item_id == current).order_by(Vote.id.desc()).limit(1)
        )
        if view.vote is not None:
            view.tally = {c.value: 0 for c in Choice}
            for choice, n in await s.execute(
                select(Ballot.choice, func.count())
                .where(Ballot.vote_id == view.vote.id)
                .group_by(Ballot.choice)
            ):
                view.tally[choice] = n
            view.ballots = {
                unit_id: choice
                for unit_id, choice in await s.execute(
                    select(Ballot.unit_id, Ballot.choice).where(Ballot.vote_id == view.vote.id)
                )
            }
    if "decisions" in want:
        view.decisions = list(
            await s.scalars(
                select(Decision).where(Decision.item_id == current).order_by(Decision.id)
            )
        )
    return view
