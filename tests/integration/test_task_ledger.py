"""The task ledger export and the spreadsheet import of street assignments, on SQLite and
PostgreSQL, with the demo data (新华街道's secretary and supervisor; `dept` speaks for
区城管执法局新华街道执法队)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from adapters.tabular import read_table
from adapters.task_ledger_xlsx import build_ledger_xlsx, ledger_template_xlsx
from domain.enums import LimitUnit, TaskSource, TaskState
from domain.errors import PermissionDenied
from domain.models import AuditEntry, Notification, Task, TaskAssignee, TaskEvent
from domain.tasks import handling
from domain.tasks.calendar import local_date
from domain.tasks.handoff import create_task
from domain.tasks.ledger import LedgerFilters, LedgerRow, ledger_rows
from domain.tasks.ledger_import import MAX_ROWS, TEMPLATE_HEADERS, ImportRejected, import_tasks
from domain.tasks.workcal import load_calendar
from tests.integration.conftest import World

ENFORCEMENT = "区城管执法局新华街道执法队"
MARKET = "区市场监督管理局新华市场监管所"
HOUSING = "区住房和城乡建设委员会"
HEALTH = "区卫生健康委员会"
HOSPITAL = "和平区人民医院"
COMMUNITY = "文化里社区居委会"
ADMITTED = "背街小巷环境卫生巡查与问题上报"


@pytest.fixture(autouse=True)
async def _no_tasks_yet(world: World) -> None:
    """These tests count the street's tasks: the test demo (without meetings) holds none."""
    assert await world.count(Task) == 0


async def _create(
    world: World,
    username: str,
    title: str,
    lead: str,
    assisting: Sequence[str] = (),
    *,
    street: str = "新华街道",
    assign_now: bool = True,
) -> Task:
    actor = await world.actor(username)
    street_id = await world.org_id(street)
    raw = {
        "title": title,
        "description": f"{title}的具体要求",
        "location": "新华路 12 号",
        "lead_unit_id": str((await world.unit(lead)).id),
        "limit_value": "5",
        "limit_unit": "working_days",
    }
    ids = [str((await world.unit(u)).id) for u in assisting]
    async with world.uow(actor) as uow:
        task = await create_task(
            uow, actor, street_id, TaskSource.ASSIGNMENT, raw, ids, assign_now=assign_now
        )
        await uow.commit()
    return task


async def _ledger(world: World, username: str, street: str = "新华街道") -> list[LedgerRow]:
    actor = await world.actor(username)
    street_id = await world.org_id(street)
    async with world.uow(actor) as uow:
        return await ledger_rows(uow, actor, street_id, LedgerFilters.this_year())


# Export ------------------------------------------------------------------------------------


async def test_ledger_holds_the_street_tasks_with_units_and_timeline(world: World) -> None:
    fix = await _create(world, "secretary", "修复新华路破损井盖", ENFORCEMENT, [HOUSING, MARKET])
    draft = await _create(world, "secretary", "草拟中的任务", HEALTH, assign_now=False)
    await _create(
        world, "secretary2", "长安街道的任务", "区城管执法局长安街道执法队", street="长安街道"
    )
    dept = await world.actor("dept")
    async with world.uow(dept) as uow:
        await handling.accept(uow, dept, fix.id, (await world.unit(ENFORCEMENT)).id, None)
        await uow.commit()

    rows = {r.title: r for r in await _ledger(world, "secretary")}
    # Handed-out tasks of this street only: not the draft, not the other street's.
    assert "修复新华路破损井盖" in rows
    assert "草拟中的任务" not in rows and "长安的任务" not in rows
    row = rows["修复新华路破损井盖"]
    assert row.ref == fix.ref
    assert (row.source, row.assigner, row.lead) == ("街道交办", "新华街道办事处", ENFORCEMENT)
    assert set(row.assisting) == {HOUSING, MARKET}
    assert row.state == "已签收" and row.limit_text == "5个工作日"
    assert row.assigned_at is not None and row.accepted_at is not None
    assert row.deadline is not None and row.deadline > row.assigned_at
    assert not row.overdue
    actions = [(e.action, e.from_state, e.to_state) for e in row.events]
    assert actions == [
        ("创建", "", "草稿"),
        ("交办", "草稿", "已交办"),
        ("签收", "已交办", "已签收"),
    ]
    assert row.events[-1].actor == "钱坤" and row.events[-1].unit == ENFORCEMENT

    # A draft appears when drafts are asked for.
    actor = await world.actor("secretary")
    async with world.uow(actor) as uow:
        drafts = await ledger_rows(
            uow,
            actor,
            await world.org_id("新华街道"),
            LedgerFilters.parse({"state": "drafted"}),
        )
    assert [r.title for r in drafts] == [draft.title]

    # The workbook carries both sheets, in the same words.
    wb = load_workbook(io.BytesIO(build_ledger_xlsx(list(rows.values()))))
    ledger, history = wb["任务台账"], wb["办理记录"]
    values = {r[4]: r for r in ledger.iter_rows(min_row=2, values_only=True)}
    assert values["修复新华路破损井盖"][1] == fix.ref
    assert values["修复新华路破损井盖"][8] == ENFORCEMENT
    events = [r for r in history.iter_rows(min_row=2, values_only=True) if r[0] == fix.ref]
    assert [e[4] for e in events] == ["创建", "交办", "签收"]


