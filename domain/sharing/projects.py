"""Co-building projects (共建项目): the agreement (共建协议) and commitments, progress
updates, completion by the provider, rating by the party that raised the need, carrying an
unfinished project over to next year, and the yearly report per street.

A dissatisfied rating (不满意) needs a note and sends the project back to in progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from domain.conference.access import users_acting_for
from domain.enums import ListingState, ProjectState, Rating
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization
from domain.models.base import utcnow
from domain.models.sharing import Need, Project, ProjectUpdate, Resource
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.sharing import listings
from domain.sharing.claims import acts_for_unit, beijing_year
from domain.tasks.calendar import BEIJING
from domain.topics import street_topic
from domain.uow import UnitOfWork

# A project carried over goes on next year: it stays open to updates and completion.
OPEN = (ProjectState.AGREED, ProjectState.IN_PROGRESS, ProjectState.CARRIED_OVER)
DONE = (ProjectState.COMPLETED, ProjectState.RATED)


def _check_version(project: Project, version: str | int | None) -> None:
    if str(version or "") != str(project.version):
        raise Conflict()


def _date(data: dict[str, str], name: str, errors: dict[str, str]) -> date | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 2026-12-01。"
        return None


async def _load(uow: UnitOfWork, project_id: int) -> Project:
    project = await uow.session.scalar(
        select(Project)
        .where(Project.id == project_id)
        .options(selectinload(Project.requester_unit), selectinload(Project.provider_unit))
    )
    if project is None:
        raise NotFound("该共建项目不存在。")
    return project


@dataclass
class Roles:
    requester: bool
    provider: bool
    staff: bool

    @property
    def party(self) -> bool:
        return self.requester or self.provider


async def _roles(uow: UnitOfWork, actor: Actor, project: Project) -> Roles:
    return Roles(
        requester=await acts_for_unit(uow, actor, project.requester_unit_id, project.street_id),
        provider=await acts_for_unit(uow, actor, project.provider_unit_id, project.street_id),
        staff=listings.is_street_staff(actor, project.street_id),
    )


async def _changed(
    uow: UnitOfWork, actor: Actor, project: Project, action: str, title: str, body: str = ""
) -> None:
    project.updated_at = utcnow()
    await uow.flush()
    uow.audit(action, "project", project.id, project.title)
    mine = {
        u
        for u in (project.requester_unit_id, project.provider_unit_id)
        if await acts_for_unit(uow, actor, u, project.street_id)
    }
    others = {project.requester_unit_id, project.provider_unit_id} - mine
    users = await users_acting_for(uow, others or mine)
    users.discard(actor.user_id)
    notify(uow, users, "sharing.project", title, body=body, link=f"/projects/{project.id}")
    uow.publish(street_topic(project.street_id), "sharing.changed")


def _add_update(
    uow: UnitOfWork,
    actor: Actor,
    project: Project,
    text: str,
    percent: int | None,
    unit_id: int | None = None,
) -> None:
    uow.session.add(
        ProjectUpdate(
            project_id=project.id,
            unit_id=unit_id,
            author_id=actor.user_id,
            author_name=(actor.display_name or actor.username)[:50],
            percent=percent,
            text=text,
        )
    )


async def set_agreement(
    uow: UnitOfWork, actor: Actor, project_id: int, data: dict[str, str]
) -> Project:
    """Record the co-building agreement (共建协议): number, commitments, dates."""
    project = await _load(uow, project_id)
    roles = await _roles(uow, actor, project)
    if not (roles.party or roles.staff):
        raise PermissionDenied("只有共建双方或街道可以填写共建协议。")
    _check_version(project, data.get("version"))
    if project.state not in OPEN:
        raise Conflict("项目已完成或已结转，不能再修改协议。")
    errors: dict[str, str] = {}
    number = (data.get("agreement_no") or "").strip()
    terms = (data.get("agreement_terms") or "").strip()
    signed = _date(data, "agreement_signed_on", errors)
    starts = _date(data, "starts_on", errors)
    due = _date(data, "due_on", errors)
    if len(number) > 60:
        errors["agreement_no"] = "协议编号不能超过 60 个字。"
    if not terms:
        errors["agreement_terms"] = "请填写双方承诺事项。"
    elif len(terms) > 4000:
        errors["agreement_terms"] = "承诺事项不能超过 4000 个字。"
    if starts and due and due < starts:
        errors["due_on"] = "完成日期不能早于开始日期。"
    if errors:
        raise ValidationFailed(errors)
    project.agreement_no = number
    project.agreement_terms = terms
    project.agreement_signed_on = signed
    project.starts_on = starts
    project.due_on = due
    await _changed(uow, actor, project, "project.agreement", f"共建协议已更新：{project.title}")
    return project


async def add_update(
    uow: UnitOfWork, actor: Actor, project_id: int, data: dict[str, str]
) -> Project:
    """A progress note by either party, with the percentage done."""
    project = await _load(uow, project_id)
    roles = await _roles(uow, actor, project)
    if not roles.party:
        raise PermissionDenied("只有共建双方可以报告进展。")
    _check_version(project, data.get("version"))
    if project.state not in OPEN:
        raise Conflict("项目已完成或已结转，不能再报告进展。")
    errors: dict[str, str] = {}
    text = (data.get("text") or "").strip()
    raw = (data.get("percent") or "").strip()
    percent: int | None = None
    if not text:
        errors["text"] = "请填写进展情况。"
    elif len(text) > 2000:
        errors["text"] = "进展情况不能超过 2000 个字。"
    if raw:
        if not raw.isdigit() or not 0 <= int(raw) <= 100:
            errors["percent"] = "完成比例应为 0 到 100 之间的整数。"
        else:
            percent = int(raw)
    if errors:
        raise ValidationFailed(errors)
    if percent is not None:
        project.progress_percent = percent
    project.state = ProjectState.IN_PROGRESS.value
    unit_id = project.provider_unit_id if roles.provider else project.requester_unit_id
    _add_update(uow, actor, project, text, percent, unit_id)
    await _changed(
        uow, actor, project, "project.progress", f"共建项目有新进展：{project.title}", text
    )
    return project


async def complete(uow: UnitOfWork, actor: Actor, project_id: int, data: dict[str, str]) -> Project:
    """The provider reports the project done on a date; the requester then rates it."""
    project = await _load(uow, project_id)
    roles = await _roles(uow, actor, project)
    if not roles.provider:
        raise PermissionDenied("只有提供方可以报告项目完成。")
    _check_version(project, data.get("version"))
    if project.state not in OPEN:
        raise Conflict("项目已完成或已结转。")
    errors: dict[str, str] = {}
    done_on = _date(data, "completed_on", errors)
    if done_on is None and "completed_on" not in errors:
        errors["completed_on"] = "请填写完成日期。"
    elif done_on and done_on > utcnow().astimezone(BEIJING).date():
        errors["completed_on"] = "完成日期不能晚于今天。"
    if errors:
        raise ValidationFailed(errors)
    project.completed_on = done_on
    project.progress_percent = 100
    project.state = ProjectState.COMPLETED.value
    if project.need_id is not None:
        # The need is met: it leaves the open list as 已满足 (its history stays).
        need = await uow.session.get(Need, project.need_id)
        if need is not None and need.state == ListingState.LISTED.value:
            need.state = ListingState.FULFILLED.value
            need.updated_at = utcnow()
    note = (data.get("note") or "").strip()[:2000] or "项目已完成。"
    _add_update(uow, actor, project, note, 100, project.provider_unit_id)
    await _changed(
        uow, actor, project, "project.completed", f"共建项目已完成，请评价：{project.title}"
    )
    return project


async def rate(uow: UnitOfWork, actor: Actor, project_id: int, data: dict[str, str]) -> Project:
    """The party that raised the need rates the result; 不满意 sends it back to work."""
    project = await _load(uow, project_id)
    roles = await _roles(uow, actor, project)
    if not roles.requester:
        raise PermissionDenied("只有提出需求的一方可以评价。")
    _check_version(project, data.get("version"))
    if project.state != ProjectState.COMPLETED:
        raise Conflict("项目完成后才能评价。")
    errors: dict[str, str] = {}
    raw = data.get("rating") or ""
    note = (data.get("rating_note") or "").strip()
    if raw not in set(Rating):
        errors["rating"] = "请选择评价结果。"
    if raw == Rating.DISSATISFIED and not note:
        errors["rating_note"] = "评为不满意时请说明原因。"
    if len(note) > 1000:
        errors["rating_note"] = "评价说明不能超过 1000 个字。"
    if errors:
        raise ValidationFailed(errors)
    project.rating = raw
    project.rating_note = note
    if raw == Rating.DISSATISFIED:
        project.state = ProjectState.IN_PROGRESS.value
        project.completed_on = None
        text = f"评价为不满意，退回继续实施：{note}"
        _add_update(uow, actor, project, text, None, project.requester_unit_id)
        title = f"共建项目被评为不满意，退回继续实施：{project.title}"
    else:
        project.state = ProjectState.RATED.value
        title = f"共建项目已评价：{project.title}"
    await _changed(uow, actor, project, "project.rated", title, note)
    return project


async def carry_over(
    uow: UnitOfWork, actor: Actor, project_id: int, data: dict[str, str]
) -> Project:
    """Street staff carry an unfinished project over to next year, with a reason."""
    project = await _load(uow, project_id)
    if not listings.is_street_staff(actor, project.street_id):
        raise PermissionDenied("只有街道书记或督办员可以结转项目。")
    _check_version(project, data.get("version"))
    if project.state not in OPEN:
        raise Conflict("只有未完成的项目可以结转下年。")
    reason = (data.get("carry_reason") or "").strip()
    if not reason:
        raise ValidationFailed({"carry_reason": "请填写结转原因。"})
    if len(reason) > 500:
        raise ValidationFailed({"carry_reason": "结转原因不能超过 500 个字。"})
    project.state = ProjectState.CARRIED_OVER.value
    project.carried_to_year = (project.carried_to_year or project.year) + 1
    project.carry_reason = reason
    await _changed(
        uow, actor, project, "project.carried_over", f"共建项目结转下年：{project.title}", reason
    )
    return project


# ---- reading --------------------------------------------------------------------------


@dataclass
class ProjectPage:
    project: Project
    updates: list[ProjectUpdate]
    roles: Roles
    street: Organization

    @property
    def open(self) -> bool:
        return self.project.state in OPEN

    @property
    def can_agree(self) -> bool:
        return self.open and (self.roles.party or self.roles.staff)

    @property
    def can_update(self) -> bool:
        return self.open and self.roles.party

    @property
    def can_complete(self) -> bool:
        return self.open and self.roles.provider

    @property
    def can_rate(self) -> bool:
        return self.project.state == ProjectState.COMPLETED and self.roles.requester

    @property
    def can_carry(self) -> bool:
        return self.open and self.roles.staff


async def get_project(uow: UnitOfWork, actor: Actor, project_id: int) -> ProjectPage:
    project = await _load(uow, project_id)
    listings._require_reader(actor, project.street_id)
    updates = list(
        await uow.session.scalars(
            select(ProjectUpdate)
            .where(ProjectUpdate.project_id == project.id)
            .order_by(ProjectUpdate.id.desc())
        )
    )
    return ProjectPage(
        project=project,
        updates=updates,
        roles=await _roles(uow, actor, project),
        street=await listings.get_street(uow, project.street_id),
    )


async def list_projects(
    uow: UnitOfWork, actor: Actor, street_id: int, year: int | None, state: str = ""
) -> tuple[Organization, list[Project]]:
    """项目清单: a street's projects of a year (all years when None), optionally by state."""
    listings._require_reader(actor, street_id)
    street = await listings.get_street(uow, street_id)
    stmt = select(Project).where(Project.street_id == street_id)
    if year:
        # A year's list holds its own projects and those carried into it.
        stmt = stmt.where((Project.year == year) | (Project.carried_to_year == year))
    if state in set(ProjectState):
        stmt = stmt.where(Project.state == state)
    projects = list(
        await uow.session.scalars(
            stmt.options(
                selectinload(Project.requester_unit), selectinload(Project.provider_unit)
            ).order_by(Project.id.desc())
        )
    )
    return street, projects


