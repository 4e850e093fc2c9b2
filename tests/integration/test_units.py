"""Units (成员单位): create, edit, retire, reactivate and list, against a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Role, UnitKind, UnitType
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization, RoleGrant, Unit
from domain.services import units as svc
from domain.services.units import UnitFilter
from domain.uow import UnitOfWork
from gongjian.demo import STREETS, UNITS
from tests.integration.conftest import World, load_actor

XINHUA, CHANGAN = "新华街道", "长安街道"


def demo_units_in(street: str) -> set[str]:
    names = {u[0] for u in UNITS if u[3] == street}
    return names | {f"{c}居委会" for c in STREETS[street]}


async def unit_form(world: World, **overrides: str) -> dict[str, str]:
    """A valid form for a stationed unit in 新华街道 / 文化里社区."""
    form = {
        "name": "滨江银行新华支行",
        "kind": UnitKind.STATIONED.value,
        "unit_type": UnitType.STATE_FIRM.value,
        "street_id": str(await world.org_id(XINHUA)),
        "community_id": str(await world.org_id("文化里社区")),
        "address": "新华路 99 号",
        "contact_name": "王丽",
        "contact_phone": "010-68129999",
        "party_members": "27",
    }
    form.update(overrides)
    return form


def edit_form(unit: Unit, **overrides: str) -> dict[str, str]:
    form = {
        "name": unit.name,
        "kind": unit.kind,
        "unit_type": unit.unit_type,
        "street_id": str(unit.street_id),
        "community_id": str(unit.community_id or ""),
        "address": unit.address,
        "contact_name": unit.contact_name,
        "contact_phone": unit.contact_phone,
        "party_members": str(unit.party_members),
    }
    form.update(overrides)
    return form


# --- create ---------------------------------------------------------------------------


async def test_secretary_creates_unit_with_audit_entry(world: World) -> None:
    secretary = await world.actor("secretary")
    form = await unit_form(world)
    async with world.uow(secretary, ip="10.0.0.8") as uow:
        unit = await svc.create_unit(uow, secretary, form)
        await uow.commit()

    stored = await world.unit("滨江银行新华支行")
    assert stored.id == unit.id
    assert stored.kind == "stationed" and stored.unit_type == "state_firm"
    assert stored.street_id == await world.org_id(XINHUA)
    assert stored.community_id == await world.org_id("文化里社区")
    assert stored.party_members == 27
    assert stored.active is True and stored.retired_at is None
    assert stored.version == 1

    [entry] = await world.audit("unit.create", unit.id)
    assert entry.actor_name == "secretary"
    assert entry.actor_id == secretary.user_id
    assert entry.object_type == "unit"
    assert entry.ip == "10.0.0.8"
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["name"] == "滨江银行新华支行"
    assert entry.after["street_id"] == stored.street_id
    assert entry.after["party_members"] == 27
    assert entry.after["active"] is True
    assert "滨江银行新华支行" in entry.summary


async def test_uncommitted_create_leaves_nothing(world: World) -> None:
    admin = await world.actor("admin")
    before = await world.count(Unit)
    audit_before = len(await world.audit("unit.create"))
    async with world.uow(admin) as uow:
        await svc.create_unit(uow, admin, await unit_form(world))
        # no commit: the unit of work rolls back, audit entry included
    assert await world.count(Unit) == before
    assert len(await world.audit("unit.create")) == audit_before


async def test_create_reports_each_bad_field_in_chinese(world: World) -> None:
    admin = await world.actor("admin")
    form = {
        "name": "   ",
        "kind": "factory",
        "unit_type": "",
        "street_id": "",
        "address": "路" * 201,
        "contact_name": "名" * 51,
        "contact_phone": "call me",
        "party_members": "-3",
    }
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_unit(uow, admin, form)
    assert caught.value.status == 400
    assert caught.value.message == "请修正标出的内容后再提交。"
    assert caught.value.fields == {
        "name": "请填写单位名称。",
        "kind": "请选择单位类别（驻区单位、职能部门、社区或街道办事处）。",
        "unit_type": "请选择单位性质。",
        "street_id": "请选择所属街道。",
        "address": "地址不能超过 200 个字。",
        "contact_name": "联系人不能超过 50 个字。",
        "contact_phone": "联系电话格式不正确（只能包含数字、空格、+、-、括号）。",
        "party_members": "党员人数须为非负整数。",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("name", "单" * 121, "单位名称不能超过 120 个字。", id="long-name"),
        pytest.param("party_members", "1000001", "党员人数过大。", id="members-too-many"),
        pytest.param("party_members", "9" * 5000, "党员人数过大。", id="members-5000-digits"),
        pytest.param("party_members", "十二", "党员人数须为非负整数。", id="members-chinese"),
        pytest.param("party_members", "²", "党员人数须为非负整数。", id="members-superscript"),
        pytest.param(
            "street_id", "999999", "街道“999999”不存在或不在您的管理范围内。", id="street-unknown"
        ),
        pytest.param(
            "street_id", "²", "街道“²”不存在或不在您的管理范围内。", id="street-superscript"
        ),
        pytest.param(
            "street_id",
            "9" * 5000,
            f"街道“{'9' * 5000}”不存在或不在您的管理范围内。",
            id="street-5000-digits",
        ),
        pytest.param("community_id", "²", "社区“²”不属于所选街道。", id="community-superscript"),
        pytest.param(
            "community_id", "999999", "社区“999999”不属于所选街道。", id="community-unknown"
        ),
    ],
)
async def test_create_rejects_one_bad_field(
    world: World, field: str, value: str, message: str
) -> None:
    admin = await world.actor("admin")
    before = await world.count(Unit)
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_unit(uow, admin, await unit_form(world, **{field: value}))
    assert caught.value.fields == {field: message}
    assert await world.count(Unit) == before


async def test_community_unit_needs_its_community(world: World) -> None:
    admin = await world.actor("admin")
    form = await unit_form(
        world,
        kind="community",
        unit_type="residents_committee",
        community_id="",
    )
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_unit(uow, admin, form)
    assert caught.value.fields == {"community_id": "社区类单位须选择对应的社区。"}


async def test_chinese_labels_are_accepted_for_kind_and_type(world: World) -> None:
    admin = await world.actor("admin")
    form = await unit_form(world, kind="职能部门（条）", unit_type="党政机关", community_id="")
    async with world.uow(admin) as uow:
        unit = await svc.create_unit(uow, admin, form)
        await uow.commit()
    stored = await world.unit_by_id(unit.id)
    assert (stored.kind, stored.unit_type) == ("department", "government")


async def test_unit_names_are_unique_per_street(world: World) -> None:
    admin = await world.actor("admin")
    taken = "和平区人民医院"  # a demo unit of 新华街道
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_unit(uow, admin, await unit_form(world, name=f"  {taken} "))
    assert caught.value.fields == {"name": "本街道已有同名单位。"}

    # The same name is fine in another street.
    changan = str(await world.org_id(CHANGAN))
    form = await unit_form(world, name=taken, street_id=changan, community_id="")
    async with world.uow(admin) as uow:
        unit = await svc.create_unit(uow, admin, form)
        await uow.commit()
    assert await world.count(Unit, Unit.name == taken) == 2
    assert (await world.unit_by_id(unit.id)).street_id == int(changan)


async def test_community_must_belong_to_the_street(world: World) -> None:
    admin = await world.actor("admin")
    xiyuan = await world.org_id("西苑社区")  # a community of 长安街道
    form = await unit_form(world, community_id=str(xiyuan))
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_unit(uow, admin, form)
    assert caught.value.fields == {"community_id": f"社区“{xiyuan}”不属于所选街道。"}

    # A street id is not a community either.
    form = await unit_form(world, community_id=str(await world.org_id(CHANGAN)))
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_unit(uow, admin, form)
    assert set(caught.value.fields) == {"community_id"}


# --- update ---------------------------------------------------------------------------


async def test_update_changes_fields_bumps_version_and_audits(world: World) -> None:
    secretary = await world.actor("secretary")
    unit = await world.unit("滨江市实验小学")
    form = edit_form(unit, contact_name="周新", party_members="45", community_id="")
    async with world.uow(secretary) as uow:
        await svc.update_unit(uow, secretary, unit.id, unit.version, form)
        await uow.commit()

    stored = await world.unit_by_id(unit.id)
    assert stored.contact_name == "周新"
    assert stored.party_members == 45
    assert stored.community_id is None
    assert stored.version == unit.version + 1

    [entry] = await world.audit("unit.update", unit.id)
    assert entry.before is not None and entry.after is not None
    assert entry.before["contact_name"] == "周建国"
    assert entry.after["contact_name"] == "周新"
    assert entry.before["party_members"] == 41
    assert entry.after["party_members"] == 45
    assert entry.before["community_id"] == unit.community_id
    assert entry.after["community_id"] is None


async def test_update_with_stale_version_conflicts_and_changes_nothing(world: World) -> None:
    admin = await world.actor("admin")
    unit = await world.unit("滨江日报社")
    async with world.uow(admin) as uow:
        await svc.update_unit(uow, admin, unit.id, 1, edit_form(unit, contact_name="甲"))
        await uow.commit()

    # A second editor still holds the form rendered from version 1.
    async with world.uow(admin) as uow:
        with pytest.raises(Conflict) as caught:
            await svc.update_unit(uow, admin, unit.id, 1, edit_form(unit, contact_name="乙"))
        await uow.commit()
    assert caught.value.status == 409
    assert "已被其他人修改" in caught.value.message

    stored = await world.unit_by_id(unit.id)
    assert stored.contact_name == "甲"
    assert stored.version == 2
    assert len(await world.audit("unit.update", unit.id)) == 1


async def test_concurrent_update_is_caught_by_the_database_version_check(world: World) -> None:
    """Both editors loaded version 1; the slower one is refused when it writes."""
    admin = await world.actor("admin")
    secretary = await world.actor("secretary")
    unit = await world.unit("和平区青年志愿者协会")

    async with world.uow(admin) as slow:
        await svc.get_unit(slow, admin, unit.id)  # loaded at version 1, kept in the session
        async with world.uow(secretary) as fast:
            await svc.update_unit(fast, secretary, unit.id, 1, edit_form(unit, address="快"))
            await fast.commit()
        with pytest.raises(Conflict):
            await svc.update_unit(slow, admin, unit.id, 1, edit_form(unit, address="慢"))

    stored = await world.unit_by_id(unit.id)
    assert stored.address == "快"
    assert stored.version == 2
    assert [e.actor_name for e in await world.audit("unit.update", unit.id)] == ["secretary"]


async def test_update_cannot_take_another_units_name(world: World) -> None:
    admin = await world.actor("admin")
    unit = await world.unit("滨江市实验小学")
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.update_unit(
                uow, admin, unit.id, unit.version, edit_form(unit, name="新华派出所")
            )
    assert caught.value.fields == {"name": "本街道已有同名单位。"}

    # Keeping its own name is not a clash.
    async with world.uow(admin) as uow:
        await svc.update_unit(uow, admin, unit.id, unit.version, edit_form(unit))
        await uow.commit()


async def test_update_of_missing_unit_is_not_found(world: World) -> None:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        with pytest.raises(NotFound):
            await svc.update_unit(uow, admin, 987654, 1, {})


# --- retire / reactivate ----------------------------------------------------------------


async def test_retire_requires_a_reason(world: World) -> None:
    secretary = await world.actor("secretary")
    unit = await world.unit("滨江数智科技有限公司")
    async with world.uow(secretary) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.set_unit_active(uow, secretary, unit.id, unit.version, False, "   ")
    assert caught.value.fields == {"reason": "请填写撤销原因。"}
    stored = await world.unit_by_id(unit.id)
    assert stored.active is True and stored.version == unit.version


async def test_retire_keeps_the_row_and_reactivate_restores_it(world: World) -> None:
    secretary = await world.actor("secretary")
    unit = await world.unit("滨江数智科技有限公司")
    total = await world.count(Unit)

    async with world.uow(secretary) as uow:
        await svc.set_unit_active(uow, secretary, unit.id, 1, False, " 企业迁出本街道 ")
        await uow.commit()
    retired = await world.unit_by_id(unit.id)
    assert await world.count(Unit) == total  # never deleted
    assert retired.active is False
    assert retired.retired_at is not None
    assert retired.retired_reason == "企业迁出本街道"
    assert retired.version == 2
    [entry] = await world.audit("unit.retire", unit.id)
    assert entry.before is not None and entry.after is not None
    assert (entry.before["active"], entry.after["active"]) == (True, False)
    assert "企业迁出本街道" in entry.summary

    # Retired units leave the default list but stay findable.
    async with world.uow(secretary) as uow:
        active, _ = await svc.list_units(uow, secretary, UnitFilter(q="数智"))
        retired_list, _ = await svc.list_units(
            uow, secretary, UnitFilter(q="数智", status="retired")
        )
        everything, _ = await svc.list_units(uow, secretary, UnitFilter(q="数智", status="all"))
        assert (await svc.get_unit(uow, secretary, unit.id)).active is False
    assert active == []
    assert [u.id for u in retired_list] == [unit.id]
    assert [u.id for u in everything] == [unit.id]

    # Retiring with the old version again is a conflict.
    async with world.uow(secretary) as uow:
        with pytest.raises(Conflict):
            await svc.set_unit_active(uow, secretary, unit.id, 1, False, "再次撤销")

    async with world.uow(secretary) as uow:
        await svc.set_unit_active(uow, secretary, unit.id, 2, True)
        await uow.commit()
    back = await world.unit_by_id(unit.id)
    assert back.active is True
    assert back.retired_at is None
    assert back.retired_reason == ""
    assert back.version == 3
    [entry] = await world.audit("unit.reactivate", unit.id)
    assert entry.after is not None and entry.after["active"] is True


# --- who may manage units ---------------------------------------------------------------


async def test_secretary_cannot_create_units_in_another_street(world: World) -> None:
    """The other street is outside the secretary's scope: refused on the street field."""
    secretary = await world.actor("secretary")
    changan = await world.org_id(CHANGAN)
    before = await world.count(Unit)
    form = await unit_form(world, street_id=str(changan), community_id="")
    async with world.uow(secretary) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_unit(uow, secretary, form)
        await uow.commit()
    assert caught.value.fields == {"street_id": f"街道“{changan}”不存在或不在您的管理范围内。"}
    assert await world.count(Unit) == before


