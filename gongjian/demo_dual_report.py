"""Demo 双报到 in 新华街道, through the real services: more party members, 文化里社区's
service posts, member registrations (confirmed, pending, returned), the units' report-in
slips (the hospital confirmed, another pending) and some service hours on posts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.dual_report import members, posts, units
from domain.dual_report.common import beijing_today, this_year
from domain.enums import Role
from domain.models import Organization, RoleGrant, Unit, User
from domain.passwords import hash_password
from gongjian.demo import DEMO_PASSWORD
from gongjian.demo_tasks import _as

Factory = async_sessionmaker[AsyncSession]

# username → (display name, community)
MEMBERS = [
    ("member2", "李娜", "文化里社区"),
    ("member3", "王强", "文化里社区"),
    ("member4", "刘芳", "春晖社区"),
    ("member5", "孙伟", "文化里社区"),
    ("member6", "周敏", "春晖社区"),
]
POSTS = [
    ("政策宣讲岗", "在小区宣讲惠民政策、解读社区公告", 0),
    ("平安巡逻岗", "晚间小区巡逻，协助排查安全隐患", 5),
    ("环境整治岗", "楼道清理、垃圾分类督导", 0),
    ("关爱帮扶岗", "结对走访独居老人和困难家庭", 0),
]


def _member_form(community: int, employer: int | None, name: str, residence: str,
                 phone: str, skills: str) -> dict[str, str]:  # fmt: skip
    return {
        "community_id": str(community), "employer_unit_id": str(employer or ""),
        "employer_name": name, "residence": residence, "phone": phone, "skills": skills,
    }  # fmt: skip


async def seed_demo_dual_report(factory: Factory) -> None:
    async with factory() as s:
        orgs = {n: i for i, n in await s.execute(select(Organization.id, Organization.name))}
        unit_ids = {n: i for i, n in await s.execute(select(Unit.id, Unit.name))}
        password_hash = hash_password(DEMO_PASSWORD)
        for username, display, community in MEMBERS:
            user = User(username=username, display_name=display, password_hash=password_hash)
            s.add(user)
            await s.flush()
            s.add(
                RoleGrant(
                    user_id=user.id, role=Role.PARTY_MEMBER.value, organization_id=orgs[community]
                )
            )
        await s.commit()
    wenhua, chunhui = orgs["文化里社区"], orgs["春晖社区"]
    hospital = unit_ids["和平区人民医院"]

    made: dict[str, Any] = {}
    for name, description, capacity in POSTS:
        made[name] = await _as(
            factory, "community", posts.create_post, wenhua,
            {"name": name, "description": description, "capacity": str(capacity)},
        )  # fmt: skip

    # Unit slips: the hospital confirmed for 文化里社区; the building committee pending.
    year = str(this_year())
    slip = await _as(
        factory, "liaison", units.submit, hospital,
        {"community_id": str(wenhua), "year": year, "contact_name": "李红梅",
         "contact_phone": "010-68120011", "party_members": "236",
         "commitments": "每月第二个周六进社区义诊；开放门诊楼党员活动室",
         "service_wishes": "老年人健康讲座、急救培训"},
    )  # fmt: skip
    await _as(factory, "community", units.confirm, slip.id, slip.version)
    await _as(
        factory, "liaison2", units.submit, unit_ids["环球金融中心楼宇联合党委"],
        {"community_id": str(wenhua), "year": year, "contact_name": "孙立",
         "contact_phone": "010-68120055", "party_members": "312",
         "commitments": "楼宇会议室周末向社区开放；组织青年党员志愿服务",
         "service_wishes": "参与社区环境整治"},
    )  # fmt: skip

    # Members: 赵明 and 孙伟 confirmed with posts, 李娜 pending, 王强 returned, 刘芳 confirmed.
    zhao = await _as(
        factory, "member", members.submit,
        _member_form(wenhua, hospital, "", "文化里小区 3 号楼 2 单元", "13800010001",
                     "急救、健康咨询"),
        [str(made["平安巡逻岗"].id), str(made["关爱帮扶岗"].id)],
    )  # fmt: skip
    sun = await _as(
        factory, "member5", members.submit,
        _member_form(wenhua, unit_ids["滨江数智科技有限公司"], "", "文化里小区 6 号楼",
                     "13800010005", "网络、摄影"),
        [str(made["环境整治岗"].id)],
    )  # fmt: skip
    await _as(
        factory, "member2", members.submit,
        _member_form(wenhua, None, "滨江市第一律师事务所", "文化里小区 1 号楼", "13800010002",
                     "法律咨询"),
        [str(made["政策宣讲岗"].id)],
    )  # fmt: skip
    wang = await _as(
        factory, "member3", members.submit,
        _member_form(wenhua, unit_ids["中国建设银行和平支行"], "", "文化里", "13800010003", ""),
        [],
    )  # fmt: skip
    await _as(factory, "community", members.return_registration, wang.id, wang.version,
              "请补充楼栋和单元号")  # fmt: skip
    for reg in (zhao, sun):
        await _as(factory, "community", members.confirm, reg.id, None)
    await _as(
        factory, "member4", members.submit,
        _member_form(chunhui, unit_ids["滨江市实验小学"], "", "春晖苑 8 号楼", "13800010004",
                     "书法、课业辅导"),
        [],
    )  # fmt: skip
    await _as(factory, "admin", members.confirm, (await _reg_id(factory, "member4")), None)

    # Service hours on posts, the last weeks.
    today = beijing_today()
    zhao_id, sun_id = await _user_id(factory, "member"), await _user_id(factory, "member5")
    for post, user, days, hours, note in (
        ("平安巡逻岗", zhao_id, 40, "3", "国庆期间夜间巡逻"),
        ("关爱帮扶岗", zhao_id, 18, "2", "走访独居老人 3 户"),
        ("平安巡逻岗", zhao_id, 5, "2.5", "小区消防通道排查"),
        ("环境整治岗", sun_id, 9, "2", "楼道杂物清理"),
    ):
        await _as(
            factory, "community", posts.record_service, made[post].id,
            {"user_id": str(user), "day": (today - timedelta(days=days)).isoformat(),
             "hours": hours, "note": note},
        )  # fmt: skip


async def _user_id(factory: Factory, username: str) -> int:
    async with factory() as s:
        value = await s.scalar(select(User.id).where(User.username == username))
    assert value is not None
    return int(value)


async def _reg_id(factory: Factory, username: str) -> int:
    from domain.models.dual_report import MemberRegistration

    async with factory() as s:
        value = await s.scalar(
            select(MemberRegistration.id)
            .join(User, User.id == MemberRegistration.user_id)
            .where(User.username == username)
        )
    assert value is not None
    return int(value)
