"""Use cases for the organisation tree (市/区/街道/社区)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from domain.enums import OrgLevel
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models import Organization
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor, can_administer, require
from domain.uow import UnitOfWork, snapshot

FIELDS = ("name", "level", "parent_id", "code")


async def list_orgs(uow: UnitOfWork) -> list[Organization]:
    return list(await uow.session.scalars(select(Organization).order_by(Organization.id)))


def tree_order(orgs: list[Organization]) -> list[tuple[int, Organization]]:
    """Depth-first order with depth, for an indented list."""
    children: dict[int | None, list[Organization]] = {}
    for o in orgs:
        children.setdefault(o.parent_id, []).append(o)
    out: list[tuple[int, Organization]] = []

    def walk(parent: int | None, depth: int) -> None:
        for o in sorted(children.get(parent, []), key=lambda x: x.name):
            out.append((depth, o))
            walk(o.id, depth + 1)

    walk(None, 0)
    return out


async def _check(
    uow: UnitOfWork, raw: Mapping[str, str], current: Organization | None
) -> tuple[str, OrgLevel, int | None, str | None]:
    errors: dict[str, str] = {}
    name = raw.get("name", "").strip()
    if not name:
        errors["name"] = "请填写名称。"
    elif len(name) > 100:
        errors["name"] = "名称不能超过 100 个字。"
    try:
        level = OrgLevel(raw.get("level", ""))
    except ValueError:
        level = OrgLevel.CITY
        errors["level"] = "请选择层级。"
    parent_raw = raw.get("parent_id", "").strip()
    parent_id = parse_id(parent_raw)
    expected = level.parent_level
    if "level" not in errors:
        if expected is None and parent_id is not None:
            errors["parent_id"] = "市级组织没有上级。"
        elif expected is not None:
            parent = await uow.session.get(Organization, parent_id) if parent_id else None
            if parent is None or parent.level != expected:
                from domain.labels import label

                errors["parent_id"] = f"请选择上级{label(expected)}。"
    if current is not None and current.level != level.value:
        errors["level"] = "已有组织的层级不能修改。"
    code = raw.get("code", "").strip() or None
    if code and len(code) > 40:
        errors["code"] = "编码不能超过 40 个字符。"
    if code:
        clash = await uow.session.scalar(
            select(Organization.id).where(
                Organization.code == code, Organization.id != (current.id if current else 0)
            )
        )
        if clash:
            errors["code"] = "编码已被其他组织使用。"
    if errors:
        raise ValidationFailed(errors)
    return name, level, parent_id, code


async def create_org(uow: UnitOfWork, actor: Actor, raw: Mapping[str, str]) -> Organization:
    require(can_administer(actor))
    name, level, parent_id, code = await _check(uow, raw, None)
    org = Organization(name=name, level=level.value, parent_id=parent_id, code=code)
    uow.session.add(org)
    await uow.flush()
    uow.audit("org.create", "organization", org.id, f"新增组织 {name}", None, snapshot(org, FIELDS))
    return org


async def update_org(
    uow: UnitOfWork, actor: Actor, org_id: int, version: int, raw: Mapping[str, str]
) -> Organization:
    require(can_administer(actor))
    org = await uow.session.get(Organization, org_id) if is_row_id(org_id) else None
    if org is None:
        raise NotFound("组织不存在。")
    if org.version != version:
        raise Conflict("该组织已被其他人修改，您的修改未保存。请查看最新内容后重试。")
    name, _level, parent_id, code = await _check(uow, raw, org)
    before = snapshot(org, FIELDS)
    org.name, org.parent_id, org.code = name, parent_id, code
    await uow.flush()
    uow.audit(
        "org.update", "organization", org.id, f"修改组织 {name}", before, snapshot(org, FIELDS)
    )
    return org