async def test_secretary_cannot_edit_or_retire_units_of_another_street(world: World) -> None:
    secretary = await world.actor("secretary")
    unit = await world.unit("滨江日报社")  # 长安街道
    async with world.uow(secretary) as uow:
        # Outside their streets the unit is not even visible.
        with pytest.raises(NotFound):
            await svc.get_unit(uow, secretary, unit.id)
        with pytest.raises(NotFound):
            await svc.update_unit(uow, secretary, unit.id, 1, edit_form(unit, address="x"))
        with pytest.raises(NotFound):
            await svc.set_unit_active(uow, secretary, unit.id, 1, False, "越权")
    # Nor can a secretary move one of their units into another street.
    own = await world.unit("和平区人民医院")
    changan = str(await world.org_id(CHANGAN))
    async with world.uow(secretary) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.update_unit(
                uow, secretary, own.id, 1, edit_form(own, street_id=changan, community_id="")
            )
    assert set(caught.value.fields) == {"street_id"}
    assert (await world.unit_by_id(unit.id)).address == "南门大街 66 号"
    assert (await world.unit_by_id(own.id)).street_id == await world.org_id(XINHUA)


async def test_secretary_who_only_supervises_another_street_is_denied_there(world: World) -> None:
    """Seeing a street (as its supervisor) does not mean managing its units."""
    changan = await world.org_id(CHANGAN)
    secretary_id = (await world.user("secretary")).id
    async with world.factory() as s:
        s.add(RoleGrant(user_id=secretary_id, role=Role.SUPERVISOR.value, organization_id=changan))
        await s.commit()
    secretary = await world.actor("secretary")
    assert changan in secretary.visible_street_ids

    unit = await world.unit("滨江日报社")
    async with world.uow(secretary) as uow:
        assert (await svc.get_unit(uow, secretary, unit.id)).id == unit.id
        with pytest.raises(PermissionDenied) as caught:
            await svc.update_unit(uow, secretary, unit.id, 1, edit_form(unit, address="x"))
        assert caught.value.status == 403
        with pytest.raises(PermissionDenied):
            await svc.set_unit_active(uow, secretary, unit.id, 1, False, "越权")
    stored = await world.unit_by_id(unit.id)
    assert (stored.address, stored.active, stored.version) == ("南门大街 66 号", True, 1)


