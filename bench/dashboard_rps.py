"""Requests per second of the logged-in dashboard against a bare Starlette "hello" app.

Both are served by uvicorn (one process each, same options) and loaded by the
same client in one run; the figure that matters is the ratio, since absolute
numbers on a shared 2-core machine are noise. Target: ratio >= 0.10.

    .venv/bin/python bench/dashboard_rps.py [--seconds 8] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadResult, load  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "uvicorn", app,
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app} did not start: {log.read_text()}")


def login(port: int) -> str:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.get("/login")
        token = client.cookies["gj_csrf"]
        r = client.post(
            "/login",
            data={"csrf_token": token, "username": "secretary", "password": "gongjian-demo"},
        )
        assert r.status_code == 303, r.text
        page = client.get("/")
        assert "新华街道概况" in page.text, "dashboard did not render for the logged-in user"
        return f"gj_session={client.cookies['gj_session']}; gj_csrf={client.cookies['gj_csrf']}"


def report(name: str, r: LoadResult) -> None:
    print(
        f"{name:<28} {r.rps:9.0f} req/s  p50 {r.percentile(50) * 1000:6.1f} ms  "
        f"p99 {r.percentile(99) * 1000:6.1f} ms  errors {r.errors}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gj-bench-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "SECRET_KEY": SECRET}
    env.pop("REDIS_URL", None)
    cli = [sys.executable, "-m", "gongjian.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo"], env=env, cwd=ROOT, check=True, capture_output=True)

    app_port, hello_port = free_port(), free_port()
    procs = [
        start("web.asgi:app", app_port, env, tmp / "app.log"),
        start("bench.hello_app:app", hello_port, env, tmp / "hello.log"),
    ]
    try:
        cookie = login(app_port)
        # Warm both (imports, template compilation, connection pools) before measuring.
        asyncio.run(load("127.0.0.1", app_port, "/", 1.0, 4, cookie))
        asyncio.run(load("127.0.0.1", hello_port, "/", 1.0, 4))
        dash = asyncio.run(load("127.0.0.1", app_port, "/", args.seconds, args.connections, cookie))
        hello = asyncio.run(load("127.0.0.1", hello_port, "/", args.seconds, args.connections))
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
    print(
        f"{args.connections} connections, {args.seconds:.0f} s each,"
        " SQLite, one uvicorn process each"
    )
    report("dashboard (secretary)", dash)
    report("bare Starlette hello", hello)
    ratio = dash.rps / hello.rps
    print(
        f"ratio dashboard/hello: {ratio:.3f}"
        f"  (target >= 0.10: {'met' if ratio >= 0.10 else 'NOT met'})"
    )
    return 0 if dash.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
