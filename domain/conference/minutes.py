"""Minutes (会议纪要) after the session: draft → co-signing → issued → archived.

The meeting room closes a session into `minutes_draft` and calls `create_draft`
in the same transaction. From there the secretariat edits the body, starts
co-signing, every member unit's liaison co-signs for their own unit, and the
convener's side issues the minutes with a number (〔2026〕第3次). Issued
minutes never change again: every write path below refuses.

Each write path first takes the session's row lock (`lock_session`) and re-reads the
state, so two browsers acting at once are decided one after the other.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from domain.conference.access import users_acting_for
from domain.conference.minutes_draft import (
    draft_text,
    load_facts,
    number_label,
    unit_names,
)
from domain.conference.minutes_support import (
    MinutesView,
    SignatureLine,
    check_version,
    load_session,
    lock_session,
    member_units,
    minutes_of,
    publish_changed,
    require_minutes,
    state_message,
)
from domain.enums import SessionState
from domain.errors import NotFound, ValidationFailed
from domain.models import (
    Conference,
    MeetingSession,
    Minutes,
    MinutesSignature,
    Unit,
    User,
)
from domain.models.base import utcnow
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.uow import UnitOfWork

MAX_BODY = 50_000
MAX_COMMENT = 300
S = SessionState
# The minutes' state machine: action → (states it may start from, state it leads to).
TRANSITIONS: dict[str, tuple[frozenset[SessionState], SessionState]] = {
    "start_co_signing": (frozenset({S.MINUTES_DRAFT}), S.CO_SIGNING),
    "reopen": (frozenset({S.CO_SIGNING}), S.MINUTES_DRAFT),
    "issue": (frozenset({S.CO_SIGNING}), S.ISSUED),
    "archive": (frozenset({S.ISSUED}), S.ARCHIVED),
}
MINUTES_STATES = frozenset({S.MINUTES_DRAFT, S.CO_SIGNING, S.ISSUED, S.ARCHIVED})


# ---- Drafting -------------------------------------------------------------------------


async def create_draft(uow: UnitOfWork, session: MeetingSession) -> Minutes:
    """The minutes of a session just closed, drafted from its record; idempotent.

    Called by the meeting room inside its own transaction (it has checked the actor).
    """
    existing = await uow.session.scalar(select(Minutes).where(Minutes.session_id == session.id))
    if existing is not None:
        return existing
    facts = await load_facts(uow, session)
    minutes = Minutes(session_id=session.id, body=draft_text(facts), updated_at=utcnow())
    uow.session.add(minutes)
    await uow.flush()
    uow.audit("minutes.draft", "session", session.id, f"生成会议纪要草稿：{session.title}")
    await publish_changed(uow, session)
    return minutes


# ---- Reading --------------------------------------------------------------------------


async def minutes_view(uow: UnitOfWork, actor: Actor, session_id: int) -> MinutesView:
    session, access = await load_session(uow, actor, session_id)
    minutes = await minutes_of(uow, session)
    if minutes is None:
        raise NotFound("本次会议尚未生成会议纪要。")
    view = MinutesView(
        session=session, access=access, minutes=minutes, facts=await load_facts(uow, session)
    )
    view.members = await member_units(uow, session.conference_id)
    rows = await uow.session.execute(
        select(MinutesSignature, Unit.name, User.display_name)
        .join(Unit, Unit.id == MinutesSignature.unit_id)
        .join(User, User.id == MinutesSignature.user_id)
        .where(MinutesSignature.minutes_id == minutes.id)
        .order_by(MinutesSignature.signed_at, MinutesSignature.id)
    )
    view.signatures = [
        SignatureLine(sig.unit_id, unit_name, user_name, sig.signed_at, sig.comment)
        for sig, unit_name, user_name in rows
    ]
    return view


# ---- Editing and the state machine ----------------------------------------------------


async def save_body(
    uow: UnitOfWork, actor: Actor, session_id: int, version: int, body: str
) -> Minutes:
    session, access = await load_session(uow, actor, session_id)
    access.require_manage()
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise ValidationFailed({"body": "纪要正文不能为空。"})
    if len(text) > MAX_BODY:
        raise ValidationFailed({"body": f"纪要正文不能超过 {MAX_BODY} 个字。"})
    session = await lock_session(uow, session.id)
    minutes = await require_minutes(uow, session)
    if session.state != S.MINUTES_DRAFT:
        raise ValidationFailed({}, state_message(session))
    check_version(minutes, version)
    before = {"version": minutes.version, "length": len(minutes.body)}
    minutes.body = text + "\n"
    minutes.updated_at = utcnow()
    await uow.flush()
    uow.audit(
        "minutes.edit",
        "session",
        session.id,
        f"修改会议纪要：{session.title}",
        before,
        {"version": minutes.version, "length": len(minutes.body)},
    )
    await publish_changed(uow, session)
    return minutes


async def start_co_signing(
    uow: UnitOfWork, actor: Actor, session_id: int, version: int
) -> MeetingSession:
    """Freeze the text and ask every member unit to co-sign it."""
    session, minutes = await _transition(uow, actor, session_id, "start_co_signing")
    # The version the manager saw: they start co-signing the text on their screen, not a
    # newer one someone saved in between.
    check_version(minutes, version)
    if not minutes.body.strip():
        raise ValidationFailed({}, "纪要正文为空，不能发起会签。")
    members = await member_units(uow, session.conference_id)
    if not members:
        raise ValidationFailed({}, "本会议没有成员单位，无法会签。")
    # Touching the row bumps its version: an edit racing this one is refused as stale.
    minutes.updated_at = utcnow()
    await _set_state(uow, session, S.CO_SIGNING, "minutes.co_signing", "发起会签")
    notify(
        uow,
        await users_acting_for(uow, set(members)),
        "minutes.co_signing",
        f"请会签会议纪要：{session.title}",
        "请代表本单位审阅并会签会议纪要。",
        f"/sessions/{session.id}/minutes",
    )
    return session


async def reopen_draft(uow: UnitOfWork, actor: Actor, session_id: int) -> MeetingSession:
    """Back to editing (a unit asked for a change): the signatures so far no longer hold."""
    session, minutes = await _transition(uow, actor, session_id, "reopen")
    signed = list(
        await uow.session.scalars(
            select(MinutesSignature).where(MinutesSignature.minutes_id == minutes.id)
        )
    )
    for signature in signed:
        await uow.session.delete(signature)
    minutes.updated_at = utcnow()
    await _set_state(
        uow, session, S.MINUTES_DRAFT, "minutes.reopen", f"退回修改（撤销 {len(signed)} 个会签）"
    )
    notify(
        uow,
        await users_acting_for(uow, {s.unit_id for s in signed}),
        "minutes.reopen",
        f"会议纪要已退回修改：{session.title}",
        "修改后将重新发起会签，届时请再次会签。",
        f"/sessions/{session.id}/minutes",
    )
    return session


async def sign(
    uow: UnitOfWork, actor: Actor, session_id: int, unit_id: int, comment: str = ""
) -> MinutesSignature:
    """A member unit's liaison co-signs for that unit: once per unit, ever."""
    session, access = await load_session(uow, actor, session_id)
    if not is_row_id(unit_id):
        raise ValidationFailed({"unit_id": "请选择代表会签的单位。"}, "请选择代表会签的单位。")
    access.require_member(unit_id)
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed({"comment": f"会签意见不能超过 {MAX_COMMENT} 个字。"})
    session = await lock_session(uow, session.id)
    minutes = await require_minutes(uow, session)
    if session.state != S.CO_SIGNING:
        raise ValidationFailed({}, state_message(session))
    if unit_id not in await member_units(uow, session.conference_id):
        raise ValidationFailed({}, "该单位不是本会议的成员单位，无需会签。")
    earlier = await uow.session.scalar(
        select(MinutesSignature).where(
            MinutesSignature.minutes_id == minutes.id, MinutesSignature.unit_id == unit_id
        )
    )
    if earlier is not None:
        raise await _already_signed(uow, earlier)
    signature = MinutesSignature(
        minutes_id=minutes.id, unit_id=unit_id, user_id=actor.user_id, comment=comment
    )
    uow.session.add(signature)
    try:
        await uow.flush()
    except IntegrityError:
        # Another browser of the same unit won the race; the database kept one signature.
        raise ValidationFailed({}, "本单位已会签，无需重复会签。") from None
    names = await unit_names(uow, [unit_id])
    uow.audit(
        "minutes.sign",
        "session",
        session.id,
        f"{names.get(unit_id, '')} 会签会议纪要",
        None,
        {"unit_id": unit_id, "comment": comment},
    )
    await publish_changed(uow, session)
    return signature


