"""Demo data: one district, two streets, six communities, real-looking units and a user per role.

Loaded by `make run` when the database is empty, or by `gongjian seed-demo`.
The password below is for the demo only; `create-admin` asks for a real one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import MemberRole, OrgLevel, Role, UnitKind, UnitType
from domain.models import (
    AgendaItem,
    Attendance,
    Conference,
    ConferenceMember,
    Decision,
    MeetingSession,
    MinutesSignature,
    Organization,
    RoleGrant,
    Rotation,
    SecretariatMember,
    StreetSetting,
    Unit,
    User,
    Vote,
)
from domain.models.base import utcnow
from domain.passwords import hash_password
from domain.uow import UnitOfWork

DEMO_PASSWORD = "gongjian-demo"

STREETS = {
    "新华街道": ["文化里社区", "春晖社区", "东湖社区"],
    "长安街道": ["西苑社区", "南门社区", "北辰社区"],
}

S, D, OFFICE = UnitKind.STATIONED, UnitKind.DEPARTMENT, UnitKind.STREET_OFFICE
T = UnitType
# (name, kind, type, street, community, address, contact, phone, party members)
UNITS: list[tuple[str, UnitKind, UnitType, str, str | None, str, str, str, int]] = [
    (
        "和平区人民医院",
        S,
        T.PUBLIC_INSTITUTION,
        "新华街道",
        "文化里社区",
        "新华路 18 号",
        "李红梅",
        "010-68120011",
        236,
    ),
    (
        "滨江市实验小学",
        S,
        T.PUBLIC_INSTITUTION,
        "新华街道",
        "春晖社区",
        "春晖路 3 号",
        "周建国",
        "010-68120022",
        41,
    ),
    (
        "国网滨江供电公司和平分公司",
        S,
        T.STATE_FIRM,
        "新华街道",
        "东湖社区",
        "东湖大道 88 号",
        "赵志强",
        "010-68120033",
        158,
    ),
    (
        "滨江数智科技有限公司",
        S,
        T.PRIVATE_FIRM,
        "新华街道",
        "文化里社区",
        "文化里 6 号楼 12 层",
        "陈晓雯",
        "010-68120044",
        23,
    ),
    (
        "环球金融中心楼宇联合党委",
        S,
        T.JOINT_COMMITTEE,
        "新华街道",
        "文化里社区",
        "新华路 1 号环球金融中心",
        "孙立",
        "010-68120055",
        312,
    ),
    (
        "和平区青年志愿者协会",
        S,
        T.SOCIAL_ORG,
        "新华街道",
        "春晖社区",
        "春晖路 27 号",
        "马悦",
        "010-68120066",
        12,
    ),
    (
        "中国建设银行和平支行",
        S,
        T.STATE_FIRM,
        "新华街道",
        "东湖社区",
        "东湖大道 120 号",
        "刘洋",
        "010-68120077",
        64,
    ),
    (
        "和平区人民武装部",
        S,
        T.MILITARY,
        "新华街道",
        None,
        "新华路 56 号",
        "高峰",
        "010-68120088",
        35,
    ),
    (
        "滨江大学附属中学",
        S,
        T.PUBLIC_INSTITUTION,
        "长安街道",
        "西苑社区",
        "西苑路 9 号",
        "郑芳",
        "010-68130011",
        78,
    ),
    (
        "滨江日报社",
        S,
        T.PUBLIC_INSTITUTION,
        "长安街道",
        "南门社区",
        "南门大街 66 号",
        "黄磊",
        "010-68130022",
        120,
    ),
    (
        "长安科技园联合党委",
        S,
        T.JOINT_COMMITTEE,
        "长安街道",
        "北辰社区",
        "北辰路 200 号科技园",
        "吴倩",
        "010-68130033",
        189,
    ),
    (
        "华润万家长安店",
        S,
        T.STATE_FIRM,
        "长安街道",
        "南门社区",
        "南门大街 8 号",
        "何静",
        "010-68130044",
        17,
    ),
    (
        "云帆网络科技有限公司",
        S,
        T.PRIVATE_FIRM,
        "长安街道",
        "北辰社区",
        "北辰路 200 号 B 座",
        "林涛",
        "010-68130055",
        31,
    ),
    (
        "爱心家园社会工作服务中心",
        S,
        T.SOCIAL_ORG,
        "长安街道",
        "西苑社区",
        "西苑路 31 号",
        "韩雪",
        "010-68130066",
        8,
    ),
    (
        "区城管执法局新华街道执法队",
        D,
        T.GOVERNMENT,
        "新华街道",
        None,
        "新华路 70 号",
        "钱坤",
        "010-68121001",
        22,
    ),
    (
        "区市场监督管理局新华市场监管所",
        D,
        T.GOVERNMENT,
        "新华街道",
        None,
        "新华路 72 号",
        "冯丽",
        "010-68121002",
        15,
    ),
    ("新华派出所", D, T.GOVERNMENT, "新华街道", None, "新华路 90 号", "蒋军", "010-68121003", 46),
    (
        "区住房和城乡建设委员会",
        D,
        T.GOVERNMENT,
        "新华街道",
        None,
        "和平大道 1 号",
        "沈涛",
        "010-68121004",
        60,
    ),
    (
        "区卫生健康委员会",
        D,
        T.GOVERNMENT,
        "新华街道",
        None,
        "和平大道 3 号",
        "韩梅",
        "010-68121005",
        38,
    ),
    (
        "区生态环境局",
        D,
        T.GOVERNMENT,
        "长安街道",
        None,
        "和平大道 5 号",
        "杨帆",
        "010-68131001",
        29,
    ),
    ("长安派出所", D, T.GOVERNMENT, "长安街道", None, "长安路 11 号", "朱峰", "010-68131002", 41),
    (
        "区城管执法局长安街道执法队",
        D,
        T.GOVERNMENT,
        "长安街道",
        None,
        "长安路 30 号",
        "秦勇",
        "010-68131003",
        19,
    ),
    (
        "新华街道办事处",
        OFFICE,
        T.GOVERNMENT,
        "新华街道",
        None,
        "新华路 60 号",
        "许静",
        "010-68120000",
        52,
    ),
    (
        "长安街道办事处",
        OFFICE,
        T.GOVERNMENT,
        "长安街道",
        None,
        "长安路 1 号",
        "吕明",
        "010-68130000",
        48,
    ),
]

# username → (display name, role, scope kind, scope name)
USERS: list[tuple[str, str, Role, str | None]] = [
    ("admin", "平台管理员", Role.PLATFORM_ADMIN, None),
    ("district", "王建华", Role.DISTRICT_VIEWER, "和平区"),
    ("secretary", "张秀兰", Role.STREET_SECRETARY, "新华街道"),
    ("supervisor", "刘志刚", Role.SUPERVISOR, "新华街道"),
    ("liaison", "李红梅", Role.UNIT_LIAISON, "和平区人民医院"),
    ("dept", "钱坤", Role.DEPT_LIAISON, "区城管执法局新华街道执法队"),
    ("community", "陈丽华", Role.COMMUNITY_SECRETARY, "文化里社区"),
    ("member", "赵明", Role.PARTY_MEMBER, "文化里社区"),
    ("secretary2", "吕明", Role.STREET_SECRETARY, "长安街道"),
    ("liaison2", "孙立", Role.UNIT_LIAISON, "环球金融中心楼宇联合党委"),
    ("liaison3", "吴倩", Role.UNIT_LIAISON, "长安科技园联合党委"),
    # Last, so the ids of the users above stay what earlier releases gave them.
    ("city", "周立新", Role.CITY_VIEWER, "滨江市"),
]


async def is_empty(factory: async_sessionmaker[AsyncSession]) -> bool:
    async with factory() as session:
        return (await session.scalar(select(func.count(Organization.id)))) == 0


async def seed_demo(factory: async_sessionmaker[AsyncSession], *, meetings: bool = False) -> bool:
    """Load the demo data into an empty database. Returns False (and changes nothing) otherwise.

    With `meetings`, 新华街道 also gets last quarter's issued session and the coming one
    (what `gongjian seed-demo` loads; tests start from conferences without sessions).
    """
    if not await is_empty(factory):
        return False
    async with UnitOfWork(factory) as uow:
        s = uow.session
        city = Organization(name="滨江市", level=OrgLevel.CITY, code="BJ")
        district = Organization(name="和平区", level=OrgLevel.DISTRICT, parent=city, code="BJ-HP")
        s.add_all([city, district])
        by_name: dict[str, Organization] = {"滨江市": city, "和平区": district}
        for i, (street_name, communities) in enumerate(STREETS.items(), start=1):
            street = Organization(
                name=street_name, level=OrgLevel.STREET, parent=district, code=f"BJ-HP-{i:02d}"
            )
            s.add(street)
            by_name[street_name] = street
            for j, community_name in enumerate(communities, start=1):
                community = Organization(
                    name=community_name,
                    level=OrgLevel.COMMUNITY,
                    parent=street,
                    code=f"BJ-HP-{i:02d}-{j:02d}",
                )
                s.add(community)
                by_name[community_name] = community
        await s.flush()

        units: dict[str, Unit] = {}
        for name, kind, utype, street, community, address, contact, phone, members in UNITS:
            unit = Unit(
                name=name,
                kind=kind.value,
                unit_type=utype.value,
                street_id=by_name[street].id,
                community_id=by_name[community].id if community else None,
                address=address,
                contact_name=contact,
                contact_phone=phone,
                party_members=members,
            )
            s.add(unit)
            units[name] = unit
        # Each community is also a member unit of its street's conference.
        for street_name, communities in STREETS.items():
            for community_name in communities:
                unit = Unit(
                    name=f"{community_name}居委会",
                    kind=UnitKind.COMMUNITY.value,
                    unit_type=UnitType.RESIDENTS_COMMITTEE.value,
                    street_id=by_name[street_name].id,
                    community_id=by_name[community_name].id,
                    party_members=0,
                )
                s.add(unit)
                units[unit.name] = unit
        await s.flush()

        password_hash = hash_password(DEMO_PASSWORD)  # one hash: argon2 is slow on purpose
        for username, display, role, scope in USERS:
            user = User(username=username, display_name=display, password_hash=password_hash)
            s.add(user)
            await s.flush()
            grant = RoleGrant(user_id=user.id, role=role.value)
            if scope in units:
                grant.unit_id = units[scope].id
            elif scope is not None:
                grant.organization_id = by_name[scope].id
            s.add(grant)
        s.add(StreetSetting(street_id=by_name["长安街道"].id, key="meetings_per_year", value="6"))
        await s.flush()
        await _seed_conferences(s, by_name, units)
        await _seed_admission(s, by_name, units)
        if meetings:
            await _seed_sessions(uow, by_name, units)
        uow.audit("demo.seed", "system", "", "载入演示数据")
        await uow.commit()
    if meetings:
        # Tasks go through the real services as the demo users, after the base data exists.
        from gongjian.demo_activities import seed_demo_activities
        from gongjian.demo_attendance import seed_demo_attendance
        from gongjian.demo_coverage import seed_demo_coverage
        from gongjian.demo_dual_report import seed_demo_dual_report
        from gongjian.demo_evaluation import seed_demo_evaluation
        from gongjian.demo_sharing import seed_demo_sharing
        from gongjian.demo_tasks import seed_demo_tasks

        await seed_demo_tasks(factory)
        await seed_demo_sharing(factory)
        # Members register (双报到) before the activities they sign up for and are settled in.
        await seed_demo_dual_report(factory)
        await seed_demo_activities(factory)
        await seed_demo_attendance(factory)
        await seed_demo_coverage(factory)
        # Last: the bulletins and the secretary's report are drawn from everything above.
        await seed_demo_evaluation(factory)
    return True


async def _seed_conferences(
    s: AsyncSession, by_name: dict[str, Organization], units: dict[str, Unit]
) -> None:
    """Each street's joint conference: every unit a member, the armed forces office 列席."""
    users = {u.username: u for u in await s.scalars(select(User))}
    duties = {
        "和平区人民医院": "牵头社区健康服务、义诊进社区",
        "区城管执法局新华街道执法队": "背街小巷环境整治、违法建设查处",
        "新华派出所": "社区治安联防、矛盾纠纷调处",
        "环球金融中心楼宇联合党委": "楼宇企业党建、白领志愿服务",
    }
    conveners = {"新华街道": "secretary", "长安街道": "secretary2"}
    for street_name in STREETS:
        street = by_name[street_name]
        conference = Conference(
            organization_id=street.id,
            name=f"{street_name}党建联席会议",
            convener_id=users[conveners[street_name]].id,
        )
        s.add(conference)
        await s.flush()
        for unit in units.values():
            if unit.street_id != street.id:
                continue
            role = MemberRole.OBSERVER if unit.unit_type == UnitType.MILITARY else MemberRole.MEMBER
            s.add(
                ConferenceMember(
                    conference_id=conference.id,
                    unit_id=unit.id,
                    role=role.value,
                    duties=duties.get(unit.name, ""),
                )
            )
        if street_name == "新华街道":
            s.add(SecretariatMember(conference_id=conference.id, user_id=users["supervisor"].id))
            s.add(
                Rotation(conference_id=conference.id, year=2026, unit_id=units["和平区人民医院"].id)
            )


