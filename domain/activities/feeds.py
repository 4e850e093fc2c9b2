"""Calendar subscription feeds (日历订阅): secret, revocable URLs for a person or a unit.

The token is `secrets.token_urlsafe(32)`; only its SHA-256 and a short prefix are kept, so
the full URL is shown once, right after it is made. A personal feed belongs to its user; a
unit feed to the unit, managed by whoever acts for the unit (liaison, community secretary)
and by the staff of the unit's street. What a feed holds: `domain.activities.feeds_select`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from domain.activities.access import STREET_STAFF
from domain.conference.access import acting_unit_ids
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import Unit
from domain.models.activities import CalendarFeed
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.uow import UnitOfWork

PREFIX_LENGTH = 8
MAX_LIVE_FEEDS = 5  # per person or unit: enough for a phone, a desktop and a spare
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedFeed:
    feed: CalendarFeed
    token: str  # shown once


@dataclass(frozen=True)
class FeedRow:
    feed: CalendarFeed
    unit: Unit | None  # None: a personal feed

    @property
    def covers(self) -> str:
        return f"单位日历：{self.unit.name}" if self.unit else "我的日历"


@dataclass(frozen=True)
class FeedPage:
    rows: list[FeedRow]
    units: list[Unit]  # units the actor may make a feed for


async def manageable_units(uow: UnitOfWork, actor: Actor) -> list[Unit]:
    """Units whose feeds the actor manages: those they act for, and for street staff (and
    admins) every active unit of their streets."""
    acting = await acting_unit_ids(uow, actor)
    staff_streets = actor.streets_with(*STREET_STAFF)
    if actor.is_admin:
        stmt = select(Unit).where(Unit.active)
    elif staff_streets:
        stmt = select(Unit).where(
            or_(Unit.id.in_(acting), and_(Unit.street_id.in_(staff_streets), Unit.active))
        )
    elif acting:
        stmt = select(Unit).where(Unit.id.in_(acting))
    else:
        return []
    return list(await uow.session.scalars(stmt.order_by(Unit.name)))


async def feed_page(uow: UnitOfWork, actor: Actor) -> FeedPage:
    units = await manageable_units(uow, actor)
    by_id = {u.id: u for u in units}
    cond = CalendarFeed.user_id == actor.user_id
    if by_id:
        cond = cond | CalendarFeed.unit_id.in_(by_id)
    feeds = await uow.session.scalars(
        select(CalendarFeed)
        .where(cond, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.unit_id.is_not(None), CalendarFeed.id)
    )
    rows = [FeedRow(f, by_id.get(f.unit_id) if f.unit_id else None) for f in feeds]
    return FeedPage(rows, units)


async def _live_count(uow: UnitOfWork, user_id: int | None, unit_id: int | None) -> int:
    owner = CalendarFeed.unit_id == unit_id if unit_id else CalendarFeed.user_id == user_id
    stmt = select(func.count()).select_from(CalendarFeed)
    return int(await uow.session.scalar(stmt.where(owner, CalendarFeed.revoked_at.is_(None))) or 0)


async def create_feed(uow: UnitOfWork, actor: Actor, unit_id: int | None = None) -> IssuedFeed:
    """A new feed for the actor (unit_id None) or for a unit they manage."""
    unit: Unit | None = None
    if unit_id is not None:
        unit = next((u for u in await manageable_units(uow, actor) if u.id == unit_id), None)
        if unit is None:
            raise ValidationFailed(
                {"unit_id": "您只能为本人代表的单位（或本街道的单位）创建订阅。"}
            )
    owner_user = None if unit else actor.user_id
    if await _live_count(uow, owner_user, unit_id) >= MAX_LIVE_FEEDS:
        raise ValidationFailed(
            {"unit_id": f"同一日历最多保留 {MAX_LIVE_FEEDS} 个订阅地址，请先撤销不再使用的。"}
        )
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        user_id=owner_user,
        unit_id=unit.id if unit else None,
        token_hash=token_hash(token),
        prefix=token[:PREFIX_LENGTH],
        created_by_id=actor.user_id,
    )
    uow.session.add(feed)
    await uow.flush()
    what = f"单位 {unit.name}" if unit else "本人"
    uow.audit(
        "calendar_feed.create", "calendar_feed", feed.id, f"创建日历订阅（{what}，{feed.prefix}…）"
    )
    return IssuedFeed(feed, token)


async def _own_feed(uow: UnitOfWork, actor: Actor, feed_id: int) -> CalendarFeed:
    feed = await uow.session.get(CalendarFeed, feed_id)
    if feed is None or feed.revoked_at is not None:
        raise NotFound("订阅不存在或已撤销。")
    if feed.user_id is not None:
        allowed = feed.user_id == actor.user_id
    else:
        allowed = any(u.id == feed.unit_id for u in await manageable_units(uow, actor))
    if not allowed:
        if feed.user_id is not None:
            raise NotFound("订阅不存在或已撤销。")  # another person's feed is not revealed
        raise PermissionDenied("只有本单位或本街道工作人员可以撤销单位日历订阅。")
    return feed


async def revoke_feed(uow: UnitOfWork, actor: Actor, feed_id: int) -> CalendarFeed:
    feed = await _own_feed(uow, actor, feed_id)
    feed.revoked_at = utcnow()
    uow.audit("calendar_feed.revoke", "calendar_feed", feed.id, f"撤销日历订阅（{feed.prefix}…）")
    return feed


async def regenerate_feed(uow: UnitOfWork, actor: Actor, feed_id: int) -> IssuedFeed:
    """Revoke a feed and make a new one for the same person or unit."""
    old = await revoke_feed(uow, actor, feed_id)
    await uow.flush()
    return await create_feed(uow, actor, old.unit_id)


async def feed_by_token(uow: UnitOfWork, token: str) -> CalendarFeed | None:
    """The live feed of a token, or None (unknown, malformed or revoked)."""
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    feed = await uow.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token))
    )
    if feed is None or feed.revoked_at is not None:
        return None
    return feed
