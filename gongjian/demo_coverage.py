# ruff: noqa: E501
"""Demo emerging-sector coverage: 新华街道's business tower (环球金融中心) and market district,
长安街道's science park with two zones, twenty-odd enterprises and social organisations across
the coverage modes (gaps and 应建未建 among them), one gap task already handed out, and six
months of snapshots with coverage rising to today's figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.coverage import carriers, gaps, orgs
from domain.coverage.figures import coverage_by_carrier, coverage_by_street
from domain.coverage.history import STREET_SCOPE, add_months, carrier_scope, month_start
from domain.coverage.rules import make_credit_code
from domain.enums import CarrierKind
from domain.models import CoverageSnapshot, EmergingOrg, Organization, Unit
from domain.models.base import utcnow
from domain.tasks.calendar import local_date
from domain.uow import UnitOfWork
from gongjian.demo_tasks import _as

Factory = async_sessionmaker[AsyncSession]

# (name, carrier key, category, industry, employees, members, mode, party org, instructor)
XINHUA_ORGS = [
    (
        "滨江云启信息技术有限公司",
        "tower",
        "e",
        "软件和信息技术服务",
        180,
        9,
        "cov_own",
        "中共滨江云启信息技术有限公司支部委员会",
        "",
    ),
    (
        "华信律师事务所",
        "tower",
        "e",
        "法律服务",
        46,
        4,
        "cov_joint",
        "环球金融中心楼宇联合党委第一支部",
        "",
    ),
    (
        "瑞丰财富管理有限公司",
        "tower",
        "e",
        "金融服务",
        62,
        2,
        "cov_joint",
        "环球金融中心楼宇联合党委第一支部",
        "",
    ),
    ("佳美广告传媒有限公司", "tower", "e", "广告传媒", 35, 1, "cov_none", "", "孙立"),
    ("博远人力资源服务有限公司", "tower", "e", "人力资源服务", 28, 4, "cov_none", "", ""),
    ("嘉和会计师事务所", "tower", "e", "会计审计", 22, 0, "cov_none", "", ""),
    ("滨江青年创业者协会", "tower", "s", "社会团体", 8, 2, "cov_delegated", "文化里社区党委", ""),
    ("新华路商圈商会", "market", "s", "商会", 12, 3, "cov_own", "中共新华路商圈商会支部委员会", ""),
    (
        "老字号餐饮管理有限公司",
        "market",
        "e",
        "餐饮",
        90,
        2,
        "cov_association",
        "新华路商圈商会支部",
        "",
    ),
    ("鲜丰农贸市场经营管理有限公司", "market", "e", "市场管理", 40, 1, "cov_none", "", "马悦"),
    ("惠民便利店连锁有限公司", "market", "e", "零售", 55, 0, "cov_none", "", ""),
    ("和平区家政服务协会", None, "s", "家政服务", 15, 1, "cov_delegated", "春晖社区党委", ""),
]
CHANGAN_ORGS = [
    ("云帆网络科技有限公司", "zone_a", "e", "互联网", 320, 31, "cov_own",
     "中共云帆网络科技有限公司委员会", ""),
    ("星图数据科技有限公司", "zone_a", "e", "大数据", 75, 5, "cov_joint", "长安科技园联合党委软件园支部", ""),
    ("码上互动网络有限公司", "zone_a", "e", "互联网", 48, 6, "cov_none", "", ""),
    ("极光算法研究院", "zone_a", "s", "民办非企业", 20, 2, "cov_chain", "云帆网络科技有限公司党委", ""),
    ("精工智能装备有限公司", "zone_b", "e", "智能制造", 210, 12, "cov_own",
     "中共精工智能装备有限公司支部委员会", ""),
    ("恒达新材料有限公司", "zone_b", "e", "新材料", 130, 3, "cov_chain", "精工智能装备有限公司党支部", ""),
    ("长安科技园物业服务有限公司", "park", "e", "物业管理", 60, 2, "cov_joint", "长安科技园联合党委", ""),
    ("小微孵化器运营有限公司", "zone_b", "e", "科技服务", 18, 0, "cov_none", "", "吴倩"),
    ("南门电子商务有限公司", None, "e", "电子商务", 25, 1, "cov_none", "", ""),
]  # fmt: skip


async def _street(factory: Factory, name: str) -> int:
    async with factory() as s:
        found = await s.scalar(select(Organization.id).where(Organization.name == name))
    assert found is not None
    return found


async def _unit(factory: Factory, name: str) -> int:
    async with factory() as s:
        found = await s.scalar(select(Unit.id).where(Unit.name == name))
    assert found is not None
    return found


async def _add_orgs(
    factory: Factory,
    user: str,
    street: int,
    rows: list[tuple[str, str | None, str, str, int, int, str, str, str]],
    where: dict[str, int],
    prefix: str,
) -> None:
    for i, (name, key, cat, industry, employees, members, mode, party_org, inst) in enumerate(
        rows, start=1
    ):
        code = make_credit_code(f"{'91' if cat == 'e' else '52'}110105MA{prefix}{i:05d}")
        await _as(
            factory, user, orgs.create_org, street,
            {"name": name, "credit_code": code,
             "category": "org_enterprise" if cat == "e" else "org_social",
             "carrier_id": str(where[key]) if key else "", "industry": industry,
             "employees": str(employees), "party_members": str(members),
             "coverage_mode": mode, "party_org_name": party_org, "instructor_name": inst,
             "instructor_phone": "13900001111" if inst else ""},
        )  # fmt: skip


async def seed_demo_coverage(factory: Factory) -> None:
    xinhua = await _street(factory, "新华街道")
    changan = await _street(factory, "长安街道")
    tower = await _as(
        factory, "secretary", carriers.create_carrier, xinhua,
        {"kind": CarrierKind.TOWER.value, "name": "环球金融中心", "address": "新华路 1 号",
         "description": "甲级写字楼，入驻企业 60 余家，以金融、法律、咨询服务业为主。",
         "joint_unit_id": str(await _unit(factory, "环球金融中心楼宇联合党委"))},
    )  # fmt: skip
    market = await _as(
        factory, "secretary", carriers.create_carrier, xinhua,
        {"kind": CarrierKind.MARKET.value, "name": "新华路商圈", "address": "新华路 20–160 号",
         "description": "沿街商铺、农贸市场和餐饮集聚的传统商圈。"},
    )  # fmt: skip
    park = await _as(
        factory, "secretary2", carriers.create_carrier, changan,
        {"kind": CarrierKind.PARK.value, "name": "长安科技园", "address": "北辰路 200 号",
         "description": "软件信息和智能制造企业集聚的科技园区。",
         "joint_unit_id": str(await _unit(factory, "长安科技园联合党委"))},
    )  # fmt: skip
    zone_a = await _as(
        factory, "secretary2", carriers.create_carrier, changan,
        {"kind": CarrierKind.ZONE.value, "name": "长安科技园软件园片区", "parent_id": str(park.id),
         "address": "北辰路 200 号 A–C 座"},
    )  # fmt: skip
    zone_b = await _as(
        factory, "secretary2", carriers.create_carrier, changan,
        {"kind": CarrierKind.ZONE.value, "name": "长安科技园智能制造片区",
         "parent_id": str(park.id), "address": "北辰路 260 号"},
    )  # fmt: skip
    await _add_orgs(
        factory, "secretary", xinhua, XINHUA_ORGS, {"tower": tower.id, "market": market.id}, "05"
    )
    await _add_orgs(
        factory, "secretary2", changan, CHANGAN_ORGS,
        {"park": park.id, "zone_a": zone_a.id, "zone_b": zone_b.id}, "06",
    )  # fmt: skip

    # One gap already handed to the tower's joint committee.
    async with factory() as s:
        gap = await s.scalar(
            select(EmergingOrg).where(EmergingOrg.name == "博远人力资源服务有限公司")
        )
    assert gap is not None
    await _as(
        factory, "secretary", gaps.create_gap_task, gap.id,
        {"lead_unit_id": str(tower.joint_unit_id), "version": str(gap.version)},
    )  # fmt: skip
    await _seed_history(factory, [xinhua, changan])


async def _seed_history(factory: Factory, streets: list[int]) -> None:
    """Six monthly snapshots before this month, coverage rising towards today's figures."""
    this_month = month_start(local_date(utcnow()))
    async with UnitOfWork(factory) as uow:
        now = await coverage_by_street(uow, streets)
        scopes = [(sid, STREET_SCOPE, f) for sid, f in now.items()]
        for sid in streets:
            for cid, f in (await coverage_by_carrier(uow, sid)).items():
                scopes.append((sid, carrier_scope(cid), f))
        for back in range(6, 0, -1):
            month: date = add_months(this_month, -back)
            for sid, scope, f in scopes:
                # Fewer organisations registered, a smaller share covered, the further back.
                n = max(0, f.organisations - back // 2)
                org = min(n, round(n * max(0.0, (f.org_rate or 0) - 0.05 * back)))
                work = max(org, min(n, round(n * max(0.0, (f.work_rate or 0) - 0.04 * back))))
                uow.session.add(
                    CoverageSnapshot(
                        street_id=sid, scope=scope, month=month, organisations=n,
                        with_members=min(n, f.with_members), party_members=max(0, f.party_members - back),
                        org_covered=org, work_covered=work,
                    )
                )  # fmt: skip
        await uow.commit()
