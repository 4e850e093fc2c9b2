"""Bulk import of units by uploading .csv/.xlsx files through the page."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from starlette.applications import Starlette

from domain.models import Unit
from tests.conftest import Browser, soup
from tests.e2e.support import count, count_units

HEADERS = [
    "单位名称",
    "单位类别",
    "单位性质",
    "所属街道",
    "所属社区",
    "地址",
    "联系人",
    "联系电话",
    "党员人数",
]
GOOD_ROWS = [
    [
        "滨江云图科技有限公司",
        "驻区单位",
        "非公企业",
        "新华街道",
        "春晖社区",
        "春晖路 100 号",
        "林晨",
        "010-68120100",
        "9",
    ],
    ["区教育委员会", "职能部门（条）", "党政机关", "新华街道", "", "和平大道 9 号", "", "", ""],
    ["新华颐养中心", "stationed", "social_org", "新华街道", "东湖社区", "", "宋佳", "", "4"],
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADERS, *rows])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def upload(browser: Browser, filename: str, data: bytes, mime: str) -> httpx.Response:
    return await browser.post("/units/import", files={"file": (filename, data, mime)})


def error_rows(r: httpx.Response) -> list[tuple[str, str, str]]:
    return [
        tuple(td.get_text(strip=True) for td in tr.select("td"))  # type: ignore[misc]
        for tr in soup(r).select("#import-errors tbody tr")
    ]


@pytest.mark.parametrize(
    ("filename", "encoding"),
    [("单位.csv", "utf-8"), ("excel-bom.csv", "utf-8-sig"), ("excel-cn.csv", "gb18030")],
)
async def test_good_csv_imports_every_row(
    web_app: Starlette, browser: Browser, filename: str, encoding: str
) -> None:
    await browser.login("secretary")
    before = await count_units(web_app)

    r = await upload(browser, filename, csv_bytes(GOOD_ROWS, encoding), "text/csv")

    assert r.status_code == 200, r.text
    doc = soup(r)
    assert doc.select_one(".alert-ok").get_text(strip=True) == f"已从 {filename} 导入 3 个单位。"
    links = [a.get_text(strip=True) for a in doc.select(".plain-list a")]
    assert links == [row[0] for row in GOOD_ROWS]
    assert await count_units(web_app) == before + 3

    listing = soup(await browser.get("/units", params={"q": "区教育委员会"}))
    row = listing.select_one("#units tbody tr")
    assert "职能部门（条）" in row.get_text()
    assert await count(web_app, Unit, Unit.name == "滨江云图科技有限公司", Unit.party_members == 9)


async def test_good_xlsx_imports_every_row(web_app: Starlette, browser: Browser) -> None:
    await browser.login("admin")
    before = await count_units(web_app)
    # Excel stores numbers as numbers: 9 arrives as 9 (or 9.0), not "9".
    rows: list[list[object]] = [[*r[:8], int(r[8]) if r[8] else None] for r in GOOD_ROWS]
    rows.append(
        [
            "长安里社区卫生服务中心",
            "驻区单位",
            "事业单位",
            "长安街道",
            "南门社区",
            None,
            None,
            None,
            12.0,
        ]
    )

    r = await upload(browser, "units.xlsx", xlsx_bytes(rows), XLSX)

    assert r.status_code == 200, r.text
    assert "导入 4 个单位" in soup(r).select_one(".alert-ok").get_text()
    assert await count_units(web_app) == before + 4
    assert await count(
        web_app, Unit, Unit.name == "长安里社区卫生服务中心", Unit.party_members == 12
    )


async def test_one_bad_row_shows_the_errors_by_row_and_imports_nothing(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("secretary")
    before = await count_units(web_app)
    rows = [
        GOOD_ROWS[0],
        ["", "驻区单位", "火星企业", "新华街道", "", "", "", "电话", "许多"],
        GOOD_ROWS[1],
        ["长安里卫生站", "驻区单位", "事业单位", "长安街道", "", "", "", "", ""],
        GOOD_ROWS[0],
    ]

    r = await upload(browser, "bad.csv", csv_bytes(rows, "utf-8"), "text/csv")

    assert r.status_code == 400
    alert = soup(r).select_one(".alert-error").get_text()
    assert "导入未执行" in alert and "所有行均未导入" in alert and "共 5 行数据" in alert
    errors = error_rows(r)
    assert {(row, col) for row, col, _ in errors} == {
        ("3", "单位名称"),
        ("3", "单位性质"),
        ("3", "联系电话"),
        ("3", "党员人数"),
        ("5", "所属街道"),  # 长安街道 is not this secretary's street
        ("6", "单位名称"),  # the same unit twice in one file
    }
    assert ("6", "单位名称", "与第 2 行重复。") in errors
    assert await count_units(web_app) == before
    assert await count(web_app, Unit, Unit.name == "滨江云图科技有限公司") == 0


async def test_missing_headers_are_reported(browser: Browser) -> None:
    await browser.login("secretary")
    data = "名称,类别\n某单位,驻区单位\n".encode()
    r = await upload(browser, "wrong.csv", data, "text/csv")
    assert r.status_code == 400
    [(row, col, message)] = error_rows(r)
    assert (row, col) == ("1", "表头")
    assert "单位名称" in message and "所属街道" in message


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("report.pdf", b"%PDF-1.4 not a table", "只支持 .xlsx 或 .csv 文件。"),
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n not a workbook", "无法读取该 Excel 文件"),
        ("empty.csv", b"\n\n", "文件是空的。"),
        ("binary.csv", bytes(range(128, 256)) * 4, "无法识别 CSV 文件的编码"),
    ],
)
async def test_a_file_that_is_not_a_table_gets_a_clear_message(
    web_app: Starlette, browser: Browser, filename: str, data: bytes, message: str
) -> None:
    await browser.login("secretary")
    before = await count_units(web_app)
    r = await upload(browser, filename, data, "application/octet-stream")
    assert r.status_code == 400
    [(row, col, text)] = error_rows(r)
    assert (row, col) == ("—", "文件")
    assert message in text
    assert await count_units(web_app) == before


async def test_submitting_without_a_file_asks_for_one(browser: Browser) -> None:
    await browser.login("secretary")
    r = await browser.post("/units/import")
    assert r.status_code == 400
    assert "请选择要上传的" in error_rows(r)[0][2]


async def test_template_download_is_a_workbook_with_the_expected_headers(
    browser: Browser,
) -> None:
    await browser.login("secretary")
    page = soup(await browser.get("/units/import"))
    link = page.select_one('a[href$="template.xlsx"]')["href"]

    r = await browser.get(link)

    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    assert list(rows[0]) == HEADERS
    assert len(rows) == 2  # one example row


async def test_the_template_itself_imports_after_renaming_the_example(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("admin")
    data = (await browser.get("/units/import/template.xlsx")).content
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    ws["A2"] = "滨江市第一人民医院"
    out = io.BytesIO()
    wb.save(out)
    r = await upload(browser, "template.xlsx", out.getvalue(), XLSX)
    assert r.status_code == 200, error_rows(r)
    assert await count(web_app, Unit, Unit.name == "滨江市第一人民医院") == 1


async def test_a_file_over_five_megabytes_is_refused(web_app: Starlette, browser: Browser) -> None:
    await browser.login("secretary")
    before = await count_units(web_app)
    data = csv_bytes(GOOD_ROWS, "utf-8") + b"#" * (5 * 1024 * 1024)
    r = await upload(browser, "huge.csv", data, "text/csv")
    assert r.status_code == 400
    assert "文件超过 5 MB" in error_rows(r)[0][2]
    assert await count_units(web_app) == before
