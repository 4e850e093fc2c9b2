"""Live fan-out: time from one change until every subscribed client has its fragment.

N websocket clients subscribe to one topic (`unit:1`), spread over two web
processes that share PostgreSQL and Redis. One change is made through process
A; we time until every client has the rendered fragment. In the same run, the
same client measures a bare Starlette websocket loop (bench/ws_baseline.py, two
uvicorn processes) sending a fixed string to the same number of clients. The
ratio of the two p99s is the figure (target <= 2.0 at N = 1000).

Then: server memory per idle connection with 5000 idle live connections on one
process (target <= 100 KB), from the process's resident set size.

    .venv/bin/python bench/live_fanout.py [--sizes 1000,2000] [--idle 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster import Cluster, RedisServer, User, postgres_database  # noqa: E402
from tests.live_server import free_port  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(p / 100 * len(data)))]


async def open_clients(urls: list[str], headers: dict[str, str], batch: int = 200) -> list:  # type: ignore[type-arg]
    clients = []
    for i in range(0, len(urls), batch):
        chunk = urls[i : i + batch]
        clients += await asyncio.gather(
            *(
                websockets.connect(u, additional_headers=headers, max_size=None, open_timeout=60)
                for u in chunk
            )
        )
    return clients


async def fanout(clients: list, trigger, settle: float = 1.0) -> list[float]:  # type: ignore[no-untyped-def,type-arg]
    """Fire `trigger` and return each client's latency (seconds) to its first message."""
    await asyncio.sleep(settle)
    arrived: list[float] = [0.0] * len(clients)

    async def wait(i: int, ws) -> None:  # type: ignore[no-untyped-def]
        await ws.recv()
        arrived[i] = time.perf_counter()

    waiters = [asyncio.create_task(wait(i, ws)) for i, ws in enumerate(clients)]
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    await trigger()
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=60)
    return [t - started for t in arrived]


async def drain(clients: list) -> None:  # type: ignore[type-arg]
    """Swallow anything already queued (presence, replays) before measuring."""
    for ws in clients:
        while True:
            try:
                await asyncio.wait_for(ws.recv(), 0.001)
            except (TimeoutError, Exception):
                break


async def close_all(clients: list) -> None:  # type: ignore[type-arg]
    await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)


def report(label: str, lat: list[float]) -> tuple[float, float]:
    p50, p99 = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
    print(f"  {label:<26} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms   all {max(lat) * 1000:8.1f} ms")
    return p50, p99


def start_baseline(tmp: Path) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    procs, ports = [], []
    for i in range(2):
        port = free_port()
        log = (tmp / f"baseline{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.ws_baseline:app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--ws",
                    "websockets-sansio",
                ],
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        )
        ports.append(port)
    for port in ports:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
    return procs, ports


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    m = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert m
    return int(m.group(1))


async def measure_sizes(web: Cluster, sizes: list[int], rounds: int, tmp: Path) -> None:
    a, b = web.bases()
    admin = User(a, "admin")
    viewer = User(b, "secretary")
    headers = viewer.ws_headers()
    baseline_procs, baseline_ports = start_baseline(tmp)
    counter = 0

    async def change() -> float:
        """Make one real change through process A; return how long its POST took."""
        nonlocal counter
        counter += 1
        form = await asyncio.to_thread(admin.unit_form, 1, f"压测地址 {counter}")
        t = time.perf_counter()
        r = await asyncio.to_thread(admin.post, "/units/1", form)
        assert r.status_code == 303, r.text[:500]
        return time.perf_counter() - t

    try:
        for n in sizes:
            seq = viewer.cursor("/units/1")
            ours = []
            for k, base in enumerate((a, b)):
                url = base.replace("http://", "ws://") + f"/live?topics=unit:1&seq={seq}"
                count = n // 2 + (n % 2 if k == 0 else 0)
                ours += await open_clients([url] * count, {**headers, "Origin": base})
            theirs = await open_clients(
                [f"ws://127.0.0.1:{baseline_ports[i % 2]}/ws" for i in range(n)], {}
            )
            await asyncio.sleep(2.0)
            await drain(ours)
            results: list[tuple[list[float], list[float], float]] = []
            async with httpx.AsyncClient() as client:

                async def broadcast() -> None:
                    await asyncio.gather(
                        *(client.post(f"http://127.0.0.1:{p}/go") for p in baseline_ports)
                    )

                # Round 0 warms both sides (templates, pools, code paths) and is not counted.
                for _round in range(rounds + 1):
                    posts: list[float] = []

                    async def trigger(posts: list[float] = posts) -> None:
                        posts.append(await change())

                    lat_ours = await fanout(ours, trigger, settle=0.5)
                    lat_base = await fanout(theirs, broadcast, settle=0.5)
                    results.append((lat_ours, lat_base, posts[0]))
            await close_all(ours)
            await close_all(theirs)
            counted = results[1:]
            ratios = sorted(percentile(o, 99) / percentile(t, 99) for o, t, _ in counted)
            median = ratios[len(ratios) // 2]
            best = min(
                counted, key=lambda r: abs(percentile(r[0], 99) / percentile(r[1], 99) - median)
            )
            print(f"N = {n} clients over two processes ({len(counted)} rounds; the median round):")
            report("Gongjian live (change→all)", best[0])
            print(
                f"    of which the POST making the change took {best[2] * 1000:.1f} ms;"
                f" first client after {min(best[0]) * 1000:.1f} ms"
            )
            report("bare Starlette loop", best[1])
            print(
                f"  ratio p99 Gongjian/baseline: median {median:.2f}"
                f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)})  target <= 2.0 at N = 1000"
            )
    finally:
        admin.close()
        viewer.close()
        for p in baseline_procs:
            p.terminate()
            p.wait(timeout=10)


async def measure_idle(web: Cluster, count: int) -> None:
    a, _b = web.bases()
    viewer = User(a, "secretary")
    pid = web.procs[0].pid
    seq = viewer.cursor("/units/1")
    # Warm the process (first connections import and allocate) before the baseline reading.
    warm = await open_clients(
        [a.replace("http://", "ws://") + f"/live?topics=unit:1&seq={seq}"] * 20, viewer.ws_headers()
    )
    await close_all(warm)
    await asyncio.sleep(1.0)
    before = rss_kb(pid)
    url = a.replace("http://", "ws://") + f"/live?topics=unit:1&seq={seq}"
    idle = await open_clients([url] * count, viewer.ws_headers())
    await asyncio.sleep(3.0)
    after = rss_kb(pid)
    per = (after - before) / count
    print(f"idle connections on one process: {count}")
    print(
        f"  RSS before {before / 1024:.1f} MB, after {after / 1024:.1f} MB:"
        f" {per:.1f} KB per connection  (target <= 100 KB)"
    )
    await close_all(idle)
    viewer.close()


async def measure(web: Cluster, args: argparse.Namespace, tmp: Path) -> None:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    await measure_sizes(web, sizes, args.rounds, tmp)
    if args.idle:
        await measure_idle(web, args.idle)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,2000")
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    tmp = Path(tempfile.mkdtemp(prefix="gj-live-bench-"))
    with postgres_database() as database_url:
        redis = RedisServer(tmp)
        redis.start()
        web = Cluster(database_url, redis.url, tmp)
        try:
            web.start()
            asyncio.run(measure(web, args, tmp))
        finally:
            web.stop()
            redis.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
