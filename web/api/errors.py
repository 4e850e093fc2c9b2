"""The API's one error shape, and the guards that make every failure take it.

    {"error": {"code": "validation_failed", "message": "…", "fields": {"title": "…"}}}

`code` is one of `CODES`' values; `message` is Chinese, for a person reading logs;
`fields` names the offending fields or query parameters (empty when none does).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import DomainError, ValidationFailed

log = logging.getLogger("gongjian.api")

API_PREFIX = "/api/v1"

CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
}
MESSAGES: dict[int, str] = {
    400: "请求有误。",
    401: "需要有效的接口令牌。",
    403: "没有权限执行此操作。",
    404: "请求的资源不存在。",
    405: "该地址不支持此请求方法。",
    409: "内容已被修改，请重新获取后再试。",
    413: "请求体过大。",
    415: "请求体须为 JSON（Content-Type: application/json）。",
    422: "请求内容有误，详见 fields。",
    429: "请求过于频繁，请稍后再试。",
    500: "服务器遇到了意外问题，已记录。请稍后重试。",
}
MAX_FIELDS = 50
MAX_KEY = 100


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str | None = None,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or MESSAGES.get(status, MESSAGES[400])
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def _printable(text: str, limit: int) -> str:
    """A client's own key or text, safe to put back into JSON (lone surrogates escaped)."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def error_response(
    status: int,
    message: str | None = None,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    shown = {_printable(k, MAX_KEY): v for k, v in list((fields or {}).items())[:MAX_FIELDS]}
    body = {
        "error": {
            "code": CODES.get(status, CODES[400] if status < 500 else CODES[500]),
            "message": message or MESSAGES.get(status, MESSAGES[400]),
            "fields": shown,
        }
    }
    response = JSONResponse(body, status_code=status, headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    return response


def response_for(exc: Exception) -> JSONResponse:
    """The JSON answer for an exception: expected ones by their status, others 500."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message, exc.fields, exc.headers)
    if isinstance(exc, ValidationFailed):
        # The request was well-formed JSON, but its content cannot be used.
        message = exc.message
        if exc.fields:
            message = "请求内容有误：" + "；".join(
                f"{_printable(k, MAX_KEY)}：{v}" for k, v in list(exc.fields.items())[:5]
            )
        return error_response(422, message, exc.fields)
    if isinstance(exc, DomainError):
        return error_response(exc.status, exc.message)
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, None, None, exc.headers)
    log.exception("unhandled API error", exc_info=exc)
    return error_response(500)


Endpoint = Callable[[Request], Awaitable[Response]]


def api_endpoint(func: Endpoint) -> Endpoint:
    """Every failure of a handler becomes the JSON error shape here, before the app's
    HTML error handlers (which Starlette applies around each route) could see it."""

    @functools.wraps(func)
    async def wrapper(request: Request) -> Response:
        try:
            return await func(request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening any more
        except Exception as exc:
            return response_for(exc)

    return wrapper


class JSONErrors:
    """Around the API's router: routing's own 404 and 405 answer in the same shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_started)
        except Exception as exc:
            if started:
                log.exception("API error after the response started", exc_info=exc)
                return
            await response_for(exc)(scope, receive, send)
