"""Meeting room: time from the convener advancing the agenda until all participants have it.

2,000 participants (websocket clients on the session's topic) spread over two
web processes sharing PostgreSQL and Redis; the convener moves to the next item
through process A; we time until every client has the fragment with the new
item. In the same run, the bare Starlette broadcast loop of bench/live_fanout.py
sends a fixed string to the same number of clients; the ratio of p99s is printed.

    .venv/bin/python bench/room_fanout.py [--participants 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live_fanout import (  # noqa: E402
    drain,
    fanout,
    open_clients,
    percentile,
    report,
    start_baseline,
)
from tests.cluster import Cluster, RedisServer, User, postgres_database  # noqa: E402
from tests.meetings import create_meeting_at  # noqa: E402

ITEMS = 12


async def measure(
    web: Cluster, session_id: int, items: list[int], n: int, rounds: int, tmp: Path
) -> None:
    a, b = web.bases()
    convener = User(a, "secretary")
    participant = User(b, "liaison")
    baseline_procs, baseline_ports = start_baseline(tmp)
    try:
        r = await asyncio.to_thread(convener.post, f"/sessions/{session_id}/open", {})
        assert r.status_code == 303, r.text[:300]
        seq = participant.cursor(f"/sessions/{session_id}/room")
        ours = []
        for k, base in enumerate((a, b)):
            url = base.replace("http://", "ws://") + f"/live?topics=session:{session_id}&seq={seq}"
            count = n // 2 + (n % 2 if k == 0 else 0)
            ours += await open_clients([url] * count, {**participant.ws_headers(), "Origin": base})
        theirs = await open_clients(
            [f"ws://127.0.0.1:{baseline_ports[i % 2]}/ws" for i in range(n)], {}
        )
        await asyncio.sleep(2.0)
        await drain(ours)
        results = []
        async with httpx.AsyncClient() as client:

            async def broadcast() -> None:
                await asyncio.gather(
                    *(client.post(f"http://127.0.0.1:{p}/go") for p in baseline_ports)
                )

            for round_no in range(rounds + 1):  # round 0 warms up and is not counted
                target = items[(round_no + 1) % len(items)]

                async def advance(target: int = target) -> None:
                    r = await asyncio.to_thread(
                        convener.post, f"/sessions/{session_id}/advance", {"item_id": str(target)}
                    )
                    assert r.status_code == 303, r.text[:300]

                lat_ours = await fanout(ours, advance, settle=0.5)
                await drain(ours)
                lat_base = await fanout(theirs, broadcast, settle=0.5)
                results.append((lat_ours, lat_base))
        await asyncio.gather(*(ws.close() for ws in ours + theirs), return_exceptions=True)
        counted = results[1:]
        ratios = sorted(percentile(o, 99) / percentile(t, 99) for o, t in counted)
        median = ratios[len(ratios) // 2]
        best = min(counted, key=lambda r: abs(percentile(r[0], 99) / percentile(r[1], 99) - median))
        print(f"{n} participants over two processes ({len(counted)} rounds; the median round):")
        report("advance → all have item", best[0])
        report("bare Starlette loop", best[1])
        print(
            f"  ratio p99 room/baseline: median {median:.2f}"
            f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    finally:
        convener.close()
        participant.close()
        for p in baseline_procs:
            p.terminate()
            p.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gj-room-bench-"))
    with postgres_database() as database_url:
        redis = RedisServer(tmp)
        redis.start()
        web = Cluster(database_url, redis.url, tmp)
        try:
            web.start()
            session_id, items = create_meeting_at(
                database_url,
                [("normal", f"第{i + 1}项议题：共建事项 {i + 1}") for i in range(ITEMS)],
                title="全体党建联席会议（压测）",
                place="街道礼堂",
                secret="bench",
            )
            asyncio.run(measure(web, session_id, items, args.participants, args.rounds, tmp))
        finally:
            web.stop()
            redis.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
