"""Admin working-day calendar pages (工作日历) over HTTP, read with selectors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bs4 import BeautifulSoup
from starlette.applications import Starlette

from domain.models import CalendarDay, CalendarYear
from domain.tasks.calendar_seed import package_years
from domain.tasks.workcal import today_in_beijing
from tests.conftest import Browser, soup
from tests.e2e.support import count, field_error, flash_text

NewBrowser = Callable[[], Browser]

GOOD_2027 = {
    "holidays": "2027-01-01 元旦\n2027-02-06~2027-02-12 春节\n2027-10-01~2027-10-07 国庆节",
    "workdays": "2027-02-13 春节调休上班\n2027-10-09 国庆节调休上班",
    "note": "国办发明电〔2026〕测试号",
}


def years_table(doc: BeautifulSoup) -> dict[str, dict[str, str]]:
    rows = {}
    for tr in doc.select("table.calendar-years tbody tr[data-year]"):
        cells = {
            str(td["data-label"]): td.get_text(" ", strip=True)
            for td in tr.select("td[data-label]")
        }
        rows[str(tr["data-year"])] = cells
    return rows


def textarea(doc: BeautifulSoup, name: str) -> str:
    control = doc.select_one(f'textarea[name="{name}"]')
    assert control is not None, name
    return control.get_text()


def expected_missing() -> list[int]:
    today = today_in_beijing()
    return [y for y in (today.year, today.year + 1) if y not in package_years()]


async def test_admin_sees_which_years_hold_official_data(browser: Browser) -> None:
    await browser.login("admin")
    r = await browser.get("/admin/calendar")
    assert r.status_code == 200
    doc = soup(r)
    nav = doc.select_one('nav.nav a[href="/admin/calendar"]')
    assert nav is not None and nav.get_text() == "工作日历" and nav.get("aria-current") == "page"
    years = years_table(doc)
    assert sorted(years) == [str(y) for y in range(2004, 2027)]
    assert years["2026"]["来源"] == "chinesecalendar 导入"
    assert years["2026"]["工作日放假"] == "19 天"
    assert years["2026"]["调休上班"] == "6 天"
    assert years["2026"]["备注"] == "由 chinesecalendar 1.11.0 导入"
    # The years deadlines fall in now come first; long-past ones fold away.
    assert doc.select_one('#years tr[data-year="2026"]') is not None
    assert doc.select_one('#older-years tr[data-year="2004"]') is not None
    warning = doc.select_one("#calendar-warning")
    missing = expected_missing()
    if missing:
        assert warning is not None
        text = warning.get_text(" ", strip=True)
        assert f"{missing[0]}年" in text and "暂按周一至周五工作日计算" in text
        links = [a["href"] for a in warning.select("a")]
        assert links == [f"/admin/calendar/{y}" for y in missing]
    else:
        assert warning is None

    # The stored year as an editable arrangement, with the days listed.
    doc = soup(await browser.get("/admin/calendar/2026"))
    assert "2026-02-16~2026-02-23 春节" in textarea(doc, "holidays").splitlines()
    assert "2026-02-14 春节调休上班" in textarea(doc, "workdays").splitlines()
    assert doc.select_one("#year-status .tag").get_text() == "已有官方安排"  # type: ignore[union-attr]
    first = [td.get_text(strip=True) for td in doc.select("#year-days tbody tr")[0].select("td")]
    assert first == ["2026-01-01", "星期四", "放假", "元旦"]


async def test_other_users_get_403_and_no_menu_entry(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    for username in ("secretary", "supervisor", "liaison"):
        user = new_browser()
        await user.login(username)
        home = soup(await user.get("/"))
        assert home.select_one('a[href="/admin/calendar"]') is None
        assert (await user.get("/admin/calendar")).status_code == 403
        assert (await user.get("/admin/calendar/2026")).status_code == 403
        assert (await user.post("/admin/calendar/2027", GOOD_2027)).status_code == 403
        assert (await user.post("/admin/calendar/2026/delete")).status_code == 403
    assert await count(web_app, CalendarYear, CalendarYear.year == 2027) == 0
    assert await count(web_app, CalendarYear, CalendarYear.year == 2026) == 1
    anonymous = new_browser()
    r = await anonymous.get("/admin/calendar")
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")


async def test_a_bad_arrangement_is_shown_again_with_the_lines_named(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("admin")
    typed = {
        "holidays": "2027-01-01 元旦\n2027-02-30 春节\n2027-01-09 腊八",
        "workdays": "2027-02-15 春节调休上班",
        "note": "草稿",
    }
    r = await browser.post("/admin/calendar/2027", typed)
    assert r.status_code == 400
    doc = soup(r)
    assert "2027 年的节假日安排有误，未保存" in flash_text(r)
    # What the admin typed is kept, line breaks and all.
    assert textarea(doc, "holidays") == typed["holidays"]
    assert textarea(doc, "workdays") == typed["workdays"]
    assert doc.select_one('input[name="note"]')["value"] == "草稿"  # type: ignore[index]
    holiday_errors = [d.get_text() for d in doc.select("#e-holidays div")]
    assert holiday_errors == [
        "第 2 行「2027-02-30 春节」：日期不存在。",
        "第 3 行「2027-01-09 腊八」：2027-01-09 是星期六，本来就休息，不必列入"
        "（写在放假日期范围内的周末可以）。",
    ]
    assert "调休上班日应是星期六或星期日" in field_error(doc, "workdays")
    assert doc.select_one("#year-warning") is not None  # still not entered
    assert await count(web_app, CalendarYear, CalendarYear.year == 2027) == 0
    assert await count(web_app, CalendarDay, CalendarDay.day >= date(2027, 1, 1)) == 0


async def test_entering_2027_makes_it_official_and_deleting_falls_back(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("admin")
    doc = soup(await browser.get("/admin/calendar/2027"))
    warning = doc.select_one("#year-warning")
    assert warning is not None
    assert warning.get_text(strip=True) == (
        "2027年尚未录入国务院公布的节假日安排，期限暂按周一至周五工作日计算。"
    )
    assert textarea(doc, "holidays") == ""

    r = await browser.post("/admin/calendar/2027", GOOD_2027)
    assert r.status_code == 303 and r.headers["location"] == "/admin/calendar?saved=2027"
    doc = soup(await browser.get(r.headers["location"]))
    assert doc.select_one(".alert-ok").get_text(strip=True) == "已保存 2027 年的节假日安排。"  # type: ignore[union-attr]
    row = years_table(doc)["2027"]
    assert row["来源"] == "管理员录入"
    assert row["工作日放假"] == "11 天"  # 1 Jan, 8–12 Feb, 1 and 4–7 Oct
    assert row["调休上班"] == "2 天"
    assert row["备注"] == GOOD_2027["note"]
    assert "平台管理员" in row["更新"]
    warning = doc.select_one("#calendar-warning")
    assert warning is None or "2027年" not in warning.get_text()

    doc = soup(await browser.get("/admin/calendar/2027"))
    assert doc.select_one("#year-warning") is None
    status = doc.select_one("#year-status")
    assert status is not None and "管理员录入" in status.get_text()
    days = [tr.select("td")[0].get_text() for tr in doc.select("#year-days tbody tr")]
    assert "2027-02-06" not in days and "2027-02-08" in days and "2027-02-13" in days

    r = await browser.post("/admin/calendar/2027/delete")
    assert r.status_code == 303
    doc = soup(await browser.get(r.headers["location"]))
    assert "已删除 2027 年的节假日安排" in doc.select_one(".alert-ok").get_text()  # type: ignore[union-attr]
    assert "2027" not in years_table(doc)
    assert await count(web_app, CalendarDay, CalendarDay.day >= date(2027, 1, 1)) == 0


async def test_the_year_box_opens_a_year_or_says_what_is_wrong(browser: Browser) -> None:
    await browser.login("admin")
    r = await browser.get("/admin/calendar?year=2030")
    assert r.status_code == 303 and r.headers["location"] == "/admin/calendar/2030"
    r = await browser.get("/admin/calendar?year=abc")
    assert r.status_code == 400
    assert field_error(soup(r), "year") == "请填写 2000–2100 之间的年份。"
    assert (await browser.get("/admin/calendar/1999")).status_code == 404
    assert (await browser.get("/admin/calendar/" + "9" * 5000)).status_code == 404
    r = await browser.get("/admin/calendar?year=" + "9" * 5000)
    assert r.status_code == 400 and field_error(soup(r), "year")
    assert (await browser.post("/admin/calendar/2030/delete")).status_code == 404
