"""Roll-up figures (四级联动) against records made here, on SQLite and PostgreSQL, and who
may see which level. Figures are checked as what the records below add to the demo."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.enums import MemberRole
from domain.errors import NotFound
from domain.models import Task
from domain.models.activities import Activity, ActivityOccurrence, PointEntry, Signup
from domain.models.conference import Attendance, Conference, ConferenceMember, MeetingSession
from domain.models.dual_report import MemberRegistration, UnitRegistration
from domain.models.identity import User
from domain.models.sharing import Need, Project, Resource
from domain.rollup import drill, overview
from domain.rollup.figures import Row, street_rows
from domain.tasks.stats_scope import Period, PeriodKind
from tests.integration.conftest import World

PERIOD = Period(PeriodKind.CUSTOM, date(2026, 3, 1), date(2026, 3, 31))
NOW = datetime(2026, 4, 10, 4, 0, tzinfo=UTC)


def at(day: int, month: int = 3, hour: int = 2) -> datetime:
    """A moment in 2026 (UTC; 02:00 UTC is 10:00 in Beijing, the same day)."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def delta(after: Row, before: Row) -> dict[str, object]:
    keys = Row.__dataclass_fields__
    skip = {"org_id", "name", "links", "score", "organisations", "org_covered"}
    skip |= {"work_covered", "gaps"}
    a, b = asdict(after), asdict(before)
    return {k: a[k] - b[k] for k in keys if k not in skip and a[k] != b[k]}


async def figures(world: World, names: list[str]) -> dict[str, Row]:
    streets = [(await world.org_id(n), n) for n in names]
    async with world.uow() as uow:
        table = await street_rows(uow, streets, PERIOD, NOW)
    assert table.has_coverage  # helper E's figures are wired in
    return {r.name: r for r in table.rows}


def task(street_id: int, office: int, state: str, assigned: datetime, **kw: object) -> Task:
    values: dict[str, object] = {
        "street_id": street_id,
        "source": "assignment",
        "title": f"任务 {uuid.uuid4().hex[:6]}",
        "assigner_unit_id": office,
        "state": state,
        "limit_value": 5,
        "limit_unit": "working_days",
        "assigned_at": assigned,
        "accept_due_at": assigned + timedelta(days=1),
        "deadline": assigned + timedelta(days=7),
        "original_deadline": assigned + timedelta(days=7),
    }
    values.update(kw)
    return Task(**values)


