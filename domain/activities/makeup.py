"""Themed-party-day make-ups (补课): members expected at a community's 主题党日 who missed it.

At the settlement of a themed-day date held for a community, the members expected there
are those with a confirmed 双报到 registration in that community (or, where the community
has none yet, the holders of a party-member grant for it). Each one who did not attend gets
an open `MakeupRecord`. Attending a later themed-day date of the same community closes
their open make-ups when that date is settled; the community secretary (or street staff)
can also close one by hand with a note (补课说明).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import selectinload

from domain.activities.access import STREET_STAFF
from domain.activities.signup_base import beijing
from domain.enums import ActivityKind, OrgLevel, RegistrationState, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization, RoleGrant, User
from domain.models.activities import Activity, ActivityOccurrence, MakeupRecord
from domain.models.base import utcnow
from domain.models.dual_report import MemberRegistration
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.topics import street_topic, user_topic
from domain.uow import UnitOfWork

NOTE_MAX = 300
RECENT_DAYS = 30
LIST_LIMIT = 300


async def expected_members(uow: UnitOfWork, community_id: int) -> set[int]:
    s = uow.session
    registered = set(
        await s.scalars(
            select(MemberRegistration.user_id).where(
                MemberRegistration.community_id == community_id,
                MemberRegistration.state == RegistrationState.CONFIRMED.value,
            )
        )
    )
    if registered:
        return registered
    return set(
        await s.scalars(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                RoleGrant.organization_id == community_id,
                RoleGrant.role == Role.PARTY_MEMBER.value,
                User.active,
            )
        )
    )


def _insert_ignoring_duplicates(uow: UnitOfWork, table: Table):  # type: ignore[no-untyped-def]
    if uow.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


async def on_settle(
    uow: UnitOfWork,
    occ: ActivityOccurrence,
    activity: Activity,
    attended: set[int],
    now: datetime,
) -> tuple[int, int]:
    """Open make-ups for the expected who missed this date; close those of the present.
    Returns (opened, closed)."""
    community_id = activity.community_id
    if activity.kind != ActivityKind.THEMED_DAY or community_id is None:
        return 0, 0
    s = uow.session
    closed = 0
    if attended:
        result = await s.execute(
            update(MakeupRecord)
            .where(
                MakeupRecord.community_id == community_id,
                MakeupRecord.user_id.in_(sorted(attended)),
                MakeupRecord.made_up_at.is_(None),
                MakeupRecord.occurrence_id != occ.id,
            )
            .values(
                made_up_at=now,
                made_up_occurrence_id=occ.id,
                made_up_note=f"参加 {beijing(occ.starts_at):%Y-%m-%d} 主题党日",
                version=MakeupRecord.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        closed = int(getattr(result, "rowcount", 0) or 0)
    missing = sorted(await expected_members(uow, community_id) - attended)
    opened = 0
    if missing:
        table = MakeupRecord.__table__
        assert isinstance(table, Table)
        day = beijing(occ.starts_at).date()
        inserted = await s.execute(
            _insert_ignoring_duplicates(uow, table)
            .values(
                [
                    {
                        "user_id": uid,
                        "occurrence_id": occ.id,
                        "street_id": occ.street_id,
                        "community_id": community_id,
                        "missed_on": day,
                        "created_at": now,
                        "version": 1,
                        "made_up_note": "",
                    }
                    for uid in missing
                ]
            )
            .returning(table.c.user_id)
        )
        new = [uid for (uid,) in inserted]
        opened = len(new)
        notify(
            uow,
            new,
            "activity.makeup",
            f"您未参加 {day:%Y-%m-%d} 的「{activity.title}」，请及时补课",
            "参加本社区下一次主题党日，或联系社区书记登记补课。",
            "/activities/mine",
        )
        for uid in new:
            uow.publish(user_topic(uid), "activity.changed")
    return opened, closed


def managed_community_ids_query(actor: Actor):  # type: ignore[no-untyped-def]
    """Communities whose make-ups this actor manages: their own (secretary), their streets'."""
    own = actor.org_ids_with(Role.COMMUNITY_SECRETARY)
    streets = None if actor.is_admin else actor.streets_with(*STREET_STAFF)
    stmt = select(Organization.id).where(Organization.level == OrgLevel.COMMUNITY)
    if streets is None:
        return stmt
    return stmt.where(or_(Organization.id.in_(own), Organization.parent_id.in_(streets)))


