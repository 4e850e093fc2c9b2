"""Task pages through HTTP: assign, accept, report, review, rate, close — as the users would."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from starlette.applications import Starlette

from domain.models import Task, TaskEvent
from tests.conftest import Browser, soup
from tests.e2e.support import count, org_id, unit_id

NewBrowser = Callable[[], Browser]
DEPT = "区城管执法局新华街道执法队"
COMMUNITY_UNIT = "文化里社区居委会"


def _task_id(response: httpx.Response) -> int:
    m = re.search(r"/tasks/(\d+)", response.headers["location"])
    assert m, response.headers.get("location")
    return int(m.group(1))


async def _version(browser: Browser, task_id: int) -> str:
    page = soup(await browser.get(f"/tasks/{task_id}"))
    field = page.select_one('input[name="version"]')
    assert field is not None
    return str(field["value"])


async def _state(browser: Browser, task_id: int) -> str:
    page = soup(await browser.get(f"/tasks/{task_id}"))
    state = page.select_one("#task-state")
    assert state is not None
    return state.get_text(strip=True)


async def _assign(web_app: Starlette, secretary: Browser, **extra: str) -> int:
    street = await org_id(web_app, "新华街道")
    data = {
        "title": "清理文化里 3 号楼违章搭建",
        "description": "居民反映 3 号楼底商私搭棚子，占用消防通道。",
        "location": "文化里 3 号楼",
        "lead_unit_id": str(await unit_id(web_app, DEPT)),
        "limit_value": "5",
        "limit_unit": "working_days",
        "submit": "assign",
    }
    data.update(extra)
    r = await secretary.post(f"/streets/{street}/tasks?source=assignment", data)
    assert r.status_code == 303, r.text[:2000]
    return _task_id(r)


async def test_the_whole_handoff_through_the_pages(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    secretary, dept = new_browser(), new_browser()
    await secretary.login("secretary")
    await dept.login("dept")
    task_id = await _assign(web_app, secretary)
    dept_unit = await unit_id(web_app, DEPT)

    # The department sees it on its board, waiting to be accepted.
    board = soup(await dept.get("/tasks"))
    to_accept = board.select('.board-col[data-col="to-accept"] .task-title')
    assert [a.get_text(strip=True) for a in to_accept] == ["清理文化里 3 号楼违章搭建"]
    assert await _state(dept, task_id) == "已交办"

    version = await _version(dept, task_id)
    r = await dept.post(f"/tasks/{task_id}/accept", {"unit_id": str(dept_unit), "version": version})
    assert r.status_code == 303
    assert await _state(dept, task_id) == "已签收"

    r = await dept.post(
        f"/tasks/{task_id}/progress",
        {"unit_id": str(dept_unit), "body": "已现场查看，约谈商户。", "percent": "40"},
    )
    assert r.status_code == 303
    assert await _state(dept, task_id) == "办理中"

    # A final report without its facts is refused with each field explained, input kept.
    version = await _version(dept, task_id)
    r = await dept.post(
        f"/tasks/{task_id}/report",
        {"unit_id": str(dept_unit), "version": version, "actions": "拆除棚子", "contacted": ""},
    )
    assert r.status_code == 400
    page = soup(r)
    assert "请填写联系了谁" in page.get_text()
    assert page.select_one("#f-actions").get_text() == "拆除棚子"  # type: ignore[union-attr]

    r = await dept.post(
        f"/tasks/{task_id}/report",
        {
            "unit_id": str(dept_unit),
            "version": version,
            "handled_on": "2026-11-27",
            "contacted": "商户刘先生、物业张经理",
            "actions": "责令商户自行拆除棚子，恢复消防通道。",
            "done_by": "2026-11-28",
        },
    )
    assert r.status_code == 303, r.text[:1500]
    assert await _state(secretary, task_id) == "已反馈"

    # The department cannot review its own work.
    r = await dept.post(
        f"/tasks/{task_id}/review",
        {"decision": "pass", "version": await _version(secretary, task_id)},
    )
    assert r.status_code == 403

    version = await _version(secretary, task_id)
    r = await secretary.post(f"/tasks/{task_id}/review", {"decision": "pass", "version": version})
    assert r.status_code == 303
    r = await secretary.post(
        f"/tasks/{task_id}/rate",
        {"rating": "satisfied", "version": await _version(secretary, task_id)},
    )
    assert r.status_code == 303
    r = await secretary.post(
        f"/tasks/{task_id}/close", {"version": await _version(secretary, task_id)}
    )
    assert r.status_code == 303
    assert await _state(secretary, task_id) == "已销号"

    # Done shows on the department's board; the timeline holds every step.
    board = soup(await dept.get("/tasks"))
    done = board.select('.board-col[data-col="done"] .task-title')
    assert [a.get_text(strip=True) for a in done] == ["清理文化里 3 号楼违章搭建"]
    transitions = await count(
        web_app, TaskEvent, TaskEvent.task_id == task_id, TaskEvent.kind == "transition"
    )
    # create, assign, accept, start, report, pass, rate, close
    assert transitions == 8
    timeline = soup(await secretary.get(f"/tasks/{task_id}")).select("#task-timeline li")
    assert len(timeline) == 9  # the eight transitions and the progress report


async def test_stale_page_is_refused_with_a_message_and_nothing_changes(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    secretary, supervisor = new_browser(), new_browser()
    await secretary.login("secretary")
    await supervisor.login("supervisor")
    street = await org_id(web_app, "新华街道")
    r = await secretary.post(
        f"/streets/{street}/tasks?source=assignment",
        {
            "title": "草稿任务",
            "lead_unit_id": str(await unit_id(web_app, DEPT)),
            "limit_value": "3",
            "limit_unit": "working_days",
            "submit": "draft",
        },
    )
    task_id = _task_id(r)
    version = await _version(secretary, task_id)
    assert (
        await supervisor.post(f"/tasks/{task_id}/assign", {"version": version})
    ).status_code == 303
    r = await secretary.post(f"/tasks/{task_id}/assign", {"version": version})
    assert r.status_code == 409
    assert "不能交办" in soup(r).select_one("#task-error").get_text()  # type: ignore[union-attr]
    async with web_app.state.session_factory() as s:
        task = await s.get(Task, task_id)
        assert task is not None and task.state == "assigned" and task.version == 2


async def test_new_task_form_keeps_input_and_explains(web_app: Starlette, browser: Browser) -> None:
    await browser.login("secretary")
    street = await org_id(web_app, "新华街道")
    before = await count(web_app, Task)
    r = await browser.post(
        f"/streets/{street}/tasks?source=whistle",
        {"title": "夜间施工扰民", "limit_value": "0", "limit_unit": "hours", "report_minutes": "2"},
    )
    assert r.status_code == 400
    page = soup(r)
    text = page.get_text()
    assert "请选择主办单位" in text and "报到时限须为 5–1440 分钟" in text
    assert page.select_one("#f-title")["value"] == "夜间施工扰民"  # type: ignore[index]
    assert await count(web_app, Task) == before


async def test_people_outside_the_task_cannot_see_or_act(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    secretary, other, member = new_browser(), new_browser(), new_browser()
    await secretary.login("secretary")
    await other.login("secretary2")
    await member.login("member")
    task_id = await _assign(web_app, secretary)
    assert (await other.get(f"/tasks/{task_id}")).status_code == 404
    assert (await member.get(f"/tasks/{task_id}")).status_code == 404
    street = await org_id(web_app, "新华街道")
    assert (await other.get(f"/streets/{street}/tasks/new")).status_code == 403
    assert (await other.get(f"/streets/{street}/tasks")).status_code == 403
    r = await other.post(f"/tasks/{task_id}/close", {"version": "1"})
    assert r.status_code == 404


async def test_a_hotline_draft_is_dispatched_by_choosing_the_lead(
    web_app: Starlette, browser: Browser
) -> None:
    from domain.services.api_tokens import create_token
    from domain.tasks.external import create_from_work_order
    from domain.uow import UnitOfWork

    async with UnitOfWork(web_app.state.session_factory) as work:
        issued = await create_token(work, "12345 热线")
        task, created = await create_from_work_order(
            work,
            issued.token,
            {
                "external_id": "GD-2026-0001",
                "title": "春晖路夜间施工噪声扰民",
                "street": "新华街道",
            },
        )
        await work.commit()
    assert created and task.state == "drafted"
    await browser.login("secretary")
    page = soup(await browser.get(f"/tasks/{task.id}"))
    assert page.select_one("#f-dispatch-lead") is not None
    version = await _version(browser, task.id)
    r = await browser.post(f"/tasks/{task.id}/assign", {"version": version})
    assert r.status_code == 400
    assert "请选择主办单位" in soup(r).get_text()
    dept = await unit_id(web_app, DEPT)
    r = await browser.post(
        f"/tasks/{task.id}/assign", {"version": version, "lead_unit_id": str(dept)}
    )
    assert r.status_code == 303
    assert await _state(browser, task.id) == "已交办"


async def test_task_pages_do_not_grow_with_the_number_of_tasks(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    """The boards, the worklist, the street list and a task page: the same statements for
    two tasks as for twelve (no query per task, per unit or per event)."""
    from tests.e2e.support import count_statements

    secretary, dept = new_browser(), new_browser()
    await secretary.login("secretary")
    await dept.login("dept")
    street = await org_id(web_app, "新华街道")
    dept_unit = await unit_id(web_app, DEPT)

    async def make(n: int) -> int:
        last = 0
        for i in range(n):
            last = await _assign(web_app, secretary, title=f"任务 {i}")
            if i % 2:
                version = await _version(dept, last)
                r = await dept.post(
                    f"/tasks/{last}/accept", {"unit_id": str(dept_unit), "version": version}
                )
                assert r.status_code == 303
                await dept.post(
                    f"/tasks/{last}/progress",
                    {"unit_id": str(dept_unit), "body": f"进展 {i}", "percent": "20"},
                )
        return last

    async def statements(browser: Browser, url: str) -> int:
        await browser.get(url)
        with count_statements(web_app) as seen:
            r = await browser.get(url)
        assert r.status_code == 200
        return len(seen)

    last = await make(2)
    pages = [
        (secretary, "/tasks"),
        (dept, "/tasks"),
        (secretary, f"/streets/{street}/tasks"),
        (secretary, f"/tasks/{last}"),
    ]
    before = [await statements(b, url) for b, url in pages]
    last = await make(10)
    pages[-1] = (secretary, f"/tasks/{last}")
    after = [await statements(b, url) for b, url in pages]
    assert after == before, (before, after)
    assert max(after) <= 16


async def test_each_kind_of_task_starts_from_its_streets_time_limit(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    secretary, dept = new_browser(), new_browser()
    await secretary.login("secretary")
    await dept.login("dept")
    street = await org_id(web_app, "新华街道")
    r = await secretary.post(
        f"/streets/{street}/settings",
        {
            **{
                i["name"]: i.get("value", "")
                for i in soup(await secretary.get(f"/streets/{street}/settings")).select(
                    "form input[name]"
                )
                if i["name"] != "csrf_token"
            },
            "whistle_limit_hours": "6",
            "handoff_limit_days": "8",
        },
    )
    assert r.status_code == 303, r.text[:800]

    def limit(page: httpx.Response) -> tuple[str, str]:
        doc = soup(page)
        value = doc.select_one("#f-limit_value")["value"]  # type: ignore[index]
        unit = doc.select_one("#f-limit_unit option[selected]")["value"]  # type: ignore[index]
        return str(value), str(unit)

    whistle = await secretary.get(f"/streets/{street}/tasks/new?source=whistle")
    assert limit(whistle) == ("6", "hours")
    assignment = await secretary.get(f"/streets/{street}/tasks/new?source=assignment")
    assert limit(assignment) == ("5", "working_days")
    handoff = await dept.get(f"/streets/{street}/tasks/new?source=dept_handoff")
    assert limit(handoff) == ("8", "working_days")


async def test_a_return_is_answered_by_insisting_or_reassigning(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    secretary, dept = new_browser(), new_browser()
    await secretary.login("secretary")
    await dept.login("dept")
    task_id = await _assign(web_app, secretary)
    dept_unit = await unit_id(web_app, DEPT)
    form = {"unit_id": str(dept_unit), "reason": "wrong_area", "text": "该楼属长安街道"}
    r = await dept.post(
        f"/tasks/{task_id}/return", {**form, "version": await _version(dept, task_id)}
    )
    assert r.status_code == 303
    assert await _state(secretary, task_id) == "申请退回"

    # Insisting needs a reason; the form comes back with a message.
    version = await _version(secretary, task_id)
    r = await secretary.post(f"/tasks/{task_id}/insist", {"version": version, "note": ""})
    assert r.status_code == 400 and "请说明坚持交办的理由" in soup(r).get_text()

    market = await unit_id(web_app, "区市场监督管理局新华市场监管所")
    r = await secretary.post(
        f"/tasks/{task_id}/reassign",
        {"version": version, "lead_unit_id": str(market), "note": "改由市场监管所办理"},
    )
    assert r.status_code == 303
    page = soup(await secretary.get(f"/tasks/{task_id}"))
    assert page.select_one("#task-state").get_text(strip=True) == "已交办"  # type: ignore[union-attr]
    rows = {row["data-unit"]: row.get_text(" ", strip=True) for row in page.select("tr[data-unit]")}
    assert "已改派" in rows[str(dept_unit)] and "待签收" in rows[str(market)]
    # The department no longer has it on its board.
    board = soup(await dept.get("/tasks"))
    assert "清理文化里 3 号楼违章搭建" not in board.select_one("#task-board").get_text()  # type: ignore[union-attr]
