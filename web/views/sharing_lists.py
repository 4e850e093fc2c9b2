"""The needs and resources lists (三张清单): list pages, posting forms, detail pages with
vetting and withdrawal, and the workbook printed for conference meetings."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.lists_xlsx import XLSX, build_lists_xlsx
from domain.enums import ListingState, ResourceKind
from domain.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from domain.parsing import parse_id
from domain.sharing import claims, matching, projects
from domain.sharing import listings as svc
from domain.sharing.categories import NEED_CATEGORIES, RESOURCE_CATEGORIES
from domain.sharing.claims import beijing_year
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
DONE = {
    "posted": "已提交，等待街道审核。",
    "listed": "已审核通过并上架。",
    "rejected": "已退回，发布单位会看到不通过的原因。",
    "withdrawn": "已下架。",
    "edited": "已修改并重新提交审核。",
}


def _which(request: Request) -> svc.Which:
    return "need" if "/needs" in request.url.path else "resource"


def _categories(which: svc.Which) -> tuple[str, ...]:
    return NEED_CATEGORIES if which == "need" else RESOURCE_CATEGORIES


async def sharing_home(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        street_id = await svc.home_street(work, actor)
    if street_id is None:
        raise NotFound("您没有可查看的街道清单。")
    return RedirectResponse(f"/streets/{street_id}/needs", status_code=303)


async def list_page(request: Request) -> Response:
    actor = require_actor(request)
    which = _which(request)
    street_id: int = request.path_params["street_id"]
    q = request.query_params
    filters = svc.ListFilters(
        q=q.get("q", "").strip()[:50],
        state=q.get("state", "") if q.get("state", "") in set(ListingState) else "",
        category=q.get("category", "") if q.get("category", "") in _categories(which) else "",
        kind=q.get("kind", "") if q.get("kind", "") in set(ResourceKind) else "",
        unit_id=parse_id(q.get("unit", "")),
        community_id=parse_id(q.get("community", "")),
        tag=q.get("tag", "").strip()[:20],
        page=int_param(q.get("page"), 1),
    )
    async with uow(request, actor) as work:
        listing = await svc.list_items(work, actor, street_id, which, filters)
    params = {
        "q": filters.q,
        "state": filters.state,
        "category": filters.category,
        "kind": filters.kind,
        "unit": filters.unit_id or "",
        "community": filters.community_id or "",
        "tag": filters.tag,
    }
    base = urlencode({k: v for k, v in params.items() if v})
    return request.app.state.templates.render(
        request,
        "sharing/list.html",
        {
            "listing": listing,
            "filters": filters,
            "base": f"?{base}&" if base else "?",
            "categories": _categories(which),
            "states": list(ListingState),
            "kinds": list(ResourceKind),
            "live_topics": [street_topic(street_id)],
        },
    )


def _street_param(request: Request) -> int:
    actor = require_actor(request)
    street = parse_id(request.query_params.get("street", ""))
    if street is None:
        streets = sorted(actor.visible_street_ids)
        if not streets:
            raise NotFound("请先选择街道。")
        street = streets[0]
    return street


def _kind_param(request: Request, data: dict[str, str] | None = None) -> ResourceKind | None:
    raw = (data or {}).get("kind") or request.query_params.get("kind")
    return svc.parse_kind(raw)


async def _render_form(
    request: Request,
    which: svc.Which,
    street_id: int,
    *,
    kind: ResourceKind | None = None,
    form: dict[str, Any] | None = None,
    error: DomainError | None = None,
    item_id: int | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        street = await svc.get_street(work, street_id)
        units = await svc.posting_units(work, actor, street_id, which)
    if not units:
        raise PermissionDenied(
            "只有社区或街道可以发布需求。" if which == "need" else "只有驻区单位可以发布资源。"
        )
    return request.app.state.templates.render(
        request,
        "sharing/form.html",
        {
            "which": which,
            "street": street,
            "units": units,
            "kind": kind,
            "kinds": list(ResourceKind),
            "required": svc.KIND_REQUIRED.get(kind, {}) if kind else {},
            "categories": _categories(which),
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "item_id": item_id,
        },
        status_code=error.status if error else 200,
    )


async def new_form(request: Request) -> Response:
    which = _which(request)
    return await _render_form(
        request,
        which,
        _street_param(request),
        kind=_kind_param(request) if which == "resource" else None,
    )


async def create(request: Request) -> Response:
    actor = require_actor(request)
    which = _which(request)
    street_id = _street_param(request)
    data = await form_dict(request)
    kind = _kind_param(request, data)
    if which == "resource" and kind is None:
        return await _render_form(request, which, street_id, form=data)
    try:
        async with uow(request, actor) as work:
            if which == "need":
                item: svc.Listing = await svc.post_need(work, actor, street_id, data)
            else:
                assert kind is not None
                item = await svc.post_resource(work, actor, street_id, kind, data)
            await work.commit()
    except ValidationFailed as exc:
        return await _render_form(request, which, street_id, kind=kind, form=data, error=exc)
    return RedirectResponse(f"/{which}s/{item.id}?done=posted", status_code=303)


async def render_detail(
    request: Request, item_id: int, *, form: dict[str, str] | None = None, error: Any = None
) -> Response:
    actor = require_actor(request)
    which = _which(request)
    async with uow(request, actor) as work:
        page = await svc.get_item(work, actor, which, item_id)
        suggestions = await matching.suggest_for(work, actor, which, item_id)
        claim_box = await claims.claim_box(work, actor, which, page.item)
    return request.app.state.templates.render(
        request,
        "sharing/detail.html",
        {
            "page": page,
            "suggestions": suggestions,
            "claim_box": claim_box,
            "item": page.item,
            "which": which,
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": DONE.get(request.query_params.get("done", "")),
            "live_topics": [street_topic(page.item.street_id)],
        },
        status_code=error.status if error else 200,
    )


async def detail(request: Request) -> Response:
    return await render_detail(request, request.path_params["item_id"])


async def vet(request: Request) -> Response:
    actor = require_actor(request)
    which, item_id = _which(request), request.path_params["item_id"]
    data = await form_dict(request)
    approve = data.get("decision") == "approve"
    try:
        async with uow(request, actor) as work:
            await svc.vet(
                work, actor, which, item_id, data.get("version"), approve, data.get("reason", "")
            )
            await work.commit()
    except ValidationFailed as exc:
        return await render_detail(request, item_id, form=data, error=exc)
    done = "listed" if approve else "rejected"
    return RedirectResponse(f"/{which}s/{item_id}?done={done}", status_code=303)


async def withdraw(request: Request) -> Response:
    actor = require_actor(request)
    which, item_id = _which(request), request.path_params["item_id"]
    data = await form_dict(request)
    async with uow(request, actor) as work:
        await svc.withdraw(work, actor, which, item_id, data.get("version"))
        await work.commit()
    return RedirectResponse(f"/{which}s/{item_id}?done=withdrawn", status_code=303)


async def edit_form(request: Request) -> Response:
    actor = require_actor(request)
    which, item_id = _which(request), request.path_params["item_id"]
    async with uow(request, actor) as work:
        page = await svc.get_item(work, actor, which, item_id)
    item = page.item
    if not page.can_edit:
        raise PermissionDenied("只有待审核或未通过的条目可由发布单位修改。")
    form = {
        c: ("" if getattr(item, c) is None else str(getattr(item, c)))
        for c in svc.TEXT_LIMITS
        if hasattr(item, c)
    }
    for name in ("category", "beneficiary_count", "wanted_from", "wanted_to", "capacity",
                 "volunteer_count", "amount", "version"):  # fmt: skip
        if hasattr(item, name):
            value = getattr(item, name)
            form[name] = "" if value is None else str(value)
    kind = svc.parse_kind(getattr(item, "kind", None))
    return await _render_form(request, which, item.street_id, kind=kind, form=form, item_id=item_id)


async def edit(request: Request) -> Response:
    actor = require_actor(request)
    which, item_id = _which(request), request.path_params["item_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            item = await svc.edit(work, actor, which, item_id, data)
            await work.commit()
    except ValidationFailed as exc:
        async with uow(request, actor) as work:
            page = await svc.get_item(work, actor, which, item_id)
        kind = svc.parse_kind(getattr(page.item, "kind", None))
        return await _render_form(
            request, which, page.item.street_id, kind=kind, form=data, error=exc, item_id=item_id
        )
    return RedirectResponse(f"/{which}s/{item.id}?done=edited", status_code=303)


async def lists_xlsx(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    async with uow(request, actor) as work:
        street, needs, resources = await svc.export_rows(work, actor, street_id)
        _, project_rows = await projects.list_projects(work, actor, street_id, beijing_year())
    data = await run_in_threadpool(build_lists_xlsx, street.name, needs, resources, project_rows)
    name = f"三张清单-{street.name}.xlsx"
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="lists-{street_id}.xlsx"; '
            f"filename*=UTF-8''{quote(name)}"
        },
    )


def _item_routes(prefix: str) -> list[BaseRoute]:
    return [
        Route(f"/{prefix}/new", new_form, methods=GET),
        Route(f"/{prefix}", create, methods=POST),
        Route(f"/{prefix}/{{item_id:id}}", detail, methods=GET),
        Route(f"/{prefix}/{{item_id:id}}/vet", vet, methods=POST),
        Route(f"/{prefix}/{{item_id:id}}/withdraw", withdraw, methods=POST),
        Route(f"/{prefix}/{{item_id:id}}/edit", edit_form, methods=GET),
        Route(f"/{prefix}/{{item_id:id}}/edit", edit, methods=POST),
    ]


ROUTES: list[BaseRoute] = [
    Route("/sharing", sharing_home, methods=GET, name="sharing"),
    Route("/streets/{street_id:id}/needs", list_page, methods=GET),
    Route("/streets/{street_id:id}/resources", list_page, methods=GET),
    Route("/streets/{street_id:id}/lists.xlsx", lists_xlsx, methods=GET),
    *_item_routes("needs"),
    *_item_routes("resources"),
]
