"""User accounts and role grants (admin only), against a real database."""

from __future__ import annotations

import pytest

from domain.enums import Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import RoleGrant, User
from domain.passwords import verify_password
from domain.services import auth
from domain.services import users as svc
from gongjian.demo import DEMO_PASSWORD, USERS
from tests.integration.conftest import World

GOOD_PASSWORD = "Gongjian-2026"


def new_user_form(**overrides: str) -> dict[str, str]:
    form = {
        "username": "wang.fang",
        "display_name": " 王芳 ",
        "phone": "138 0000 1111",
        "password": GOOD_PASSWORD,
    }
    form.update(overrides)
    return form


async def create(world: World, **overrides: str) -> User:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        user = await svc.create_user(uow, admin, new_user_form(**overrides))
        await uow.commit()
    return user


async def grant(world: World, username: str, **raw: str) -> RoleGrant:
    admin = await world.actor("admin")
    user = await world.user(username)
    async with world.uow(admin) as uow:
        g = await svc.grant_role(uow, admin, user.id, raw)
        await uow.commit()
    return g


async def grant_errors(world: World, username: str, **raw: str) -> dict[str, str]:
    admin = await world.actor("admin")
    user = await world.user(username)
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.grant_role(uow, admin, user.id, raw)
    return caught.value.fields


# --- accounts ---------------------------------------------------------------------------


async def test_admin_creates_a_user_with_hashed_password_and_audit(world: World) -> None:
    user = await create(world)
    stored = await world.user("wang.fang")
    assert stored.id == user.id
    assert stored.display_name == "王芳"
    assert stored.phone == "138 0000 1111"
    assert stored.active is True
    assert stored.grants == []
    assert GOOD_PASSWORD not in stored.password_hash
    assert stored.password_hash.startswith("$argon2id$")
    assert verify_password(stored.password_hash, GOOD_PASSWORD)

    [entry] = await world.audit("user.create", user.id)
    assert entry.actor_name == "admin"
    assert entry.after == {
        "username": "wang.fang",
        "display_name": "王芳",
        "phone": "138 0000 1111",
        "active": True,
    }

    # The new account can log in (and has no roles yet).
    async with world.uow() as uow:
        session = await auth.login(uow, "wang.fang", GOOD_PASSWORD, "10.1.1.1")
    async with world.uow() as uow:
        actor = await auth.actor_for_token(uow, session.token)
    assert actor is not None and actor.grants == ()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        pytest.param("a1b2c3", "密码至少 8 位。", id="short"),
        pytest.param("12345678", "密码须同时包含字母和数字（或符号）。", id="digits"),
        pytest.param("abcdefgh", "密码须同时包含字母和数字（或符号）。", id="letters"),
        pytest.param("Wang.Fang1", None, id="acceptable"),
        pytest.param("WANG.FANG", "密码不能与用户名相同。", id="same-as-username"),
    ],
)
async def test_password_rules(world: World, password: str, message: str | None) -> None:
    admin = await world.actor("admin")
    form = new_user_form(password=password)
    async with world.uow(admin) as uow:
        if message is None:
            await svc.create_user(uow, admin, form)
            return
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_user(uow, admin, form)
    assert caught.value.fields == {"password": message}


async def test_create_user_reports_every_bad_field(world: World) -> None:
    admin = await world.actor("admin")
    before = await world.count(User)
    form = {"username": "王", "display_name": "", "phone": "abc", "password": ""}
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_user(uow, admin, form)
    assert caught.value.fields == {
        "display_name": "请填写姓名。",
        "phone": "电话格式不正确。",
        "username": "用户名为 3–50 位字母、数字、下划线、点或短横线。",
        "password": "密码至少 8 位。",
    }
    assert await world.count(User) == before


async def test_duplicate_username_is_refused(world: World) -> None:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.create_user(uow, admin, new_user_form(username="secretary"))
    assert caught.value.fields == {"username": "用户名已被使用。"}
    assert await world.count(User, User.username == "secretary") == 1


