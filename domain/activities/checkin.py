"""Check-in at the venue: a member scans the date's QR code, or an organiser ticks them off.

- The QR code is the absolute URL `{origin}/checkin/{token}`; the organiser can make a new
  token at any time, after which the old code leads nowhere.
- QR check-in is open from `checkin_open_minutes` (a street setting) before the start
  until the end. A confirmed member is checked in; a walk-in with no sign-up is signed up
  and checked in at once if the activity is open for sign-up without approval and a seat
  is free (the same conditional seat UPDATE as a sign-up); otherwise they are told why.
- Organiser check-in (and undoing it) works from the same opening until settlement.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from domain.activities.signup import live_signup
from domain.activities.signup_base import (
    OccContext,
    check_version,
    context_of,
    load_context,
    load_signup,
    publish_change,
    take_seat,
)
from domain.enums import ActivityState, CheckinMethod, OccurrenceState, SignupRule, SignupState
from domain.errors import Conflict, NotFound
from domain.models.activities import Activity, ActivityOccurrence, Signup
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services.street_settings import get_settings
from domain.uow import UnitOfWork


def new_token() -> str:
    return secrets.token_urlsafe(24)


async def opens_at(uow: UnitOfWork, occ: ActivityOccurrence) -> datetime:
    settings = await get_settings(uow, occ.street_id)
    return occ.starts_at - timedelta(minutes=settings["checkin_open_minutes"])


async def regenerate_token(
    uow: UnitOfWork, actor: Actor, occurrence_id: int, version: int | None = None
) -> ActivityOccurrence:
    ctx = await load_context(uow, actor, occurrence_id)
    ctx.access.require_organiser()
    check_version(ctx.occ, version)
    ctx.occ.checkin_token = new_token()
    uow.audit("activity.checkin_token", "activity_occurrence", ctx.occ.id, "重新生成签到码")
    return ctx.occ


@dataclass(frozen=True)
class CheckinView:
    """What the check-in page shows: the date, the actor's sign-up and whether they can."""

    ctx: OccContext
    signup: Signup | None
    can_checkin: bool
    reason: str  # why not, or what has happened already
    already: bool
    opens_at: datetime


async def _by_token(uow: UnitOfWork, actor: Actor, token: str) -> OccContext:
    occ = None
    if token and len(token) <= 64:
        occ = await uow.session.scalar(
            select(ActivityOccurrence)
            .where(ActivityOccurrence.checkin_token == token)
            .options(joinedload(ActivityOccurrence.activity).selectinload(Activity.hosts))
        )
    if occ is None:
        raise NotFound("签到码无效或已更新，请扫描现场最新的签到二维码。")
    return await context_of(uow, actor, occ)


async def checkin_view(
    uow: UnitOfWork, actor: Actor, token: str, now: datetime | None = None
) -> CheckinView:
    now = now or utcnow()
    ctx = await _by_token(uow, actor, token)
    signup = await live_signup(uow, ctx.occ.id, actor.user_id)
    opening = await opens_at(uow, ctx.occ)
    reason = _refusal(ctx, signup, opening, now)
    already = signup is not None and signup.checked_in_at is not None
    return CheckinView(ctx, signup, reason == "", reason, already, opening)


def _refusal(ctx: OccContext, signup: Signup | None, opening: datetime, now: datetime) -> str:
    """Empty when the actor may check in now; otherwise what to tell them."""
    occ, activity = ctx.occ, ctx.activity
    if activity.state != ActivityState.ANNOUNCED or occ.state == OccurrenceState.CANCELLED:
        return "该活动场次已取消。"
    if occ.state == OccurrenceState.SETTLED:
        return "该场次已结算，签到已关闭。"
    if now < opening:
        minutes = int((opening - now).total_seconds() // 60) + 1
        return f"签到尚未开始（活动开始前开放，约 {minutes} 分钟后可签到）。"
    if now > occ.ends_at:
        return "活动已结束，签到已关闭。"
    if signup is None:
        if activity.signup_rule == SignupRule.APPROVAL:
            return "该活动需报名审核，您没有通过审核的报名，不能现场签到。"
        return ""
    if signup.checked_in_at is not None:
        return "您已签到，无需重复签到。"
    if signup.state == SignupState.PENDING:
        return "您的报名尚待组织方审核，暂不能签到。"
    if signup.state == SignupState.WAITLISTED:
        return "您在候补名单中，尚未获得名额，暂不能签到。"
    return ""


async def checkin_by_token(
    uow: UnitOfWork, actor: Actor, token: str, now: datetime | None = None
) -> Signup:
    """The member checks themselves in by the code they scanned."""
    now = now or utcnow()
    view = await checkin_view(uow, actor, token, now)
    if not view.can_checkin:
        raise Conflict(view.reason)
    ctx, signup = view.ctx, view.signup
    if signup is None:
        # A walk-in: a seat if one is free, and the sign-up is confirmed and checked in.
        if not await take_seat(uow, ctx.occ.id, ctx.capacity):
            raise Conflict("名额已满，无法现场签到，请联系活动组织方。")
        signup = Signup(
            occurrence_id=ctx.occ.id,
            user_id=actor.user_id,
            state=SignupState.CONFIRMED.value,
            note="现场签到",
            created_at=now,
        )
        uow.session.add(signup)
        try:
            await uow.session.flush()
        except IntegrityError:
            raise Conflict("您已报名该活动，请刷新后再签到。") from None
    signup.checked_in_at = now
    signup.checkin_method = CheckinMethod.QR.value
    signup.checked_in_by_id = actor.user_id
    publish_change(uow, ctx, actor.user_id)
    uow.audit("activity.checkin", "activity_signup", signup.id, "扫码签到")
    return signup


async def organiser_checkin(
    uow: UnitOfWork,
    actor: Actor,
    signup_id: int,
    *,
    undo: bool = False,
    version: int | None = None,
    now: datetime | None = None,
) -> Signup:
    """The organiser ticks a confirmed member off (签到), or takes it back (撤销签到)."""
    now = now or utcnow()
    signup = await load_signup(uow, signup_id)
    ctx = await load_context(uow, actor, signup.occurrence_id)
    ctx.access.require_organiser()
    check_version(signup, version)
    if ctx.occ.state != OccurrenceState.SCHEDULED:
        raise Conflict("该场次已结算或已取消，不能再修改签到。")
    if now < await opens_at(uow, ctx.occ):
        raise Conflict("签到尚未开始。")
    if signup.state != SignupState.CONFIRMED:
        raise Conflict("只有已确认报名的人员可以签到。")
    if undo:
        if signup.checked_in_at is None:
            raise Conflict("该人员尚未签到。")
        signup.checked_in_at = None
        signup.checkin_method = ""
        signup.checked_in_by_id = None
    else:
        if signup.checked_in_at is not None:
            raise Conflict(f"{signup.user.display_name} 已签到。")
        signup.checked_in_at = now
        signup.checkin_method = CheckinMethod.ORGANISER.value
        signup.checked_in_by_id = actor.user_id
    publish_change(uow, ctx, signup.user_id)
    action = "activity.checkin_undo" if undo else "activity.checkin"
    uow.audit(action, "activity_signup", signup.id, signup.user.display_name)
    return signup
