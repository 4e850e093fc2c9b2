"""The supervision rules (督办), pure: which notices a task's clock makes due at a moment,
what they say, and when the day's digest may go out. No I/O: `domain.tasks.supervision`
applies them to the database.

- Blue (临期) when at most the street's share of the time is left (30% by default),
  counting working time only for working-day limits;
- yellow (滞后) when the work lags: the share of time used exceeds the share done by
  more than LAG_THRESHOLD, or the task was not accepted (a whistle: not reported in) in
  the time allowed;
- red (逾期) from the deadline on, replacing both;
- the reminder (催办) from the first working day after the deadline's day;
- the bulletin (通报) and the escalation to the district (提级督办) once the street's
  number of working days have passed since that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from domain.enums import LimitUnit, NoticeLevel, TaskState
from domain.services.street_settings import SPEC_BY_KEY
from domain.tasks.calendar import BEIJING, WorkCalendar, local_date

L, S = NoticeLevel, TaskState
# The handling units still owe work: the clock applies. A reported task waits for the
# assigner, so it is left alone.
SUPERVISED_STATES: frozenset[TaskState] = frozenset(
    {S.ASSIGNED, S.ACCEPTED, S.RETURN_REQUESTED, S.IN_PROGRESS, S.EXTENSION_REQUESTED}
)
SUPERVISED_VALUES = sorted(s.value for s in SUPERVISED_STATES)
# Progress is expected in these (a return request waits for the assigner's answer).
LAG_STATES = frozenset({S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.EXTENSION_REQUESTED})
COLOURS = (L.BLUE, L.YELLOW, L.RED)
SEVERITY = {level: rank for rank, level in enumerate(NoticeLevel)}
# Yellow when the share of time used exceeds the share of work done by more than this.
LAG_THRESHOLD = SPEC_BY_KEY["lag_percent"].default / 100
DIGEST_HOUR = 8  # Beijing time
DUE_SOON_DAYS = 2  # working days
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Rules:
    """A street's supervision settings (本地规则)."""

    blue_notice_percent: int = SPEC_BY_KEY["blue_notice_percent"].default
    bulletin_after_days: int = SPEC_BY_KEY["bulletin_after_days"].default
    lag_threshold: float = LAG_THRESHOLD

    @classmethod
    def from_settings(cls, settings: Mapping[str, int]) -> Rules:
        return cls(
            blue_notice_percent=settings.get("blue_notice_percent", cls.blue_notice_percent),
            bulletin_after_days=settings.get("bulletin_after_days", cls.bulletin_after_days),
            lag_threshold=settings.get("lag_percent", round(LAG_THRESHOLD * 100)) / 100,
        )


@dataclass(frozen=True)
class TaskClock:
    """What the rules need of a task."""

    state: TaskState
    assigned_at: datetime
    deadline: datetime
    limit_unit: LimitUnit
    accept_due_at: datetime | None = None
    progress_percent: int = 0


def deadline_day(deadline: datetime) -> date:
    """The last day of the time allowed: a working-day deadline is 24:00 of that day."""
    return local_date(deadline - _INSTANT)


def working_days_overdue(deadline: datetime, now: datetime, cal: WorkCalendar) -> int:
    """Working days since the deadline's day (0 on that day, or before the deadline)."""
    if now < deadline:
        return 0
    return max(0, cal.working_days_between(deadline_day(deadline), local_date(now)))


def time_used(clock: TaskClock, now: datetime, cal: WorkCalendar) -> float:
    return 1.0 - cal.fraction_left(clock.assigned_at, clock.deadline, now, clock.limit_unit)


def acceptance_overdue(clock: TaskClock, now: datetime) -> bool:
    """Not accepted (for a whistle: not reported in) by the time allowed for it."""
    return (
        clock.state is S.ASSIGNED and clock.accept_due_at is not None and now >= clock.accept_due_at
    )


def is_lagging(clock: TaskClock, now: datetime, cal: WorkCalendar, rules: Rules) -> bool:
    if clock.state not in LAG_STATES:
        return False
    if acceptance_overdue(clock, now):
        return True
    return time_used(clock, now, cal) - clock.progress_percent / 100 > rules.lag_threshold


