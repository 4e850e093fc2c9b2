"""Emerging-sector coverage over HTTP: pages, forms with Chinese errors, CSRF, permissions,
the gap task, the import, and a street page whose statement count does not grow."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select
from starlette.applications import Starlette

from domain.coverage.rules import make_credit_code
from domain.models import Carrier, EmergingOrg, Organization, Task
from gongjian.demo_coverage import seed_demo_coverage
from tests.conftest import soup
from tests.e2e.support import count_statements


async def street_id(app: Starlette, name: str = "新华街道") -> int:
    async with app.state.session_factory() as s:
        found = await s.scalar(select(Organization.id).where(Organization.name == name))
    assert found is not None
    return found


async def org_named(app: Starlette, name: str) -> EmergingOrg:
    async with app.state.session_factory() as s:
        found = await s.scalar(select(EmergingOrg).where(EmergingOrg.name == name))
    assert found is not None
    return found


async def carrier_named(app: Starlette, name: str) -> Carrier:
    async with app.state.session_factory() as s:
        found = await s.scalar(select(Carrier).where(Carrier.name == name))
    assert found is not None
    return found


async def test_street_page_shows_figures_carriers_gaps_and_history(web_app, browser) -> None:  # type: ignore[no-untyped-def]
    await seed_demo_coverage(web_app.state.session_factory)
    sid = await street_id(web_app)
    await browser.login("secretary")
    landing = await browser.get("/coverage")
    assert landing.status_code == 303 and landing.headers["location"] == f"/streets/{sid}/coverage"
    page = await browser.get(f"/streets/{sid}/coverage")
    assert page.status_code == 200, page.text[:2000]
    doc = soup(page)
    figures = doc.select_one("#coverage-figures")
    assert figures is not None and figures.has_attr("data-live-region")
    # 12 organisations in 新华街道: 7 organisation-covered, 9 work-covered (two instructors).
    assert doc.select_one("[data-figure=org-rate]").get_text() == "58.3%"  # type: ignore[union-attr]
    assert doc.select_one("[data-figure=work-rate]").get_text() == "75.0%"  # type: ignore[union-attr]
    assert "环球金融中心" in figures.get_text()
    assert len(doc.select(".cov-chart rect.cov-bar")) == 7  # six snapshots and this month
    gaps = doc.select_one("#coverage-gaps")
    assert gaps is not None
    text = gaps.get_text()
    assert "博远人力资源服务有限公司" in text and "应建未建" in text
    assert "任务 #" in text  # the demo's gap task, with a link to it
    assert doc.select_one("#coverage-list") is not None
    assert "style=" not in page.text

    # Search and filters narrow the list.
    tower = await carrier_named(web_app, "环球金融中心")
    filtered = soup(await browser.get(f"/streets/{sid}/coverage?carrier={tower.id}&gaps=1"))
    rows = filtered.select("#coverage-list tbody tr")
    names = {r.select_one("strong").get_text() for r in rows}  # type: ignore[union-attr]
    assert names == {"博远人力资源服务有限公司", "嘉和会计师事务所"}
    found = soup(await browser.get(f"/streets/{sid}/coverage?q=律师"))
    assert [r.select_one("strong").get_text() for r in found.select("#coverage-list tbody tr")] == [  # type: ignore[union-attr]
        "华信律师事务所"
    ]


async def test_carrier_page_and_park_with_zones(web_app, browser, new_browser) -> None:  # type: ignore[no-untyped-def]
    await seed_demo_coverage(web_app.state.session_factory)
    park = await carrier_named(web_app, "长安科技园")
    await browser.login("secretary2")
    page = await browser.get(f"/carriers/{park.id}")
    assert page.status_code == 200
    doc = soup(page)
    region = doc.select_one("#carrier-page")
    assert region is not None and region.has_attr("data-live-region")
    # The park counts its own organisation and its two zones' seven.
    assert "长安科技园软件园片区" in region.get_text()
    assert doc.select_one("[data-figure=should-build]").get_text() == "2"  # type: ignore[union-attr]
    assert len(doc.select("#carrier-page .cov-orgs tbody tr")) == 8
    # 新华街道's secretary and liaison may not read 长安街道's carrier.
    for username in ("secretary", "liaison"):
        other = new_browser()
        await other.login(username)
        assert (await other.get(f"/carriers/{park.id}")).status_code == 403


async def test_forms_rerender_with_input_and_chinese_errors(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    sid = await street_id(web_app)
    secretary = new_browser()
    await secretary.login("secretary")
    # Without CSRF: refused, nothing created.
    raw = await secretary.client.post(f"/streets/{sid}/carriers", data={"name": "X"})
    assert raw.status_code == 403
    bad = await secretary.post(
        f"/streets/{sid}/carriers", {"kind": "carrier_zone", "name": "某园区东片", "parent_id": ""}
    )
    assert bad.status_code == 400
    doc = soup(bad)
    assert doc.select_one("#f-name")["value"] == "某园区东片"  # type: ignore[index]
    assert "园区片区须选择所属园区。" in bad.text
    made = await secretary.post(
        f"/streets/{sid}/carriers", {"kind": "carrier_tower", "name": "新华大厦"}
    )
    assert made.status_code == 303
    tower = await carrier_named(web_app, "新华大厦")
    assert made.headers["location"] == f"/carriers/{tower.id}?done=carrier"

    form = {
        "name": "云启科技",
        "credit_code": "91110105MA01ABCD27",  # wrong check character
        "carrier_id": str(tower.id),
        "employees": "5",
        "party_members": "8",
        "coverage_mode": "cov_own",
        "party_org_name": "",
    }
    bad = await secretary.post(f"/streets/{sid}/coverage/orgs", form)
    assert bad.status_code == 400
    doc = soup(bad)
    assert doc.select_one("#f-name")["value"] == "云启科技"  # type: ignore[index]
    assert doc.select_one("#f-carrier_id option[selected]")["value"] == str(tower.id)  # type: ignore[index]
    for message in (
        "统一社会信用代码校验位不正确，请核对。",
        "党员人数不能多于从业人员。",
        "单独建立或联合建立党组织的，请填写党组织名称。",
    ):
        assert message in bad.text
    good = {**form, "credit_code": make_credit_code("91110105MA01ABCD2"), "employees": "50",
            "party_org_name": "云启科技党支部"}  # fmt: skip
    assert (await secretary.post(f"/streets/{sid}/coverage/orgs", good)).status_code == 303
    org = await org_named(web_app, "云启科技")
    # A stale edit: 409, the user's input kept, nothing overwritten.
    edit = {**good, "version": str(org.version), "industry": "软件"}
    assert (await secretary.post(f"/coverage/orgs/{org.id}/edit", edit)).status_code == 303
    stale = await secretary.post(f"/coverage/orgs/{org.id}/edit", {**edit, "industry": "金融"})
    assert stale.status_code == 409 and "该记录已被其他人修改" in stale.text
    assert soup(stale).select_one("#f-industry")["value"] == "金融"  # type: ignore[index]
    assert (await org_named(web_app, "云启科技")).industry == "软件"

    # A liaison of the street reads but cannot write; another street's secretary cannot read.
    liaison = new_browser()
    await liaison.login("liaison")
    page = await liaison.get(f"/streets/{sid}/coverage")
    assert page.status_code == 200 and "新增组织" not in page.text and "云启科技" in page.text
    assert (await liaison.get(f"/streets/{sid}/coverage/orgs/new")).status_code == 403
    assert (await liaison.post(f"/coverage/orgs/{org.id}/edit", edit)).status_code == 403
    other = new_browser()
    await other.login("secretary2")
    assert (await other.get(f"/streets/{sid}/coverage")).status_code == 403
    member = new_browser()
    await member.login("member")
    assert (await member.get(f"/streets/{sid}/coverage")).status_code == 403
    district = new_browser()
    await district.login("district")
    landing = await district.get("/coverage")
    assert landing.status_code == 200 and "和平区（合计）" in landing.text
    assert (await district.get(f"/streets/{sid}/coverage")).status_code == 200


async def test_gap_task_from_the_page(web_app, browser) -> None:  # type: ignore[no-untyped-def]
    await seed_demo_coverage(web_app.state.session_factory)
    sid = await street_id(web_app)
    gap = await org_named(web_app, "嘉和会计师事务所")
    await browser.login("secretary")
    form = soup(await browser.get(f"/coverage/orgs/{gap.id}/gap-task"))
    assert form.select_one("#f-title")["value"] == "推动嘉和会计师事务所实现党的工作覆盖"  # type: ignore[index]
    selected = form.select_one("#f-lead_unit_id option[selected]")
    assert selected is not None and selected.get_text() == "环球金融中心楼宇联合党委"
    bad = await browser.post(
        f"/coverage/orgs/{gap.id}/gap-task",
        {"title": "推动嘉和建立党组织", "lead_unit_id": "", "limit_value": "5",
         "version": str(gap.version)},
    )  # fmt: skip
    assert bad.status_code == 400 and "请选择承办单位。" in bad.text
    assert soup(bad).select_one("#f-title")["value"] == "推动嘉和建立党组织"  # type: ignore[index]
    done = await browser.post(
        f"/coverage/orgs/{gap.id}/gap-task",
        {"title": "推动嘉和建立党组织", "lead_unit_id": selected["value"], "limit_value": "5",
         "version": str(gap.version)},
        follow_redirects=True,
    )  # fmt: skip
    assert done.status_code == 200 and "补建任务已交办。" in done.text
    task_id = (await org_named(web_app, "嘉和会计师事务所")).gap_task_id
    row = soup(done).select_one(f"#gap-{gap.id}")
    assert row is not None and row.select_one(f'a[href="/tasks/{task_id}"]') is not None
    assert "已交办" in row.get_text()
    assert "交办补建任务" not in row.get_text()  # no second task while one is open
    again = await browser.post(
        f"/coverage/orgs/{gap.id}/gap-task",
        {"lead_unit_id": selected["value"], "limit_value": "5",
         "version": str((await org_named(web_app, "嘉和会计师事务所")).version)},
    )  # fmt: skip
    assert again.status_code == 400 and "该组织已有未办结的补建任务" in again.text
    page = soup(await browser.get(f"/coverage/orgs/{gap.id}/gap-task"))
    assert page.select_one("#gap-task-form") is None
    assert "该组织已有未办结的补建任务" in page.get_text()
    async with web_app.state.session_factory() as s:
        task = await s.get(Task, task_id)
    assert task is not None and task.title == "推动嘉和建立党组织" and task.street_id == sid


def xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def test_import_template_errors_and_summary(web_app, browser) -> None:  # type: ignore[no-untyped-def]
    await seed_demo_coverage(web_app.state.session_factory)
    sid = await street_id(web_app)
    await browser.login("secretary")
    template = await browser.get(f"/streets/{sid}/coverage/import/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    head = ["名称", "统一社会信用代码", "类别", "所在载体", "覆盖方式", "党员人数"]
    jiahe = await org_named(web_app, "嘉和会计师事务所")
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    bad = xlsx([head, ["新企业", make_credit_code("91110105MA09ABCD1"), "企业", "环球金融中心",
                       "联合党组织", "2"],
                ["坏企业", "X", "企业", "火星大厦", "自建", "-1"]])  # fmt: skip
    r = await browser.post(
        f"/streets/{sid}/coverage/import", files={"file": ("orgs.xlsx", bad, mime)}
    )
    assert r.status_code == 400
    cells = [
        [td.get_text() for td in tr.select("td")]
        for tr in soup(r).select("#import-errors tbody tr")
    ]
    assert ["3", "所在载体", "本街道没有名为“火星大厦”的载体。"] in cells
    assert ["3", "覆盖方式", "覆盖方式“自建”无法识别。"] in cells
    assert ["3", "党员人数", "党员人数不能为负数。"] in cells
    assert ["2", "党组织名称", "单独建立或联合建立党组织的，请填写党组织名称。"] in cells
    good = xlsx([[*head, "党组织名称"],
                 ["新企业", make_credit_code("91110105MA09ABCD1"), "企业", "环球金融中心",
                  "联合党组织", "2", "楼宇联合党委二支部"],
                 ["嘉和会计师事务所", jiahe.credit_code or "", "企业", "环球金融中心",
                  "联合党组织", "1", "楼宇联合党委二支部"]])  # fmt: skip
    r = await browser.post(
        f"/streets/{sid}/coverage/import", files={"file": ("orgs.xlsx", good, mime)}
    )
    assert r.status_code == 200
    assert "新增 1 个组织，更新 1 个组织" in soup(r).select_one("#import-summary").get_text()  # type: ignore[union-attr]
    assert (await org_named(web_app, "嘉和会计师事务所")).coverage_mode == "cov_joint"


async def test_street_page_statement_count_does_not_grow(web_app, browser) -> None:  # type: ignore[no-untyped-def]
    await seed_demo_coverage(web_app.state.session_factory)
    sid = await street_id(web_app)
    await browser.login("secretary")
    url = f"/streets/{sid}/coverage"
    await browser.get(url)  # warm caches
    tower = await carrier_named(web_app, "环球金融中心")
    carrier = f"/carriers/{tower.id}"
    with count_statements(web_app) as before:
        assert (await browser.get(url)).status_code == 200
    with count_statements(web_app) as carrier_before:
        assert (await browser.get(carrier)).status_code == 200
    async with web_app.state.session_factory() as s:
        for i in range(40):
            s.add(
                EmergingOrg(
                    street_id=sid,
                    carrier_id=tower.id,
                    name=f"批量企业{i:02d}",
                    credit_code=make_credit_code(f"91110105MA08{i:05d}"),
                    party_members=i % 5,
                    coverage_mode="cov_none" if i % 3 else "cov_joint",
                )
            )
        await s.commit()
    with count_statements(web_app) as after:
        page = await browser.get(url)
    assert page.status_code == 200 and "批量企业00" in page.text
    assert len(after) == len(before), (len(before), len(after))
    with count_statements(web_app) as carrier_after:
        assert (await browser.get(carrier)).status_code == 200
    assert len(carrier_after) == len(carrier_before) <= 15
    async with web_app.state.session_factory() as s:
        total = await s.scalar(
            select(func.count(EmergingOrg.id)).where(EmergingOrg.street_id == sid)
        )
    assert total == 52


def test_pages_in_chromium_at_desktop_and_phone_width(demo_server, chromium) -> None:  # type: ignore[no-untyped-def]
    """The street and carrier pages in a real browser, screenshots under test-artifacts/."""
    import asyncio
    import threading
    from pathlib import Path

    from adapters.db import make_engine, make_session_factory
    from tests.live_server import login_page

    async def seed() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{demo_server.tmp / 'live.db'}")
        factory = make_session_factory(engine)
        async with factory() as s:
            seeded = await s.scalar(select(func.count(Carrier.id)))
        if not seeded:  # seed-demo may already include the coverage demo
            await seed_demo_coverage(factory)
        await engine.dispose()

    # Playwright's sync API owns this thread's event loop: seed from another thread.
    worker = threading.Thread(target=lambda: asyncio.run(seed()))
    worker.start()
    worker.join()
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    for width in (1280, 390):
        page = login_page(chromium, demo_server.base, "secretary2", width=width)
        page.goto(demo_server.base + "/coverage")
        assert page.locator("h1").first.inner_text() == "长安街道 · 新兴领域党建覆盖"
        assert page.locator("[data-figure=work-rate]").inner_text().endswith("%")
        assert page.locator(".cov-chart rect.cov-bar").count() == 7
        page.screenshot(path=str(out / f"coverage-street-{width}.png"), full_page=True)
        page.locator("#coverage-figures a", has_text="长安科技园").first.click()
        page.wait_for_url("**/carriers/*")
        assert "长安科技园软件园片区" in page.locator("#carrier-page").inner_text()
        page.screenshot(path=str(out / f"coverage-carrier-{width}.png"), full_page=True)
        # Nothing wider than the phone's screen.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, overflow
        assert page.errors == []
        page.context.close()
