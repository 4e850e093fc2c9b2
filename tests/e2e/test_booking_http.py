"""Booking over HTTP: the week page, publishing slots, requesting, the conflict, approving."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from starlette.applications import Starlette

from domain.models.base import utcnow
from domain.models.sharing import Booking, Resource, ResourceSlot
from domain.sharing.booking import BEIJING, CONFLICT_MESSAGE, monday_of
from tests.conftest import soup
from tests.e2e.support import XINHUA_UNIT, get_unit, unit_id


async def make_venue(app: Starlette) -> int:
    unit = await get_unit(app, await unit_id(app, XINHUA_UNIT))
    async with app.state.session_factory() as s:
        resource = Resource(
            street_id=unit.street_id,
            unit_id=unit.id,
            kind="venue",
            title="医院多功能厅",
            capacity=40,
            bookable=True,
            state="listed",
        )
        s.add(resource)
        await s.commit()
        return resource.id


async def test_schedule_request_conflict_approve(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    rid = await make_venue(web_app)
    monday = monday_of(utcnow().astimezone(BEIJING).date()) + timedelta(days=7)
    owner = new_browser()
    await owner.login("liaison")

    # A bad publishing form re-renders with the input and a Chinese message.
    bad = await owner.post(
        f"/resources/{rid}/slots",
        {
            "date_from": monday.isoformat(),
            "date_to": "",
            "start_time": "09:00",
            "end_time": "17:00",
            "slot_minutes": "120",
            "weekdays": "0",
        },
    )
    assert bad.status_code == 400
    assert "请填写结束日期" in bad.text
    assert soup(bad).select_one('input[name="date_from"]')["value"] == monday.isoformat()

    ok = await owner.post(
        f"/resources/{rid}/slots",
        {
            "date_from": monday.isoformat(),
            "date_to": (monday + timedelta(days=4)).isoformat(),
            "start_time": "09:00",
            "end_time": "17:00",
            "slot_minutes": "120",
            "weekdays": ["0", "1", "2", "3", "4"],
        },  # type: ignore[dict-item]
    )
    assert ok.status_code == 303
    page = await owner.get(ok.headers["location"])
    assert page.status_code == 200
    doc = soup(page)
    assert len(doc.select(".week-day")) == 7
    assert len(doc.select(".slot.is-free")) == 20
    assert "09:00–11:00" in page.text
    assert doc.select_one("#resource-schedule[data-live-region]") is not None
    assert doc.select_one("#publish-slots") is not None
    assert not doc.select('form[action^="/slots/"]')  # the owner does not book its own

    async with web_app.state.session_factory() as s:
        slot_id = await s.scalar(
            select(ResourceSlot.id)
            .where(ResourceSlot.resource_id == rid)
            .order_by(ResourceSlot.starts_at)
        )
    week = f"/resources/{rid}/schedule?week={monday.isoformat()}"

    community = new_browser()
    await community.login("community")
    view = soup(await community.get(week))
    assert view.select_one(f"#slot-{slot_id} a.slot-book") is not None
    view = soup(await community.get(f"{week}&slot={slot_id}"))
    assert view.select_one(f'form[action="/slots/{slot_id}/book"]') is not None
    assert view.select_one("#publish-slots") is None
    # Missing purpose: 400, the message beside the slot.
    missing = await community.post(f"/slots/{slot_id}/book", {"purpose": "", "attendees": "12"})
    assert missing.status_code == 400
    assert "请填写用途" in missing.text
    sent = await community.post(
        f"/slots/{slot_id}/book", {"purpose": "社区党员学习活动", "attendees": "12"}
    )
    assert sent.status_code == 303 and "done=book" in sent.headers["location"]

    second = new_browser()
    await second.login("liaison2")
    seen = soup(await second.get(week))
    assert seen.select_one(f"#slot-{slot_id}").get_text(" ", strip=True).count("已预约") == 1
    clash = await second.post(f"/slots/{slot_id}/book", {"purpose": "楼宇活动", "attendees": "5"})
    assert clash.status_code == 409
    assert CONFLICT_MESSAGE in clash.text

    # The owner sees the request waiting and approves it.
    waiting = await owner.get("/bookings")
    assert "社区党员学习活动" in waiting.text
    async with web_app.state.session_factory() as s:
        booking = await s.scalar(select(Booking).where(Booking.slot_id == slot_id))
    assert booking is not None
    stale = await owner.post(
        f"/bookings/{booking.id}/approve", {"version": str(booking.version + 1)}
    )
    assert stale.status_code == 409
    done = await owner.post(f"/bookings/{booking.id}/approve", {"version": str(booking.version)})
    assert done.status_code == 303
    mine = await community.get("/bookings")
    assert "已批准" in mine.text

    # Without the CSRF token the request is refused.
    raw = await community.client.post(f"/slots/{slot_id}/book", data={"purpose": "x"})
    assert raw.status_code == 403