@pytest.mark.parametrize("username", ["secretary", "district", "liaison"])
async def test_only_admins_manage_users(world: World, username: str) -> None:
    actor = await world.actor(username)
    target = await world.user("member")
    async with world.uow(actor) as uow:
        with pytest.raises(PermissionDenied):
            await svc.create_user(uow, actor, new_user_form())
        with pytest.raises(PermissionDenied):
            await svc.list_users(uow, actor)
        with pytest.raises(PermissionDenied):
            await svc.grant_role(uow, actor, target.id, {"role": "platform_admin"})
        with pytest.raises(PermissionDenied):
            await svc.reset_password(uow, actor, target.id, GOOD_PASSWORD)
    assert await world.count(RoleGrant, RoleGrant.user_id == target.id) == 1


async def test_list_users_searches_username_and_name(world: World) -> None:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        everyone = await svc.list_users(uow, admin)
        liaisons = await svc.list_users(uow, admin, "liaison")
        by_name = await svc.list_users(uow, admin, "张秀兰")
        none = await svc.list_users(uow, admin, "_")
    assert len(everyone) == len(USERS)  # every demo user (12 since the city viewer)
    assert [u.username for u in everyone] == sorted(u.username for u in everyone)
    assert [u.username for u in liaisons] == ["liaison", "liaison2", "liaison3"]
    assert [u.username for u in by_name] == ["secretary"]
    assert none == []  # '_' is literal, not a LIKE wildcard
    # Grants come loaded with their scope, for the template.
    secretary = next(u for u in everyone if u.username == "secretary")
    assert secretary.grants[0].organization is not None
    assert secretary.grants[0].organization.name == "新华街道"


async def test_update_profile_with_stale_version_conflicts(world: World) -> None:
    admin = await world.actor("admin")
    member = await world.user("member")
    form = {"display_name": "赵明明", "phone": "", "active": "on"}
    async with world.uow(admin) as uow:
        await svc.update_user(uow, admin, member.id, member.version, form)
        await uow.commit()
    async with world.uow(admin) as uow:
        with pytest.raises(Conflict):
            await svc.update_user(uow, admin, member.id, member.version, {**form, "phone": "1"})
    stored = await world.user("member")
    assert (stored.display_name, stored.phone, stored.version) == ("赵明明", "", 2)
    [entry] = await world.audit("user.update", member.id)
    assert entry.before is not None and entry.after is not None
    assert (entry.before["display_name"], entry.after["display_name"]) == ("赵明", "赵明明")


# --- role grants ------------------------------------------------------------------------


async def test_grant_street_secretary_needs_a_street(world: World) -> None:
    await create(world)
    community = await world.org_id("文化里社区")
    assert await grant_errors(world, "wang.fang", role="street_secretary") == {
        "organization_id": "街道书记（召集人）须指定一个街道。"
    }
    assert await grant_errors(
        world, "wang.fang", role="street_secretary", organization_id=str(community)
    ) == {"organization_id": "街道书记（召集人）须指定一个街道。"}
    assert await grant_errors(
        world, "wang.fang", role="street_secretary", organization_id="999999"
    ) == {"organization_id": "街道书记（召集人）须指定一个街道。"}

    changan = await world.org_id("长安街道")
    g = await grant(world, "wang.fang", role="street_secretary", organization_id=str(changan))
    assert (g.role, g.organization_id, g.unit_id) == ("street_secretary", changan, None)

    actor = await world.actor("wang.fang")
    assert actor.streets_with(Role.STREET_SECRETARY) == {changan}
    assert actor.visible_street_ids == {changan}
    [entry] = await world.audit("user.grant_role")
    assert entry.after == {"role": "street_secretary", "organization_id": changan, "unit_id": None}


@pytest.mark.parametrize(
    "bad_id",
    [pytest.param("²", id="superscript"), pytest.param("99999999999", id="beyond-int32")],
)
async def test_grant_with_an_impossible_id_is_a_validation_error(world: World, bad_id: str) -> None:
    await create(world)
    assert await grant_errors(
        world, "wang.fang", role="street_secretary", organization_id=bad_id
    ) == {"organization_id": "街道书记（召集人）须指定一个街道。"}
    assert await grant_errors(world, "wang.fang", role="unit_liaison", unit_id=bad_id) == {
        "unit_id": "单位联络员须指定一个在册单位。"
    }