async def seed(world: World) -> dict[str, int]:
    xinhua, changan = await world.org_id("新华街道"), await world.org_id("长安街道")
    wenhua = await world.org_id("文化里社区")
    hospital = await world.unit("和平区人民医院")
    tech = await world.unit("滨江数智科技有限公司")
    office = await world.unit("新华街道办事处")
    office2 = await world.unit("长安街道办事处")
    secretary = await world.user("secretary")
    async with world.uow() as uow:
        s = uow.session
        users = list(await s.scalars(select(User.id).order_by(User.id).limit(3)))
        registered = set(
            await s.scalars(
                select(MemberRegistration.user_id).where(
                    MemberRegistration.state.in_(["reg_submitted", "reg_confirmed"])
                )
            )
        )
        free_user = await s.scalar(
            select(User.id).where(User.id.not_in(registered or {0})).order_by(User.id).limit(1)
        )
        # Tasks: three assigned in March (one closed on time, one late, one open and
        # overdue), one open from February (not in the period, not overdue); one in 长安.
        s.add_all(
            [
                task(xinhua, office.id, "closed_out", at(2), reported_at=at(5)),
                task(xinhua, office.id, "archived", at(3), reported_at=at(20)),
                task(xinhua, office.id, "in_progress", at(10)),
                task(xinhua, office.id, "in_progress", at(20, 2), deadline=at(1, 5)),
                task(changan, office2.id, "assigned", at(12)),
            ]
        )
        # Conference: two sessions held in March, one only planned.
        conference = await s.scalar(select(Conference).where(Conference.organization_id == xinhua))
        assert conference is not None
        members = await s.scalar(
            select(func.count(ConferenceMember.id)).where(
                ConferenceMember.conference_id == conference.id,
                ConferenceMember.active.is_(True),
                ConferenceMember.role != MemberRole.OBSERVER.value,
            )
        )
        sessions = []
        for i, state in enumerate(["issued", "archived", "planned"]):
            m = MeetingSession(
                conference_id=conference.id,
                year=2026,
                title=f"例会 {i}",
                starts_at=at(5 + i),
                ends_at=at(5 + i, hour=4),
                state=state,
                signin_secret=uuid.uuid4().hex,
                created_by_id=secretary.id,
            )
            s.add(m)
            sessions.append(m)
        await s.flush()
        s.add_all(
            [
                Attendance(session_id=sessions[0].id, unit_id=hospital.id, signed_in_at=at(5)),
                Attendance(session_id=sessions[0].id, unit_id=tech.id, signed_in_at=at(5)),
                Attendance(session_id=sessions[1].id, unit_id=hospital.id, signed_in_at=at(6)),
                Attendance(session_id=sessions[1].id, unit_id=tech.id, reply="leave"),
                Attendance(session_id=sessions[2].id, unit_id=tech.id, signed_in_at=at(7)),
            ]
        )
        # Lists: two needs posted in March (one pending vetting does not count), a listed
        # resource, a project completed in March and one in February.
        s.add_all(
            [
                Need(street_id=xinhua, poster_unit_id=office.id, category="c", title="需求一",
                     state="listed", created_at=at(4)),
                Need(street_id=xinhua, poster_unit_id=office.id, category="c", title="需求二",
                     state="fulfilled", created_at=at(8)),
                Need(street_id=xinhua, poster_unit_id=office.id, category="c", title="需求三",
                     state="pending_vetting", created_at=at(9)),
                Need(street_id=xinhua, poster_unit_id=office.id, category="c", title="旧需求",
                     state="listed", created_at=at(9, 1)),
                Resource(street_id=xinhua, unit_id=hospital.id, kind="venue", title="会议室",
                         state="listed"),
                Resource(street_id=xinhua, unit_id=hospital.id, kind="venue", title="待审",
                         state="pending_vetting"),
                Project(street_id=xinhua, year=2026, title="项目一", requester_unit_id=office.id,
                        provider_unit_id=hospital.id, state="project_completed",
                        completed_on=date(2026, 3, 15)),
                Project(street_id=xinhua, year=2026, title="项目二", requester_unit_id=office.id,
                        provider_unit_id=hospital.id, state="project_rated",
                        completed_on=date(2026, 2, 1)),
            ]
        )  # fmt: skip
        # Activities: one settled date in March with two attended and one no-show, one
        # date still scheduled; service time 90 + 30 minutes in March, 60 in February.
        activity = Activity(
            street_id=xinhua,
            community_id=wenhua,
            kind="volunteer",
            title="义诊进社区",
            starts_at=at(14),
            ends_at=at(14, hour=4),
        )
        s.add(activity)
        await s.flush()
        dates = [
            ActivityOccurrence(
                activity_id=activity.id,
                street_id=xinhua,
                starts_at=at(day),
                ends_at=at(day, hour=4),
                original_starts_at=at(day),
                state=state,
                checkin_token=uuid.uuid4().hex,
            )
            for day, state in ((14, "occ_settled"), (21, "occ_scheduled"))
        ]
        s.add_all(dates)
        await s.flush()
        s.add_all(
            [
                Signup(occurrence_id=dates[0].id, user_id=users[0], attendance="attended"),
                Signup(occurrence_id=dates[0].id, user_id=users[1], attendance="attended"),
                Signup(occurrence_id=dates[0].id, user_id=users[2], attendance="no_show"),
            ]
        )
        for day, month, minutes in ((14, 3, 90), (15, 3, 30), (10, 2, 60)):
            s.add(
                PointEntry(
                    user_id=users[0],
                    street_id=xinhua,
                    community_id=wenhua,
                    source="activity",
                    occurred_on=date(2026, month, day),
                    minutes=minutes,
                )
            )
        # 双报到: the hospital's slip confirmed, the tech firm's only submitted; a member.
        for unit, state in ((hospital, "reg_confirmed"), (tech, "reg_submitted")):
            s.add(
                UnitRegistration(
                    unit_id=unit.id,
                    community_id=wenhua,
                    street_id=xinhua,
                    year=2026,
                    contact_name="联系人",
                    contact_phone="010-1",
                    state=state,
                )
            )
        s.add(
            MemberRegistration(
                user_id=free_user, community_id=wenhua, street_id=xinhua, state="reg_confirmed"
            )
        )
        await uow.commit()
    return {"members": int(members or 0), "wenhua": wenhua}


