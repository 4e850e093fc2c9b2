"""What the date page (`/activities/o/{id}`) and "my activities" show, loaded in a few
queries: the date and its activity, the actor's own sign-up, and for organisers every
sign-up with its person, points and check-in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from domain.activities.checkin import opens_at
from domain.activities.makeup import MakeupRow, my_open_makeups
from domain.activities.settlement import rule_text, settled_points
from domain.activities.signup_base import LIVE_STATES, OccContext, load_context, when_text
from domain.enums import ActivityState, OccurrenceState, SignupRule, SignupState
from domain.models.activities import Activity, ActivityOccurrence, PointEntry, Signup
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services.street_settings import get_settings
from domain.uow import UnitOfWork

PAST_DAYS = 365
MINE_LIMIT = 100


@dataclass
class OccurrencePage:
    ctx: OccContext
    now: datetime
    opens_at: datetime
    mine: Signup | None
    my_position: int
    my_points: int | None
    rule_text: str
    # Organisers only: every sign-up, by state.
    pending: list[Signup] = field(default_factory=list)
    confirmed: list[Signup] = field(default_factory=list)
    waitlisted: list[Signup] = field(default_factory=list)
    others: list[Signup] = field(default_factory=list)  # declined or cancelled
    points: dict[int, int] = field(default_factory=dict)  # signup id → points posted

    @property
    def occ(self) -> ActivityOccurrence:
        return self.ctx.occ

    @property
    def activity(self) -> Activity:
        return self.ctx.activity

    @property
    def organiser(self) -> bool:
        return self.ctx.access.is_organiser

    @property
    def started(self) -> bool:
        return self.now >= self.occ.starts_at

    @property
    def ended(self) -> bool:
        return self.now >= self.occ.ends_at

    @property
    def scheduled(self) -> bool:
        return self.occ.state == OccurrenceState.SCHEDULED

    @property
    def settled(self) -> bool:
        return self.occ.state == OccurrenceState.SETTLED

    @property
    def open_for_signup(self) -> bool:
        return (
            self.activity.state == ActivityState.ANNOUNCED and self.scheduled and not self.started
        )

    @property
    def signup_closed_reason(self) -> str:
        if self.activity.state == ActivityState.PLANNED:
            return "活动筹备中，尚未开放报名。"
        if self.activity.state == ActivityState.CANCELLED or self.occ.state == "occ_cancelled":
            return "该场次已取消。"
        if self.settled:
            return "该场次已结算。"
        return "活动已开始，报名已截止。"

    @property
    def full(self) -> bool:
        return 0 < self.activity.capacity <= self.occ.taken

    @property
    def needs_approval(self) -> bool:
        return self.activity.signup_rule == SignupRule.APPROVAL

    @property
    def checkin_window(self) -> bool:
        """Organiser check-in: from the QR opening until settlement."""
        return self.scheduled and self.now >= self.opens_at

    @property
    def can_settle(self) -> bool:
        return self.organiser and self.scheduled and self.ended

    @property
    def checked_in(self) -> int:
        return sum(1 for s in self.confirmed if s.checked_in_at is not None)

    @property
    def attended(self) -> list[Signup]:
        return [s for s in self.confirmed if s.attendance == "attended"]

    @property
    def no_shows(self) -> list[Signup]:
        return [s for s in self.confirmed if s.attendance == "no_show"]

    @property
    def when(self) -> str:
        return self.ctx.when


async def occurrence_page(
    uow: UnitOfWork, actor: Actor, occurrence_id: int, now: datetime | None = None
) -> OccurrencePage:
    now = now or utcnow()
    ctx = await load_context(uow, actor, occurrence_id, populate=True)
    settings = await get_settings(uow, ctx.occ.street_id)
    page = OccurrencePage(
        ctx=ctx,
        now=now,
        opens_at=await opens_at(uow, ctx.occ),
        mine=None,
        my_position=0,
        my_points=None,
        rule_text=rule_text(ctx.activity, settings),
    )
    stmt = select(Signup).where(Signup.occurrence_id == occurrence_id).order_by(Signup.id)
    if ctx.access.is_organiser:
        rows = list(await uow.session.scalars(stmt.options(selectinload(Signup.user))))
        page.points = await settled_points(uow, occurrence_id)
    else:
        rows = list(
            await uow.session.scalars(
                stmt.where(
                    (Signup.user_id == actor.user_id)
                    | (Signup.state == SignupState.WAITLISTED.value)
                )
            )
        )
    waitlist = [s for s in rows if s.state == SignupState.WAITLISTED]
    mine = [s for s in rows if s.user_id == actor.user_id]
    live = [s for s in mine if s.state in LIVE_STATES]
    page.mine = live[0] if live else (mine[-1] if mine else None)
    if page.mine is not None and page.mine.state == SignupState.WAITLISTED:
        page.my_position = waitlist.index(page.mine) + 1
    if page.mine is not None and page.settled:
        page.my_points = await uow.session.scalar(
            select(PointEntry.points).where(PointEntry.signup_id == page.mine.id)
        )
    if ctx.access.is_organiser:
        for s in rows:
            if s.state == SignupState.PENDING:
                page.pending.append(s)
            elif s.state == SignupState.CONFIRMED:
                page.confirmed.append(s)
            elif s.state == SignupState.WAITLISTED:
                page.waitlisted.append(s)
            else:
                page.others.append(s)
    return page


@dataclass(frozen=True)
class MyRow:
    signup: Signup
    occ: ActivityOccurrence
    when: str
    position: int = 0
    points: int | None = None
    minutes: int | None = None


@dataclass
class MyActivities:
    upcoming: list[MyRow]
    past: list[MyRow]
    makeups: list[MakeupRow]

    @property
    def total_points(self) -> int:
        return sum(r.points or 0 for r in self.past)


async def my_activities(uow: UnitOfWork, actor: Actor, now: datetime | None = None) -> MyActivities:
    now = now or utcnow()
    s = uow.session
    rows = list(
        await s.scalars(
            select(Signup)
            .join(ActivityOccurrence, ActivityOccurrence.id == Signup.occurrence_id)
            .where(
                Signup.user_id == actor.user_id,
                ActivityOccurrence.ends_at >= now - timedelta(days=PAST_DAYS),
            )
            .options(joinedload(Signup.occurrence).joinedload(ActivityOccurrence.activity))
            .order_by(ActivityOccurrence.starts_at.desc(), Signup.id.desc())
            .limit(MINE_LIMIT * 2)
        )
    )
    waitlisted_occs = [r.occurrence_id for r in rows if r.state == SignupState.WAITLISTED]
    positions: dict[int, int] = {}
    if waitlisted_occs:
        queue = await s.execute(
            select(Signup.id, Signup.occurrence_id)
            .where(
                Signup.occurrence_id.in_(waitlisted_occs),
                Signup.state == SignupState.WAITLISTED.value,
            )
            .order_by(Signup.id)
        )
        seen: dict[int, int] = {}
        for sid, occ_id in queue:
            seen[occ_id] = seen.get(occ_id, 0) + 1
            positions[sid] = seen[occ_id]
    posted = {
        sid: (pts, mins)
        for sid, pts, mins in await s.execute(
            select(PointEntry.signup_id, PointEntry.points, PointEntry.minutes).where(
                PointEntry.user_id == actor.user_id, PointEntry.signup_id.in_([r.id for r in rows])
            )
        )
    }
    upcoming: list[MyRow] = []
    past: list[MyRow] = []
    for r in rows:
        occ = r.occurrence
        when = when_text(occ.starts_at, occ.ends_at)
        if occ.ends_at >= now and r.state in LIVE_STATES and occ.state != "occ_cancelled":
            upcoming.append(MyRow(r, occ, when, positions.get(r.id, 0)))
        elif occ.ends_at < now and r.state == SignupState.CONFIRMED:
            pts, mins = posted.get(r.id, (None, None))
            past.append(MyRow(r, occ, when, 0, pts, mins))
    upcoming.reverse()  # soonest first
    return MyActivities(
        upcoming[:MINE_LIMIT], past[:MINE_LIMIT], await my_open_makeups(uow, actor.user_id)
    )
