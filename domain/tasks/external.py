"""Tasks from outside systems: 12345 hotline work orders (接诉即办) sent by machine clients.

A client holds a bearer token (`gongjian api-token create`) and is trusted like the
platform itself: it files work orders into any street and reads any task. A work order
is created once per (token, external id) however often the client retries: a repeated
external id returns the task filed the first time, even if the repeated order differs.

Without a lead unit the order waits as a draft (草稿) for the street to dispatch; with
one it is assigned at once, the street office being the assigner, and the clock starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from domain.enums import (
    AssigneeRole,
    LimitUnit,
    OrgLevel,
    TaskEventKind,
    TaskSource,
    TaskState,
    UnitKind,
)
from domain.errors import Conflict, ValidationFailed
from domain.models import ApiToken, Organization, Task, TaskAssignee, Unit
from domain.models.base import utcnow
from domain.parsing import is_row_id
from domain.services.street_settings import get_settings
from domain.tasks.access import load_task
from domain.tasks.calendar import BEIJING
from domain.tasks.forms import MAX_ASSISTING, handler_kinds, street_office
from domain.tasks.handoff import assign
from domain.tasks.records import publish_task, record
from domain.uow import UnitOfWork

EXTERNAL_ID_MAX = 80
TITLE_MAX = 200
DESCRIPTION_MAX = 5000
LOCATION_MAX = 200
STREET_NAME_MAX = 100
CALLER_NAME_MAX = 50
CALLER_PHONE_MAX = 30
TIMESTAMP_MAX = 40
LIMIT_BOUNDS: dict[LimitUnit, int] = {
    LimitUnit.WORKING_DAYS: 90,
    LimitUnit.HOURS: 720,
    LimitUnit.MINUTES: 1440,
}
# Units a work order may go to: anyone in the street but the street office itself.
HANDLER_KINDS = handler_kinds(TaskSource.HOTLINE)
FIELDS = frozenset(
    {
        "external_id",
        "title",
        "description",
        "location",
        "address",
        "street",
        "lead_unit_id",
        "assisting_unit_ids",
        "limit",
        "called_at",
        "caller_name",
        "caller_phone",
    }
)


@dataclass(frozen=True)
class WorkOrder:
    """A work order as read from the payload, before its street and units are looked up."""

    external_id: str
    title: str
    description: str
    location: str
    street: int | str
    lead: int | None
    assisting: list[int]
    limit: tuple[int, LimitUnit] | None
    called_at: datetime | None
    caller_name: str
    caller_phone: str


# ---- reading the payload -----------------------------------------------------------------


def _is_clean(text: str) -> bool:
    """No NUL or other control characters (tab and newlines aside) and no lone surrogates:
    PostgreSQL refuses NUL in text, and a surrogate cannot be encoded at all."""
    return not any(
        (ord(c) < 32 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF or c == "\x7f"
        for c in text
    )


def _text(
    payload: Mapping[str, object],
    key: str,
    maximum: int,
    errors: dict[str, str],
    message: str,
    *,
    required: bool = False,
) -> str:
    value = payload.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, str) and not _is_clean(value):
        errors[key] = "含有不允许的字符（控制字符或无效的 Unicode）。"
        return ""
    if not isinstance(value, str):
        errors[key] = message
        return ""
    value = value.strip()
    if (required and not value) or len(value) > maximum:
        errors[key] = message
    return value


def _row_id(value: object) -> int | None:
    # bool is an int in Python, but `true` is no unit number.
    if isinstance(value, int) and not isinstance(value, bool) and is_row_id(value):
        return value
    return None


def read_external_id(payload: Mapping[str, object]) -> str | None:
    value = payload.get("external_id")
    if isinstance(value, str) and _is_clean(value):
        value = value.strip()
        if 0 < len(value) <= EXTERNAL_ID_MAX:
            return value
    return None


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 moment; without an offset it is Beijing time. None if it is none."""
    if len(text) > TIMESTAMP_MAX or not text.isascii():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def parse_work_order(payload: Mapping[str, object]) -> WorkOrder:
    """Types, lengths and ranges, with every mistake named at once."""
    errors: dict[str, str] = {}
    for key in payload:
        if key not in FIELDS:
            errors[key] = "不支持的字段。"
    external_id = read_external_id(payload)
    if external_id is None:
        errors["external_id"] = f"请填写外部工单编号（1–{EXTERNAL_ID_MAX} 个字符的文本）。"
    title = _text(
        payload,
        "title",
        TITLE_MAX,
        errors,
        f"请填写任务标题（不超过 {TITLE_MAX} 字）。",
        required=True,
    )
    description = _text(
        payload,
        "description",
        DESCRIPTION_MAX,
        errors,
        f"任务内容须为不超过 {DESCRIPTION_MAX} 字的文本。",
    )
    # `address` is another name for `location` (a null one counts as not given).
    given = {k for k in ("location", "address") if payload.get(k) is not None}
    location_key = "address" if given == {"address"} else "location"
    if len(given) == 2:
        errors["address"] = "location 与 address 是同一项，只填一个。"
    location = _text(
        payload, location_key, LOCATION_MAX, errors, f"地点须为不超过 {LOCATION_MAX} 字的文本。"
    )

    raw_street = payload.get("street")
    street: int | str | None = _row_id(raw_street)
    if isinstance(raw_street, str) and _is_clean(raw_street) and raw_street.strip():
        street = raw_street.strip()[: STREET_NAME_MAX + 1]
    elif street is None:
        errors["street"] = "请填写街道：街道编号，或街道全称（如“新华街道”）。"

    lead: int | None = None
    if payload.get("lead_unit_id") is not None:
        lead = _row_id(payload["lead_unit_id"])
        if lead is None:
            errors["lead_unit_id"] = "主办单位须为单位编号（正整数）。"
    assisting: list[int] = []
    raw_assisting = payload.get("assisting_unit_ids")
    if raw_assisting is not None:
        ids = (
            [_row_id(v) for v in raw_assisting[: MAX_ASSISTING + 2]]
            if isinstance(raw_assisting, list)
            else [None]
        )
        if None in ids:
            errors["assisting_unit_ids"] = "协办单位须为单位编号（正整数）的列表。"
        else:
            assisting = sorted({i for i in ids if i is not None and i != lead})
        if isinstance(raw_assisting, list) and len(raw_assisting) > MAX_ASSISTING:
            errors["assisting_unit_ids"] = f"协办单位最多 {MAX_ASSISTING} 个。"
        elif assisting and payload.get("lead_unit_id") is None:
            errors["assisting_unit_ids"] = "指定协办单位时须同时指定主办单位。"

    limit = _limit(payload.get("limit"), errors)

    called_at: datetime | None = None
    raw_called = payload.get("called_at")
    if raw_called is not None:
        called_at = parse_timestamp(raw_called) if isinstance(raw_called, str) else None
        if called_at is None:
            errors["called_at"] = "来电时间须为 ISO 8601 格式，如 2026-11-29T08:30:00+08:00。"
    caller_name = _text(
        payload,
        "caller_name",
        CALLER_NAME_MAX,
        errors,
        f"来电人须为不超过 {CALLER_NAME_MAX} 字的文本。",
    )
    caller_phone = _text(
        payload,
        "caller_phone",
        CALLER_PHONE_MAX,
        errors,
        f"联系电话须为不超过 {CALLER_PHONE_MAX} 个字符的文本。",
    )
    if errors or external_id is None or street is None:
        raise ValidationFailed(errors)
    return WorkOrder(
        external_id,
        title,
        description,
        location,
        street,
        lead,
        assisting,
        limit,
        called_at,
        caller_name,
        caller_phone,
    )