def due_levels(
    clock: TaskClock, now: datetime, cal: WorkCalendar, rules: Rules
) -> list[NoticeLevel]:
    """Every notice due for this task on its current deadline, mildest first.

    Before the deadline: blue when the time left is at most the street's share, yellow when
    the work lags. From the deadline on, red replaces both; the reminder (催办) comes on the
    first working day after the deadline's day; the bulletin (通报) and the escalation to
    the district once the street's number of working days have passed since that day.
    """
    if clock.state not in SUPERVISED_STATES or now < clock.assigned_at:
        return []
    if now < clock.deadline:
        levels: list[NoticeLevel] = []
        left = cal.fraction_left(clock.assigned_at, clock.deadline, now, clock.limit_unit)
        if left <= rules.blue_notice_percent / 100:
            levels.append(L.BLUE)
        if is_lagging(clock, now, cal, rules):
            levels.append(L.YELLOW)
        return levels
    levels = [L.RED]
    late = working_days_overdue(clock.deadline, now, cal)
    if late >= 1:
        levels.append(L.REMINDER)
    if late >= rules.bulletin_after_days:
        levels += [L.BULLETIN, L.ESCALATION]
    return levels


def colour_of(levels: Iterable[str | None]) -> str | None:
    """The highest colour among levels (None when there is none)."""
    colours = [NoticeLevel(v) for v in levels if v in {c.value for c in COLOURS}]
    return max(colours, key=SEVERITY.__getitem__).value if colours else None


def _fmt(moment: datetime | None) -> str:
    """A moment as pages show it; midnight is the end of the day before (24:00)."""
    if moment is None:
        return ""
    local = moment.astimezone(BEIJING)
    if local.time() == time(0):
        return f"{(local - timedelta(days=1)).date().isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def notice_text(
    level: NoticeLevel,
    clock: TaskClock,
    now: datetime,
    cal: WorkCalendar,
    rules: Rules,
    whistle: bool = False,
) -> str:
    """What the notice says (shown on the timeline, in the notification and the bulletin)."""
    deadline = _fmt(clock.deadline)
    if level is L.BLUE:
        return f"剩余办理时限不足 {rules.blue_notice_percent}%，请于 {deadline} 前办结。"
    if level is L.YELLOW:
        if acceptance_overdue(clock, now):
            what = "报到" if whistle else "签收"
            return f"超过{what}时限（{_fmt(clock.accept_due_at)}）仍未{what}，请立即{what}。"
        used = round(time_used(clock, now, cal) * 100)
        return f"办理进度滞后：时限已用 {used}%，进度 {clock.progress_percent}%。"
    late = working_days_overdue(clock.deadline, now, cal)
    if level is L.RED:
        return f"已超过办理时限（{deadline}），请立即办理并反馈。"
    if level is L.REMINDER:
        return f"已逾期 {late} 个工作日，请当日反馈办理情况。"
    if level is L.BULLETIN:
        return f"逾期 {late} 个工作日仍未办结，予以通报。"
    return f"逾期 {late} 个工作日仍未办结，提请区级督办。"


def digest_day(now: datetime) -> date | None:
    """The Beijing day whose digest may go out now: none before 08:00."""
    local = now.astimezone(BEIJING)
    return local.date() if local.time() >= time(DIGEST_HOUR) else None


@dataclass
class Waiting:
    """What waits for one unit."""

    to_accept: int = 0
    overdue: int = 0
    due_soon: int = 0
    extensions: int = 0
    returns: int = 0
    reviews: int = 0

    @property
    def total(self) -> int:
        return (
            self.to_accept + self.overdue + self.due_soon + self.extensions + self.returns
        ) + self.reviews

    def summary(self) -> str:
        parts = [
            (self.to_accept, "待签收"),
            (self.overdue, "已逾期"),
            (self.due_soon, f"{DUE_SOON_DAYS} 个工作日内到期"),
            (self.extensions, "延期申请待审批"),
            (self.returns, "退回申请待处理"),
            (self.reviews, "办结反馈待审核"),
        ]
        return "；".join(f"{text} {n} 件" for n, text in parts if n) + "。"
