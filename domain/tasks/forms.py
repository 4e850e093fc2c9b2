"""What a new task is made of: the form's choices for a user and street, and the checks on
what was typed (shared by the page, the .xlsx import and the conference's decisions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from domain.enums import LimitUnit, Role, TaskSource, UnitKind, WhistleKind
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.labels import label
from domain.models import AdmissionItem, Organization, Unit
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor
from domain.services.street_settings import get_settings
from domain.tasks.access import STREET_STAFF
from domain.uow import UnitOfWork

MAX_ASSISTING = 20
# Who may handle a task, by where it came from: a whistle summons departments, a
# department hands work down to communities; the street assigns to any unit.
DEFAULT_HANDLER_KINDS = [
    UnitKind.DEPARTMENT.value,
    UnitKind.STATIONED.value,
    UnitKind.COMMUNITY.value,
]
HANDLER_KINDS = {
    TaskSource.WHISTLE: [UnitKind.DEPARTMENT.value],
    TaskSource.DEPT_HANDOFF: [UnitKind.COMMUNITY.value],
}


def handler_kinds(source: TaskSource) -> list[str]:
    return HANDLER_KINDS.get(source, DEFAULT_HANDLER_KINDS)


@dataclass(frozen=True)
class TaskForm:
    """What the new-task form offers this user in this street."""

    street: Organization
    source: TaskSource
    assigner: Unit
    handlers: list[Unit]  # units that may be chosen as lead or assisting
    admitted: list[AdmissionItem]
    defaults: dict[str, str]


async def street_office(uow: UnitOfWork, street_id: int) -> Unit:
    office = await uow.session.scalar(
        select(Unit).where(
            Unit.street_id == street_id, Unit.kind == UnitKind.STREET_OFFICE, Unit.active
        )
    )
    if office is None:
        raise ValidationFailed(
            {}, "本街道尚未登记“街道办事处”单位，无法交办。请先在单位名录中登记。"
        )
    return office


async def task_form(uow: UnitOfWork, actor: Actor, street_id: int, source: TaskSource) -> TaskForm:
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if street is None or street.level != "street":
        raise NotFound("街道不存在。")
    if source is TaskSource.DEPT_HANDOFF:
        departments = actor.unit_ids_with(Role.DEPT_LIAISON)
        assigner = await uow.session.scalar(
            select(Unit).where(
                Unit.id.in_(departments),
                Unit.street_id == street_id,
                Unit.kind == UnitKind.DEPARTMENT,
                Unit.active,
            )
        )
        if assigner is None:
            raise PermissionDenied("只有本街道职能部门的联络员可以向社区下派任务。")
        kinds = HANDLER_KINDS[source]
    elif source in (TaskSource.ASSIGNMENT, TaskSource.WHISTLE):
        if street_id not in actor.streets_with(*STREET_STAFF):
            raise PermissionDenied("只有本街道书记或督办员可以交办任务、吹哨。")
        assigner = await street_office(uow, street_id)
        kinds = handler_kinds(source)
    else:
        raise PermissionDenied("这类任务不能在此创建。")
    handlers = list(
        await uow.session.scalars(
            select(Unit)
            .where(Unit.street_id == street_id, Unit.active, Unit.kind.in_(kinds))
            .order_by(Unit.kind, Unit.name)
        )
    )
    admitted = list(
        await uow.session.scalars(
            select(AdmissionItem)
            .where(AdmissionItem.street_id == street_id, AdmissionItem.state == "admitted")
            .order_by(AdmissionItem.category, AdmissionItem.title)
        )
    )
    settings = await get_settings(uow, street_id)
    # Each kind of task has its street's default time limit (local rules, not constants).
    limit_value, limit_unit = {
        TaskSource.WHISTLE: (settings["whistle_limit_hours"], LimitUnit.HOURS),
        TaskSource.DEPT_HANDOFF: (settings["handoff_limit_days"], LimitUnit.WORKING_DAYS),
    }.get(source, (settings["task_limit_days"], LimitUnit.WORKING_DAYS))
    defaults = {
        "limit_value": str(limit_value),
        "limit_unit": limit_unit.value,
        "report_minutes": str(settings["whistle_report_minutes"]),
        "whistle_kind": WhistleKind.PUBLIC_CONCERN.value,
    }
    return TaskForm(street, source, assigner, handlers, admitted, defaults)


@dataclass(frozen=True)
class TaskInput:
    title: str
    description: str
    location: str
    lead: int
    assisting: list[int]
    limit_value: int
    limit_unit: LimitUnit
    whistle_kind: WhistleKind | None
    report_minutes: int | None
    admission_item_id: int | None


def parse_task_input(
    raw: Mapping[str, str],
    assisting_raw: Sequence[str],
    source: TaskSource,
    allowed_handlers: set[int],
    admitted: set[int],
) -> TaskInput:
    errors: dict[str, str] = {}
    title = raw.get("title", "").strip()
    if not title or len(title) > 200:
        errors["title"] = "请填写任务标题（不超过 200 字）。"
    description = raw.get("description", "").strip()
    if len(description) > 5000:
        errors["description"] = "任务内容不超过 5000 字。"
    location = raw.get("location", "").strip()
    if len(location) > 200:
        errors["location"] = "地点不超过 200 字。"
    lead = parse_id(raw.get("lead_unit_id", ""))
    if lead is None or lead not in allowed_handlers:
        errors["lead_unit_id"] = "请选择主办单位。"
    assisting = sorted({i for i in (parse_id(a) for a in assisting_raw) if i is not None})
    if lead is not None:
        assisting = [a for a in assisting if a != lead]
    if any(a not in allowed_handlers for a in assisting):
        errors["assisting"] = "协办单位须从列表中选择。"
    elif len(assisting) > MAX_ASSISTING:
        errors["assisting"] = f"协办单位最多 {MAX_ASSISTING} 个。"
    try:
        unit = LimitUnit(raw.get("limit_unit", ""))
    except ValueError:
        unit = LimitUnit.WORKING_DAYS
        errors["limit_unit"] = "请选择时限单位。"
    limit_value = _int(raw.get("limit_value", ""))
    bounds = {LimitUnit.WORKING_DAYS: 90, LimitUnit.HOURS: 720, LimitUnit.MINUTES: 1440}
    if limit_value is None or not 1 <= limit_value <= bounds[unit]:
        errors["limit_value"] = f"办理时限须为 1–{bounds[unit]} {label(unit)}。"
    whistle_kind: WhistleKind | None = None
    report_minutes: int | None = None
    if source is TaskSource.WHISTLE:
        try:
            whistle_kind = WhistleKind(raw.get("whistle_kind", ""))
        except ValueError:
            errors["whistle_kind"] = "请选择吹哨类型。"
        report_minutes = _int(raw.get("report_minutes", ""))
        if report_minutes is None or not 5 <= report_minutes <= 1440:
            errors["report_minutes"] = "报到时限须为 5–1440 分钟。"
    admission_item_id = parse_id(raw.get("admission_item_id", ""))
    if raw.get("admission_item_id", "").strip() and admission_item_id not in admitted:
        errors["admission_item_id"] = "请选择准入目录中已准入的事项。"
    if errors or lead is None or limit_value is None:
        raise ValidationFailed(errors)
    return TaskInput(
        title,
        description,
        location,
        lead,
        assisting,
        limit_value,
        unit,
        whistle_kind,
        report_minutes,
        admission_item_id,
    )


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None
