"""Task pages at 10,000 and at 1,000,000 tasks in PostgreSQL, timed in one run.

Two databases are filled by one generator (SQL `generate_series`, so a million tasks take
seconds, not hours). The model is one city whose monthly flow stays the same while its
history grows: 20 streets with 12 departments, 5 communities and 10 stationed units
each; 10,000 tasks a month; the small database holds the current month, the large one
the current month and 99 months of history behind it. Of the history, 0.2% is still
open (work stuck for months) — the backlog a supervisor must see.

The same app code serves both databases in this process (httpx over ASGI, no network),
and each page is fetched alternately from both, so machine noise hits both alike.
Printed: median milliseconds per page at each size, the ratio (target ≤ 3.0), and the
SQL statements per page (the same at both sizes: no N+1).

    .venv/bin/python bench/task_scale.py [--large 1000000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.migrate import upgrade  # noqa: E402
from gongjian.demo import seed_demo  # noqa: E402
from tests.conftest import make_config  # noqa: E402

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
MONTHLY = 10_000
STREETS = 20

FILL_SQL = """
-- More streets, each with its street office, departments, communities and stationed units.
INSERT INTO organizations (name, level, parent_id, code, created_at, version)
SELECT '压测街道' || s, 'street', (SELECT id FROM organizations WHERE name = '和平区'),
       'BENCH-' || s, now(), 1
FROM generate_series(3, {streets}) s;
INSERT INTO units (name, kind, unit_type, street_id, address, contact_name, contact_phone,
                   party_members, active, retired_reason, created_at, version)
SELECT o.name || '办事处', 'street_office', 'government', o.id, '', '', '', 0, true, '', now(), 1
FROM organizations o WHERE o.code LIKE 'BENCH-%';
INSERT INTO units (name, kind, unit_type, street_id, address, contact_name, contact_phone,
                   party_members, active, retired_reason, created_at, version)
SELECT o.name || k.kind || k.n, k.kind, 'government', o.id, '', '', '', 0, true, '', now(), 1
FROM organizations o
CROSS JOIN (SELECT 'department' AS kind, n FROM generate_series(1, 12) n
            UNION ALL SELECT 'stationed', n FROM generate_series(1, 10) n) k
WHERE o.level = 'street'
  AND NOT (o.name IN ('新华街道', '长安街道') AND k.kind = 'stationed');
-- Numbered departments per street, to spread tasks over them.
CREATE TEMP TABLE bench_depts AS
SELECT street_id, id AS unit_id, row_number() OVER (PARTITION BY street_id ORDER BY id) - 1 AS k
FROM units WHERE kind = 'department';
CREATE TEMP TABLE bench_streets AS
SELECT o.id AS street_id, row_number() OVER (ORDER BY o.id) - 1 AS k,
       (SELECT id FROM units u WHERE u.street_id = o.id AND u.kind = 'street_office' LIMIT 1)
         AS office_id,
       (SELECT count(*) FROM bench_depts d WHERE d.street_id = o.id) AS depts
FROM organizations o WHERE o.level = 'street';

-- Tasks: g = 1..n; the first {monthly} fall in the current month, the rest go back in time.
INSERT INTO tasks (street_id, source, title, description, location, assigner_unit_id,
  outside_admission, state, limit_value, limit_unit, assigned_at, accept_due_at, deadline,
  original_deadline, accepted_at, reported_at, reviewed_at, rated_at, closed_at,
  progress_percent, rating, return_count, rework_count, notice_level, created_at,
  updated_at, version)