async def remind(uow: UnitOfWork, actor: Actor, session_id: int) -> int:
    """Remind the units that have not co-signed yet; returns how many units were reminded."""
    session, access = await load_session(uow, actor, session_id)
    access.require_manage()
    session = await lock_session(uow, session.id)
    minutes = await require_minutes(uow, session)
    if session.state != S.CO_SIGNING:
        raise ValidationFailed({}, state_message(session))
    members = await member_units(uow, session.conference_id)
    signed = set(
        await uow.session.scalars(
            select(MinutesSignature.unit_id).where(MinutesSignature.minutes_id == minutes.id)
        )
    )
    missing = set(members) - signed
    if not missing:
        raise ValidationFailed({}, "所有成员单位均已会签，无需催办。")
    notify(
        uow,
        await users_acting_for(uow, missing),
        "minutes.remind",
        f"催办：请尽快会签会议纪要（{session.title}）",
        "",
        f"/sessions/{session.id}/minutes",
    )
    uow.audit(
        "minutes.remind",
        "session",
        session.id,
        f"催办会签：{len(missing)} 个单位",
        None,
        {"unit_ids": sorted(missing)},
    )
    return len(missing)


async def issue(uow: UnitOfWork, actor: Actor, session_id: int) -> Minutes:
    """Issue (印发) the co-signed minutes with the next number of the conference's year."""
    session, minutes = await _transition(uow, actor, session_id, "issue")
    members = await member_units(uow, session.conference_id)
    signed = set(
        await uow.session.scalars(
            select(MinutesSignature.unit_id).where(MinutesSignature.minutes_id == minutes.id)
        )
    )
    missing = [members[u] for u in sorted(set(members) - signed, key=lambda u: members[u])]
    if missing:
        raise ValidationFailed(
            {},
            f"还有 {len(missing)} 个成员单位未会签（{'、'.join(missing[:5])}"
            f"{'等' if len(missing) > 5 else ''}），全部会签后才能印发。",
        )
    # Numbers are per conference and year: serialise issuing within the conference, so
    # two sessions issued at once cannot both take the same number.
    await uow.session.execute(
        update(Conference)
        .where(Conference.id == session.conference_id)
        .values(name=Conference.name)
        .execution_options(synchronize_session=False)
    )
    last = await uow.session.scalar(
        select(func.max(MeetingSession.number)).where(
            MeetingSession.conference_id == session.conference_id,
            MeetingSession.year == session.year,
        )
    )
    session.number = (last or 0) + 1
    minutes.number_label = number_label(session.year, session.number)
    minutes.issued_at = minutes.updated_at = utcnow()
    await _set_state(uow, session, S.ISSUED, "minutes.issue", f"印发 {minutes.number_label}")
    notify(
        uow,
        await users_acting_for(uow, set(members)),
        "minutes.issue",
        f"会议纪要已印发：{session.title} {minutes.number_label}",
        "请按议定事项抓好落实。",
        f"/sessions/{session.id}/minutes",
    )
    return minutes


