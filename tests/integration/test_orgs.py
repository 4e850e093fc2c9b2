"""The organisation tree (市/区/街道/社区), edited by admins."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization
from domain.services import orgs as svc
from tests.integration.conftest import World


async def create_errors(world: World, raw: dict[str, str]) -> dict[str, str]:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_org(uow, admin, raw)
    return caught.value.fields


async def test_admin_adds_a_community_under_a_street(world: World) -> None:
    admin = await world.actor("admin")
    street = await world.org_id("长安街道")
    raw = {"name": " 东门社区 ", "level": "community", "parent_id": str(street), "code": "X-1"}
    async with world.uow(admin) as uow:
        org = await svc.create_org(uow, admin, raw)
        await uow.commit()
    assert await world.org_id("东门社区") == org.id
    [entry] = await world.audit("org.create", org.id)
    assert entry.after == {
        "name": "东门社区",
        "level": "community",
        "parent_id": street,
        "code": "X-1",
    }
    # The new community is at once a place units can belong to.
    secretary2 = await world.actor("secretary2")
    from domain.services.units import org_index_for

    async with world.uow(secretary2) as uow:
        index = await org_index_for(uow, secretary2)
    assert index.communities[org.id] == ("东门社区", street)


@pytest.mark.parametrize(
    "parent",
    [
        pytest.param("", id="none"),
        pytest.param("999999", id="unknown"),
        pytest.param("²", id="superscript"),
        pytest.param("99999999999", id="beyond-int32"),
    ],
)
async def test_a_community_needs_a_street_as_parent(world: World, parent: str) -> None:
    raw = {"name": "东门社区", "level": "community", "parent_id": parent}
    assert await create_errors(world, raw) == {"parent_id": "请选择上级街道。"}


async def test_parent_must_be_one_level_up(world: World) -> None:
    district = await world.org_id("和平区")
    raw = {"name": "东门社区", "level": "community", "parent_id": str(district)}
    assert await create_errors(world, raw) == {"parent_id": "请选择上级街道。"}
    raw = {"name": "滨海市", "level": "city", "parent_id": str(district)}
    assert await create_errors(world, raw) == {"parent_id": "市级组织没有上级。"}


async def test_bad_name_level_and_taken_code(world: World) -> None:
    assert await create_errors(world, {"name": "", "level": "village"}) == {
        "name": "请填写名称。",
        "level": "请选择层级。",
    }
    street = str(await world.org_id("新华街道"))
    raw = {"name": "东门社区", "level": "community", "parent_id": street, "code": "BJ-HP"}
    assert await create_errors(world, raw) == {"code": "编码已被其他组织使用。"}


async def test_update_with_stale_version_conflicts(world: World) -> None:
    admin = await world.actor("admin")
    org_id = await world.org_id("东湖社区")
    street = str(await world.org_id("新华街道"))
    raw = {"name": "东湖新村社区", "level": "community", "parent_id": street, "code": "BJ-HP-01-03"}
    async with world.uow(admin) as uow:
        await svc.update_org(uow, admin, org_id, 1, raw)
        await uow.commit()
    async with world.uow(admin) as uow:
        with pytest.raises(Conflict):
            await svc.update_org(uow, admin, org_id, 1, {**raw, "name": "又改了"})
    async with world.factory() as s:
        org = await s.get(Organization, org_id)
    assert org is not None and (org.name, org.version) == ("东湖新村社区", 2)

    # The level of an existing organisation is fixed.
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.update_org(uow, admin, org_id, 2, {**raw, "level": "street"})
    assert "level" in caught.value.fields


async def test_only_admins_edit_the_tree(world: World) -> None:
    district = await world.actor("district")
    async with world.uow(district) as uow:
        with pytest.raises(PermissionDenied):
            await svc.create_org(uow, district, {"name": "x", "level": "city"})
        with pytest.raises(PermissionDenied):
            await svc.update_org(uow, district, await world.org_id("和平区"), 1, {})


async def test_tree_order_is_depth_first(world: World) -> None:
    async with world.uow() as uow:
        rows = svc.tree_order(await svc.list_orgs(uow))
    assert len(rows) == 10
    depth_of = {org.name: depth for depth, org in rows}
    assert depth_of["滨江市"] == 0 and depth_of["和平区"] == 1
    assert depth_of["新华街道"] == 2 and depth_of["文化里社区"] == 3
    names = [org.name for _, org in rows]
    # Each community follows its own street.
    assert names.index("新华街道") < names.index("文化里社区") < names.index("长安街道")
    assert names.index("长安街道") < names.index("西苑社区")


async def test_an_org_id_beyond_the_integer_range_is_not_found(world: World) -> None:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        with pytest.raises(NotFound):
            await svc.update_org(uow, admin, 10**12, 1, {"name": "x", "level": "city"})
