"""Two-way claiming (双向认领) and co-building projects (共建项目): claim, accept into a
project, decline with a reason, the one-pending-claim index, who may do each, stale
versions, agreement, progress, completion, rating, carry-over and the yearly report —
on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.enums import ClaimState, ListingState, ProjectState
from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.models import Event
from domain.models.sharing import Claim, Need, Project, ProjectUpdate, Resource
from domain.sharing import claims, listings, projects
from domain.sharing.listings import ListFilters
from domain.topics import street_topic
from tests.integration.conftest import World
from tests.integration.test_sharing_lists import (
    COMMITTEE,
    HOSPITAL,
    XINHUA,
    notifications,
    post_need,
    post_venue,
    vet,
)


async def listed_need(world: World, **raw: str) -> Need:
    item = await post_need(world, **raw)
    return await vet(world, "need", item.id, approve=True)  # type: ignore[no-any-return]


async def listed_venue(world: World, **raw: str) -> Resource:
    item = await post_venue(world, **raw)
    return await vet(world, "resource", item.id, approve=True)  # type: ignore[no-any-return]


async def as_(world: World, username: str, fn, *args):  # type: ignore[no-untyped-def]
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        result = await fn(uow, actor, *args)
        await uow.commit()
    return result


async def claim(world: World, username: str = "liaison", need: Need | None = None) -> Claim:
    need = need or await listed_need(world)
    return await as_(world, username, claims.claim_need, need.id, {"message": "我院可派医生。"})  # type: ignore[no-any-return]


async def accepted_project(world: World) -> Project:
    c = await claim(world)
    return await as_(world, "community", claims.accept, c.id, c.version)  # type: ignore[no-any-return]


async def fresh(world: World, project_id: int) -> Project:
    async with world.factory() as s:
        p = await s.get(Project, project_id)
    assert p is not None
    return p


async def test_claim_accept_creates_project_with_parties(world: World) -> None:
    need = await listed_need(world)
    c = await claim(world, need=need)
    hospital, committee = await world.unit(HOSPITAL), await world.unit(COMMITTEE)
    assert (c.claimant_unit_id, c.owner_unit_id, c.state) == (
        hospital.id,
        committee.id,
        ClaimState.PENDING,
    )
    assert any("认领了需求" in t for t in await notifications(world, "community"))

    project = await as_(world, "community", claims.accept, c.id, c.version)
    assert project.requester_unit_id == committee.id
    assert project.provider_unit_id == hospital.id
    assert project.title == need.title and project.need_id == need.id
    assert project.state == ProjectState.AGREED and project.year == claims.beijing_year()
    async with world.factory() as s:
        stored = await s.get(Claim, c.id)
        assert stored is not None and stored.state == ClaimState.ACCEPTED
        kinds = list(
            await s.scalars(
                select(Event.topic).where(Event.kind == "sharing.changed").order_by(Event.id)
            )
        )
    assert kinds[-1] == street_topic(await world.org_id(XINHUA))
    assert any("认领已被接受" in t for t in await notifications(world, "liaison"))


async def test_community_requests_resource(world: World) -> None:
    venue = await listed_venue(world)
    c = await as_(world, "community", claims.request_resource, venue.id, {})
    project = await as_(world, "liaison", claims.accept, c.id, c.version)
    assert project.requester_unit_id == (await world.unit(COMMITTEE)).id
    assert project.provider_unit_id == (await world.unit(HOSPITAL)).id
    assert project.resource_id == venue.id


async def test_decline_needs_reason_and_duplicate_pending_is_refused(world: World) -> None:
    need = await listed_need(world)
    c = await claim(world, need=need)
    with pytest.raises(Conflict) as dup:
        await claim(world, need=need)
    assert "请勿重复提交" in dup.value.message
    with pytest.raises(ValidationFailed) as no_reason:
        await as_(world, "community", claims.decline, c.id, c.version, "  ")
    assert "reason" in no_reason.value.fields
    declined = await as_(world, "community", claims.decline, c.id, c.version, "已有单位承接")
    assert declined.state == ClaimState.DECLINED and declined.decline_reason == "已有单位承接"
    assert any("认领被婉拒" in t for t in await notifications(world, "liaison"))
    # Declined, the unit may ask again; and may withdraw that second claim.
    again = await claim(world, need=need)
    withdrawn = await as_(world, "liaison", claims.withdraw, again.id, again.version)
    assert withdrawn.state == ClaimState.WITHDRAWN


async def test_claim_permissions_and_stale_version(world: World) -> None:
    need = await listed_need(world)
    # A community cannot claim a need; only listed items can be claimed.
    with pytest.raises(PermissionDenied):
        await claim(world, "community", need=need)
    pending = await post_need(world, title="待审核的需求")
    with pytest.raises(Conflict):
        await claim(world, need=pending)
    with pytest.raises(PermissionDenied):  # the other street's secretary cannot read it
        await claim(world, "secretary2", need=need)
    c = await claim(world, need=need)
    with pytest.raises(PermissionDenied):  # only the owner decides
        await as_(world, "liaison", claims.accept, c.id, c.version)
    with pytest.raises(PermissionDenied):  # only the claimant withdraws
        await as_(world, "community", claims.withdraw, c.id, c.version)
    with pytest.raises(Conflict):
        await as_(world, "community", claims.accept, c.id, c.version + 1)
    await as_(world, "community", claims.accept, c.id, c.version)
    with pytest.raises(Conflict):  # decided already
        await as_(world, "community", claims.decline, c.id, c.version + 1, "晚了")


async def test_project_lifecycle(world: World) -> None:
    p = await accepted_project(world)
    # Agreement by either party; validation keeps the fields.
    with pytest.raises(ValidationFailed) as bad:
        await as_(
            world, "liaison", projects.set_agreement, p.id,
            {"version": str(p.version), "agreement_terms": "", "starts_on": "2026-13-01"},
        )  # fmt: skip
    assert {"agreement_terms", "starts_on"} <= set(bad.value.fields)
    p = await as_(
        world, "liaison", projects.set_agreement, p.id,
        {"version": str(p.version), "agreement_no": "GJ-2026-001",
         "agreement_terms": "医院每季度派医生讲座；社区组织老人参加。",
         "agreement_signed_on": "2026-01-05", "starts_on": "2026-01-10", "due_on": "2026-06-30"},
    )  # fmt: skip
    assert p.agreement_no == "GJ-2026-001"
    with pytest.raises(PermissionDenied):  # a bystander unit
        await as_(world, "liaison2", projects.add_update, p.id, {"version": str(p.version)})
    stale = p.version
    p = await as_(
        world, "community", projects.add_update, p.id,
        {"version": str(p.version), "text": "第一次讲座已举办", "percent": "40"},
    )  # fmt: skip
    assert p.state == ProjectState.IN_PROGRESS and p.progress_percent == 40
    assert any("新进展" in t for t in await notifications(world, "liaison"))
    with pytest.raises(Conflict):
        await as_(world, "liaison", projects.add_update, p.id, {"version": str(stale), "text": "x"})
    with pytest.raises(PermissionDenied):  # the requester does not complete
        await as_(
            world, "community", projects.complete, p.id,
            {"version": str(p.version), "completed_on": "2026-01-20"},
        )  # fmt: skip
    p = await as_(
        world, "liaison", projects.complete, p.id,
        {"version": str(p.version), "completed_on": "2026-01-20"},
    )  # fmt: skip
    assert p.state == ProjectState.COMPLETED and p.progress_percent == 100
    async with world.factory() as s:  # the need is met: it leaves the open list
        need = await s.get(Need, p.need_id)
        assert need is not None and need.state == ListingState.FULFILLED
    with pytest.raises(PermissionDenied):  # the provider does not rate itself
        await as_(world, "liaison", projects.rate, p.id, {"version": str(p.version)})
    with pytest.raises(ValidationFailed) as no_note:
        await as_(
            world, "community", projects.rate, p.id,
            {"version": str(p.version), "rating": "dissatisfied"},
        )  # fmt: skip
    assert "rating_note" in no_note.value.fields
    p = await as_(
        world, "community", projects.rate, p.id,
        {"version": str(p.version), "rating": "dissatisfied", "rating_note": "只办了一次"},
    )  # fmt: skip
    assert p.state == ProjectState.IN_PROGRESS and p.completed_on is None
    p = await as_(
        world, "liaison", projects.complete, p.id,
        {"version": str(p.version), "completed_on": "2026-02-20"},
    )  # fmt: skip
    p = await as_(
        world, "community", projects.rate, p.id,
        {"version": str(p.version), "rating": "satisfied"},
    )  # fmt: skip
    assert p.state == ProjectState.RATED and p.rating == "satisfied"
    assert await world.count(ProjectUpdate, ProjectUpdate.project_id == p.id) == 4
    with pytest.raises(Conflict):  # finished projects are not carried over
        await as_(
            world, "secretary", projects.carry_over, p.id,
            {"version": str(p.version), "carry_reason": "x"},
        )  # fmt: skip


async def test_carry_over_and_report(world: World) -> None:
    street = await world.org_id(XINHUA)
    before = await as_(world, "secretary", projects.project_report, street, claims.beijing_year())
    p = await accepted_project(world)
    done = await accepted_project(world)
    done = await as_(
        world, "liaison", projects.complete, done.id,
        {"version": str(done.version), "completed_on": "2026-01-02"},
    )  # fmt: skip
    with pytest.raises(PermissionDenied):  # parties do not carry over
        await as_(
            world, "liaison", projects.carry_over, p.id,
            {"version": str(p.version), "carry_reason": "资金未到位"},
        )  # fmt: skip
    with pytest.raises(ValidationFailed):
        await as_(world, "secretary", projects.carry_over, p.id, {"version": str(p.version)})
    p = await as_(
        world, "secretary", projects.carry_over, p.id,
        {"version": str(p.version), "carry_reason": "资金未到位"},
    )  # fmt: skip
    assert p.state == ProjectState.CARRIED_OVER and p.carried_to_year == p.year + 1

    report = await as_(world, "secretary", projects.project_report, street, p.year)
    delta = {k: report.counts[k] - before.counts[k] for k in report.counts}
    assert delta == {
        "needs": 2, "resources": 0, "projects": 2, "done": 1, "carried": 1, "carried_in": 0,
    }  # fmt: skip
    assert [x.title for x in report.carried] == [p.title]
    nxt = await as_(world, "district", projects.project_report, street, p.year + 1)
    assert [x.id for x in nxt.carried_in] == [p.id]
    _, listed = await as_(world, "community", projects.list_projects, street, p.year, "")
    assert {p.id, done.id} <= {x.id for x in listed}
    assert (await fresh(world, done.id)).state == ProjectState.COMPLETED

    # A carried-over project goes on next year: it is listed there and can still be
    # updated and finished.
    _, next_list = await as_(world, "community", projects.list_projects, street, p.year + 1, "")
    assert p.id in {x.id for x in next_list}
    p = await as_(
        world, "liaison", projects.add_update, p.id,
        {"version": str(p.version), "text": "资金已到位，继续实施", "percent": "60"},
    )  # fmt: skip
    assert p.state == ProjectState.IN_PROGRESS and p.carried_to_year == p.year + 1


async def test_the_list_shows_claim_status(world: World) -> None:
    need = await listed_need(world)
    await claim(world, need=need)
    page = await as_(world, "community", listings.list_items, need.street_id, "need", ListFilters())
    assert page.claims[need.id] == (1, 0)  # one claim waiting for an answer
