"""Gaps (党建真空) and 应建未建 organisations, and the one-click task that closes one: the
street office hands the work to the carrier's joint committee (or a community) through the
task handoff flow, and the task is remembered on the organisation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from domain.coverage.access import require_read, require_write
from domain.coverage.carriers import check_version, publish_change
from domain.coverage.figures import gap_clause, should_build_clause
from domain.coverage.orgs import carrier_clause
from domain.coverage.rules import is_gap, should_build
from domain.enums import LimitUnit, TaskSource, UnitKind
from domain.errors import NotFound, ValidationFailed
from domain.models import Carrier, EmergingOrg, Task, Unit
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor
from domain.services.street_settings import get_settings
from domain.tasks.forms import handler_kinds
from domain.tasks.handoff import create_task
from domain.tasks.machine import FINISHED_STATES
from domain.uow import UnitOfWork

MAX_GAPS = 500
FINISHED_VALUES = frozenset(s.value for s in FINISHED_STATES)


@dataclass(frozen=True)
class GapRow:
    org: EmergingOrg
    gap: bool  # 党建真空: neither organisation nor work coverage
    should_build: bool  # 应建未建
    task_id: int | None
    task_state: str | None

    @property
    def task_open(self) -> bool:
        return self.task_id is not None and self.task_state not in FINISHED_VALUES


async def task_states(uow: UnitOfWork, task_ids: set[int]) -> dict[int, str]:
    if not task_ids:
        return {}
    rows = await uow.session.execute(select(Task.id, Task.state).where(Task.id.in_(task_ids)))
    return {tid: state for tid, state in rows}


async def list_gaps(uow: UnitOfWork, street_id: int, carrier_id: int | None = None) -> list[GapRow]:
    """The street's gaps and 应建未建 organisations (two statements)."""
    query = (
        select(EmergingOrg)
        .where(
            EmergingOrg.street_id == street_id,
            EmergingOrg.active,
            or_(gap_clause(), should_build_clause()),
        )
        .options(joinedload(EmergingOrg.carrier))
        .order_by(EmergingOrg.party_members.desc(), EmergingOrg.name)
        .limit(MAX_GAPS)
    )
    if carrier_id:
        query = query.where(carrier_clause(carrier_id))
    orgs = list(await uow.session.scalars(query))
    states = await task_states(uow, {o.gap_task_id for o in orgs if o.gap_task_id})
    return [
        GapRow(
            org=o,
            gap=is_gap(o.coverage_mode, o.instructor_name),
            should_build=should_build(o.coverage_mode, o.party_members),
            task_id=o.gap_task_id,
            task_state=states.get(o.gap_task_id) if o.gap_task_id else None,
        )
        for o in orgs
    ]


@dataclass(frozen=True)
class GapTaskForm:
    org: EmergingOrg
    handlers: list[Unit]
    default_unit_id: int | None
    title: str
    limit_days: int


def gap_title(org: EmergingOrg) -> str:
    if should_build(org.coverage_mode, org.party_members):
        return f"推动{org.name}建立党组织"[:200]
    return f"推动{org.name}实现党的工作覆盖"[:200]


async def _load(uow: UnitOfWork, org_id: int) -> EmergingOrg:
    org = (
        await uow.session.scalar(
            select(EmergingOrg)
            .where(EmergingOrg.id == org_id)
            .options(joinedload(EmergingOrg.carrier).joinedload(Carrier.joint_unit))
        )
        if is_row_id(org_id)
        else None
    )
    if org is None or not org.active:
        raise NotFound("组织不存在。")
    return org


async def gap_task_form(uow: UnitOfWork, actor: Actor, org_id: int) -> GapTaskForm:
    org = await _load(uow, org_id)
    require_read(actor, org.street_id)
    handlers = list(
        await uow.session.scalars(
            select(Unit)
            .where(
                Unit.street_id == org.street_id,
                Unit.active,
                Unit.kind.in_(handler_kinds(TaskSource.ASSIGNMENT)),
            )
            .order_by(Unit.kind.desc(), Unit.name)
        )
    )
    ids = {u.id for u in handlers}
    default: int | None = None
    carrier = org.carrier
    if carrier is not None and carrier.joint_unit_id in ids:
        default = carrier.joint_unit_id
    elif carrier is not None and carrier.parent_id is not None:
        park = await uow.session.get(Carrier, carrier.parent_id)
        if park is not None and park.joint_unit_id in ids:
            default = park.joint_unit_id
    if default is None:
        # The community of the covering unit (or of the carrier's committee), else none.
        community_id = await _community_of(uow, org)
        for u in handlers:
            if u.kind == UnitKind.COMMUNITY.value and u.community_id == community_id:
                default = u.id
                break
    settings = await get_settings(uow, org.street_id)
    return GapTaskForm(org, handlers, default, gap_title(org), settings["task_limit_days"])


async def _community_of(uow: UnitOfWork, org: EmergingOrg) -> int | None:
    unit_id = org.covering_unit_id or (org.carrier.joint_unit_id if org.carrier else None)
    if unit_id is None:
        return None
    unit = await uow.session.get(Unit, unit_id)
    return unit.community_id if unit is not None else None


async def create_gap_task(
    uow: UnitOfWork, actor: Actor, org_id: int, raw: Mapping[str, str]
) -> Task:
    """交办补建任务: the street office assigns it at once; refused while one is open."""
    org = await _load(uow, org_id)
    require_write(actor, org.street_id)
    check_version(org, parse_id(raw.get("version", "")))
    if not (
        is_gap(org.coverage_mode, org.instructor_name)
        or should_build(org.coverage_mode, org.party_members)
    ):
        raise ValidationFailed({}, "该组织已实现党的工作覆盖，无需交办补建任务。")
    if org.gap_task_id is not None:
        state = (await task_states(uow, {org.gap_task_id})).get(org.gap_task_id)
        if state is not None and state not in FINISHED_VALUES:
            raise ValidationFailed({}, "该组织已有未办结的补建任务，请勿重复交办。")
    form = await gap_task_form(uow, actor, org_id)
    lead = parse_id(raw.get("lead_unit_id", ""))
    if lead is None or lead not in {u.id for u in form.handlers}:
        raise ValidationFailed({"lead_unit_id": "请选择承办单位。"})
    carrier = org.carrier.name if org.carrier else "未归入载体"
    description = "\n".join(
        line
        for line in (
            f"组织：{org.name}（{carrier}）",
            f"统一社会信用代码：{org.credit_code}" if org.credit_code else "",
            f"从业人员 {org.employees} 人，党员 {org.party_members} 人。",
            "请推动建立党组织或选派党建指导员，实现党的组织覆盖和工作覆盖。",
            raw.get("note", "").strip()[:1000],
        )
        if line
    )
    task = await create_task(
        uow,
        actor,
        org.street_id,
        TaskSource.ASSIGNMENT,
        {
            "title": raw.get("title", "").strip() or form.title,
            "description": description,
            "location": org.carrier.address if org.carrier else "",
            "lead_unit_id": str(lead),
            "limit_value": raw.get("limit_value", "").strip() or str(form.limit_days),
            "limit_unit": LimitUnit.WORKING_DAYS.value,
        },
        [],
        assign_now=True,
    )
    org.gap_task_id = task.id
    await uow.flush()
    uow.audit(
        "emerging_org.gap_task",
        "emerging_org",
        org.id,
        f"交办补建任务：{task.title}",
        None,
        {"task_id": task.id},
    )
    publish_change(uow, org.street_id, "gap")
    return task
