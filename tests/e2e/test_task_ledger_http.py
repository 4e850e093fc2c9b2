"""The task ledger download and the task import page, through HTTP as a browser would."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook
from starlette.applications import Starlette

from adapters.task_ledger_xlsx import XLSX
from domain.models import Task
from domain.tasks.calendar import BEIJING
from tests.conftest import Browser, soup
from tests.e2e.support import count, org_id

ENFORCEMENT = "区城管执法局新华街道执法队"
HOUSING = "区住房和城乡建设委员会"
GOOD = [
    ["更换破损井盖", "新华路与和平街交口", "新华路 12 号", ENFORCEMENT, HOUSING, 3, "工作日", ""],
    ["夜间施工噪声扰民", "", "", HOUSING, "", 8, "小时", ""],
]
BAD = ["无主的任务", "", "", "区不存在局", "", 3, "工作日", ""]


@pytest.fixture(autouse=True)
async def _no_tasks_yet(web_app: Starlette) -> None:
    """These tests count the street's tasks: the test demo (without meetings) holds none."""
    assert await count(web_app, Task) == 0


async def _street(web_app: Starlette) -> int:
    return await org_id(web_app, "新华街道")


async def _template(browser: Browser, street: int) -> bytes:
    r = await browser.get(f"/streets/{street}/tasks/import/template.xlsx")
    assert r.status_code == 200
    return r.content


def _filled(template: bytes, rows: list[list[object]]) -> bytes:
    wb = load_workbook(io.BytesIO(template))
    ws = wb.worksheets[0]
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def _upload(
    browser: Browser, street: int, filename: str, data: bytes, assign_now: bool = True
) -> httpx.Response:
    fields = {"assign_now": "1"} if assign_now else {}
    return await browser.post(
        f"/streets/{street}/tasks/import",
        fields,
        files={"file": (filename, data, XLSX)},
    )


def _errors(r: httpx.Response) -> list[tuple[str, str, str]]:
    return [
        tuple(td.get_text(strip=True) for td in tr.select("td"))  # type: ignore[misc]
        for tr in soup(r).select("#import-errors tbody tr")
    ]


def _filename(r: httpx.Response) -> str:
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    return unquote(encoded)


async def test_import_page_explains_and_links_the_template(
    web_app: Starlette, browser: Browser
) -> None:
    street = await _street(web_app)
    await browser.login("secretary")
    r = await browser.get(f"/streets/{street}/tasks/import")
    assert r.status_code == 200
    doc = soup(r)
    assert doc.select_one("h1").get_text(strip=True) == "批量导入交办任务"
    link = doc.select_one("#template-link")
    assert link is not None and link["href"] == f"/streets/{street}/tasks/import/template.xlsx"
    form = doc.select_one(f'form[action="/streets/{street}/tasks/import"]')
    assert form is not None and form["enctype"] == "multipart/form-data"
    assert form.select_one('input[name="csrf_token"]') is not None
    assert form.select_one('input[name="assign_now"]').has_attr("checked")
    assert "整批都不导入" in doc.get_text()

    template = await _template(browser, street)
    wb = load_workbook(io.BytesIO(template))
    assert [c.value for c in wb.worksheets[0][1]][:4] == [
        "任务标题*",
        "任务内容",
        "地点",
        "主办单位*",
    ]
    units = {r[0] for r in wb["可选单位"].iter_rows(min_row=2, values_only=True)}
    assert ENFORCEMENT in units and "新华街道办事处" not in units


