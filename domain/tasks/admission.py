"""The community admission catalogue (社区事务准入目录) of a street.

    applied ─admit──▶ admitted ─withdraw─▶ withdrawn
            ─deny───▶ denied              (a note is required)
            ─withdraw─────────────────────▶ withdrawn

A department liaison applies for a matter to be put on communities, citing its policy
basis; the street secretary may also enter one directly (and admit it at once). The
street's secretary or supervisor reviews; the applicant department or the street may
withdraw. A task sent to a community that names no admitted matter of its street is
flagged by the task services (`check_admission`): the community may refuse it without
penalty and it is left out of that community's scoring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from domain.conference.access import users_acting_for
from domain.enums import AdmissionState, OrgLevel, Role, UnitKind
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.labels import label
from domain.models import AdmissionItem, AuditEntry, Organization, RoleGrant, Unit, User
from domain.models.base import utcnow
from domain.parsing import is_row_id, parse_id
from domain.permissions import Actor, can_view_directory, can_view_street, require
from domain.services.notifications import notify
from domain.topics import street_topic
from domain.uow import UnitOfWork, snapshot

# Fixed, so the catalogue groups the same way in every street.
CATEGORIES: tuple[str, ...] = (
    "党建工作",
    "综合治理",
    "城市管理",
    "民政服务",
    "社会保障",
    "卫生健康",
    "文化教育",
    "安全生产",
    "其他",
)
TITLE_MAX = 200
BASIS_MAX = 500  # the column's size
DESCRIPTION_MAX = 2000
NOTE_MAX = 500
REVIEWERS = (Role.STREET_SECRETARY, Role.SUPERVISOR)
OPEN_STATES = (AdmissionState.APPLIED.value, AdmissionState.ADMITTED.value)
AUDITED_FIELDS = ("title", "category", "basis", "description", "applicant_unit_id", "state")
NOT_FOUND = "准入事项不存在，或不在您可查看的范围内。"
APPLY_REFUSED = "只有本街道的职能部门联络员或街道书记可以申请准入事项。"

A = AdmissionState


# Who may do what (pure: templates ask the same questions) --------------------------------


def can_read_catalogue(actor: Actor, street_id: int) -> bool:
    """Whoever acts in the street (staff, departments, units, communities), the district."""
    return can_view_directory(actor) and can_view_street(actor, street_id)


def can_enter(actor: Actor, street_id: int) -> bool:
    """The street enters matters directly (and may admit them at once)."""
    return actor.is_admin or street_id in actor.streets_with(Role.STREET_SECRETARY)


def can_review(actor: Actor, street_id: int) -> bool:
    return actor.is_admin or street_id in actor.streets_with(*REVIEWERS)


def is_dept_liaison_in(actor: Actor, street_id: int) -> bool:
    return any(g.role == Role.DEPT_LIAISON and g.street_id == street_id for g in actor.grants)


def can_apply(actor: Actor, street_id: int) -> bool:
    return can_enter(actor, street_id) or is_dept_liaison_in(actor, street_id)


def is_party_to(actor: Actor, item: AdmissionItem) -> bool:
    """The applicant department's liaisons and the street's reviewers."""
    own = item.applicant_unit_id in actor.unit_ids_with(Role.DEPT_LIAISON)
    return own or can_review(actor, item.street_id)


def can_withdraw(actor: Actor, item: AdmissionItem) -> bool:
    return item.state in OPEN_STATES and is_party_to(actor, item)


def matches_admission(item_ids_admitted: set[int], chosen: int | None) -> bool:
    return chosen is not None and chosen in item_ids_admitted


# Reading ---------------------------------------------------------------------------------


async def get_street(uow: UnitOfWork, actor: Actor, street_id: int) -> Organization:
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if (
        street is None
        or street.level != OrgLevel.STREET
        or not can_read_catalogue(actor, street_id)
    ):
        raise NotFound("街道不存在，或不在您可查看的范围内。")
    return street


async def reachable_streets(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    """Streets whose catalogue this actor may read (a district viewer or admin: several)."""
    if not can_view_directory(actor):
        return []
    stmt = select(Organization).where(Organization.level == OrgLevel.STREET)
    if not actor.is_admin:
        stmt = stmt.where(Organization.id.in_(actor.visible_street_ids))
    return list(await uow.session.scalars(stmt.order_by(Organization.id)))


async def list_items(
    uow: UnitOfWork,
    actor: Actor,
    street_id: int,
    state: str | None = None,
    q: str | None = None,
) -> list[AdmissionItem]:
    """A street's catalogue, optionally one state and a search in title, basis or category."""
    await get_street(uow, actor, street_id)
    stmt = select(AdmissionItem).where(AdmissionItem.street_id == street_id)
    if state:
        stmt = stmt.where(AdmissionItem.state == state)
    text = (q or "").strip()
    if text:
        stmt = stmt.where(
            or_(
                AdmissionItem.title.contains(text, autoescape=True),
                AdmissionItem.basis.contains(text, autoescape=True),
                AdmissionItem.category.contains(text, autoescape=True),
            )
        )
    rows = await uow.session.scalars(
        stmt.options(selectinload(AdmissionItem.applicant_unit)).order_by(
            AdmissionItem.category, AdmissionItem.title, AdmissionItem.id
        )
    )
    return list(rows)


