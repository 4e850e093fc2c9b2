"""Cancelling an activity, and single-date exceptions (cancel one date, move one date).

Everyone holding a live sign-up on an affected date is told, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from domain.activities.forms import parse_date, parse_time
from domain.activities.planning import (
    ActivityPlacement,
    ClashWarning,
    check_version,
    clashes_for,
    load_activity,
    publish,
    require_organiser,
)
from domain.activities.recurrence import BEIJING, date_words
from domain.enums import ActivityState, OccurrenceState, SignupState
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models.activities import Activity, ActivityOccurrence, Signup
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.uow import UnitOfWork

LIVE_SIGNUP_STATES = (
    SignupState.PENDING.value,
    SignupState.CONFIRMED.value,
    SignupState.WAITLISTED.value,
)


def _reason(text: str, field: str = "reason") -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed({field: "请填写原因，报名的人会收到这条说明。"})
    if len(text) > 300:
        raise ValidationFailed({field: "原因不超过 300 字。"})
    return text


async def live_signup_users(uow: UnitOfWork, occurrence_ids: Sequence[int]) -> set[int]:
    if not occurrence_ids:
        return set()
    return set(
        await uow.session.scalars(
            select(Signup.user_id).where(
                Signup.occurrence_id.in_(occurrence_ids), Signup.state.in_(LIVE_SIGNUP_STATES)
            )
        )
    )


async def cancel_activity(
    uow: UnitOfWork,
    actor: Actor,
    activity_id: int,
    version: int | None,
    reason: str,
    now: datetime | None = None,
) -> Activity:
    """The whole activity is off: every future scheduled date is cancelled."""
    now = now or utcnow()
    activity = await load_activity(uow, activity_id)
    await require_organiser(uow, actor, activity)
    check_version(activity, version)
    if activity.state == ActivityState.CANCELLED:
        raise Conflict("该活动已取消。")
    reason = _reason(reason)
    future = list(
        await uow.session.scalars(
            select(ActivityOccurrence).where(
                ActivityOccurrence.activity_id == activity.id,
                ActivityOccurrence.state == OccurrenceState.SCHEDULED.value,
                ActivityOccurrence.starts_at > now,
            )
        )
    )
    for occ in future:
        occ.state = OccurrenceState.CANCELLED.value
        occ.cancel_reason = reason
    activity.state = ActivityState.CANCELLED.value
    activity.cancel_reason = reason
    activity.updated_at = now
    notify(
        uow,
        await live_signup_users(uow, [o.id for o in future]),
        "activity",
        f"活动取消：{activity.title}",
        f"原因：{reason}",
        link=f"/activities/{activity.id}",
    )
    uow.audit(
        "activity.cancel",
        "activity",
        activity.id,
        f"{activity.title}：{reason}（{len(future)} 期）",
    )
    publish(uow, activity)
    await uow.flush()
    return activity


async def _occurrence(
    uow: UnitOfWork, actor: Actor, occurrence_id: int, version: int | None, now: datetime
) -> tuple[ActivityOccurrence, Activity]:
    occ = await uow.session.get(ActivityOccurrence, occurrence_id)
    if occ is None:
        raise NotFound("活动日期不存在。")
    activity = await load_activity(uow, occ.activity_id)
    await require_organiser(uow, actor, activity)
    check_version(occ, version)
    if activity.state == ActivityState.CANCELLED:
        raise Conflict("该活动已取消。")
    if occ.state != OccurrenceState.SCHEDULED:
        raise Conflict("该日期已取消或已结算，不能再调整。")
    if occ.starts_at <= now:
        raise Conflict("该日期已开始或已过去，不能再调整。")
    return occ, activity


async def cancel_date(
    uow: UnitOfWork,
    actor: Actor,
    occurrence_id: int,
    version: int | None,
    reason: str,
    now: datetime | None = None,
) -> ActivityOccurrence:
    now = now or utcnow()
    occ, activity = await _occurrence(uow, actor, occurrence_id, version, now)
    reason = _reason(reason)
    occ.state = OccurrenceState.CANCELLED.value
    occ.cancel_reason = reason
    when = date_words(occ.starts_at, occ.ends_at)
    notify(
        uow,
        await live_signup_users(uow, [occ.id]),
        "activity",
        f"活动日期取消：{activity.title} {when}",
        f"原因：{reason}",
        link=f"/activities/o/{occ.id}",
    )
    uow.audit("activity.cancel_date", "activity", activity.id, f"{when}：{reason}")
    publish(uow, activity)
    await uow.flush()
    return occ


async def move_date(
    uow: UnitOfWork,
    actor: Actor,
    occurrence_id: int,
    version: int | None,
    raw: Mapping[str, str],
    now: datetime | None = None,
) -> ActivityOccurrence:
    """One date to another day or time; `original_starts_at` keeps the rule's date."""
    now = now or utcnow()
    occ, activity = await _occurrence(uow, actor, occurrence_id, version, now)
    errors: dict[str, str] = {}
    day = parse_date(raw.get("date", ""))
    start = parse_time(raw.get("start_time", ""))
    end = parse_time(raw.get("end_time", ""))
    if day is None:
        errors["date"] = "请填写新的日期。"
    if start is None:
        errors["start_time"] = "请填写开始时间。"
    if end is None:
        errors["end_time"] = "请填写结束时间。"
    elif start is not None and end <= start:
        errors["end_time"] = "结束时间须晚于开始时间。"
    reason = raw.get("reason", "").strip()
    if not reason:
        errors["reason"] = "请填写调整原因，报名的人会收到这条说明。"
    elif len(reason) > 300:
        errors["reason"] = "原因不超过 300 字。"
    if errors:
        raise ValidationFailed(errors)
    assert day and start and end
    starts_at = datetime.combine(day, start, BEIJING).astimezone(UTC)
    ends_at = datetime.combine(day, end, BEIJING).astimezone(UTC)
    if starts_at <= now:
        raise ValidationFailed({"date": "新的时间已过，请选择将来的时间。"})
    if not raw.get("confirm_conflicts"):
        # Only this date is checked; the activity's other dates are its own business.
        warnings = await clashes_for(
            uow, activity.street_id, [(starts_at, ends_at)], ActivityPlacement.of(activity),
            exclude_activity_id=activity.id,
        )  # fmt: skip
        if warnings:
            raise ClashWarning(warnings)
    before = date_words(occ.starts_at, occ.ends_at)
    occ.starts_at, occ.ends_at = starts_at, ends_at
    occ.note = reason
    after = date_words(starts_at, ends_at)
    notify(
        uow,
        await live_signup_users(uow, [occ.id]),
        "activity",
        f"活动时间调整：{activity.title}",
        f"{before} 改为 {after}。原因：{reason}",
        link=f"/activities/o/{occ.id}",
    )
    uow.audit("activity.move_date", "activity", activity.id, f"{before} → {after}：{reason}")
    publish(uow, activity)
    await uow.flush()
    return occ