async def test_dept_liaison_only_on_a_department_unit(world: World) -> None:
    await create(world)
    hospital = await world.unit("和平区人民医院")  # stationed unit
    police = await world.unit("新华派出所")  # department (条)
    assert await grant_errors(
        world, "wang.fang", role="dept_liaison", unit_id=str(hospital.id)
    ) == {"unit_id": "部门联络员只能属于职能部门（条）。"}
    assert await grant_errors(world, "wang.fang", role="dept_liaison") == {
        "unit_id": "部门联络员须指定一个在册单位。"
    }
    g = await grant(world, "wang.fang", role="dept_liaison", unit_id=str(police.id))
    assert (g.unit_id, g.organization_id) == (police.id, None)
    actor = await world.actor("wang.fang")
    assert actor.unit_ids_with(Role.DEPT_LIAISON) == {police.id}
    assert actor.visible_street_ids == {police.street_id}

    # A unit liaison may act for any kind of unit.
    g = await grant(world, "wang.fang", role="unit_liaison", unit_id=str(hospital.id))
    assert g.unit_id == hospital.id


async def test_no_grant_on_a_retired_unit(world: World) -> None:
    from domain.services.units import set_unit_active

    admin = await world.actor("admin")
    await create(world)
    unit = await world.unit("华润万家长安店")
    async with world.uow(admin) as uow:
        await set_unit_active(uow, admin, unit.id, unit.version, False, "闭店")
        await uow.commit()
    assert await grant_errors(world, "wang.fang", role="unit_liaison", unit_id=str(unit.id)) == {
        "unit_id": "单位联络员须指定一个在册单位。"
    }


async def test_grant_rejects_unknown_role_and_duplicates(world: World) -> None:
    await create(world)
    assert await grant_errors(world, "wang.fang", role="king") == {"role": "请选择角色。"}
    assert await grant_errors(world, "wang.fang") == {"role": "请选择角色。"}

    district = await world.org_id("和平区")
    await grant(world, "wang.fang", role="district_viewer", organization_id=str(district))
    assert await grant_errors(
        world, "wang.fang", role="district_viewer", organization_id=str(district)
    ) == {"role": "该用户已有此角色。"}
    wang = await world.user("wang.fang")
    assert await world.count(RoleGrant, RoleGrant.user_id == wang.id) == 1
    actor = await world.actor("wang.fang")
    assert actor.visible_street_ids == {
        await world.org_id("新华街道"),
        await world.org_id("长安街道"),
    }


async def test_party_member_registers_with_a_community(world: World) -> None:
    await create(world)
    street = await world.org_id("长安街道")
    community = await world.org_id("南门社区")
    assert await grant_errors(
        world, "wang.fang", role="party_member", organization_id=str(street)
    ) == {"organization_id": "在职党员须指定一个社区。"}
    await grant(world, "wang.fang", role="party_member", organization_id=str(community))
    actor = await world.actor("wang.fang")
    assert actor.org_ids_with(Role.PARTY_MEMBER) == {community}
    assert actor.visible_street_ids == {street}  # the community's street


async def test_revoke_role_removes_the_grant_with_audit(world: World) -> None:
    admin = await world.actor("admin")
    secretary = await world.user("secretary")
    [g] = secretary.grants
    async with world.uow(admin) as uow:
        await svc.revoke_role(uow, admin, secretary.id, g.id)
        await uow.commit()
    assert await world.count(RoleGrant, RoleGrant.id == g.id) == 0
    actor = await world.actor("secretary")
    assert actor.grants == () and actor.visible_street_ids == frozenset()
    [entry] = await world.audit("user.revoke_role", secretary.id)
    assert entry.before == {
        "role": "street_secretary",
        "organization_id": g.organization_id,
        "unit_id": None,
    }
    assert entry.after is None

    # Revoking again, or a grant of another user, is not found.
    liaison = await world.user("liaison")
    async with world.uow(admin) as uow:
        with pytest.raises(NotFound):
            await svc.revoke_role(uow, admin, secretary.id, g.id)
        with pytest.raises(NotFound):
            await svc.revoke_role(uow, admin, secretary.id, liaison.grants[0].id)
        with pytest.raises(NotFound):
            await svc.revoke_role(uow, admin, 987654, g.id)