@pytest.mark.parametrize("username", ["district", "liaison", "dept", "supervisor", "community"])
async def test_non_managers_cannot_create_edit_or_retire_units(world: World, username: str) -> None:
    actor = await world.actor(username)
    unit = await world.unit("和平区人民医院")  # liaison's own unit, in everybody's street
    before = await world.count(Unit)
    async with world.uow(actor) as uow:
        with pytest.raises(PermissionDenied):
            await svc.create_unit(uow, actor, await unit_form(world))
        with pytest.raises(PermissionDenied):
            await svc.update_unit(uow, actor, unit.id, 1, edit_form(unit, contact_name="x"))
        with pytest.raises(PermissionDenied):
            await svc.set_unit_active(uow, actor, unit.id, 1, False, "越权")
        await uow.commit()
    assert await world.count(Unit) == before
    stored = await world.unit_by_id(unit.id)
    assert (stored.contact_name, stored.active, stored.version) == ("李红梅", True, 1)
    assert await world.audit("unit.update") == []


# --- listing ----------------------------------------------------------------------------


async def test_secretary_lists_only_own_street(world: World) -> None:
    secretary = await world.actor("secretary")
    xinhua = await world.org_id(XINHUA)
    async with world.uow(secretary) as uow:
        units, total = await svc.list_units(uow, secretary, UnitFilter())
    assert {u.name for u in units} == demo_units_in(XINHUA)
    assert total == len(demo_units_in(XINHUA))
    assert {u.street_id for u in units} == {xinhua}
    # Street and community come loaded for the template.
    assert all(u.street.name == XINHUA for u in units)

    # Asking for the other street gives nothing rather than its units.
    changan = await world.org_id(CHANGAN)
    async with world.uow(secretary) as uow:
        units, total = await svc.list_units(uow, secretary, UnitFilter(street_id=changan))
    assert (units, total) == ([], 0)