async def test_filters_and_overdue(world: World) -> None:
    late = await _create(world, "secretary", "逾期的任务", ENFORCEMENT)
    await _create(world, "secretary", "市场所的任务", MARKET)
    # Move the deadline into the past, as the clock would see it a week later.
    async with world.factory() as s:
        task = await s.get(Task, late.id)
        assert task is not None and task.assigned_at is not None
        task.deadline = task.assigned_at - timedelta(minutes=1)
        await s.commit()
    actor = await world.actor("secretary")
    street_id = await world.org_id("新华街道")
    market = (await world.unit(MARKET)).id
    async with world.uow(actor) as uow:
        only_market = await ledger_rows(
            uow, actor, street_id, LedgerFilters.parse({"unit": str(market)})
        )
        all_rows = await ledger_rows(uow, actor, street_id, LedgerFilters.this_year())
        last_year = await ledger_rows(
            uow,
            actor,
            street_id,
            LedgerFilters.parse({"year": str(LedgerFilters.this_year().start.year - 1)}),
        )
    assert [r.title for r in only_market] == ["市场所的任务"]
    assert {r.title: r.overdue for r in all_rows} == {"逾期的任务": True, "市场所的任务": False}
    assert last_year == []


async def test_who_reads_what(world: World) -> None:
    await _create(world, "secretary", "执法队的任务", ENFORCEMENT)
    await _create(world, "secretary", "协办中的执法队", HOUSING, [ENFORCEMENT])
    await _create(world, "secretary", "与执法队无关", MARKET)
    everything = {"执法队的任务", "协办中的执法队", "与执法队无关"}
    for username in ("secretary", "supervisor", "district", "admin"):
        assert {r.title for r in await _ledger(world, username)} == everything, username
    # A department liaison: what its unit handles, as lead or assisting.
    assert {r.title for r in await _ledger(world, "dept")} == {"执法队的任务", "协办中的执法队"}
    assert await _ledger(world, "liaison") == []
    with pytest.raises(PermissionDenied):
        await _ledger(world, "secretary2")
    with pytest.raises(PermissionDenied):
        await _ledger(world, "member")


@contextmanager
def _statements(world: World) -> Any:
    engine = world.factory.kw["bind"].sync_engine
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_ledger_queries_do_not_grow_with_tasks(world: World) -> None:
    for i in range(2):
        await _create(world, "secretary", f"任务{i}", ENFORCEMENT, [HOUSING])
    with _statements(world) as few:
        assert len(await _ledger(world, "dept")) == 2
    for i in range(2, 9):
        await _create(world, "secretary", f"任务{i}", MARKET, [ENFORCEMENT, HEALTH])
    with _statements(world) as many:
        assert len(await _ledger(world, "dept")) == 9
    assert len(many) == len(few)


# Import ------------------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[object]]) -> tuple[list[str], list[list[str]]]:
    """Fill the downloaded template the way a user would, and read it back as the page does."""
    wb = load_workbook(io.BytesIO(ledger_template_xlsx([ENFORCEMENT], [ADMITTED])))
    ws = wb["任务导入"]
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return read_table("任务.xlsx", out.getvalue())


GOOD = [
    ["清理背街小巷堆物", "文化里小区北侧", "文化里 3 号", COMMUNITY, "", 3, "工作日", ADMITTED],
    ["夜间施工噪声扰民", "", "", ENFORCEMENT, f"{HOUSING}、{MARKET}", 4, "小时", ""],
    ["医院周边停车秩序", "", "", HOSPITAL, f"{ENFORCEMENT}, {HEALTH}", 2, "工作日", ""],
]


