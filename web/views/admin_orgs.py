"""Admin: the organisation tree."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models import Organization
from domain.permissions import can_administer, require
from domain.services import orgs as svc
from domain.topics import ADMIN_TOPIC
from web.deps import form_dict, int_param, require_actor, uow


async def _render(request: Request, status: int = 200, **extra: object) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        all_orgs = await svc.list_orgs(work)
    context: dict[str, object] = {
        "tree": svc.tree_order(all_orgs),
        "all_orgs": all_orgs,
        "live_topics": [ADMIN_TOPIC],
    }
    context.update(extra)
    return request.app.state.templates.render(
        request, "admin/orgs.html", context, status_code=status
    )


async def org_list(request: Request) -> Response:
    require(can_administer(require_actor(request)))
    return await _render(request, saved=request.query_params.get("saved"))


async def org_create(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.create_org(work, actor, data)
            await work.commit()
    except ValidationFailed as exc:
        return await _render(request, 400, form=data, errors=exc.fields, message=exc.message)
    return RedirectResponse("/admin/orgs?saved=1", status_code=303)


async def org_edit(request: Request) -> Response:
    actor = require_actor(request)
    require(can_administer(actor))
    async with uow(request, actor) as work:
        org = await work.session.get(Organization, request.path_params["org_id"])
        all_orgs = await svc.list_orgs(work)
    if org is None:
        raise NotFound("组织不存在。")
    form = {
        "name": org.name,
        "level": org.level,
        "parent_id": str(org.parent_id or ""),
        "code": org.code or "",
        "version": str(org.version),
    }
    return request.app.state.templates.render(
        request, "admin/org_form.html", {"org": org, "form": form, "all_orgs": all_orgs}
    )


async def org_update(request: Request) -> Response:
    actor = require_actor(request)
    org_id = request.path_params["org_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.update_org(work, actor, org_id, int_param(data.get("version")), data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            org = await work.session.get(Organization, org_id)
            all_orgs = await svc.list_orgs(work)
        return request.app.state.templates.render(
            request,
            "admin/org_form.html",
            {
                "org": org,
                "form": data,
                "all_orgs": all_orgs,
                "errors": getattr(exc, "fields", {}),
                "message": exc.message,
            },
            status_code=exc.status,
        )
    return RedirectResponse("/admin/orgs?saved=1", status_code=303)