async def state_counts(uow: UnitOfWork, street_id: int) -> dict[str, int]:
    """How many matters of the street are in each state (for the filter tabs)."""
    rows = await uow.session.execute(
        select(AdmissionItem.state, func.count())
        .where(AdmissionItem.street_id == street_id)
        .group_by(AdmissionItem.state)
    )
    counts = {s.value: 0 for s in AdmissionState}
    counts.update({state: int(n) for state, n in rows})
    return counts


async def get_item(uow: UnitOfWork, actor: Actor, item_id: int) -> AdmissionItem:
    item = (
        await uow.session.scalar(
            select(AdmissionItem)
            .where(AdmissionItem.id == item_id)
            .options(selectinload(AdmissionItem.applicant_unit))
        )
        if is_row_id(item_id)
        else None
    )
    if item is None or not can_read_catalogue(actor, item.street_id):
        raise NotFound(NOT_FOUND)
    return item


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    text: str  # says who, too


@dataclass(frozen=True)
class ItemView:
    item: AdmissionItem
    street: Organization
    applied_by: str
    reviewed_by: str
    history: list[HistoryEntry]


async def item_view(uow: UnitOfWork, actor: Actor, item_id: int) -> ItemView:
    """An item with the names around it and its history (from the audit log)."""
    item = await get_item(uow, actor, item_id)
    street = await uow.session.get(Organization, item.street_id)
    assert street is not None
    user_ids = {i for i in (item.applied_by_id, item.reviewed_by_id) if i is not None}
    rows = await uow.session.execute(
        select(User.id, User.display_name).where(User.id.in_(user_ids))
    )
    names = {uid: name for uid, name in rows}
    entries = await uow.session.execute(
        select(AuditEntry.at, AuditEntry.summary)
        .where(AuditEntry.object_type == "admission_item", AuditEntry.object_id == str(item.id))
        .order_by(AuditEntry.id)
    )
    history = [HistoryEntry(at, summary) for at, summary in entries]
    return ItemView(
        item=item,
        street=street,
        applied_by=names.get(item.applied_by_id or 0, ""),
        reviewed_by=names.get(item.reviewed_by_id or 0, ""),
        history=history,
    )


async def admitted_items(uow: UnitOfWork, street_id: int) -> list[AdmissionItem]:
    """The admitted matters of a street, for the task form and the task services."""
    rows = await uow.session.scalars(
        select(AdmissionItem)
        .where(AdmissionItem.street_id == street_id, AdmissionItem.state == A.ADMITTED.value)
        .order_by(AdmissionItem.category, AdmissionItem.title, AdmissionItem.id)
    )
    return list(rows)


async def check_admission(
    uow: UnitOfWork, street_id: int, item_id: int | None
) -> AdmissionItem | None:
    """The admitted item `item_id` names in this street, or None (the task is 准入外)."""
    if item_id is None or not is_row_id(item_id):
        return None
    item = await uow.session.get(AdmissionItem, item_id)
    if item is None or item.street_id != street_id or item.state != A.ADMITTED:
        return None
    return item


async def applicant_choices(uow: UnitOfWork, actor: Actor, street_id: int) -> dict[int, str]:
    """Departments this actor may apply for: the street, all of its departments; a liaison,
    their own."""
    stmt = select(Unit.id, Unit.name).where(
        Unit.street_id == street_id, Unit.kind == UnitKind.DEPARTMENT, Unit.active
    )
    if not can_enter(actor, street_id):
        stmt = stmt.where(Unit.id.in_(actor.unit_ids_with(Role.DEPT_LIAISON)))
    return {uid: name for uid, name in await uow.session.execute(stmt.order_by(Unit.name))}


