"""Bulk import of units: every row checked, all or nothing, errors located by row and column."""

from __future__ import annotations

import csv
import io

import pytest

from adapters.tabular import read_table, write_xlsx
from domain.errors import PermissionDenied, ValidationFailed
from domain.models import Unit
from domain.services.unit_import import HEADERS, RowError, import_units, raise_if_failed
from tests.integration.conftest import World

FULL = list(HEADERS)  # 单位名称 单位类别 单位性质 所属街道 所属社区 地址 联系人 联系电话 党员人数


def row(
    name: str,
    kind: str = "驻区单位",
    unit_type: str = "非公企业",
    street: str = "新华街道",
    community: str = "春晖社区",
    address: str = "春晖路 100 号",
    contact: str = "林晨",
    phone: str = "010-68120100",
    members: str = "9",
) -> list[str]:
    return [name, kind, unit_type, street, community, address, contact, phone, members]


async def run_import(
    world: World, username: str, headers: list[str], rows: list[list[str]]
) -> tuple[list[RowError], list[int]]:
    """Import as the web layer does: commit only when there is no error."""
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        result = await import_units(uow, actor, headers, rows)
        assert result.rows_read == len(rows) or result.errors
        if not result.errors:
            await uow.commit()
        created = [u.id for u in result.created]
    return result.errors, created


async def test_valid_file_creates_every_unit_with_audit(world: World) -> None:
    before = await world.count(Unit)
    rows = [
        row("滨江云图科技有限公司"),
        row("区教育委员会", kind="department", unit_type="government", community=""),
        row("长安里社区卫生服务中心", "驻区单位", "事业单位", "长安街道", "南门社区", members=""),
    ]
    errors, created = await run_import(world, "admin", FULL, rows)
    assert errors == []
    assert len(created) == 3
    assert await world.count(Unit) == before + 3

    tech = await world.unit("滨江云图科技有限公司")
    assert (tech.kind, tech.unit_type) == ("stationed", "private_firm")
    assert tech.street_id == await world.org_id("新华街道")
    assert tech.community_id == await world.org_id("春晖社区")
    assert (tech.contact_name, tech.contact_phone, tech.party_members) == (
        "林晨",
        "010-68120100",
        9,
    )
    edu = await world.unit("区教育委员会")
    assert (edu.kind, edu.unit_type, edu.community_id) == ("department", "government", None)
    clinic = await world.unit("长安里社区卫生服务中心")
    assert clinic.street_id == await world.org_id("长安街道")
    assert clinic.party_members == 0

    entries = await world.audit("unit.import")
    assert sorted(int(e.object_id) for e in entries) == sorted(created)
    assert all(e.actor_name == "admin" and e.before is None and e.after for e in entries)


async def test_one_bad_row_means_nothing_is_created(world: World) -> None:
    before = await world.count(Unit)
    rows = [
        row("甲公司"),
        row("乙公司"),
        row("丙公司", unit_type="外资企业"),
        row("丁公司"),
    ]
    errors, created = await run_import(world, "admin", FULL, rows)
    assert errors == [RowError(4, "单位性质", "请选择单位性质。")]
    assert created == []
    assert await world.count(Unit) == before
    assert await world.audit("unit.import") == []


async def test_errors_name_row_and_column(world: World) -> None:
    rows = [
        row("", kind="工厂"),
        row("戊公司", street="幸福街道"),
        row("己公司", community="西苑社区"),  # a community of the other street
        row("庚公司", phone="电话", members="-1"),
        row("辛社区居委会", kind="社区", unit_type="社区居委会", community=""),
    ]
    errors, created = await run_import(world, "admin", FULL, rows)
    assert created == []
    assert errors == [
        RowError(2, "单位名称", "请填写单位名称。"),
        RowError(2, "单位类别", "请选择单位类别（驻区单位、职能部门、社区或街道办事处）。"),
        RowError(3, "所属街道", "街道“幸福街道”不存在或不在您的管理范围内。"),
        RowError(4, "所属社区", "社区“西苑社区”不属于所选街道。"),
        RowError(5, "联系电话", "联系电话格式不正确（只能包含数字、空格、+、-、括号）。"),
        RowError(5, "党员人数", "党员人数须为非负整数。"),
        RowError(6, "所属社区", "社区类单位须选择对应的社区。"),
    ]


async def test_duplicates_within_the_file(world: World) -> None:
    rows = [
        row("壬公司"),
        row("癸公司"),
        row(" 壬公司 "),
        row("壬公司", street="长安街道", community="北辰社区"),  # other street: allowed
    ]
    errors, created = await run_import(world, "admin", FULL, rows)
    assert errors == [RowError(4, "单位名称", "与第 2 行重复。")]
    assert created == []
    assert await world.count(Unit, Unit.name == "壬公司") == 0


