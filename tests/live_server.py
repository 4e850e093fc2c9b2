"""A real uvicorn process on a free port, with its own migrated SQLite file and demo data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """`gongjian serve` on a fixed port and SQLite file; can be stopped and started again."""

    def __init__(self, tmp: Path, extra_env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'live.db'}",
            "SECRET_KEY": SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            **(extra_env or {}),
        }
        if "REDIS_URL" not in (extra_env or {}):
            self.env.pop("REDIS_URL", None)
        self.cli = [sys.executable, "-m", "gongjian.cli"]
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        for command in ("migrate", "seed-demo"):
            subprocess.run(
                [*self.cli, command], env=self.env, check=True, cwd=ROOT, capture_output=True
            )

    def start(self) -> None:
        self.log = (self.tmp / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [*self.cli, "serve"], env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        # Generous: on a loaded CI machine importing the app alone can take half a minute.
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + (self.tmp / "server.log").read_text())
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None


@contextmanager
def live_server(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    server = LiveServer(tmp, extra_env)
    server.prepare()
    server.start()
    try:
        yield server.base
    finally:
        server.stop()


def login_page(chromium, base: str, username: str, width: int = 1280):  # type: ignore[no-untyped-def]
    """A new browser context logged in as a demo user; `page.errors` collects console errors."""
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "gongjian-demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.errors = errors
    return page
