"""Which conferences a user reaches, and what the set-up forms choose from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from domain.enums import OrgLevel, Role
from domain.models import Conference, Organization, Unit
from domain.permissions import Actor, can_view_directory, can_view_street
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class Reach:
    """A street (or district) in the user's reach, and its conference if it has one."""

    organization: Organization
    conference: Conference | None
    can_create: bool


async def reachable(uow: UnitOfWork, actor: Actor) -> list[Reach]:
    """Streets the user may read, each with its conference; district conferences too."""
    s = uow.session
    stmt = select(Organization).where(
        Organization.level.in_([OrgLevel.STREET.value, OrgLevel.DISTRICT.value])
    )
    orgs = list(await s.scalars(stmt.order_by(Organization.level.desc(), Organization.id)))
    conferences = {
        c.organization_id: c
        for c in await s.scalars(
            select(Conference).where(Conference.organization_id.in_([o.id for o in orgs]))
        )
    }
    secretary_of = actor.streets_with(Role.STREET_SECRETARY)
    viewer_of = actor.viewer_district_ids
    out: list[Reach] = []
    for org in orgs:
        if org.level == OrgLevel.STREET:
            # As `access.conference_access` reads it: staff of the street, not party members.
            if not (can_view_street(actor, org.id) and can_view_directory(actor)):
                continue
            can_create = actor.is_admin or org.id in secretary_of
            out.append(Reach(org, conferences.get(org.id), can_create))
        elif org.id in conferences and (actor.is_admin or org.id in viewer_of):
            out.append(Reach(org, conferences[org.id], False))
        elif actor.is_admin:
            # A district's conference is set up by an admin.
            out.append(Reach(org, None, True))
    return out


async def street_units(
    uow: UnitOfWork, street_id: int | None, organization_id: int | None = None
) -> list[Unit]:
    """Active units the member form offers: the street's, or for a district conference
    (`street_id` None) those of every street in the district."""
    stmt = select(Unit).where(Unit.active.is_(True))
    if street_id is not None:
        stmt = stmt.where(Unit.street_id == street_id)
    elif organization_id is not None:
        streets = select(Organization.id).where(Organization.parent_id == organization_id)
        stmt = stmt.where(Unit.street_id.in_(streets))
    else:
        return []
    return list(await uow.session.scalars(stmt.order_by(Unit.street_id, Unit.kind, Unit.name)))