def _limit(raw: object, errors: dict[str, str]) -> tuple[int, LimitUnit] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"value", "unit"}:
        errors["limit"] = (
            '办理时限须为对象：{"value": 整数, "unit": "working_days"|"hours"|"minutes"}。'
        )
        return None
    unit_text = raw.get("unit", LimitUnit.WORKING_DAYS.value)
    try:
        unit = LimitUnit(unit_text) if isinstance(unit_text, str) else None
    except ValueError:
        unit = None
    if unit is None:
        errors["limit.unit"] = (
            "时限单位须为 working_days（工作日）、hours（小时）或 minutes（分钟）。"
        )
        return None
    value = raw.get("value")
    bound = LIMIT_BOUNDS[unit]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= bound:
        units = {
            LimitUnit.WORKING_DAYS: "个工作日",
            LimitUnit.HOURS: "小时",
            LimitUnit.MINUTES: "分钟",
        }
        errors["limit.value"] = f"办理时限须为 1–{bound} {units[unit]}（整数）。"
        return None
    return value, unit


# ---- creating ----------------------------------------------------------------------------


async def find_existing(uow: UnitOfWork, token_id: int, external_id: str) -> Task | None:
    task_id = await uow.session.scalar(
        select(Task.id).where(Task.api_token_id == token_id, Task.external_id == external_id)
    )
    return await load_task(uow, task_id) if task_id is not None else None


async def _street(uow: UnitOfWork, ref: int | str) -> Organization:
    if isinstance(ref, int):
        street = await uow.session.get(Organization, ref)
        if street is None or street.level != OrgLevel.STREET:
            raise ValidationFailed({"street": f"编号为 {ref} 的街道不存在。"})
        return street
    found = list(
        await uow.session.scalars(
            select(Organization)
            .where(Organization.name == ref, Organization.level == OrgLevel.STREET.value)
            .limit(2)
        )
    )
    if not found:
        raise ValidationFailed({"street": "没有这个名称的街道（须为街道全称）。"})
    if len(found) > 1:
        raise ValidationFailed({"street": "有多个同名街道，请改用街道编号。"})
    return found[0]


