"""The activity form: raw text fields in, a checked `ActivityInput` out (or field messages).

Multi-valued fields (co-host units, weekly weekdays) arrive comma-joined. Times are Beijing
wall-clock; the result carries aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from domain.activities.recurrence import (
    BEIJING,
    RecurrenceError,
    Repeat,
    RepeatKind,
    build_rule,
    parse_rule,
)
from domain.enums import ActivityKind, SignupRule
from domain.errors import ValidationFailed

MAX_CAPACITY = 100_000
MAX_MINUTES = 24 * 60
MAX_POINTS = 1000


@dataclass(frozen=True)
class ActivityInput:
    kind: ActivityKind
    title: str
    description: str
    host_unit_ids: tuple[int, ...]  # the first is the lead organiser
    community_id: int | None
    venue: str
    resource_id: int | None
    booking_id: int | None
    starts_at: datetime  # UTC
    ends_at: datetime
    capacity: int
    signup_rule: SignupRule
    waitlist: bool
    service_minutes: int
    points: int | None
    recurrence: str
    recurrence_until: date | None
    confirm_conflicts: bool


def _id(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) <= 9 and int(text) > 0 else None


def _ids(text: str) -> list[int]:
    out: list[int] = []
    for part in text.replace("，", ",").split(","):
        value = _id(part)
        if value is not None and value not in out:
            out.append(value)
    return out


def _number(text: str, limit: int) -> int | None:
    text = text.strip()
    if not text.isdecimal() or len(text) > 7 or int(text) > limit:
        return None
    return int(text)


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.strip()).replace(second=0, microsecond=0)
    except ValueError:
        return None


def parse_repeat(raw: Mapping[str, str], errors: dict[str, str]) -> Repeat:
    kind_text = raw.get("repeat", "none").strip() or "none"
    try:
        kind = RepeatKind(kind_text)
    except ValueError:
        errors["repeat"] = "请选择重复方式。"
        return Repeat()
    if kind == RepeatKind.NONE:
        return Repeat()
    interval = _number(raw.get("repeat_interval", "1") or "1", 99) or 0
    weekdays = tuple(d for d in (_number(p, 6) for p in raw.get("repeat_weekdays", "").split(","))
                     if d is not None)  # fmt: skip
    nth_text = raw.get("repeat_nth", "").strip()
    nth = -1 if nth_text == "-1" else (_number(nth_text, 4) or 0)
    return Repeat(
        kind,
        interval,
        weekdays=weekdays,
        nth=nth,
        weekday=_number(raw.get("repeat_weekday", ""), 6) or 0,
        monthday=_number(raw.get("repeat_monthday", ""), 31) or 0,
    )


def parse_activity_form(raw: Mapping[str, str]) -> ActivityInput:
    """Check the form; raise `ValidationFailed` with a Chinese message per field."""
    errors: dict[str, str] = {}
    try:
        kind = ActivityKind(raw.get("kind", "").strip())
    except ValueError:
        errors["kind"] = "请选择活动类型。"
        kind = ActivityKind.JOINT
    title = raw.get("title", "").strip()
    if not title:
        errors["title"] = "请填写活动名称。"
    elif len(title) > 200:
        errors["title"] = "活动名称不超过 200 字。"
    description = raw.get("description", "").strip()
    if len(description) > 4000:
        errors["description"] = "活动内容不超过 4000 字。"
    lead = _id(raw.get("lead_unit_id", ""))
    if lead is None:
        errors["lead_unit_id"] = "请选择牵头主办单位。"
    hosts = [lead] if lead is not None else []
    hosts += [u for u in _ids(raw.get("co_unit_ids", "")) if u != lead]
    community_id = _id(raw.get("community_id", ""))
    venue = raw.get("venue", "").strip()
    resource_id = _id(raw.get("resource_id", ""))
    booking_id = _id(raw.get("booking_id", "")) if resource_id else None
    if len(venue) > 200:
        errors["venue"] = "地点不超过 200 字。"
    elif not venue and resource_id is None:
        errors["venue"] = "请填写活动地点，或选择共享场地。"
    day = parse_date(raw.get("date", ""))
    start = parse_time(raw.get("start_time", ""))
    end = parse_time(raw.get("end_time", ""))
    if day is None:
        errors["date"] = "请填写日期（如 2026-12-04）。"
    if start is None:
        errors["start_time"] = "请填写开始时间（如 15:00）。"
    if end is None:
        errors["end_time"] = "请填写结束时间（如 17:00）。"
    elif start is not None and end <= start:
        errors["end_time"] = "结束时间须晚于开始时间。"
    capacity = _number(raw.get("capacity", "0") or "0", MAX_CAPACITY)
    if capacity is None:
        errors["capacity"] = "名额为 0（不限）或正整数。"
    try:
        rule = SignupRule(raw.get("signup_rule", SignupRule.OPEN.value).strip())
    except ValueError:
        errors["signup_rule"] = "请选择报名方式。"
        rule = SignupRule.OPEN
    minutes_text = raw.get("service_minutes", "").strip()
    minutes = _number(minutes_text, MAX_MINUTES) if minutes_text else -1
    if minutes is None:
        errors["service_minutes"] = "服务时长为 0–1440 分钟；不填则按活动时长计。"
    points_text = raw.get("points", "").strip()
    points = _number(points_text, MAX_POINTS) if points_text else None
    if points_text and points is None:
        errors["points"] = f"积分为 0–{MAX_POINTS} 的整数；不填则按街道规则。"
    repeat = parse_repeat(raw, errors)
    recurrence = ""
    try:
        recurrence = build_rule(repeat)
    except RecurrenceError as exc:
        errors["repeat"] = str(exc)
    until = parse_date(raw.get("recurrence_until", ""))
    if recurrence and until is None:
        errors["recurrence_until"] = "重复活动须填写重复截止日期。"
    if errors:
        raise ValidationFailed(errors)
    assert day and start and end and capacity is not None and minutes is not None
    starts_at = datetime.combine(day, start, BEIJING).astimezone(UTC)
    ends_at = datetime.combine(day, end, BEIJING).astimezone(UTC)
    if minutes < 0:
        minutes = int((ends_at - starts_at).total_seconds() // 60)
    return ActivityInput(
        kind=kind,
        title=title,
        description=description,
        host_unit_ids=tuple(hosts),
        community_id=community_id,
        venue=venue,
        resource_id=resource_id,
        booking_id=booking_id,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        signup_rule=rule,
        waitlist=raw.get("waitlist", "") in ("1", "on", "true"),
        service_minutes=minutes,
        points=points,
        recurrence=recurrence,
        recurrence_until=until if recurrence else None,
        confirm_conflicts=raw.get("confirm_conflicts", "") in ("1", "on", "true"),
    )


def form_values(activity: Any, host_unit_ids: list[int]) -> dict[str, Any]:
    """An activity as form values (for the edit form)."""
    start = activity.starts_at.astimezone(BEIJING)
    end = activity.ends_at.astimezone(BEIJING)
    repeat = parse_rule(activity.recurrence)
    return {
        "kind": activity.kind,
        "title": activity.title,
        "description": activity.description,
        "lead_unit_id": str(host_unit_ids[0]) if host_unit_ids else "",
        "co_unit_ids": [str(u) for u in host_unit_ids[1:]],
        "community_id": str(activity.community_id or ""),
        "venue": activity.venue,
        "resource_id": str(activity.resource_id or ""),
        "booking_id": str(activity.booking_id or ""),
        "date": start.date().isoformat(),
        "start_time": f"{start:%H:%M}",
        "end_time": f"{end:%H:%M}",
        "capacity": str(activity.capacity),
        "signup_rule": activity.signup_rule,
        "waitlist": "1" if activity.waitlist else "",
        "service_minutes": str(activity.service_minutes),
        "points": "" if activity.points is None else str(activity.points),
        "repeat": repeat.kind.value,
        "repeat_interval": str(repeat.interval),
        "repeat_weekdays": [str(d) for d in repeat.weekdays],
        "repeat_nth": str(repeat.nth or 1),
        "repeat_weekday": str(repeat.weekday),
        "repeat_monthday": str(repeat.monthday or start.day),
        "recurrence_until": activity.recurrence_until.isoformat()
        if activity.recurrence_until
        else "",
        "version": str(activity.version),
    }
