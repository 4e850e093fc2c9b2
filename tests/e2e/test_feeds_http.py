"""Calendar feeds over HTTP: making a subscription URL, fetching it as a calendar program
would (no login, conditional GET), changes showing at the next fetch, revoking, downloads."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select
from starlette.applications import Starlette

from domain.models.activities import Activity, ActivityHost, ActivityOccurrence
from domain.models.base import utcnow
from tests.conftest import soup
from tests.e2e.support import XINHUA_UNIT, count_statements, get_unit, unit_id
from tests.unit.test_ical import BJ

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


async def add_activity(
    app: Starlette, title: str, state: str = "activity_announced", weeks: int = 1
) -> tuple[int, list[int]]:
    """A weekly series (or a one-off when weeks == 1) hosted by the demo hospital."""
    unit = await get_unit(app, await unit_id(app, XINHUA_UNIT))
    today = utcnow().astimezone(BJ).date() + timedelta(days=10)
    first = datetime(today.year, today.month, today.day, 9, 0, tzinfo=BJ)
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    async with app.state.session_factory() as s:
        a = Activity(
            street_id=unit.street_id,
            kind="volunteer_service",
            title=title,
            venue="医院门诊大厅",
            starts_at=first,
            ends_at=first + timedelta(hours=3),
            recurrence=f"FREQ=WEEKLY;BYDAY={WEEKDAYS[today.weekday()]}" if weeks > 1 else "",
            recurrence_until=starts[-1].date() if weeks > 1 else None,
            state=state,
        )
        s.add(a)
        await s.flush()
        s.add(ActivityHost(activity_id=a.id, unit_id=unit.id, position=0))
        occs = [
            ActivityOccurrence(
                activity_id=a.id,
                street_id=unit.street_id,
                starts_at=t,
                ends_at=t + timedelta(hours=3),
                original_starts_at=t,
                checkin_token=secrets.token_urlsafe(24),
            )
            for t in starts
        ]
        s.add_all(occs)
        await s.flush()
        ids = [o.id for o in occs]
        await s.commit()
        return a.id, ids


async def test_subscribe_fetch_change_and_revoke(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    series_id, occ_ids = await add_activity(web_app, "义诊进社区", weeks=4)
    planned_id, _ = await add_activity(web_app, "筹备中的义诊", state="activity_planned")
    liaison = new_browser()
    await liaison.login("liaison")
    page = await liaison.get("/calendar/feeds")
    assert page.status_code == 200
    assert "还没有订阅地址" in page.text

    made = await liaison.post("/calendar/feeds", {"unit_id": ""})
    assert made.status_code == 200
    doc = soup(made)
    url = str(doc.select_one("input#feed-url")["value"])
    assert url.startswith("http://testserver/ical/") and url.endswith(".ics")
    assert "订阅日历" in doc.select_one("#feed-issued").get_text()
    assert "no-store" in made.headers["cache-control"]
    path = url.removeprefix("http://testserver")
    token = path.removeprefix("/ical/").removesuffix(".ics")
    # The list shows the prefix only; the URL is never shown again.
    again = await liaison.get("/calendar/feeds")
    assert token not in again.text
    assert token[:8] in again.text

    calendar_app = new_browser()  # no login, no cookies: a calendar program
    first = await calendar_app.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    assert first.headers["cache-control"] == "private, max-age=300"
    etag = first.headers["etag"]
    cal = Calendar.from_ical(first.content)
    seen = {str(e["UID"]) for e in cal.walk("VEVENT")}
    assert f"activity-{series_id}@gongjian" in seen
    assert f"activity-{planned_id}@gongjian" not in seen
    master = next(
        e for e in cal.walk("VEVENT") if str(e["UID"]) == f"activity-{series_id}@gongjian"
    )
    assert str(master["URL"]) == f"http://testserver/activities/{series_id}"

    not_modified = await calendar_app.get(path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == etag

    # Move the second date: the next fetch shows it, with a new ETag.
    async with web_app.state.session_factory() as s:
        occ = await s.get(ActivityOccurrence, occ_ids[1])
        assert occ is not None
        occ.starts_at += timedelta(hours=5)
        occ.ends_at += timedelta(hours=5)
        await s.commit()
    changed = await calendar_app.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    overrides = [
        e for e in Calendar.from_ical(changed.content).walk("VEVENT") if "RECURRENCE-ID" in e
    ]
    assert [o["DTSTART"].dt.astimezone(BJ).hour for o in overrides] == [14]

    # Revoke: the URL is dead (plain 404), and another user cannot touch the feed.
    feed_id = int(str(soup(again).select_one("tr[data-feed]")["data-feed"]))
    member = new_browser()
    await member.login("member")
    assert (await member.post(f"/calendar/feeds/{feed_id}/revoke")).status_code == 404
    revoked = await liaison.post(f"/calendar/feeds/{feed_id}/revoke")
    assert revoked.status_code == 303
    gone = await calendar_app.get(path)
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("text/plain")
    assert (await calendar_app.get("/ical/" + "A" * 43 + ".ics")).status_code == 404


async def test_regenerate_and_query_count(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    liaison = new_browser()
    await liaison.login("liaison")
    made = await liaison.post(
        "/calendar/feeds", {"unit_id": str(await unit_id(web_app, XINHUA_UNIT))}
    )
    old = str(soup(made).select_one("input#feed-url")["value"]).removeprefix("http://testserver")
    assert "单位日历" in soup(made).select_one("#feed-issued").get_text()
    feed_id = int(str(soup(made).select_one("tr[data-feed]")["data-feed"]))
    renewed = await liaison.post(f"/calendar/feeds/{feed_id}/regenerate")
    new = str(soup(renewed).select_one("input#feed-url")["value"]).removeprefix("http://testserver")
    assert new != old
    reader = new_browser()
    assert (await reader.get(old)).status_code == 404
    await add_activity(web_app, "单次活动")
    with count_statements(web_app) as few:
        assert (await reader.get(new)).status_code == 200
    for n in range(5):
        await add_activity(web_app, f"系列活动{n}", weeks=3)
    with count_statements(web_app) as many:
        body = (await reader.get(new)).content
    assert body.count(b"BEGIN:VEVENT") >= 6
    assert len(many) == len(few)


async def test_single_downloads(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    series_id, occ_ids = await add_activity(web_app, "义诊进社区", weeks=3)
    planned_id, planned_occ = await add_activity(web_app, "筹备中的义诊", state="activity_planned")
    anonymous = new_browser()
    assert (await anonymous.get(f"/activities/{series_id}.ics")).status_code in (302, 303)
    member = new_browser()
    await member.login("member")
    whole = await member.get(f"/activities/{series_id}.ics")
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "text/calendar; charset=utf-8"
    assert f'filename="activity-{series_id}.ics"' in whole.headers["content-disposition"]
    cal = Calendar.from_ical(whole.content)
    assert "RRULE" in next(iter(cal.walk("VEVENT")))
    one = await member.get(f"/activities/o/{occ_ids[1]}.ics")
    assert one.status_code == 200
    event = next(iter(Calendar.from_ical(one.content).walk("VEVENT")))
    assert str(event["UID"]) == f"occurrence-{occ_ids[1]}@gongjian"
    assert "attachment;" in one.headers["content-disposition"]
    # A planned activity is the organisers' only.
    assert (await member.get(f"/activities/{planned_id}.ics")).status_code == 404
    assert (await member.get(f"/activities/o/{planned_occ[0]}.ics")).status_code == 404
    liaison = new_browser()
    await liaison.login("liaison")
    assert (await liaison.get(f"/activities/{planned_id}.ics")).status_code == 200
    async with web_app.state.session_factory() as s:
        assert await s.scalar(select(Activity.id).where(Activity.id == planned_id))
