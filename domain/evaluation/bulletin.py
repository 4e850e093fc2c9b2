"""调度通报: a street's monthly bulletin.

A job drafts last month's bulletin for every street in the first days of a month (one
per street and month: a rerun does nothing); the street secretary reviews it, edits the
title and the sections' text (version-checked) and publishes it to everyone in the street,
who see it appear live. Drafts are for the street's staff only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from domain.enums import BulletinState, OrgLevel, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.evaluation import bulletin_facts
from domain.models import Organization, RoleGrant, Unit, User
from domain.models.base import utcnow
from domain.models.evaluation import Bulletin
from domain.permissions import Actor, can_view_street
from domain.services.notifications import notify
from domain.tasks.calendar import local_date
from domain.topics import street_topic
from domain.uow import UnitOfWork

DRAFT_DAYS = 7  # the job drafts last month's bulletin on days 1..DRAFT_DAYS
TITLE_MAX, BODY_MAX = 200, 8000
STALE = "该通报已被修改（可能在另一窗口），您的修改未保存。请核对后重新提交。"
STAFF = (Role.STREET_SECRETARY, Role.SUPERVISOR)


def first_of(day: date) -> date:
    return day.replace(day=1)


def previous_month(day: date) -> date:
    return first_of(first_of(day) - timedelta(days=1))


async def generate(
    uow: UnitOfWork, street_id: int, month: date, now: datetime | None = None
) -> Bulletin | None:
    """Draft the street's bulletin for the month; None when it already exists."""
    month = first_of(month)
    s = uow.session
    exists = await s.scalar(
        select(Bulletin.id).where(Bulletin.street_id == street_id, Bulletin.month == month)
    )
    if exists is not None:
        return None
    street = await s.get(Organization, street_id)
    if street is None or street.level != OrgLevel.STREET:
        raise NotFound("街道不存在。")
    bulletin = Bulletin(
        street_id=street_id,
        month=month,
        state=BulletinState.DRAFT.value,
        title=bulletin_facts.month_title(street, month),
        sections=await bulletin_facts.sections(uow, street, month, now or utcnow()),
    )
    try:
        # Two runs at once: the unique index decides, and the loser does nothing.
        async with s.begin_nested():
            s.add(bulletin)
    except IntegrityError:
        return None
    uow.audit("bulletin.generate", "bulletin", bulletin.id, bulletin.title)
    uow.publish(street_topic(street_id), "bulletin.changed", id=bulletin.id)
    return bulletin


async def _staff_users(uow: UnitOfWork, street_id: int, *roles: Role) -> set[int]:
    rows = await uow.session.scalars(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.role.in_([r.value for r in roles]),
            RoleGrant.organization_id == street_id,
            User.active,
        )
    )
    return set(rows)


async def draft_monthly_bulletins(uow: UnitOfWork, now: datetime) -> int:
    """The job: in the first days of a month, last month's draft for every street, and a
    notification to its secretary for each bulletin created now (a rerun adds nothing)."""
    today = local_date(now)
    if today.day > DRAFT_DAYS:
        return 0
    month = previous_month(today)
    streets = await uow.session.scalars(
        select(Organization).where(Organization.level == OrgLevel.STREET.value)
    )
    created = 0
    for street in list(streets):
        bulletin = await generate(uow, street.id, month, now)
        if bulletin is None:
            continue
        created += 1
        notify(
            uow,
            await _staff_users(uow, street.id, Role.STREET_SECRETARY),
            "bulletin.drafted",
            f"{month.year}年{month.month}月调度通报草稿已生成，请审核发布",
            bulletin.title,
            f"/bulletins/{bulletin.id}",
        )
    return created


# ---- reading ------------------------------------------------------------------------------


def is_staff(actor: Actor, street_id: int) -> bool:
    return actor.is_admin or street_id in actor.streets_with(*STAFF)


def can_read(actor: Actor, bulletin: Bulletin) -> bool:
    if bulletin.state == BulletinState.PUBLISHED:
        return can_view_street(actor, bulletin.street_id)
    return is_staff(actor, bulletin.street_id)


@dataclass
class BulletinPage:
    bulletin: Bulletin
    street: Organization
    can_edit: bool
    publisher: str = ""

    @property
    def editable(self) -> bool:
        return self.can_edit and self.bulletin.state == BulletinState.DRAFT


async def get(uow: UnitOfWork, actor: Actor, bulletin_id: int) -> BulletinPage:
    s = uow.session
    bulletin = await s.get(Bulletin, bulletin_id) if 0 < bulletin_id < 2**31 else None
    if bulletin is None or not can_read(actor, bulletin):
        raise NotFound("通报不存在，或不在您可查看的范围内。")
    street = await s.get(Organization, bulletin.street_id)
    assert street is not None
    publisher = ""
    if bulletin.published_by_id:
        user = await s.get(User, bulletin.published_by_id)
        publisher = user.display_name if user else ""
    can_edit = bulletin.street_id in actor.streets_with(Role.STREET_SECRETARY)
    return BulletinPage(bulletin, street, can_edit, publisher)


