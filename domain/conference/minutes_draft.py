"""What the minutes (会议纪要) are drafted from, and the draft text itself.

`load_facts` reads a session's record (attendance, agenda and notes, votes,
decisions) into plain data; `draft_text` turns that data into the plain-text
body the secretariat then edits. The text builder does no I/O, so it is
tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from domain.enums import AttendanceStatus, ItemKind, MemberRole, Reply, VoteState
from domain.labels import label
from domain.models import (
    AgendaItem,
    Attendance,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
    Unit,
    User,
    Vote,
)
from domain.uow import UnitOfWork

CHINA = timezone(timedelta(hours=8))
WEEKDAYS = "一二三四五六日"
DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class AttendanceLine:
    unit_id: int
    unit_name: str
    status: AttendanceStatus
    note: str = ""  # the reason for leave, or the delegate's name


@dataclass(frozen=True)
class VoteFacts:
    motion: str
    closed: bool
    votes_for: int
    votes_against: int
    votes_abstain: int
    passed: bool | None


@dataclass(frozen=True)
class ItemFacts:
    title: str
    description: str
    notes: str
    progress: bool  # the opening item on earlier decisions (上次议定事项落实情况)
    votes: tuple[VoteFacts, ...] = ()


@dataclass(frozen=True)
class DecisionFacts:
    title: str
    lead_unit: str
    assisting_units: tuple[str, ...]
    deadline: date


@dataclass(frozen=True)
class MinutesFacts:
    conference_name: str
    session_title: str
    starts_at: datetime  # aware; shown in Beijing time
    ends_at: datetime
    place: str
    mode: str
    convener: str
    attendance: tuple[AttendanceLine, ...] = ()
    items: tuple[ItemFacts, ...] = ()
    decisions: tuple[DecisionFacts, ...] = ()

    def with_status(self, status: AttendanceStatus) -> list[AttendanceLine]:
        return [a for a in self.attendance if a.status == status]

    @property
    def members_expected(self) -> int:
        return sum(1 for a in self.attendance if a.status != AttendanceStatus.OBSERVER)

    @property
    def members_present(self) -> int:
        attended = (AttendanceStatus.PRESENT, AttendanceStatus.DELEGATE)
        return sum(1 for a in self.attendance if a.status in attended)


# ---- Pure text ------------------------------------------------------------------------


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (headings never go past that)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else DIGITS[tens]) + "十" if tens else ""
    return text + (DIGITS[ones] if ones else "")


def number_label(year: int, number: int) -> str:
    """The issued minutes' number, e.g. 〔2026〕第3次."""
    return f"〔{year}〕第{number}次"


def local(value: datetime) -> datetime:
    return value.astimezone(CHINA)


def chinese_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def meeting_time(starts: datetime, ends: datetime) -> str:
    """2026年3月18日（星期三）14:30—16:00, in Beijing time; both dates if it spans days."""
    s, e = local(starts), local(ends)
    head = f"{chinese_date(s.date())}（星期{WEEKDAYS[s.weekday()]}）{s:%H:%M}"
    if e.date() == s.date():
        return f"{head}—{e:%H:%M}"
    return f"{head}—{chinese_date(e.date())} {e:%H:%M}"


def _names(lines: Iterable[AttendanceLine], note_prefix: str = "") -> str:
    parts = []
    for line in lines:
        note = f"（{note_prefix}{line.note}）" if line.note else ""
        parts.append(line.unit_name + note)
    return "；".join(parts) if note_prefix else "、".join(parts)


def attendance_text(facts: MinutesFacts) -> list[str]:
    s = AttendanceStatus
    present, delegates = facts.with_status(s.PRESENT), facts.with_status(s.DELEGATE)
    leave, absent = facts.with_status(s.LEAVE), facts.with_status(s.ABSENT)
    observers = facts.with_status(s.OBSERVER)
    summary = f"应出席成员单位 {facts.members_expected} 个，实际出席 {facts.members_present} 个"
    if delegates:
        summary += f"（其中委派代表出席 {len(delegates)} 个）"
    summary += f"，请假 {len(leave)} 个，缺席 {len(absent)} 个。"
    lines = [summary]
    if present:
        lines.append(f"出席单位：{_names(present)}。")
    if delegates:
        lines.append(f"委派代表出席：{_names(delegates, '代表：')}。")
    if leave:
        lines.append(f"请假单位：{_names(leave, '事由：')}。")
    if absent:
        lines.append(f"缺席单位（未请假）：{_names(absent)}。")
    if observers:
        lines.append(f"列席单位：{_names(observers)}。")
    return lines


def vote_text(vote: VoteFacts) -> str:
    head = f"表决事项：{vote.motion.rstrip('。')}。"
    if not vote.closed or vote.passed is None:
        return head + "表决未形成结果。"
    outcome = "表决通过" if vote.passed else "未获通过"
    return (
        head + f"赞成 {vote.votes_for} 票，反对 {vote.votes_against} 票，"
        f"弃权 {vote.votes_abstain} 票，{outcome}。"
    )


def decision_text(decision: DecisionFacts) -> str:
    assisting = "、".join(decision.assisting_units) or "无"
    return (
        f"牵头单位：{decision.lead_unit}；协办单位：{assisting}；"
        f"完成时限：{chinese_date(decision.deadline)}。"
    )