# Changing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFields:
    title: str
    category: str
    basis: str
    description: str
    applicant_unit_id: int | None


def check_fields(
    raw: Mapping[str, str], choices: Mapping[int, str], *, street_entry: bool
) -> ItemFields:
    """Validate an application. The street may leave the applicant department blank."""
    errors: dict[str, str] = {}
    title = raw.get("title", "").strip()
    if not title:
        errors["title"] = "请填写事项名称。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"事项名称不能超过 {TITLE_MAX} 个字。"
    category = raw.get("category", "").strip()
    if category not in CATEGORIES:
        errors["category"] = "请选择事项类别。"
    basis = raw.get("basis", "").strip()
    if not basis:
        errors["basis"] = "请填写政策依据（将该事项交由社区承担的法律法规或文件）。"
    elif len(basis) > BASIS_MAX:
        errors["basis"] = f"政策依据不能超过 {BASIS_MAX} 个字。"
    description = raw.get("description", "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"事项说明不能超过 {DESCRIPTION_MAX} 个字。"
    unit_raw = raw.get("applicant_unit_id", "").strip()
    unit_id = parse_id(unit_raw) if unit_raw else None
    if unit_raw and unit_id not in choices:
        errors["applicant_unit_id"] = "请选择本街道的职能部门。"
        unit_id = None
    elif unit_id is None and not street_entry:
        if len(choices) == 1:
            unit_id = next(iter(choices))
        else:
            errors["applicant_unit_id"] = "请选择申请部门。"
    if errors:
        raise ValidationFailed(errors)
    return ItemFields(title, category, basis, description, unit_id)


async def apply_item(
    uow: UnitOfWork, actor: Actor, street_id: int, raw: Mapping[str, str]
) -> AdmissionItem:
    """A department applies for a matter; the street enters one (admitted at once with
    `admit_now`, if it may review)."""
    street = await get_street(uow, actor, street_id)
    require(can_apply(actor, street_id), APPLY_REFUSED)
    street_entry = can_enter(actor, street_id)
    choices = await applicant_choices(uow, actor, street_id)
    if not street_entry and not choices:
        raise PermissionDenied("您所在的部门不属于本街道，不能申请本街道的准入事项。")
    fields = check_fields(raw, choices, street_entry=street_entry)
    clash = await uow.session.scalar(
        select(AdmissionItem.id).where(
            AdmissionItem.street_id == street_id,
            AdmissionItem.title == fields.title,
            AdmissionItem.state.in_(OPEN_STATES),
        )
    )
    if clash:
        raise ValidationFailed({"title": "本街道的准入目录中已有同名事项（待审核或已准入）。"})
    item = AdmissionItem(
        street_id=street_id,
        title=fields.title,
        category=fields.category,
        basis=fields.basis,
        description=fields.description,
        applicant_unit_id=fields.applicant_unit_id,
        applied_by_id=actor.user_id,
        state=A.APPLIED.value,
    )
    uow.session.add(item)
    await uow.flush()
    applicant = choices.get(fields.applicant_unit_id or 0, street.name)
    uow.audit(
        "admission.apply",
        "admission_item",
        item.id,
        f"{actor.display_name}（{applicant}）{'申请准入' if item.applicant_unit_id else '录入'}："
        f"{item.title}",
        None,
        _snap(item),
    )
    if raw.get("admit_now") and can_review(actor, street_id):
        await _decide(uow, actor, item, A.ADMITTED, raw.get("review_note", ""))
    else:
        reviewers = await _reviewers(uow, street_id)
        notify(
            uow,
            reviewers - {actor.user_id},
            "admission.applied",
            f"准入申请待审核：{item.title}",
            f"{applicant}申请将该事项列入{street.name}社区事务准入目录。政策依据：{item.basis}",
            f"/admission/{item.id}",
        )
    _publish(uow, item)
    return item


async def review_item(
    uow: UnitOfWork, actor: Actor, item_id: int, version: int, decision: str, note: str
) -> AdmissionItem:
    """The street admits or denies an application (a denial says why)."""
    item = await get_item(uow, actor, item_id)
    require(can_review(actor, item.street_id), "只有本街道书记或督办员可以审核准入申请。")
    _check_current(item, version, (A.APPLIED,))
    if decision == "admit":
        to = A.ADMITTED
    elif decision == "deny":
        to = A.DENIED
    else:
        raise ValidationFailed({}, "请选择“准入”或“不予准入”。")
    await _decide(uow, actor, item, to, note)
    _publish(uow, item)
    return item


async def withdraw_item(
    uow: UnitOfWork, actor: Actor, item_id: int, version: int, note: str
) -> AdmissionItem:
    """The applicant department or the street takes a matter off (an admitted one: with a
    reason, since communities may then refuse such tasks)."""
    item = await get_item(uow, actor, item_id)
    require(is_party_to(actor, item), "只有申请部门或本街道书记、督办员可以撤回该事项。")
    was = AdmissionState(item.state)
    _check_current(item, version, (A.APPLIED, A.ADMITTED))
    note = note.strip()
    if was == A.ADMITTED and not note:
        raise ValidationFailed({"withdraw_note": "撤回已准入的事项须说明原因。"})
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"withdraw_note": f"原因不能超过 {NOTE_MAX} 个字。"})
    before = _snap(item)
    item.state = A.WITHDRAWN.value
    item.withdrawn_at = utcnow()
    await uow.flush()
    after = {**_snap(item), "note": note}
    why = f"：{note}" if note else ""
    uow.audit(
        "admission.withdraw",
        "admission_item",
        item.id,
        f"{actor.display_name} 撤回（原为{label(was)}）{why}",
        before,
        after,
    )
    by_department = item.applicant_unit_id in actor.unit_ids_with(Role.DEPT_LIAISON)
    to_notify = (
        await _reviewers(uow, item.street_id)
        if by_department
        else await _department_users(uow, item.applicant_unit_id)
    )
    notify(
        uow,
        to_notify - {actor.user_id},
        "admission.withdrawn",
        f"准入事项已撤回：{item.title}",
        note,
        f"/admission/{item.id}",
    )
    _publish(uow, item)
    return item


