"""Two-way claiming (双向认领): a unit claims a listed need, a community requests a listed
resource; the owner of the listing accepts or declines with a reason, the claimant may
withdraw while it waits. Accepting creates the co-building project (共建项目) in the same
transaction.

One pending claim per claimant and listing is enforced by partial unique indexes; the
IntegrityError of a second one becomes a Conflict with a Chinese message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from domain.conference.access import acting_units, users_acting_for
from domain.enums import ClaimDirection, ClaimState, ListingState, ProjectState, UnitKind
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Unit
from domain.models.base import utcnow
from domain.models.sharing import Claim, Need, Project, Resource
from domain.permissions import Actor
from domain.services.notifications import notify
from domain.sharing import listings
from domain.tasks.calendar import BEIJING
from domain.topics import street_topic
from domain.uow import UnitOfWork

CLAIMING_KINDS = (UnitKind.STATIONED, UnitKind.DEPARTMENT)
DUPLICATE = "您已提交过认领或申请，正在等待对方回复，请勿重复提交。"


def beijing_year(now: datetime | None = None) -> int:
    return (now or utcnow()).astimezone(BEIJING).year


def _check_version(obj: Claim | Project, version: str | int | None) -> None:
    if str(version or "") != str(obj.version):
        raise Conflict()


async def claiming_units(
    uow: UnitOfWork, actor: Actor, street_id: int, which: listings.Which
) -> list[Unit]:
    """Units this actor may claim a need for (stationed units, departments) or request a
    resource for (residents' committees, and the street office for street staff)."""
    if which == "resource":
        return await listings.posting_units(uow, actor, street_id, "need")
    return [
        u
        for u in await acting_units(uow, actor)
        if u.street_id == street_id and u.kind in CLAIMING_KINDS and u.active
    ]


async def acts_for_unit(uow: UnitOfWork, actor: Actor, unit_id: int, street_id: int) -> bool:
    """The actor speaks for this unit: its liaison / community secretary, or street staff
    for the street office."""
    units = await acting_units(uow, actor)
    if any(u.id == unit_id for u in units):
        return True
    if listings.is_street_staff(actor, street_id):
        unit = await uow.session.get(Unit, unit_id)
        return unit is not None and unit.kind == UnitKind.STREET_OFFICE
    return False


def _pick_unit(units: list[Unit], raw: str | None, denied: str) -> Unit:
    if not units:
        raise PermissionDenied(denied)
    if len(units) == 1 and not (raw or "").strip():
        return units[0]
    for unit in units:
        if str(unit.id) == (raw or "").strip():
            return unit
    raise ValidationFailed({"unit_id": "请选择以哪个单位的名义提交。"})


def _message(data: dict[str, str]) -> str:
    message = (data.get("message") or "").strip()
    if len(message) > 1000:
        raise ValidationFailed({"message": "留言不能超过 1000 个字。"})
    return message


async def _create(
    uow: UnitOfWork, actor: Actor, which: listings.Which, item_id: int, data: dict[str, str]
) -> Claim:
    item = await listings._load(uow, which, item_id)
    listings._require_reader(actor, item.street_id)
    if item.state != ListingState.LISTED:
        raise Conflict("只能认领或申请已上架的条目。")
    owner_id = listings._owner_unit_id(item)
    denied = (
        "只有驻区单位或职能部门可以认领需求。"
        if which == "need"
        else "只有社区或街道可以申请资源。"
    )
    units = [u for u in await claiming_units(uow, actor, item.street_id, which) if u.id != owner_id]
    unit = _pick_unit(units, data.get("unit_id"), denied)
    message = _message(data)
    claim = Claim(
        street_id=item.street_id,
        direction=(
            ClaimDirection.UNIT_CLAIMS_NEED
            if which == "need"
            else ClaimDirection.COMMUNITY_REQUESTS_RESOURCE
        ).value,
        need_id=item.id if which == "need" else None,
        resource_id=item.id if which == "resource" else None,
        claimant_unit_id=unit.id,
        owner_unit_id=owner_id,
        message=message,
        state=ClaimState.PENDING.value,
        created_by_id=actor.user_id,
    )
    uow.session.add(claim)
    try:
        await uow.session.flush()
    except IntegrityError:
        raise Conflict(DUPLICATE) from None
    verb = "认领了需求" if which == "need" else "申请使用资源"
    uow.audit(f"claim.{claim.direction}", "claim", claim.id, f"{unit.name}{verb}：{item.title}")
    notify(
        uow,
        await users_acting_for(uow, [owner_id]),
        "sharing.claim",
        f"{unit.name}{verb}：{item.title}",
        body=message,
        link=listings._link(item),
    )
    uow.publish(street_topic(item.street_id), "sharing.changed")
    return claim


async def claim_need(uow: UnitOfWork, actor: Actor, need_id: int, data: dict[str, str]) -> Claim:
    """A stationed unit or department claims a listed need (单位认领需求)."""
    return await _create(uow, actor, "need", need_id, data)


async def request_resource(
    uow: UnitOfWork, actor: Actor, resource_id: int, data: dict[str, str]
) -> Claim:
    """A community (or the street office) requests a listed resource (社区申请资源)."""
    return await _create(uow, actor, "resource", resource_id, data)


async def _load_claim(uow: UnitOfWork, claim_id: int) -> Claim:
    claim = await uow.session.get(Claim, claim_id)
    if claim is None:
        raise NotFound("该认领记录不存在。")
    return claim


async def _listing(uow: UnitOfWork, claim: Claim) -> Need | Resource:
    if claim.need_id is not None:
        return await listings._load(uow, "need", claim.need_id)
    assert claim.resource_id is not None
    return await listings._load(uow, "resource", claim.resource_id)


async def _decidable(
    uow: UnitOfWork, actor: Actor, claim_id: int, version: str | int | None
) -> Claim:
    claim = await _load_claim(uow, claim_id)
    if not await acts_for_unit(uow, actor, claim.owner_unit_id, claim.street_id):
        raise PermissionDenied("只有发布单位可以接受或婉拒。")
    _check_version(claim, version)
    if claim.state != ClaimState.PENDING:
        raise Conflict("该认领已处理过。")
    return claim


async def accept(
    uow: UnitOfWork, actor: Actor, claim_id: int, version: str | int | None
) -> Project:
    """The owner accepts: the claim becomes a co-building project between the two units."""
    claim = await _decidable(uow, actor, claim_id, version)
    item = await _listing(uow, claim)
    claim.state = ClaimState.ACCEPTED.value
    claim.decided_by_id = actor.user_id
    claim.decided_at = utcnow()
    by_need = claim.direction == ClaimDirection.UNIT_CLAIMS_NEED
    project = Project(
        street_id=claim.street_id,
        year=beijing_year(),
        claim_id=claim.id,
        need_id=claim.need_id,
        resource_id=claim.resource_id,
        title=item.title,
        description=item.description,
        requester_unit_id=claim.owner_unit_id if by_need else claim.claimant_unit_id,
        provider_unit_id=claim.claimant_unit_id if by_need else claim.owner_unit_id,
        state=ProjectState.AGREED.value,
        created_by_id=actor.user_id,
    )
    uow.session.add(project)
    await uow.flush()
    uow.audit("claim.accepted", "claim", claim.id, item.title)
    uow.audit("project.created", "project", project.id, project.title)
    notify(
        uow,
        await users_acting_for(uow, [claim.claimant_unit_id]),
        "sharing.claim_decided",
        f"认领已被接受，共建项目已立项：{item.title}",
        link=f"/projects/{project.id}",
    )
    uow.publish(street_topic(claim.street_id), "sharing.changed")
    return project


async def decline(
    uow: UnitOfWork, actor: Actor, claim_id: int, version: str | int | None, reason: str
) -> Claim:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "请填写婉拒的原因。"})
    if len(reason) > 500:
        raise ValidationFailed({"reason": "原因不能超过 500 个字。"})
    claim = await _decidable(uow, actor, claim_id, version)
    item = await _listing(uow, claim)
    claim.state = ClaimState.DECLINED.value
    claim.decline_reason = reason
    claim.decided_by_id = actor.user_id
    claim.decided_at = utcnow()
    await uow.flush()
    uow.audit("claim.declined", "claim", claim.id, item.title)
    notify(
        uow,
        await users_acting_for(uow, [claim.claimant_unit_id]),
        "sharing.claim_decided",
        f"认领被婉拒：{item.title}",
        body=reason,
        link=listings._link(item),
    )
    uow.publish(street_topic(claim.street_id), "sharing.changed")
    return claim