SELECT s.street_id,
  (ARRAY['assignment','whistle','hotline','decision','dept_handoff'])[1 + g % 5],
  '压测任务 ' || g, '', '', s.office_id, false,
  CASE WHEN g <= {monthly} THEN
         (ARRAY['assigned','signed_for','in_progress','in_progress','reported','closed_out',
                'closed_out','closed_out','rated','archived'])[1 + (g / 7) % 10]
       WHEN g % 500 = 0 THEN 'in_progress'
       ELSE 'archived' END,
  5, 'working_days', a.at, a.at + interval '24 hours', a.at + interval '7 days',
  a.at + interval '7 days', a.at + interval '5 hours',
  a.at + interval '5 days', a.at + interval '6 days', a.at + interval '6 days',
  a.at + interval '6 days', (g * 7) % 101,
  (ARRAY['satisfied','basically_satisfied','dissatisfied','satisfied'])[1 + g % 4],
  (g % 13 = 0)::int, (g % 17 = 0)::int,
  CASE WHEN g % 9 = 0 THEN 'blue' WHEN g % 23 = 0 THEN 'red' END,
  a.at, a.at + interval '6 days', 1
FROM generate_series(1, {n}) g
JOIN bench_streets s ON s.k = g % {streets}
CROSS JOIN LATERAL (
  SELECT CASE WHEN g <= {monthly}
    THEN date_trunc('month', now()) + (g::float / {monthly}) * (now() - date_trunc('month', now()))
    ELSE date_trunc('month', now()) - ((g - {monthly})::float / {monthly}) * interval '30 days'
  END AS at) a;
UPDATE tasks SET accepted_at = NULL, reported_at = NULL, reviewed_at = NULL, rated_at = NULL,
  closed_at = NULL, rating = NULL WHERE state IN ('assigned');
UPDATE tasks SET reported_at = NULL, reviewed_at = NULL, rated_at = NULL, closed_at = NULL,
  rating = NULL WHERE state IN ('signed_for', 'in_progress');

-- The lead department of each task, and an assisting one for every third.
INSERT INTO task_assignees (task_id, unit_id, role, state, open, accepted_at, reported_at,
  done_at, progress_percent, insisted, return_text, created_at)
SELECT t.id, d.unit_id, 'lead',
  CASE WHEN t.state = 'assigned' THEN 'pending' WHEN t.reported_at IS NULL THEN 'accepted_part'
       ELSE 'reported_part' END,
  t.state IN ('assigned','signed_for','return_requested','in_progress','extension_requested',
              'reported'),
  t.accepted_at, t.reported_at,
  CASE WHEN t.state IN ('reviewed','rated','closed_out','archived') THEN t.reviewed_at END,
  t.progress_percent, false, '', t.created_at
FROM tasks t JOIN bench_streets s ON s.street_id = t.street_id
JOIN bench_depts d ON d.street_id = t.street_id AND d.k = t.id % s.depts;
INSERT INTO task_assignees (task_id, unit_id, role, state, open, accepted_at, done_at,
  progress_percent, insisted, return_text, created_at)
SELECT t.id, d.unit_id, 'assist', 'accepted_part',
  t.state IN ('assigned','signed_for','return_requested','in_progress','extension_requested',
              'reported'),
  t.accepted_at,
  CASE WHEN t.state IN ('reviewed','rated','closed_out','archived') THEN t.reviewed_at END,
  0, false, '', t.created_at
