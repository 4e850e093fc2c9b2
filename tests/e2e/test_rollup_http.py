"""The roll-up pages (四级联动) over HTTP: each level renders with its drill-down links, the
landing sends each viewer to their place, outsiders get 404, and the district page's
statement count does not grow with the number of streets."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from domain.enums import OrgLevel
from domain.models import Organization
from tests.conftest import Browser, soup
from tests.e2e.support import count_statements, org_id


async def test_landing_sends_each_viewer_to_their_place(
    web_app: Starlette, browser: Browser
) -> None:
    expected = {
        "city": f"/cities/{await org_id(web_app, '滨江市')}/overview",
        "district": f"/districts/{await org_id(web_app, '和平区')}/overview",
        "secretary": f"/streets/{await org_id(web_app, '新华街道')}/overview",
        "supervisor": f"/streets/{await org_id(web_app, '新华街道')}/overview",
    }
    for user, where in expected.items():
        await browser.login(user)
        r = await browser.get("/rollup")
        assert r.status_code == 303 and r.headers["location"] == where, user
    await browser.login("admin")
    doc = soup(await browser.get("/rollup"))
    assert [a.get_text() for a in doc.select("#district-list a")] == ["和平区"]
    assert [a.get_text() for a in doc.select("#city-list a")] == ["滨江市"]
    for user in ("member", "liaison", "community"):
        await browser.login(user)
        assert (await browser.get("/rollup")).status_code == 404, user


async def test_city_district_street_community_drill_down(
    web_app: Starlette, browser: Browser
) -> None:
    city, district = await org_id(web_app, "滨江市"), await org_id(web_app, "和平区")
    xinhua, changan = await org_id(web_app, "新华街道"), await org_id(web_app, "长安街道")
    wenhua = await org_id(web_app, "文化里社区")
    await browser.login("city")
    doc = soup(await browser.get(f"/cities/{city}/overview"))
    assert doc.select_one("h1.page-title").get_text(strip=True) == "滨江市 · 市级汇总"  # type: ignore[union-attr]
    rows = doc.select("#rollup-figures #rollup-table tbody tr")
    assert [r.select_one("th a")["href"] for r in rows] == [f"/districts/{district}/overview"]  # type: ignore[index]
    assert doc.select_one("#rollup-table tfoot tr[data-org=total]") is not None

    doc = soup(await browser.get(f"/districts/{district}/overview"))
    names = [r.select_one("th").get_text(strip=True) for r in doc.select("#rollup-table tbody tr")]  # type: ignore[union-attr]
    assert names == ["新华街道", "长安街道"]
    row = doc.select_one(f'#rollup-table tr[data-org="{xinhua}"]')
    assert row is not None
    links = {a.get_text(): a["href"] for a in row.select("a")}
    assert links == {
        "新华街道": f"/streets/{xinhua}/overview",
        "督办": f"/streets/{xinhua}/supervision",
        "覆盖": f"/streets/{xinhua}/coverage",
        "考核": f"/streets/{xinhua}/scores",
        "活动": f"/activities?street={xinhua}",
    }
    # The unit score is not rolled up across a district (too costly): only below.
    assert doc.select_one('#rollup-table th[data-col="score"]') is None
    assert "单位平均得分只在街道、社区层级显示" in doc.get_text()
    # Sorting by name, descending, puts 长安 first; a second click reverses.
    doc = soup(await browser.get(f"/districts/{district}/overview?sort=name&dir=desc"))
    names = [r.select_one("th").get_text(strip=True) for r in doc.select("#rollup-table tbody tr")]  # type: ignore[union-attr]
    assert names == ["长安街道", "新华街道"]
    assert doc.select_one(f'#rollup-table tr[data-org="{changan}"]') is not None

    doc = soup(await browser.get(f"/streets/{xinhua}/overview?period=quarter"))
    crumbs = {a.get_text(): a["href"] for a in doc.select(".ru-crumbs a")}
    assert crumbs == {
        "滨江市": f"/cities/{city}/overview",
        "和平区": f"/districts/{district}/overview",
    }
    community_links = [a["href"] for a in doc.select("#community-table tbody th a")]
    assert f"/communities/{wenhua}/overview" in community_links
    assert doc.select_one('nav.ru-periods a[aria-current="page"]').get_text() == "本季度"  # type: ignore[union-attr]

    doc = soup(await browser.get(f"/communities/{wenhua}/overview"))
    assert doc.select_one("h1.page-title").get_text(strip=True) == "文化里社区 · 社区"  # type: ignore[union-attr]
    assert doc.select_one(f'a[href^="/communities/{wenhua}/review"]') is not None
    units = [r.select_one("th").get_text(strip=True) for r in doc.select("#unit-table tbody tr")]  # type: ignore[union-attr]
    assert "和平区人民医院" in units and "文化里社区居委会" in units


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("admin", {"city", "district", "xinhua", "changan", "wenhua"}),
        ("city", {"city", "district", "xinhua", "changan", "wenhua"}),
        ("district", {"district", "xinhua", "changan", "wenhua"}),
        ("secretary", {"xinhua", "wenhua"}),
        ("supervisor", {"xinhua", "wenhua"}),
        ("secretary2", {"changan"}),
        ("community", set()),
        ("liaison", set()),
        ("member", set()),
    ],
)
async def test_who_sees_which_level(
    web_app: Starlette, browser: Browser, user: str, allowed: set[str]
) -> None:
    urls = {
        "city": f"/cities/{await org_id(web_app, '滨江市')}/overview",
        "district": f"/districts/{await org_id(web_app, '和平区')}/overview",
        "xinhua": f"/streets/{await org_id(web_app, '新华街道')}/overview",
        "changan": f"/streets/{await org_id(web_app, '长安街道')}/overview",
        "wenhua": f"/communities/{await org_id(web_app, '文化里社区')}/overview",
    }
    await browser.login(user)
    for key, url in urls.items():
        status = (await browser.get(url)).status_code
        assert status == (200 if key in allowed else 404), (user, key, status)
    # An id of the wrong level is not found either.
    assert (await browser.get(urls["city"].replace("cities", "districts"))).status_code == 404


async def add_streets(app: Starlette, n: int) -> None:
    async with app.state.session_factory() as s:
        district = await s.scalar(select_district())
        for i in range(n):
            street = Organization(name=f"测试街道{i}", level=OrgLevel.STREET, parent_id=district)
            s.add(street)
            await s.flush()
            s.add(Organization(name=f"测试社区{i}", level=OrgLevel.COMMUNITY, parent_id=street.id))
        await s.commit()


def select_district():  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    return select(Organization.id).where(Organization.name == "和平区")


async def statements(app: Starlette, browser: Browser, url: str) -> int:
    await browser.get(url)
    with count_statements(app) as seen:
        r = await browser.get(url)
    assert r.status_code == 200, url
    return len(seen)


async def test_statements_do_not_grow_with_streets(web_app: Starlette, browser: Browser) -> None:
    city, district = await org_id(web_app, "滨江市"), await org_id(web_app, "和平区")
    pages = [f"/districts/{district}/overview", f"/cities/{city}/overview"]
    await browser.login("city")
    two = [await statements(web_app, browser, u) for u in pages]
    await add_streets(web_app, 4)
    await browser.login("city")  # the new streets are in the viewer's reach
    doc = soup(await browser.get(pages[0]))
    assert len(doc.select("#rollup-table tbody tr")) == 6
    six = [await statements(web_app, browser, u) for u in pages]
    assert six == two
    assert max(six) <= 20, six
