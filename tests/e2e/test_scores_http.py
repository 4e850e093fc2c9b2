"""Scorecards over HTTP: rankings, a unit's card with its records, the .xlsx, who may look,
and the ranking page's statement count (the same with 5 units as with 30)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlalchemy import select, update
from starlette.applications import Starlette

from adapters.scores_xlsx import DETAIL_SHEET, RANKING_SHEET
from domain.enums import UnitKind, UnitType
from domain.models import (
    Attendance,
    Conference,
    ConferenceMember,
    MeetingSession,
    TopicProposal,
    Unit,
    User,
)
from tests.conftest import Browser, soup
from tests.e2e.support import XINHUA_UNIT, count_statements, org_id, unit_id
from tests.live_server import ARTIFACTS, LiveServer, login_page

YEAR = 2026


async def add_session_with_attendance(app: Starlette, street: str) -> None:
    """One held session in Q2 of YEAR: the hospital signed in, everyone else absent; and a
    topic of the hospital's that was accepted."""
    street_id = await org_id(app, street)
    hospital = await unit_id(app, XINHUA_UNIT)
    async with app.state.session_factory() as s:
        conf = await s.scalar(select(Conference).where(Conference.organization_id == street_id))
        assert conf is not None
        user = await s.scalar(select(User.id).where(User.username == "secretary"))
        assert user is not None
        at = datetime(YEAR, 4, 10, 2, 0, tzinfo=UTC)
        await s.execute(
            update(ConferenceMember)
            .where(ConferenceMember.conference_id == conf.id)
            .values(joined_at=datetime(YEAR - 1, 1, 1, tzinfo=UTC))
        )
        sess = MeetingSession(
            conference_id=conf.id,
            year=YEAR,
            title="第二季度例会",
            starts_at=at,
            ends_at=at.replace(hour=4),
            state="issued",
            signin_secret="x" * 32,
            created_by_id=user,
        )
        s.add(sess)
        await s.flush()
        s.add(Attendance(session_id=sess.id, unit_id=hospital, reply="attending", signed_in_at=at))
        s.add(
            TopicProposal(
                conference_id=conf.id,
                unit_id=hospital,
                proposer_id=user,
                title="共建停车位错时共享",
                status="accepted",
                created_at=at,
            )
        )
        await s.commit()


async def add_units(app: Starlette, street: str, n: int, member: bool = True) -> None:
    street_id = await org_id(app, street)
    kinds = [UnitKind.STATIONED, UnitKind.DEPARTMENT, UnitKind.COMMUNITY]
    async with app.state.session_factory() as s:
        conf = await s.scalar(select(Conference.id).where(Conference.organization_id == street_id))
        start = await s.scalar(select(Unit.id).order_by(Unit.id.desc()).limit(1)) or 0
        for i in range(n):
            unit = Unit(
                name=f"考核测试单位{start + i + 1:04d}",
                kind=kinds[i % 3].value,
                unit_type=UnitType.OTHER.value,
                street_id=street_id,
            )
            s.add(unit)
            await s.flush()
            if member and conf is not None:
                s.add(ConferenceMember(conference_id=conf, unit_id=unit.id, role="member"))
        await s.commit()


async def keep_units(app: Starlette, street: str, n: int) -> None:
    """Retire all but `n` scored units of the street (units are never deleted)."""
    street_id = await org_id(app, street)
    async with app.state.session_factory() as s:
        ids = list(
            await s.scalars(
                select(Unit.id)
                .where(Unit.street_id == street_id, Unit.kind != "street_office")
                .order_by(Unit.id)
            )
        )
        await s.execute(update(Unit).where(Unit.id.in_(ids[n:])).values(active=False))
        await s.commit()


