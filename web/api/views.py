"""The JSON API's handlers: bearer token, parse, call the domain, answer JSON."""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.errors import ValidationFailed
from domain.models import ApiToken
from domain.services.api_tokens import authenticate_token
from domain.tasks import external
from domain.tasks import external_read as feed
from domain.tasks.external_read import task_to_json, tasks_to_json
from domain.uow import UnitOfWork
from web.api.errors import API_PREFIX, ApiError, api_endpoint
from web.api.openapi import DEFAULT_PAGE, DOCUMENT_JSON
from web.deps import client_ip

MAX_BODY = 256 * 1024
MAX_SECRET = 200
LIST_PARAMS = ("updated_since", "cursor", "limit")
CHALLENGE = 'Bearer realm="gongjian"'
# "…T08:00:00 08:00": a `+` sent unencoded in a URL arrives as a space.
_SPACED_OFFSET = re.compile(r".*:\d{2}(\.\d+)? \d{2}(:?\d{2})?")


def api_uow(request: Request) -> UnitOfWork:
    """No actor: a token is a machine client, and audit entries say "system"."""
    state = request.app.state
    return UnitOfWork(state.session_factory, None, ip=client_ip(request), on_events=state.live.wake)


async def authenticate(request: Request) -> ApiToken:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if not header.strip():
        raise ApiError(
            401,
            "缺少接口令牌：请在请求头中提供 Authorization: Bearer <令牌>。",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    token = None
    if scheme.lower() == "bearer" and secret and len(secret) <= MAX_SECRET:
        async with api_uow(request) as uow:
            token = await authenticate_token(uow, secret)
            if token is not None:
                await uow.commit()  # last_used_at
    if token is None:
        raise ApiError(
            401,
            "接口令牌无效或已被吊销。",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    return token


def _reject_constant(name: str) -> object:
    raise ValueError(name)  # NaN, Infinity: not JSON


async def read_json_object(request: Request) -> dict[str, object]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise ApiError(415)
    length = request.headers.get("content-length")
    if length is not None and not (length.isascii() and length.isdigit()):
        raise ApiError(400, "Content-Length 无效。")
    if length is not None and int(length) > MAX_BODY:
        raise ApiError(413, f"请求体不能超过 {MAX_BODY // 1024} KB。")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, f"请求体不能超过 {MAX_BODY // 1024} KB。")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ApiError(400, "请求体须为 UTF-8 编码的 JSON。") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"请求体不是合法的 JSON（第 {exc.lineno} 行第 {exc.colno} 列附近）。"
        ) from None
    except (ValueError, RecursionError):
        raise ApiError(
            400, "请求体不是合法的 JSON：含 NaN/Infinity、过大的数字或过深的嵌套。"
        ) from None
    if not isinstance(data, dict):
        raise ApiError(422, "请求体须为 JSON 对象（{…}）。")
    return data


@api_endpoint
async def create_task(request: Request) -> JSONResponse:
    token = await authenticate(request)
    payload = await read_json_object(request)
    async with api_uow(request) as uow:
        task, created = await external.create_from_work_order(uow, token, payload)
        body = await task_to_json(uow, task)
        await uow.commit()
    return JSONResponse(
        body,
        status_code=201 if created else 200,
        headers={"Location": f"{API_PREFIX}/tasks/{task.id}", "Cache-Control": "no-store"},
    )


async def tasks(request: Request) -> Response:
    return await (create_task if request.method == "POST" else list_tasks)(request)


@api_endpoint
async def get_task(request: Request) -> JSONResponse:
    await authenticate(request)
    async with api_uow(request) as uow:
        task = await feed.get_task(uow, request.path_params["task_id"])
        body = await task_to_json(uow, task, timeline=True)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@api_endpoint
async def list_tasks(request: Request) -> JSONResponse:
    await authenticate(request)
    params = request.query_params
    errors: dict[str, str] = {}
    for key in params:
        if key not in LIST_PARAMS:
            errors[key] = "不支持的查询参数（可用：updated_since、cursor、limit）。"
        elif len(params.getlist(key)) > 1:
            errors[key] = "该参数只能出现一次。"
    limit = DEFAULT_PAGE
    raw_limit = params.get("limit")
    if raw_limit is not None:
        ok = raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 3
        limit = int(raw_limit) if ok else 0
        if not 1 <= limit <= feed.PAGE_MAX:
            errors["limit"] = f"limit 须为 1–{feed.PAGE_MAX} 的整数。"
    since = None
    raw_since = params.get("updated_since")
    if raw_since is not None:
        if _SPACED_OFFSET.fullmatch(raw_since):
            cut = raw_since.rindex(" ")
            raw_since = raw_since[:cut] + "+" + raw_since[cut + 1 :]
        since = external.parse_timestamp(raw_since)
        if since is None:
            errors["updated_since"] = (
                "updated_since 须为 ISO 8601 时间，如 2026-11-29T08:00:00%2B08:00"
                "（网址中的 + 写作 %2B；不带时区按北京时间）。"
            )
    after = None
    raw_cursor = params.get("cursor")
    if raw_cursor is not None:
        try:
            after = feed.decode_cursor(raw_cursor)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ApiError(400, "查询参数有误，详见 fields。", errors)
    async with api_uow(request) as uow:
        page = await feed.list_tasks_since(uow, since, after, limit)
        items = await tasks_to_json(uow, page.tasks)
    return JSONResponse(
        {
            "items": items,
            "next_cursor": feed.encode_cursor(page.next) if page.next else None,
        },
        headers={"Cache-Control": "no-store"},
    )


@api_endpoint
async def openapi(request: Request) -> Response:
    return Response(DOCUMENT_JSON, media_type="application/json")
