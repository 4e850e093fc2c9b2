"""Per-street local rules (本地规则)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.errors import ValidationFailed
from domain.permissions import can_edit_street_settings
from domain.services import street_settings as svc
from domain.topics import street_topic
from web.deps import form_dict, require_actor, uow


async def settings_page(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    async with uow(request, actor) as work:
        street, values = await svc.read_settings(work, actor, street_id)
    return request.app.state.templates.render(
        request,
        "streets/settings.html",
        {
            "street": street,
            "specs": svc.SPECS,
            "form": {k: str(v) for k, v in values.items()},
            "can_edit": can_edit_street_settings(actor, street_id),
            "saved": request.query_params.get("saved"),
            "live_topics": [street_topic(street_id)],
        },
    )


async def settings_submit(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.update_settings(work, actor, street_id, data)
            await work.commit()
    except ValidationFailed as exc:
        async with uow(request, actor) as work:
            street, _values = await svc.read_settings(work, actor, street_id)
        return request.app.state.templates.render(
            request,
            "streets/settings.html",
            {
                "street": street,
                "specs": svc.SPECS,
                "form": data,
                "can_edit": True,
                "errors": exc.fields,
                "message": exc.message,
            },
            status_code=400,
        )
    return RedirectResponse(f"/streets/{street_id}/settings?saved=1", status_code=303)