async def test_rankings_link_every_score_to_the_units_records(
    web_app: Starlette, browser: Browser
) -> None:
    await add_session_with_attendance(web_app, "新华街道")
    street = await org_id(web_app, "新华街道")
    hospital = await unit_id(web_app, XINHUA_UNIT)
    await browser.login("secretary")
    r = await browser.get(f"/streets/{street}/scores?year={YEAR}&quarter=2")
    assert r.status_code == 200
    doc = soup(r)
    assert f"{YEAR}年第2季度" in doc.select_one("h1").get_text()
    members = doc.select("#member-ranking tbody tr")
    departments = doc.select("#department-ranking tbody tr")
    assert members and departments
    # Departments are ranked apart, on their task figures.
    assert "按期办结" in doc.select_one("#department-ranking thead").get_text()
    assert "双报到与服务时长" not in doc.select_one("#department-ranking thead").get_text()
    # Totals are sorted, best first.
    totals = [float(t.get_text()) for t in doc.select("#member-ranking .sc-total")]
    assert totals == sorted(totals, reverse=True)
    row = doc.select_one(f"#unit-{hospital}")
    assert row is not None
    link = row.select_one('a.sc-score[href*="#metric-attendance"]')
    assert link is not None
    assert link["href"] == f"/units/{hospital}/score?year={YEAR}&quarter=2#metric-attendance"
    assert link.get_text().startswith("20/20")  # present at the only session
    assert "/streets/" in doc.select_one('a[href$="/settings"]')["href"]

    card = await browser.get(link["href"].split("#")[0])
    assert card.status_code == 200
    cdoc = soup(card)
    att = cdoc.select_one("#metric-attendance")
    assert "出席 1 次/应出席 1 次" in att.get_text()
    assert "第二季度例会" in att.select_one("tbody").get_text()
    assert "出席" in att.select_one(".tag").get_text()
    assert "共建停车位错时共享" in cdoc.select_one("#metric-topics").get_text()
    assert "本期无议定事项" in cdoc.select_one("#metric-decisions").get_text()

    # Another member that missed the session without leave loses points for it.
    absent = [
        a
        for a in doc.select('#member-ranking a.sc-score[href*="#metric-attendance"]')
        if a.get_text().startswith("0/20")
    ]
    assert absent
    assert "出席 0 次/应出席 1 次，无故缺席 1 次扣 5 分" in absent[0]["title"]


async def test_who_may_read_scores(web_app: Starlette, new_browser) -> None:  # type: ignore[no-untyped-def]
    xinhua = await org_id(web_app, "新华街道")
    changan = await org_id(web_app, "长安街道")
    hospital = await unit_id(web_app, XINHUA_UNIT)
    other_unit = await unit_id(web_app, "滨江市实验小学")

    secretary = new_browser()
    await secretary.login("secretary")
    landing = await secretary.get("/scores")
    assert landing.status_code == 303
    assert landing.headers["location"] == f"/streets/{xinhua}/scores"
    assert (await secretary.get(f"/streets/{xinhua}/scores")).status_code == 200
    assert (await secretary.get(f"/streets/{changan}/scores")).status_code == 404
    assert (await secretary.get(f"/streets/{changan}/scores.xlsx")).status_code == 404

    for viewer in ("district", "city", "admin"):
        b = new_browser()
        await b.login(viewer)
        chooser = soup(await b.get("/scores"))
        names = chooser.select_one("#street-choices").get_text()
        assert "新华街道" in names and "长安街道" in names, viewer
        assert (await b.get(f"/streets/{changan}/scores")).status_code == 200
        assert (await b.get(f"/units/{hospital}/score")).status_code == 200

    liaison = new_browser()
    await liaison.login("liaison")
    mine = await liaison.get(f"/units/{hospital}/score")
    assert mine.status_code == 200
    assert XINHUA_UNIT in soup(mine).select_one("h1").get_text()
    # A liaison sees its own card, not the rankings nor another unit's card.
    assert (await liaison.get(f"/streets/{xinhua}/scores")).status_code == 403
    assert (await liaison.get(f"/units/{other_unit}/score")).status_code == 403
    assert (await liaison.get(f"/units/{hospital}/score?year=abc&quarter=9")).status_code == 200
    redirect = await liaison.get("/scores")
    assert redirect.status_code == 303
    assert redirect.headers["location"] == f"/units/{hospital}/score"

    member = new_browser()
    await member.login("member")
    assert (await member.get(f"/streets/{xinhua}/scores")).status_code in (403, 404)
    assert (await member.get(f"/units/{hospital}/score")).status_code in (403, 404)
    assert (await member.get(f"/streets/{changan}/scores")).status_code == 404


