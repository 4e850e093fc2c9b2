"""新兴领域党建覆盖: the landing, a street's coverage page (figures, carriers, organisations,
gaps, history), a carrier's page, the carrier and organisation forms, the gap task and the
.xlsx import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.coverage_xlsx import TableError, read_upload, template
from domain.coverage import carriers as carrier_svc
from domain.coverage import gaps as gap_svc
from domain.coverage import orgs as org_svc
from domain.coverage import pages
from domain.coverage.access import (
    require_write,
    street_or_404,
)
from domain.coverage.figures import (
    percent,
)
from domain.coverage.importer import HEADERS, MAX_ROWS, RowError, import_orgs
from domain.enums import CarrierKind
from domain.errors import Conflict, DomainError, ValidationFailed
from domain.models.base import utcnow
from domain.tasks.calendar import local_date
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
DONE = {
    "carrier": "载体已保存。",
    "carrier_off": "载体已停用。",
    "carrier_on": "载体已启用。",
    "org": "组织信息已保存。",
    "org_off": "组织已注销/迁出，不再计入覆盖统计。",
    "task": "补建任务已交办。",
}
COMMON = {
    "kinds": list(CarrierKind),
    "modes": org_svc.MODES,
    "categories": org_svc.CATEGORIES,
    "percent": percent,
}


def _render(
    request: Request, name: str, ctx: dict[str, Any], error: DomainError | None = None
) -> Response:
    ctx = {**COMMON, **ctx}
    if error is not None:
        ctx.update(errors=getattr(error, "fields", {}), message=error.message)
    ctx.setdefault("flash", DONE.get(request.query_params.get("done", "")))
    status = error.status if error else 200
    response: Response = request.app.state.templates.render(request, name, ctx, status_code=status)
    return response


async def landing(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        view = await pages.landing(work, actor)
    if len(view.streets) == 1 and not actor.district_street_ids:
        return RedirectResponse(f"/streets/{view.streets[0].id}/coverage", status_code=303)
    topics = [street_topic(s.id) for s in view.streets][:19]
    return _render(request, "coverage/landing.html", {"v": view, "live_topics": topics})


def _filter(request: Request) -> org_svc.OrgFilter:
    q = request.query_params
    return org_svc.OrgFilter(
        carrier_id=int_param(q.get("carrier")) or None,
        mode=q.get("mode", ""),
        q=q.get("q", "")[:100],
        gaps=q.get("gaps") == "1",
        page=int_param(q.get("page"), 1),
    )


async def street_page(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    f = _filter(request)
    async with uow(request, actor) as work:
        view = await pages.street_overview(work, actor, street_id, f, local_date(utcnow()))
    ctx = {"v": view, "filters": f, "live_topics": [street_topic(street_id)]}
    return _render(request, "coverage/street.html", ctx)


async def carrier_page(request: Request) -> Response:
    actor = require_actor(request)
    page = int_param(request.query_params.get("page"), 1)
    async with uow(request, actor) as work:
        view = await pages.carrier_overview(
            work, actor, request.path_params["carrier_id"], page, local_date(utcnow())
        )
    ctx = {"v": view, "live_topics": [street_topic(view.street.id)]}
    return _render(request, "coverage/carrier.html", ctx)


# ---- carriers -------------------------------------------------------------------------


async def _carrier_form(
    request: Request,
    street_id: int,
    form: dict[str, str],
    carrier_id: int | None = None,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        street = await street_or_404(work, street_id)
        require_write(actor, street_id)
        units = await carrier_svc.joint_unit_choices(work, street_id)
        carriers = await carrier_svc.street_carriers(work, street_id, active_only=True)
    parks = [c for c in carriers if c.kind == CarrierKind.PARK.value and c.id != carrier_id]
    return _render(
        request,
        "coverage/carrier_form.html",
        {"street": street, "form": form, "carrier_id": carrier_id, "units": units, "parks": parks},
        error,
    )


async def new_carrier(request: Request) -> Response:
    kind = request.query_params.get("kind", CarrierKind.TOWER.value)
    return await _carrier_form(request, request.path_params["street_id"], {"kind": kind})


async def save_carrier(request: Request) -> Response:
    """Create (under a street) or update (a carrier) from the form."""
    actor = require_actor(request)
    carrier_id: int | None = request.path_params.get("carrier_id")
    data = await form_dict(request)
    if carrier_id is None:
        street_id = request.path_params["street_id"]
    else:
        async with uow(request, actor) as work:
            street_id = (await carrier_svc.get_carrier(work, actor, carrier_id)).street_id
    try:
        async with uow(request, actor) as work:
            if carrier_id is None:
                carrier_id = (await carrier_svc.create_carrier(work, actor, street_id, data)).id
            else:
                version = int_param(data.get("version")) or None
                await carrier_svc.update_carrier(work, actor, carrier_id, data, version)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await _carrier_form(request, street_id, data, carrier_id, exc)
    return RedirectResponse(f"/carriers/{carrier_id}?done=carrier", status_code=303)


async def edit_carrier(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        carrier = await carrier_svc.get_carrier(work, actor, request.path_params["carrier_id"])
    return await _carrier_form(
        request, carrier.street_id, carrier_svc.form_values(carrier), carrier.id
    )


def _carrier_active(active: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        carrier_id = request.path_params["carrier_id"]
        data = await form_dict(request)
        async with uow(request, actor) as work:
            await carrier_svc.set_carrier_active(
                work, actor, carrier_id, active, int_param(data.get("version")) or None
            )
            await work.commit()
        done = "carrier_on" if active else "carrier_off"
        return RedirectResponse(f"/carriers/{carrier_id}?done={done}", status_code=303)

    return endpoint


# ---- organisations --------------------------------------------------------------------


async def _org_form(
    request: Request,
    street_id: int,
    form: dict[str, str],
    org_id: int | None = None,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        street = await street_or_404(work, street_id)
        require_write(actor, street_id)
        choices = await org_svc.org_choices(work, street_id)
    return _render(
        request,
        "coverage/org_form.html",
        {"street": street, "form": form, "org_id": org_id, "choices": choices},
        error,
    )


async def new_org(request: Request) -> Response:
    q = request.query_params
    form = {
        "carrier_id": q.get("carrier", ""),
        "coverage_mode": "cov_none",
        "category": "org_enterprise",
    }
    return await _org_form(request, request.path_params["street_id"], form)


async def save_org(request: Request) -> Response:
    """Create (in a street) or update (an organisation) from the form."""
    actor = require_actor(request)
    org_id: int | None = request.path_params.get("org_id")
    data = await form_dict(request)
    if org_id is None:
        street_id = request.path_params["street_id"]
    else:
        async with uow(request, actor) as work:
            street_id = (await org_svc.get_org(work, actor, org_id)).street_id
    try:
        async with uow(request, actor) as work:
            if org_id is None:
                await org_svc.create_org(work, actor, street_id, data)
            else:
                version = int_param(data.get("version")) or None
                await org_svc.update_org(work, actor, org_id, data, version)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await _org_form(request, street_id, data, org_id, exc)
    return RedirectResponse(f"/streets/{street_id}/coverage?done=org", status_code=303)


async def edit_org(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        org = await org_svc.get_org(work, actor, request.path_params["org_id"])
    return await _org_form(request, org.street_id, org_svc.form_values(org), org.id)


async def deactivate_org(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    async with uow(request, actor) as work:
        org = await org_svc.set_org_active(
            work,
            actor,
            request.path_params["org_id"],
            False,
            int_param(data.get("version")) or None,
        )
        await work.commit()
    return RedirectResponse(f"/streets/{org.street_id}/coverage?done=org_off", status_code=303)


# ---- gap task -------------------------------------------------------------------------


async def _gap_form(
    request: Request, form: dict[str, str] | None = None, error: DomainError | None = None
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        gf = await gap_svc.gap_task_form(work, actor, request.path_params["org_id"])
        require_write(actor, gf.org.street_id)
        street = await street_or_404(work, gf.org.street_id)
        state = None
        if gf.org.gap_task_id:
            state = (await gap_svc.task_states(work, {gf.org.gap_task_id})).get(gf.org.gap_task_id)
    values = {
        "lead_unit_id": str(gf.default_unit_id or ""),
        "title": gf.title,
        "limit_value": str(gf.limit_days),
        "version": str(gf.org.version),
    }
    values.update(form or {})
    return _render(
        request,
        "coverage/gap_task.html",
        {
            "street": street,
            "gf": gf,
            "form": values,
            "task_state": state,
            "task_open": state is not None and state not in gap_svc.FINISHED_VALUES,
        },
        error,
    )


async def gap_task_page(request: Request) -> Response:
    return await _gap_form(request)


async def create_gap_task(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            task = await gap_svc.create_gap_task(work, actor, request.path_params["org_id"], data)
            street_id = task.street_id
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await _gap_form(request, data, exc)
    return RedirectResponse(
        f"/streets/{street_id}/coverage?done=task#coverage-gaps", status_code=303
    )


# ---- import ---------------------------------------------------------------------------


async def _import_page(
    request: Request, context: dict[str, Any], status_code: int = 200
) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    async with uow(request, actor) as work:
        street = await street_or_404(work, street_id)
        require_write(actor, street_id)
    ctx = {"street": street, "headers": list(HEADERS), "max_rows": MAX_ROWS, **context}
    response: Response = request.app.state.templates.render(
        request, "coverage/import.html", ctx, status_code=status_code
    )
    return response


async def import_page(request: Request) -> Response:
    return await _import_page(request, {})


async def import_template(request: Request) -> Response:
    actor = require_actor(request)
    require_write(actor, request.path_params["street_id"])
    return Response(
        template(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''coverage-import-template.xlsx"
        },
    )


async def import_submit(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    require_write(actor, street_id)
    form = await request.form()
    try:
        filename, headers, rows = await read_upload(form.get("file"))
    except TableError as exc:
        return await _import_page(request, {"row_errors": [RowError(0, "文件", str(exc))]}, 400)
    finally:
        # The upload is a temporary file: close it on every path.
        await form.close()
    context: dict[str, Any] = {"filename": filename}
    async with uow(request, actor) as work:
        result = await import_orgs(work, actor, street_id, headers, rows)
        context["rows_read"] = result.rows_read
        if result.errors:
            context["row_errors"] = result.errors
            return await _import_page(request, context, status_code=400)
        await work.commit()
        context["created"] = [(o.id, o.name) for o in result.created]
        context["updated"] = [(o.id, o.name) for o in result.updated]
    return await _import_page(request, context)


ROUTES: list[BaseRoute] = [
    Route("/coverage", landing, methods=GET, name="coverage"),
    Route("/streets/{street_id:id}/coverage", street_page, methods=GET),
    Route("/streets/{street_id:id}/coverage/import", import_page, methods=GET),
    Route("/streets/{street_id:id}/coverage/import", import_submit, methods=POST),
    Route("/streets/{street_id:id}/coverage/import/template.xlsx", import_template, methods=GET),
    Route("/streets/{street_id:id}/carriers/new", new_carrier, methods=GET),
    Route("/streets/{street_id:id}/carriers", save_carrier, methods=POST),
    Route("/carriers/{carrier_id:id}", carrier_page, methods=GET),
    Route("/carriers/{carrier_id:id}/edit", edit_carrier, methods=GET),
    Route("/carriers/{carrier_id:id}/edit", save_carrier, methods=POST),
    Route("/carriers/{carrier_id:id}/deactivate", _carrier_active(False), methods=POST),
    Route("/carriers/{carrier_id:id}/activate", _carrier_active(True), methods=POST),
    Route("/streets/{street_id:id}/coverage/orgs/new", new_org, methods=GET),
    Route("/streets/{street_id:id}/coverage/orgs", save_org, methods=POST),
    Route("/coverage/orgs/{org_id:id}/edit", edit_org, methods=GET),
    Route("/coverage/orgs/{org_id:id}/edit", save_org, methods=POST),
    Route("/coverage/orgs/{org_id:id}/deactivate", deactivate_org, methods=POST),
    Route("/coverage/orgs/{org_id:id}/gap-task", gap_task_page, methods=GET),
    Route("/coverage/orgs/{org_id:id}/gap-task", create_gap_task, methods=POST),
]
