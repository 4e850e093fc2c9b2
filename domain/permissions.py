"""Who may do what. Every service calls these; templates only mirror them.

An `Actor` is a logged-in user with their role grants resolved to the streets
they reach, so a check never needs another query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.enums import Role
from domain.errors import PermissionDenied


@dataclass(frozen=True)
class Grant:
    role: Role
    organization_id: int | None = None
    unit_id: int | None = None
    # The street this grant sits in (None for admin and district grants).
    street_id: int | None = None


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    display_name: str
    grants: tuple[Grant, ...] = ()
    # Streets a district (or city) viewer reaches through its grant(s).
    district_street_ids: frozenset[int] = field(default_factory=frozenset)
    # Districts a district viewer holds, or every district of a city viewer's city.
    viewer_district_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)

    def has(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    @property
    def is_admin(self) -> bool:
        return self.has(Role.PLATFORM_ADMIN)

    def streets_with(self, *roles: Role) -> frozenset[int]:
        return frozenset(
            g.street_id for g in self.grants if g.role in roles and g.street_id is not None
        )

    @property
    def visible_street_ids(self) -> frozenset[int]:
        """Streets whose directory and figures this actor may read."""
        return self.district_street_ids | frozenset(
            g.street_id for g in self.grants if g.street_id is not None
        )

    def unit_ids_with(self, *roles: Role) -> frozenset[int]:
        return frozenset(g.unit_id for g in self.grants if g.role in roles and g.unit_id)

    def org_ids_with(self, *roles: Role) -> frozenset[int]:
        return frozenset(
            g.organization_id for g in self.grants if g.role in roles and g.organization_id
        )


STAFF_ROLES = (
    Role.CITY_VIEWER,
    Role.DISTRICT_VIEWER,
    Role.STREET_SECRETARY,
    Role.SUPERVISOR,
    Role.UNIT_LIAISON,
    Role.DEPT_LIAISON,
    Role.COMMUNITY_SECRETARY,
)


def can_administer(actor: Actor) -> bool:
    return actor.is_admin


def can_view_directory(actor: Actor) -> bool:
    """The unit directory is for people who act for an organisation, not for every member."""
    return actor.is_admin or actor.has(*STAFF_ROLES)


def can_view_district(actor: Actor, district_id: int) -> bool:
    """A district's roll-up: its viewers, the city's viewers above it, admins."""
    return actor.is_admin or district_id in actor.viewer_district_ids


def can_view_street(actor: Actor, street_id: int) -> bool:
    return actor.is_admin or street_id in actor.visible_street_ids


def can_manage_units(actor: Actor, street_id: int | None = None) -> bool:
    """Admins anywhere; a street secretary for the units attached to their street."""
    if actor.is_admin:
        return True
    streets = actor.streets_with(Role.STREET_SECRETARY)
    return bool(streets) if street_id is None else street_id in streets


def can_edit_street_settings(actor: Actor, street_id: int) -> bool:
    return actor.is_admin or street_id in actor.streets_with(Role.STREET_SECRETARY)


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(message) if message else PermissionDenied()
