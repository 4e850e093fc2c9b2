"""Baseline for bench/live_fanout.py: a bare Starlette websocket loop.

Clients connect to /ws and wait; POST /go sends one fixed string to every
connected client in a plain loop. No auth, no topics, no database.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CLIENTS: set[WebSocket] = set()
MESSAGE = "x" * 1000


async def ws_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    CLIENTS.add(ws)
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        CLIENTS.discard(ws)


async def go(request: Request) -> PlainTextResponse:
    for ws in list(CLIENTS):
        try:
            await ws.send_text(MESSAGE)
        except Exception:
            CLIENTS.discard(ws)
    return PlainTextResponse(str(len(CLIENTS)))


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        WebSocketRoute("/ws", ws_endpoint),
        Route("/go", go, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)
