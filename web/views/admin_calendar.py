"""Admin: the working-day calendar (工作日历) — which years hold the official holiday
arrangement, and entering a newly published year."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.errors import ValidationFailed
from domain.permissions import can_administer, require
from domain.tasks import workcal
from domain.topics import ADMIN_TOPIC
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]


async def overview(request: Request) -> Response:
    actor = require_actor(request)
    require(can_administer(actor))
    # The "go to year" box is a plain GET form.
    wanted = request.query_params.get("year", "").strip()
    if wanted:
        # Four digits at most: int() refuses very long digit strings.
        if (
            wanted.isdecimal()
            and len(wanted) <= 4
            and workcal.MIN_YEAR <= int(wanted) <= workcal.MAX_YEAR
        ):
            return RedirectResponse(f"/admin/calendar/{int(wanted)}", status_code=303)
        message = f"请填写 {workcal.MIN_YEAR}–{workcal.MAX_YEAR} 之间的年份。"
    else:
        message = None
    async with uow(request, actor) as work:
        data = await workcal.calendar_overview(work, actor)
    return request.app.state.templates.render(
        request,
        "admin/calendar.html",
        {
            "overview": data,
            # Years named in the redirect after a change, for the confirmation line.
            "saved": int_param(request.query_params.get("saved")),
            "deleted": int_param(request.query_params.get("deleted")),
            "form": {"year": wanted},
            "errors": {"year": message} if message else {},
            "live_topics": [ADMIN_TOPIC],
        },
        status_code=400 if message else 200,
    )


async def _render_year(request: Request, year: int, status: int = 200, **extra: object) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        detail = await workcal.year_detail(work, actor, year)
    context: dict[str, object] = {
        "detail": detail,
        "form": detail.form,
        "warning": workcal.missing_years_text([year]) if detail.summary is None else None,
    }
    context.update(extra)
    return request.app.state.templates.render(
        request, "admin/calendar_year.html", context, status_code=status
    )


async def year_page(request: Request) -> Response:
    return await _render_year(request, request.path_params["year"])


async def year_submit(request: Request) -> Response:
    actor = require_actor(request)
    year: int = request.path_params["year"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await workcal.save_year(work, actor, year, data)
            await work.commit()
    except ValidationFailed as exc:
        return await _render_year(
            request, year, 400, form=data, errors=exc.fields, message=exc.message
        )
    return RedirectResponse(f"/admin/calendar?saved={year}", status_code=303)


async def year_delete(request: Request) -> Response:
    actor = require_actor(request)
    year: int = request.path_params["year"]
    async with uow(request, actor) as work:
        await workcal.delete_year(work, actor, year)
        await work.commit()
    return RedirectResponse(f"/admin/calendar?deleted={year}", status_code=303)


# `id`: nine digits at most, so an absurd year is a 404 rather than an int() failure.
ROUTES: list[BaseRoute] = [
    Route("/admin/calendar", overview, methods=GET, name="admin_calendar"),
    Route("/admin/calendar/{year:id}", year_page, methods=GET),
    Route("/admin/calendar/{year:id}", year_submit, methods=POST),
    Route("/admin/calendar/{year:id}/delete", year_delete, methods=POST),
]
