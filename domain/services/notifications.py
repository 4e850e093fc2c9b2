"""Notifications: created by domain use cases, read by their user, counted live."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from domain.errors import NotFound
from domain.models import Notification
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.topics import user_topic
from domain.uow import UnitOfWork


def notify(
    uow: UnitOfWork,
    user_ids: Iterable[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
) -> None:
    """Queue a notification for each user, in the caller's transaction."""
    for user_id in sorted(set(user_ids)):
        uow.session.add(
            Notification(user_id=user_id, kind=kind, title=title[:200], body=body[:1000], link=link)
        )
        uow.publish(user_topic(user_id), "notification.created", title=title[:200])


async def unread_count(uow: UnitOfWork, user_id: int) -> int:
    return (
        await uow.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


async def list_notifications(
    uow: UnitOfWork, actor: Actor, limit: int = 50, offset: int = 0
) -> tuple[list[Notification], int]:
    base = select(Notification).where(Notification.user_id == actor.user_id)
    total = await uow.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = await uow.session.scalars(
        base.order_by(Notification.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


async def mark_read(uow: UnitOfWork, actor: Actor, notification_id: int) -> Notification:
    note = await uow.session.get(Notification, notification_id)
    # Someone else's notification is reported as missing, not as forbidden.
    if note is None or note.user_id != actor.user_id:
        raise NotFound("通知不存在。")
    if note.read_at is None:
        note.read_at = utcnow()
        uow.publish(user_topic(actor.user_id), "notification.read", id=note.id)
    return note


async def mark_all_read(uow: UnitOfWork, actor: Actor) -> int:
    result = await uow.session.execute(
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        uow.publish(user_topic(actor.user_id), "notification.read", all=True)
    return count