async def _import(
    world: World,
    rows: Sequence[Sequence[object]],
    username: str = "secretary",
    assign_now: bool = True,
) -> list[Task]:
    actor = await world.actor(username)
    headers, cells = _table(rows)
    async with world.uow(actor) as uow:
        result = await import_tasks(
            uow,
            actor,
            await world.org_id("新华街道"),
            headers,
            cells,
            assign_now=assign_now,
            filename="任务.xlsx",
        )
        await uow.commit()
    return result.tasks


async def _tasks(world: World) -> list[Task]:
    async with world.factory() as s:
        found = await s.scalars(
            select(Task)
            .options(selectinload(Task.assignees).selectinload(TaskAssignee.unit))
            .order_by(Task.id)
        )
        return list(found)


async def test_good_file_creates_every_task_assigned(world: World) -> None:
    before = await world.count(Notification)
    created = await _import(world, GOOD)
    assert len(created) == 3
    tasks = await _tasks(world)
    assert [t.title for t in tasks] == [r[0] for r in GOOD]
    calendar = None
    async with world.uow() as uow:
        calendar = await load_calendar(uow)
    for task, row in zip(tasks, GOOD, strict=True):
        assert task.source == TaskSource.ASSIGNMENT and task.state == TaskState.ASSIGNED
        lead = next(a for a in task.assignees if a.role == "lead")
        assert lead.unit.name == row[3] and lead.open
        assisting = {a.unit.name for a in task.assignees if a.role == "assist"}
        expected = {n.strip() for n in str(row[4]).replace("、", ",").split(",") if n.strip()}
        assert assisting == expected
        unit = LimitUnit.HOURS if row[6] == "小时" else LimitUnit.WORKING_DAYS
        assert (task.limit_value, task.limit_unit) == (row[5], unit.value)
        assert task.assigned_at is not None
        assert task.deadline == calendar.deadline(task.assigned_at, int(row[5]), unit)
    # The community's task names its admitted matter; nothing is flagged outside admission.
    assert tasks[0].admission_item_id is not None and not tasks[0].outside_admission
    assert tasks[1].location == "" and tasks[0].location == "文化里 3 号"
    # Every task has its timeline; one audit entry sums the import up.
    assert await world.count(TaskEvent, TaskEvent.action == "create") == 3
    assert await world.count(TaskEvent, TaskEvent.action == "assign") == 3
    entries = await world.audit("task.import")
    assert len(entries) == 1 and "导入 3 项" in entries[0].summary
    assert await world.count(AuditEntry, AuditEntry.action == "task.create") == 0
    # The handling units' liaisons were told (dept speaks for the enforcement team).
    assert await world.count(Notification) > before


async def test_import_as_drafts(world: World) -> None:
    await _import(world, GOOD[:2], assign_now=False)
    tasks = await _tasks(world)
    assert [t.state for t in tasks] == ["drafted", "drafted"]
    assert all(t.assigned_at is None and not any(a.open for a in t.assignees) for t in tasks)


async def _rejected(world: World, rows: Sequence[Sequence[object]]) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as caught:
        await _import(world, rows)
    assert await world.count(Task) == 0
    assert await world.count(AuditEntry, AuditEntry.action == "task.import") == 0
    return [(e.row, e.column, e.message) for e in caught.value.rows]


async def test_one_bad_row_imports_nothing(world: World) -> None:
    bad = ["无主的任务", "", "", "区不存在局", "", 3, "工作日", ""]
    errors = await _rejected(world, [GOOD[0], bad, GOOD[1]])
    assert errors == [
        (3, "主办单位", "主办单位“区不存在局”不存在（须与单位名录中本街道的单位全称一致）。")
    ]


@pytest.mark.parametrize(
    ("row", "column", "needle"),
    [
        (["", "", "", ENFORCEMENT, "", 3, "工作日", ""], "任务标题", "请填写任务标题"),
        (["标题", "", "", ENFORCEMENT, "", 3, "天", ""], "时限单位", "时限单位“天”无法识别"),
        (["标题", "", "", ENFORCEMENT, "", 91, "工作日", ""], "时限数值", "1–90"),
        (["标题", "", "", ENFORCEMENT, "", "三", "工作日", ""], "时限数值", "1–90"),
        (["标题", "", "", "", "", 3, "工作日", ""], "主办单位", "请填写主办单位"),
        (["标题", "", "", "新华街道办事处", "", 3, "工作日", ""], "主办单位", "街道办事处"),
        (["标题", "", "", "区城管执法局长安街道执法队", "", 3, "工作日", ""], "主办单位", "不存在"),
        (["标题", "", "", ENFORCEMENT, "区不存在局", 3, "工作日", ""], "协办单位", "不存在"),
        (["标题", "", "", ENFORCEMENT, "", 3, "工作日", "没有的事项"], "准入事项", "不在本街道"),
        (["标" * 201, "", "", ENFORCEMENT, "", 3, "工作日", ""], "任务标题", "200"),
    ],
)
async def test_bad_rows_are_named(
    world: World, row: list[object], column: str, needle: str
) -> None:
    errors = await _rejected(world, [GOOD[1], row])
    assert len(errors) == 1, errors
    number, col, message = errors[0]
    assert (number, col) == (3, column)
    assert needle in message


