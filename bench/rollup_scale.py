"""The district roll-up (四级联动) at 10,000 and at 1,000,000 tasks in PostgreSQL, timed
in one run.

The databases are filled like `bench/task_scale.py` (its fill SQL: 20 streets in 和平区,
10,000 tasks a month, the large one with 99 months of history), plus the same modest
amount of the other data in both: three communities per street, activities with settled
dates and attendances, a year of service-time ledger lines, and emerging-sector
organisations for the coverage figures.

The same app serves both databases in this process; `/districts/{id}/overview` (and the
city page above it) is fetched alternately from both. Printed: median milliseconds per
page at each size, the 1M/10k ratio (target ≤ 3.0) and the SQL statements per page.

    .venv/bin/python bench/rollup_scale.py [--large 1000000] [--rounds 15] [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.migrate import upgrade  # noqa: E402
from bench.task_scale import (  # noqa: E402
    ADMIN_DSN,
    MONTHLY,
    STREETS,
    admin,
    client_for,
    counting,
    fill,
    timing,
)
from tests.conftest import make_config  # noqa: E402

# The same in both databases: it does not grow with the task history.
OTHER_SQL = """
INSERT INTO organizations (name, level, parent_id, code, created_at, version)
SELECT o.name || '社区' || c, 'community', o.id, 'BENCH-C-' || o.id || '-' || c, now(), 1
FROM organizations o CROSS JOIN generate_series(1, 3) c WHERE o.code LIKE 'BENCH-%';

-- Activities: 12 per street this year, one settled date each with a few attendances.
INSERT INTO activities (street_id, community_id, kind, title, description, venue, starts_at,
  ends_at, recurrence, capacity, signup_rule, waitlist, service_minutes, state, cancel_reason,
  created_at, updated_at, version)
SELECT s.id, (SELECT min(c.id) FROM organizations c WHERE c.parent_id = s.id
              AND c.level = 'community'),
  'volunteer', '压测活动 ' || a, '', '', at, at + interval '2 hours', '', 0, 'signup_open',
  true, 120, 'activity_announced', '', now(), now(), 1
FROM organizations s CROSS JOIN generate_series(1, 12) a
CROSS JOIN LATERAL (SELECT date_trunc('year', now()) + (a * interval '9 days') AS at) t
WHERE s.level = 'street';
INSERT INTO activity_occurrences (activity_id, street_id, starts_at, ends_at,
  original_starts_at, state, cancel_reason, note, taken, checkin_token, summary, version)
SELECT id, street_id, starts_at, ends_at, starts_at,
  CASE WHEN starts_at < now() THEN 'occ_settled' ELSE 'occ_scheduled' END, '', '', 0,
  md5(random()::text || id), '', 1
FROM activities WHERE title LIKE '压测活动%';
INSERT INTO activity_signups (occurrence_id, user_id, state, note, decline_reason,
  checkin_method, attendance, created_at, version)
SELECT o.id, u.id, 'signup_confirmed', '', '', '',
  CASE WHEN o.state = 'occ_settled' THEN 'attended' ELSE '' END, now(), 1
FROM activity_occurrences o JOIN activities a ON a.id = o.activity_id
CROSS JOIN (SELECT id FROM users ORDER BY id LIMIT 5) u
WHERE a.title LIKE '压测活动%';

-- Service time: 2,000 ledger lines per street over the last year.
INSERT INTO point_entries (user_id, street_id, community_id, source, occurred_on, minutes,
  points, note, posted_at)
SELECT (SELECT min(id) FROM users), s.id,
  (SELECT min(c.id) FROM organizations c WHERE c.parent_id = s.id AND c.level = 'community'),
  'activity', (now() - (g % 365) * interval '1 day')::date, 30 + g % 90, 1, '', now()
FROM organizations s CROSS JOIN generate_series(1, 2000) g WHERE s.level = 'street';

-- Emerging-sector organisations: 200 per street, covered in turn.
INSERT INTO emerging_orgs (street_id, category, name, industry, employees, party_members,
  coverage_mode, party_org_name, instructor_name, instructor_phone, note, source, active,
  created_at, updated_at, version)
SELECT s.id, 'org_enterprise', '压测企业 ' || s.id || '-' || g, '', 20 + g % 50, g % 7,
  (ARRAY['cov_own','cov_joint','cov_delegated','cov_none','cov_none'])[1 + g % 5], '', '', '',
  '', 'manual', true, now(), now(), 1
FROM organizations s CROSS JOIN generate_series(1, 200) g WHERE s.level = 'street';
"""

PAGES = [
    ("区级四级联动 (district)", "district", "/districts/{district}/overview"),
    ("区级 本月 (district)", "district", "/districts/{district}/overview?period=month"),
    ("市级四级联动 (city)", "city", "/cities/{city}/overview"),
]


async def fill_all(url: str, n: int) -> None:
    await fill(url, n)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(OTHER_SQL)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


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
    names = {k: f"gongjian_rollup_{k}_{uuid.uuid4().hex[:6]}" for k in sizes}
    apps = {}
    try:
        for key, n in sizes.items():
            await admin(f'CREATE DATABASE "{names[key]}"')
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{names[key]}"
            await asyncio.to_thread(upgrade, url)
            started = time.perf_counter()
            await fill_all(url, n)
            took = time.perf_counter() - started
            print(f"filled {key}: {n:,} tasks, {STREETS} streets in {took:.1f} s", flush=True)
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

    from domain.models import Organization

    async with apps["small"].state.session_factory() as s:
        district = await s.scalar(select(Organization.id).where(Organization.name == "和平区"))
        city = await s.scalar(select(Organization.id).where(Organization.name == "滨江市"))
    clients = {
        (key, user): await client_for(app, user)
        for key, app in apps.items()
        for user in {p[1] for p in PAGES}
    }
    print(f"(monthly flow {MONTHLY:,} tasks; large = small + history)")
    print(f"\n{'page':<28}{'10k ms':>10}{'1M ms':>10}{'ratio':>8}{'queries':>12}")
    for title, user, pattern in PAGES:
        url = pattern.format(district=district, city=city)
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
                for key in ("small", "large"):
                    with timing(apps[key]) as spent:
                        await clients[(key, user)].get(url)
                    for ms, sql in sorted(spent, reverse=True)[:3]:
                        print(f"    {key:<6}{ms:7.1f} ms  {' '.join(sql.split())[:150]}")
    for c in clients.values():
        await c.aclose()


if __name__ == "__main__":
    _ = ADMIN_DSN
    asyncio.run(main())