async def _handlers(uow: UnitOfWork, street_id: int, order: WorkOrder) -> dict[int, Unit]:
    wanted = ([order.lead] if order.lead is not None else []) + order.assisting
    if not wanted:
        return {}
    units = {
        u.id: u
        for u in await uow.session.scalars(
            select(Unit).where(
                Unit.id.in_(wanted),
                Unit.street_id == street_id,
                Unit.active,
                Unit.kind.in_(HANDLER_KINDS),
            )
        )
    }
    errors: dict[str, str] = {}
    if order.lead is not None and order.lead not in units:
        errors["lead_unit_id"] = "主办单位须为该街道在册的部门、驻区单位或社区。"
    if any(a not in units for a in order.assisting):
        errors["assisting_unit_ids"] = "协办单位须为该街道在册的部门、驻区单位或社区。"
    if errors:
        raise ValidationFailed(errors)
    return units


def _full_description(order: WorkOrder) -> str:
    """The citizen's call as the handling units need it (to call back), under the text."""
    lines = [f"【12345 工单】编号：{order.external_id}"]
    if order.called_at is not None:
        lines.append(f"来电时间：{order.called_at.astimezone(BEIJING):%Y-%m-%d %H:%M}")
    caller = "　".join(
        part
        for part in (
            f"来电人：{order.caller_name}" if order.caller_name else "",
            f"联系电话：{order.caller_phone}" if order.caller_phone else "",
        )
        if part
    )
    if caller:
        lines.append(caller)
    head = "\n".join(lines)
    return f"{order.description}\n\n{head}" if order.description else head


async def _insert_once(uow: UnitOfWork, values: dict[str, Any]) -> int | None:
    """Insert the task unless this token's external id exists: the new id, or None.

    `ON CONFLICT DO NOTHING` rather than catching IntegrityError in a SAVEPOINT: on
    PostgreSQL a concurrent twin waits for the first insert and then does nothing (no
    aborted transaction to recover), and with the pysqlite driver a SAVEPOINT that is a
    transaction's first write commits on release, which would defeat the unit of work.
    """
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Task)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["api_token_id", "external_id"])
        .returning(Task.id)
    )
    new_id: int | None = (await uow.session.execute(stmt)).scalar_one_or_none()
    return new_id


async def create_from_work_order(
    uow: UnitOfWork, token: ApiToken, payload: Mapping[str, object]
) -> tuple[Task, bool]:
    """The task for this work order, and whether it was created now (False: it existed)."""
    external_id = read_external_id(payload)
    if external_id is not None:
        # A retry returns what the first request filed, before anything else is checked:
        # a unit retired since then must not turn a retry into an error.
        existing = await find_existing(uow, token.id, external_id)
        if existing is not None:
            return existing, False
    order = parse_work_order(payload)
    street = await _street(uow, order.street)
    units = await _handlers(uow, street.id, order)
    assigner = await street_office(uow, street.id)
    if order.limit is None:
        settings = await get_settings(uow, street.id)
        limit = (settings["hotline_limit_days"], LimitUnit.WORKING_DAYS)
    else:
        limit = order.limit
    now = utcnow()
    new_id = await _insert_once(
        uow,
        {
            "street_id": street.id,
            "source": TaskSource.HOTLINE.value,
            "title": order.title,
            "description": _full_description(order),
            "location": order.location,
            "assigner_unit_id": assigner.id,
            "api_token_id": token.id,
            "external_id": order.external_id,
            # A community handling a hotline order is outside its admission list (准入外).
            "outside_admission": any(u.kind == UnitKind.COMMUNITY for u in units.values()),
            "state": TaskState.DRAFTED.value,
            "limit_value": limit[0],
            "limit_unit": limit[1].value,
            "created_at": now,
            "updated_at": now,
        },
    )
    if new_id is None:
        # The same order arrived twice at once and the other request filed it.
        existing = await find_existing(uow, token.id, order.external_id)
        if existing is None:
            raise Conflict("同一工单正在被另一个请求提交，请稍后重试。")
        return existing, False

    task = await load_task(uow, new_id)
    roles = [(order.lead, AssigneeRole.LEAD)] if order.lead is not None else []
    roles += [(a, AssigneeRole.ASSIST) for a in order.assisting]
    for unit_id, role in roles:
        row = TaskAssignee(task_id=task.id, unit_id=unit_id, role=role.value, open=False)
        row.unit = units[unit_id]
        task.assignees.append(row)
    await uow.flush()
    record(
        uow,
        task,
        TaskEventKind.TRANSITION,
        action="create",
        to_state=TaskState.DRAFTED.value,
        text=f"12345 工单 {order.external_id}（接口令牌 {token.name}）",
        at=now,
    )
    if order.lead is not None:
        await assign(uow, task, now=now)
    summary = "并交办" if order.lead is not None else "待街道派单"
    uow.audit(
        "task.create",
        "task",
        task.id,
        f"接口令牌 {token.name} 提交 12345 工单 {order.external_id}（{summary}）：{order.title}",
    )
    publish_task(uow, task)
    return task, True
