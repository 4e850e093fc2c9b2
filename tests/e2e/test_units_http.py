"""The unit directory through HTTP: create, edit with conflicts, retire, filter."""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup
from starlette.applications import Starlette

from tests.conftest import Browser, soup
from tests.e2e.support import (
    XINHUA_UNIT,
    count_units,
    field_error,
    flash_text,
    get_unit,
    input_value,
    org_id,
    selected_value,
    unit_id,
)

NewBrowser = Callable[[], Browser]


def _table_names(doc: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in doc.select("#units tbody td:first-child a")]


async def test_create_with_errors_keeps_every_value_and_explains_each_field(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    xinhua = await org_id(web_app, "新华街道")
    changan_community = await org_id(web_app, "西苑社区")
    before = await count_units(web_app)
    typed = {
        "name": "",
        "kind": "stationed",
        "unit_type": "",
        "street_id": str(xinhua),
        "community_id": str(changan_community),
        "address": "新华路 200 号 <b>三层</b>",
        "contact_name": "王 敏",
        "contact_phone": "call me maybe",
        "party_members": "-3",
    }

    r = await browser.post("/units", typed)

    assert r.status_code == 400
    doc = soup(r)
    assert "请修正标出的内容" in flash_text(r)
    assert field_error(doc, "name") == "请填写单位名称。"
    assert field_error(doc, "unit_type") == "请选择单位性质。"
    assert "不属于所选街道" in field_error(doc, "community_id")
    assert "联系电话格式不正确" in field_error(doc, "contact_phone")
    assert field_error(doc, "party_members") == "党员人数须为非负整数。"
    assert field_error(doc, "address") == ""
    # Everything typed is still there (and escaped, not interpreted).
    assert input_value(doc, "name") == ""
    assert selected_value(doc, "kind") == "stationed"
    assert selected_value(doc, "street_id") == str(xinhua)
    assert input_value(doc, "address") == "新华路 200 号 <b>三层</b>"
    assert doc.select_one("b") is None
    assert input_value(doc, "contact_name") == "王 敏"
    assert input_value(doc, "contact_phone") == "call me maybe"
    assert input_value(doc, "party_members") == "-3"
    assert doc.select_one('[name="contact_phone"]')["aria-invalid"] == "true"
    assert await count_units(web_app) == before


async def test_duplicate_name_in_the_same_street_is_refused(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    r = await browser.post(
        "/units",
        {
            "name": XINHUA_UNIT,
            "kind": "stationed",
            "unit_type": "public_institution",
            "street_id": str(await org_id(web_app, "新华街道")),
        },
    )
    assert r.status_code == 400
    assert field_error(soup(r), "name") == "本街道已有同名单位。"


async def test_create_redirects_to_the_unit_and_lists_it(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    r = await browser.post(
        "/units",
        {
            "name": "滨江市第二人民医院",
            "kind": "stationed",
            "unit_type": "public_institution",
            "street_id": str(await org_id(web_app, "新华街道")),
            "community_id": str(await org_id(web_app, "春晖社区")),
            "address": "春晖路 99 号",
            "contact_name": "王敏",
            "contact_phone": "010-12345678",
            "party_members": "88",
        },
    )
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/units/") and location.endswith("?saved=1")

    detail = await browser.get(location)
    doc = soup(detail)
    assert doc.select_one("h1").get_text(strip=True).startswith("滨江市第二人民医院")
    assert doc.select_one(".alert-ok").get_text(strip=True) == "已保存。"
    facts = doc.select_one("dl.facts").get_text(" ", strip=True)
    assert "春晖社区" in facts and "88" in facts and "010-12345678" in facts

    listing = soup(await browser.get("/units?q=第二人民医院"))
    assert _table_names(listing) == ["滨江市第二人民医院"]
    row = listing.select_one("#units tbody tr")
    assert row.select_one(".tag-ok").get_text() == "在册"


async def test_editing_a_unit_someone_else_just_saved_is_a_conflict(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    uid = await unit_id(web_app, XINHUA_UNIT)
    first, second = new_browser(), new_browser()
    await first.login("secretary")
    await second.login("admin")

    forms = []
    for b in (first, second):
        page = await b.get(f"/units/{uid}/edit")
        assert page.status_code == 200
        doc = soup(page)
        form = {i["name"]: i.get("value", "") for i in doc.select("form.grid input[name]")}
        form |= {s["name"]: selected_value(doc, s["name"]) for s in doc.select("form.grid select")}
        form.pop("csrf_token")
        forms.append(form)
    assert forms[0]["version"] == forms[1]["version"]

    r = await first.post(f"/units/{uid}", {**forms[0], "contact_name": "李红梅（新）"})
    assert r.status_code == 303

    mine = {**forms[1], "address": "新华路 18 号院 2 号楼", "party_members": "240"}
    r = await second.post(f"/units/{uid}", mine)

    assert r.status_code == 409
    doc = soup(r)
    assert "已被其他人修改" in flash_text(r)
    assert doc.select_one(".alert-warn") is not None
    assert input_value(doc, "address") == "新华路 18 号院 2 号楼"
    assert input_value(doc, "party_members") == "240"
    saved = await get_unit(web_app, uid)
    assert saved.contact_name == "李红梅（新）"
    assert saved.address == "新华路 18 号"  # the second save did not overwrite
    assert saved.party_members == 236

    # Reopening the latest version and saving again works.
    fresh = soup(await second.get(f"/units/{uid}/edit"))
    assert input_value(fresh, "contact_name") == "李红梅（新）"
    r = await second.post(
        f"/units/{uid}",
        {**mine, "contact_name": "李红梅（新）", "version": input_value(fresh, "version")},
    )
    assert r.status_code == 303
    assert (await get_unit(web_app, uid)).address == "新华路 18 号院 2 号楼"


async def test_retire_needs_a_reason_and_keeps_the_unit_on_record(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    uid = await unit_id(web_app, "滨江数智科技有限公司")
    version = str((await get_unit(web_app, uid)).version)

    r = await browser.post(f"/units/{uid}/retire", {"version": version, "reason": "  "})
    assert r.status_code == 400
    assert field_error(soup(r), "reason") == "请填写撤销原因。"
    assert (await get_unit(web_app, uid)).active

    r = await browser.post(f"/units/{uid}/retire", {"version": version, "reason": "迁出辖区"})
    assert r.status_code == 303
    doc = soup(await browser.get(r.headers["location"]))
    assert doc.select_one("h1 .tag-grey").get_text() == "已撤销"
    assert "迁出辖区" in doc.select_one("dl.facts").get_text()
    assert doc.select_one('form[action$="/reactivate"]') is not None

    assert "滨江数智科技有限公司" not in _table_names(soup(await browser.get("/units")))
    retired = soup(await browser.get("/units?status=retired"))
    assert "滨江数智科技有限公司" in _table_names(retired)
    row = next(
        tr for tr in retired.select("#units tbody tr") if "滨江数智科技有限公司" in tr.get_text()
    )
    assert row.select_one(".tag-grey").get_text() == "已撤销"

    # And back.
    version = str((await get_unit(web_app, uid)).version)
    r = await browser.post(f"/units/{uid}/reactivate", {"version": version})
    assert r.status_code == 303
    assert "滨江数智科技有限公司" in _table_names(soup(await browser.get("/units")))


async def test_retire_with_a_stale_version_is_a_conflict(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    uid = await unit_id(web_app, "滨江数智科技有限公司")
    r = await browser.post(f"/units/{uid}/retire", {"version": "0", "reason": "迁出辖区"})
    assert r.status_code == 409
    assert "已被其他人修改" in flash_text(r)
    assert input_value(soup(r), "reason") == "迁出辖区"
    assert (await get_unit(web_app, uid)).active


async def test_filter_form_narrows_the_list(web_app: Starlette, browser: Browser) -> None:
    await browser.login("admin")
    xinhua = await org_id(web_app, "新华街道")

    doc = soup(await browser.get("/units", params={"street_id": xinhua, "kind": "department"}))
    names = _table_names(doc)
    assert names and "新华派出所" in names
    assert "长安派出所" not in names and XINHUA_UNIT not in names
    assert doc.select_one("#f-kind option[selected]")["value"] == "department"
    assert selected_value(doc, "street_id") == str(xinhua)
    assert f"共 {len(names)} 个单位" in doc.select_one("#unit-table").get_text()

    doc = soup(await browser.get("/units", params={"unit_type": "military"}))
    assert _table_names(doc) == ["和平区人民武装部"]

    doc = soup(await browser.get("/units", params={"q": "没有这样的单位"}))
    assert doc.select_one(".empty").get_text() == "没有符合条件的单位。"

    # Unknown filter values are ignored, not errors.
    r = await browser.get("/units", params={"kind": "bogus", "status": "x", "street_id": "abc"})
    assert r.status_code == 200


async def test_htmx_filter_request_returns_only_the_table(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    r = await browser.get(
        "/units",
        params={"kind": "department", "q": "派出所"},
        headers={"HX-Request": "true", "HX-Target": "unit-table"},
    )
    assert r.status_code == 200
    assert "<html" not in r.text.lower()
    doc = soup(r)
    assert doc.select_one("form.filters") is None
    assert doc.select_one("nav") is None or doc.select_one("nav.pager")
    assert _table_names(doc) == ["新华派出所"]

    # A boosted navigation (or a history restore) gets the whole page.
    full = await browser.get("/units", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert soup(full).select_one("form.filters") is not None
