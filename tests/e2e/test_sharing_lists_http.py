"""The needs and resources lists through HTTP: post with the form (errors keep the input),
vet, reject with a reason the poster reads, filter and search the list, export .xlsx."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import httpx
from openpyxl import load_workbook
from starlette.applications import Starlette

from tests.conftest import Browser, soup
from tests.e2e.support import org_id

NewBrowser = Callable[[], Browser]

VENUE = {
    "kind": "venue",
    "title": "党员活动室",
    "category": "活动场地",
    "description": "门诊楼三层。",
    "capacity": "60",
    "address": "和平路 12 号",
    "opening_hours": "工作日 9:00–17:00",
    "availability": "工作日",
    "facilities": "投影仪",
    "tags": "党建，讲座",
}


def _id(response: httpx.Response) -> int:
    m = re.search(r"/(?:needs|resources)/(\d+)", response.headers["location"])
    assert m, response.headers.get("location")
    return int(m.group(1))


async def _version(browser: Browser, path: str) -> str:
    field = soup(await browser.get(path)).select_one('input[name="version"]')
    assert field is not None
    return str(field["value"])


async def test_post_a_venue_vet_and_find_it(web_app: Starlette, new_browser: NewBrowser) -> None:
    street = await org_id(web_app, "新华街道")
    liaison, secretary, community = new_browser(), new_browser(), new_browser()
    await liaison.login("liaison")
    await secretary.login("secretary")
    await community.login("community")

    # Kind first: the form for a venue asks for capacity, address and opening hours.
    page = soup(await liaison.get(f"/resources/new?street={street}"))
    assert page.select_one("#kind-form") is not None
    page = soup(await liaison.get(f"/resources/new?street={street}&kind=venue"))
    assert page.select_one("#f-capacity") is not None
    assert page.select_one("#f-volunteer_count") is None

    # Missing capacity: 400, the message, and what was typed stays.
    r = await liaison.post(f"/resources?street={street}&kind=venue", {**VENUE, "capacity": ""})
    assert r.status_code == 400
    page = soup(r)
    assert "请填写场地可容纳人数" in page.get_text()
    assert page.select_one("#f-title")["value"] == "党员活动室"  # type: ignore[index]

    r = await liaison.post(f"/resources?street={street}&kind=venue", VENUE)
    assert r.status_code == 303, r.text[:1000]
    rid = _id(r)
    assert (await community.get(f"/resources/{rid}")).status_code == 404  # not listed yet

    # The secretary rejects without a reason: refused; with a reason: the poster sees it.
    path = f"/resources/{rid}"
    version = await _version(secretary, path)
    r = await secretary.post(f"{path}/vet", {"version": version, "decision": "reject"})
    assert r.status_code == 400 and "请填写不通过的原因" in r.text
    r = await secretary.post(
        f"{path}/vet", {"version": version, "decision": "reject", "reason": "请补充开放时间段。"}
    )
    assert r.status_code == 303
    page = soup(await liaison.get(path))
    assert "请补充开放时间段" in page.select_one("#reject-reason").get_text()  # type: ignore[union-attr]

    # The poster edits and re-submits; the secretary approves; a stale form is refused.
    version = await _version(liaison, f"{path}/edit")
    r = await liaison.post(f"{path}/edit", {**VENUE, "version": version})
    assert r.status_code == 303
    version = await _version(secretary, path)
    r = await secretary.post(f"{path}/vet", {"version": version, "decision": "approve"})
    assert r.status_code == 303
    r = await secretary.post(f"{path}/withdraw", {"version": version})
    assert r.status_code == 409

    # Listed: the community finds it by a substring, and by filters.
    page = soup(await community.get(f"/streets/{street}/resources?q=活动室"))
    titles = [a.get_text(strip=True) for a in page.select("#resources-list .listing-title")]
    assert titles == ["党员活动室"]
    page = soup(await community.get(f"/streets/{street}/resources?kind=funds"))
    assert page.select("#resources-list .listing-title") == []
    page = soup(await community.get(f"/streets/{street}/resources?q=活动室+投影仪&kind=venue"))
    assert len(page.select("#resources-list .listing-title")) == 1

    # The need side, and the export.
    need = {"title": "老年人健康讲座", "category": "为老服务", "description": "慢病防治讲座"}
    r = await community.post(f"/needs?street={street}", need)
    assert r.status_code == 303
    nid = _id(r)
    version = await _version(secretary, f"/needs/{nid}")
    await secretary.post(f"/needs/{nid}/vet", {"version": version, "decision": "approve"})
    r = await community.get(f"/streets/{street}/lists.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["需求清单", "资源清单", "项目清单"]
    needs = [row for row in wb["需求清单"].iter_rows(min_row=2, values_only=True)]
    assert needs[0][:4] == ("序号", "社区", "类别", "内容")
    assert needs[1][2] == "为老服务" and str(needs[1][3]).startswith("老年人健康讲座")
    resources = list(wb["资源清单"].iter_rows(min_row=3, values_only=True))
    assert resources[0][1] == "和平区人民医院" and "可容纳 60 人" in str(resources[0][4])


async def test_who_sees_the_forms_and_the_nav(web_app: Starlette, new_browser: NewBrowser) -> None:
    street = await org_id(web_app, "新华街道")
    liaison, other = new_browser(), new_browser()
    await liaison.login("liaison")
    await other.login("secretary2")
    r = await liaison.get("/sharing")
    assert r.status_code == 303 and r.headers["location"] == f"/streets/{street}/needs"
    page = soup(await liaison.get(f"/streets/{street}/needs"))
    assert any(a.get_text() == "三张清单" for a in page.select("nav a"))
    assert (await liaison.get(f"/needs/new?street={street}")).status_code == 403
    assert (await other.get(f"/streets/{street}/needs")).status_code == 403
    # A need form with errors keeps its input.
    community = new_browser()
    await community.login("community")
    r = await community.post(f"/needs?street={street}", {"title": "", "description": "保留这段"})
    assert r.status_code == 400
    page = soup(r)
    assert page.select_one("#f-description").get_text() == "保留这段"  # type: ignore[union-attr]
    assert "请填写需求名称" in page.get_text()


async def test_the_nav_opens_a_street_for_an_admin_too(browser: Browser) -> None:
    await browser.login("admin")
    r = await browser.get("/sharing")
    assert r.status_code == 303 and r.headers["location"].endswith("/needs")


async def test_list_pages_do_not_grow_with_the_number_of_entries(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    """Needs, resources, claims and projects pages: the same statements for 2 entries as for
    12 (no query per row for units, communities, claim counts or suggestions)."""
    from tests.e2e.support import count_statements

    liaison, secretary, community = new_browser(), new_browser(), new_browser()
    await liaison.login("liaison")
    await secretary.login("secretary")
    await community.login("community")
    street = await org_id(web_app, "新华街道")

    async def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            r = await liaison.post(
                f"/resources?street={street}&kind=venue", {**VENUE, "title": f"活动室 {i}"}
            )
            rid = _id(r)
            path = f"/resources/{rid}"
            await secretary.post(
                f"{path}/vet", {"version": await _version(secretary, path), "decision": "approve"}
            )
            r = await community.post(
                "/needs?street=" + str(street),
                {
                    "title": f"活动场地需求 {i}",
                    "category": "场地设施",
                    "description": "需要活动室开展党员活动。",
                    "tags": "党建",
                },
            )
            assert r.status_code == 303, r.text[:500]
            need_path = f"/needs/{_id(r)}"
            await secretary.post(
                f"{need_path}/vet",
                {"version": await _version(secretary, need_path), "decision": "approve"},
            )

    async def statements(url: str) -> int:
        await community.get(url)
        with count_statements(web_app) as seen:
            r = await community.get(url)
        assert r.status_code == 200, url
        return len(seen)

    urls = [f"/streets/{street}/needs", f"/streets/{street}/resources", "/claims"]
    await add(2, 0)
    before = [await statements(u) for u in urls]
    await add(10, 2)
    after = [await statements(u) for u in urls]
    assert after == before, (before, after)
