"""Use cases for units (成员单位): create, edit, retire, reactivate, list."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from domain.enums import OrgLevel, UnitKind, UnitType
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.labels import parse_label
from domain.models import Organization, RoleGrant, Unit
from domain.models.base import utcnow
from domain.parsing import is_row_id, parse_id
from domain.permissions import (
    Actor,
    can_manage_units,
    can_view_directory,
    can_view_street,
    require,
)
from domain.services.notifications import notify
from domain.topics import street_topic, unit_topic
from domain.uow import UnitOfWork, snapshot

AUDITED_FIELDS = (
    "name",
    "kind",
    "unit_type",
    "street_id",
    "community_id",
    "address",
    "contact_name",
    "contact_phone",
    "party_members",
    "active",
)

PHONE_RE = re.compile(r"^[0-9+\-() ]{5,30}$")


@dataclass(frozen=True)
class UnitFields:
    name: str
    kind: UnitKind
    unit_type: UnitType
    street_id: int
    community_id: int | None
    address: str
    contact_name: str
    contact_phone: str
    party_members: int


@dataclass(frozen=True)
class OrgIndex:
    """Streets and communities known to a validation, by id and by name."""

    streets: Mapping[int, str]
    communities: Mapping[int, tuple[str, int]]  # id -> (name, street id)

    def street_by_name(self, name: str) -> int | None:
        return next((i for i, n in self.streets.items() if n == name), None)

    def community_by_name(self, name: str, street_id: int) -> int | None:
        return next(
            (i for i, (n, s) in self.communities.items() if n == name and s == street_id), None
        )


def check_unit_fields(
    raw: Mapping[str, str], orgs: OrgIndex, *, by_name: bool = False
) -> tuple[UnitFields | None, dict[str, str]]:
    """Validate user input for a unit. With `by_name`, street and community are names (imports)."""
    errors: dict[str, str] = {}
    name = raw.get("name", "").strip()
    if not name:
        errors["name"] = "请填写单位名称。"
    elif len(name) > 120:
        errors["name"] = "单位名称不能超过 120 个字。"

    kind = parse_label(UnitKind, raw.get("kind", ""))
    if kind is None:
        errors["kind"] = "请选择单位类别（驻区单位、职能部门、社区或街道办事处）。"
    unit_type = parse_label(UnitType, raw.get("unit_type", ""))
    if unit_type is None:
        errors["unit_type"] = "请选择单位性质。"

    street_raw = raw.get("street", raw.get("street_id", "")).strip()
    street_id: int | None
    if by_name:
        street_id = orgs.street_by_name(street_raw)
    else:
        street_id = parse_id(street_raw)
        if street_id not in orgs.streets:
            street_id = None
    if street_id is None:
        errors["street_id"] = (
            f"街道“{street_raw}”不存在或不在您的管理范围内。" if street_raw else "请选择所属街道。"
        )

    community_raw = raw.get("community", raw.get("community_id", "")).strip()
    community_id: int | None = None
    if community_raw and street_id is not None:
        if by_name:
            community_id = orgs.community_by_name(community_raw, street_id)
        elif parse_id(community_raw) in orgs.communities:
            community_id = parse_id(community_raw)
        if community_id is None or orgs.communities[community_id][1] != street_id:
            community_id = None
            errors["community_id"] = f"社区“{community_raw}”不属于所选街道。"
    if kind is UnitKind.COMMUNITY and not community_raw:
        errors.setdefault("community_id", "社区类单位须选择对应的社区。")

    address = raw.get("address", "").strip()
    if len(address) > 200:
        errors["address"] = "地址不能超过 200 个字。"
    contact_name = raw.get("contact_name", "").strip()
    if len(contact_name) > 50:
        errors["contact_name"] = "联系人不能超过 50 个字。"
    phone = raw.get("contact_phone", "").strip()
    if phone and not PHONE_RE.match(phone):
        errors["contact_phone"] = "联系电话格式不正确（只能包含数字、空格、+、-、括号）。"
    members_raw = raw.get("party_members", "").strip() or "0"
    party_members = 0
    if not members_raw.isdecimal():  # not isdigit(): '²' is a digit that int() refuses
        errors["party_members"] = "党员人数须为非负整数。"
    elif len(members_raw.lstrip("0")) > 7 or int(members_raw) > 1_000_000:
        errors["party_members"] = "党员人数过大。"
    else:
        party_members = int(members_raw)

    if errors or kind is None or unit_type is None or street_id is None:
        return None, errors
    return (
        UnitFields(
            name=name,
            kind=kind,
            unit_type=unit_type,
            street_id=street_id,
            community_id=community_id,
            address=address,
            contact_name=contact_name,
            contact_phone=phone,
            party_members=party_members,
        ),
        {},
    )


async def org_index_for(uow: UnitOfWork, actor: Actor, *, manage: bool = True) -> OrgIndex:
    """The streets (and their communities) the actor may attach units to (or read)."""
    rows = (
        await uow.session.execute(
            select(Organization.id, Organization.name, Organization.level, Organization.parent_id)
            .where(Organization.level.in_([OrgLevel.STREET, OrgLevel.COMMUNITY]))
            .order_by(Organization.id)
        )
    ).all()
    allowed = can_manage_units if manage else can_view_street
    streets = {r.id: r.name for r in rows if r.level == OrgLevel.STREET and allowed(actor, r.id)}
    communities = {
        r.id: (r.name, r.parent_id)
        for r in rows
        if r.level == OrgLevel.COMMUNITY and r.parent_id in streets
    }
    return OrgIndex(streets=streets, communities=communities)


async def _ensure_unique_name(uow: UnitOfWork, name: str, street_id: int, skip_id: int = 0) -> None:
    clash = await uow.session.scalar(
        select(Unit.id).where(Unit.name == name, Unit.street_id == street_id, Unit.id != skip_id)
    )
    if clash:
        raise ValidationFailed({"name": "本街道已有同名单位。"})


async def create_unit(uow: UnitOfWork, actor: Actor, raw: Mapping[str, str]) -> Unit:
    require(can_manage_units(actor))
    fields, errors = check_unit_fields(raw, await org_index_for(uow, actor))
    if fields is None:
        raise ValidationFailed(errors)
    await _ensure_unique_name(uow, fields.name, fields.street_id)
    unit = Unit(**_columns(fields))
    uow.session.add(unit)
    await _flush_unique(uow)
    uow.audit("unit.create", "unit", unit.id, f"新增单位 {unit.name}", None, _snap(unit))
    _publish_unit(uow, unit)
    return unit


async def update_unit(
    uow: UnitOfWork, actor: Actor, unit_id: int, version: int, raw: Mapping[str, str]
) -> Unit:
    unit = await get_unit(uow, actor, unit_id)
    require(can_manage_units(actor, unit.street_id))
    fields, errors = check_unit_fields(raw, await org_index_for(uow, actor))
    if fields is None:
        raise ValidationFailed(errors)
    _check_version(unit, version)
    await _ensure_unique_name(uow, fields.name, fields.street_id, skip_id=unit.id)
    before = _snap(unit)
    for key, value in _columns(fields).items():
        setattr(unit, key, value)
    await _flush_unique(uow)
    uow.audit("unit.update", "unit", unit.id, f"修改单位 {unit.name}", before, _snap(unit))
    _publish_unit(uow, unit, also_street=int(str(before["street_id"])))
    return unit


async def set_unit_active(
    uow: UnitOfWork, actor: Actor, unit_id: int, version: int, active: bool, reason: str = ""
) -> Unit:
    """Retire (撤销) or reactivate a unit. Retired units stay on record."""
    unit = await get_unit(uow, actor, unit_id)
    require(can_manage_units(actor, unit.street_id))
    _check_version(unit, version)
    reason = reason.strip()
    if not active and not reason:
        raise ValidationFailed({"reason": "请填写撤销原因。"})
    before = _snap(unit)
    unit.active = active
    unit.retired_at = None if active else utcnow()
    unit.retired_reason = "" if active else reason[:200]
    await uow.flush()
    action, verb = ("unit.reactivate", "恢复") if active else ("unit.retire", "撤销")
    uow.audit(action, "unit", unit.id, f"{verb}单位 {unit.name} {reason}", before, _snap(unit))
    _publish_unit(uow, unit)
    liaisons = await uow.session.scalars(
        select(RoleGrant.user_id).where(RoleGrant.unit_id == unit.id)
    )
    notify(
        uow,
        [u for u in liaisons if u != (uow.actor.user_id if uow.actor else None)],
        action,
        f"{unit.name} 已被{verb}",
        reason if not active else "",
        f"/units/{unit.id}",
    )
    return unit


async def get_unit(uow: UnitOfWork, actor: Actor, unit_id: int) -> Unit:
    require(can_view_directory(actor))
    if not is_row_id(unit_id):
        raise NotFound("单位不存在，或不在您可查看的范围内。")
    unit = await uow.session.scalar(
        select(Unit)
        .where(Unit.id == unit_id)
        .options(selectinload(Unit.street), selectinload(Unit.community))
    )
    if unit is None or not can_view_street(actor, unit.street_id):
        raise NotFound("单位不存在，或不在您可查看的范围内。")
    return unit


@dataclass(frozen=True)
class UnitFilter:
    street_id: int | None = None
    kind: str = ""
    unit_type: str = ""
    status: str = "active"  # active | retired | all
    q: str = ""


async def list_units(
    uow: UnitOfWork, actor: Actor, flt: UnitFilter, limit: int = 200, offset: int = 0
) -> tuple[list[Unit], int]:
    require(can_view_directory(actor))
    visible = None if actor.is_admin else actor.visible_street_ids
    stmt = select(Unit)
    if visible is not None:
        stmt = stmt.where(Unit.street_id.in_(visible))
    if flt.street_id:
        stmt = stmt.where(Unit.street_id == flt.street_id)
    if flt.kind:
        stmt = stmt.where(Unit.kind == flt.kind)
    if flt.unit_type:
        stmt = stmt.where(Unit.unit_type == flt.unit_type)
    if flt.status == "active":
        stmt = stmt.where(Unit.active.is_(True))
    elif flt.status == "retired":
        stmt = stmt.where(Unit.active.is_(False))
    if flt.q.strip():
        stmt = stmt.where(Unit.name.contains(flt.q.strip(), autoescape=True))
    total = await uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = await uow.session.scalars(
        stmt.options(selectinload(Unit.street), selectinload(Unit.community))
        .order_by(Unit.street_id, Unit.kind, Unit.name)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


async def _flush_unique(uow: UnitOfWork) -> None:
    """Flush; a same-name unit committed by someone else a moment ago is a form error."""
    try:
        await uow.flush()
    except IntegrityError:
        raise ValidationFailed({"name": "本街道已有同名单位。"}) from None


def _publish_unit(uow: UnitOfWork, unit: Unit, also_street: int | None = None) -> None:
    """Pages showing this unit, and its street's lists and figures, are now out of date."""
    uow.publish(unit_topic(unit.id), "unit.changed", unit_id=unit.id)
    for street_id in {unit.street_id, also_street or unit.street_id}:
        uow.publish(street_topic(street_id), "street.units_changed", unit_id=unit.id)


def _check_version(unit: Unit, version: int) -> None:
    # The form carries the version it was rendered from; an older one means
    # someone saved in between, and we refuse rather than overwrite.
    if unit.version != version:
        raise Conflict("该单位已被其他人修改，您的修改未保存。请查看最新内容后重试。")


def _columns(fields: UnitFields) -> dict[str, object]:
    return {
        "name": fields.name,
        "kind": fields.kind.value,
        "unit_type": fields.unit_type.value,
        "street_id": fields.street_id,
        "community_id": fields.community_id,
        "address": fields.address,
        "contact_name": fields.contact_name,
        "contact_phone": fields.contact_phone,
        "party_members": fields.party_members,
    }


def _snap(unit: Unit) -> dict[str, object]:
    return snapshot(unit, AUDITED_FIELDS)