@dataclass
class ProjectReport:
    street: Organization
    year: int
    needs: list[Need] = field(default_factory=list)  # asked
    resources: list[Resource] = field(default_factory=list)  # offered
    projects: list[Project] = field(default_factory=list)  # all of the year
    done: list[Project] = field(default_factory=list)
    carried: list[Project] = field(default_factory=list)  # carried over to next year
    carried_in: list[Project] = field(default_factory=list)  # from the year before
    rating_counts: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "needs": len(self.needs),
            "resources": len(self.resources),
            "projects": len(self.projects),
            "done": len(self.done),
            "carried": len(self.carried),
            "carried_in": len(self.carried_in),
        }


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(date(year, 1, 1), time(0), tzinfo=BEIJING)
    end = datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=BEIJING)
    return start, end


async def project_report(
    uow: UnitOfWork, actor: Actor, street_id: int, year: int | None = None
) -> ProjectReport:
    """The yearly report for the conference: what was asked (needs posted that year and
    put on the list), offered (resources), done (projects completed or rated), carried
    over."""
    listings._require_reader(actor, street_id)
    street = await listings.get_street(uow, street_id)
    year = year or beijing_year()
    start, end = _year_bounds(year)
    shown = [ListingState.LISTED, ListingState.FULFILLED, ListingState.WITHDRAWN]
    needs = list(
        await uow.session.scalars(
            select(Need)
            .where(
                Need.street_id == street_id,
                Need.created_at >= start,
                Need.created_at < end,
                Need.state.in_([s.value for s in shown]),
            )
            .options(selectinload(Need.poster_unit), selectinload(Need.community))
            .order_by(Need.id)
        )
    )
    resources = list(
        await uow.session.scalars(
            select(Resource)
            .where(
                Resource.street_id == street_id,
                Resource.created_at >= start,
                Resource.created_at < end,
                Resource.state.in_([s.value for s in shown]),
            )
            .options(selectinload(Resource.unit))
            .order_by(Resource.id)
        )
    )
    projects = list(
        await uow.session.scalars(
            select(Project)
            .where(
                Project.street_id == street_id,
                (Project.year == year) | (Project.carried_to_year == year),
            )
            .options(selectinload(Project.requester_unit), selectinload(Project.provider_unit))
            .order_by(Project.id)
        )
    )
    this_year = [p for p in projects if p.year == year]
    ratings: dict[str, int] = {r.value: 0 for r in Rating}
    for p in this_year:
        if p.rating and p.state == ProjectState.RATED:
            ratings[p.rating] = ratings.get(p.rating, 0) + 1
    return ProjectReport(
        street=street,
        year=year,
        needs=needs,
        resources=resources,
        projects=this_year,
        done=[p for p in this_year if p.state in DONE],
        carried=[p for p in this_year if (p.carried_to_year or 0) > year],
        carried_in=[p for p in projects if p.carried_to_year == year],
        rating_counts=ratings,
    )
