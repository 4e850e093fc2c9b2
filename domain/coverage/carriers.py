"""Carriers (载体): business towers, parks and their zones, market districts, internet
clusters of a street, with the joint party committee unit that represents each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from domain.coverage.access import require_read, require_write, street_or_404
from domain.enums import CarrierKind, UnitType
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.labels import label
from domain.models import Carrier, Unit
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor
from domain.topics import street_topic
from domain.uow import UnitOfWork

KINDS = list(CarrierKind)


def publish_change(uow: UnitOfWork, street_id: int, what: str) -> None:
    uow.publish(street_topic(street_id), "coverage.changed", what=what)


async def street_carriers(
    uow: UnitOfWork, street_id: int, *, active_only: bool = False
) -> list[Carrier]:
    """A street's carriers, parks followed by their zones, with their joint units."""
    query = (
        select(Carrier)
        .where(Carrier.street_id == street_id)
        .options(joinedload(Carrier.joint_unit))
        .order_by(Carrier.name)
    )
    if active_only:
        query = query.where(Carrier.active)
    rows = list((await uow.session.scalars(query)).unique())
    return tree_order(rows)


def tree_order(rows: list[Carrier]) -> list[Carrier]:
    """Top-level carriers by kind and name, each park followed by its zones."""
    kinds = {k.value: i for i, k in enumerate(KINDS)}
    ids = {c.id for c in rows}
    tops = sorted(
        (c for c in rows if c.parent_id is None or c.parent_id not in ids),
        key=lambda c: (not c.active, kinds.get(c.kind, 99), c.name),
    )
    zones: dict[int, list[Carrier]] = {}
    for c in rows:
        if c.parent_id is not None and c.parent_id in ids:
            zones.setdefault(c.parent_id, []).append(c)
    out: list[Carrier] = []
    for c in tops:
        out.append(c)
        out.extend(sorted(zones.get(c.id, []), key=lambda z: (not z.active, z.name)))
    return out


async def joint_unit_choices(uow: UnitOfWork, street_id: int) -> list[Unit]:
    """The street's active units, joint committees first."""
    rows = await uow.session.scalars(
        select(Unit).where(Unit.street_id == street_id, Unit.active).order_by(Unit.name)
    )
    units = list(rows)
    return sorted(units, key=lambda u: u.unit_type != UnitType.JOINT_COMMITTEE.value)


async def get_carrier(uow: UnitOfWork, actor: Actor, carrier_id: int) -> Carrier:
    carrier = (
        await uow.session.scalar(
            select(Carrier).where(Carrier.id == carrier_id).options(joinedload(Carrier.joint_unit))
        )
        if is_row_id(carrier_id)
        else None
    )
    if carrier is None:
        raise NotFound("载体不存在。")
    require_read(actor, carrier.street_id)
    return carrier


@dataclass(frozen=True)
class CarrierInput:
    kind: str
    name: str
    address: str
    description: str
    parent_id: int | None
    joint_unit_id: int | None


async def _parse(
    uow: UnitOfWork, street_id: int, raw: Mapping[str, str], carrier_id: int | None
) -> CarrierInput:
    errors: dict[str, str] = {}
    kind = raw.get("kind", "").strip()
    if kind not in {k.value for k in KINDS}:
        errors["kind"] = "请选择载体类型。"
    name = raw.get("name", "").strip()
    if not name or len(name) > 120:
        errors["name"] = "请填写载体名称（不超过 120 字）。"
    else:
        same = await uow.session.scalar(
            select(func.count(Carrier.id)).where(
                Carrier.street_id == street_id,
                Carrier.name == name,
                Carrier.id != (carrier_id or 0),
            )
        )
        if same:
            errors["name"] = "本街道已有同名载体。"
    address = raw.get("address", "").strip()
    if len(address) > 200:
        errors["address"] = "地址不超过 200 字。"
    description = raw.get("description", "").strip()
    if len(description) > 2000:
        errors["description"] = "简介不超过 2000 字。"
    parent_id = parse_id(raw.get("parent_id", ""))
    if kind == CarrierKind.ZONE.value:
        park = await uow.session.get(Carrier, parent_id) if parent_id else None
        if (
            park is None
            or park.street_id != street_id
            or park.kind != CarrierKind.PARK.value
            or not park.active
        ):
            errors["parent_id"] = "园区片区须选择所属园区。"
        elif carrier_id is not None and await _has_zones(uow, carrier_id):
            errors["kind"] = "该园区下设有片区，不能改为其他类型。"
    else:
        parent_id = None
        if (
            carrier_id is not None
            and kind in {k.value for k in KINDS}
            and kind != CarrierKind.PARK.value
            and await _has_zones(uow, carrier_id)
        ):
            errors["kind"] = "该园区下设有片区，不能改为其他类型。"
    joint_unit_id = parse_id(raw.get("joint_unit_id", ""))
    if raw.get("joint_unit_id", "").strip():
        unit = await uow.session.get(Unit, joint_unit_id) if joint_unit_id else None
        if unit is None or unit.street_id != street_id or not unit.active:
            errors["joint_unit_id"] = "联合党组织须从本街道的在册单位中选择。"
    if errors:
        raise ValidationFailed(errors)
    return CarrierInput(kind, name, address, description, parent_id, joint_unit_id)


