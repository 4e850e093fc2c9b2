"""The community admission catalogue (社区事务准入目录): list, apply, review, withdraw.

Permissions are the service's business; the pages only show the forms a user may use.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.enums import AdmissionState
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.permissions import Actor, require
from domain.tasks import admission as svc
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow
from web.htmx import htmx
from web.templating import Templates

GET, POST = ["GET"], ["POST"]
STATES = {s.value for s in AdmissionState}
DONE = {
    "applied": "已提交准入申请。",
    "entered": "已录入准入目录。",
    "admitted": "已准入。",
    "denied": "已作出不予准入的决定。",
    "withdrawn": "已撤回。",
}


async def admission_home(request: Request) -> Response:
    """The nav's entry: straight to the user's (first) street."""
    actor = require_actor(request)
    async with uow(request, actor) as work:
        streets = await svc.reachable_streets(work, actor)
    if not streets:
        raise NotFound("您没有可查看的街道准入目录。")
    return RedirectResponse(f"/streets/{streets[0].id}/admission", status_code=303)


async def item_list(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    state = request.query_params.get("state", "")
    state = state if state in STATES else ""
    q = request.query_params.get("q", "")[:50]
    async with uow(request, actor) as work:
        street = await svc.get_street(work, actor, street_id)
        items = await svc.list_items(work, actor, street_id, state or None, q)
        counts = await svc.state_counts(work, street_id)
        streets = await svc.reachable_streets(work, actor)
    context = {
        "street": street,
        "streets": streets,
        "items": items,
        "counts": counts,
        "state": state,
        "q": q,
        "states": list(AdmissionState),
        "can_apply": svc.can_apply(actor, street_id),
        "can_enter": svc.can_enter(actor, street_id),
        "live_topics": [street_topic(street_id)],
    }
    templates: Templates = request.app.state.templates
    # The filter form and live refreshes swap only the table; a full load renders the page.
    name = "admission/_table.html" if htmx(request).wants_fragment else "admission/list.html"
    return templates.render(request, name, context)


async def _form_page(
    request: Request,
    actor: Actor,
    street_id: int,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    async with uow(request, actor) as work:
        street = await svc.get_street(work, actor, street_id)
        choices = await svc.applicant_choices(work, actor, street_id)
    templates: Templates = request.app.state.templates
    return templates.render(
        request,
        "admission/form.html",
        {
            "street": street,
            "choices": choices,
            "categories": svc.CATEGORIES,
            "street_entry": svc.can_enter(actor, street_id),
            "may_review": svc.can_review(actor, street_id),
            "form": form,
            "errors": errors or {},
            "message": message,
        },
        status_code=status,
    )


async def item_new(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    async with uow(request, actor) as work:
        await svc.get_street(work, actor, street_id)
    # The answer the service would give on submit, before anyone fills the form in.
    require(svc.can_apply(actor, street_id), svc.APPLY_REFUSED)
    return await _form_page(request, actor, street_id, {})


async def item_create(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            item = await svc.apply_item(work, actor, street_id, data)
            await work.commit()
    except ValidationFailed as exc:
        return await _form_page(request, actor, street_id, data, exc.fields, exc.message, 400)
    done = "applied" if item.state == AdmissionState.APPLIED else "entered"
    return RedirectResponse(f"/admission/{item.id}?done={done}", status_code=303)


async def _detail(
    request: Request,
    actor: Actor,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    async with uow(request, actor) as work:
        view = await svc.item_view(work, actor, request.path_params["item_id"])
    item = view.item
    done = request.query_params.get("done", "")
    may_review = item.state == AdmissionState.APPLIED and svc.can_review(actor, item.street_id)
    # The street answers a department's application by reviewing it; the withdraw form is for
    # the applicant, and for the street's own entries or admitted matters.
    offers_withdraw = svc.can_withdraw(actor, item) and (
        not may_review or item.applicant_unit_id is None
    )
    # A live refresh swaps only the item's region; a full load renders the page.
    name = "admission/_item.html" if htmx(request).wants_fragment else "admission/detail.html"
    templates: Templates = request.app.state.templates
    return templates.render(
        request,
        name,
        {
            "view": view,
            "item": item,
            "may_review": may_review,
            "may_withdraw": offers_withdraw,
            "done": DONE.get(done, "") if status == 200 else "",
            "form": form or {},
            "errors": errors or {},
            "message": message,
            "live_topics": [street_topic(item.street_id)],
        },
        status_code=status,
    )


async def item_detail(request: Request) -> Response:
    return await _detail(request, require_actor(request))


async def item_review(request: Request) -> Response:
    actor = require_actor(request)
    item_id = request.path_params["item_id"]
    data = await form_dict(request)
    decision = data.get("decision", "")
    try:
        async with uow(request, actor) as work:
            item = await svc.review_item(
                work,
                actor,
                item_id,
                int_param(data.get("version")),
                decision,
                data.get("review_note", ""),
            )
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await _refused(request, actor, data, exc)
    return RedirectResponse(f"/admission/{item_id}?done={item.state}", status_code=303)


async def item_withdraw(request: Request) -> Response:
    actor = require_actor(request)
    item_id = request.path_params["item_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.withdraw_item(
                work, actor, item_id, int_param(data.get("version")), data.get("withdraw_note", "")
            )
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await _refused(request, actor, data, exc)
    return RedirectResponse(f"/admission/{item_id}?done=withdrawn", status_code=303)


async def _refused(
    request: Request, actor: Actor, data: dict[str, str], exc: ValidationFailed | Conflict
) -> Response:
    """The detail page again, with what was typed. After a conflict the page shows the latest
    state, so its forms carry the latest version (the typed note is kept)."""
    if isinstance(exc, Conflict):
        data = {k: v for k, v in data.items() if k != "version"}
        return await _detail(request, actor, data, {}, exc.message, exc.status)
    return await _detail(request, actor, data, exc.fields, exc.message, exc.status)


ROUTES: list[BaseRoute] = [
    Route("/admission", admission_home, methods=GET, name="admission"),
    Route("/streets/{street_id:id}/admission", item_list, methods=GET),
    Route("/streets/{street_id:id}/admission/new", item_new, methods=GET),
    Route("/streets/{street_id:id}/admission", item_create, methods=POST),
    Route("/admission/{item_id:id}", item_detail, methods=GET),
    Route("/admission/{item_id:id}/review", item_review, methods=POST),
    Route("/admission/{item_id:id}/withdraw", item_withdraw, methods=POST),
]