async def test_xlsx_reads_back(web_app: Starlette, browser: Browser) -> None:
    await add_session_with_attendance(web_app, "新华街道")
    street = await org_id(web_app, "新华街道")
    await browser.login("secretary")
    r = await browser.get(f"/streets/{street}/scores.xlsx?year={YEAR}&quarter=2")
    assert r.status_code == 200
    assert "spreadsheetml" in r.headers["content-type"]
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == [RANKING_SHEET, DETAIL_SHEET]
    ranking = wb[RANKING_SHEET]
    assert "新华街道" in str(ranking.cell(1, 1).value)
    assert "述职评议考核排名" in str(ranking.cell(1, 1).value)
    headers = [c.value for c in ranking[2]]
    assert headers[:5] == ["排名", "单位", "类别", "总分", "等次"]
    names = [row[1].value for row in ranking.iter_rows(min_row=3)]
    assert XINHUA_UNIT in names
    hospital_row = next(row for row in ranking.iter_rows(min_row=3) if row[1].value == XINHUA_UNIT)
    assert hospital_row[5].value == 20  # attendance
    detail = wb[DETAIL_SHEET]
    assert [c.value for c in detail[2]] == ["单位", "类别", "考核项", "得分", "权重", "得分说明"]
    reasons = [row[5].value for row in detail.iter_rows(min_row=3) if row[0].value == XINHUA_UNIT]
    assert any("出席 1 次/应出席 1 次" in str(v) for v in reasons)


async def _statements(app: Starlette, browser: Browser, url: str) -> int:
    await browser.get(url)
    with count_statements(app) as statements:
        r = await browser.get(url)
    assert r.status_code == 200
    return len(statements)


async def test_ranking_costs_the_same_with_5_units_as_with_30(
    web_app: Starlette, browser: Browser
) -> None:
    await add_session_with_attendance(web_app, "新华街道")
    street = await org_id(web_app, "新华街道")
    await keep_units(web_app, "新华街道", 5)
    await browser.login("secretary")
    url = f"/streets/{street}/scores?year={YEAR}&quarter=2"
    r = await browser.get(url)
    assert len(soup(r).select("tbody tr")) == 5
    small = await _statements(web_app, browser, url)
    await add_units(web_app, "新华街道", 25)
    r = await browser.get(url)
    assert len(soup(r).select("tbody tr")) == 30
    large = await _statements(web_app, browser, url)
    assert large == small
    assert small <= 30, small
    # And the export follows the same rule.
    xs = await _statements(web_app, browser, f"/streets/{street}/scores.xlsx?year={YEAR}")
    assert xs <= 30


def test_browser_from_ranking_to_a_units_records(demo_server: LiveServer, chromium) -> None:  # type: ignore[no-untyped-def]
    """In Chromium, at desktop and phone widths: the ranking, a click on a score, the
    unit's card scrolled to that metric with its records. Screenshots in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 390):
        page = login_page(chromium, demo_server.base, "secretary", width)
        page.goto(demo_server.base + "/scores")
        assert "/scores" in page.url and "/streets/" in page.url
        assert page.locator("#member-ranking tbody tr").count() > 0
        assert page.locator("#department-ranking tbody tr").count() > 0
        page.screenshot(path=str(ARTIFACTS / f"scores-ranking-{width}.png"), full_page=True)
        link = page.locator('#member-ranking a.sc-score[href*="#metric-dual_report"]').first
        link.click()
        page.wait_for_load_state()
        assert page.url.endswith("#metric-dual_report")
        metric = page.locator("#metric-dual_report")
        assert "双报到与服务时长" in metric.inner_text()
        assert page.locator("#score-summary .sc-total-num").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"scores-unit-{width}.png"), full_page=True)
        assert page.errors == []
        page.context.close()