async def withdraw(
    uow: UnitOfWork, actor: Actor, claim_id: int, version: str | int | None
) -> Claim:
    claim = await _load_claim(uow, claim_id)
    if not await acts_for_unit(uow, actor, claim.claimant_unit_id, claim.street_id):
        raise PermissionDenied("只有提出认领的单位可以撤回。")
    _check_version(claim, version)
    if claim.state != ClaimState.PENDING:
        raise Conflict("该认领已处理过，不能撤回。")
    claim.state = ClaimState.WITHDRAWN.value
    claim.decided_at = utcnow()
    await uow.flush()
    uow.audit("claim.withdrawn", "claim", claim.id)
    uow.publish(street_topic(claim.street_id), "sharing.changed")
    return claim


# ---- reading --------------------------------------------------------------------------


@dataclass
class ClaimRow:
    claim: Claim
    claimant: Unit
    owner: Unit
    title: str
    link: str
    project_id: int | None = None


async def _rows(uow: UnitOfWork, claims: list[Claim]) -> list[ClaimRow]:
    """Claims with their units, listing titles and projects: four queries in all."""
    if not claims:
        return []
    unit_ids = {c.claimant_unit_id for c in claims} | {c.owner_unit_id for c in claims}
    units = {u.id: u for u in await uow.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    need_ids = {c.need_id for c in claims if c.need_id}
    res_ids = {c.resource_id for c in claims if c.resource_id}
    titles: dict[tuple[str, int], str] = {}
    if need_ids:
        for i, t in await uow.session.execute(
            select(Need.id, Need.title).where(Need.id.in_(need_ids))
        ):
            titles[("need", i)] = t
    if res_ids:
        for i, t in await uow.session.execute(
            select(Resource.id, Resource.title).where(Resource.id.in_(res_ids))
        ):
            titles[("resource", i)] = t
    projects = dict(
        (c, p)
        for c, p in await uow.session.execute(
            select(Project.claim_id, Project.id).where(Project.claim_id.in_([c.id for c in claims]))
        )
    )
    out = []
    for c in claims:
        key = ("need", c.need_id) if c.need_id else ("resource", c.resource_id or 0)
        out.append(
            ClaimRow(
                claim=c,
                claimant=units[c.claimant_unit_id],
                owner=units[c.owner_unit_id],
                title=titles.get(key, ""),
                link=f"/{key[0]}s/{key[1]}",
                project_id=projects.get(c.id),
            )
        )
    return out


@dataclass
class ClaimBox:
    """What a need/resource detail page shows about claiming it."""

    which: listings.Which
    item: Any
    units: list[Unit] = field(default_factory=list)  # the actor may claim for these
    is_owner: bool = False
    rows: list[ClaimRow] = field(default_factory=list)
    own_unit_ids: frozenset[int] = frozenset()

    @property
    def can_claim(self) -> bool:
        return bool(self.units) and self.item.state == ListingState.LISTED


async def claim_box(
    uow: UnitOfWork, actor: Actor, which: listings.Which, item: Need | Resource
) -> ClaimBox:
    owner_id = listings._owner_unit_id(item)
    own = frozenset(u.id for u in await acting_units(uow, actor))
    is_owner = await acts_for_unit(uow, actor, owner_id, item.street_id)
    units = [u for u in await claiming_units(uow, actor, item.street_id, which) if u.id != owner_id]
    column = Claim.need_id if which == "need" else Claim.resource_id
    stmt = select(Claim).where(column == item.id)
    staff = listings.is_street_staff(actor, item.street_id)
    if not (is_owner or staff):
        stmt = stmt.where(Claim.claimant_unit_id.in_(own or {0}))
    claims = list(await uow.session.scalars(stmt.order_by(Claim.id.desc())))
    return ClaimBox(
        which=which,
        item=item,
        units=units,
        is_owner=is_owner,
        rows=await _rows(uow, claims),
        own_unit_ids=own,
    )


@dataclass
class MyClaims:
    sent: list[ClaimRow]
    received: list[ClaimRow]
    own_unit_ids: frozenset[int]


async def my_claims(uow: UnitOfWork, actor: Actor) -> MyClaims:
    """Claims the actor's units sent, and those they received as owners."""
    units = await acting_units(uow, actor)
    ids = {u.id for u in units}
    streets = actor.streets_with(*listings.STREET_STAFF)
    if streets:
        ids |= set(
            await uow.session.scalars(
                select(Unit.id).where(
                    Unit.street_id.in_(streets), Unit.kind == UnitKind.STREET_OFFICE
                )
            )
        )
    if not ids:
        return MyClaims([], [], frozenset())
    claims = list(
        await uow.session.scalars(
            select(Claim)
            .where(or_(Claim.claimant_unit_id.in_(ids), Claim.owner_unit_id.in_(ids)))
            .order_by(Claim.id.desc())
            .limit(300)
        )
    )
    rows = await _rows(uow, claims)
    return MyClaims(
        sent=[r for r in rows if r.claim.claimant_unit_id in ids],
        received=[r for r in rows if r.claim.owner_unit_id in ids],
        own_unit_ids=frozenset(ids),
    )
