"""Several real web processes on PostgreSQL and a private Redis, for cross-process live tests.

The Redis here is our own `redis-server` on a free port, so a test can stop and
restart it without disturbing anything else on the machine.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import websockets

from tests.conftest import SECRET, _pg_admin
from tests.live_server import ROOT, free_port
from tests.services import PG_ADMIN_URL


class RedisServer:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        import socket

        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"gongjian_cluster_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Cluster:
    def __init__(self, database_url: str, redis_url: str, tmp: Path, processes: int = 2) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": SECRET,
        }
        self.tmp = tmp
        self.count = processes
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[object] = []

    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def start(self) -> None:
        cli = [sys.executable, "-m", "gongjian.cli"]
        subprocess.run([*cli, "migrate"], env=self.env, check=True, cwd=ROOT, capture_output=True)
        subprocess.run([*cli, "seed-demo"], env=self.env, check=True, cwd=ROOT, capture_output=True)
        for i in range(self.count):
            port = free_port()
            log = (self.tmp / f"web{i}.log").open("wb")
            self.logs.append(log)
            env = {**self.env, "PORT": str(port)}
            self.procs.append(
                subprocess.Popen([*cli, "serve"], env=env, cwd=ROOT, stdout=log, stderr=log)
            )
            self.ports.append(port)
        for i, base in enumerate(self.bases()):
            deadline = time.monotonic() + 90  # a loaded CI machine starts slowly
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or self.procs[i].poll() is not None:
                    raise RuntimeError((self.tmp / f"web{i}.log").read_text())
                time.sleep(0.1)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in self.logs:
            log.close()  # type: ignore[attr-defined]


class User:
    """A logged-in user talking to one web process over HTTP."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.client = httpx.Client(base_url=base, timeout=10)
        self.client.get("/login")
        r = self.client.post(
            "/login",
            data={
                "csrf_token": self.client.cookies["gj_csrf"],
                "username": username,
                "password": "gongjian-demo",
            },
        )
        assert r.status_code == 303, r.text

    def close(self) -> None:
        self.client.close()

    def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        return self.client.post(url, data={"csrf_token": self.client.cookies["gj_csrf"], **data})

    def cursor(self, path: str) -> int:
        page = self.client.get(path).text
        m = re.search(r'id="live" hx-ext="ws" data-seq="(\d+)"', page)
        assert m, "page has no live cursor"
        return int(m.group(1))

    def edit_unit(self, unit_id: int, address: str) -> None:
        r = self.post(f"/units/{unit_id}", self.unit_form(unit_id, address))
        assert r.status_code == 303, r.text[:2000]

    def unit_form(self, unit_id: int, address: str) -> dict[str, str]:
        """The edit form of a unit as the browser would submit it, with a new address."""
        form = self.client.get(f"/units/{unit_id}/edit").text
        fields = dict(
            re.findall(r'<input id="f-(\w+)" name="\w+" type="[^"]*" value="([^"]*)"', form)
        )
        version = re.search(r'name="version" value="(\d+)"', form)
        kind = re.search(r'<select id="f-kind".*?<option value="(\w+)" selected', form, re.S)
        utype = re.search(r'<select id="f-unit_type".*?<option value="(\w+)" selected', form, re.S)
        street = re.search(r'<select id="f-street_id".*?<option value="(\d+)" selected', form, re.S)
        community = re.search(
            r'<select id="f-community_id".*?<option value="(\d+)" selected', form, re.S
        )
        assert version and kind and utype and street
        data = {
            **fields,
            "address": address,
            "version": version.group(1),
            "kind": kind.group(1),
            "unit_type": utype.group(1),
            "street_id": street.group(1),
            "community_id": community.group(1) if community else "",
        }
        return data

    def ws_url(self, topics: str, seq: int) -> str:
        return self.base.replace("http://", "ws://") + f"/live?topics={topics}&seq={seq}"

    def ws_headers(self) -> dict[str, str]:
        cookies = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())
        return {"Cookie": cookies, "Origin": self.base}

    async def connect(self, topics: str, seq: int) -> websockets.ClientConnection:
        return await websockets.connect(
            self.ws_url(topics, seq), additional_headers=self.ws_headers(), max_size=None
        )


SEQ_RE = re.compile(r'id="live-cursor"[^>]*data-seq="(\d+)"')


def seq_of(message: str) -> int:
    m = SEQ_RE.search(message)
    assert m, message
    return int(m.group(1))