async def test_duplicates_with_existing_units(world: World) -> None:
    rows = [
        row("子公司"),
        row("和平区人民医院", community="文化里社区"),  # already in 新华街道
        row("和平区人民医院", street="长安街道", community=""),  # not in 长安街道
    ]
    errors, created = await run_import(world, "admin", FULL, rows)
    assert errors == [RowError(3, "单位名称", "本街道已有同名单位。")]
    assert created == []


async def test_retired_units_still_hold_their_name(world: World) -> None:
    from domain.services.units import set_unit_active

    admin = await world.actor("admin")
    unit = await world.unit("华润万家长安店")
    async with world.uow(admin) as uow:
        await set_unit_active(uow, admin, unit.id, unit.version, False, "闭店")
        await uow.commit()
    errors, _ = await run_import(
        world, "admin", FULL, [row("华润万家长安店", street="长安街道", community="")]
    )
    assert errors == [RowError(2, "单位名称", "本街道已有同名单位。")]


async def test_missing_required_headers(world: World) -> None:
    headers = ["单位名称", "单位类别", "地址"]
    errors, created = await run_import(world, "admin", headers, [["甲", "驻区单位", "路"]])
    assert errors == [RowError(1, "表头", "缺少必需的列：单位性质、所属街道")]
    assert created == []


async def test_empty_file_body(world: World) -> None:
    errors, _ = await run_import(world, "admin", FULL, [])
    assert errors == [RowError(2, "", "文件中没有数据行。")]


async def test_too_many_rows_are_refused_before_any_check(world: World) -> None:
    from domain.services.unit_import import MAX_ROWS

    rows = [row(f"公司{i}") for i in range(MAX_ROWS + 1)]
    errors, created = await run_import(world, "admin", FULL, rows)
    assert errors == [RowError(1, "", f"一次最多导入 {MAX_ROWS} 行，请拆分文件。")]
    assert created == []


async def test_header_order_extra_columns_and_short_rows(world: World) -> None:
    headers = [" 所属街道 ", "备注", "单位性质", "单位名称", "单位类别"]
    rows = [
        ["新华街道", "随便写", "social_org", "丑协会", "stationed"],
        ["长安街道", "", "社会组织", "寅协会", "驻区单位"],
    ]
    errors, created = await run_import(world, "admin", headers, rows)
    assert errors == []
    assert len(created) == 2
    ugly = await world.unit("丑协会")
    assert (ugly.kind, ugly.unit_type, ugly.address) == ("stationed", "social_org", "")

    # A row shorter than the header is missing its last cells, not misaligned.
    errors, _ = await run_import(world, "admin", headers, [["新华街道", "", "social_org"]])
    assert [(e.row, e.column) for e in errors] == [(2, "单位名称"), (2, "单位类别")]


async def test_secretary_imports_only_into_own_street(world: World) -> None:
    rows = [row("卯公司"), row("辰公司", street="长安街道", community="北辰社区")]
    errors, created = await run_import(world, "secretary", FULL, rows)
    assert errors == [RowError(3, "所属街道", "街道“长安街道”不存在或不在您的管理范围内。")]
    assert created == []

    errors, created = await run_import(world, "secretary", FULL, [row("卯公司")])
    assert errors == []
    assert len(created) == 1
    [entry] = await world.audit("unit.import")
    assert entry.actor_name == "secretary"


@pytest.mark.parametrize("username", ["district", "liaison", "supervisor", "member"])
async def test_only_unit_managers_may_import(world: World, username: str) -> None:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        with pytest.raises(PermissionDenied):
            await import_units(uow, actor, FULL, [row("巳公司")])
    assert await world.count(Unit, Unit.name == "巳公司") == 0


def test_raise_if_failed_counts_errors() -> None:
    from domain.services.unit_import import ImportResult

    raise_if_failed(ImportResult())
    with pytest.raises(ValidationFailed) as caught:
        raise_if_failed(ImportResult(errors=[RowError(2, "单位名称", "x"), RowError(3, "", "y")]))
    assert "共有 2 处错误" in caught.value.message


async def test_spreadsheet_files_round_trip_through_the_reader(world: World) -> None:
    """An .xlsx and a GB18030 .csv (as Excel in China saves it) import the same way."""
    xlsx = write_xlsx(
        "单位",
        FULL,
        [
            ["午公司", "驻区单位", "非公企业", "新华街道", "东湖社区", "", "", "", 12],
        ],
    )
    headers, rows = read_table("units.xlsx", xlsx)
    errors, _ = await run_import(world, "admin", headers, rows)
    assert errors == []
    assert (await world.unit("午公司")).party_members == 12  # not "12.0"

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FULL)
    writer.writerow(
        ["未公司", "职能部门（条）", "党政机关", "长安街道", "", "长安路 2 号", "", "", ""]
    )
    headers, rows = read_table("units.csv", buf.getvalue().encode("gb18030"))
    errors, _ = await run_import(world, "admin", headers, rows)
    assert errors == []
    unit = await world.unit("未公司")
    assert (unit.kind, unit.address) == ("department", "长安路 2 号")
