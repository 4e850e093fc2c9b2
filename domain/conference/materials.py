"""Meeting materials (会议材料): files kept in the database, uploaded by managers, downloaded
by anyone who may read the conference."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import defer

from domain.conference.access import ConferenceAccess
from domain.conference.prep import load_session, publish
from domain.conference.rules import MATERIAL_MAX_BYTES
from domain.enums import SessionState
from domain.errors import NotFound, ValidationFailed
from domain.models import AgendaItem, Material, MeetingSession
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor
from domain.uow import UnitOfWork

FILENAME_MAX = 200
# Types a browser would render in our origin are served as opaque bytes instead.
SAFE_FALLBACK = "application/octet-stream"
_CONTENT_TYPE_RE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
_ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
}


def clean_filename(name: str) -> str:
    """The last path part of what the browser sent, without control characters, bounded."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        keep = FILENAME_MAX - len(ext) - 1
        name = f"{stem[:keep]}.{ext}" if dot and 0 < len(ext) < 20 else name[:FILENAME_MAX]
    return name


def clean_content_type(value: str) -> str:
    value = value.split(";", 1)[0].strip().lower()
    if not _CONTENT_TYPE_RE.match(value) or value in _ACTIVE_TYPES:
        return SAFE_FALLBACK
    return value


async def upload_material(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    item_raw: str = "",
) -> Material:
    session, access = await load_session(uow, actor, session_id)
    access.require_manage()
    if session.state == SessionState.ARCHIVED:
        raise ValidationFailed({}, "会议已归档，不能再上传材料。")
    errors: dict[str, str] = {}
    name = clean_filename(filename)
    if not name:
        errors["file"] = "请选择要上传的文件。"
    elif not data:
        errors["file"] = "文件是空的，请检查后重新上传。"
    elif len(data) > MATERIAL_MAX_BYTES:
        errors["file"] = "单个文件不能超过 10 MB。"
    item_id = parse_id(item_raw) if item_raw.strip() else None
    if item_raw.strip():
        item = await uow.session.get(AgendaItem, item_id) if item_id else None
        if item is None or item.session_id != session.id:
            errors["item_id"] = "所选议题不属于本次会议。"
    if errors:
        raise ValidationFailed(errors)
    material = Material(
        session_id=session.id,
        item_id=item_id,
        filename=name,
        content_type=clean_content_type(content_type),
        size=len(data),
        data=data,
        uploaded_by_id=actor.user_id,
    )
    uow.session.add(material)
    await uow.flush()
    uow.audit("material.upload", "session", session.id, f"{session.title} 上传材料 {name}")
    publish(uow, access, "session.materials_changed", session_id=session.id)
    return material


async def list_materials(uow: UnitOfWork, session_id: int) -> list[Material]:
    """Without the file contents: a page lists names and sizes, not megabytes of bytes."""
    return list(
        await uow.session.scalars(
            select(Material)
            .where(Material.session_id == session_id)
            .options(defer(Material.data, raiseload=True))
            .order_by(Material.uploaded_at, Material.id)
        )
    )


async def _load(
    uow: UnitOfWork, actor: Actor, material_id: int
) -> tuple[Material, MeetingSession, ConferenceAccess]:
    material = await uow.session.get(Material, material_id) if is_row_id(material_id) else None
    if material is None:
        raise NotFound("材料不存在，可能已被删除。")
    # Not readable is reported as missing, like the session itself.
    session, access = await load_session(uow, actor, material.session_id)
    return material, session, access


async def download_material(uow: UnitOfWork, actor: Actor, material_id: int) -> Material:
    material, _session, _access = await _load(uow, actor, material_id)
    return material


async def delete_material(uow: UnitOfWork, actor: Actor, material_id: int) -> int:
    """Remove a material; returns its session's id (the page to go back to)."""
    material, session, access = await _load(uow, actor, material_id)
    access.require_manage()
    if session.state == SessionState.ARCHIVED:
        raise ValidationFailed({}, "会议已归档，材料不能删除。")
    name = material.filename
    await uow.session.delete(material)
    await uow.flush()
    uow.audit("material.delete", "session", session.id, f"{session.title} 删除材料 {name}")
    publish(uow, access, "session.materials_changed", session_id=session.id)
    return session.id
