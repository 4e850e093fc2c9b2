"""The agenda (议程) of a session: items added, edited, removed and reordered by managers.

Item 1 is always the progress report on earlier decisions (上次议定事项落实情况): it is
created with the session and can be neither moved nor removed. A change after the notice
is a new revision of the invitation (see `prep.revised_after_notice`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select, update

from domain.conference.access import ConferenceAccess
from domain.conference.prep import load_session, publish, require_preparing, revised_after_notice
from domain.conference.rules import TITLE_MAX
from domain.enums import ItemKind
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models import AgendaItem, Material, MeetingSession
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.uow import UnitOfWork

DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class ItemFields:
    title: str
    description: str


def check_item_fields(raw: Mapping[str, str]) -> tuple[ItemFields | None, dict[str, str]]:
    errors: dict[str, str] = {}
    title = raw.get("title", "").strip()
    if not title:
        errors["title"] = "请填写议题名称。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"议题名称不能超过 {TITLE_MAX} 个字。"
    description = raw.get("description", "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"说明不能超过 {DESCRIPTION_MAX} 个字。"
    if errors:
        return None, errors
    return ItemFields(title, description), {}


async def append_item(
    uow: UnitOfWork, session: MeetingSession, fields: ItemFields, topic_id: int | None = None
) -> AgendaItem:
    """Put an item at the end of the agenda (no permission check: callers have done it)."""
    last = await uow.session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.session_id == session.id)
    )
    item = AgendaItem(
        session_id=session.id,
        position=(last or 0) + 1,
        kind=ItemKind.NORMAL.value,
        title=fields.title,
        description=fields.description,
        topic_id=topic_id,
    )
    uow.session.add(item)
    await uow.flush()
    return item


async def add_item(
    uow: UnitOfWork, actor: Actor, session_id: int, raw: Mapping[str, str]
) -> AgendaItem:
    session, access = await load_session(uow, actor, session_id)
    _require_editable(access, session)
    fields, errors = check_item_fields(raw)
    if fields is None:
        raise ValidationFailed(errors)
    item = await append_item(uow, session, fields)
    uow.audit("agenda.add", "session", session.id, f"{session.title} 增加议题 {item.title}")
    await _changed(uow, access, session, f"增加议题“{item.title}”")
    return item


async def update_item(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    item_id: int,
    version: int,
    raw: Mapping[str, str],
) -> AgendaItem:
    session, access, item = await _load_item(uow, actor, session_id, item_id)
    _require_editable(access, session)
    if item.kind == ItemKind.PROGRESS:
        raise ValidationFailed({}, "“上次议定事项落实情况”是每次会议的固定议程，不能修改。")
    fields, errors = check_item_fields(raw)
    if fields is None:
        raise ValidationFailed(errors)
    if item.version != version:
        raise Conflict("该议题已被他人修改，您的修改未保存。请查看最新内容后重试。")
    before = {"title": item.title, "description": item.description}
    item.title, item.description = fields.title, fields.description
    await uow.flush()
    after = {"title": item.title, "description": item.description}
    if after != before:
        uow.audit(
            "agenda.update", "session", session.id, f"{session.title} 修改议题", before, after
        )
        await _changed(uow, access, session, f"议题“{item.title}”已修改")
    return item


async def delete_item(
    uow: UnitOfWork, actor: Actor, session_id: int, item_id: int, version: int
) -> None:
    session, access, item = await _load_item(uow, actor, session_id, item_id)
    _require_editable(access, session)
    if item.kind == ItemKind.PROGRESS:
        raise ValidationFailed({}, "“上次议定事项落实情况”是每次会议的固定议程，不能删除。")
    if item.version != version:
        raise Conflict("该议题已被他人修改，未删除。请查看最新内容后重试。")
    # Its materials stay with the session rather than disappear with the item.
    await uow.session.execute(
        update(Material).where(Material.item_id == item.id).values(item_id=None)
    )
    title = item.title
    await uow.session.delete(item)
    await uow.flush()
    await _renumber(uow, session.id)
    uow.audit("agenda.delete", "session", session.id, f"{session.title} 删除议题 {title}")
    await _changed(uow, access, session, f"删除议题“{title}”")


async def move_item(
    uow: UnitOfWork, actor: Actor, session_id: int, item_id: int, direction: str
) -> None:
    """Swap an item with its neighbour above (`up`) or below (`down`); item 1 stays first."""
    session, access, item = await _load_item(uow, actor, session_id, item_id)
    _require_editable(access, session)
    if direction not in ("up", "down"):
        raise ValidationFailed({}, "调整顺序的方向无效。")
    items = await _items(uow, session.id)
    movable = [i for i in items if i.kind != ItemKind.PROGRESS]
    if item not in movable:
        raise ValidationFailed({}, "“上次议定事项落实情况”固定为第一项。")
    at = movable.index(item)
    other_at = at - 1 if direction == "up" else at + 1
    if not 0 <= other_at < len(movable):
        return  # already first or last: nothing to do, nothing to tell
    other = movable[other_at]
    await _set_positions(uow, {item.id: other.position, other.id: item.position})
    uow.audit("agenda.move", "session", session.id, f"{session.title} 调整议题顺序 {item.title}")
    await _changed(uow, access, session, "议题顺序已调整")


async def _items(uow: UnitOfWork, session_id: int) -> list[AgendaItem]:
    return list(
        await uow.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session_id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )


async def _renumber(uow: UnitOfWork, session_id: int) -> None:
    """Positions stay 1..n without gaps, so 第N项 on the page means the same to everyone."""
    items = await _items(uow, session_id)
    await _set_positions(uow, {i.id: n for n, i in enumerate(items, start=1) if i.position != n})


async def _set_positions(uow: UnitOfWork, positions: dict[int, int]) -> None:
    """Reordering is not an edit of the items: written past the ORM so that their versions
    stay, and someone editing an item's text meanwhile is not refused for it."""
    for item_id, position in positions.items():
        await uow.session.execute(
            update(AgendaItem)
            .where(AgendaItem.id == item_id)
            .values(position=position)
            .execution_options(synchronize_session="fetch")
        )


async def _load_item(
    uow: UnitOfWork, actor: Actor, session_id: int, item_id: int
) -> tuple[MeetingSession, ConferenceAccess, AgendaItem]:
    session, access = await load_session(uow, actor, session_id)
    item = await uow.session.get(AgendaItem, item_id) if is_row_id(item_id) else None
    if item is None or item.session_id != session.id:
        raise NotFound("议题不存在，可能已被删除。")
    return session, access, item


def _require_editable(access: ConferenceAccess, session: MeetingSession) -> None:
    access.require_manage()
    require_preparing(session)


async def _changed(
    uow: UnitOfWork, access: ConferenceAccess, session: MeetingSession, what: str
) -> None:
    await revised_after_notice(uow, session, f"议程调整：{session.title}", f"{what}。")
    publish(uow, access, "session.agenda_changed", session_id=session.id)
