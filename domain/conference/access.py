"""Who may do what in a conference, resolved once per use case."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from domain.enums import MemberRole, OrgLevel, Role, UnitKind
from domain.errors import NotFound, PermissionDenied
from domain.models import (
    Conference,
    ConferenceMember,
    Organization,
    RoleGrant,
    SecretariatMember,
    Unit,
    User,
)
from domain.permissions import Actor, can_view_directory, can_view_street
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class ConferenceAccess:
    conference: Conference
    street_id: int | None  # None for a district conference
    can_read: bool
    can_manage: bool  # convener, secretariat (or a platform admin)
    is_convener: bool
    # Member units this actor acts for (liaison or community secretary): they propose,
    # reply, sign in, vote and co-sign for these only.
    member_unit_ids: frozenset[int]
    observer_unit_ids: frozenset[int]

    @property
    def acts_for(self) -> frozenset[int]:
        return self.member_unit_ids | self.observer_unit_ids

    def require_read(self) -> None:
        if not self.can_read:
            raise NotFound("会议不存在，或不在您可查看的范围内。")

    def require_manage(self) -> None:
        self.require_read()
        if not self.can_manage:
            raise PermissionDenied("只有召集人或秘书处可以执行此操作。")

    def require_member(self, unit_id: int) -> None:
        self.require_read()
        if unit_id not in self.member_unit_ids:
            raise PermissionDenied("您只能代表本单位（联席会议成员单位）操作。")

    def require_attendee(self, unit_id: int) -> None:
        """Members and observers (列席) both reply and sign in."""
        self.require_read()
        if unit_id not in self.acts_for:
            raise PermissionDenied("您只能代表本单位操作。")


def units_acted_for(actor: Actor, community_units: dict[int, int]) -> frozenset[int]:
    """Units the actor speaks for: as liaison, or as secretary of a community's committee.

    `community_units` maps a community organisation id to its residents' committee unit.
    """
    units = set(actor.unit_ids_with(Role.UNIT_LIAISON, Role.DEPT_LIAISON))
    for org_id in actor.org_ids_with(Role.COMMUNITY_SECRETARY):
        if org_id in community_units:
            units.add(community_units[org_id])
    return frozenset(units)


async def acting_unit_ids(uow: UnitOfWork, actor: Actor) -> frozenset[int]:
    """Units this user acts for anywhere (tasks, bookings, claims): as liaison, or as a
    community's secretary for its residents' committee."""
    communities = actor.org_ids_with(Role.COMMUNITY_SECRETARY)
    community_units: dict[int, int] = {}
    if communities:
        rows = await uow.session.execute(
            select(Unit.community_id, Unit.id).where(
                Unit.community_id.in_(communities), Unit.kind == UnitKind.COMMUNITY, Unit.active
            )
        )
        community_units = {c: u for c, u in rows if c is not None}
    return units_acted_for(actor, community_units)


async def acting_units(uow: UnitOfWork, actor: Actor) -> list[Unit]:
    ids = await acting_unit_ids(uow, actor)
    if not ids:
        return []
    return list(await uow.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)))


async def conference_access(uow: UnitOfWork, actor: Actor, conference_id: int) -> ConferenceAccess:
    s = uow.session
    conference = await s.get(Conference, conference_id)
    if conference is None:
        raise NotFound("会议不存在。")
    org = await s.get(Organization, conference.organization_id)
    assert org is not None
    street_id = org.id if org.level == OrgLevel.STREET else None
    if street_id is not None:
        # People who act for an organisation; a party member as such is no participant.
        can_read = can_view_street(actor, street_id) and can_view_directory(actor)
        convener_role = street_id in actor.streets_with(Role.STREET_SECRETARY)
    else:
        can_read = actor.is_admin or org.id in actor.viewer_district_ids
        convener_role = False
    in_secretariat = bool(
        await s.scalar(
            select(SecretariatMember.id).where(
                SecretariatMember.conference_id == conference.id,
                SecretariatMember.user_id == actor.user_id,
            )
        )
    )
    is_convener = conference.convener_id == actor.user_id or convener_role
    members = (
        await s.execute(
            select(ConferenceMember.unit_id, ConferenceMember.role, Unit.kind, Unit.community_id)
            .join(Unit, Unit.id == ConferenceMember.unit_id)
            .where(ConferenceMember.conference_id == conference.id, ConferenceMember.active)
        )
    ).all()
    community_units = {
        m.community_id: m.unit_id
        for m in members
        if m.kind == UnitKind.COMMUNITY and m.community_id is not None
    }
    mine = units_acted_for(actor, community_units)
    member_ids = frozenset(m.unit_id for m in members if m.role == MemberRole.MEMBER) & mine
    observer_ids = frozenset(m.unit_id for m in members if m.role == MemberRole.OBSERVER) & mine
    return ConferenceAccess(
        conference=conference,
        street_id=street_id,
        can_read=can_read or actor.is_admin,
        can_manage=actor.is_admin or is_convener or in_secretariat,
        is_convener=is_convener,
        member_unit_ids=member_ids,
        observer_unit_ids=observer_ids,
    )


async def conference_for_street(uow: UnitOfWork, street_id: int) -> Conference | None:
    return await uow.session.scalar(
        select(Conference).where(Conference.organization_id == street_id)
    )


async def users_acting_for(uow: UnitOfWork, unit_ids: Iterable[int]) -> set[int]:
    """Active users who speak for these units (to notify them): their liaisons, and for a
    community's residents' committee its community secretary — `units_acted_for` reversed."""
    ids = set(unit_ids)
    if not ids:
        return set()
    s = uow.session
    users = set(
        await s.scalars(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                RoleGrant.unit_id.in_(ids),
                RoleGrant.role.in_([Role.UNIT_LIAISON.value, Role.DEPT_LIAISON.value]),
                User.active,
            )
        )
    )
    communities = set(
        await s.scalars(
            select(Unit.community_id).where(
                Unit.id.in_(ids), Unit.kind == UnitKind.COMMUNITY, Unit.community_id.is_not(None)
            )
        )
    )
    if communities:
        users |= set(
            await s.scalars(
                select(RoleGrant.user_id)
                .join(User, User.id == RoleGrant.user_id)
                .where(
                    RoleGrant.organization_id.in_(communities),
                    RoleGrant.role == Role.COMMUNITY_SECRETARY.value,
                    User.active,
                )
            )
        )
    return users
