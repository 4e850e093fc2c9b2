"""A small HTTP/1.1 keep-alive load generator on raw asyncio streams.

Kept minimal so that the client costs the same per request whatever the server
does; both targets in one run are loaded by this same code.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(p / 100 * len(data)))] if data else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value.strip())
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def _worker(host: str, port: int, request: bytes, until: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            result.latencies.append(time.perf_counter() - t0)
            if status == 200:
                result.requests += 1
            else:
                result.errors += 1
    finally:
        writer.close()


async def load(
    host: str, port: int, path: str, seconds: float, connections: int, cookie: str = ""
) -> LoadResult:
    headers = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    if cookie:
        headers.append(f"Cookie: {cookie}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode()
    result = LoadResult(0, 0, seconds, [])
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(_worker(host, port, request, until, result) for _ in range(connections)))
    result.seconds = time.perf_counter() - start
    return result
