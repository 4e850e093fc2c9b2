"""述职报告: a street or community secretary's yearly responsibility report.

`assemble` draws every section from the platform's records for the year (the facts) and
writes a first text for it. Only the organisation's secretary edits it (version-checked);
regenerating refreshes the facts and offers the new text beside an edited body rather
than overwriting it; submitting makes it read-only and tells the level above.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from domain.enums import OrgLevel, ReportState, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.evaluation import report_facts as rf
from domain.models import Organization, RoleGrant, User
from domain.models.base import utcnow
from domain.models.evaluation import ResponsibilityReport
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.topics import street_topic
from domain.uow import UnitOfWork

Section = dict[str, Any]
TITLE_MAX, BODY_MAX = 200, 8000
MIN_YEAR, MAX_YEAR = 2000, 2100
STALE = "该述职报告已被修改（可能在另一窗口），您的修改未保存。请核对后重新提交。"
PROBLEMS_PROMPT = "（请结合本年度工作实际，填写存在的主要问题、原因分析和下一年度工作打算。）"


def _v(facts: list[rf.Fact]) -> dict[str, Any]:
    return rf.values(facts)


def body_basics(f: dict[str, Any], org: str, year: int) -> str:
    return (
        f"{year}年，{org}共有成员单位{f['units']}个，其中驻区单位{f['stationed']}个、"
        f"职能部门{f['departments']}个、社区{f['communities']}个，单位党员{f['party_members']}名。"
        f"全年到社区报到单位{f['units_reported']}个，报到在职党员{f['members_reported']}名。"
    )


def body_conference(f: dict[str, Any], street: bool) -> str:
    if not f.get("sessions"):
        return "本年度未召开党建联席会议。"
    who = "成员单位" if street else "本社区"
    return (
        f"全年召开党建联席会议{f['sessions']}次，{who}应出席{f['expected']}单位次，"
        f"实际出席{f['present']}单位次，请假{f['leave']}单位次，缺席未请假{f['absent']}单位次，"
        f"出席率{f['attendance_rate']}。提出议题{f['topics']}项，形成议定事项{f['decisions']}项，"
        f"已完成{f['decisions_done']}项，其中按期完成{f['decisions_on_time']}项。"
    )


def body_sharing(f: dict[str, Any]) -> str:
    return (
        f"推动资源共享，新增需求{f['needs']}条、资源{f['resources']}条，达成认领{f['claims']}项，"
        f"新立共建项目{f['projects_new']}个，完成共建项目{f['projects_done']}个。"
    )


def body_activities(f: dict[str, Any]) -> str:
    return (
        f"组织开展各类活动{f['held']}场次，参加{f['attended']}人次；在职党员参与服务"
        f"{f['volunteers']}人，累计服务时长{f['hours']}小时，发放积分{f['points']}分；"
        f"新报到在职党员{f['new_members']}名。"
    )


def body_tasks(f: dict[str, Any], street: bool) -> str:
    verb = "交办" if street else "承办"
    text = (
        f"条块协同方面，{verb}任务{f['assigned']}件，办结{f['finished']}件，"
        f"其中按期办结{f['finished_on_time']}件，按期办结率{f['on_time_rate']}，"
        f"按时签收率{f['accept_rate']}，满意率{f['satisfaction']}。"
    )
    if street:
        text += f"全年发出红色督办单{f['red']}份、黄色督办单{f['yellow']}份。"
    return text


def body_coverage(f: dict[str, Any]) -> str:
    return (
        f"辖区新兴领域组织{f['organisations']}个，党员{f['party_members']}名，"
        f"党的组织覆盖率{f['org_rate']}，工作覆盖率{f['work_rate']}，尚有党建空白点{f['gaps']}个。"
    )


def _section(key: str, title: str, body: str, facts: list[rf.Fact]) -> Section:
    return {"key": key, "title": title, "body": body, "generated": body, "facts": facts}


async def assemble(uow: UnitOfWork, org: Organization, year: int, now: datetime) -> list[Section]:
    scope = await rf.org_scope(uow, org)
    period = rf.year_period(year)
    street = scope.is_street
    b = await rf.basics(uow, scope, year)
    c = await rf.conference(uow, scope, period)
    sh = await rf.sharing(uow, scope, period)
    a = await rf.activities(uow, scope, period)
    t = await rf.tasks(uow, scope, period, now)
    sections = [
        _section("basics", "一、基本情况", body_basics(_v(b), org.name, year), b),
        _section("conference", "二、党建联席会议", body_conference(_v(c), street), c),
        _section("sharing", "三、资源共享", body_sharing(_v(sh)), sh),
        _section("activities", "四、活动开展与双报到", body_activities(_v(a)), a),
        _section("tasks", "五、条块协同", body_tasks(_v(t), street), t),
    ]
    cov = await rf.coverage(uow, scope)
    if cov is not None:
        sections.append(_section("coverage", "六、新兴领域党建覆盖", body_coverage(_v(cov)), cov))
    numbers = "七" if cov is not None else "六"
    problems = _section("problems", f"{numbers}、存在问题和下步打算", "", [])
    problems["prompt"] = PROBLEMS_PROMPT
    sections.append(problems)
    return sections


# ---- access -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportAccess:
    org: Organization
    street_id: int
    can_edit: bool


async def report_access(uow: UnitOfWork, actor: Actor, org_id: int) -> ReportAccess:
    """Readable by the author, the street staff above a community, district/city viewers
    and admins; only the organisation's own secretary writes it."""
    org = await uow.session.get(Organization, org_id) if 0 < org_id < 2**31 else None
    if org is None or org.level not in (OrgLevel.STREET, OrgLevel.COMMUNITY):
        raise NotFound("述职报告对应的组织不存在。")
    if org.level == OrgLevel.STREET:
        street_id = org.id
        can_edit = org.id in actor.streets_with(Role.STREET_SECRETARY)
        can_read = can_edit
    else:
        assert org.parent_id is not None
        street_id = org.parent_id
        can_edit = org.id in actor.org_ids_with(Role.COMMUNITY_SECRETARY)
        can_read = can_edit or street_id in actor.streets_with(
            Role.STREET_SECRETARY, Role.SUPERVISOR
        )
    can_read = can_read or actor.is_admin or street_id in actor.district_street_ids
    if not can_read:
        raise PermissionDenied("述职报告仅向本人、上级党组织和管理员开放。")
    return ReportAccess(org, street_id, can_edit)


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NotFound("年度不正确。")