async def test_good_upload_creates_tasks_and_lands_on_the_street_list(
    web_app: Starlette, browser: Browser
) -> None:
    street = await _street(web_app)
    await browser.login("secretary")
    data = _filled(await _template(browser, street), GOOD)

    r = await _upload(browser, street, "本周任务.xlsx", data)

    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/streets/{street}/tasks?imported=2"
    assert await count(web_app, Task, Task.state == "assigned") == 2
    listing = await browser.get(r.headers["location"])
    assert "已导入 2 项任务" in listing.text

    # The ledger now holds them, with their timeline.
    r = await browser.get(f"/streets/{street}/tasks/ledger.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    year = datetime.now(BEIJING).year
    assert _filename(r) == f"任务台账-新华街道-{year}.xlsx"
    assert f'filename="task-ledger-{street}-{year}.xlsx"' in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    ledger = {row[4]: row for row in wb["任务台账"].iter_rows(min_row=2, values_only=True)}
    assert set(ledger) == {"更换破损井盖", "夜间施工噪声扰民"}
    assert ledger["更换破损井盖"][8] == ENFORCEMENT and ledger["更换破损井盖"][9] == HOUSING
    assert ledger["夜间施工噪声扰民"][12].startswith("8小时")
    actions = [row[4] for row in wb["办理记录"].iter_rows(min_row=2, values_only=True)]
    assert actions == ["创建", "交办"] * 2


async def test_drafts_when_not_assigned_now(web_app: Starlette, browser: Browser) -> None:
    street = await _street(web_app)
    await browser.login("supervisor")
    data = _filled(await _template(browser, street), GOOD[:1])
    r = await _upload(browser, street, "草稿.xlsx", data, assign_now=False)
    assert r.status_code == 303
    assert await count(web_app, Task, Task.state == "drafted") == 1


async def test_bad_file_re_renders_with_row_errors(web_app: Starlette, browser: Browser) -> None:
    street = await _street(web_app)
    await browser.login("secretary")
    data = _filled(await _template(browser, street), [GOOD[0], BAD, GOOD[1]])

    r = await _upload(browser, street, "有错.xlsx", data, assign_now=False)

    assert r.status_code == 400
    doc = soup(r)
    alert = doc.select_one(".alert-error").get_text()
    assert "导入未执行（有错.xlsx）" in alert and "所有行均未导入" in alert
    [(row, column, message)] = _errors(r)
    assert (row, column) == ("第 3 行", "主办单位")
    assert message.startswith("主办单位“区不存在局”不存在")
    # The page keeps the user's choice, and nothing was written.
    assert not doc.select_one('input[name="assign_now"]').has_attr("checked")
    assert await count(web_app, Task) == 0


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("任务.pdf", b"%PDF-1.4", "只支持 .xlsx 或 .csv 文件。"),
        ("任务.xlsx", b"not a workbook", "无法读取该 Excel 文件"),
        ("大文件.csv", b"a" * (5 * 1024 * 1024 + 1), "文件超过 5 MB"),
    ],
)
async def test_unreadable_files_are_refused(
    web_app: Starlette, browser: Browser, filename: str, data: bytes, message: str
) -> None:
    street = await _street(web_app)
    await browser.login("secretary")
    r = await _upload(browser, street, filename, data)
    assert r.status_code == 400
    [(row, column, text)] = _errors(r)
    assert (row, column) == ("—", "文件") and message in text
    assert await count(web_app, Task) == 0


async def test_csv_is_accepted_too(web_app: Starlette, browser: Browser) -> None:
    street = await _street(web_app)
    await browser.login("secretary")
    out = io.StringIO()
    csv.writer(out).writerows(
        [["任务标题", "主办单位", "时限数值", "时限单位"], ["清理楼道堆物", HOUSING, "2", "工作日"]]
    )
    r = await _upload(browser, street, "任务.csv", out.getvalue().encode("gb18030"))
    assert r.status_code == 303, r.text
    assert await count(web_app, Task, Task.title == "清理楼道堆物") == 1


async def test_upload_without_the_csrf_token_is_refused(
    web_app: Starlette, browser: Browser
) -> None:
    street = await _street(web_app)
    await browser.login("secretary")
    data = _filled(await _template(browser, street), GOOD)
    r = await browser.client.post(
        f"/streets/{street}/tasks/import", files={"file": ("任务.xlsx", data, XLSX)}
    )
    assert r.status_code == 403
    assert await count(web_app, Task) == 0


@pytest.mark.parametrize("username", ["dept", "liaison", "secretary2", "district"])
async def test_others_cannot_import(web_app: Starlette, new_browser, username: str) -> None:  # type: ignore[no-untyped-def]
    street = await _street(web_app)
    secretary = new_browser()
    await secretary.login("secretary")
    data = _filled(await _template(secretary, street), GOOD)
    other = new_browser()
    await other.login(username)
    assert (await other.get(f"/streets/{street}/tasks/import")).status_code == 403
    assert (await other.get(f"/streets/{street}/tasks/import/template.xlsx")).status_code == 403
    r = await _upload(other, street, "任务.xlsx", data)
    assert r.status_code == 403
    assert await count(web_app, Task) == 0


async def test_ledger_scope_and_filters(web_app: Starlette, new_browser) -> None:  # type: ignore[no-untyped-def]
    street = await _street(web_app)
    secretary = new_browser()
    await secretary.login("secretary")
    data = _filled(await _template(secretary, street), GOOD)
    assert (await _upload(secretary, street, "任务.xlsx", data)).status_code == 303

    dept = new_browser()
    await dept.login("dept")
    r = await dept.get(f"/streets/{street}/tasks/ledger.xlsx")
    assert r.status_code == 200
    titles = [
        row[4]
        for row in load_workbook(io.BytesIO(r.content))["任务台账"].iter_rows(
            min_row=2, values_only=True
        )
    ]
    assert titles == ["更换破损井盖"]  # the enforcement team handles this one only

    r = await secretary.get(
        f"/streets/{street}/tasks/ledger.xlsx", params={"from": "2020-01-01", "to": "2020-06-30"}
    )
    assert r.status_code == 200
    assert _filename(r) == "任务台账-新华街道-20200101-20200630.xlsx"
    assert load_workbook(io.BytesIO(r.content))["任务台账"].max_row == 1

    r = await secretary.get(f"/streets/{street}/tasks/ledger.xlsx", params={"from": "2020-02-30"})
    assert r.status_code == 400 and "日期格式" in r.text

    other = new_browser()
    await other.login("secretary2")
    assert (await other.get(f"/streets/{street}/tasks/ledger.xlsx")).status_code == 403
    assert (await other.get("/streets/999999/tasks/ledger.xlsx")).status_code == 404
