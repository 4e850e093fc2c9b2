"""Search on the needs and resources lists with 50,000 entries, PostgreSQL and SQLite.

Each database is migrated, given the demo data, then filled in bulk with 25,000 needs and
25,000 resources of one street (all listed), about 1% of them mentioning 活动室. The
list service (count + one page + filter options) is timed for a Chinese substring and
for two words; printed: the median milliseconds over the rounds.

    .venv/bin/python bench/list_search.py [--rows 50000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.db import make_engine, make_session_factory  # noqa: E402
from adapters.migrate import upgrade  # noqa: E402
from domain.models import Organization, Unit  # noqa: E402
from domain.models.sharing import Need, Resource  # noqa: E402
from domain.sharing import listings as svc  # noqa: E402
from domain.uow import UnitOfWork  # noqa: E402
from gongjian.demo import seed_demo  # noqa: E402
from tests.integration.conftest import load_actor  # noqa: E402

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
WORDS = [
    "社区",
    "老人",
    "讲座",
    "义诊",
    "图书",
    "会议室",
    "健身",
    "法律",
    "咨询",
    "培训",
    "志愿",
    "环境",
    "清洁",
    "文艺",
    "演出",
    "儿童",
    "托管",
]
QUERIES = ("活动室", "活动室 投影仪", "不存在的词")


def _text(rng: random.Random, i: int) -> tuple[str, str]:
    words = rng.sample(WORDS, 4)
    title = f"{words[0]}{words[1]}项目 {i}"
    if i % 100 == 0:
        title = f"党员活动室 {i}"
    return title, " ".join(words) + ("，配投影仪" if i % 200 == 0 else "")


async def fill(url: str, rows: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    await seed_demo(factory)
    rng = random.Random(6)
    async with factory() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
        unit = await s.scalar(select(Unit.id).where(Unit.name == "和平区人民医院"))
        committee = await s.scalar(select(Unit).where(Unit.name == "文化里社区居委会"))
        assert street and unit and committee
        needs, resources = [], []
        for i in range(rows // 2):
            title, desc = _text(rng, i)
            needs.append(
                {
                    "street_id": street,
                    "community_id": committee.community_id,
                    "poster_unit_id": committee.id,
                    "category": "为老服务",
                    "title": title,
                    "description": desc,
                    "search_text": f"{title} {desc} 为老服务".lower(),
                    "state": "listed",
                }
            )
            resources.append(
                {
                    "street_id": street,
                    "unit_id": unit,
                    "kind": "venue",
                    "category": "活动场地",
                    "title": title,
                    "description": desc,
                    "capacity": 50,
                    "address": "和平路",
                    "search_text": f"{title} {desc} 活动场地".lower(),
                    "state": "listed",
                }
            )
        for chunk in range(0, len(needs), 5000):
            await s.execute(insert(Need), needs[chunk : chunk + 5000])
            await s.execute(insert(Resource), resources[chunk : chunk + 5000])
        await s.commit()
    await engine.dispose()


async def measure(url: str, rounds: int) -> dict[str, tuple[float, int]]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    actor = await load_actor(factory, "community")
    async with factory() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
    assert street is not None
    out: dict[str, tuple[float, int]] = {}
    for q in QUERIES:
        times: list[float] = []
        total = 0
        for _ in range(rounds):
            for which in ("need", "resource"):
                start = time.perf_counter()
                async with UnitOfWork(factory, actor) as uow:
                    page = await svc.list_items(uow, actor, street, which, svc.ListFilters(q=q))
                times.append((time.perf_counter() - start) * 1000)
                total = page.total
        out[q] = (statistics.median(times), total)
    await engine.dispose()
    return out


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    name = f"gongjian_bench_lists_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            urls = {
                "PostgreSQL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
                "SQLite": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            }
            for label, url in urls.items():
                upgrade(url)
                start = time.perf_counter()
                asyncio.run(fill(url, args.rows))
                print(f"{label}: filled {args.rows} entries in {time.perf_counter() - start:.1f}s")
                for q, (ms, total) in asyncio.run(measure(url, args.rounds)).items():
                    print(f"  search {q!r}: median {ms:.1f} ms per list page ({total} hits)")
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
