"""Calendar subscriptions: managing feed URLs, the public feed, and single .ics downloads."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters import ical
from domain.activities import feeds as svc
from domain.activities import feeds_select
from domain.errors import DomainError, ValidationFailed
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
ICAL_TYPE = "text/calendar; charset=utf-8"
FEED_CACHE = "private, max-age=300"
DONE_MESSAGES = {"revoke": "订阅地址已撤销，使用该地址的日历将不再更新。"}


def origin_of(request: Request) -> str:
    configured: str | None = request.app.state.config.public_origin
    return configured or str(request.base_url).rstrip("/")


async def render_page(
    request: Request,
    *,
    issued: svc.IssuedFeed | None = None,
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await svc.feed_page(work, actor)
    new_url = f"{origin_of(request)}/ical/{issued.token}.ics" if issued else ""
    return request.app.state.templates.render(
        request,
        "feeds/list.html",
        {
            "page": page,
            "issued": issued,
            "new_url": new_url,
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error and not getattr(error, "fields", None) else None,
            "flash": DONE_MESSAGES.get(request.query_params.get("done", "")),
        },
        status_code=error.status if error else 200,
        # The page may show a secret URL: never keep it in a cache.
        headers={"Cache-Control": "no-store"},
    )


async def feeds_page(request: Request) -> Response:
    return await render_page(request)


async def feed_create(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    unit_id = int_param(data.get("unit_id")) or None
    try:
        async with uow(request, actor) as work:
            issued = await svc.create_feed(work, actor, unit_id)
            await work.commit()
    except ValidationFailed as exc:
        return await render_page(request, form=data, error=exc)
    return await render_page(request, issued=issued)


async def feed_revoke(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        await svc.revoke_feed(work, actor, request.path_params["feed_id"])
        await work.commit()
    return RedirectResponse("/calendar/feeds?done=revoke", status_code=303)


async def feed_regenerate(request: Request) -> Response:
    actor = require_actor(request)
    try:
        async with uow(request, actor) as work:
            issued = await svc.regenerate_feed(work, actor, request.path_params["feed_id"])
            await work.commit()
    except ValidationFailed as exc:
        return await render_page(request, error=exc)
    return await render_page(request, issued=issued)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


async def public_feed(request: Request) -> Response:
    """The subscription itself: no login, the secret URL is the credential."""
    token = request.path_params["token"]
    async with uow(request) as work:
        feed = await svc.feed_by_token(work, token)
        if feed is None:
            return _not_found()
        content = await feeds_select.feed_content(work, feed)
    body = ical.feed_document(content, origin_of(request))
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    headers = {"ETag": etag, "Cache-Control": FEED_CACHE}
    asked = request.headers.get("if-none-match", "")
    if etag in [tag.strip().removeprefix("W/") for tag in asked.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=ICAL_TYPE, headers=headers)


def _attachment(filename: str, ascii_name: str) -> str:
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def activity_ics(request: Request) -> Response:
    actor = require_actor(request)
    activity_id = request.path_params["activity_id"]
    async with uow(request, actor) as work:
        item = await feeds_select.activity_download(work, actor, activity_id)
    body = ical.series_document(item, origin_of(request))
    name = f"activity-{activity_id}.ics"
    return Response(
        body,
        media_type=ICAL_TYPE,
        headers={"Content-Disposition": _attachment(f"{item.activity.title}.ics", name)},
    )


async def occurrence_ics(request: Request) -> Response:
    actor = require_actor(request)
    occurrence_id = request.path_params["occurrence_id"]
    async with uow(request, actor) as work:
        item = await feeds_select.occurrence_download(work, actor, occurrence_id)
    body = ical.occurrence_document(item.activity, item.occurrence, item.hosts, origin_of(request))
    day = ical.beijing_day(item.occurrence.starts_at)
    return Response(
        body,
        media_type=ICAL_TYPE,
        headers={
            "Content-Disposition": _attachment(
                f"{item.activity.title}-{day}.ics", f"activity-{item.activity.id}-{day}.ics"
            )
        },
    )


ROUTES: list[BaseRoute] = [
    Route("/calendar/feeds", feeds_page, methods=GET, name="calendar_feeds"),
    Route("/calendar/feeds", feed_create, methods=POST),
    Route("/calendar/feeds/{feed_id:id}/revoke", feed_revoke, methods=POST),
    Route("/calendar/feeds/{feed_id:id}/regenerate", feed_regenerate, methods=POST),
    Route("/ical/{token:str}.ics", public_feed, methods=GET),
    Route("/activities/{activity_id:id}.ics", activity_ics, methods=GET),
    Route("/activities/o/{occurrence_id:id}.ics", occurrence_ics, methods=GET),
]
