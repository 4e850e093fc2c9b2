"""Emerging-sector coverage against both databases: carriers and organisations with their
permissions and refusals, figures per carrier/street/district, the gap task, snapshots and
the all-or-nothing import."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from domain.coverage import carriers, gaps, orgs
from domain.coverage.figures import (
    carrier_figures,
    coverage_by_carrier,
    coverage_by_district,
    coverage_by_street,
)
from domain.coverage.history import take_snapshots
from domain.coverage.importer import import_orgs
from domain.coverage.rules import make_credit_code
from domain.enums import TaskState
from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.models import Carrier, CoverageSnapshot, EmergingOrg, Event, Task, TaskAssignee
from tests.integration.conftest import World

TOWER_UNIT = "环球金融中心楼宇联合党委"


def code(n: int) -> str:
    return make_credit_code(f"91110105MA07{n:05d}")


async def as_user(world: World, username: str, fn: Any, *args: Any) -> Any:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        result = await fn(uow, actor, *args)
        await uow.commit()
        return result


async def build(world: World) -> dict[str, Any]:
    """新华街道: a tower with 4 organisations, a park with a zone (1 + 2); one outside."""
    street = await world.org_id("新华街道")
    joint = await world.unit(TOWER_UNIT)
    tower = await as_user(
        world, "secretary", carriers.create_carrier, street,
        {"kind": "carrier_tower", "name": "环球金融中心", "joint_unit_id": str(joint.id)},
    )  # fmt: skip
    park = await as_user(
        world, "secretary", carriers.create_carrier, street,
        {"kind": "carrier_park", "name": "新华文创园"},
    )  # fmt: skip
    zone = await as_user(
        world, "secretary", carriers.create_carrier, street,
        {"kind": "carrier_zone", "name": "文创园东区", "parent_id": str(park.id)},
    )  # fmt: skip
    rows = [
        # name, carrier, employees, members, mode, party org, instructor
        ("甲公司", tower, 100, 10, "cov_own", "甲公司党支部", ""),
        ("乙公司", tower, 30, 2, "cov_joint", "楼宇联合党委一支部", ""),
        ("丙公司", tower, 20, 4, "cov_none", "", ""),  # gap and 应建未建
        ("丁公司", tower, 10, 0, "cov_none", "", "王指导"),  # work-covered only
        ("戊公司", park, 50, 1, "cov_association", "商会党支部", ""),
        ("己公司", zone, 8, 0, "cov_none", "", ""),  # gap
        ("庚公司", zone, 40, 3, "cov_chain", "产业链党委", ""),  # 应建未建, covered
        ("辛公司", None, 5, 0, "cov_none", "", ""),  # gap outside any carrier
    ]
    made = {}
    for i, (name, carrier, employees, members, mode, party_org, inst) in enumerate(rows):
        made[name] = await as_user(
            world, "secretary", orgs.create_org, street,
            {"name": name, "credit_code": code(i), "carrier_id": str(carrier.id) if carrier else "",
             "employees": str(employees), "party_members": str(members), "coverage_mode": mode,
             "party_org_name": party_org, "instructor_name": inst},
        )  # fmt: skip
    return {"street": street, "tower": tower, "park": park, "zone": zone, "orgs": made}


async def test_carriers_crud_permissions_and_refusals(world: World) -> None:
    street = await world.org_id("新华街道")
    for username in ("liaison", "secretary2", "district"):
        with pytest.raises(PermissionDenied):
            await as_user(
                world, username, carriers.create_carrier, street,
                {"kind": "carrier_tower", "name": "某大厦"},
            )  # fmt: skip
    with pytest.raises(ValidationFailed) as bad:
        await as_user(
            world, "secretary", carriers.create_carrier, street,
            {"kind": "carrier_zone", "name": "", "joint_unit_id": "999999"},
        )  # fmt: skip
    assert bad.value.fields == {
        "name": "请填写载体名称（不超过 120 字）。",
        "parent_id": "园区片区须选择所属园区。",
        "joint_unit_id": "联合党组织须从本街道的在册单位中选择。",
    }
    other_unit = await world.unit("长安科技园联合党委")  # a unit of another street
    with pytest.raises(ValidationFailed) as bad:
        await as_user(
            world, "secretary", carriers.create_carrier, street,
            {"kind": "carrier_tower", "name": "X", "joint_unit_id": str(other_unit.id)},
        )  # fmt: skip
    assert "joint_unit_id" in bad.value.fields

    w = await build(world)
    park: Carrier = w["park"]
    with pytest.raises(ValidationFailed) as bad:
        await as_user(
            world, "secretary", carriers.create_carrier, street,
            {"kind": "carrier_market", "name": "新华文创园"},
        )  # fmt: skip
    assert bad.value.fields == {"name": "本街道已有同名载体。"}
    # Edits are version-checked; a stale form changes nothing.
    edited = await as_user(
        world, "secretary", carriers.update_carrier, park.id,
        {"kind": "carrier_park", "name": "新华文创产业园", "address": "新华路 9 号"}, park.version,
    )  # fmt: skip
    with pytest.raises(Conflict):
        await as_user(
            world, "secretary", carriers.update_carrier, park.id,
            {"kind": "carrier_park", "name": "旧名"}, park.version,
        )  # fmt: skip
    with pytest.raises(ValidationFailed) as bad:
        await as_user(
            world, "secretary", carriers.update_carrier, park.id,
            {"kind": "carrier_market", "name": "新华文创产业园"}, edited.version,
        )  # fmt: skip
    assert bad.value.fields == {"kind": "该园区下设有片区，不能改为其他类型。"}
    # A park with an active zone cannot be retired before the zone.
    with pytest.raises(ValidationFailed):
        await as_user(
            world, "secretary", carriers.set_carrier_active, park.id, False, edited.version
        )
    zone: Carrier = w["zone"]
    await as_user(world, "secretary", carriers.set_carrier_active, zone.id, False, zone.version)
    await as_user(world, "secretary", carriers.set_carrier_active, park.id, False, edited.version)
    assert [e.summary for e in await world.audit("carrier.deactivate")] == [
        "停用载体：文创园东区",
        "停用载体：新华文创产业园",
    ]
    assert await world.count(Event, Event.kind == "coverage.changed") >= 5
    # Liaisons of the street read, but do not write.
    liaison = await world.actor("liaison")
    async with world.uow(liaison) as uow:
        assert (await carriers.get_carrier(uow, liaison, park.id)).name == "新华文创产业园"
    other = await world.actor("secretary2")
    async with world.uow(other) as uow:
        with pytest.raises(PermissionDenied):
            await carriers.get_carrier(uow, other, park.id)


async def test_organisations_rules_and_conflict(world: World) -> None:
    w = await build(world)
    street = w["street"]
    base = {"name": "壬公司", "coverage_mode": "cov_none", "employees": "10"}
    with pytest.raises(ValidationFailed) as bad:
        await as_user(world, "secretary", orgs.create_org, street, {**base, "credit_code": code(0)})
    assert bad.value.fields == {"credit_code": "本街道已登记该统一社会信用代码的组织。"}
    with pytest.raises(ValidationFailed) as bad:
        await as_user(
            world, "secretary", orgs.create_org, street,
            {**base, "coverage_mode": "cov_joint", "party_members": "12"},
        )  # fmt: skip
    assert bad.value.fields == {
        "party_members": "党员人数不能多于从业人员。",
        "party_org_name": "单独建立或联合建立党组织的，请填写党组织名称。",
    }
    # The same code in another street is another organisation.
    changan = await world.org_id("长安街道")
    await as_user(world, "secretary2", orgs.create_org, changan, {**base, "credit_code": code(0)})
    with pytest.raises(PermissionDenied):
        await as_user(world, "liaison", orgs.create_org, street, base)

    org: EmergingOrg = w["orgs"]["丙公司"]
    raw = {**orgs.form_values(org), "instructor_name": "李指导"}
    updated = await as_user(world, "secretary", orgs.update_org, org.id, raw, org.version)
    assert updated.instructor_name == "李指导"
    with pytest.raises(Conflict):
        await as_user(world, "secretary", orgs.update_org, org.id, raw, org.version)
    await as_user(world, "secretary", orgs.set_org_active, org.id, False, updated.version)
    async with world.uow() as uow:
        f = (await coverage_by_street(uow, [street]))[street]
    assert f.organisations == 7  # the retired one no longer counts
    assert [e.summary for e in await world.audit("emerging_org.update", org.id)] == [
        "修改组织：丙公司"
    ]


async def test_figures_per_carrier_street_and_district(world: World) -> None:
    w = await build(world)
    street, changan = w["street"], await world.org_id("长安街道")
    await as_user(
        world, "secretary2", orgs.create_org, changan,
        {"name": "长安甲", "coverage_mode": "cov_own", "party_org_name": "支部",
         "employees": "9", "party_members": "3"},
    )  # fmt: skip
    async with world.uow() as uow:
        streets = await coverage_by_street(uow, [street, changan, street])
        per_carrier = await coverage_by_carrier(uow, street)
        district = await coverage_by_district(uow, [await world.org_id("和平区")])
        park_alone = await carrier_figures(uow, w["park"])
    xinhua = streets[street]
    # 8 organisations: 4 organisation-covered (甲乙戊庚), 5 work-covered (+丁), 3 gaps (丙己辛).
    assert (xinhua.organisations, xinhua.org_covered, xinhua.work_covered, xinhua.gaps) == (
        8, 4, 5, 3,
    )  # fmt: skip
    assert (xinhua.party_members, xinhua.with_members, xinhua.should_build) == (20, 5, 2)
    assert xinhua.org_rate == pytest.approx(0.5) and xinhua.work_rate == pytest.approx(5 / 8)
    tower = per_carrier[w["tower"].id]
    assert (tower.organisations, tower.org_covered, tower.work_covered, tower.gaps) == (4, 2, 3, 1)
    # The park counts its zone: 戊 + 己 + 庚.
    park = per_carrier[w["park"].id]
    assert (park.organisations, park.org_covered, park.work_covered, park.should_build) == (
        3, 2, 2, 1,
    )  # fmt: skip
    assert park == park_alone
    assert per_carrier[w["zone"].id].organisations == 2
    assert streets[changan].organisations == 1 and streets[changan].org_rate == 1.0
    d = next(iter(district.values()))
    assert (d.organisations, d.org_covered, d.work_covered) == (9, 5, 6)
    async with world.uow() as uow:
        empty = await coverage_by_street(uow, [await world.org_id("长安街道") + 1000])
    assert next(iter(empty.values())).org_rate is None


async def test_gap_task_through_the_handoff_flow(world: World) -> None:
    w = await build(world)
    gap: EmergingOrg = w["orgs"]["丙公司"]
    covered: EmergingOrg = w["orgs"]["甲公司"]
    joint = await world.unit(TOWER_UNIT)
    actor = await world.actor("secretary")
    async with world.uow(actor) as uow:
        form = await gaps.gap_task_form(uow, actor, gap.id)
    assert form.default_unit_id == joint.id  # the tower's joint committee
    assert form.title == "推动丙公司建立党组织"
    with pytest.raises(PermissionDenied):
        await as_user(world, "liaison", gaps.create_gap_task, gap.id,
                      {"lead_unit_id": str(joint.id), "version": str(gap.version)})  # fmt: skip
    with pytest.raises(ValidationFailed) as bad:
        await as_user(world, "secretary", gaps.create_gap_task, covered.id,
                      {"lead_unit_id": str(joint.id), "version": str(covered.version)})  # fmt: skip
    assert bad.value.message == "该组织已实现党的工作覆盖，无需交办补建任务。"
    task = await as_user(world, "secretary", gaps.create_gap_task, gap.id,
                         {"lead_unit_id": str(joint.id), "version": str(gap.version)})  # fmt: skip
    async with world.factory() as s:
        stored = await s.get(Task, task.id)
        lead = await s.scalar(select(TaskAssignee.unit_id).where(TaskAssignee.task_id == task.id))
        org = await s.get(EmergingOrg, gap.id)
    assert stored is not None and org is not None
    assert stored.state == TaskState.ASSIGNED.value and stored.title == "推动丙公司建立党组织"
    assert lead == joint.id and org.gap_task_id == task.id
    assert stored.deadline is not None  # the street's default limit applied
    # A second task while the first is open is refused.
    with pytest.raises(ValidationFailed) as bad:
        await as_user(world, "secretary", gaps.create_gap_task, gap.id,
                      {"lead_unit_id": str(joint.id), "version": str(org.version)})  # fmt: skip
    assert bad.value.message == "该组织已有未办结的补建任务，请勿重复交办。"
    async with world.uow() as uow:
        rows = await gaps.list_gaps(uow, w["street"])
        by_name = {r.org.name: r for r in rows}
        in_zone = await gaps.list_gaps(uow, w["street"], w["park"].id)
    assert set(by_name) == {"丙公司", "己公司", "庚公司", "辛公司"}
    assert by_name["丙公司"].task_open and by_name["丙公司"].gap and by_name["丙公司"].should_build
    assert by_name["庚公司"].should_build and not by_name["庚公司"].gap
    assert {r.org.name for r in in_zone} == {"己公司", "庚公司"}
    assert len(await world.audit("emerging_org.gap_task", gap.id)) == 1


async def test_snapshots_are_idempotent(world: World) -> None:
    w = await build(world)
    month = date(2026, 5, 17)
    async with world.uow() as uow:
        written = await take_snapshots(uow, month)
        await uow.commit()
    # Two streets and three carriers.
    assert written == 5
    await as_user(world, "secretary", orgs.set_org_active, w["orgs"]["甲公司"].id, False, 1)
    async with world.uow() as uow:
        again = await take_snapshots(uow, date(2026, 5, 1))
        await uow.commit()
    assert again == 0
    async with world.factory() as s:
        snaps = {
            r.scope: r
            for r in await s.scalars(
                select(CoverageSnapshot).where(CoverageSnapshot.street_id == w["street"])
            )
        }
    street = snaps["street"]
    assert street.month == date(2026, 5, 1)
    # The first run's figures stand, unchanged by the later retirement.
    assert (street.organisations, street.org_covered, street.work_covered) == (8, 4, 5)
    park = snaps[f"carrier:{w['park'].id}"]
    assert (park.organisations, park.org_covered) == (3, 2)
    async with world.uow() as uow:
        assert await take_snapshots(uow, date(2026, 6, 1)) == 5


HEAD = ["名称", "统一社会信用代码", "类别", "所在载体", "行业", "从业人员", "党员人数",
        "覆盖方式", "党组织名称", "党建指导员", "联系电话"]  # fmt: skip


async def test_import_all_or_nothing_then_update_by_code(world: World) -> None:
    w = await build(world)
    street = w["street"]
    actor = await world.actor("secretary")
    bad_rows = [
        ["新甲", code(50), "企业", "环球金融中心", "咨询", "10", "1", "未覆盖", "", "", ""],
        ["新乙", "123", "工厂", "不存在的大厦", "", "-3", "2", "单独建", "", "", ""],
        ["新丙", code(50), "企业", "", "", "5", "1", "", "", "", ""],
    ]
    async with world.uow(actor) as uow:
        result = await import_orgs(uow, actor, street, HEAD, bad_rows)
        await uow.commit()
    found = {(e.row, e.column): e.message for e in result.errors}
    assert found[(3, "统一社会信用代码")] == "统一社会信用代码应为18位数字或大写字母。"
    assert found[(3, "类别")] == "类别“工厂”无法识别，应为“企业”或“社会组织”。"
    assert found[(3, "所在载体")] == "本街道没有名为“不存在的大厦”的载体。"
    assert found[(3, "从业人员")] == "从业人员不能为负数。"
    assert found[(3, "覆盖方式")] == "覆盖方式“单独建”无法识别。"
    assert found[(4, "统一社会信用代码")] == "与第 2 行重复。"
    assert await world.count(EmergingOrg, EmergingOrg.name == "新甲") == 0

    with pytest.raises(PermissionDenied):
        liaison = await world.actor("liaison")
        async with world.uow(liaison) as uow:
            await import_orgs(uow, liaison, street, HEAD, bad_rows[:1])

    good = [
        ["新甲", code(50), "企业", "环球金融中心", "咨询", "10", "1", "未覆盖", "", "", ""],
        # 丙公司 (code 2) has since built its own branch; the instructor column is absent below.
        ["丙公司", code(2).lower(), "企业", "环球金融中心", "", "20", "4", "单独建立党组织",
         "丙公司党支部", "", ""],
    ]  # fmt: skip
    async with world.uow(actor) as uow:
        result = await import_orgs(uow, actor, street, HEAD, good)
        await uow.commit()
    assert result.errors == []
    assert [o.name for o in result.created] == ["新甲"] and [o.name for o in result.updated] == [
        "丙公司"
    ]
    async with world.factory() as s:
        bing = await s.get(EmergingOrg, w["orgs"]["丙公司"].id)
        new = await s.scalar(select(EmergingOrg).where(EmergingOrg.name == "新甲"))
    assert bing is not None and bing.coverage_mode == "cov_own" and bing.source == "manual"
    assert new is not None and new.source == "import" and new.carrier_id == w["tower"].id
    # A file without the instructor columns keeps the recorded instructor.
    ding = w["orgs"]["丁公司"]
    async with world.uow(actor) as uow:
        result = await import_orgs(
            uow, actor, street, ["名称", "统一社会信用代码", "从业人员"],
            [["丁公司", code(3), "12"]],
        )  # fmt: skip
        await uow.commit()
    assert result.errors == [] and len(result.updated) == 1
    async with world.factory() as s:
        stored = await s.get(EmergingOrg, ding.id)
    assert stored is not None and stored.instructor_name == "王指导" and stored.employees == 12
    entries = await world.audit("emerging_org.import")
    assert [e.summary for e in entries] == [
        "导入新兴领域组织：新增 1 个，更新 1 个",
        "导入新兴领域组织：新增 0 个，更新 1 个",
    ]


async def test_the_daily_job_keeps_one_snapshot_per_month(world: World) -> None:
    """Both runners call it daily: the first run of a month (Beijing time) writes that month's
    rows, later runs in the month write nothing; it is on both schedules."""
    from datetime import UTC, datetime

    from tasks.jobs import PERIODIC, snapshot_coverage
    from tasks.worker import WorkerSettings

    ctx = {"session_factory": world.factory}
    # 16:30 UTC on 31 July is already 1 August in Beijing.
    first = await snapshot_coverage(ctx, datetime(2026, 7, 31, 16, 30, tzinfo=UTC))
    again = await snapshot_coverage(ctx, datetime(2026, 8, 20, 2, 0, tzinfo=UTC))
    assert first > 0 and again == 0
    async with world.factory() as s:
        months = set(await s.scalars(select(CoverageSnapshot.month)))
    assert months == {date(2026, 8, 1)}
    assert PERIODIC["snapshot_coverage"][1] == 86400
    assert "cron:snapshot_coverage" in {c.name for c in WorkerSettings.cron_jobs}
