"""Emerging-sector organisations (企业、社会组织) of a street: adding, editing, retiring,
and the filtered list the street page shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import joinedload

from domain.coverage.access import require_read, require_write, street_or_404
from domain.coverage.carriers import check_version, publish_change
from domain.coverage.figures import gap_clause, should_build_clause
from domain.coverage.rules import (
    OrgFacts,
    consistency_errors,
    credit_code_error,
    normalise_code,
)
from domain.enums import CarrierKind, CoverageMode, OrgCategory
from domain.errors import NotFound, ValidationFailed
from domain.models import Carrier, EmergingOrg, Unit
from domain.models.base import utcnow
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor
from domain.uow import UnitOfWork

MODES = list(CoverageMode)
CATEGORIES = list(OrgCategory)
PAGE_SIZE = 50
MAX_COUNT = 1_000_000
TEXT_LIMITS = {
    "name": (160, "名称"),
    "industry": (60, "行业"),
    "party_org_name": (160, "党组织名称"),
    "instructor_name": (50, "党建指导员"),
    "instructor_phone": (30, "联系电话"),
    "note": (500, "备注"),
}


@dataclass(frozen=True)
class OrgInput:
    carrier_id: int | None
    category: str
    name: str
    credit_code: str | None
    industry: str
    employees: int
    party_members: int
    coverage_mode: str
    party_org_name: str
    covering_unit_id: int | None
    instructor_name: str
    instructor_phone: str
    note: str


def _count(text: str, field: str, errors: dict[str, str], what: str) -> int:
    text = text.strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        errors[field] = f"{what}须为整数。"
        return 0
    if value < 0:
        errors[field] = f"{what}不能为负数。"
    elif value > MAX_COUNT:
        errors[field] = f"{what}过大，请核对。"
    return value


def parse_org(
    raw: Mapping[str, str],
    carrier_ids: set[int],
    unit_ids: set[int],
    *,
    require_code: bool = False,
) -> tuple[OrgInput | None, dict[str, str]]:
    """Check the fields of an organisation (the form and the import share this)."""
    errors: dict[str, str] = {}
    text = {k: raw.get(k, "").strip() for k in TEXT_LIMITS}
    for key, (limit, what) in TEXT_LIMITS.items():
        if len(text[key]) > limit:
            errors[key] = f"{what}不超过 {limit} 字。"
    if not text["name"]:
        errors["name"] = "请填写名称。"
    category = raw.get("category", "").strip() or OrgCategory.ENTERPRISE.value
    if category not in {c.value for c in CATEGORIES}:
        errors["category"] = "请选择类别。"
    mode = raw.get("coverage_mode", "").strip()
    if mode not in {m.value for m in MODES}:
        errors["coverage_mode"] = "请选择覆盖方式。"
    code = normalise_code(raw.get("credit_code", ""))
    if code:
        problem = credit_code_error(code)
        if problem:
            errors["credit_code"] = problem
    elif require_code:
        errors["credit_code"] = "请填写统一社会信用代码。"
    carrier_id = parse_id(raw.get("carrier_id", ""))
    if raw.get("carrier_id", "").strip() and carrier_id not in carrier_ids:
        errors["carrier_id"] = "所在载体须从本街道的载体中选择。"
    covering_unit_id = parse_id(raw.get("covering_unit_id", ""))
    if raw.get("covering_unit_id", "").strip() and covering_unit_id not in unit_ids:
        errors["covering_unit_id"] = "覆盖单位须从本街道的在册单位中选择。"
    employees = _count(raw.get("employees", ""), "employees", errors, "从业人员")
    members = _count(raw.get("party_members", ""), "party_members", errors, "党员人数")
    if "coverage_mode" not in errors:
        facts = OrgFacts(
            mode,
            text["party_org_name"],
            employees,
            members,
            text["instructor_name"],
            text["instructor_phone"],
        )
        for key, message in consistency_errors(facts).items():
            errors.setdefault(key, message)
    if errors:
        return None, errors
    return (
        OrgInput(
            carrier_id=carrier_id,
            category=category,
            name=text["name"],
            credit_code=code or None,
            industry=text["industry"],
            employees=employees,
            party_members=members,
            coverage_mode=mode,
            party_org_name=text["party_org_name"],
            covering_unit_id=covering_unit_id,
            instructor_name=text["instructor_name"],
            instructor_phone=text["instructor_phone"],
            note=text["note"],
        ),
        {},
    )


@dataclass(frozen=True)
class OrgChoices:
    carriers: list[Carrier]  # active carriers of the street
    units: list[Unit]  # active units of the street


async def org_choices(uow: UnitOfWork, street_id: int) -> OrgChoices:
    carriers = list(
        await uow.session.scalars(
            select(Carrier)
            .where(Carrier.street_id == street_id, Carrier.active)
            .order_by(Carrier.name)
        )
    )
    units = list(
        await uow.session.scalars(
            select(Unit).where(Unit.street_id == street_id, Unit.active).order_by(Unit.name)
        )
    )
    return OrgChoices(carriers, units)


async def _code_taken(
    uow: UnitOfWork, street_id: int, code: str | None, org_id: int | None
) -> bool:
    if code is None:
        return False
    found = await uow.session.scalar(
        select(EmergingOrg.id).where(
            EmergingOrg.street_id == street_id, EmergingOrg.credit_code == code
        )
    )
    return found is not None and found != org_id


async def _parse_for_street(
    uow: UnitOfWork, street_id: int, raw: Mapping[str, str], org_id: int | None
) -> OrgInput:
    choices = await org_choices(uow, street_id)
    data, errors = parse_org(raw, {c.id for c in choices.carriers}, {u.id for u in choices.units})
    if data is not None and await _code_taken(uow, street_id, data.credit_code, org_id):
        errors["credit_code"] = "本街道已登记该统一社会信用代码的组织。"
    if errors or data is None:
        raise ValidationFailed(errors)
    return data


def snap(org: EmergingOrg) -> dict[str, Any]:
    return {
        "name": org.name,
        "credit_code": org.credit_code,
        "carrier_id": org.carrier_id,
        "employees": org.employees,
        "party_members": org.party_members,
        "coverage_mode": org.coverage_mode,
        "party_org_name": org.party_org_name,
        "instructor_name": org.instructor_name,
        "active": org.active,
    }


async def create_org(
    uow: UnitOfWork, actor: Actor, street_id: int, raw: Mapping[str, str]
) -> EmergingOrg:
    await street_or_404(uow, street_id)
    require_write(actor, street_id)
    data = await _parse_for_street(uow, street_id, raw, None)
    org = EmergingOrg(street_id=street_id, source="manual", **data.__dict__)
    uow.session.add(org)
    await uow.flush()
    uow.audit(
        "emerging_org.create", "emerging_org", org.id, f"新增组织：{org.name}", None, snap(org)
    )
    publish_change(uow, street_id, "org")
    return org


async def _own(uow: UnitOfWork, actor: Actor, org_id: int) -> EmergingOrg:
    org = await uow.session.get(EmergingOrg, org_id) if is_row_id(org_id) else None
    if org is None:
        raise NotFound("组织不存在。")
    require_write(actor, org.street_id)
    return org


async def update_org(
    uow: UnitOfWork, actor: Actor, org_id: int, raw: Mapping[str, str], version: int | None
) -> EmergingOrg:
    org = await _own(uow, actor, org_id)
    data = await _parse_for_street(uow, org.street_id, raw, org.id)
    check_version(org, version)
    before = snap(org)
    for key, value in data.__dict__.items():
        setattr(org, key, value)
    org.updated_at = utcnow()
    await uow.flush()
    uow.audit(
        "emerging_org.update", "emerging_org", org.id, f"修改组织：{org.name}", before, snap(org)
    )
    publish_change(uow, org.street_id, "org")
    return org


async def set_org_active(
    uow: UnitOfWork, actor: Actor, org_id: int, active: bool, version: int | None
) -> EmergingOrg:
    org = await _own(uow, actor, org_id)
    check_version(org, version)
    if org.active != active:
        before = snap(org)
        org.active = active
        org.updated_at = utcnow()
        await uow.flush()
        verb = "恢复" if active else "注销/迁出"
        uow.audit(
            f"emerging_org.{'activate' if active else 'deactivate'}",
            "emerging_org",
            org.id,
            f"{verb}组织：{org.name}",
            before,
            snap(org),
        )
        publish_change(uow, org.street_id, "org")
    return org


async def get_org(uow: UnitOfWork, actor: Actor, org_id: int) -> EmergingOrg:
    org = (
        await uow.session.scalar(
            select(EmergingOrg)
            .where(EmergingOrg.id == org_id)
            .options(joinedload(EmergingOrg.carrier))
        )
        if is_row_id(org_id)
        else None
    )
    if org is None:
        raise NotFound("组织不存在。")
    require_read(actor, org.street_id)
    return org


def form_values(org: EmergingOrg) -> dict[str, str]:
    values = {
        k: str(v) if v is not None else "" for k, v in org.__dict__.items() if not k.startswith("_")
    }
    return {
        key: values.get(key, "")
        for key in (*TEXT_LIMITS, *OrgInput.__dataclass_fields__, "version")
    }


@dataclass(frozen=True)
class OrgFilter:
    carrier_id: int | None = None
    mode: str = ""
    q: str = ""
    gaps: bool = False  # only the gaps and 应建未建
    page: int = 1


def carrier_clause(carrier_id: int) -> ColumnElement[bool]:
    """Organisations of a carrier, a park's zones included."""
    zones = select(Carrier.id).where(Carrier.parent_id == carrier_id).scalar_subquery()
    return or_(EmergingOrg.carrier_id == carrier_id, EmergingOrg.carrier_id.in_(zones))