async def _decide(
    uow: UnitOfWork, actor: Actor, item: AdmissionItem, to: AdmissionState, note: str
) -> None:
    note = note.strip()
    if to == A.DENIED and not note:
        raise ValidationFailed({"review_note": "不予准入须说明理由。"})
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"review_note": f"审核意见不能超过 {NOTE_MAX} 个字。"})
    before = _snap(item)
    item.state = to.value
    item.review_note = note
    item.reviewed_by_id = actor.user_id
    item.reviewed_at = utcnow()
    await uow.flush()
    why = f"：{note}" if note else ""
    uow.audit(
        f"admission.{'admit' if to == A.ADMITTED else 'deny'}",
        "admission_item",
        item.id,
        f"{actor.display_name} 审核：{label(to)}{why}",
        before,
        {**_snap(item), "review_note": note},
    )
    notify(
        uow,
        await _department_users(uow, item.applicant_unit_id) - {actor.user_id},
        f"admission.{to.value}",
        f"准入申请{label(to)}：{item.title}",
        note,
        f"/admission/{item.id}",
    )


def _check_current(item: AdmissionItem, version: int, states: tuple[AdmissionState, ...]) -> None:
    # The form carries the version it was rendered from: an item changed meanwhile (reviewed,
    # withdrawn) is not acted on blind.
    if item.version != version or item.state not in states:
        raise Conflict(
            f"准入事项“{item.title}”已被他人处理或修改（当前：{label(item.state)}），"
            "您的操作未保存。请查看最新内容后再操作。"
        )


async def _reviewers(uow: UnitOfWork, street_id: int) -> set[int]:
    """Active users who review the street's applications (secretaries and supervisors)."""
    rows = await uow.session.scalars(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.organization_id == street_id,
            RoleGrant.role.in_([r.value for r in REVIEWERS]),
            User.active,
        )
    )
    return set(rows)


async def _department_users(uow: UnitOfWork, unit_id: int | None) -> set[int]:
    return await users_acting_for(uow, [unit_id]) if unit_id is not None else set()


def _publish(uow: UnitOfWork, item: AdmissionItem) -> None:
    uow.publish(street_topic(item.street_id), "admission.changed", item_id=item.id)


def _snap(item: AdmissionItem) -> dict[str, object]:
    return snapshot(item, AUDITED_FIELDS)