@pytest.mark.parametrize(
    ("username", "streets"),
    [
        ("district", {XINHUA, CHANGAN}),
        ("admin", {XINHUA, CHANGAN}),
        ("secretary2", {CHANGAN}),
        ("liaison", {XINHUA}),
        ("liaison3", {CHANGAN}),
        ("community", {XINHUA}),
    ],
)
async def test_visibility_of_the_directory(world: World, username: str, streets: set[str]) -> None:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        units, total = await svc.list_units(uow, actor, UnitFilter())
    expected = set().union(*(demo_units_in(s) for s in streets))
    assert {u.name for u in units} == expected
    assert total == len(expected)


async def test_district_viewer_filters_by_street_kind_type_and_text(world: World) -> None:
    district = await world.actor("district")
    changan = await world.org_id(CHANGAN)
    async with world.uow(district) as uow:
        by_street, n_street = await svc.list_units(uow, district, UnitFilter(street_id=changan))
        depts, _ = await svc.list_units(uow, district, UnitFilter(kind="department"))
        firms, _ = await svc.list_units(uow, district, UnitFilter(unit_type="private_firm"))
        police, _ = await svc.list_units(uow, district, UnitFilter(q=" 派出所 "))
        combined, _ = await svc.list_units(
            uow, district, UnitFilter(street_id=changan, kind="department")
        )
        wildcard, _ = await svc.list_units(uow, district, UnitFilter(q="%"))
    assert {u.name for u in by_street} == demo_units_in(CHANGAN)
    assert n_street == len(demo_units_in(CHANGAN))
    assert {u.name for u in depts} == {u[0] for u in UNITS if u[1] is UnitKind.DEPARTMENT}
    assert {u.name for u in firms} == {"滨江数智科技有限公司", "云帆网络科技有限公司"}
    assert {u.name for u in police} == {"新华派出所", "长安派出所"}
    assert {u.name for u in combined} == {
        "区生态环境局",
        "长安派出所",
        "区城管执法局长安街道执法队",
    }
    assert wildcard == []  # '%' is a character to find, not a wildcard