@dataclass(frozen=True)
class OrgPage:
    items: list[EmergingOrg]
    total: int
    page: int
    pages: int


async def list_orgs(uow: UnitOfWork, street_id: int, f: OrgFilter) -> OrgPage:
    """One page of a street's active organisations (two statements whatever the size)."""
    conds: list[Any] = [EmergingOrg.street_id == street_id, EmergingOrg.active]
    if f.carrier_id:
        conds.append(carrier_clause(f.carrier_id))
    if f.mode in {m.value for m in MODES}:
        conds.append(EmergingOrg.coverage_mode == f.mode)
    for word in f.q.split()[:5]:
        like = f"%{word[:40]}%"
        conds.append(
            or_(
                EmergingOrg.name.like(like),
                EmergingOrg.credit_code.like(like.upper()),
                EmergingOrg.industry.like(like),
                EmergingOrg.party_org_name.like(like),
            )
        )
    if f.gaps:
        conds.append(or_(gap_clause(), should_build_clause()))
    where = and_(*conds)
    total = int(await uow.session.scalar(select(func.count(EmergingOrg.id)).where(where)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    items = list(
        await uow.session.scalars(
            select(EmergingOrg)
            .where(where)
            .options(joinedload(EmergingOrg.carrier))
            .order_by(EmergingOrg.name, EmergingOrg.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return OrgPage(items, total, page, pages)


def parks(carriers: Sequence[Carrier]) -> list[Carrier]:
    return [c for c in carriers if c.kind == CarrierKind.PARK.value and c.active]
