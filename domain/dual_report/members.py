"""在职党员到社区报到: a party member registers with the community where they live.

One live registration per member (the partial unique index). The chosen service posts are
claimed at once (within their capacity); the community secretary confirms or returns the
registration; the member corrects and resubmits, or ends it (迁出), which frees the posts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from domain.dual_report.common import (
    LIVE_STATES,
    check_phone,
    check_version,
    community,
    community_secretaries,
    publish_change,
    start_decision,
)
from domain.dual_report.posts import CLAIMED, give_back, take_post
from domain.enums import OrgLevel, RegistrationState, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import Organization, Unit
from domain.models.base import utcnow
from domain.models.dual_report import MemberRegistration, PostClaim, ServicePost
from domain.permissions import Actor, can_view_street
from domain.services.notifications import notify
from domain.uow import UnitOfWork

R = RegistrationState
DUPLICATE = "您已在社区报到（待确认或已报到），不能重复报到。"
LINK = "/dual-report"


@dataclass(frozen=True)
class MemberForm:
    community_id: int
    employer_unit_id: int | None
    employer_name: str
    residence: str
    phone: str
    skills: str
    note: str
    post_ids: frozenset[int]


def _int(text: str) -> int:
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) <= 9 else 0


def parse_member(raw: Mapping[str, str], post_ids: Sequence[str]) -> MemberForm:
    errors: dict[str, str] = {}
    community_id = _int(raw.get("community_id", ""))
    if not community_id:
        errors["community_id"] = "请选择居住地所在社区。"
    employer_unit_id = _int(raw.get("employer_unit_id", "")) or None
    employer_name = raw.get("employer_name", "").strip()
    if employer_unit_id is None and not employer_name:
        errors["employer_unit_id"] = "请选择工作单位，或在下面填写单位名称。"
    elif len(employer_name) > 120:
        errors["employer_name"] = "单位名称不超过 120 个字。"
    residence = raw.get("residence", "").strip()
    if not residence:
        errors["residence"] = "请填写居住小区和楼栋。"
    elif len(residence) > 200:
        errors["residence"] = "居住地址不超过 200 个字。"
    phone = check_phone(raw.get("phone", ""), errors, "phone", required=True)
    skills = raw.get("skills", "").strip()
    if len(skills) > 300:
        errors["skills"] = "特长不超过 300 个字。"
    note = raw.get("note", "").strip()
    if len(note) > 500:
        errors["note"] = "备注不超过 500 个字。"
    posts = frozenset(n for n in (_int(p) for p in post_ids) if n)
    if errors:
        raise ValidationFailed(errors)
    return MemberForm(
        community_id, employer_unit_id, employer_name if employer_unit_id is None else "",
        residence, phone, skills, note, posts,
    )  # fmt: skip


def home_community_ids(actor: Actor) -> list[int]:
    return sorted(actor.org_ids_with(Role.PARTY_MEMBER))


async def communities_for(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    """Communities of the streets this member can see (where they may register)."""
    query = select(Organization).where(Organization.level == OrgLevel.COMMUNITY.value)
    if not actor.is_admin:
        query = query.where(Organization.parent_id.in_(actor.visible_street_ids))
    return list(await uow.session.scalars(query.order_by(Organization.code, Organization.id)))


async def employer_units(uow: UnitOfWork, community_id: int | None) -> list[Unit]:
    """Active units of the district the community is in."""
    if community_id is None:
        return []
    district_id = await uow.session.scalar(
        select(Organization.parent_id)
        .where(Organization.id == select(Organization.parent_id)
               .where(Organization.id == community_id).scalar_subquery())
    )  # fmt: skip
    if district_id is None:
        return []
    streets = select(Organization.id).where(Organization.parent_id == district_id)
    return list(
        await uow.session.scalars(
            select(Unit).where(Unit.active, Unit.street_id.in_(streets)).order_by(Unit.name)
        )
    )


async def _validate(uow: UnitOfWork, actor: Actor, form: MemberForm) -> Organization:
    try:
        org = await community(uow, form.community_id)
    except NotFound:
        raise ValidationFailed({"community_id": "请选择居住地所在社区。"}) from None
    assert org.parent_id is not None
    if not can_view_street(actor, org.parent_id):
        raise ValidationFailed({"community_id": "只能在您所在街道的社区报到。"})
    if form.employer_unit_id is not None:
        allowed = {u.id for u in await employer_units(uow, org.id)}
        if form.employer_unit_id not in allowed:
            raise ValidationFailed({"employer_unit_id": "请从列表中选择工作单位。"})
    if form.post_ids:
        active = set(
            await uow.session.scalars(
                select(ServicePost.id).where(
                    ServicePost.id.in_(form.post_ids),
                    ServicePost.community_id == org.id,
                    ServicePost.active,
                )
            )
        )
        if active != form.post_ids:
            raise ValidationFailed({"post_ids": "所选岗位不属于该社区或已停用，请重新选择。"})
    return org


def _apply(reg: MemberRegistration, form: MemberForm) -> None:
    reg.employer_unit_id = form.employer_unit_id
    reg.employer_name = form.employer_name
    reg.residence = form.residence
    reg.phone = form.phone
    reg.skills = form.skills
    reg.note = form.note


async def _sync_posts(uow: UnitOfWork, reg: MemberRegistration, wanted: frozenset[int]) -> None:
    held = set(
        await uow.session.scalars(
            select(PostClaim.post_id).where(
                PostClaim.user_id == reg.user_id, PostClaim.state == CLAIMED
            )
        )
    )
    for post_id in sorted(held - wanted):
        await give_back(uow, post_id, reg.user_id)
    for post_id in sorted(wanted - held):
        post = await uow.session.get(ServicePost, post_id)
        assert post is not None
        try:
            await take_post(uow, post, reg.user_id, reg.id)
        except Conflict as exc:
            raise ValidationFailed({"post_ids": exc.message}) from None


async def submit(
    uow: UnitOfWork, actor: Actor, raw: Mapping[str, str], post_ids: Sequence[str]
) -> MemberRegistration:
    if not actor.has(Role.PARTY_MEMBER):
        raise PermissionDenied("只有党员可以到社区报到。")
    form = parse_member(raw, post_ids)
    org = await _validate(uow, actor, form)
    assert org.parent_id is not None
    reg = MemberRegistration(
        user_id=actor.user_id,
        community_id=org.id,
        street_id=org.parent_id,
        state=R.SUBMITTED.value,
    )
    _apply(reg, form)
    uow.session.add(reg)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError:
        raise ValidationFailed({"community_id": DUPLICATE}, DUPLICATE) from None
    await _sync_posts(uow, reg, form.post_ids)
    uow.audit("dual_report.member_submit", "member_registration", reg.id, org.name)
    notify(
        uow,
        await community_secretaries(uow, [org.id]),
        "dual_report",
        f"党员 {actor.display_name} 申请到本社区报到",
        f"居住地：{form.residence}",
        LINK,
    )
    publish_change(uow, reg.street_id, [actor.user_id])
    return reg


async def _load(uow: UnitOfWork, registration_id: int) -> MemberRegistration:
    reg = await uow.session.scalar(
        select(MemberRegistration)
        .where(MemberRegistration.id == registration_id)
        .options(selectinload(MemberRegistration.user), selectinload(MemberRegistration.community))
    )
    if reg is None:
        raise NotFound("报到登记不存在。")
    return reg


async def _own(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None
) -> MemberRegistration:
    reg = await _load(uow, registration_id)
    if reg.user_id != actor.user_id:
        raise NotFound("报到登记不存在。")
    check_version(reg.version, version)
    return reg


async def resubmit(
    uow: UnitOfWork,
    actor: Actor,
    registration_id: int,
    version: int | None,
    raw: Mapping[str, str],
    post_ids: Sequence[str],
) -> MemberRegistration:
    reg = await _own(uow, actor, registration_id, version)
    if reg.state not in (R.SUBMITTED.value, R.RETURNED.value):
        raise Conflict("该报到登记已确认或已结束，不能再修改。")
    form = parse_member({**raw, "community_id": str(reg.community_id)}, post_ids)
    await _validate(uow, actor, form)
    _apply(reg, form)
    reg.state = R.SUBMITTED.value
    reg.return_reason = ""
    reg.updated_at = utcnow()
    await uow.flush()
    await _sync_posts(uow, reg, form.post_ids)
    uow.audit("dual_report.member_resubmit", "member_registration", reg.id, reg.community.name)
    notify(
        uow,
        await community_secretaries(uow, [reg.community_id]),
        "dual_report",
        f"党员 {reg.user.display_name} 重新提交了报到登记",
        "",
        LINK,
    )
    publish_change(uow, reg.street_id, [reg.user_id])
    return reg


async def _decide(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None
) -> MemberRegistration:
    reg = await _load(uow, registration_id)
    start_decision(actor, reg, version, "报到登记")
    return reg


async def confirm(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None
) -> MemberRegistration:
    reg = await _decide(uow, actor, registration_id, version)
    reg.state = R.CONFIRMED.value
    uow.audit("dual_report.member_confirm", "member_registration", reg.id, reg.user.display_name)
    notify(uow, [reg.user_id], "dual_report", f"{reg.community.name} 已确认您的报到", "", LINK)
    publish_change(uow, reg.street_id, [reg.user_id])
    return reg


async def return_registration(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None, reason: str
) -> MemberRegistration:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed({"reason": "请填写退回原因。"})
    if len(reason) > 300:
        raise ValidationFailed({"reason": "退回原因不超过 300 个字。"})
    reg = await _decide(uow, actor, registration_id, version)
    reg.state = R.RETURNED.value
    reg.return_reason = reason
    uow.audit("dual_report.member_return", "member_registration", reg.id, reason)
    notify(
        uow, [reg.user_id], "dual_report", f"{reg.community.name} 退回了您的报到登记",
        f"原因：{reason}", LINK,
    )  # fmt: skip
    publish_change(uow, reg.street_id, [reg.user_id])
    return reg


async def end(
    uow: UnitOfWork, actor: Actor, registration_id: int, version: int | None
) -> MemberRegistration:
    """迁出: the registration ends and every post the member held is freed."""
    reg = await _own(uow, actor, registration_id, version)
    if reg.state == R.ENDED.value:
        raise Conflict("该报到登记已结束。")
    reg.state = R.ENDED.value
    reg.ended_at = reg.updated_at = utcnow()
    await uow.flush()
    await _sync_posts(uow, reg, frozenset())
    uow.audit("dual_report.member_end", "member_registration", reg.id, reg.community.name)
    notify(
        uow,
        await community_secretaries(uow, [reg.community_id]),
        "dual_report",
        f"党员 {reg.user.display_name} 已迁出（结束报到）",
        "",
        LINK,
    )
    publish_change(uow, reg.street_id, [reg.user_id])
    return reg


async def my_registration(uow: UnitOfWork, user_id: int) -> MemberRegistration | None:
    """The live registration, else the latest one (to show a returned or ended one)."""
    return await uow.session.scalar(
        select(MemberRegistration)
        .where(MemberRegistration.user_id == user_id)
        .options(
            selectinload(MemberRegistration.community),
            selectinload(MemberRegistration.employer_unit),
        )
        .order_by(MemberRegistration.state.in_(LIVE_STATES).desc(), MemberRegistration.id.desc())
        .limit(1)
    )


async def registrations_for(
    uow: UnitOfWork, community_ids: frozenset[int]
) -> list[tuple[MemberRegistration, list[str]]]:
    """A community's live and returned registrations with the names of the posts held."""
    if not community_ids:
        return []
    regs = list(
        await uow.session.scalars(
            select(MemberRegistration)
            .where(
                MemberRegistration.community_id.in_(community_ids),
                MemberRegistration.state != R.ENDED.value,
            )
            .options(
                selectinload(MemberRegistration.user),
                selectinload(MemberRegistration.employer_unit),
                selectinload(MemberRegistration.community),
            )
            .order_by(MemberRegistration.id.desc())
            .limit(500)
        )
    )
    posts: dict[int, list[str]] = {r.user_id: [] for r in regs}
    if regs:
        rows = await uow.session.execute(
            select(PostClaim.user_id, ServicePost.name)
            .join(ServicePost, ServicePost.id == PostClaim.post_id)
            .where(PostClaim.user_id.in_(posts), PostClaim.state == CLAIMED)
            .order_by(ServicePost.id)
        )
        for user_id, name in rows:
            posts[user_id].append(name)
    order = {R.SUBMITTED.value: 0, R.RETURNED.value: 1, R.CONFIRMED.value: 2}
    regs.sort(key=lambda r: order.get(r.state, 9))
    return [(r, posts[r.user_id]) for r in regs]