def can_manage(actor: Actor, record: MakeupRecord) -> bool:
    if actor.is_admin or record.street_id in actor.streets_with(*STREET_STAFF):
        return True
    return record.community_id in actor.org_ids_with(Role.COMMUNITY_SECRETARY)


@dataclass(frozen=True)
class MakeupRow:
    record: MakeupRecord
    community: str
    activity_title: str


@dataclass(frozen=True)
class MakeupList:
    open: list[MakeupRow]
    closed: list[MakeupRow]
    managed: bool


async def list_makeups(uow: UnitOfWork, actor: Actor, now: datetime | None = None) -> MakeupList:
    now = now or utcnow()
    if not (actor.is_admin or actor.has(Role.COMMUNITY_SECRETARY, *STREET_STAFF)):
        raise PermissionDenied("只有社区书记和街道工作人员可以查看补课名单。")
    communities = managed_community_ids_query(actor).scalar_subquery()
    rows = await uow.session.execute(
        select(MakeupRecord, Organization.name, Activity.title)
        .join(Organization, Organization.id == MakeupRecord.community_id)
        .join(ActivityOccurrence, ActivityOccurrence.id == MakeupRecord.occurrence_id)
        .join(Activity, Activity.id == ActivityOccurrence.activity_id)
        .where(
            MakeupRecord.community_id.in_(communities),
            or_(
                MakeupRecord.made_up_at.is_(None),
                MakeupRecord.made_up_at >= now - timedelta(days=RECENT_DAYS),
            ),
        )
        .options(selectinload(MakeupRecord.user))
        .order_by(MakeupRecord.missed_on.desc(), MakeupRecord.id)
        .limit(LIST_LIMIT)
    )
    out = MakeupList([], [], True)
    for record, community, title in rows:
        row = MakeupRow(record, community, title)
        (out.open if record.made_up_at is None else out.closed).append(row)
    return out


async def my_open_makeups(uow: UnitOfWork, user_id: int) -> list[MakeupRow]:
    rows = await uow.session.execute(
        select(MakeupRecord, Organization.name, Activity.title)
        .join(Organization, Organization.id == MakeupRecord.community_id)
        .join(ActivityOccurrence, ActivityOccurrence.id == MakeupRecord.occurrence_id)
        .join(Activity, Activity.id == ActivityOccurrence.activity_id)
        .where(MakeupRecord.user_id == user_id, MakeupRecord.made_up_at.is_(None))
        .options(selectinload(MakeupRecord.user))
        .order_by(MakeupRecord.missed_on)
    )
    return [MakeupRow(r, c, t) for r, c, t in rows]


async def close_by_hand(
    uow: UnitOfWork,
    actor: Actor,
    makeup_id: int,
    note: str,
    version: int | None = None,
    now: datetime | None = None,
) -> MakeupRecord:
    now = now or utcnow()
    record = await uow.session.get(MakeupRecord, makeup_id)
    if record is None:
        raise NotFound("补课记录不存在。")
    if not can_manage(actor, record):
        raise PermissionDenied("只有该社区书记或街道工作人员可以登记补课。")
    note = note.strip()
    if not note:
        raise ValidationFailed({"note": "请填写补课说明（如补课时间、方式）。"})
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"note": f"补课说明最多 {NOTE_MAX} 字。"})
    if version is not None and version != record.version:
        raise Conflict()
    if record.made_up_at is not None:
        raise Conflict("该补课记录已关闭。")
    record.made_up_at = now
    record.made_up_note = note
    record.resolved_by_id = actor.user_id
    await uow.flush()
    uow.publish(street_topic(record.street_id), "activity.changed")
    uow.publish(user_topic(record.user_id), "activity.changed")
    notify(uow, [record.user_id], "activity.makeup_closed", "您的主题党日补课已登记", note)
    uow.audit("activity.makeup_close", "makeup_record", record.id, note)
    return record