async def test_figures_per_street(world: World) -> None:
    before = await figures(world, ["新华街道", "长安街道"])
    made = await seed(world)
    after = await figures(world, ["新华街道", "长安街道"])
    assert delta(after["新华街道"], before["新华街道"]) == {
        "assigned": 3,
        "closed": 2,
        "closed_on_time": 1,
        "open": 2,
        "overdue": 1,
        "sessions": 2,
        "seats": 2 * made["members"],
        "present": 3,
        "needs": 2,
        "resources": 1,
        "projects_done": 1,
        "dates_held": 1,
        "attendances": 2,
        "minutes": 120,
        "units_confirmed": 1,
        "members": 1,
    }
    assert delta(after["长安街道"], before["长安街道"]) == {"assigned": 1, "open": 1, "overdue": 1}
    xinhua = after["新华街道"]
    assert xinhua.on_time_rate == xinhua.closed_on_time / xinhua.closed


async def test_community_rows_and_units(world: World) -> None:
    made = await seed(world)
    wenhua = made["wenhua"]
    async with world.uow() as uow:
        place, communities = await overview.street(
            uow, await world.actor("secretary"), await world.org_id("新华街道")
        )
        rows = {r.name: r for r in await drill.community_rows(uow, communities, PERIOD)}
        units = await drill.community_units(uow, wenhua, 2026, None)
        scores = await drill.unit_scores(uow, place.org.id, 2026, 1)
    row = rows["文化里社区"]
    assert (row.dates_held, row.attendances, row.minutes) == (1, 2, 120)
    assert (row.units_confirmed, row.stationed, row.members) == (1, 3, 1)
    assert (rows["春晖社区"].dates_held, rows["春晖社区"].minutes) == (0, 0)
    slips = {u.name: u.slip_state for u in units}
    assert slips["和平区人民医院"] == "reg_confirmed"
    assert slips["滨江数智科技有限公司"] == "reg_submitted"
    assert slips["文化里社区居委会"] == ""
    assert scores is not None and any(s.total is not None for s in scores.values())


LEVELS = ("city", "district", "xinhua", "changan", "wenhua")


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("admin", set(LEVELS)),
        ("city", set(LEVELS)),
        ("district", {"district", "xinhua", "changan", "wenhua"}),
        ("secretary", {"xinhua", "wenhua"}),
        ("secretary2", {"changan"}),
        ("community", set()),
        ("member", set()),
    ],
)
async def test_access_by_level(world: World, user: str, allowed: set[str]) -> None:
    actor = await world.actor(user)
    ids = {
        "city": await world.org_id("滨江市"),
        "district": await world.org_id("和平区"),
        "xinhua": await world.org_id("新华街道"),
        "changan": await world.org_id("长安街道"),
        "wenhua": await world.org_id("文化里社区"),
    }
    calls = {
        "city": overview.city,
        "district": overview.district,
        "xinhua": overview.street,
        "changan": overview.street,
        "wenhua": overview.community,
    }
    seen = set()
    for key in LEVELS:
        async with world.uow(actor) as uow:
            try:
                await calls[key](uow, actor, ids[key])  # type: ignore[operator]
                seen.add(key)
            except NotFound:
                pass
    assert seen == allowed
    # A street id asked for as a district is not found, whoever asks.
    async with world.uow(actor) as uow:
        with pytest.raises(NotFound):
            await overview.district(uow, actor, ids["xinhua"])


async def test_statements_bounded_regardless_of_streets(world: World) -> None:
    """The same number of statements for one street as for both."""
    from sqlalchemy import event

    counts = []
    for names in (["新华街道"], ["新华街道", "长安街道"]):
        streets = [(await world.org_id(n), n) for n in names]
        async with world.uow() as uow:
            seen: list[str] = []
            engine = uow.session.bind
            assert engine is not None
            sync = engine.sync_engine  # type: ignore[union-attr]

            def record(*args: object, seen: list[str] = seen) -> None:
                seen.append(str(args[2]))

            event.listen(sync, "before_cursor_execute", record)
            try:
                await street_rows(uow, streets, PERIOD, NOW)
            finally:
                event.remove(sync, "before_cursor_execute", record)
            counts.append(len(seen))
    assert counts[0] == counts[1] <= 12
