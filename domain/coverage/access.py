"""Who may read and change a street's coverage records."""

from __future__ import annotations

from domain.enums import OrgLevel, Role
from domain.errors import NotFound, PermissionDenied
from domain.models import Organization
from domain.parsing import is_row_id
from domain.permissions import Actor
from domain.uow import UnitOfWork

# Street staff write; these (and district/city viewers of the street) read.
WRITERS = (Role.STREET_SECRETARY, Role.SUPERVISOR)
READERS = (*WRITERS, Role.UNIT_LIAISON, Role.DEPT_LIAISON, Role.COMMUNITY_SECRETARY)
READ_REFUSED = "您无权查看该街道的党建覆盖情况。"
WRITE_REFUSED = "只有本街道书记或督办员可以维护党建覆盖信息。"


def can_read(actor: Actor, street_id: int) -> bool:
    return (
        actor.is_admin
        or street_id in actor.district_street_ids
        or street_id in actor.streets_with(*READERS)
    )


def can_write(actor: Actor, street_id: int) -> bool:
    return actor.is_admin or street_id in actor.streets_with(*WRITERS)


def require_read(actor: Actor, street_id: int) -> None:
    if not can_read(actor, street_id):
        raise PermissionDenied(READ_REFUSED)


def require_write(actor: Actor, street_id: int) -> None:
    if not can_write(actor, street_id):
        raise PermissionDenied(WRITE_REFUSED)


async def street_or_404(uow: UnitOfWork, street_id: int) -> Organization:
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if street is None or street.level != OrgLevel.STREET.value:
        raise NotFound("街道不存在。")
    return street


def readable_streets(actor: Actor) -> frozenset[int]:
    """Streets whose coverage the actor may read (admins: see the caller)."""
    return actor.district_street_ids | actor.streets_with(*READERS)
