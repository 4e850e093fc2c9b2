"""Local rules per street: defaults, overrides, validation and who may change them."""

from __future__ import annotations

import pytest

from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import StreetSetting
from domain.services import street_settings as svc
from domain.services.street_settings import SPECS
from tests.integration.conftest import World

DEFAULTS = {s.key: s.default for s in SPECS}


def form(**overrides: object) -> dict[str, str]:
    values = {k: str(v) for k, v in DEFAULTS.items()}
    values.update({k: str(v) for k, v in overrides.items()})
    return values


async def effective(world: World, street: str) -> dict[str, int]:
    async with world.uow() as uow:
        return await svc.get_settings(uow, await world.org_id(street))


async def test_defaults_and_the_demo_override(world: World) -> None:
    assert await effective(world, "新华街道") == DEFAULTS
    assert await effective(world, "长安街道") == {**DEFAULTS, "meetings_per_year": 6}


async def test_secretary_overrides_persist_with_audit(world: World) -> None:
    secretary = await world.actor("secretary")
    xinhua = await world.org_id("新华街道")
    async with world.uow(secretary) as uow:
        saved = await svc.update_settings(
            uow, secretary, xinhua, form(notice_days=" 5 ", whistle_report_minutes=45)
        )
        await uow.commit()
    assert saved == {**DEFAULTS, "notice_days": 5, "whistle_report_minutes": 45}
    assert await effective(world, "新华街道") == saved
    assert await effective(world, "长安街道") == {**DEFAULTS, "meetings_per_year": 6}

    [entry] = await world.audit("street.settings", xinhua)
    assert entry.actor_name == "secretary"
    assert entry.object_type == "organization"
    assert entry.before == {"notice_days": 3, "whistle_report_minutes": 30}
    assert entry.after == {"notice_days": 5, "whistle_report_minutes": 45}

    # Saving again with a change back to a default overwrites the stored row.
    async with world.uow(secretary) as uow:
        await svc.update_settings(uow, secretary, xinhua, form(whistle_report_minutes=45))
        await uow.commit()
    assert await effective(world, "新华街道") == {**DEFAULTS, "whistle_report_minutes": 45}
    assert len(await world.audit("street.settings", xinhua)) == 2


async def test_saving_unchanged_values_writes_no_audit_entry(world: World) -> None:
    secretary2 = await world.actor("secretary2")
    changan = await world.org_id("长安街道")
    async with world.uow(secretary2) as uow:
        await svc.update_settings(uow, secretary2, changan, form(meetings_per_year=6))
        await uow.commit()
    assert await world.audit("street.settings") == []
    assert await effective(world, "长安街道") == {**DEFAULTS, "meetings_per_year": 6}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        pytest.param("meetings_per_year", "0", "须在 1–24 次/年之间。", id="below"),
        pytest.param("meetings_per_year", "25", "须在 1–24 次/年之间。", id="above"),
        pytest.param("quorum_percent", "-5", "须在 1–100 %之间。", id="negative"),
        pytest.param("notice_days", "三", "请填写整数（0–30）。", id="chinese"),
        pytest.param("notice_days", "2.5", "请填写整数（0–30）。", id="decimal"),
        pytest.param("notice_days", "", "请填写整数（0–30）。", id="empty"),
        pytest.param("notice_days", "²", "请填写整数（0–30）。", id="superscript"),
        pytest.param("notice_days", "9" * 5000, "须在 0–30 天之间。", id="5000-digits"),
    ],
)
async def test_out_of_range_values_are_refused(
    world: World, key: str, value: str, message: str
) -> None:
    admin = await world.actor("admin")
    xinhua = await world.org_id("新华街道")
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.update_settings(uow, admin, xinhua, form(activity_points=9, **{key: value}))
        await uow.commit()
    assert caught.value.fields == {key: message}
    # Nothing is saved, not even the valid values of the same form.
    assert await world.count(StreetSetting, StreetSetting.street_id == xinhua) == 0


async def test_a_missing_key_is_an_error(world: World) -> None:
    admin = await world.actor("admin")
    raw = form()
    del raw["topic_call_days"]
    async with world.uow(admin) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.update_settings(uow, admin, await world.org_id("新华街道"), raw)
    assert caught.value.fields == {"topic_call_days": "请填写整数（1–60）。"}


@pytest.mark.parametrize("username", ["secretary2", "supervisor", "district", "community"])
async def test_only_the_streets_secretary_or_an_admin_may_update(
    world: World, username: str
) -> None:
    actor = await world.actor(username)
    xinhua = await world.org_id("新华街道")
    async with world.uow(actor) as uow:
        with pytest.raises(PermissionDenied):
            await svc.update_settings(uow, actor, xinhua, form(meetings_per_year=12))
        await uow.commit()
    assert await effective(world, "新华街道") == DEFAULTS

    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        await svc.update_settings(uow, admin, xinhua, form(meetings_per_year=12))
        await uow.commit()
    assert (await effective(world, "新华街道"))["meetings_per_year"] == 12


async def test_reading_settings_follows_visibility(world: World) -> None:
    changan = await world.org_id("长安街道")
    for username in ("district", "secretary2", "liaison3", "admin"):
        actor = await world.actor(username)
        async with world.uow(actor) as uow:
            street, values = await svc.read_settings(uow, actor, changan)
        assert street.name == "长安街道"
        assert values["meetings_per_year"] == 6

    secretary = await world.actor("secretary")
    async with world.uow(secretary) as uow:
        with pytest.raises(PermissionDenied):
            await svc.read_settings(uow, secretary, changan)


async def test_only_streets_have_settings(world: World) -> None:
    admin = await world.actor("admin")
    for name in ("文化里社区", "和平区"):
        org = await world.org_id(name)
        async with world.uow(admin) as uow:
            with pytest.raises(NotFound):
                await svc.read_settings(uow, admin, org)
            with pytest.raises(NotFound):
                await svc.update_settings(uow, admin, org, form())
    async with world.uow(admin) as uow:
        with pytest.raises(NotFound):
            await svc.read_settings(uow, admin, 987654)


async def test_a_street_id_beyond_the_integer_range_is_not_found(world: World) -> None:
    admin = await world.actor("admin")
    async with world.uow(admin) as uow:
        with pytest.raises(NotFound):
            await svc.read_settings(uow, admin, 10**12)
        with pytest.raises(NotFound):
            await svc.update_settings(uow, admin, 10**12, form())