FROM tasks t JOIN bench_streets s ON s.street_id = t.street_id
JOIN bench_depts d ON d.street_id = t.street_id AND d.k = (t.id + 1) % s.depts
WHERE t.id % 3 = 0;
"""


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fill(url: str, n: int) -> None:
    from adapters.db import make_engine, make_session_factory

    engine = make_engine(url)
    await seed_demo(make_session_factory(engine))
    await engine.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(FILL_SQL.format(n=n, monthly=min(MONTHLY, n), streets=STREETS))
        # What autovacuum would have done by the time anyone looks: statistics for the
        # planner, and the visibility map that lets index-only scans skip the heap.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


@contextmanager
def counting(app):  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sync_engine = app.state.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_execute)


@contextmanager
def timing(app):  # type: ignore[no-untyped-def]
    """Milliseconds per statement, to name the one that grows."""
    spent: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    def before(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        spent.append(((time.perf_counter() - started.pop(id(cursor), 0)) * 1000, statement))

    sync_engine = app.state.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        event.remove(sync_engine, "before_cursor_execute", before)
        event.remove(sync_engine, "after_cursor_execute", after)


async def client_for(app, username: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
        base_url="http://testserver",
    )
    await client.get("/login")
    r = await client.post(
        "/login",
        data={
            "csrf_token": client.cookies["gj_csrf"],
            "username": username,
            "password": "gongjian-demo",
        },
    )
    assert r.status_code == 303, r.text[:500]
    return client


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--verbose", action="store_true", help="name the slowest statements")
    args = parser.parse_args()
    from web.app import create_app

    sizes = {"small": args.small, "large": args.large}
    names = {k: f"gongjian_bench_{k}_{uuid.uuid4().hex[:6]}" for k in sizes}
    apps = {}
    try:
        for key, n in sizes.items():
            await admin(f'CREATE DATABASE "{names[key]}"')
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{names[key]}"
            await asyncio.to_thread(upgrade, url)
            started = time.perf_counter()
            await fill(url, n)
            print(f"filled {key}: {n:,} tasks in {time.perf_counter() - started:.1f} s", flush=True)
            apps[key] = create_app(make_config(url), run_jobs=False)
        async with (
            apps["small"].router.lifespan_context(apps["small"]),
            apps["large"].router.lifespan_context(apps["large"]),
        ):
            await measure(apps, args.rounds, args.verbose)
    finally:
        for app in apps.values():
            await app.state.engine.dispose()
        if not args.keep:
            for name in names.values():
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def measure(apps, rounds: int, verbose: bool = False) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from domain.models import Organization, Task, Unit

    async with apps["small"].state.session_factory() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
        district = await s.scalar(select(Organization.id).where(Organization.name == "和平区"))
        # A task of this month in 新华街道 (the same id exists in both databases).
        task = await s.scalar(
            select(Task.id).where(Task.street_id == street).order_by(Task.id.desc()).limit(1)
        )
        dept = await s.scalar(select(Unit.id).where(Unit.name == "区城管执法局新华街道执法队"))
    pages = [
        ("督办看板 (secretary)", "secretary", f"/streets/{street}/supervision"),
        ("任务看板 (department)", "dept", "/tasks"),
        ("待我处理 (street office)", "secretary", "/tasks"),
        ("全街道任务列表", "secretary", f"/streets/{street}/tasks"),
        ("任务详情", "secretary", f"/tasks/{task}"),
        ("区级督办汇总 (district)", "district", f"/districts/{district}/supervision"),
    ]
    del dept
    clients = {
        (key, user): await client_for(app, user)
        for key, app in apps.items()
        for user in {p[1] for p in pages}
    }
    print(f"\n{'page':<28}{'10k ms':>10}{'1M ms':>10}{'ratio':>8}{'queries':>12}")
    for title, user, url in pages:
        times: dict[str, list[float]] = {"small": [], "large": []}
        queries: dict[str, int] = {}
        for key in ("small", "large"):
            r = await clients[(key, user)].get(url)  # warm up
            if r.status_code != 200:
                print(f"{title:<28} HTTP {r.status_code} at {key}: skipped")
                break
            with counting(apps[key]) as statements:
                await clients[(key, user)].get(url)
            queries[key] = len(statements)
        else:
            for _ in range(rounds):
                for key in ("small", "large"):
                    started = time.perf_counter()
                    r = await clients[(key, user)].get(url)
                    times[key].append((time.perf_counter() - started) * 1000)
                    assert r.status_code == 200
            small = statistics.median(times["small"])
            large = statistics.median(times["large"])
            q = f"{queries['small']}/{queries['large']}"
            print(f"{title:<28}{small:>10.1f}{large:>10.1f}{large / small:>8.2f}{q:>12}")
            if verbose:
                with timing(apps["large"]) as spent:
                    await clients[("large", user)].get(url)
                for ms, sql in sorted(spent, reverse=True)[:2]:
                    print(f"    {ms:7.1f} ms  {' '.join(sql.split())[:160]}")
    for c in clients.values():
        await c.aclose()


if __name__ == "__main__":
    asyncio.run(main())
