"""Pure rules of the time before a session: its states, its times, its deadlines.

No database here, so every rule is unit-tested directly. Times are entered and
shown in Beijing time (the platform serves Chinese streets only) and stored in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.enums import Reply, SessionKind, SessionMode, SessionState

BEIJING = ZoneInfo("Asia/Shanghai")

TITLE_MAX = 200
PLACE_MAX = 200
REASON_MAX = 300
DELEGATE_MAX = 50
MATERIAL_MAX_BYTES = 10 * 1024 * 1024
# A session is a meeting, not a retreat: longer is almost certainly a typo in the date.
LONGEST_SESSION = timedelta(hours=12)

S = SessionState


class SessionAction(StrEnum):
    OPEN_TOPIC_CALL = "open_topic_call"
    FIX_AGENDA = "fix_agenda"
    SEND_NOTICE = "send_notice"


# Who may do these is checked by the service (managers only); here: from which state to which.
TRANSITIONS: dict[SessionAction, tuple[frozenset[SessionState], SessionState]] = {
    SessionAction.OPEN_TOPIC_CALL: (frozenset({S.PLANNED}), S.CALLING_TOPICS),
    # Fixing the agenda straight from `planned` is for sessions that hold no topic call
    # (see `may_skip_topic_call`); the service checks that.
    SessionAction.FIX_AGENDA: (frozenset({S.PLANNED, S.CALLING_TOPICS}), S.AGENDA_SET),
    SessionAction.SEND_NOTICE: (frozenset({S.AGENDA_SET}), S.NOTIFIED),
}

# Until the session opens, its details and agenda may still change; the meeting room owns it after.
PREPARING = frozenset({S.PLANNED, S.CALLING_TOPICS, S.AGENDA_SET, S.NOTIFIED})

ACTION_LABELS = {
    SessionAction.OPEN_TOPIC_CALL: "发起议题征集",
    SessionAction.FIX_AGENDA: "确定议程",
    SessionAction.SEND_NOTICE: "发送会议通知",
}


def next_state(state: str, action: SessionAction) -> SessionState | None:
    """The state after `action`, or None when the action is not allowed from `state`."""
    sources, target = TRANSITIONS[action]
    return target if state in sources else None


def topic_call_deadline(starts_at: datetime, topic_call_days: int) -> datetime:
    """Proposals for a session are due this long before it (议题征集提前天数): the
    secretariat needs the rest of the time to decide on them and fix the agenda."""
    return starts_at - timedelta(days=topic_call_days)


def notice_due(starts_at: datetime, notice_days: int) -> datetime:
    """The latest moment the notice should go out (会议通知提前天数)."""
    return starts_at - timedelta(days=notice_days)


def may_skip_topic_call(
    kind: str, starts_at: datetime, topic_call_days: int, now: datetime
) -> bool:
    """An ad hoc session, or one too close for a call under the street's rules, goes
    straight to its agenda; a regular session with time for a call holds one."""
    return kind == SessionKind.AD_HOC or now >= topic_call_deadline(starts_at, topic_call_days)


# ---- Beijing time in forms -----------------------------------------------------------------

_DATETIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2})?$")


def parse_beijing(text: str) -> datetime | None:
    """`2026-12-05T09:30` (what a datetime-local input sends) or `2026-12-05 09:30`, read as
    Beijing time, returned in UTC. None for anything else, including impossible dates."""
    m = _DATETIME_RE.match(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute = (int(g) for g in m.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=BEIJING)
    except ValueError:
        return None
    return local.astimezone(UTC)


def to_beijing_input(value: datetime) -> str:
    """The value a datetime-local input shows for a stored UTC time."""
    return value.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def beijing_year(value: datetime) -> int:
    return value.astimezone(BEIJING).year


def beijing_text(value: datetime) -> str:
    """A time for people (notifications, invitations): `2026年12月05日 09:30`."""
    return value.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")


@dataclass(frozen=True)
class SessionFields:
    title: str
    kind: SessionKind
    starts_at: datetime
    ends_at: datetime
    place: str
    mode: SessionMode


def check_session_fields(
    raw: Mapping[str, str], now: datetime, current_start: datetime | None = None
) -> tuple[SessionFields | None, dict[str, str]]:
    """Validate a session form. `current_start` is the stored start when editing: an
    unchanged start that has meanwhile passed is not the user's mistake."""
    errors: dict[str, str] = {}
    title = raw.get("title", "").strip()
    if not title:
        errors["title"] = "请填写会议名称。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"会议名称不能超过 {TITLE_MAX} 个字。"
    try:
        kind = SessionKind(raw.get("kind", ""))
    except ValueError:
        errors["kind"] = "请选择例会或临时会议。"
        kind = SessionKind.REGULAR
    try:
        mode = SessionMode(raw.get("mode", ""))
    except ValueError:
        errors["mode"] = "请选择现场会议或线上会议。"
        mode = SessionMode.IN_PERSON
    place = raw.get("place", "").strip()
    if len(place) > PLACE_MAX:
        errors["place"] = f"会议地点不能超过 {PLACE_MAX} 个字。"
    elif not place and mode is SessionMode.IN_PERSON and "mode" not in errors:
        errors["place"] = "现场会议请填写会议地点。"

    starts_at = _parse_required(raw, "starts_at", "开始时间", errors)
    ends_at = _parse_required(raw, "ends_at", "结束时间", errors)
    if starts_at is not None and starts_at != current_start and starts_at <= now:
        errors["starts_at"] = "开始时间不能早于现在。"
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            errors["ends_at"] = "结束时间须晚于开始时间。"
        elif ends_at - starts_at > LONGEST_SESSION:
            errors["ends_at"] = "会议时长不能超过 12 小时，请检查日期。"
    if errors or starts_at is None or ends_at is None:
        return None, errors
    return SessionFields(title, kind, starts_at, ends_at, place, mode), {}


def _parse_required(
    raw: Mapping[str, str], name: str, what: str, errors: dict[str, str]
) -> datetime | None:
    text = raw.get(name, "").strip()
    if not text:
        errors[name] = f"请填写{what}。"
        return None
    value = parse_beijing(text)
    if value is None:
        errors[name] = f"{what}格式不正确，请按“2026-12-05 09:30”填写（北京时间）。"
    return value


# ---- Replies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyFields:
    reply: Reply
    reason: str
    delegate_name: str


def check_reply(raw: Mapping[str, str]) -> tuple[ReplyFields | None, dict[str, str]]:
    errors: dict[str, str] = {}
    try:
        reply = Reply(raw.get("reply", ""))
    except ValueError:
        reply = Reply.NONE
    if reply is Reply.NONE:
        errors["reply"] = "请选择参会、请假或委派代表。"
    reason = raw.get("reason", "").strip()
    delegate = raw.get("delegate_name", "").strip()
    if reply is Reply.LEAVE and not reason:
        errors["reason"] = "请假须填写事由。"
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"事由不能超过 {REASON_MAX} 个字。"
    if reply is Reply.DELEGATE and not delegate:
        errors["delegate_name"] = "委派代表须填写代表姓名。"
    elif len(delegate) > DELEGATE_MAX:
        errors["delegate_name"] = f"代表姓名不能超过 {DELEGATE_MAX} 个字。"
    if errors:
        return None, errors
    # Keep only what the reply means: a reason for leave, a name for a delegate.
    return (
        ReplyFields(
            reply,
            reason if reply is not Reply.ATTENDING else "",
            delegate if reply is Reply.DELEGATE else "",
        ),
        {},
    )
