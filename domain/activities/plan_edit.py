"""Editing an activity: descriptive fields and capacity always; time and recurrence only
while no date has a sign-up or has been settled (then the dates are made anew)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, func, select

from domain.activities.conflicts import venue_key
from domain.activities.forms import parse_activity_form
from domain.activities.plan_dates import live_signup_users
from domain.activities.planning import (
    ClashWarning,
    apply_input,
    check_hosts,
    check_places,
    check_version,
    clashes_for,
    host_ids,
    load_activity,
    new_occurrences,
    plan_dates,
    publish,
    require_organiser,
    version_of,
)
from domain.enums import ActivityState, OccurrenceState
from domain.errors import Conflict, ValidationFailed
from domain.models.activities import Activity, ActivityHost, ActivityOccurrence, Signup
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.uow import UnitOfWork

# --- edit --------------------------------------------------------------------------------


async def _future_dates(
    uow: UnitOfWork, activity_id: int, now: datetime
) -> list[ActivityOccurrence]:
    return list(
        await uow.session.scalars(
            select(ActivityOccurrence)
            .where(
                ActivityOccurrence.activity_id == activity_id,
                ActivityOccurrence.state == OccurrenceState.SCHEDULED.value,
                ActivityOccurrence.starts_at > now,
            )
            .order_by(ActivityOccurrence.starts_at)
        )
    )


async def _has_signups_or_settled(uow: UnitOfWork, activity_id: int) -> bool:
    occ_ids = select(ActivityOccurrence.id).where(ActivityOccurrence.activity_id == activity_id)
    signups = await uow.session.scalar(
        select(func.count(Signup.id)).where(Signup.occurrence_id.in_(occ_ids))
    )
    settled = await uow.session.scalar(
        select(func.count(ActivityOccurrence.id)).where(
            ActivityOccurrence.activity_id == activity_id,
            ActivityOccurrence.settled_at.is_not(None),
        )
    )
    return bool(signups) or bool(settled)


def _capacity_raised(old: int, new: int) -> bool:
    return (new == 0 and old > 0) or (old > 0 and new > old)


async def edit_activity(
    uow: UnitOfWork,
    actor: Actor,
    activity_id: int,
    raw: Mapping[str, str],
    now: datetime | None = None,
) -> Activity:
    """Descriptive fields and capacity always; time and recurrence only while no date has a
    sign-up or has been settled (then the dates are made anew)."""
    now = now or utcnow()
    activity = await load_activity(uow, activity_id)
    await require_organiser(uow, actor, activity)
    check_version(activity, version_of(raw))
    if activity.state == ActivityState.CANCELLED:
        raise Conflict("该活动已取消，不能修改。")
    data = parse_activity_form(raw)
    errors: dict[str, str] = {}
    old_hosts = host_ids(activity)
    await check_hosts(uow, actor, activity.street_id, data, errors, keep=old_hosts)
    resource = await check_places(uow, activity.street_id, data, errors)
    retimed = (
        data.starts_at != activity.starts_at
        or data.ends_at != activity.ends_at
        or data.recurrence != activity.recurrence
        or data.recurrence_until != activity.recurrence_until
    )
    dates: list[tuple[datetime, datetime]] = []
    if retimed:
        if await _has_signups_or_settled(uow, activity.id):
            errors["date"] = (
                "已有日期有人报名或已结算，不能再修改时间或重复规则。"
                "请在活动页面逐个调整或取消单个日期。"
            )
        else:
            dates = plan_dates(data, now, errors)
    future = await _future_dates(uow, activity.id, now)
    highest = max((o.taken for o in future), default=0)
    if data.capacity and data.capacity < highest:
        errors["capacity"] = f"名额不能少于已报名人数最多的一期（{highest} 人）。"
    if errors:
        raise ValidationFailed(errors)
    moved_place = (
        venue_key(data.venue) != venue_key(activity.venue)
        or data.resource_id != activity.resource_id
        or frozenset(data.host_unit_ids) != old_hosts
    )
    if not data.confirm_conflicts and (retimed or moved_place):
        check = dates or [(o.starts_at, o.ends_at) for o in future]
        warnings = await clashes_for(uow, activity.street_id, check, data, activity.id)
        if warnings:
            raise ClashWarning(warnings)
    old_capacity = activity.capacity
    old_venue = activity.venue
    venue_changed = (
        venue_key(data.venue) != venue_key(activity.venue)
        or data.resource_id != activity.resource_id
    )
    apply_input(activity, data, resource)
    activity.updated_at = now
    if frozenset(data.host_unit_ids) != old_hosts or [h.unit_id for h in activity.hosts] != list(
        data.host_unit_ids
    ):
        activity.hosts.clear()
        await uow.flush()
        activity.hosts.extend(
            ActivityHost(unit_id=u, position=i) for i, u in enumerate(data.host_unit_ids)
        )
    if retimed:
        activity.starts_at, activity.ends_at = dates[0]
        activity.recurrence = data.recurrence
        activity.recurrence_until = data.recurrence_until
        await uow.session.execute(
            delete(ActivityOccurrence).where(ActivityOccurrence.activity_id == activity.id)
        )
        uow.session.add_all(new_occurrences(activity, dates))
    await uow.flush()
    if _capacity_raised(old_capacity, data.capacity) and not retimed:
        from domain.activities.signup import promote_waitlist

        for occ in future:
            await promote_waitlist(uow, occ.id)
    if venue_changed and not retimed:
        # People already signed up must not go to the old place.
        notify(
            uow,
            await live_signup_users(uow, [o.id for o in future]),
            "activity",
            f"活动地点变更：{activity.title}",
            f"地点由「{old_venue or '未定'}」改为「{activity.venue or '未定'}」。",
            link=f"/activities/{activity.id}",
        )
    uow.audit(
        "activity.edit",
        "activity",
        activity.id,
        activity.title + ("（时间已调整）" if retimed else ""),
    )
    publish(uow, activity)
    return activity
