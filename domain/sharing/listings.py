"""Needs and resources: post, vet, edit, withdraw, list and search.

A posting waits for the street to vet it (`pending_vetting`); approved it is listed,
rejected it goes back to its poster with a reason and may be edited and re-submitted.
Search is one LIKE per word on `search_text` (lower-cased title, description, tags,
category, skills and facilities), refreshed on every save, so a Chinese substring
(活动室 in 党员活动室) is found on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from domain.conference.access import acting_units, users_acting_for
from domain.enums import ListingState, OrgLevel, ResourceKind, Role, UnitKind
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Claim, Organization, RoleGrant, Unit, User
from domain.models.base import utcnow
from domain.models.sharing import Need, Resource
from domain.permissions import Actor, can_view_directory, can_view_street
from domain.services.notifications import notify
from domain.sharing.categories import NEED_CATEGORIES, RESOURCE_CATEGORIES
from domain.topics import street_topic
from domain.uow import UnitOfWork

Which = Literal["need", "resource"]
Listing = Need | Resource
STREET_STAFF = (Role.STREET_SECRETARY, Role.SUPERVISOR)
PAGE_SIZE = 30
EDITABLE = (ListingState.PENDING, ListingState.REJECTED)
# Fields each kind of resource must state, with the message when missing.
KIND_REQUIRED: dict[ResourceKind, dict[str, str]] = {
    ResourceKind.VENUE: {
        "capacity": "请填写场地可容纳人数。",
        "address": "请填写场地地址。",
        "opening_hours": "请填写开放时间。",
    },
    ResourceKind.EQUIPMENT: {},
    ResourceKind.VOLUNTEERS: {
        "volunteer_count": "请填写志愿者人数。",
        "skills": "请填写志愿者的技能特长。",
    },
    ResourceKind.EXPERTISE: {"skills": "请填写可提供的专业领域。"},
    ResourceKind.FUNDS: {"amount": "请填写资金金额（元）。"},
    ResourceKind.SERVICE: {},
}
KIND_FIELDS = ("capacity", "address", "opening_hours", "facilities", "volunteer_count", "skills")
TEXT_LIMITS = {
    "title": 200,
    "description": 4000,
    "beneficiaries": 200,
    "tags": 200,
    "availability": 300,
    "conditions": 500,
    "address": 200,
    "opening_hours": 200,
    "facilities": 300,
    "skills": 300,
}


def is_street_staff(actor: Actor, street_id: int) -> bool:
    return actor.is_admin or street_id in actor.streets_with(*STREET_STAFF)


def _require_reader(actor: Actor, street_id: int) -> None:
    if not (can_view_directory(actor) and can_view_street(actor, street_id)):
        raise PermissionDenied("您无权查看该街道的清单。")


def build_search_text(item: Listing) -> str:
    parts = [item.title, item.description, item.tags, item.category]
    if isinstance(item, Resource):
        parts += [item.skills, item.facilities]
    return " ".join(p for p in parts if p).lower()


def escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- who posts ------------------------------------------------------------------------


async def posting_units(uow: UnitOfWork, actor: Actor, street_id: int, which: Which) -> list[Unit]:
    """Units this actor may post a need (community committees, the street office) or a
    resource (stationed units) for, in this street."""
    units = [u for u in await acting_units(uow, actor) if u.street_id == street_id]
    if which == "need":
        units = [u for u in units if u.kind == UnitKind.COMMUNITY]
    else:
        units = [u for u in units if u.kind == UnitKind.STATIONED]
    if which == "need" and is_street_staff(actor, street_id):
        units += list(
            await uow.session.scalars(
                select(Unit).where(
                    Unit.street_id == street_id, Unit.kind == UnitKind.STREET_OFFICE, Unit.active
                )
            )
        )
    return units


async def _acts_for(uow: UnitOfWork, actor: Actor, unit_id: int) -> bool:
    return any(u.id == unit_id for u in await acting_units(uow, actor))


# ---- parsing --------------------------------------------------------------------------


def _text(data: dict[str, str], name: str, errors: dict[str, str]) -> str:
    value = (data.get(name) or "").strip()
    limit = TEXT_LIMITS.get(name, 200)
    if len(value) > limit:
        errors[name] = f"不能超过 {limit} 个字。"
    return value


def _int(data: dict[str, str], name: str, errors: dict[str, str], maximum: int) -> int | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 <= int(raw) <= maximum:
        errors[name] = f"请填写 0 到 {maximum} 之间的整数。"
        return None
    return int(raw)


def _date(data: dict[str, str], name: str, errors: dict[str, str]) -> date | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 2026-12-01。"
        return None


def _normalise_tags(raw: str) -> str:
    words = [w.strip() for w in raw.replace("，", ",").replace("、", ",").split(",")]
    return "，".join(dict.fromkeys(w for w in words if w))


def _parse_need(data: dict[str, str]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "title": _text(data, "title", errors),
        "description": _text(data, "description", errors),
        "beneficiaries": _text(data, "beneficiaries", errors),
        "tags": _normalise_tags(_text(data, "tags", errors)),
        "category": (data.get("category") or "").strip(),
        "beneficiary_count": _int(data, "beneficiary_count", errors, 1_000_000) or 0,
        "wanted_from": _date(data, "wanted_from", errors),
        "wanted_to": _date(data, "wanted_to", errors),
    }
    if not values["title"]:
        errors["title"] = "请填写需求名称。"
    if values["category"] not in NEED_CATEGORIES:
        errors["category"] = "请选择需求类别。"
    if not values["description"]:
        errors["description"] = "请描述需求内容。"
    start, end = values["wanted_from"], values["wanted_to"]
    if start and end and end < start:
        errors["wanted_to"] = "结束日期不能早于开始日期。"
    if errors:
        raise ValidationFailed(errors)
    return values


def _parse_resource(data: dict[str, str], kind: ResourceKind) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        name: _text(data, name, errors)
        for name in (
            "title",
            "description",
            "availability",
            "conditions",
            "address",
            "opening_hours",
            "facilities",
            "skills",
        )
    }
    values["tags"] = _normalise_tags(_text(data, "tags", errors))
    values["category"] = (data.get("category") or "").strip()
    values["capacity"] = _int(data, "capacity", errors, 100_000)
    values["volunteer_count"] = _int(data, "volunteer_count", errors, 100_000)
    values["amount"] = _int(data, "amount", errors, 2_000_000_000)
    if not values["title"]:
        errors["title"] = "请填写资源名称。"
    if values["category"] not in RESOURCE_CATEGORIES:
        errors["category"] = "请选择资源类别。"
    if not values["availability"] and kind != ResourceKind.FUNDS:
        errors["availability"] = "请说明何时可以提供。"
    for name, message in KIND_REQUIRED[kind].items():
        if values.get(name) in (None, "") and name not in errors:
            errors[name] = message
    if errors:
        raise ValidationFailed(errors)
    # Fields of other kinds are dropped, so a venue carries no stray volunteer count.
    keep = set(KIND_REQUIRED[kind]) | ({"facilities"} if kind == ResourceKind.VENUE else set())
    for name in (*KIND_FIELDS, "amount"):
        if name not in keep:
            values[name] = None if name in ("capacity", "volunteer_count", "amount") else ""
    values["bookable"] = kind in (ResourceKind.VENUE, ResourceKind.EQUIPMENT)
    return values


def parse_kind(raw: str | None) -> ResourceKind | None:
    try:
        return ResourceKind(raw or "")
    except ValueError:
        return None


# ---- writing --------------------------------------------------------------------------


async def get_street(uow: UnitOfWork, street_id: int) -> Organization:
    street = await uow.session.get(Organization, street_id)
    if street is None or street.level != OrgLevel.STREET:
        raise NotFound("街道不存在。")
    return street


async def _poster_unit(
    uow: UnitOfWork, actor: Actor, street_id: int, which: Which, raw: str | None
) -> Unit:
    units = await posting_units(uow, actor, street_id, which)
    if not units:
        raise PermissionDenied(
            "只有社区或街道可以发布需求。" if which == "need" else "只有驻区单位可以发布资源。"
        )
    if len(units) == 1 and not raw:
        return units[0]
    for unit in units:
        if str(unit.id) == (raw or "").strip():
            return unit
    raise ValidationFailed({"unit_id": "请选择发布单位。"})


async def _staff_ids(uow: UnitOfWork, street_id: int) -> set[int]:
    return set(
        await uow.session.scalars(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                RoleGrant.organization_id == street_id,
                RoleGrant.role.in_([r.value for r in STREET_STAFF]),
                User.active,
            )
        )
    )


def _link(item: Listing) -> str:
    return f"/needs/{item.id}" if isinstance(item, Need) else f"/resources/{item.id}"


def _noun(item: Listing) -> str:
    return "需求" if isinstance(item, Need) else "资源"


async def _after_submit(uow: UnitOfWork, item: Listing, action: str) -> None:
    item.search_text = build_search_text(item)
    await uow.flush()
    uow.audit(action, type(item).__name__.lower(), item.id, item.title)
    notify(
        uow,
        await _staff_ids(uow, item.street_id),
        "sharing.vet",
        f"待审核{_noun(item)}：{item.title}",
        link=_link(item),
    )
    uow.publish(street_topic(item.street_id), "sharing.changed")


async def post_need(uow: UnitOfWork, actor: Actor, street_id: int, data: dict[str, str]) -> Need:
    await get_street(uow, street_id)
    unit = await _poster_unit(uow, actor, street_id, "need", data.get("unit_id"))
    values = _parse_need(data)
    need = Need(
        street_id=street_id,
        community_id=unit.community_id,
        poster_unit_id=unit.id,
        created_by_id=actor.user_id,
        state=ListingState.PENDING.value,
        **values,
    )
    uow.session.add(need)
    await _after_submit(uow, need, "need.posted")
    return need


async def post_resource(
    uow: UnitOfWork, actor: Actor, street_id: int, kind: ResourceKind, data: dict[str, str]
) -> Resource:
    await get_street(uow, street_id)
    unit = await _poster_unit(uow, actor, street_id, "resource", data.get("unit_id"))
    values = _parse_resource(data, kind)
    resource = Resource(
        street_id=street_id,
        unit_id=unit.id,
        kind=kind.value,
        created_by_id=actor.user_id,
        state=ListingState.PENDING.value,
        **values,
    )
    uow.session.add(resource)
    await _after_submit(uow, resource, "resource.posted")
    return resource


async def _load(uow: UnitOfWork, which: Which, item_id: int) -> Listing:
    item: Listing | None
    if which == "need":
        item = await uow.session.scalar(
            select(Need)
            .where(Need.id == item_id)
            .options(selectinload(Need.poster_unit), selectinload(Need.community))
        )
    else:
        item = await uow.session.scalar(
            select(Resource).where(Resource.id == item_id).options(selectinload(Resource.unit))
        )
    if item is None:
        raise NotFound(f"该{'需求' if which == 'need' else '资源'}不存在。")
    return item


def _owner_unit_id(item: Listing) -> int:
    return item.poster_unit_id if isinstance(item, Need) else item.unit_id


def _check_version(item: Listing, version: str | int | None) -> None:
    if str(version or "") != str(item.version):
        raise Conflict()


async def _owned(uow: UnitOfWork, actor: Actor, which: Which, item_id: int) -> Listing:
    item = await _load(uow, which, item_id)
    unit_id = _owner_unit_id(item)
    street_office = isinstance(item, Need) and item.poster_unit.kind == UnitKind.STREET_OFFICE
    if not (
        await _acts_for(uow, actor, unit_id)
        or (street_office and is_street_staff(actor, item.street_id))
    ):
        raise PermissionDenied("只有发布单位可以修改或撤回。")
    return item


async def edit(
    uow: UnitOfWork, actor: Actor, which: Which, item_id: int, data: dict[str, str]
) -> Listing:
    """Change a posting still pending or rejected; it goes (back) to the street for vetting."""
    item = await _owned(uow, actor, which, item_id)
    _check_version(item, data.get("version"))
    if item.state not in EDITABLE:
        raise Conflict("已上架或已下架的条目不能修改。")
    if isinstance(item, Need):
        values = _parse_need(data)
    else:
        values = _parse_resource(data, ResourceKind(item.kind))
    for name, value in values.items():
        setattr(item, name, value)
    item.state = ListingState.PENDING.value
    item.reject_reason = ""
    item.updated_at = utcnow()
    await _after_submit(uow, item, f"{which}.resubmitted")
    return item


async def vet(
    uow: UnitOfWork,
    actor: Actor,
    which: Which,
    item_id: int,
    version: str | int | None,
    approve: bool,
    reason: str = "",
) -> Listing:
    item = await _load(uow, which, item_id)
    if not is_street_staff(actor, item.street_id):
        raise PermissionDenied("只有街道书记或督办员可以审核。")
    _check_version(item, version)
    if item.state != ListingState.PENDING:
        raise Conflict("该条目已审核过。")
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationFailed({"reason": "请填写不通过的原因。"})
    if len(reason) > 500:
        raise ValidationFailed({"reason": "原因不能超过 500 个字。"})
    item.state = (ListingState.LISTED if approve else ListingState.REJECTED).value
    item.reject_reason = "" if approve else reason
    item.vetted_by_id = actor.user_id
    item.vetted_at = item.updated_at = utcnow()
    await uow.flush()
    uow.audit(f"{which}.{'listed' if approve else 'rejected'}", which, item.id, item.title)
    title = (
        f"{_noun(item)}已上架：{item.title}"
        if approve
        else f"{_noun(item)}未通过审核：{item.title}"
    )
    users = await users_acting_for(uow, [_owner_unit_id(item)])
    if item.created_by_id:
        users.add(item.created_by_id)
    notify(uow, users, "sharing.vetted", title, body=reason, link=_link(item))
    uow.publish(street_topic(item.street_id), "sharing.changed")
    return item


async def withdraw(
    uow: UnitOfWork, actor: Actor, which: Which, item_id: int, version: str | int | None
) -> Listing:
    """Take a posting off the list: its poster, or the street."""
    item = await _load(uow, which, item_id)
    if not is_street_staff(actor, item.street_id):
        item = await _owned(uow, actor, which, item_id)
    _check_version(item, version)
    if item.state in (ListingState.WITHDRAWN, ListingState.FULFILLED):
        raise Conflict("该条目已下架。")
    item.state = ListingState.WITHDRAWN.value
    item.updated_at = utcnow()
    await uow.flush()
    uow.audit(f"{which}.withdrawn", which, item.id, item.title)
    uow.publish(street_topic(item.street_id), "sharing.changed")
    return item


# ---- reading --------------------------------------------------------------------------


@dataclass
class ListFilters:
    q: str = ""
    state: str = ""  # "" = listed only for most readers
    category: str = ""
    kind: str = ""
    unit_id: int | None = None
    community_id: int | None = None
    tag: str = ""
    page: int = 1


@dataclass
class ListPage:
    street: Organization
    which: Which
    items: list[Any]
    total: int
    page: int
    pages: int
    can_vet: bool
    can_post: bool
    units: list[Unit] = field(default_factory=list)
    communities: list[Organization] = field(default_factory=list)
    own_unit_ids: frozenset[int] = frozenset()
    # item id → (claims waiting for an answer, claims accepted): claim status on the list.
    claims: dict[int, tuple[int, int]] = field(default_factory=dict)


async def claim_counts(uow: UnitOfWork, which: Which, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Pending and accepted claims of a page of items, in one grouped query."""
    if not ids:
        return {}
    column = Claim.need_id if which == "need" else Claim.resource_id
    rows = await uow.session.execute(
        select(column, Claim.state, func.count())
        .where(column.in_(ids), Claim.state.in_(["claim_pending", "claim_accepted"]))
        .group_by(column, Claim.state)
    )
    counts: dict[int, list[int]] = {}
    for item_id, state, n in rows:
        if item_id is not None:
            counts.setdefault(item_id, [0, 0])[0 if state == "claim_pending" else 1] = int(n)
    return {k: (v[0], v[1]) for k, v in counts.items()}