def draft_text(facts: MinutesFacts) -> str:
    """The first draft of the minutes' body: plain text, headed 一、二、三、."""
    out = [
        facts.conference_name,
        f"{facts.session_title} 会议纪要",
        "",
        f"时间：{meeting_time(facts.starts_at, facts.ends_at)}",
        f"地点：{facts.place or '（未填写）'}",
        f"形式：{label(facts.mode)}",
        f"召集人：{facts.convener or '（未指定）'}",
        "",
        "一、出席情况",
        *attendance_text(facts),
        "",
        "二、会议议程及讨论情况",
    ]
    if not facts.items:
        out.append("本次会议无议程记录。")
    for i, item in enumerate(facts.items, start=1):
        out.append(f"（{chinese_numeral(i)}）{item.title}")
        if item.description.strip() and not item.progress:
            out.append(f"议题说明：{item.description.strip()}")
        notes = item.notes.strip()
        out.append(f"讨论情况：{notes}" if notes else "讨论情况：（待补充）")
        out.extend(vote_text(v) for v in item.votes)
    out += ["", "三、议定事项"]
    if not facts.decisions:
        out.append("本次会议未形成议定事项。")
    for i, decision in enumerate(facts.decisions, start=1):
        out.append(f"{i}. {decision.title.rstrip('。')}。")
        out.append(f"   {decision_text(decision)}")
    out += ["", "四、其他事项", "请各成员单位按照议定事项抓好落实，落实情况在下次会议上通报。"]
    return "\n".join(out) + "\n"


def parse_unit_ids(text: str) -> list[int]:
    """`Decision.assisting_unit_ids` is comma-separated; tolerate blanks and junk."""
    ids = []
    for part in text.split(","):
        part = part.strip()
        if part.isdecimal() and len(part) <= 9:
            ids.append(int(part))
    return ids


def attendance_status(role: str, row: Attendance | None) -> AttendanceStatus | None:
    """How a unit took part; None for an observer unit that did not come (not worth a line)."""
    signed_in = row is not None and row.signed_in_at is not None
    if role == MemberRole.OBSERVER:
        return AttendanceStatus.OBSERVER if signed_in else None
    if signed_in:
        assert row is not None
        return (
            AttendanceStatus.DELEGATE if row.reply == Reply.DELEGATE else AttendanceStatus.PRESENT
        )
    if row is not None and row.reply == Reply.LEAVE:
        return AttendanceStatus.LEAVE
    return AttendanceStatus.ABSENT


# ---- Loading --------------------------------------------------------------------------


async def load_facts(uow: UnitOfWork, session: MeetingSession) -> MinutesFacts:
    s = uow.session
    conference = await s.get(Conference, session.conference_id)
    assert conference is not None
    convener = await s.get(User, conference.convener_id) if conference.convener_id else None

    members = {
        m.unit_id: m
        for m in await s.scalars(
            select(ConferenceMember).where(ConferenceMember.conference_id == conference.id)
        )
    }
    rows = {
        a.unit_id: a
        for a in await s.scalars(select(Attendance).where(Attendance.session_id == session.id))
    }
    # Every active member is expected; a unit that signed in counts even if it has left since.
    unit_ids = {uid for uid, m in members.items() if m.active} | set(rows)
    items = list(
        await s.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    votes: dict[int, list[Vote]] = {}
    if items:
        for vote in await s.scalars(
            select(Vote).where(Vote.item_id.in_([i.id for i in items])).order_by(Vote.id)
        ):
            votes.setdefault(vote.item_id, []).append(vote)
    decisions = list(
        await s.scalars(
            select(Decision).where(Decision.session_id == session.id).order_by(Decision.id)
        )
    )
    for d in decisions:
        unit_ids |= {d.lead_unit_id, *parse_unit_ids(d.assisting_unit_ids)}
    names = await unit_names(uow, unit_ids)

    attendance = []
    for unit_id in sorted(unit_ids & (set(members) | set(rows)), key=lambda u: names.get(u, "")):
        member = members.get(unit_id)
        role = member.role if member is not None else MemberRole.OBSERVER.value
        row = rows.get(unit_id)
        if member is not None and not member.active and row is None:
            continue
        status = attendance_status(role, row)
        if status is None:
            continue
        note = ""
        if row is not None and status == AttendanceStatus.LEAVE:
            note = row.reply_reason.strip()
        elif row is not None and status == AttendanceStatus.DELEGATE:
            note = row.delegate_name.strip()
        attendance.append(AttendanceLine(unit_id, names.get(unit_id, "?"), status, note))

    return MinutesFacts(
        conference_name=conference.name,
        session_title=session.title,
        starts_at=session.opened_at or session.starts_at,
        ends_at=session.closed_at or session.ends_at,
        place=session.place,
        mode=session.mode,
        convener=convener.display_name if convener else "",
        attendance=tuple(_attendance_order(attendance)),
        items=tuple(
            ItemFacts(
                title=i.title,
                description=i.description,
                notes=i.notes,
                progress=i.kind == ItemKind.PROGRESS,
                votes=tuple(
                    VoteFacts(
                        motion=v.motion,
                        closed=v.state == VoteState.CLOSED,
                        votes_for=v.votes_for,
                        votes_against=v.votes_against,
                        votes_abstain=v.votes_abstain,
                        passed=v.passed,
                    )
                    for v in votes.get(i.id, [])
                ),
            )
            for i in items
        ),
        decisions=tuple(
            DecisionFacts(
                title=d.title,
                lead_unit=names.get(d.lead_unit_id, "?"),
                assisting_units=tuple(
                    names[u] for u in parse_unit_ids(d.assisting_unit_ids) if u in names
                ),
                deadline=d.deadline,
            )
            for d in decisions
        ),
    )


def _attendance_order(lines: list[AttendanceLine]) -> list[AttendanceLine]:
    order = list(AttendanceStatus)
    return sorted(lines, key=lambda a: order.index(a.status))


async def unit_names(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await uow.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(wanted)))
    return {uid: name for uid, name in rows}