async def test_every_bad_row_is_reported(world: World) -> None:
    rows = [
        ["", "", "", "区不存在局", "", 0, "周", ""],
        GOOD[1],
        ["标题", "", "", ENFORCEMENT, "", 3, "分钟", ""],
    ]
    rows[2][5] = 2000  # beyond 1440 minutes
    errors = await _rejected(world, rows)
    assert {(r, c) for r, c, _m in errors} == {
        (2, "任务标题"),
        (2, "主办单位"),
        (2, "时限单位"),
        (4, "时限数值"),
    }


async def test_too_many_rows_and_missing_headers(world: World) -> None:
    row = GOOD[1]
    errors = await _rejected(world, [row] * (MAX_ROWS + 1))
    assert errors[0][0] == 0 and str(MAX_ROWS) in errors[0][2]

    actor = await world.actor("secretary")
    street_id = await world.org_id("新华街道")
    headers = [h for h in TEMPLATE_HEADERS if not h.startswith("时限")]
    with pytest.raises(ImportRejected) as caught:
        async with world.uow(actor) as uow:
            await import_tasks(uow, actor, street_id, headers, [], assign_now=True)
    [error] = caught.value.rows
    assert error.row == 1 and "时限数值、时限单位" in error.message


@pytest.mark.parametrize("username", ["dept", "liaison", "community", "secretary2", "district"])
async def test_only_street_staff_import(world: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        await _import(world, GOOD[:1], username=username)
    assert await world.count(Task) == 0


async def test_supervisor_imports_too(world: World) -> None:
    assert len(await _import(world, GOOD[1:], username="supervisor")) == 2


async def test_an_imported_task_is_what_the_form_makes(world: World) -> None:
    """The import writes in batches rather than through `create_task` one by one: what it
    writes must stay what the form writes (same columns, handlers, timeline, notices)."""
    formed = await _create(world, "secretary", "同一项任务", ENFORCEMENT, [HOUSING, MARKET])
    [imported] = await _import(
        world,
        [
            [
                "同一项任务",
                "同一项任务的具体要求",
                "新华路 12 号",
                ENFORCEMENT,
                f"{HOUSING}、{MARKET}",
                5,
                "工作日",
                "",
            ]
        ],
    )
    by_id = {t.id: t for t in await _tasks(world)}
    a, b = by_id[formed.id], by_id[imported.id]
    moments = ("assigned_at", "deadline", "original_deadline", "accept_due_at")
    # The version counts writes: the form inserts, then updates when it assigns.
    skip = {"id", "created_at", "updated_at", "version", *moments}
    for column in Task.__table__.columns.keys():  # noqa: SIM118
        if column not in skip:
            assert getattr(a, column) == getattr(b, column), column
    # Assigned a moment apart, on the same Beijing day (unless midnight fell in between):
    # the same deadline, the same acceptance window.
    assert a.assigned_at and b.assigned_at and a.accept_due_at and b.accept_due_at
    same_day = local_date(a.assigned_at) == local_date(b.assigned_at)
    assert a.deadline == b.deadline == b.original_deadline or not same_day
    assert a.accept_due_at - a.assigned_at == b.accept_due_at - b.assigned_at
    assert a.updated_at == a.assigned_at and b.updated_at == b.assigned_at

    def handlers(task: Task) -> list[tuple[object, ...]]:
        return sorted((h.unit_id, h.role, h.state, h.open, h.done_at) for h in task.assignees)

    assert handlers(a) == handlers(b)
    async with world.factory() as s:
        events = {
            t: [
                (e.kind, e.action, e.from_state, e.to_state, e.actor_id, e.actor_name)
                for e in await s.scalars(
                    select(TaskEvent).where(TaskEvent.task_id == t).order_by(TaskEvent.id)
                )
            ]
            for t in (a.id, b.id)
        }
        notes = {
            t: sorted(
                (n.user_id, n.kind, n.title)
                for n in await s.scalars(
                    select(Notification).where(Notification.link == f"/tasks/{t}")
                )
            )
            for t in (a.id, b.id)
        }
    assert events[a.id] == events[b.id]
    assert notes[a.id] == notes[b.id] and notes[a.id]
