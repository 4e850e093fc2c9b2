"""Who may see, organise and join an activity. Every activity service asks here.

- **Read**: anyone who can see the activity's street (its staff, its units' liaisons, the
  party members of its communities, district viewers). An activity still being planned
  (筹备中) is seen only by its organisers.
- **Organise** (edit, cancel, approve sign-ups, check people in, settle): platform admins,
  the street's secretary and supervisors, the liaisons of any host unit, and the secretary
  of the activity's community.
- **Join** (sign up): any user who can read an announced activity.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.conference.access import acting_unit_ids
from domain.enums import ActivityState, Role
from domain.errors import NotFound, PermissionDenied
from domain.models.activities import Activity
from domain.permissions import Actor, can_view_street
from domain.uow import UnitOfWork

STREET_STAFF = (Role.STREET_SECRETARY, Role.SUPERVISOR)


def is_street_staff(actor: Actor, street_id: int) -> bool:
    return actor.is_admin or street_id in actor.streets_with(*STREET_STAFF)


def can_create_in(actor: Actor, street_id: int, acting: frozenset[int]) -> bool:
    """Street staff, or anyone who acts for a unit (a liaison, a community secretary)."""
    return is_street_staff(actor, street_id) or (bool(acting) and can_view_street(actor, street_id))


@dataclass(frozen=True)
class ActivityAccess:
    """What one actor may do with one activity, resolved once per request."""

    activity: Activity
    can_read: bool
    is_organiser: bool
    acting_unit_ids: frozenset[int]

    @property
    def can_join(self) -> bool:
        return self.can_read and self.activity.state == ActivityState.ANNOUNCED

    def require_organiser(self) -> None:
        if not self.is_organiser:
            raise PermissionDenied("只有活动的主办单位、社区书记或街道工作人员可以执行此操作。")


def organises(
    actor: Actor, activity: Activity, host_unit_ids: frozenset[int], acting: frozenset[int]
) -> bool:
    if is_street_staff(actor, activity.street_id):
        return True
    if host_unit_ids & acting:
        return True
    return activity.community_id is not None and activity.community_id in actor.org_ids_with(
        Role.COMMUNITY_SECRETARY
    )


async def resolve(
    uow: UnitOfWork, actor: Actor, activity: Activity, host_unit_ids: frozenset[int]
) -> ActivityAccess:
    """The actor's access to an activity whose host unit ids the caller already loaded."""
    acting = await acting_unit_ids(uow, actor)
    organiser = organises(actor, activity, host_unit_ids, acting)
    readable = can_view_street(actor, activity.street_id) and (
        organiser or activity.state != ActivityState.PLANNED
    )
    return ActivityAccess(activity, readable or organiser, organiser, acting)


def require_read(access: ActivityAccess) -> None:
    if not access.can_read:
        # Do not reveal that a planned activity exists to those who may not see it.
        raise NotFound("活动不存在或尚未发布。")