async def test_list_pages_keep_the_total(world: World) -> None:
    district = await world.actor("district")
    async with world.uow(district) as uow:
        everything, total = await svc.list_units(uow, district, UnitFilter())
        first, total1 = await svc.list_units(uow, district, UnitFilter(), limit=10)
        second, total2 = await svc.list_units(uow, district, UnitFilter(), limit=10, offset=10)
    assert total == total1 == total2 == len(everything) == 30
    assert [u.id for u in first + second] == [u.id for u in everything[:20]]


async def test_org_index_for_follows_the_actor(world: World) -> None:
    secretary = await world.actor("secretary")
    district = await world.actor("district")
    async with world.uow(secretary) as uow:
        manage = await svc.org_index_for(uow, secretary)
    async with world.uow(district) as uow:
        manage_district = await svc.org_index_for(uow, district)
        view_district = await svc.org_index_for(uow, district, manage=False)
    assert set(manage.streets.values()) == {XINHUA}
    assert {name for name, _ in manage.communities.values()} == set(STREETS[XINHUA])
    assert manage_district.streets == {}
    assert set(view_district.streets.values()) == {XINHUA, CHANGAN}
    assert {name for name, _ in view_district.communities.values()} == {
        c for cs in STREETS.values() for c in cs
    }


async def test_an_id_beyond_the_integer_range_is_not_found(world: World) -> None:
    """URLs carry any number; PostgreSQL would refuse the query rather than find nothing."""
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        for unit_id in (2**31, 10**12, 0, -1):
            with pytest.raises(NotFound):
                await svc.get_unit(uow, admin, unit_id)
            with pytest.raises(NotFound):
                await svc.update_unit(uow, admin, unit_id, 1, {})