async def find(uow: UnitOfWork, org_id: int, year: int) -> ResponsibilityReport | None:
    found: ResponsibilityReport | None = await uow.session.scalar(
        select(ResponsibilityReport).where(
            ResponsibilityReport.org_id == org_id, ResponsibilityReport.year == year
        )
    )
    return found


@dataclass
class ReportPage:
    access: ReportAccess
    year: int
    report: ResponsibilityReport | None
    author_name: str = ""

    @property
    def editable(self) -> bool:
        return (
            self.access.can_edit
            and self.report is not None
            and self.report.state == ReportState.DRAFT
        )


async def open_report(uow: UnitOfWork, actor: Actor, org_id: int, year: int) -> ReportPage:
    check_year(year)
    access = await report_access(uow, actor, org_id)
    report = await find(uow, org_id, year)
    author = ""
    if report is not None and report.author_id is not None:
        user = await uow.session.get(User, report.author_id)
        author = user.display_name if user else ""
    return ReportPage(access, year, report, author)


def default_title(org: Organization, year: int) -> str:
    return f"{org.name}党组织书记{year}年度抓基层党建工作述职报告"


async def create(
    uow: UnitOfWork, actor: Actor, org_id: int, year: int, now: datetime | None = None
) -> ResponsibilityReport:
    """Draft the report from the records (idempotent: an existing report is returned)."""
    check_year(year)
    access = await report_access(uow, actor, org_id)
    if not access.can_edit:
        raise PermissionDenied("只有本级党组织书记可以起草述职报告。")
    existing = await find(uow, org_id, year)
    if existing is not None:
        return existing
    report = ResponsibilityReport(
        org_id=org_id,
        year=year,
        author_id=actor.user_id,
        state=ReportState.DRAFT.value,
        title=default_title(access.org, year),
        sections=await assemble(uow, access.org, year, now or utcnow()),
    )
    uow.session.add(report)
    await uow.flush()
    uow.audit("report.create", "responsibility_report", report.id, report.title)
    uow.publish(street_topic(access.street_id), "report.changed", id=report.id)
    return report


