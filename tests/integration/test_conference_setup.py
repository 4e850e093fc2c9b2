"""Creating conferences: a street's by its secretary (or an admin), a district's by an admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.conference.setup import create_conference
from domain.enums import OrgLevel, UnitKind
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import ConferenceMember, Organization, Unit
from domain.uow import UnitOfWork
from tests.integration.conftest import load_actor

Factory = async_sessionmaker[AsyncSession]


async def _org(factory: Factory, name: str) -> int:
    async with factory() as s:
        org_id = await s.scalar(select(Organization.id).where(Organization.name == name))
        assert org_id is not None
        return org_id


async def _create(factory: Factory, username: str, org_id: int) -> int:
    actor = await load_actor(factory, username)
    async with UnitOfWork(factory, actor) as uow:
        conference = await create_conference(uow, actor, org_id)
        await uow.commit()
        return conference.id


async def test_district_conference_by_an_admin_with_departments_and_street_offices(
    demo: Factory,
) -> None:
    district = await _org(demo, "和平区")
    with pytest.raises(PermissionDenied):
        await _create(demo, "secretary", district)
    with pytest.raises(PermissionDenied):
        await _create(demo, "district", district)  # the viewer reads, it does not convene
    conference_id = await _create(demo, "admin", district)
    async with demo() as s:
        kinds = set(
            await s.scalars(
                select(Unit.kind)
                .join(ConferenceMember, ConferenceMember.unit_id == Unit.id)
                .where(ConferenceMember.conference_id == conference_id)
            )
        )
    assert kinds == {UnitKind.DEPARTMENT.value, UnitKind.STREET_OFFICE.value}
    with pytest.raises(ValidationFailed):
        await _create(demo, "admin", district)


async def test_a_new_street_gets_its_conference_with_all_its_units(demo: Factory) -> None:
    district = await _org(demo, "和平区")
    async with demo() as s:
        street = Organization(name="试点街道", level=OrgLevel.STREET.value, parent_id=district)
        s.add(street)
        await s.flush()
        s.add(
            Unit(
                name="试点街道办事处",
                kind="street_office",
                unit_type="government",
                street_id=street.id,
            )
        )
        await s.commit()
        street_id = street.id
    with pytest.raises(PermissionDenied):
        await _create(demo, "secretary", street_id)  # 新华街道's secretary, not this street's
    with pytest.raises(PermissionDenied):
        await _create(demo, "liaison", street_id)
    conference_id = await _create(demo, "admin", street_id)
    async with demo() as s:
        members = list(
            await s.scalars(
                select(ConferenceMember.unit_id).where(
                    ConferenceMember.conference_id == conference_id
                )
            )
        )
    assert len(members) == 1
    with pytest.raises(NotFound):
        await _create(demo, "admin", await _org(demo, "文化里社区"))  # a community convenes none


async def test_district_conference_members_come_from_its_streets(demo: Factory) -> None:
    from domain.conference.landing import street_units
    from domain.conference.setup import set_member

    district = await _org(demo, "和平区")
    conference_id = await _create(demo, "admin", district)
    admin = await load_actor(demo, "admin")
    async with UnitOfWork(demo, admin) as uow:
        offered = await street_units(uow, None, district)
        hospital = next(u for u in offered if u.name == "和平区人民医院")
        member = await set_member(
            uow,
            admin,
            conference_id,
            {"unit_id": str(hospital.id), "role": "member", "duties": "健康服务"},
        )
        await uow.commit()
    assert member.duties == "健康服务"
    async with demo() as s:
        elsewhere = Organization(name="另一区", level=OrgLevel.DISTRICT.value)
        s.add(elsewhere)
        await s.flush()
        street = Organization(name="另一街道", level=OrgLevel.STREET.value, parent_id=elsewhere.id)
        s.add(street)
        await s.flush()
        outsider = Unit(name="外区单位", kind="stationed", unit_type="other", street_id=street.id)
        s.add(outsider)
        await s.commit()
        outsider_id = outsider.id
    with pytest.raises(ValidationFailed) as info:
        async with UnitOfWork(demo, admin) as uow:
            await set_member(
                uow, admin, conference_id, {"unit_id": str(outsider_id), "role": "member"}
            )
    assert "本区" in info.value.fields["unit_id"]