def _search(stmt: Select[Any], column: Any, q: str) -> Select[Any]:
    for word in q.lower().split()[:5]:
        stmt = stmt.where(column.like(f"%{escape_like(word)}%", escape="\\"))
    return stmt


async def list_items(
    uow: UnitOfWork, actor: Actor, street_id: int, which: Which, f: ListFilters
) -> ListPage:
    _require_reader(actor, street_id)
    street = await get_street(uow, street_id)
    staff = is_street_staff(actor, street_id) or actor.has(Role.DISTRICT_VIEWER, Role.CITY_VIEWER)
    own = frozenset(u.id for u in await acting_units(uow, actor))
    model: Any = Need if which == "need" else Resource
    owner = model.poster_unit_id if which == "need" else model.unit_id
    stmt = select(model).where(model.street_id == street_id)
    if f.state in set(ListingState):
        stmt = stmt.where(model.state == f.state)
        if not staff:  # others see what is listed, and their own units' postings
            stmt = stmt.where((model.state == ListingState.LISTED) | owner.in_(own))
    else:
        stmt = stmt.where(model.state == ListingState.LISTED)
    if f.category:
        stmt = stmt.where(model.category == f.category)
    if which == "resource" and f.kind in set(ResourceKind):
        stmt = stmt.where(model.kind == f.kind)
    if f.unit_id:
        stmt = stmt.where(owner == f.unit_id)
    if f.community_id:
        if which == "need":
            stmt = stmt.where(model.community_id == f.community_id)
        else:
            stmt = stmt.where(owner.in_(select(Unit.id).where(Unit.community_id == f.community_id)))
    stmt = _search(stmt, model.search_text, f.q)
    if f.tag:
        stmt = stmt.where(model.tags.like(f"%{escape_like(f.tag)}%", escape="\\"))
    total = int(await uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    load = (
        [selectinload(Need.poster_unit), selectinload(Need.community)]
        if which == "need"
        else [selectinload(Resource.unit)]
    )
    items = list(
        await uow.session.scalars(
            stmt.options(*load)
            .order_by(model.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    kinds = (
        [UnitKind.COMMUNITY, UnitKind.STREET_OFFICE] if which == "need" else [UnitKind.STATIONED]
    )
    units = list(
        await uow.session.scalars(
            select(Unit)
            .where(Unit.street_id == street_id, Unit.kind.in_(kinds), Unit.active)
            .order_by(Unit.name)
        )
    )
    communities = list(
        await uow.session.scalars(
            select(Organization)
            .where(Organization.parent_id == street_id, Organization.level == OrgLevel.COMMUNITY)
            .order_by(Organization.name)
        )
    )
    return ListPage(
        street=street,
        which=which,
        items=items,
        total=total,
        page=page,
        pages=pages,
        can_vet=is_street_staff(actor, street_id),
        can_post=bool(await posting_units(uow, actor, street_id, which)),
        units=units,
        communities=communities,
        own_unit_ids=own,
        claims=await claim_counts(uow, which, [i.id for i in items]),
    )


@dataclass
class ItemPage:
    item: Any
    which: Which
    can_vet: bool
    can_edit: bool
    can_withdraw: bool


async def get_item(uow: UnitOfWork, actor: Actor, which: Which, item_id: int) -> ItemPage:
    item = await _load(uow, which, item_id)
    _require_reader(actor, item.street_id)
    owner = await _acts_for(uow, actor, _owner_unit_id(item)) or (
        isinstance(item, Need)
        and item.poster_unit.kind == UnitKind.STREET_OFFICE
        and is_street_staff(actor, item.street_id)
    )
    staff = is_street_staff(actor, item.street_id)
    if item.state != ListingState.LISTED and not (
        owner or staff or actor.has(Role.DISTRICT_VIEWER, Role.CITY_VIEWER)
    ):
        raise NotFound(f"该{_noun(item)}尚未上架。")
    live = item.state in (ListingState.PENDING, ListingState.LISTED, ListingState.REJECTED)
    return ItemPage(
        item=item,
        which=which,
        can_vet=staff and item.state == ListingState.PENDING,
        can_edit=owner and item.state in EDITABLE,
        can_withdraw=(owner or staff) and live,
    )


async def export_rows(
    uow: UnitOfWork, actor: Actor, street_id: int
) -> tuple[Organization, list[Need], list[Resource]]:
    """The listed needs and resources of a street, for the conference's printed lists."""
    _require_reader(actor, street_id)
    street = await get_street(uow, street_id)
    needs = list(
        await uow.session.scalars(
            select(Need)
            .where(Need.street_id == street_id, Need.state == ListingState.LISTED)
            .options(selectinload(Need.poster_unit), selectinload(Need.community))
            .order_by(Need.id)
        )
    )
    resources = list(
        await uow.session.scalars(
            select(Resource)
            .where(Resource.street_id == street_id, Resource.state == ListingState.LISTED)
            .options(selectinload(Resource.unit))
            .order_by(Resource.id)
        )
    )
    return street, needs, resources


async def home_street(uow: UnitOfWork, actor: Actor) -> int | None:
    """The street whose lists the nav opens: the user's own, or for a platform admin (who
    holds no street grant) the first street there is."""
    streets = sorted(actor.visible_street_ids)
    if streets:
        return streets[0]
    if not actor.is_admin:
        return None
    return await uow.session.scalar(
        select(Organization.id)
        .where(Organization.level == OrgLevel.STREET.value)
        .order_by(Organization.id)
        .limit(1)
    )