async def _editable(
    uow: UnitOfWork, actor: Actor, org_id: int, year: int, version: str | int | None
) -> tuple[ReportAccess, ResponsibilityReport]:
    access = await report_access(uow, actor, org_id)
    if not access.can_edit:
        raise PermissionDenied("只有本级党组织书记可以修改述职报告。")
    report = await find(uow, org_id, year)
    if report is None:
        raise NotFound("述职报告尚未起草。")
    if report.state != ReportState.DRAFT:
        raise Conflict("述职报告已提交，不能再修改。")
    if str(version or "") != str(report.version):
        raise Conflict(STALE)
    return access, report


def validate(data: dict[str, str], sections: list[Section]) -> dict[str, str]:
    errors: dict[str, str] = {}
    title = data.get("title", "").strip()
    if not title:
        errors["title"] = "请填写报告标题。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"标题不超过 {TITLE_MAX} 个字。"
    for section in sections:
        body = data.get(f"body_{section['key']}", "")
        if len(body) > BODY_MAX:
            errors[f"body_{section['key']}"] = f"每部分不超过 {BODY_MAX} 个字。"
    return errors


async def save(
    uow: UnitOfWork, actor: Actor, org_id: int, year: int, data: dict[str, str]
) -> ResponsibilityReport:
    access, report = await _editable(uow, actor, org_id, year, data.get("version"))
    errors = validate(data, report.sections)
    if errors:
        raise ValidationFailed(errors)
    sections = copy.deepcopy(report.sections)
    for section in sections:
        name = f"body_{section['key']}"
        if name in data:
            section["body"] = data[name].strip()
    report.title = data["title"].strip()
    report.sections = sections
    report.updated_at = utcnow()
    await uow.flush()
    uow.audit("report.edit", "responsibility_report", report.id, report.title)
    uow.publish(street_topic(access.street_id), "report.changed", id=report.id)
    return report


async def regenerate(
    uow: UnitOfWork,
    actor: Actor,
    org_id: int,
    year: int,
    version: str | None,
    now: datetime | None = None,
) -> list[str]:
    """Refresh every section's facts. A body the author left as generated takes the new
    text; an edited one is kept and the new text is offered beside it (`proposed`).
    Returns the keys of the sections that now offer a choice."""
    access, report = await _editable(uow, actor, org_id, year, version)
    fresh = {s["key"]: s for s in await assemble(uow, access.org, year, now or utcnow())}
    offered: list[str] = []
    sections: list[Section] = []
    for old in report.sections:
        new = fresh.pop(old["key"], None)
        if new is None:
            sections.append(old)
            continue
        merged = {**old, "facts": new["facts"], "generated": new["generated"]}
        merged.pop("proposed", None)
        if old["body"] == old.get("generated", "") or not old["body"].strip():
            merged["body"] = new["generated"]
        elif new["generated"] and new["generated"] != old["body"]:
            merged["proposed"] = new["generated"]
            offered.append(old["key"])
        sections.append(merged)
    # A section that appeared since (coverage figures arrived): before the last one.
    for extra in fresh.values():
        sections.insert(max(len(sections) - 1, 0), extra)
    report.sections = sections
    report.updated_at = utcnow()
    await uow.flush()
    uow.audit("report.regenerate", "responsibility_report", report.id, report.title)
    uow.publish(street_topic(access.street_id), "report.changed", id=report.id)
    return offered


async def choose(
    uow: UnitOfWork, actor: Actor, org_id: int, year: int, data: dict[str, str]
) -> ResponsibilityReport:
    """The author's choice for a section offering regenerated text: take it, or keep theirs."""
    access, report = await _editable(uow, actor, org_id, year, data.get("version"))
    key, use = data.get("key", ""), data.get("use", "")
    sections = copy.deepcopy(report.sections)
    target = next((s for s in sections if s["key"] == key and "proposed" in s), None)
    if target is None or use not in ("new", "mine"):
        raise ValidationFailed({"key": "没有待选择的新文本。"})
    proposed = target.pop("proposed")
    if use == "new":
        target["body"] = proposed
    report.sections = sections
    report.updated_at = utcnow()
    await uow.flush()
    uow.publish(street_topic(access.street_id), "report.changed", id=report.id)
    return report