async def _seed_admission(
    s: AsyncSession, by_name: dict[str, Organization], units: dict[str, Unit]
) -> None:
    """新华街道's community admission catalogue (社区事务准入目录): matters admitted over the
    past months, and one department's application waiting for review."""
    from domain.models import AdmissionItem  # kept here: this demo section is self-contained

    users = {u.username: u for u in await s.scalars(select(User))}
    street = by_name["新华街道"]
    now = utcnow()
    # (title, category, basis, description, applicant unit or None for the street, days ago)
    admitted = [
        (
            "背街小巷环境卫生巡查与问题上报",
            "城市管理",
            "《城市市容和环境卫生管理条例》；区背街小巷环境精细化整治工作方案",
            "社区网格员每周巡查辖区背街小巷，发现乱堆乱放、私搭乱建等问题拍照上报执法队，不承担执法。",
            "区城管执法局新华街道执法队",
            120,
        ),
        (
            "困难群众救助申请受理与初审转报",
            "民政服务",
            "《社会救助暂行办法》第十一条",
            "受理居民最低生活保障、特困供养申请，协助入户调查，材料初审后转报街道。",
            None,
            100,
        ),
        (
            "65岁以上老年人健康体检通知与组织",
            "卫生健康",
            "《国家基本公共卫生服务规范（第三版）》老年人健康管理服务规范",
            "每年通知辖区老年人参加免费体检，协助社区卫生服务中心安排时间和场地。",
            "区卫生健康委员会",
            90,
        ),
        (
            "矛盾纠纷排查与人民调解",
            "综合治理",
            "《中华人民共和国人民调解法》第八条",
            "社区人民调解委员会每月排查矛盾纠纷，调解邻里纠纷，重大纠纷及时报告派出所和街道。",
            "新华派出所",
            60,
        ),
    ]
    # Only the street and the enforcement team have demo users who could have applied.
    applied_by = {None: "secretary", "区城管执法局新华街道执法队": "dept"}
    for title, category, basis, description, applicant, days in admitted:
        by = applied_by.get(applicant)
        s.add(
            AdmissionItem(
                street_id=street.id,
                title=title,
                category=category,
                basis=basis,
                description=description,
                applicant_unit_id=units[applicant].id if applicant else None,
                applied_by_id=users[by].id if by else None,
                state="admitted",
                reviewed_by_id=users["secretary"].id,
                reviewed_at=now - timedelta(days=days - 3),
                created_at=now - timedelta(days=days),
            )
        )
    s.add(
        AdmissionItem(
            street_id=street.id,
            title="住宅小区电动自行车违规停放充电排查",
            category="安全生产",
            basis="《高层民用建筑消防安全管理规定》第三十七条",
            description="社区每月配合执法队排查楼道、门厅内电动自行车停放和飞线充电，登记后移交执法队处理。",
            applicant_unit_id=units["区城管执法局新华街道执法队"].id,
            applied_by_id=users["dept"].id,
            state="applied",
            created_at=now - timedelta(days=2),
        )
    )


