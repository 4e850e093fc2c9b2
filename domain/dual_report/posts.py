"""服务岗位: a community's service posts, members taking them up (认岗), service on them.

`ServicePost.taken` is changed only by conditional UPDATEs, so concurrent claims on a post
with a capacity never overfill it; the partial unique index keeps one live claim per member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from domain.dual_report.common import (
    LIVE_STATES,
    beijing_today,
    check_version,
    community,
    is_community_secretary,
    is_street_staff,
    publish_change,
)
from domain.enums import PointSource, PostClaimState, RegistrationState
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization, User
from domain.models.activities import PointEntry
from domain.models.base import utcnow
from domain.models.dual_report import MemberRegistration, PostClaim, ServicePost
from domain.permissions import Actor, can_view_street
from domain.services.notifications import notify
from domain.services.street_settings import get_settings
from domain.uow import UnitOfWork

CLAIMED = PostClaimState.CLAIMED.value
FULL = "该岗位名额已满。"
MAX_POSTS = 200


@dataclass(frozen=True)
class PostRow:
    post: ServicePost
    holders: list[tuple[PostClaim, User]]

    @property
    def full(self) -> bool:
        return self.post.capacity > 0 and self.post.taken >= self.post.capacity


@dataclass(frozen=True)
class CommunityPosts:
    community: Organization
    rows: list[PostRow]
    can_manage: bool
    my_post_ids: frozenset[int]
    my_registration: MemberRegistration | None


def parse_post(raw: Mapping[str, str]) -> tuple[str, str, int]:
    errors: dict[str, str] = {}
    name = raw.get("name", "").strip()
    if not name:
        errors["name"] = "请填写岗位名称。"
    elif len(name) > 100:
        errors["name"] = "岗位名称不超过 100 个字。"
    description = raw.get("description", "").strip()
    if len(description) > 1000:
        errors["description"] = "岗位说明不超过 1000 个字。"
    cap_text = raw.get("capacity", "").strip() or "0"
    capacity = int(cap_text) if cap_text.isdecimal() and len(cap_text) <= 4 else -1
    if capacity < 0:
        errors["capacity"] = "名额须为 0（不限）或正整数（不超过 9999）。"
    if errors:
        raise ValidationFailed(errors)
    return name, description, capacity


async def _post(uow: UnitOfWork, post_id: int) -> ServicePost:
    post = await uow.session.get(ServicePost, post_id)
    if post is None:
        raise NotFound("岗位不存在。")
    return post


def _require_secretary(actor: Actor, community_id: int) -> None:
    if not is_community_secretary(actor, community_id):
        raise PermissionDenied("只有本社区书记可以管理服务岗位。")


async def create_post(
    uow: UnitOfWork, actor: Actor, community_id: int, raw: Mapping[str, str]
) -> ServicePost:
    org = await community(uow, community_id)
    _require_secretary(actor, org.id)
    name, description, capacity = parse_post(raw)
    assert org.parent_id is not None
    post = ServicePost(
        community_id=org.id,
        street_id=org.parent_id,
        name=name,
        description=description,
        capacity=capacity,
        taken=0,
        active=True,
    )
    uow.session.add(post)
    await uow.flush()
    uow.audit("dual_report.post_create", "service_post", post.id, name)
    publish_change(uow, post.street_id)
    return post


async def update_post(
    uow: UnitOfWork, actor: Actor, post_id: int, version: int | None, raw: Mapping[str, str]
) -> ServicePost:
    post = await _post(uow, post_id)
    _require_secretary(actor, post.community_id)
    check_version(post.version, version)
    name, description, capacity = parse_post(raw)
    if capacity and capacity < post.taken:
        raise ValidationFailed({"capacity": f"已有 {post.taken} 人认领，名额不能少于此数。"})
    post.name, post.description, post.capacity = name, description, capacity
    await uow.flush()
    uow.audit("dual_report.post_update", "service_post", post.id, name)
    publish_change(uow, post.street_id)
    return post


async def set_active(
    uow: UnitOfWork, actor: Actor, post_id: int, version: int | None, active: bool
) -> ServicePost:
    """Deactivating a post releases its holders (they are told); reactivating reopens it."""
    post = await _post(uow, post_id)
    _require_secretary(actor, post.community_id)
    check_version(post.version, version)
    released: list[int] = []
    if not active and post.active:
        released = list(
            await uow.session.scalars(
                select(PostClaim.user_id).where(
                    PostClaim.post_id == post.id, PostClaim.state == CLAIMED
                )
            )
        )
        await uow.session.execute(
            update(PostClaim)
            .where(PostClaim.post_id == post.id, PostClaim.state == CLAIMED)
            .values(state=PostClaimState.RELEASED.value, released_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        post.taken = 0
    post.active = active
    await uow.flush()
    uow.audit("dual_report.post_active", "service_post", post.id, f"{post.name} active={active}")
    notify(uow, released, "dual_report", f"服务岗位“{post.name}”已停用", "您的认岗已解除。")
    publish_change(uow, post.street_id, released)
    return post


async def take_post(uow: UnitOfWork, post: ServicePost, user_id: int, registration_id: int) -> None:
    """Take one place on the post and record the claim, or raise (nothing changed)."""
    if not post.active:
        raise Conflict(f"岗位“{post.name}”已停用。")
    try:
        async with uow.session.begin_nested():
            result = await uow.session.execute(
                update(ServicePost)
                .where(
                    ServicePost.id == post.id,
                    (ServicePost.capacity == 0) | (ServicePost.taken < ServicePost.capacity),
                )
                .values(taken=ServicePost.taken + 1),
                execution_options={"synchronize_session": False},
            )
            if getattr(result, "rowcount", 0) != 1:
                raise Conflict(f"岗位“{post.name}”名额已满。")
            uow.session.add(
                PostClaim(post_id=post.id, user_id=user_id, registration_id=registration_id)
            )
            await uow.session.flush()
    except IntegrityError:
        raise Conflict(f"您已认领岗位“{post.name}”。") from None


async def give_back(uow: UnitOfWork, post_id: int, user_id: int) -> bool:
    """Release a member's live claim on a post; False if they held none."""
    result = await uow.session.execute(
        update(PostClaim)
        .where(
            PostClaim.post_id == post_id, PostClaim.user_id == user_id, PostClaim.state == CLAIMED
        )
        .values(state=PostClaimState.RELEASED.value, released_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    await uow.session.execute(
        update(ServicePost)
        .where(ServicePost.id == post_id, ServicePost.taken > 0)
        .values(taken=ServicePost.taken - 1),
        execution_options={"synchronize_session": False},
    )
    return True


async def live_registration(uow: UnitOfWork, user_id: int) -> MemberRegistration | None:
    return await uow.session.scalar(
        select(MemberRegistration).where(
            MemberRegistration.user_id == user_id, MemberRegistration.state.in_(LIVE_STATES)
        )
    )


async def claim(uow: UnitOfWork, actor: Actor, post_id: int) -> ServicePost:
    post = await _post(uow, post_id)
    reg = await live_registration(uow, actor.user_id)
    if (
        reg is None
        or reg.state != RegistrationState.CONFIRMED.value
        or reg.community_id != post.community_id
    ):
        raise PermissionDenied("只有已在本社区报到（已确认）的党员可以认领岗位。")
    await take_post(uow, post, actor.user_id, reg.id)
    uow.audit("dual_report.post_claim", "service_post", post.id, post.name)
    publish_change(uow, post.street_id, [actor.user_id])
    return post


async def release(uow: UnitOfWork, actor: Actor, post_id: int) -> ServicePost:
    post = await _post(uow, post_id)
    if not await give_back(uow, post.id, actor.user_id):
        raise Conflict("您没有认领这个岗位。")
    uow.audit("dual_report.post_release", "service_post", post.id, post.name)
    publish_change(uow, post.street_id, [actor.user_id])
    return post


def parse_service(raw: Mapping[str, str], today: date) -> tuple[int, date, Decimal, str]:
    errors: dict[str, str] = {}
    user_text = raw.get("user_id", "").strip()
    user_id = int(user_text) if user_text.isdecimal() and len(user_text) <= 9 else 0
    if not user_id:
        errors["user_id"] = "请选择服务的党员。"
    try:
        day = date.fromisoformat(raw.get("day", "").strip())
    except ValueError:
        day = None
    if day is None:
        errors["day"] = "请填写服务日期（如 2026-05-01）。"
    elif day > today:
        errors["day"] = "服务日期不能晚于今天。"
    elif day < today - timedelta(days=366):
        errors["day"] = "只能登记一年以内的服务。"
    try:
        hours = Decimal(raw.get("hours", "").strip())
    except InvalidOperation:
        hours = Decimal(0)
    if not hours.is_finite() or not Decimal("0.5") <= hours <= 24 or (hours * 2) % 1:
        errors["hours"] = "服务时长为 0.5–24 小时，按半小时计。"
    note = raw.get("note", "").strip()
    if len(note) > 300:
        errors["note"] = "备注不超过 300 个字。"
    if errors:
        raise ValidationFailed(errors)
    assert day is not None
    return user_id, day, hours, note


async def record_service(
    uow: UnitOfWork, actor: Actor, post_id: int, raw: Mapping[str, str]
) -> PointEntry:
    post = await _post(uow, post_id)
    _require_secretary(actor, post.community_id)
    user_id, day, hours, note = parse_service(raw, beijing_today())
    reg = await live_registration(uow, user_id)
    holds = await uow.session.scalar(
        select(PostClaim.id).where(
            PostClaim.post_id == post.id, PostClaim.user_id == user_id, PostClaim.state == CLAIMED
        )
    )
    if (
        reg is None
        or reg.state != RegistrationState.CONFIRMED.value
        or reg.community_id != post.community_id
        or holds is None
    ):
        raise ValidationFailed({"user_id": "该党员尚未在本社区确认报到，或没有认领这个岗位。"})
    rate = (await get_settings(uow, post.street_id))["service_hour_points"]
    entry = PointEntry(
        user_id=user_id,
        street_id=post.street_id,
        community_id=reg.community_id,
        employer_unit_id=reg.employer_unit_id,
        source=PointSource.POST.value,
        post_id=post.id,
        occurred_on=day,
        minutes=int(hours * 60),
        points=int((hours * rate).to_integral_value(rounding=ROUND_HALF_UP)),
        note=note,
        posted_by_id=actor.user_id,
    )
    uow.session.add(entry)
    await uow.flush()
    uow.audit("points.post_service", "point_entry", entry.id, f"{post.name} {hours} 小时")
    notify(
        uow,
        [user_id],
        "points",
        f"岗位服务已登记：{post.name} {hours.normalize()} 小时",
        f"积分 +{entry.points}",
        "/points/me",
    )
    publish_change(uow, post.street_id, [user_id], kind="points.changed")
    return entry


async def community_posts(uow: UnitOfWork, actor: Actor, community_id: int) -> CommunityPosts:
    org = await community(uow, community_id)
    assert org.parent_id is not None
    if not can_view_street(actor, org.parent_id):
        raise NotFound("社区不存在。")
    posts = list(
        await uow.session.scalars(
            select(ServicePost)
            .where(ServicePost.community_id == org.id)
            .order_by(ServicePost.active.desc(), ServicePost.id)
            .limit(MAX_POSTS)
        )
    )
    manage = is_community_secretary(actor, org.id)
    see_holders = manage or is_street_staff(actor, org.parent_id)
    holders: dict[int, list[tuple[PostClaim, User]]] = {p.id: [] for p in posts}
    mine: set[int] = set()
    if posts:
        rows = await uow.session.execute(
            select(PostClaim, User)
            .join(User, User.id == PostClaim.user_id)
            .where(PostClaim.post_id.in_(holders), PostClaim.state == CLAIMED)
            .order_by(PostClaim.claimed_at)
        )
        for claim_row, user in rows:
            if claim_row.user_id == actor.user_id:
                mine.add(claim_row.post_id)
            if see_holders:
                holders[claim_row.post_id].append((claim_row, user))
    reg = await live_registration(uow, actor.user_id)
    return CommunityPosts(
        org, [PostRow(p, holders[p.id]) for p in posts], manage, frozenset(mine), reg
    )


async def active_posts(uow: UnitOfWork, community_ids: set[int]) -> list[ServicePost]:
    if not community_ids:
        return []
    return list(
        await uow.session.scalars(
            select(ServicePost)
            .where(ServicePost.community_id.in_(community_ids), ServicePost.active)
            .order_by(ServicePost.id)
        )
    )


async def claims_of(uow: UnitOfWork, user_id: int) -> list[PostClaim]:
    return list(
        await uow.session.scalars(
            select(PostClaim)
            .where(PostClaim.user_id == user_id, PostClaim.state == CLAIMED)
            .options(selectinload(PostClaim.post))
            .order_by(PostClaim.claimed_at)
        )
    )


async def community_of_post(uow: UnitOfWork, post_id: int) -> int:
    return (await _post(uow, post_id)).community_id
