import pytest

from domain.enums import OrgLevel, Role
from domain.errors import PermissionDenied
from domain.permissions import (
    Actor,
    Grant,
    can_administer,
    can_edit_street_settings,
    can_manage_units,
    can_view_directory,
    can_view_street,
    require,
)

XINHUA, CHANGAN = 3, 7


def actor(*grants: Grant, district_streets: frozenset[int] = frozenset()) -> Actor:
    return Actor(1, "u", "用户", tuple(grants), district_streets)


ADMIN = actor(Grant(Role.PLATFORM_ADMIN))
DISTRICT = actor(Grant(Role.DISTRICT_VIEWER, organization_id=2), district_streets=frozenset({3, 7}))
SECRETARY = actor(Grant(Role.STREET_SECRETARY, organization_id=XINHUA, street_id=XINHUA))
SUPERVISOR = actor(Grant(Role.SUPERVISOR, organization_id=XINHUA, street_id=XINHUA))
LIAISON = actor(Grant(Role.UNIT_LIAISON, unit_id=11, street_id=XINHUA))
MEMBER = actor(Grant(Role.PARTY_MEMBER, organization_id=4, street_id=XINHUA))


def test_admin_reaches_everything() -> None:
    assert can_administer(ADMIN)
    assert can_manage_units(ADMIN, CHANGAN)
    assert can_view_street(ADMIN, 999)
    assert can_edit_street_settings(ADMIN, CHANGAN)


def test_district_viewer_reads_its_streets_only() -> None:
    assert can_view_street(DISTRICT, XINHUA) and can_view_street(DISTRICT, CHANGAN)
    assert not can_view_street(DISTRICT, 99)
    assert not can_manage_units(DISTRICT)
    assert not can_edit_street_settings(DISTRICT, XINHUA)
    assert not can_administer(DISTRICT)


def test_secretary_manages_own_street_only() -> None:
    assert can_manage_units(SECRETARY)
    assert can_manage_units(SECRETARY, XINHUA)
    assert not can_manage_units(SECRETARY, CHANGAN)
    assert can_edit_street_settings(SECRETARY, XINHUA)
    assert not can_edit_street_settings(SECRETARY, CHANGAN)
    assert not can_view_street(SECRETARY, CHANGAN)


def test_supervisor_reads_but_does_not_manage() -> None:
    assert can_view_street(SUPERVISOR, XINHUA)
    assert not can_manage_units(SUPERVISOR, XINHUA)
    assert not can_edit_street_settings(SUPERVISOR, XINHUA)


@pytest.mark.parametrize(
    ("who", "expected"),
    [(ADMIN, True), (DISTRICT, True), (SECRETARY, True), (LIAISON, True), (MEMBER, False)],
)
def test_directory_is_for_staff(who: Actor, expected: bool) -> None:
    assert can_view_directory(who) is expected


def test_visible_streets_combine_grants() -> None:
    both = actor(
        Grant(Role.UNIT_LIAISON, unit_id=1, street_id=XINHUA),
        Grant(Role.COMMUNITY_SECRETARY, organization_id=9, street_id=CHANGAN),
    )
    assert both.visible_street_ids == {XINHUA, CHANGAN}
    assert both.unit_ids_with(Role.UNIT_LIAISON) == {1}
    assert both.org_ids_with(Role.COMMUNITY_SECRETARY) == {9}


def test_require_raises_403_with_chinese_message() -> None:
    with pytest.raises(PermissionDenied) as info:
        require(False)
    assert info.value.status == 403
    assert "权限" in info.value.message


def test_org_levels_chain() -> None:
    assert OrgLevel.COMMUNITY.parent_level is OrgLevel.STREET
    assert OrgLevel.STREET.parent_level is OrgLevel.DISTRICT
    assert OrgLevel.CITY.parent_level is None
