"""The community admission catalogue (社区事务准入目录): apply → review → admitted / denied →
withdrawn, who may do each, and what the task services ask of it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.models import AdmissionItem, Event, Notification, User
from domain.permissions import Actor
from domain.tasks import admission as svc
from domain.topics import street_topic
from tests.integration.conftest import World

XINHUA, CHANGAN = "新华街道", "长安街道"
TEAM = "区城管执法局新华街道执法队"
PENDING_DEMO = "住宅小区电动自行车违规停放充电排查"


def application(**overrides: str) -> dict[str, str]:
    values = {
        "title": "社区养犬登记宣传",
        "category": "城市管理",
        "basis": "《滨江市养犬管理规定》第十二条",
        "description": "每季度在社区宣传栏张贴养犬登记须知。",
    }
    values.update(overrides)
    return values


async def apply(world: World, username: str, street: str = XINHUA, **raw: str) -> AdmissionItem:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        item = await svc.apply_item(uow, actor, await world.org_id(street), application(**raw))
        await uow.commit()
    return item


async def review(
    world: World, username: str, item: AdmissionItem, decision: str, note: str = ""
) -> AdmissionItem:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        done = await svc.review_item(uow, actor, item.id, item.version, decision, note)
        await uow.commit()
    return done


async def withdraw(world: World, username: str, item: AdmissionItem, note: str) -> AdmissionItem:
    actor = await world.actor(username)
    async with world.uow(actor) as uow:
        done = await svc.withdraw_item(uow, actor, item.id, item.version, note)
        await uow.commit()
    return done


async def stored(world: World, item_id: int) -> AdmissionItem:
    async with world.factory() as s:
        item = await s.get(AdmissionItem, item_id)
    assert item is not None
    return item


async def notified(world: World, kind: str) -> dict[str, list[Notification]]:
    """Notifications of one kind, by the username they went to."""
    async with world.factory() as s:
        rows = await s.execute(
            select(User.username, Notification)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind == kind)
            .order_by(Notification.id)
        )
        out: dict[str, list[Notification]] = {}
        for username, note in rows:
            out.setdefault(username, []).append(note)
        return out


async def demo_item(world: World, title: str) -> AdmissionItem:
    async with world.factory() as s:
        item = await s.scalar(select(AdmissionItem).where(AdmissionItem.title == title))
    assert item is not None, title
    return item


async def is_admitted(world: World, street: str, item_id: int | None) -> bool:
    async with world.uow() as uow:
        found = await svc.check_admission(uow, await world.org_id(street), item_id)
    return found is not None and found.id == item_id


async def test_apply_admit_withdraw(world: World) -> None:
    xinhua = await world.org_id(XINHUA)
    team = await world.unit(TEAM)

    item = await apply(world, "dept")

    # The liaison's one department is the applicant without being chosen.
    assert item.state == "applied"
    assert item.applicant_unit_id == team.id
    assert item.applied_by_id == (await world.user("dept")).id
    [entry] = await world.audit("admission.apply", item.id)
    assert entry.actor_name == "dept"
    assert entry.object_type == "admission_item"
    assert TEAM in entry.summary
    # The street's reviewers hear of it; the applicant does not.
    applied = await notified(world, "admission.applied")
    assert sorted(applied) == ["secretary", "supervisor"]
    assert applied["secretary"][0].link == f"/admission/{item.id}"
    assert "社区养犬登记宣传" in applied["secretary"][0].title
    assert not await is_admitted(world, XINHUA, item.id)

    admitted = await review(world, "secretary", item, "admit", "同意，纳入目录。")
    assert admitted.state == "admitted"
    assert admitted.reviewed_by_id == (await world.user("secretary")).id
    assert admitted.reviewed_at is not None
    assert admitted.review_note == "同意，纳入目录。"
    assert len(await world.audit("admission.admit", item.id)) == 1
    assert list(await notified(world, "admission.admitted")) == ["dept"]
    assert await is_admitted(world, XINHUA, item.id)
    async with world.uow() as uow:
        titles = [i.title for i in await svc.admitted_items(uow, xinhua)]
    assert "社区养犬登记宣传" in titles
    assert PENDING_DEMO not in titles

    # Withdrawing an admitted matter needs a reason: communities may then refuse such tasks.
    dept = await world.actor("dept")
    async with world.uow(dept) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.withdraw_item(uow, dept, item.id, admitted.version, "  ")
    assert caught.value.fields == {"withdraw_note": "撤回已准入的事项须说明原因。"}

    gone = await withdraw(world, "dept", admitted, "上级文件已废止。")
    assert gone.state == "withdrawn"
    assert gone.withdrawn_at is not None
    [entry] = await world.audit("admission.withdraw", item.id)
    assert entry.after is not None and entry.after["note"] == "上级文件已废止。"
    assert sorted(await notified(world, "admission.withdrawn")) == ["secretary", "supervisor"]
    assert not await is_admitted(world, XINHUA, item.id)

    # Every change told the street's open pages.
    async with world.factory() as s:
        kinds = list(
            await s.scalars(
                select(Event.kind).where(
                    Event.topic == street_topic(xinhua), Event.kind == "admission.changed"
                )
            )
        )
    assert len(kinds) == 3

    # The detail view tells the story, with names.
    secretary = await world.actor("secretary")
    async with world.uow(secretary) as uow:
        view = await svc.item_view(uow, secretary, item.id)
    assert view.applied_by == "钱坤"
    assert view.reviewed_by == "张秀兰"
    assert [h.text for h in view.history] == [
        f"钱坤（{TEAM}）申请准入：社区养犬登记宣传",
        "张秀兰 审核：已准入：同意，纳入目录。",
        "钱坤 撤回（原为已准入）：上级文件已废止。",
    ]


async def test_deny_needs_a_note_and_tells_the_department(world: World) -> None:
    item = await demo_item(world, PENDING_DEMO)
    supervisor = await world.actor("supervisor")
    async with world.uow(supervisor) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await svc.review_item(uow, supervisor, item.id, item.version, "deny", " ")
    assert caught.value.fields == {"review_note": "不予准入须说明理由。"}
    assert (await stored(world, item.id)).state == "applied"

    denied = await review(world, "supervisor", item, "deny", "属执法队自身职责，不宜交社区。")
    assert denied.state == "denied"
    [note] = (await notified(world, "admission.denied"))["dept"]
    assert note.body == "属执法队自身职责，不宜交社区。"
    assert "不予准入" in note.title
    assert not await is_admitted(world, XINHUA, item.id)

    # A denied matter is closed: nothing more to review or withdraw.
    with pytest.raises(Conflict):
        await review(world, "secretary", denied, "admit")
    with pytest.raises(Conflict):
        await withdraw(world, "dept", denied, "")


async def test_the_street_enters_and_admits_at_once(world: World) -> None:
    police = await world.unit("新华派出所")
    item = await apply(
        world,
        "secretary",
        title="社区重点人员走访",
        admit_now="1",
        applicant_unit_id=str(police.id),
    )
    assert item.state == "admitted"
    assert item.applicant_unit_id == police.id
    assert len(await world.audit("admission.apply", item.id)) == 1
    assert len(await world.audit("admission.admit", item.id)) == 1
    # No review is asked of anyone; the department it was entered for hears it was admitted.
    assert await notified(world, "admission.applied") == {}
    assert await is_admitted(world, XINHUA, item.id)

    # Without the box ticked, or without a department, it waits for review like any other.
    plain = await apply(world, "secretary", title="社区文明创建宣传")
    assert plain.state == "applied"
    assert plain.applicant_unit_id is None
    assert sorted(await notified(world, "admission.applied")) == ["supervisor"]
    # A supervisor reviews but does not enter; ticking the box does nothing for a liaison.
    by_dept = await apply(world, "dept", title="门前三包宣传", admit_now="1")
    assert by_dept.state == "applied"


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        pytest.param(
            {"title": " ", "category": "", "basis": ""},
            {
                "title": "请填写事项名称。",
                "category": "请选择事项类别。",
                "basis": "请填写政策依据（将该事项交由社区承担的法律法规或文件）。",
            },
            id="empty",
        ),
        pytest.param(
            {"title": "长" * 201, "category": "随便", "description": "字" * 2001},
            {
                "title": "事项名称不能超过 200 个字。",
                "category": "请选择事项类别。",
                "description": "事项说明不能超过 2000 个字。",
            },
            id="too-long",
        ),
        pytest.param({"basis": "据" * 501}, {"basis": "政策依据不能超过 500 个字。"}, id="basis"),
        pytest.param(
            {"applicant_unit_id": "999999"},
            {"applicant_unit_id": "请选择本街道的职能部门。"},
            id="not-my-department",
        ),
        pytest.param(
            {"title": PENDING_DEMO},
            {"title": "本街道的准入目录中已有同名事项（待审核或已准入）。"},
            id="same-title",
        ),
    ],
)
async def test_invalid_applications_are_refused_field_by_field(
    world: World, raw: dict[str, str], errors: dict[str, str]
) -> None:
    before = await world.count(AdmissionItem)
    with pytest.raises(ValidationFailed) as caught:
        await apply(world, "dept", **raw)
    assert caught.value.fields == errors
    assert await world.count(AdmissionItem) == before
    assert await world.audit("admission.apply") == []


async def test_a_withdrawn_title_may_be_applied_for_again(world: World) -> None:
    item = await demo_item(world, PENDING_DEMO)
    await withdraw(world, "dept", item, "")  # one's own application: no reason needed
    again = await apply(world, "dept", title=PENDING_DEMO)
    assert again.state == "applied"


@pytest.mark.parametrize("username", ["community", "liaison", "district", "supervisor"])
async def test_only_departments_and_the_street_secretary_apply(world: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        await apply(world, username)


async def test_only_the_street_reviews_and_only_parties_withdraw(world: World) -> None:
    item = await demo_item(world, PENDING_DEMO)
    for username in ("dept", "community", "district", "liaison"):
        with pytest.raises(PermissionDenied):
            await review(world, username, item, "admit")
    for username in ("community", "district", "liaison"):
        with pytest.raises(PermissionDenied):
            await withdraw(world, username, item, "不需要")
    # Another street's secretary does not even see it.
    with pytest.raises(NotFound):
        await review(world, "secretary2", item, "admit")
    with pytest.raises(NotFound):
        await withdraw(world, "secretary2", item, "不需要")
    assert (await stored(world, item.id)).state == "applied"
    # The street may withdraw a department's application (and tells the department).
    await withdraw(world, "supervisor", item, "重复申请")
    assert list(await notified(world, "admission.withdrawn")) == ["dept"]


async def test_unknown_decision_and_wrong_state(world: World) -> None:
    item = await demo_item(world, PENDING_DEMO)
    with pytest.raises(ValidationFailed):
        await review(world, "secretary", item, "maybe")
    admitted = await review(world, "secretary", item, "admit")
    with pytest.raises(Conflict) as caught:
        await review(world, "supervisor", admitted, "deny", "再议")
    assert caught.value.status == 409
    assert "已准入" in caught.value.message
    gone = await withdraw(world, "secretary", admitted, "合并到其他事项")
    with pytest.raises(Conflict):
        await withdraw(world, "dept", gone, "")


async def test_review_with_a_stale_version_is_refused(world: World) -> None:
    item = await demo_item(world, PENDING_DEMO)
    secretary = await world.actor("secretary")
    async with world.uow(secretary) as uow:
        with pytest.raises(Conflict):
            await svc.review_item(uow, secretary, item.id, item.version - 1, "admit", "")
    assert (await stored(world, item.id)).state == "applied"


async def test_concurrent_reviews_are_caught_by_the_version_check(world: World) -> None:
    """Both reviewers loaded version 1; the slower one is refused when it writes."""
    item = await demo_item(world, PENDING_DEMO)
    secretary = await world.actor("secretary")
    supervisor = await world.actor("supervisor")
    async with world.uow(supervisor) as slow:
        await svc.get_item(slow, supervisor, item.id)  # loaded at version 1, kept in the session
        async with world.uow(secretary) as fast:
            await svc.review_item(fast, secretary, item.id, 1, "admit", "")
            await fast.commit()
        with pytest.raises(Conflict):
            await svc.review_item(slow, supervisor, item.id, 1, "deny", "不同意")
            await slow.commit()
    final = await stored(world, item.id)
    assert final.state == "admitted"
    assert [e.actor_name for e in await world.audit("admission.admit", item.id)] == ["secretary"]
    assert await world.audit("admission.deny", item.id) == []


async def test_check_admission_names_only_admitted_items_of_that_street(world: World) -> None:
    admitted = await demo_item(world, "矛盾纠纷排查与人民调解")
    pending = await demo_item(world, PENDING_DEMO)
    assert await is_admitted(world, XINHUA, admitted.id)
    assert not await is_admitted(world, CHANGAN, admitted.id)
    assert not await is_admitted(world, XINHUA, pending.id)
    assert not await is_admitted(world, XINHUA, None)
    assert not await is_admitted(world, XINHUA, 2**40)
    assert not await is_admitted(world, XINHUA, 999_999)
    assert svc.matches_admission({admitted.id}, admitted.id)
    assert not svc.matches_admission({admitted.id}, None)
    assert not svc.matches_admission({admitted.id}, pending.id)


async def _titles(world: World, actor: Actor, street: str, **kw: str) -> list[str]:
    async with world.uow(actor) as uow:
        items = await svc.list_items(uow, actor, await world.org_id(street), **kw)
    return [i.title for i in items]


async def test_who_reads_the_catalogue_and_filters(world: World) -> None:
    everyone_in_xinhua = ("secretary", "supervisor", "dept", "community", "liaison", "district")
    for username in everyone_in_xinhua:
        titles = await _titles(world, await world.actor(username), XINHUA)
        assert len(titles) == 5, username
    admin = await world.actor("admin")
    assert await _titles(world, admin, CHANGAN) == []
    # Party members act for no organisation; other streets' staff see their own only.
    for username in ("member", "secretary2"):
        with pytest.raises(NotFound):
            await _titles(world, await world.actor(username), XINHUA)

    community = await world.actor("community")
    assert await _titles(world, community, XINHUA, state="applied") == [PENDING_DEMO]
    assert await _titles(world, community, XINHUA, q="人民调解法") == ["矛盾纠纷排查与人民调解"]
    assert await _titles(world, community, XINHUA, q="卫生健康") == [
        "65岁以上老年人健康体检通知与组织"
    ]
    assert await _titles(world, community, XINHUA, q="100%_") == []
    async with world.uow(community) as uow:
        counts = await svc.state_counts(uow, await world.org_id(XINHUA))
        streets = await svc.reachable_streets(uow, community)
    assert counts == {"applied": 1, "admitted": 4, "denied": 0, "withdrawn": 0}
    assert [s.name for s in streets] == [XINHUA]

    item = await demo_item(world, PENDING_DEMO)
    secretary2 = await world.actor("secretary2")
    async with world.uow(secretary2) as uow:
        with pytest.raises(NotFound):
            await svc.get_item(uow, secretary2, item.id)