async def _seed_sessions(
    uow: UnitOfWork, by_name: dict[str, Organization], units: dict[str, Unit]
) -> None:
    """新华街道: last quarter's session, held and issued, whose decisions the next one follows up;
    and the coming session, notified, with its agenda."""
    from domain.conference.minutes import create_draft
    from domain.conference.minutes_draft import number_label

    s = uow.session
    users = {u.username: u for u in await s.scalars(select(User))}
    conference = await s.scalar(
        select(Conference).where(Conference.organization_id == by_name["新华街道"].id)
    )
    assert conference is not None
    members = list(
        await s.scalars(
            select(ConferenceMember).where(
                ConferenceMember.conference_id == conference.id,
                ConferenceMember.role == MemberRole.MEMBER.value,
            )
        )
    )
    now = utcnow()
    start = (now - timedelta(days=60)).replace(hour=2, minute=0, second=0, microsecond=0)
    past = MeetingSession(
        conference_id=conference.id,
        year=start.year,
        number=3,
        title=f"{start.year}年第三季度党建联席会议",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="新华街道党群服务中心三楼会议室",
        state="issued",
        signin_secret=secrets.token_urlsafe(24),
        opened_at=start,
        closed_at=start + timedelta(hours=2),
        notice_sent_at=start - timedelta(days=5),
        created_by_id=users["secretary"].id,
    )
    s.add(past)
    await s.flush()
    progress = AgendaItem(
        session_id=past.id, position=1, kind="progress", title="上次议定事项落实情况"
    )
    elevator = AgendaItem(
        session_id=past.id,
        position=2,
        title="老旧小区加装电梯共建方案",
        notes="住建委介绍政策；文化里社区反映 3 个小区居民意愿强烈；医院、供电公司表示可提供支持。",
    )
    alleys = AgendaItem(
        session_id=past.id,
        position=3,
        title="背街小巷环境整治分工",
        notes="城管执法队牵头，派出所、各社区配合，按月通报进展。",
    )
    s.add_all([progress, elevator, alleys])
    await s.flush()
    for i, member in enumerate(members):
        s.add(
            Attendance(
                session_id=past.id,
                unit_id=member.unit_id,
                reply="leave" if i == 3 else "attending",
                reply_reason="参加区卫健委专项检查" if i == 3 else "",
                signed_in_at=None if i == 3 else start + timedelta(minutes=i % 10),
                signin_method="" if i == 3 else "qr",
            )
        )
    present = len(members) - 1
    s.add(
        Vote(
            item_id=elevator.id,
            motion="同意将老旧小区加装电梯列入年度共建项目",
            state="closed",
            opened_at=start + timedelta(minutes=40),
            closed_at=start + timedelta(minutes=45),
            votes_for=present - 1,
            votes_against=0,
            votes_abstain=1,
            passed=True,
        )
    )
    deadline = (now + timedelta(days=30)).date()
    s.add_all(
        [
            Decision(
                session_id=past.id,
                item_id=elevator.id,
                title="完成文化里社区 3 个小区加装电梯意向摸排",
                lead_unit_id=units["区住房和城乡建设委员会"].id,
                assisting_unit_ids=f"{units['文化里社区居委会'].id},{units['和平区人民医院'].id}",
                deadline=deadline,
                follow_state="in_progress",
                progress_note="已完成 2 个小区入户摸排，同意率 86%。",
                progress_updated_at=now - timedelta(days=7),
                created_by_id=users["secretary"].id,
            ),
            Decision(
                session_id=past.id,
                item_id=alleys.id,
                title="背街小巷环境整治每月通报",
                lead_unit_id=units["区城管执法局新华街道执法队"].id,
                assisting_unit_ids=str(units["新华派出所"].id),
                deadline=(now + timedelta(days=90)).date(),
                created_by_id=users["secretary"].id,
            ),
        ]
    )
    await s.flush()
    minutes = await create_draft(uow, past)
    minutes.number_label = number_label(past.year, 3)
    minutes.issued_at = start + timedelta(days=3)
    for member in members:
        s.add(
            MinutesSignature(
                minutes_id=minutes.id,
                unit_id=member.unit_id,
                user_id=users["secretary"].id,
                signed_at=start + timedelta(days=2),
                comment="演示数据",
            )
        )

    # An hour from loading the demo: the room can be opened and signed into right away.
    coming = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    upcoming = MeetingSession(
        conference_id=conference.id,
        year=coming.year,
        title=f"{coming.year}年第四季度党建联席会议",
        starts_at=coming,
        ends_at=coming + timedelta(hours=2),
        place="新华街道党群服务中心三楼会议室",
        state="notified",
        signin_secret=secrets.token_urlsafe(24),
        notice_sent_at=now,
        created_by_id=users["secretary"].id,
    )
    s.add(upcoming)
    await s.flush()
    s.add_all(
        [
            AgendaItem(
                session_id=upcoming.id, position=1, kind="progress", title="上次议定事项落实情况"
            ),
            AgendaItem(session_id=upcoming.id, position=2, title="楼宇白领志愿服务队组建"),
            AgendaItem(session_id=upcoming.id, position=3, title="冬季困难群众走访慰问分工"),
        ]
    )
    await s.flush()
    from domain.services.notifications import notify

    notify(
        uow,
        [users[name].id for name in ("liaison", "liaison2", "dept", "community")],
        "session.notice",
        f"会议通知：{upcoming.title}",
        f"地点：{upcoming.place}。请回复是否参会。",
        f"/sessions/{upcoming.id}",
    )


DEMO_LOGINS = [(u, d, r) for u, d, r, _ in USERS[:8] + USERS[-1:]]
