"""Setting up a conference: members and their duties, secretariat, rotation, committees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from domain.conference.access import ConferenceAccess, conference_access, conference_for_street
from domain.enums import MemberRole, OrgLevel, Role, UnitKind
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import (
    Conference,
    ConferenceMember,
    Organization,
    Rotation,
    SecretariatMember,
    SpecialCommittee,
    Unit,
    User,
)
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.topics import street_topic
from domain.uow import UnitOfWork


async def create_conference(uow: UnitOfWork, actor: Actor, org_id: int) -> Conference:
    """Open a street's conference (its secretary) or a district's (an admin).

    A street's starts with every active unit of the street as a member; a district's with
    the departments (条) and street offices of its streets. Both are edited afterwards.
    """
    org = await uow.session.get(Organization, org_id)
    if org is None or org.level not in (OrgLevel.STREET, OrgLevel.DISTRICT):
        raise NotFound("街道或区不存在。")
    if org.level == OrgLevel.STREET:
        if not (actor.is_admin or org_id in actor.streets_with(Role.STREET_SECRETARY)):
            raise PermissionDenied("只有街道书记可以建立本街道的党建联席会议。")
    elif not actor.is_admin:
        raise PermissionDenied("区级党建联席会议由平台管理员建立。")
    if await conference_for_street(uow, org_id) is not None:
        raise ValidationFailed({}, f"{org.name}的党建联席会议已经建立。")
    convener = actor.user_id if org_id in actor.streets_with(Role.STREET_SECRETARY) else None
    conference = Conference(
        organization_id=org_id, name=f"{org.name}党建联席会议", convener_id=convener
    )
    uow.session.add(conference)
    await uow.flush()
    if org.level == OrgLevel.STREET:
        units_stmt = select(Unit).where(Unit.street_id == org_id, Unit.active.is_(True))
    else:
        streets = select(Organization.id).where(Organization.parent_id == org_id)
        units_stmt = select(Unit).where(
            Unit.street_id.in_(streets),
            Unit.active.is_(True),
            Unit.kind.in_([UnitKind.DEPARTMENT.value, UnitKind.STREET_OFFICE.value]),
        )
    for unit in await uow.session.scalars(units_stmt):
        uow.session.add(ConferenceMember(conference_id=conference.id, unit_id=unit.id))
    uow.audit("conference.create", "conference", conference.id, f"建立 {conference.name}")
    if org.level == OrgLevel.STREET:
        uow.publish(street_topic(org_id), "conference.changed", conference_id=conference.id)
    return conference


@dataclass
class ConferenceOverview:
    access: ConferenceAccess
    members: list[ConferenceMember] = field(default_factory=list)
    secretariat: list[SecretariatMember] = field(default_factory=list)
    rotations: list[Rotation] = field(default_factory=list)
    committees: list[SpecialCommittee] = field(default_factory=list)
    convener: User | None = None

    @property
    def voting_members(self) -> list[ConferenceMember]:
        return [m for m in self.members if m.active and m.role == MemberRole.MEMBER]


async def overview(uow: UnitOfWork, actor: Actor, conference_id: int) -> ConferenceOverview:
    access = await conference_access(uow, actor, conference_id)
    access.require_read()
    s = uow.session
    result = ConferenceOverview(access=access)
    result.members = list(
        await s.scalars(
            select(ConferenceMember)
            .where(ConferenceMember.conference_id == conference_id)
            .options(joinedload(ConferenceMember.unit))
            .join(Unit, Unit.id == ConferenceMember.unit_id)
            .order_by(ConferenceMember.role, Unit.kind, Unit.name)
        )
    )
    result.secretariat = list(
        await s.scalars(
            select(SecretariatMember)
            .where(SecretariatMember.conference_id == conference_id)
            .options(joinedload(SecretariatMember.user))
        )
    )
    result.rotations = list(
        await s.scalars(
            select(Rotation)
            .where(Rotation.conference_id == conference_id)
            .options(joinedload(Rotation.unit))
            .order_by(Rotation.year.desc())
        )
    )
    result.committees = list(
        await s.scalars(
            select(SpecialCommittee).where(SpecialCommittee.conference_id == conference_id)
        )
    )
    if access.conference.convener_id:
        result.convener = await s.get(User, access.conference.convener_id)
    return result


async def set_member(
    uow: UnitOfWork, actor: Actor, conference_id: int, raw: Mapping[str, str]
) -> ConferenceMember:
    """Add a unit, or change its role (member/observer), duties or active flag."""
    access = await conference_access(uow, actor, conference_id)
    access.require_manage()
    errors: dict[str, str] = {}
    unit_id = parse_id(raw.get("unit_id", ""))
    unit = await uow.session.get(Unit, unit_id) if unit_id else None
    if unit is None or not unit.active:
        errors["unit_id"] = "请选择在册单位。"
    elif access.street_id is not None and unit.street_id != access.street_id:
        errors["unit_id"] = "只能添加本街道的单位。"
    elif access.street_id is None:
        street = await uow.session.get(Organization, unit.street_id)
        if street is None or street.parent_id != access.conference.organization_id:
            errors["unit_id"] = "只能添加本区各街道的单位。"
    try:
        role = MemberRole(raw.get("role", "member"))
    except ValueError:
        errors["role"] = "请选择成员单位或列席单位。"
        role = MemberRole.MEMBER
    duties = raw.get("duties", "").strip()
    if len(duties) > 500:
        errors["duties"] = "职责不能超过 500 个字。"
    if errors or unit is None:
        raise ValidationFailed(errors)
    member = await uow.session.scalar(
        select(ConferenceMember).where(
            ConferenceMember.conference_id == conference_id, ConferenceMember.unit_id == unit.id
        )
    )
    active = raw.get("active", "on") in {"on", "1", "true"}
    if member is None:
        member = ConferenceMember(conference_id=conference_id, unit_id=unit.id)
        uow.session.add(member)
    before = {"role": member.role, "duties": member.duties, "active": member.active}
    member.role, member.duties, member.active = role.value, duties, active
    await uow.flush()
    uow.audit(
        "conference.member",
        "conference",
        conference_id,
        f"设置成员单位 {unit.name}",
        before,
        {"role": role.value, "duties": duties, "active": active},
    )
    _changed(uow, access)
    return member


async def set_secretariat(
    uow: UnitOfWork, actor: Actor, conference_id: int, username: str, add: bool
) -> None:
    access = await conference_access(uow, actor, conference_id)
    access.require_manage()
    user = await uow.session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        raise ValidationFailed({"username": "没有这个用户，或该账号已停用。"})
    existing = await uow.session.scalar(
        select(SecretariatMember).where(
            SecretariatMember.conference_id == conference_id, SecretariatMember.user_id == user.id
        )
    )
    if add and existing is None:
        uow.session.add(SecretariatMember(conference_id=conference_id, user_id=user.id))
        uow.audit(
            "conference.secretariat_add",
            "conference",
            conference_id,
            f"秘书处增加 {user.display_name}",
        )
    elif not add and existing is not None:
        await uow.session.delete(existing)
        uow.audit(
            "conference.secretariat_remove",
            "conference",
            conference_id,
            f"秘书处移除 {user.display_name}",
        )
    _changed(uow, access)


async def set_rotation(
    uow: UnitOfWork, actor: Actor, conference_id: int, raw: Mapping[str, str]
) -> Rotation:
    access = await conference_access(uow, actor, conference_id)
    access.require_manage()
    errors: dict[str, str] = {}
    year_raw = raw.get("year", "").strip()
    year = int(year_raw) if year_raw.isdecimal() and len(year_raw) == 4 else None
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = "请填写四位年份。"
    unit_id = parse_id(raw.get("unit_id", ""))
    member = await uow.session.scalar(
        select(ConferenceMember).where(
            ConferenceMember.conference_id == conference_id,
            ConferenceMember.unit_id == (unit_id or 0),
            ConferenceMember.active,
        )
    )
    if member is None:
        errors["unit_id"] = "轮值单位须是本会议的成员单位。"
    if errors or year is None or unit_id is None:
        raise ValidationFailed(errors)
    rotation = await uow.session.scalar(
        select(Rotation).where(Rotation.conference_id == conference_id, Rotation.year == year)
    )
    if rotation is None:
        rotation = Rotation(conference_id=conference_id, year=year, unit_id=unit_id)
        uow.session.add(rotation)
    else:
        rotation.unit_id = unit_id
    await uow.flush()
    uow.audit(
        "conference.rotation",
        "conference",
        conference_id,
        f"{year} 年轮值单位",
        None,
        {"unit_id": unit_id},
    )
    _changed(uow, access)
    return rotation


async def add_committee(
    uow: UnitOfWork, actor: Actor, conference_id: int, raw: Mapping[str, str], unit_ids: list[str]
) -> SpecialCommittee:
    access = await conference_access(uow, actor, conference_id)
    access.require_manage()
    name = raw.get("name", "").strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 100:
        errors["name"] = "请填写专委会名称（不超过 100 字）。"
    ids = sorted({i for i in (parse_id(u) for u in unit_ids) if i is not None})
    members = set(
        await uow.session.scalars(
            select(ConferenceMember.unit_id).where(
                ConferenceMember.conference_id == conference_id, ConferenceMember.active
            )
        )
    )
    if any(i not in members for i in ids):
        errors["unit_ids"] = "专委会的单位须是本会议的成员单位。"
    if errors:
        raise ValidationFailed(errors)
    committee = SpecialCommittee(
        conference_id=conference_id,
        name=name,
        remit=raw.get("remit", "").strip()[:500],
        unit_ids=",".join(str(i) for i in ids),
    )
    uow.session.add(committee)
    await uow.flush()
    uow.audit("conference.committee", "conference", conference_id, f"设立专委会 {name}")
    _changed(uow, access)
    return committee


def _changed(uow: UnitOfWork, access: ConferenceAccess) -> None:
    if access.street_id is not None:
        uow.publish(
            street_topic(access.street_id), "conference.changed", conference_id=access.conference.id
        )