async def test_party_members_do_not_read_the_directory(world: World) -> None:
    """The directory is for people who act for an organisation (checked in the service too)."""
    member = await world.actor("member")
    unit = await world.unit("和平区人民医院")  # in the member's street
    async with world.uow(member) as uow:
        with pytest.raises(PermissionDenied):
            await svc.list_units(uow, member, UnitFilter())
        with pytest.raises(PermissionDenied):
            await svc.get_unit(uow, member, unit.id)


async def test_same_name_registered_concurrently_is_refused_by_the_database(
    demo: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both friendly checks pass before either commits; the unique index refuses the second."""
    secretary = await load_actor(demo, "secretary")
    async with demo() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
    raw = {
        "name": "并发登记单位",
        "kind": "stationed",
        "unit_type": "private_firm",
        "street_id": str(street),
    }
    async with UnitOfWork(demo, secretary) as first, UnitOfWork(demo, secretary) as second:
        await svc.create_unit(first, secretary, raw)
        await first.commit()

        async def checked_before_the_other_commit(*args: object, **kw: object) -> None:
            return None

        monkeypatch.setattr(svc, "_ensure_unique_name", checked_before_the_other_commit)
        with pytest.raises(ValidationFailed) as info:
            await svc.create_unit(second, secretary, raw)
        assert info.value.fields == {"name": "本街道已有同名单位。"}
