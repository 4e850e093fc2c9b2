"""A member's points ledger, corrections to it, and the quarterly feedback to employer units
(the page listing quarters and the .xlsx download)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.points_xlsx import XLSX, build_feedback_xlsx, feedback_filename
from domain.dual_report import feedback as fb
from domain.dual_report import points
from domain.dual_report.common import beijing_today
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.topics import street_topic, user_topic
from web.deps import form_dict, require_actor, uow

GET, POST = ["GET"], ["POST"]


async def render_ledger(
    request: Request,
    user_id: int,
    *,
    form: dict[str, Any] | None = None,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        led = await points.ledger(work, actor, user_id)
    topics = [user_topic(user_id)]
    if led.street_id:
        topics.append(street_topic(led.street_id))
    return request.app.state.templates.render(
        request,
        "points/ledger.html",
        {
            "led": led,
            "own": user_id == actor.user_id,
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": "积分调整已记入台账。" if request.query_params.get("done") else None,
            "live_topics": topics,
        },
        status_code=error.status if error else 200,
    )


async def my_ledger(request: Request) -> Response:
    return await render_ledger(request, require_actor(request).user_id)


async def user_ledger(request: Request) -> Response:
    return await render_ledger(request, request.path_params["user_id"])


async def adjust(request: Request) -> Response:
    actor = require_actor(request)
    user_id = request.path_params["user_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await points.adjust(work, actor, user_id, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_ledger(request, user_id, form=data, error=exc)
    return RedirectResponse(f"/points/users/{user_id}?done=adjust", status_code=303)


async def feedback_index(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        units = await fb.feedback_units(work, actor)
    if len(units) == 1:
        return RedirectResponse(f"/points/feedback/{units[0].id}", status_code=303)
    return request.app.state.templates.render(
        request, "points/feedback_index.html", {"units": units}
    )


async def feedback_page(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        unit = await fb.unit_for_feedback(work, actor, request.path_params["unit_id"])
        sent = await fb.dispatched(work, unit.id)
    quarters = fb.recent_quarters(beijing_today())
    return request.app.state.templates.render(
        request,
        "points/feedback.html",
        {"unit": unit, "quarters": quarters, "sent": sent, "days": fb.quarter_days},
    )


async def feedback_xlsx(request: Request) -> Response:
    actor = require_actor(request)
    year, quarter = request.path_params["year"], request.path_params["quarter"]
    if not (2000 <= year <= beijing_today().year + 1 and 1 <= quarter <= 4):
        raise NotFound("没有这个季度。")
    async with uow(request, actor) as work:
        unit = await fb.unit_for_feedback(work, actor, request.path_params["unit_id"])
        data = await fb.feedback(work, unit, year, quarter)
    name = quote(feedback_filename(data))
    return Response(
        build_feedback_xlsx(data),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


ROUTES: list[BaseRoute] = [
    Route("/points/me", my_ledger, methods=GET, name="my_points"),
    Route("/points/users/{user_id:id}", user_ledger, methods=GET),
    Route("/points/users/{user_id:id}/adjust", adjust, methods=POST),
    Route("/points/feedback", feedback_index, methods=GET),
    Route("/points/feedback/{unit_id:id}", feedback_page, methods=GET),
    Route(
        "/points/feedback/{unit_id:id}/{year:int}-Q{quarter:int}.xlsx",
        feedback_xlsx,
        methods=GET,
    ),
]
