"""单位报到: a stationed unit reports in to the community it stands in, once a year.

The unit's liaison (or street staff on its behalf) submits a slip; the community's secretary
confirms it or returns it with a reason; a returned slip is corrected and resubmitted; the
unit may withdraw it. The database keeps one live slip per unit, community and year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from domain.activities.access import STREET_STAFF
from domain.conference.access import acting_unit_ids, users_acting_for
from domain.dual_report.common import (
    check_phone,
    check_version,
    community,
    community_secretaries,
    is_street_staff,
    publish_change,
    start_decision,
    this_year,
)
from domain.enums import OrgLevel, RegistrationState, UnitKind
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization, Unit
from domain.models.base import utcnow
from domain.models.dual_report import UnitRegistration
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.uow import UnitOfWork

DUPLICATE = "该单位本年度已向这个社区提交报到单（待确认或已报到），不能重复提交。"
LINK = "/dual-report"
R = RegistrationState


@dataclass(frozen=True)
class SlipForm:
    community_id: int
    year: int
    contact_name: str
    contact_phone: str
    party_members: int
    commitments: str
    service_wishes: str


def parse_slip(raw: Mapping[str, str], year_now: int) -> SlipForm:
    errors: dict[str, str] = {}
    community_text = raw.get("community_id", "").strip()
    community_id = int(community_text) if community_text.isdecimal() else 0
    if not 0 < community_id < 2**31:
        errors["community_id"] = "请选择报到的社区。"
    year_text = raw.get("year", "").strip()
    year = int(year_text) if year_text.isdecimal() and len(year_text) == 4 else 0
    if year not in (year_now - 1, year_now, year_now + 1):
        errors["year"] = f"年度须为 {year_now - 1}–{year_now + 1} 年。"
    contact = raw.get("contact_name", "").strip()
    if not contact:
        errors["contact_name"] = "请填写联系人。"
    elif len(contact) > 50:
        errors["contact_name"] = "联系人不超过 50 个字。"
    phone = check_phone(raw.get("contact_phone", ""), errors, "contact_phone", required=True)
    members_text = raw.get("party_members", "").strip() or "0"
    members = int(members_text) if members_text.isdecimal() and len(members_text) <= 6 else -1
    if members < 0:
        errors["party_members"] = "党员人数须为 0 或正整数。"
    commitments = raw.get("commitments", "").strip()
    wishes = raw.get("service_wishes", "").strip()
    if not commitments:
        errors["commitments"] = "请填写服务承诺或可提供的资源。"
    elif len(commitments) > 2000:
        errors["commitments"] = "服务承诺不超过 2000 个字。"
    if len(wishes) > 2000:
        errors["service_wishes"] = "服务意愿不超过 2000 个字。"
    if errors:
        raise ValidationFailed(errors)
    return SlipForm(community_id, year, contact, phone, members, commitments, wishes)


async def can_submit_for(uow: UnitOfWork, actor: Actor, unit: Unit) -> bool:
    if is_street_staff(actor, unit.street_id):
        return True
    return unit.id in await acting_unit_ids(uow, actor)


async def submittable_units(uow: UnitOfWork, actor: Actor) -> list[Unit]:
    """Active stationed units this actor may submit a slip for."""
    acting = await acting_unit_ids(uow, actor)
    staff_streets = None if actor.is_admin else actor.streets_with(*STREET_STAFF)  # None: all
    query = select(Unit).where(Unit.active, Unit.kind == UnitKind.STATIONED.value)
    if staff_streets is not None:
        if not acting and not staff_streets:
            return []
        query = query.where(Unit.id.in_(acting) | Unit.street_id.in_(staff_streets))
    return list(await uow.session.scalars(query.order_by(Unit.name)))


async def street_communities(uow: UnitOfWork, street_ids: set[int]) -> list[Organization]:
    if not street_ids:
        return []
    return list(
        await uow.session.scalars(
            select(Organization)
            .where(
                Organization.parent_id.in_(street_ids),
                Organization.level == OrgLevel.COMMUNITY.value,
            )
            .order_by(Organization.code, Organization.id)
        )
    )


async def _load(uow: UnitOfWork, registration_id: int) -> UnitRegistration:
    reg = await uow.session.scalar(
        select(UnitRegistration)
        .where(UnitRegistration.id == registration_id)
        .options(selectinload(UnitRegistration.unit), selectinload(UnitRegistration.community))
    )
    if reg is None:
        raise NotFound("报到单不存在。")
    return reg


async def _check_community(uow: UnitOfWork, unit: Unit, community_id: int) -> Organization:
    org = await community(uow, community_id)
    if org.parent_id != unit.street_id:
        raise ValidationFailed({"community_id": "只能向本单位所在街道的社区报到。"})
    return org


def _apply(reg: UnitRegistration, form: SlipForm) -> None:
    reg.contact_name = form.contact_name
    reg.contact_phone = form.contact_phone
    reg.party_members = form.party_members
    reg.commitments = form.commitments
    reg.service_wishes = form.service_wishes


async def _flush_unique(uow: UnitOfWork) -> None:
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError:
        raise ValidationFailed({"community_id": DUPLICATE}, DUPLICATE) from None


async def submit(
    uow: UnitOfWork, actor: Actor, unit_id: int, raw: Mapping[str, str]
) -> UnitRegistration:
    unit = await uow.session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise NotFound("单位不存在或已停用。")
    if not await can_submit_for(uow, actor, unit):
        raise PermissionDenied("只有本单位联络员或街道工作人员可以提交报到单。")
    form = parse_slip(raw, this_year())
    org = await _check_community(uow, unit, form.community_id)
    reg = UnitRegistration(
        unit_id=unit.id,
        community_id=org.id,
        street_id=unit.street_id,
        year=form.year,
        submitted_by_id=actor.user_id,
        state=R.SUBMITTED.value,
    )
    _apply(reg, form)
    uow.session.add(reg)
    await _flush_unique(uow)
    uow.audit("dual_report.unit_submit", "unit_registration", reg.id, f"{unit.name} → {org.name}")
    notify(
        uow,
        await community_secretaries(uow, [org.id]),
        "dual_report",
        f"{unit.name} 提交了 {form.year} 年度报到单",
        f"报到社区：{org.name}",
        LINK,
    )
    publish_change(uow, unit.street_id)
    return reg


async def resubmit(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None, raw: Mapping[str, str]
) -> UnitRegistration:
    """Correct a returned (or still pending) slip; it goes back to the community."""
    reg = await _load(uow, registration_id)
    if not await can_submit_for(uow, actor, reg.unit):
        raise PermissionDenied("只有本单位联络员或街道工作人员可以修改报到单。")
    check_version(reg.version, version)
    if reg.state not in (R.SUBMITTED.value, R.RETURNED.value):
        raise Conflict("该报到单已确认或已撤回，不能再修改。")
    form = parse_slip({**raw, "community_id": str(reg.community_id), "year": str(reg.year)},
                      reg.year)  # fmt: skip
    _apply(reg, form)
    reg.state = R.SUBMITTED.value
    reg.return_reason = ""
    reg.updated_at = utcnow()
    await _flush_unique(uow)
    uow.audit("dual_report.unit_resubmit", "unit_registration", reg.id, reg.unit.name)
    notify(
        uow,
        await community_secretaries(uow, [reg.community_id]),
        "dual_report",
        f"{reg.unit.name} 重新提交了报到单",
        f"报到社区：{reg.community.name}",
        LINK,
    )
    publish_change(uow, reg.street_id)
    return reg


async def _decide(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None
) -> UnitRegistration:
    reg = await _load(uow, registration_id)
    start_decision(actor, reg, version, "报到单")
    return reg


async def _tell_unit(uow: UnitOfWork, reg: UnitRegistration, title: str, body: str) -> None:
    users = await users_acting_for(uow, [reg.unit_id])
    if reg.submitted_by_id:
        users.add(reg.submitted_by_id)
    notify(uow, users, "dual_report", title, body, LINK)
    publish_change(uow, reg.street_id)


async def confirm(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None
) -> UnitRegistration:
    reg = await _decide(uow, actor, registration_id, version)
    reg.state = R.CONFIRMED.value
    uow.audit("dual_report.unit_confirm", "unit_registration", reg.id, reg.unit.name)
    await _tell_unit(uow, reg, f"{reg.community.name} 已确认贵单位的报到", f"{reg.year} 年度")
    return reg


async def return_slip(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None, reason: str
) -> UnitRegistration:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed({"reason": "请填写退回原因。"})
    if len(reason) > 300:
        raise ValidationFailed({"reason": "退回原因不超过 300 个字。"})
    reg = await _decide(uow, actor, registration_id, version)
    reg.state = R.RETURNED.value
    reg.return_reason = reason
    uow.audit("dual_report.unit_return", "unit_registration", reg.id, reason)
    await _tell_unit(uow, reg, f"{reg.community.name} 退回了贵单位的报到单", f"原因：{reason}")
    return reg


async def withdraw(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None
) -> UnitRegistration:
    reg = await _load(uow, registration_id)
    if not await can_submit_for(uow, actor, reg.unit):
        raise PermissionDenied("只有本单位联络员或街道工作人员可以撤回报到单。")
    check_version(reg.version, version)
    if reg.state == R.ENDED.value:
        raise Conflict("该报到单已撤回。")
    reg.state = R.ENDED.value
    reg.updated_at = utcnow()
    uow.audit("dual_report.unit_withdraw", "unit_registration", reg.id, reg.unit.name)
    notify(
        uow,
        await community_secretaries(uow, [reg.community_id]),
        "dual_report",
        f"{reg.unit.name} 撤回了报到单",
        f"{reg.year} 年度",
        LINK,
    )
    publish_change(uow, reg.street_id)
    return reg


async def slips_of_units(uow: UnitOfWork, unit_ids: frozenset[int]) -> list[UnitRegistration]:
    if not unit_ids:
        return []
    return list(
        await uow.session.scalars(
            select(UnitRegistration)
            .where(UnitRegistration.unit_id.in_(unit_ids))
            .options(selectinload(UnitRegistration.unit), selectinload(UnitRegistration.community))
            .order_by(UnitRegistration.year.desc(), UnitRegistration.id.desc())
            .limit(200)
        )
    )


async def slips_for_communities(
    uow: UnitOfWork, community_ids: frozenset[int], year: int
) -> list[UnitRegistration]:
    """A community's incoming slips of a year: pending first, then the rest."""
    if not community_ids:
        return []
    rows = await uow.session.scalars(
        select(UnitRegistration)
        .where(UnitRegistration.community_id.in_(community_ids), UnitRegistration.year == year)
        .options(selectinload(UnitRegistration.unit), selectinload(UnitRegistration.community))
        .order_by(UnitRegistration.id.desc())
    )
    order = {R.SUBMITTED.value: 0, R.RETURNED.value: 1, R.CONFIRMED.value: 2, R.ENDED.value: 3}
    return sorted(rows, key=lambda r: order.get(r.state, 9))
