"""The meeting room over HTTP: who reaches which page, what htmx gets back, errors in Chinese."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from domain.models import Unit
from tests.conftest import Browser, soup
from tests.integration.test_conference_room import make_session

HX = {"HX-Request": "true"}


async def _unit(web_app, name: str) -> int:  # type: ignore[no-untyped-def]
    async with web_app.state.session_factory() as s:
        return int(await s.scalar(select(Unit.id).where(Unit.name == name)))


async def test_room_page_and_controls_by_role(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    session_id, _items = await make_session(web_app.state.session_factory)
    convener, liaison, member = new_browser(), new_browser(), new_browser()
    await convener.login("secretary")
    await liaison.login("liaison")
    await member.login("member")

    page = soup(await convener.get(f"/sessions/{session_id}/room"))
    assert page.select_one("#room-controls form[action$='/open']") is not None
    assert page.select_one("#room-item .current-title").get_text() == "会议尚未开始"
    mine = soup(await liaison.get(f"/sessions/{session_id}/room"))
    assert mine.select_one("#room-controls form[action$='/open']") is None
    assert "和平区人民医院" in mine.select_one("#room-controls .my-unit").get_text()
    # A party member of a community is no reader of the street's conference.
    assert (await member.get(f"/sessions/{session_id}/room")).status_code == 404

    assert (await liaison.get(f"/sessions/{session_id}/qr")).status_code == 403
    qr = await convener.get(f"/sessions/{session_id}/qr")
    assert qr.status_code == 200 and "<svg" in qr.text and "signin?k=s3cret-signin" in qr.text


async def test_htmx_actions_answer_204_and_errors_come_as_fragments(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    session_id, items = await make_session(web_app.state.session_factory)
    hospital = await _unit(web_app, "和平区人民医院")
    convener, liaison = new_browser(), new_browser()
    await convener.login("secretary")
    await liaison.login("liaison")

    opened = await convener.post(f"/sessions/{session_id}/open", headers=HX)
    assert opened.status_code == 204
    refused = await liaison.post(
        f"/sessions/{session_id}/advance", {"item_id": str(items[1])}, headers=HX
    )
    assert refused.status_code == 403 and "<html" not in refused.text
    assert refused.headers["HX-Retarget"] == "#flash" and "召集人或秘书处" in refused.text

    vote = await convener.post(f"/items/{items[0]}/votes", {"motion": ""}, headers=HX)
    assert vote.status_code == 400 and "表决事项" in vote.text
    assert (
        await convener.post(f"/items/{items[0]}/votes", {"motion": "同意"}, headers=HX)
    ).status_code == 204

    ballot = await liaison.post(
        "/votes/1/ballot", {"unit_id": str(hospital), "choice": "for"}, headers=HX
    )
    assert ballot.status_code == 204
    again = await liaison.post(
        "/votes/1/ballot", {"unit_id": str(hospital), "choice": "against"}, headers=HX
    )
    assert again.status_code == 400 and "只能投一票" in again.text

    # Without htmx the same forms redirect back to the room.
    plain = await liaison.post(f"/items/{items[0]}/speak", {"unit_id": str(hospital)})
    assert plain.status_code == 303 and plain.headers["location"] == f"/sessions/{session_id}/room"
    room = soup(await convener.get(f"/sessions/{session_id}/room"))
    assert "和平区人民医院" in room.select_one("#room-speakers").get_text()
    assert room.select_one("#room-vote [data-choice=for]").get_text() == "1"


async def test_qr_sign_in_page(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    session_id, _ = await make_session(web_app.state.session_factory)
    liaison: Browser = new_browser()
    await liaison.login("liaison")
    bad = await liaison.get(f"/sessions/{session_id}/signin?k=nope")
    assert bad.status_code == 400 and "二维码无效" in bad.text
    good = soup(await liaison.get(f"/sessions/{session_id}/signin?k=s3cret-signin"))
    form = good.select_one("form[action$='/signin']")
    assert form is not None
    data = {
        i["name"]: i["value"]
        for i in form.select("input[type=hidden]")
        if i["name"] != "csrf_token"
    }
    done = await liaison.post(f"/sessions/{session_id}/signin", data)
    assert done.status_code == 303
    again = soup(await liaison.get(f"/sessions/{session_id}/signin?k=s3cret-signin"))
    assert "已签到" in again.get_text()


async def test_decision_page_leads_to_its_task(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    session_id, items = await make_session(web_app.state.session_factory)
    hospital = await _unit(web_app, "和平区人民医院")
    convener, liaison, dept = new_browser(), new_browser(), new_browser()
    await convener.login("secretary")
    await liaison.login("liaison")
    await dept.login("dept")
    await convener.post(f"/sessions/{session_id}/open")
    deadline = (date.today() + timedelta(days=20)).isoformat()
    bad = await convener.post(
        f"/items/{items[0]}/decisions",
        {"title": "摸排", "lead_unit_id": "", "deadline": deadline},
        headers=HX,
    )
    assert bad.status_code == 400 and "牵头单位" in bad.text
    made = await convener.post(
        f"/items/{items[0]}/decisions",
        {"title": "完成加装电梯意向摸排", "lead_unit_id": str(hospital), "deadline": deadline},
    )
    assert made.status_code == 303

    home = soup(await liaison.get("/"))
    assert "完成加装电梯意向摸排" in home.select_one("#my-decisions").get_text()
    # The decision page leads to its task, which the lead unit's liaison handles.
    page = soup(await liaison.get("/decisions/1"))
    link = page.select_one("#decision-task")
    assert link is not None
    task_page = soup(await liaison.get(str(link["href"])))
    assert task_page.select_one("#task-state").get_text(strip=True) == "已交办"  # type: ignore[union-attr]
    assert task_page.select_one(f"#accept-{hospital}") is not None
    board = soup(await liaison.get("/tasks"))
    assert "完成加装电梯意向摸排" in board.select_one('.board-col[data-col="to-accept"]').get_text()  # type: ignore[union-attr]
