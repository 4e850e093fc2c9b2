"""Helpers shared by the 双报到 services: who is who, time, parsing, live events."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain.activities.access import is_street_staff
from domain.enums import OrgLevel, RegistrationState, Role
from domain.errors import Conflict, NotFound, PermissionDenied
from domain.models import MemberRegistration, Organization, RoleGrant, UnitRegistration, User
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.topics import street_topic, user_topic
from domain.uow import UnitOfWork

BEIJING = ZoneInfo("Asia/Shanghai")
LIVE_STATES = (RegistrationState.SUBMITTED.value, RegistrationState.CONFIRMED.value)
PHONE_RE = re.compile(r"^[0-9+\-（）() ]{5,30}$")

__all__ = [
    "BEIJING",
    "LIVE_STATES",
    "beijing_today",
    "check_phone",
    "check_version",
    "community",
    "community_secretaries",
    "is_community_secretary",
    "is_street_staff",
    "publish_change",
    "quarter_of",
    "this_year",
]


def beijing_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(BEIJING).date()


def this_year(now: datetime | None = None) -> int:
    return beijing_today(now).year


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def check_version(current: int, version: int | None) -> None:
    if version is not None and version != current:
        raise Conflict()


def check_phone(text: str, errors: dict[str, str], field: str, required: bool) -> str:
    text = text.strip()
    if not text:
        if required:
            errors[field] = "请填写联系电话。"
    elif not PHONE_RE.match(text):
        errors[field] = "联系电话格式不正确（数字、短横线，5–30 位）。"
    return text


async def community(uow: UnitOfWork, community_id: int) -> Organization:
    org = await uow.session.get(Organization, community_id)
    if org is None or org.level != OrgLevel.COMMUNITY.value or org.parent_id is None:
        raise NotFound("社区不存在。")
    return org


def is_community_secretary(actor: Actor, community_id: int) -> bool:
    return actor.is_admin or community_id in actor.org_ids_with(Role.COMMUNITY_SECRETARY)


def start_decision(
    actor: Actor, reg: UnitRegistration | MemberRegistration, version: int | None, what: str
) -> None:
    """The checks before a community confirms or returns a slip or a registration (`what`
    names it in the messages), and who decided when."""
    if not is_community_secretary(actor, reg.community_id):
        raise PermissionDenied(f"只有报到社区的书记可以确认或退回{what}。")
    check_version(reg.version, version)
    if reg.state != RegistrationState.SUBMITTED.value:
        raise Conflict(f"该{what}已处理过了。")
    reg.decided_by_id = actor.user_id
    reg.decided_at = reg.updated_at = utcnow()


async def community_secretaries(uow: UnitOfWork, community_ids: Iterable[int]) -> set[int]:
    ids = set(community_ids)
    if not ids:
        return set()
    rows = await uow.session.scalars(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.organization_id.in_(ids),
            RoleGrant.role == Role.COMMUNITY_SECRETARY.value,
            User.active,
        )
    )
    return set(rows)


def publish_change(
    uow: UnitOfWork, street_id: int, user_ids: Iterable[int] = (), kind: str = "dual_report.changed"
) -> None:
    """A 双报到 change: every page of the street re-fetches its regions; so do the users'."""
    uow.publish(street_topic(street_id), kind)
    for user_id in sorted(set(user_ids)):
        uow.publish(user_topic(user_id), kind)
