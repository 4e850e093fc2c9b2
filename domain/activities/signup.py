"""Signing up for one date of an activity: seats, the waitlist and the organiser's approval.

- **Open rule** (报名即确认): a seat is taken with the conditional UPDATE of
  `signup_base.take_seat` → confirmed; when the date is full the sign-up is waitlisted if
  the activity keeps a waitlist, else refused (名额已满).
- **Approval rule** (报名需审核): the sign-up waits (pending) without a seat; the organiser
  approves (a seat, or the waitlist when full) or declines with a reason.
- One live sign-up per person and date is enforced by the partial unique index
  `uq_signups_live`: of two concurrent sign-ups by the same person exactly one is stored.
- Cancelling a confirmed sign-up releases its seat and, in the same transaction, promotes
  the earliest waitlisted people (first come, first served) while seats are free.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from domain.activities.signup_base import (
    LIVE_STATES,
    OCCURRENCES,
    SIGNUPS,
    OccContext,
    check_version,
    context_of,
    load_context,
    load_signup,
    publish_change,
    release_seat,
    take_seat,
    when_text,
)
from domain.conference.access import users_acting_for
from domain.enums import ActivityState, OccurrenceState, SignupRule, SignupState
from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.models.activities import Activity, ActivityOccurrence, Signup
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.topics import street_topic, user_topic
from domain.uow import UnitOfWork

FULL = "名额已满。"
ALREADY = "您已报名该活动。"
NOTE_MAX = 300


def require_open_for_signup(ctx: OccContext, now: datetime) -> None:
    """Announced activity, a scheduled date that has not started."""
    if ctx.activity.state != ActivityState.ANNOUNCED or not ctx.access.can_read:
        raise Conflict("该活动尚未发布或已取消，不能报名。")
    if ctx.occ.state == OccurrenceState.CANCELLED:
        raise Conflict("该场次已取消，不能报名。")
    if ctx.occ.state != OccurrenceState.SCHEDULED or now >= ctx.occ.starts_at:
        raise Conflict("活动已开始或已结束，报名已截止。")


async def live_signup(uow: UnitOfWork, occurrence_id: int, user_id: int) -> Signup | None:
    return await uow.session.scalar(
        select(Signup).where(
            Signup.occurrence_id == occurrence_id,
            Signup.user_id == user_id,
            Signup.state.in_(LIVE_STATES),
        )
    )


async def waitlist_position(uow: UnitOfWork, signup: Signup) -> int:
    """1 for the first in line (FIFO by id)."""
    ahead = await uow.session.scalar(
        select(func.count(Signup.id)).where(
            Signup.occurrence_id == signup.occurrence_id,
            Signup.state == SignupState.WAITLISTED,
            Signup.id <= signup.id,
        )
    )
    return int(ahead or 0)


async def sign_up(
    uow: UnitOfWork,
    actor: Actor,
    occurrence_id: int,
    note: str = "",
    now: datetime | None = None,
) -> Signup:
    now = now or utcnow()
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"note": f"备注最多 {NOTE_MAX} 字。"})
    ctx = await load_context(uow, actor, occurrence_id)
    require_open_for_signup(ctx, now)
    if await live_signup(uow, occurrence_id, actor.user_id) is not None:
        raise Conflict(ALREADY)
    if ctx.activity.signup_rule == SignupRule.APPROVAL:
        state = SignupState.PENDING
    elif await take_seat(uow, occurrence_id, ctx.capacity):
        state = SignupState.CONFIRMED
    elif ctx.activity.waitlist:
        state = SignupState.WAITLISTED
    else:
        raise Conflict(f"{FULL}该活动不设候补。")
    signup = Signup(
        occurrence_id=occurrence_id,
        user_id=actor.user_id,
        state=state.value,
        note=note,
        created_at=now,
    )
    uow.session.add(signup)
    try:
        # The partial unique index decides between two concurrent sign-ups of one person;
        # the whole transaction (and any seat it took) rolls back with this one.
        await uow.session.flush()
    except IntegrityError:
        raise Conflict(ALREADY) from None
    if state == SignupState.PENDING:
        await _tell_organisers_of_pending(uow, ctx, actor)
    publish_change(uow, ctx, actor.user_id)
    uow.audit("activity.signup", "activity_signup", signup.id, f"{ctx.title} {ctx.when}")
    return signup


async def _tell_organisers_of_pending(uow: UnitOfWork, ctx: OccContext, actor: Actor) -> None:
    hosts = {h.unit_id for h in ctx.activity.hosts}
    organisers = await users_acting_for(uow, hosts)
    organisers.discard(actor.user_id)
    notify(
        uow,
        organisers,
        "activity.signup_pending",
        f"{actor.display_name} 报名了「{ctx.title}」，待审核",
        ctx.when,
        ctx.link,
    )


async def _signup_context(
    uow: UnitOfWork, actor: Actor, signup_id: int
) -> tuple[Signup, OccContext]:
    signup = await load_signup(uow, signup_id)
    occ = await uow.session.scalar(
        select(ActivityOccurrence)
        .where(ActivityOccurrence.id == signup.occurrence_id)
        .options(selectinload(ActivityOccurrence.activity).selectinload(Activity.hosts))
    )
    assert occ is not None
    return signup, await context_of(uow, actor, occ)


async def cancel_signup(
    uow: UnitOfWork,
    actor: Actor,
    signup_id: int,
    version: int | None = None,
    now: datetime | None = None,
) -> Signup:
    """The member withdraws (until the date starts); a freed seat goes to the waitlist."""
    now = now or utcnow()
    signup, ctx = await _signup_context(uow, actor, signup_id)
    if signup.user_id != actor.user_id:
        raise PermissionDenied("只能取消自己的报名。")
    check_version(signup, version)
    if signup.state not in LIVE_STATES:
        raise Conflict("该报名已取消或未通过，无需再取消。")
    if now >= ctx.occ.starts_at:
        raise Conflict("活动已开始，不能再取消报名。")
    held_seat = signup.state == SignupState.CONFIRMED
    signup.state = SignupState.CANCELLED.value
    signup.cancelled_at = now
    await uow.flush()
    if held_seat:
        await release_seat(uow, ctx.occ.id)
        await promote_waitlist(uow, ctx.occ.id)
    publish_change(uow, ctx, actor.user_id)
    uow.audit("activity.signup_cancel", "activity_signup", signup.id, f"{ctx.title} {ctx.when}")
    return signup


async def promote_waitlist(uow: UnitOfWork, occurrence_id: int) -> list[Signup]:
    """Give free seats to the waitlist, earliest first; notify each person promoted.

    Called after a seat is released and when an organiser raises the capacity. Each
    promotion takes a seat with the conditional UPDATE and changes the state only `WHERE
    state = 'signup_waitlisted'`, so a concurrent promotion of the same person (or their
    own cancellation) never confirms them twice or leaks a seat.
    """
    s = uow.session
    row = (
        await s.execute(
            select(OCCURRENCES.c.state, OCCURRENCES.c.street_id, OCCURRENCES.c.activity_id).where(
                OCCURRENCES.c.id == occurrence_id
            )
        )
    ).first()
    if row is None or row.state != OccurrenceState.SCHEDULED:
        return []
    activity = await s.get(Activity, row.activity_id)
    assert activity is not None
    promoted_ids: list[int] = []
    after = 0
    while True:
        candidate = await s.scalar(
            select(SIGNUPS.c.id)
            .where(
                SIGNUPS.c.occurrence_id == occurrence_id,
                SIGNUPS.c.state == SignupState.WAITLISTED.value,
                SIGNUPS.c.id > after,
            )
            .order_by(SIGNUPS.c.id)
            .limit(1)
        )
        if candidate is None or not await take_seat(uow, occurrence_id, activity.capacity):
            break
        after = candidate
        changed = await s.execute(
            update(SIGNUPS)
            .where(SIGNUPS.c.id == candidate, SIGNUPS.c.state == SignupState.WAITLISTED.value)
            .values(state=SignupState.CONFIRMED.value, version=SIGNUPS.c.version + 1)
        )
        if int(getattr(changed, "rowcount", 0) or 0) != 1:
            await release_seat(uow, occurrence_id)  # someone else moved them first
            continue
        promoted_ids.append(candidate)
    if not promoted_ids:
        return []
    promoted = list(
        await s.scalars(
            select(Signup)
            .where(Signup.id.in_(promoted_ids))
            .order_by(Signup.id)
            .execution_options(populate_existing=True)
        )
    )
    occ = await s.get(ActivityOccurrence, occurrence_id)
    assert occ is not None
    link = f"/activities/o/{occurrence_id}"
    for signup in promoted:
        notify(
            uow,
            [signup.user_id],
            "activity.promoted",
            f"候补成功：您已获得「{activity.title}」的名额",
            when_text(occ.starts_at, occ.ends_at),
            link,
        )
        uow.publish(user_topic(signup.user_id), "activity.changed", occurrence_id=occurrence_id)
    uow.publish(street_topic(row.street_id), "activity.changed", occurrence_id=occurrence_id)
    return promoted


async def approve(
    uow: UnitOfWork,
    actor: Actor,
    signup_id: int,
    version: int | None = None,
    now: datetime | None = None,
) -> Signup:
    """The organiser admits a pending sign-up: a seat, or the waitlist when the date is full."""
    now = now or utcnow()
    signup, ctx = await _signup_context(uow, actor, signup_id)
    ctx.access.require_organiser()
    check_version(signup, version)
    if signup.state != SignupState.PENDING:
        raise Conflict("该报名已处理，请刷新页面。")
    if ctx.occ.state != OccurrenceState.SCHEDULED or now >= ctx.occ.ends_at:
        raise Conflict("该场次已取消或已结束，不能再审核报名。")
    if await take_seat(uow, ctx.occ.id, ctx.capacity):
        signup.state = SignupState.CONFIRMED.value
        title = f"您报名的「{ctx.title}」已通过审核"
    elif ctx.activity.waitlist:
        signup.state = SignupState.WAITLISTED.value
        title = f"「{ctx.title}」名额已满，您已进入候补名单"
        notify(
            uow,
            [actor.user_id],
            "activity.approve_full",
            f"「{ctx.title}」名额已满：{signup.user.display_name} 已进入候补名单",
            ctx.when,
            ctx.link,
        )
    else:
        raise Conflict(f"{FULL}该活动不设候补，无法批准。")
    signup.decided_by_id = actor.user_id
    signup.decided_at = now
    notify(uow, [signup.user_id], "activity.approved", title, ctx.when, ctx.link)
    publish_change(uow, ctx, signup.user_id)
    uow.audit("activity.signup_approve", "activity_signup", signup.id, signup.state)
    return signup


async def decline(
    uow: UnitOfWork,
    actor: Actor,
    signup_id: int,
    reason: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Signup:
    """The organiser turns down a pending or waitlisted sign-up, with a reason."""
    now = now or utcnow()
    reason = reason.strip()
    signup, ctx = await _signup_context(uow, actor, signup_id)
    ctx.access.require_organiser()
    if not reason:
        raise ValidationFailed({"reason": "请填写未通过的原因。"})
    if len(reason) > NOTE_MAX:
        raise ValidationFailed({"reason": f"原因最多 {NOTE_MAX} 字。"})
    check_version(signup, version)
    if signup.state not in (SignupState.PENDING, SignupState.WAITLISTED):
        raise Conflict("该报名已处理，请刷新页面。")
    signup.state = SignupState.DECLINED.value
    signup.decline_reason = reason
    signup.decided_by_id = actor.user_id
    signup.decided_at = now
    notify(
        uow,
        [signup.user_id],
        "activity.declined",
        f"您报名的「{ctx.title}」未通过",
        f"{ctx.when}。原因：{reason}",
        ctx.link,
    )
    publish_change(uow, ctx, signup.user_id)
    uow.audit("activity.signup_decline", "activity_signup", signup.id, reason)
    return signup


__all__ = [
    "approve",
    "cancel_signup",
    "decline",
    "live_signup",
    "promote_waitlist",
    "sign_up",
    "waitlist_position",
]
