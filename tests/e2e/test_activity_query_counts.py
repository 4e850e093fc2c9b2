"""The pages of one activity date and of a member's own activities cost a fixed number of
SQL statements, however many people signed up, checked in or earned points (no N+1)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from starlette.applications import Starlette

from domain.activities import checkin, settlement, signup
from domain.models.activities import PointEntry, Signup
from domain.uow import UnitOfWork
from tests.activity_factory import make_activity, make_members, now_utc, shift
from tests.conftest import Browser
from tests.e2e.support import count_statements
from tests.integration.conftest import load_actor


async def _statements(app: Starlette, browser: Browser, url: str) -> int:
    await browser.get(url)
    with count_statements(app) as seen:
        r = await browser.get(url)
    assert r.status_code == 200, url
    return len(seen)


async def _date_with(app: Starlette, people: int) -> int:
    """A settled date with `people` sign-ups, half of them checked in; returns its id."""
    factory = app.state.session_factory
    start = now_utc() + timedelta(days=1)
    made = await make_activity(factory, starts=start, capacity=0, title=f"{people}人活动")
    occ_id = made.occurrence_ids[0]
    members = await make_members(factory, people, prefix=f"q{people}-")
    for actor in members:
        async with UnitOfWork(factory, actor) as uow:
            await signup.sign_up(uow, actor, occ_id)
            await uow.commit()
    await shift(factory, occ_id, now_utc() - timedelta(minutes=10))
    organiser = await load_actor(factory, "liaison")  # the hospital's liaison hosts it
    async with factory() as s:
        ids = list(await s.scalars(select(Signup.id).where(Signup.occurrence_id == occ_id)))
    for signup_id in ids[::2]:
        async with UnitOfWork(factory, organiser) as uow:
            await checkin.organiser_checkin(uow, organiser, signup_id)
            await uow.commit()
    await shift(factory, occ_id, now_utc() - timedelta(hours=3))
    async with UnitOfWork(factory, organiser) as uow:
        await settlement.settle(uow, organiser, occ_id)
        await uow.commit()
    return occ_id


async def test_date_page_statements_do_not_grow_with_sign_ups(
    web_app: Starlette, browser: Browser
) -> None:
    small = await _date_with(web_app, 3)
    large = await _date_with(web_app, 30)
    await browser.login("liaison")  # an organiser: sees the whole list
    few = await _statements(web_app, browser, f"/activities/o/{small}")
    many = await _statements(web_app, browser, f"/activities/o/{large}")
    assert few == many
    assert many <= 16


async def _sign_member_up(app: Starlette, dates: int) -> None:
    factory = app.state.session_factory
    member = await load_actor(factory, "member")
    start = now_utc() + timedelta(days=2)
    made = await make_activity(
        factory, starts=[start + timedelta(days=7 * i) for i in range(dates)], capacity=5
    )
    for occ_id in made.occurrence_ids:
        async with UnitOfWork(factory, member) as uow:
            await signup.sign_up(uow, member, occ_id)
            await uow.commit()


async def _ledger_lines(app: Starlette, n: int) -> None:
    """`n` lines on the demo member's ledger: service on a post and from activities."""
    factory = app.state.session_factory
    member = await load_actor(factory, "member")
    made = await make_activity(factory, starts=now_utc() - timedelta(days=3), title="往期活动")
    async with factory() as s:
        s.add_all(
            PointEntry(
                user_id=member.user_id, street_id=made.street_id,
                community_id=made.community_id, source=source,
                occurrence_id=made.occurrence_ids[0] if source == "point_activity" else None,
                occurred_on=date.today() - timedelta(days=i), minutes=60, points=1,
                note=f"第{i}次",
            )
            for i in range(n)
            for source in ("point_activity", "point_post")
        )  # fmt: skip
        await s.commit()


async def test_my_activities_and_points_pages_do_not_grow(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("member")
    await _sign_member_up(web_app, 2)
    mine_few = await _statements(web_app, browser, "/activities/mine")
    points_few = await _statements(web_app, browser, "/points/me")
    await _sign_member_up(web_app, 20)
    await _ledger_lines(web_app, 25)
    assert await _statements(web_app, browser, "/activities/mine") == mine_few
    assert await _statements(web_app, browser, "/points/me") == points_few