@dataclass(frozen=True)
class BulletinRow:
    bulletin: Bulletin
    street_name: str


def _visible(actor: Actor) -> Any:
    published = Bulletin.state == BulletinState.PUBLISHED.value
    if actor.is_admin:
        return True
    staff = sorted(actor.streets_with(*STAFF))
    return or_(
        published & Bulletin.street_id.in_(sorted(actor.visible_street_ids)),
        Bulletin.street_id.in_(staff),
    )


async def list_for(uow: UnitOfWork, actor: Actor, limit: int = 100) -> list[BulletinRow]:
    rows = await uow.session.execute(
        select(Bulletin, Organization.name)
        .join(Organization, Organization.id == Bulletin.street_id)
        .where(_visible(actor))
        .order_by(Bulletin.month.desc(), Organization.id)
        .limit(limit)
    )
    return [BulletinRow(b, name) for b, name in rows]


async def latest_for(uow: UnitOfWork, actor: Actor) -> BulletinRow | None:
    """The newest published bulletin of the actor's streets (the home page's card)."""
    stmt = (
        select(Bulletin, Organization.name)
        .join(Organization, Organization.id == Bulletin.street_id)
        .where(Bulletin.state == BulletinState.PUBLISHED.value)
        .order_by(Bulletin.published_at.desc(), Bulletin.id.desc())
        .limit(1)
    )
    if not actor.is_admin:
        stmt = stmt.where(Bulletin.street_id.in_(sorted(actor.visible_street_ids)))
    row = (await uow.session.execute(stmt)).first()
    return BulletinRow(row[0], row[1]) if row else None


# ---- review and publish -------------------------------------------------------------------


async def _editable(
    uow: UnitOfWork, actor: Actor, bulletin_id: int, version: str | None
) -> Bulletin:
    page = await get(uow, actor, bulletin_id)
    if not page.can_edit:
        raise PermissionDenied("只有街道书记可以审核、发布调度通报。")
    if page.bulletin.state != BulletinState.DRAFT:
        raise Conflict("通报已发布，不能再修改。")
    if str(version or "") != str(page.bulletin.version):
        raise Conflict(STALE)
    return page.bulletin


async def save(uow: UnitOfWork, actor: Actor, bulletin_id: int, data: dict[str, str]) -> Bulletin:
    bulletin = await _editable(uow, actor, bulletin_id, data.get("version"))
    errors: dict[str, str] = {}
    title = data.get("title", "").strip()
    if not title:
        errors["title"] = "请填写通报标题。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"标题不超过 {TITLE_MAX} 个字。"
    sections = copy.deepcopy(bulletin.sections)
    for section in sections:
        name = f"body_{section['key']}"
        body = data.get(name, section["body"]).strip()
        if not body:
            errors[name] = "正文不能为空。"
        elif len(body) > BODY_MAX:
            errors[name] = f"每部分不超过 {BODY_MAX} 个字。"
        section["body"] = body
    if errors:
        raise ValidationFailed(errors)
    bulletin.title = title
    bulletin.sections = sections
    bulletin.updated_at = utcnow()
    await uow.flush()
    uow.audit("bulletin.edit", "bulletin", bulletin.id, title)
    uow.publish(street_topic(bulletin.street_id), "bulletin.changed", id=bulletin.id)
    return bulletin


async def street_users(uow: UnitOfWork, street_id: int) -> set[int]:
    """Everyone who acts or lives in the street: its staff, the liaisons of its units, its
    communities' secretaries and party members."""
    communities = select(Organization.id).where(Organization.parent_id == street_id)
    units = select(Unit.id).where(Unit.street_id == street_id, Unit.active)
    rows = await uow.session.scalars(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            User.active,
            or_(
                RoleGrant.organization_id == street_id,
                RoleGrant.organization_id.in_(communities),
                RoleGrant.unit_id.in_(units),
            ),
        )
        .distinct()
    )
    return set(rows)


async def publish(uow: UnitOfWork, actor: Actor, bulletin_id: int, version: str | None) -> Bulletin:
    bulletin = await _editable(uow, actor, bulletin_id, version)
    bulletin.state = BulletinState.PUBLISHED.value
    bulletin.published_at = utcnow()
    bulletin.published_by_id = actor.user_id
    bulletin.updated_at = bulletin.published_at
    await uow.flush()
    notify(
        uow,
        await street_users(uow, bulletin.street_id) - {actor.user_id},
        "bulletin.published",
        f"新通报：{bulletin.title}",
        "",
        f"/bulletins/{bulletin.id}",
    )
    uow.audit("bulletin.publish", "bulletin", bulletin.id, bulletin.title)
    uow.publish(street_topic(bulletin.street_id), "bulletin.changed", id=bulletin.id)
    return bulletin
