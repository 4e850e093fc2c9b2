"""调度通报 pages: the list of the actor's streets' bulletins, one bulletin (read; edit and
publish for the street secretary while it is a draft) and its print page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.errors import Conflict, DomainError, ValidationFailed
from domain.evaluation import bulletin as svc
from domain.topics import MAX_TOPICS, street_topic
from web.deps import form_dict, require_actor, uow

GET, POST = ["GET"], ["POST"]
DONE = {"save": "已保存修改。", "publish": "通报已发布，街道内各单位和党员已收到通知。"}


def _topics(street_ids: set[int]) -> list[str]:
    # One slot stays for the user's own topic, which the base template adds.
    return [street_topic(s) for s in sorted(street_ids)][: MAX_TOPICS - 1]


async def bulletin_list(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        rows = await svc.list_for(work, actor)
    streets = set(actor.visible_street_ids) if not actor.is_admin else set()
    streets |= {r.bulletin.street_id for r in rows}
    return request.app.state.templates.render(
        request,
        "bulletins/list.html",
        {"rows": rows, "live_topics": _topics(streets)},
    )


async def render_bulletin(
    request: Request,
    bulletin_id: int,
    *,
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await svc.get(work, actor, bulletin_id)
    return request.app.state.templates.render(
        request,
        "bulletins/bulletin.html",
        {
            "page": page,
            "b": page.bulletin,
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": DONE.get(request.query_params.get("done", "")),
            "live_topics": [street_topic(page.bulletin.street_id)],
        },
        status_code=error.status if error else 200,
    )


async def bulletin_page(request: Request) -> Response:
    return await render_bulletin(request, request.path_params["bulletin_id"])


async def _act(request: Request, action: str) -> Response:
    actor = require_actor(request)
    bulletin_id = request.path_params["bulletin_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            if action == "save":
                await svc.save(work, actor, bulletin_id, data)
            else:
                await svc.publish(work, actor, bulletin_id, data.get("version"))
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_bulletin(request, bulletin_id, form=data, error=exc)
    return RedirectResponse(f"/bulletins/{bulletin_id}?done={action}", status_code=303)


async def save_bulletin(request: Request) -> Response:
    return await _act(request, "save")


async def publish_bulletin(request: Request) -> Response:
    return await _act(request, "publish")


async def print_page(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await svc.get(work, actor, request.path_params["bulletin_id"])
    return request.app.state.templates.render(
        request, "bulletins/print.html", {"page": page, "b": page.bulletin}
    )


ROUTES: list[BaseRoute] = [
    Route("/bulletins", bulletin_list, methods=GET),
    Route("/bulletins/{bulletin_id:id}", bulletin_page, methods=GET),
    Route("/bulletins/{bulletin_id:id}/print", print_page, methods=GET),
    Route("/bulletins/{bulletin_id:id}/save", save_bulletin, methods=POST),
    Route("/bulletins/{bulletin_id:id}/publish", publish_bulletin, methods=POST),
]