async def archive(uow: UnitOfWork, actor: Actor, session_id: int) -> MeetingSession:
    session, _minutes = await _transition(uow, actor, session_id, "archive")
    await _set_state(uow, session, S.ARCHIVED, "session.archive", "归档")
    return session


# ---- Helpers --------------------------------------------------------------------------


async def _transition(
    uow: UnitOfWork, actor: Actor, session_id: int, action: str
) -> tuple[MeetingSession, Minutes]:
    session, access = await load_session(uow, actor, session_id)
    access.require_manage()
    session = await lock_session(uow, session.id)
    minutes = await require_minutes(uow, session)
    sources, _target = TRANSITIONS[action]
    if SessionState(session.state) not in sources:
        raise ValidationFailed({}, state_message(session, action))
    return session, minutes


async def _set_state(
    uow: UnitOfWork, session: MeetingSession, state: SessionState, action: str, what: str
) -> None:
    before = session.state
    session.state = state.value
    await uow.flush()
    uow.audit(
        action,
        "session",
        session.id,
        f"会议纪要{what}：{session.title}",
        {"state": before},
        {"state": state.value, "number": session.number},
    )
    await publish_changed(uow, session)


async def _already_signed(uow: UnitOfWork, signature: MinutesSignature) -> ValidationFailed:
    user = await uow.session.get(User, signature.user_id)
    who = user.display_name if user else ""
    return ValidationFailed({}, f"本单位已由{who}会签，无需重复会签。")
