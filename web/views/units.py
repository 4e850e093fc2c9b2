"""Unit directory (单位名录) and its management by admins and street secretaries."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.enums import UnitKind, UnitType
from domain.errors import Conflict, ValidationFailed
from domain.permissions import can_manage_units, can_view_directory, require
from domain.services import units as svc
from domain.topics import MAX_TOPICS, street_topic, unit_topic
from web.deps import form_dict, int_param, require_actor, uow
from web.htmx import htmx

PAGE = 50


def _filter(request: Request) -> svc.UnitFilter:
    q = request.query_params
    kind = q.get("kind", "")
    unit_type = q.get("unit_type", "")
    status = q.get("status", "active")
    return svc.UnitFilter(
        street_id=int_param(q.get("street_id")) or None,
        kind=kind if kind in {k.value for k in UnitKind} else "",
        unit_type=unit_type if unit_type in {t.value for t in UnitType} else "",
        status=status if status in {"active", "retired", "all"} else "active",
        q=q.get("q", "")[:50],
    )


async def unit_list(request: Request) -> Response:
    actor = require_actor(request)
    require(can_view_directory(actor))
    flt = _filter(request)
    page = max(1, int_param(request.query_params.get("page"), 1))
    async with uow(request, actor) as work:
        units, total = await svc.list_units(work, actor, flt, limit=PAGE, offset=(page - 1) * PAGE)
        orgs = await svc.org_index_for(work, actor, manage=False)
    context = {
        "units": units,
        "total": total,
        "flt": flt,
        "page": page,
        "pages": max(1, -(-total // PAGE)),
        "streets": orgs.streets,
        "can_manage": can_manage_units(actor),
        "live_topics": [street_topic(sid) for sid in orgs.streets][: MAX_TOPICS - 1],
        "base": "/units?"
        + urlencode({k: v for k, v in request.query_params.items() if k != "page"})
        + "&",
    }
    templates = request.app.state.templates
    # The filter form swaps only the table; a full load renders the page.
    name = "units/_table.html" if htmx(request).wants_fragment else "units/list.html"
    return templates.render(request, name, context)


async def unit_detail(request: Request) -> Response:
    actor = require_actor(request)
    require(can_view_directory(actor))
    async with uow(request, actor) as work:
        unit = await svc.get_unit(work, actor, request.path_params["unit_id"])
    return request.app.state.templates.render(
        request,
        "units/detail.html",
        {
            "unit": unit,
            "can_manage": can_manage_units(actor, unit.street_id),
            "live_topics": [unit_topic(unit.id)],
            "presence": unit_topic(unit.id),
        },
    )


async def _form_context(request: Request) -> dict[str, object]:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        orgs = await svc.org_index_for(work, actor)
    return {"streets": orgs.streets, "communities": orgs.communities}


async def unit_new(request: Request) -> Response:
    actor = require_actor(request)
    require(can_manage_units(actor))
    context = await _form_context(request)
    streets = context["streets"]
    form = {"street_id": str(next(iter(streets))) if len(streets) == 1 else ""}  # type: ignore[arg-type]
    context.update(form=form, unit=None)
    return request.app.state.templates.render(request, "units/form.html", context)


async def unit_create(request: Request) -> Response:
    actor = require_actor(request)
    require(can_manage_units(actor))
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            unit = await svc.create_unit(work, actor, data)
            await work.commit()
    except ValidationFailed as exc:
        context = await _form_context(request)
        context.update(form=data, errors=exc.fields, message=exc.message, unit=None)
        return request.app.state.templates.render(
            request, "units/form.html", context, status_code=400
        )
    return RedirectResponse(f"/units/{unit.id}?saved=1", status_code=303)


async def unit_edit(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        unit = await svc.get_unit(work, actor, request.path_params["unit_id"])
    require(can_manage_units(actor, unit.street_id))
    context = await _form_context(request)
    form = {
        "name": unit.name,
        "kind": unit.kind,
        "unit_type": unit.unit_type,
        "street_id": str(unit.street_id),
        "community_id": str(unit.community_id or ""),
        "address": unit.address,
        "contact_name": unit.contact_name,
        "contact_phone": unit.contact_phone,
        "party_members": str(unit.party_members),
        "version": str(unit.version),
    }
    context.update(form=form, unit=unit)
    return request.app.state.templates.render(request, "units/form.html", context)


async def unit_update(request: Request) -> Response:
    actor = require_actor(request)
    unit_id = request.path_params["unit_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.update_unit(work, actor, unit_id, int_param(data.get("version")), data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            unit = await svc.get_unit(work, actor, unit_id)
        context = await _form_context(request)
        fields = exc.fields if isinstance(exc, ValidationFailed) else {}
        context.update(
            form=data,
            errors=fields,
            message=exc.message,
            unit=unit,
            conflict=isinstance(exc, Conflict),
        )
        return request.app.state.templates.render(
            request, "units/form.html", context, status_code=exc.status
        )
    return RedirectResponse(f"/units/{unit_id}?saved=1", status_code=303)


async def unit_set_active(request: Request) -> Response:
    actor = require_actor(request)
    unit_id = request.path_params["unit_id"]
    active = request.url.path.endswith("/reactivate")
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.set_unit_active(
                work, actor, unit_id, int_param(data.get("version")), active, data.get("reason", "")
            )
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            unit = await svc.get_unit(work, actor, unit_id)
        return request.app.state.templates.render(
            request,
            "units/detail.html",
            {
                "unit": unit,
                "can_manage": True,
                "live_topics": [unit_topic(unit.id)],
                "presence": unit_topic(unit.id),
                "errors": getattr(exc, "fields", {}),
                "message": exc.message,
                "form": data,
            },
            status_code=exc.status,
        )
    return RedirectResponse(f"/units/{unit_id}?saved=1", status_code=303)