async def test_admin_cannot_revoke_own_admin_role(world: World) -> None:
    admin = await world.actor("admin")
    me = await world.user("admin")
    [g] = me.grants
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.revoke_role(uow, admin, me.id, g.id)
        await uow.commit()
    assert caught.value.message == "不能撤销自己的管理员角色。"
    assert (await world.actor("admin")).is_admin

    # Another admin may.
    await create(world)
    await grant(world, "wang.fang", role="platform_admin")
    other = await world.actor("wang.fang")
    assert other.is_admin
    async with world.uow(other) as uow:
        await svc.revoke_role(uow, other, me.id, g.id)
        await uow.commit()
    assert not (await world.actor("admin")).is_admin


# --- sessions end when access changes ---------------------------------------------------


async def login(world: World, username: str, password: str = DEMO_PASSWORD) -> str:
    async with world.uow() as uow:
        return (await auth.login(uow, username, password, "10.2.2.2")).token


async def resolves(world: World, token: str) -> bool:
    async with world.uow() as uow:
        return await auth.actor_for_token(uow, token) is not None


async def test_deactivating_a_user_ends_their_sessions(world: World) -> None:
    admin = await world.actor("admin")
    first = await login(world, "liaison")
    second = await login(world, "liaison")
    other = await login(world, "liaison2")
    assert await resolves(world, first) and await resolves(world, second)

    liaison = await world.user("liaison")
    form = {"display_name": liaison.display_name, "phone": ""}  # "active" unticked
    async with world.uow(admin) as uow:
        await svc.update_user(uow, admin, liaison.id, liaison.version, form)
        await uow.commit()

    assert (await world.user("liaison")).active is False
    assert not await resolves(world, first)
    assert not await resolves(world, second)
    assert all(s.revoked_at is not None for s in await world.sessions_of("liaison"))
    assert await resolves(world, other)
    async with world.uow() as uow:
        with pytest.raises(ValidationFailed) as caught:
            await auth.login(uow, "liaison", DEMO_PASSWORD, "10.2.2.2")
    assert caught.value.message == "该账号已停用，请联系管理员。"


async def test_admin_cannot_deactivate_self(world: World) -> None:
    admin = await world.actor("admin")
    me = await world.user("admin")
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.update_user(uow, admin, me.id, me.version, {"display_name": "管理员"})
    assert caught.value.fields == {"active": "不能停用自己的账号。"}
    assert (await world.user("admin")).active is True


async def test_reset_password_ends_sessions_and_sets_the_new_password(world: World) -> None:
    admin = await world.actor("admin")
    token = await login(world, "community")
    user = await world.user("community")

    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.reset_password(uow, admin, user.id, "short1")
    assert caught.value.fields == {"password": "密码至少 8 位。"}
    assert await resolves(world, token)

    async with world.uow(admin) as uow:
        await svc.reset_password(uow, admin, user.id, GOOD_PASSWORD)
        await uow.commit()
    assert not await resolves(world, token)
    stored = await world.user("community")
    assert stored.password_changed_at > user.password_changed_at
    assert len(await world.audit("user.reset_password", user.id)) == 1

    async with world.uow() as uow:
        with pytest.raises(ValidationFailed):
            await auth.login(uow, "community", DEMO_PASSWORD, "10.3.3.3")
    assert await resolves(world, await login(world, "community", GOOD_PASSWORD))


async def test_a_user_id_beyond_the_integer_range_is_not_found(world: World) -> None:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        with pytest.raises(NotFound):
            await svc.get_user(uow, admin, 10**12)
        with pytest.raises(NotFound):
            await svc.reset_password(uow, admin, 10**12, GOOD_PASSWORD)