async def _has_zones(uow: UnitOfWork, carrier_id: int) -> bool:
    zones = await uow.session.scalar(
        select(func.count(Carrier.id)).where(Carrier.parent_id == carrier_id)
    )
    return bool(zones)


def _snap(c: Carrier) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "name": c.name,
        "address": c.address,
        "parent_id": c.parent_id,
        "joint_unit_id": c.joint_unit_id,
        "active": c.active,
    }


async def create_carrier(
    uow: UnitOfWork, actor: Actor, street_id: int, raw: Mapping[str, str]
) -> Carrier:
    await street_or_404(uow, street_id)
    require_write(actor, street_id)
    data = await _parse(uow, street_id, raw, None)
    carrier = Carrier(street_id=street_id, **data.__dict__)
    uow.session.add(carrier)
    await uow.flush()
    uow.audit(
        "carrier.create",
        "carrier",
        carrier.id,
        f"新增{label(data.kind)}：{data.name}",
        None,
        _snap(carrier),
    )
    publish_change(uow, street_id, "carrier")
    return carrier


def check_version(row: Carrier | Any, version: int | None) -> None:
    if version is None or row.version != version:
        raise Conflict()


async def _own(uow: UnitOfWork, actor: Actor, carrier_id: int) -> Carrier:
    carrier = await uow.session.get(Carrier, carrier_id) if is_row_id(carrier_id) else None
    if carrier is None:
        raise NotFound("载体不存在。")
    require_write(actor, carrier.street_id)
    return carrier


async def update_carrier(
    uow: UnitOfWork, actor: Actor, carrier_id: int, raw: Mapping[str, str], version: int | None
) -> Carrier:
    carrier = await _own(uow, actor, carrier_id)
    data = await _parse(uow, carrier.street_id, raw, carrier.id)
    check_version(carrier, version)
    if data.parent_id == carrier.id:
        raise ValidationFailed({"parent_id": "片区不能属于自己。"})
    before = _snap(carrier)
    for key, value in data.__dict__.items():
        setattr(carrier, key, value)
    await uow.flush()
    uow.audit(
        "carrier.update", "carrier", carrier.id, f"修改载体：{carrier.name}", before, _snap(carrier)
    )
    publish_change(uow, carrier.street_id, "carrier")
    return carrier


async def set_carrier_active(
    uow: UnitOfWork, actor: Actor, carrier_id: int, active: bool, version: int | None
) -> Carrier:
    carrier = await _own(uow, actor, carrier_id)
    check_version(carrier, version)
    if not active:
        zones = await uow.session.scalar(
            select(func.count(Carrier.id)).where(Carrier.parent_id == carrier.id, Carrier.active)
        )
        if zones:
            raise ValidationFailed({}, "该园区下还有在用的片区，请先停用片区。")
    elif carrier.parent_id is not None:
        park = await uow.session.get(Carrier, carrier.parent_id)
        if park is not None and not park.active:
            raise ValidationFailed({}, "所属园区已停用，请先启用园区。")
    if carrier.active == active:
        return carrier
    before = _snap(carrier)
    carrier.active = active
    await uow.flush()
    action = "carrier.activate" if active else "carrier.deactivate"
    verb = "启用" if active else "停用"
    uow.audit(action, "carrier", carrier.id, f"{verb}载体：{carrier.name}", before, _snap(carrier))
    publish_change(uow, carrier.street_id, "carrier")
    return carrier


def form_values(carrier: Carrier) -> dict[str, str]:
    return {
        "kind": carrier.kind,
        "name": carrier.name,
        "address": carrier.address,
        "description": carrier.description,
        "parent_id": str(carrier.parent_id or ""),
        "joint_unit_id": str(carrier.joint_unit_id or ""),
        "version": str(carrier.version),
    }