async def _recipients(uow: UnitOfWork, org: Organization) -> set[int]:
    """Who hears of a submitted report: the district's viewers above a street, the street
    secretary above a community."""
    if org.level == OrgLevel.STREET:
        role, target = Role.DISTRICT_VIEWER, org.parent_id
    else:
        role, target = Role.STREET_SECRETARY, org.parent_id
    if target is None:
        return set()
    rows = await uow.session.scalars(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == role.value, RoleGrant.organization_id == target, User.active)
    )
    return set(rows)


async def submit(
    uow: UnitOfWork, actor: Actor, org_id: int, year: int, version: str | None
) -> ResponsibilityReport:
    access, report = await _editable(uow, actor, org_id, year, version)
    missing = [s["title"] for s in report.sections if not s["body"].strip()]
    if missing:
        raise ValidationFailed(
            {"submit": "以下部分尚未填写：" + "、".join(missing)},
            "请先填写完整再提交。",
        )
    report.state = ReportState.SUBMITTED.value
    report.submitted_at = utcnow()
    report.updated_at = report.submitted_at
    await uow.flush()
    notify(
        uow,
        await _recipients(uow, access.org) - {actor.user_id},
        "report.submitted",
        f"{access.org.name}提交了{year}年度述职报告",
        report.title,
        f"/reports/{org_id}/{year}",
    )
    uow.audit("report.submit", "responsibility_report", report.id, report.title)
    uow.publish(street_topic(access.street_id), "report.changed", id=report.id)
    return report


# ---- landing ------------------------------------------------------------------------------


@dataclass
class ReportRow:
    org: Organization
    year: int
    report: ResponsibilityReport | None

    @property
    def href(self) -> str:
        return f"/reports/{self.org.id}/{self.year}"


@dataclass
class Landing:
    year: int
    own: list[ReportRow] = field(default_factory=list)
    scope: list[ReportRow] = field(default_factory=list)
    can_see_scope: bool = False

    @property
    def rows(self) -> list[ReportRow]:
        return self.own + self.scope


async def landing(uow: UnitOfWork, actor: Actor, year: int) -> Landing:
    """The actor's own report(s) and, for staff and viewers, those in their scope."""
    check_year(year)
    s = uow.session
    own_ids = actor.streets_with(Role.STREET_SECRETARY) | actor.org_ids_with(
        Role.COMMUNITY_SECRETARY
    )
    staff_streets = actor.streets_with(Role.STREET_SECRETARY, Role.SUPERVISOR)
    scope_streets = set(staff_streets | actor.district_street_ids)
    out = Landing(year, can_see_scope=bool(scope_streets) or actor.is_admin)
    levels = [OrgLevel.STREET.value, OrgLevel.COMMUNITY.value]
    stmt = select(Organization).where(Organization.level.in_(levels))
    if not actor.is_admin:
        wanted = sorted(own_ids | scope_streets)
        stmt = stmt.where(
            Organization.id.in_(wanted)
            | (
                (Organization.level == OrgLevel.COMMUNITY.value)
                & Organization.parent_id.in_(sorted(scope_streets))
            )
        )
    orgs = list(await s.scalars(stmt.order_by(Organization.parent_id, Organization.id)))
    reports = {
        r.org_id: r
        for r in await s.scalars(
            select(ResponsibilityReport).where(
                ResponsibilityReport.year == year,
                ResponsibilityReport.org_id.in_([o.id for o in orgs]),
            )
        )
    }
    for org in orgs:
        row = ReportRow(org, year, reports.get(org.id))
        if org.id in own_ids:
            out.own.append(row)
        elif org.level == OrgLevel.STREET and org.id not in actor.district_street_ids:
            if actor.is_admin:
                out.scope.append(row)
        else:
            out.scope.append(row)
    return out
