"""The notification list (通知) and marking as read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.services import notifications as svc
from web.deps import int_param, require_actor, uow

PAGE = 30


async def notification_list(request: Request) -> Response:
    actor = require_actor(request)
    page = max(1, int_param(request.query_params.get("page"), 1))
    async with uow(request, actor) as work:
        items, total = await svc.list_notifications(work, actor, PAGE, (page - 1) * PAGE)
    return request.app.state.templates.render(
        request,
        "notifications.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE)),
            "base": "/notifications?",
        },
    )


async def notification_open(request: Request) -> Response:
    """Mark one as read and go where it points."""
    actor = require_actor(request)
    async with uow(request, actor) as work:
        note = await svc.mark_read(work, actor, request.path_params["notification_id"])
        await work.commit()
    link = note.link if note.link.startswith("/") and not note.link.startswith("//") else ""
    return RedirectResponse(link or "/notifications", status_code=303)


async def notification_read_all(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        await svc.mark_all_read(work, actor)
        await work.commit()
    return RedirectResponse("/notifications", status_code=303)
