"""The supervision pages over HTTP: what the secretary and the district see (read with
selectors), who may not look, the filters, and a fixed number of SQL statements per page
however much history there is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.applications import Starlette

from domain.models.base import utcnow
from domain.tasks.calendar import local_date
from tests.conftest import Browser, soup
from tests.e2e.support import count_statements, org_id, unit_id
from tests.supervision_data import DEPT, HOUSING, MARKET, bulk_tasks, seed_dashboard

TODAY = local_date(utcnow())
# The seeded tasks go back 20 days; a custom period makes the figures independent of the
# day of the month the tests run on.
SINCE = f"period=custom&from={(TODAY - timedelta(days=40)).isoformat()}&to={TODAY.isoformat()}"


def figure(doc: object, name: str) -> str:
    box = doc.select_one(f'#supervision-figures [data-figure="{name}"] .sv-kpi-num')  # type: ignore[attr-defined]
    assert box is not None, name
    return str(box.get_text(strip=True))


@pytest.fixture
async def seeded(web_app: Starlette) -> dict[str, int]:
    return await seed_dashboard(web_app.state.session_factory)


async def test_secretary_sees_her_streets_figures(
    web_app: Starlette, browser: Browser, seeded: dict[str, int]
) -> None:
    await browser.login("secretary")
    r = await browser.get("/supervision")
    xinhua = await org_id(web_app, "新华街道")
    assert r.status_code == 303 and r.headers["location"] == f"/streets/{xinhua}/supervision"
    doc = soup(await browser.get(f"/streets/{xinhua}/supervision?{SINCE}"))
    assert doc.select_one("h1.page-title").get_text(strip=True) == "新华街道 · 督办统计"  # type: ignore[union-attr]
    assert [figure(doc, n) for n in ("open", "overdue", "red", "yellow", "blue", "period")] == [
        "7",
        "3",
        "3",
        "1",
        "1",
        "10",
    ]
    board = doc.select_one("#supervision-board[data-live-region]")
    assert board is not None
    red = [a.get_text(strip=True) for a in board.select('[data-level="red"] li a')]
    assert sorted(red) == sorted(
        ["新华路占道经营整治", "东湖农贸市场食品安全检查", "新华路井盖破损修复"]
    )
    assert [a.get_text() for a in board.select('[data-level="blue"] li a')] == [
        "春晖路共享单车乱停放治理"
    ]
    overdue = doc.select("#supervision-overdue[data-live-region] tbody tr")
    # Longest overdue first: two, three and five working days' limits, all 20 days ago.
    assert [int(tr["data-task"]) for tr in overdue] == [
        seeded["late_done"],
        seeded["red"],
        seeded["red2"],
    ]
    # Rates per unit: the enforcement team finished three of its tasks on time, the fourth
    # late (then rated dissatisfied, so it is open again).
    team = doc.select_one(f'#unit-table tr[data-unit="{await unit_id(web_app, DEPT)}"]')
    assert team is not None
    assert team.select_one('[data-col="handled"]').get_text(strip=True) == "6"  # type: ignore[union-attr]
    completion = team.select_one('[data-col="on_time_completion"]').get_text(" ", strip=True)  # type: ignore[union-attr]
    assert completion == "100.0% 3/3"
    satisfaction = team.select_one('[data-col="satisfaction"]').get_text(" ", strip=True)  # type: ignore[union-attr]
    assert satisfaction == "75.0% 3/4"
    # The community that refused a task outside the admission catalogue is not scored.
    assert "文化里社区居委会" not in doc.select_one("#unit-table").get_text()  # type: ignore[union-attr]
    # Charts are server-drawn SVG: the state bar has one rect per state with tasks.
    assert len(doc.select("svg.sv-stack rect")) == len(doc.select(".sv-legend li"))
    assert {li["data-state"] for li in doc.select(".sv-legend li")} == {
        "assigned",
        "return_requested",
        "in_progress",
        "rated",
    }
    assert "script" not in {t.name for t in doc.select("main *")}


async def test_district_sees_every_street(
    web_app: Starlette, browser: Browser, seeded: dict[str, int]
) -> None:
    await browser.login("district")
    district = await org_id(web_app, "和平区")
    r = await browser.get("/supervision")
    assert r.status_code == 303 and r.headers["location"] == f"/districts/{district}/supervision"
    doc = soup(await browser.get(f"/districts/{district}/supervision?{SINCE}"))
    rows = {
        tr.select_one('td[data-label="街道"]').get_text(strip=True): tr  # type: ignore[union-attr]
        for tr in doc.select("#street-table tbody tr")
    }
    assert set(rows) == {"新华街道", "长安街道"}
    cells = [td.get_text(strip=True) for td in rows["新华街道"].select("td.num-cell")]
    assert cells == ["7", "3", "3", "1", "1", "10"]  # open, overdue, red, yellow, blue, period
    assert [td.get_text(strip=True) for td in rows["长安街道"].select("td.num-cell")] == ["0"] * 6
    assert figure(doc, "red") == "3"
    # The district viewer may open a street's own dashboard, but not another district's.
    xinhua = await org_id(web_app, "新华街道")
    assert (await browser.get(f"/streets/{xinhua}/supervision")).status_code == 200
    assert (await browser.get(f"/districts/{xinhua}/supervision")).status_code == 404
    bulletins = soup(await browser.get(f"/districts/{district}/supervision/bulletins?{SINCE}"))
    assert len(bulletins.select(".sv-bulletins li")) == 3
    assert "新华街道" in bulletins.select_one(".sv-bulletins").get_text()  # type: ignore[union-attr]
    assert (await browser.get(f"/districts/{district}/supervision/ranking")).status_code == 200


async def test_admin_chooses_a_district_or_a_street(web_app: Starlette, browser: Browser) -> None:
    await browser.login("admin")
    doc = soup(await browser.get("/supervision"))
    assert [a.get_text() for a in doc.select("#district-list a")] == ["和平区"]
    assert [a.get_text() for a in doc.select("#street-list a")] == ["新华街道", "长安街道"]
    nav = doc.select_one("nav.nav a[aria-current=page]")
    assert nav is not None and nav.get_text() == "督办"


@pytest.mark.parametrize(
    ("username", "status"),
    [("dept", 403), ("liaison", 403), ("community", 403), ("member", 403), ("secretary2", 404)],
)
async def test_others_may_not_look(
    web_app: Starlette, browser: Browser, username: str, status: int
) -> None:
    await browser.login(username)
    xinhua = await org_id(web_app, "新华街道")
    for path in ("", "/ranking", "/bulletins"):
        r = await browser.get(f"/streets/{xinhua}/supervision{path}")
        assert r.status_code == status, (username, path)
    district = await org_id(web_app, "和平区")
    assert (await browser.get(f"/districts/{district}/supervision")).status_code == 404
    nav = soup(await browser.get("/")).select_one("nav.nav")
    assert nav is not None
    # Chang'an's secretary supervises her own street; the others have no 督办 at all.
    assert ("督办" in [a.get_text(strip=True) for a in nav.select("a")]) == (status == 404)


async def test_filters(web_app: Starlette, browser: Browser, seeded: dict[str, int]) -> None:
    await browser.login("supervisor")
    xinhua = await org_id(web_app, "新华街道")
    base = f"/streets/{xinhua}/supervision"
    whistles = soup(await browser.get(f"{base}?{SINCE}&source=whistle"))
    assert figure(whistles, "period") == "0" and figure(whistles, "open") == "0"
    housing = await unit_id(web_app, HOUSING)
    one = soup(await browser.get(f"{base}?{SINCE}&unit={housing}"))
    assert figure(one, "period") == "1" and figure(one, "yellow") == "1"
    assert [tr["data-unit"] for tr in one.select("#unit-table tbody tr")] == [str(housing)]
    selected = one.select_one('select[name="unit"] option[selected]')
    assert selected is not None and selected["value"] == str(housing)
    # A period long ago: open work is still open work, the period's figures are empty.
    old = soup(await browser.get(f"{base}?period=custom&from=2020-01-01&to=2020-03-31"))
    assert figure(old, "open") == "7" and figure(old, "period") == "0"
    # Wrong input: 400, a Chinese message, the input kept, default figures shown.
    r = await browser.get(f"{base}?period=custom&from=2026-05-01&to=2026-01-01&unit=999999")
    assert r.status_code == 400
    doc = soup(r)
    assert "结束日期不能早于开始日期" in doc.select_one("#e-to").get_text()  # type: ignore[union-attr]
    assert "请从列表中选择承办单位" in doc.get_text()
    assert doc.select_one('input[name="from"]')["value"] == "2026-05-01"  # type: ignore[index]
    assert "筛选条件有误" in doc.select_one("#flash").get_text()  # type: ignore[union-attr]
    too_long = await browser.get(f"{base}?period=custom&from=2020-01-01&to=2026-01-01")
    assert too_long.status_code == 400 and "最长 366 天" in too_long.text


async def test_ranking_and_bulletins_pages(
    web_app: Starlette, browser: Browser, seeded: dict[str, int]
) -> None:
    await browser.login("secretary")
    xinhua = await org_id(web_app, "新华街道")
    doc = soup(await browser.get(f"/streets/{xinhua}/supervision/bulletins?{SINCE}"))
    items = doc.select("#supervision-bulletins .sv-bulletins li")
    assert sorted(int(li["data-task"]) for li in items) == sorted(
        [seeded["red"], seeded["red2"], seeded["late_done"]]
    )
    assert all("予以通报" in li.get_text() for li in items)
    ranking = await browser.get(f"/streets/{xinhua}/supervision/ranking")
    assert ranking.status_code == 200
    assert "红榜" in ranking.text and "黑榜" in ranking.text
    bad = await browser.get(f"/streets/{xinhua}/supervision/ranking?month=2026-13")
    assert bad.status_code == 400 and "请选择月份" in bad.text


# ---- statements per page -------------------------------------------------------------------

PAGES = ["", "/ranking", "/bulletins"]
# Session and bell included (measured: 11, 4, 4 and 12); what matters most is that they do
# not grow with the history.
MAX_STATEMENTS = {"": 12, "/ranking": 5, "/bulletins": 5, "district": 13}


async def statements(web_app: Starlette, browser: Browser, url: str) -> int:
    await browser.get(url)
    with count_statements(web_app) as seen:
        r = await browser.get(url)
    assert r.status_code == 200, url
    return len(seen)


async def test_statements_per_page_do_not_grow_with_history(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("district")
    factory = web_app.state.session_factory
    xinhua = await org_id(web_app, "新华街道")
    office = await unit_id(web_app, "新华街道办事处")
    leads = [await unit_id(web_app, n) for n in (DEPT, MARKET, HOUSING)]
    urls = {p: f"/streets/{xinhua}/supervision{p}?period=year" for p in PAGES}
    urls["district"] = f"/districts/{await org_id(web_app, '和平区')}/supervision?period=year"
    await bulk_tasks(factory, xinhua, office, leads, 60, end=utcnow(), days=300)
    small = {k: await statements(web_app, browser, u) for k, u in urls.items()}
    await bulk_tasks(factory, xinhua, office, leads, 600, end=utcnow(), days=300)
    large = {k: await statements(web_app, browser, u) for k, u in urls.items()}
    assert large == small
    for key, n in small.items():
        assert n <= MAX_STATEMENTS[key], (key, n)
